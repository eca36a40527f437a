#ifndef COFFER_CSCAN_H
#define COFFER_CSCAN_H

// What the scan needs from libc beyond Swift's Glibc module: <sys/xattr.h> (listxattr(2),
// getxattr(2) and their l/f forms, none of them variadic), and constants glibc defines only
// under _GNU_SOURCE, which the module is not built with.
#include <sys/types.h>
#include <sys/xattr.h>

/// lseek(2)'s SEEK_DATA and SEEK_HOLE.
int coffer_seek_data(void);
int coffer_seek_hole(void);
/// open(2)'s O_PATH and the *at calls' AT_EMPTY_PATH.
int coffer_o_path(void);
int coffer_at_empty_path(void);

#endif
