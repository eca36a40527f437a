#ifndef COFFER_CSCAN_H
#define COFFER_CSCAN_H

// What the scan needs from libc beyond Swift's Glibc module: <sys/xattr.h> (listxattr(2),
// getxattr(2) and their l/f forms, none of them variadic), the *xattrat system calls (Linux
// 6.13+, no glibc wrapper; syscall(2) is variadic, which Swift cannot call), and constants glibc
// defines only under _GNU_SOURCE, which the module is not built with.
#include <stddef.h>
#include <sys/types.h>
#include <sys/xattr.h>

/// lseek(2)'s SEEK_DATA and SEEK_HOLE.
int coffer_seek_data(void);
int coffer_seek_hole(void);
/// open(2)'s O_PATH and the *at calls' AT_EMPTY_PATH.
int coffer_o_path(void);
int coffer_at_empty_path(void);
/// open(2)'s O_TMPFILE (with O_DIRECTORY, as glibc defines it): restore's unnamed new files.
int coffer_o_tmpfile(void);

/// listxattrat(2) of `name` in the folder `dirfd`, not following a final symbolic link: as
/// llistxattr(2) on that entry. -1 with errno ENOSYS where the kernel (before 6.13) or this
/// architecture lacks it.
ssize_t coffer_listxattrat(int dirfd, const char *name, char *list, size_t size);
/// getxattrat(2) likewise: as lgetxattr(2) of attribute `attribute` of that entry.
ssize_t coffer_getxattrat(int dirfd, const char *name, const char *attribute, void *value, size_t size);

#endif
