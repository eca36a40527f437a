#define _GNU_SOURCE
#include "cscan.h"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/syscall.h>

int coffer_seek_data(void) { return SEEK_DATA; }
int coffer_seek_hole(void) { return SEEK_HOLE; }
int coffer_o_path(void) { return O_PATH; }
int coffer_at_empty_path(void) { return AT_EMPTY_PATH; }
int coffer_o_tmpfile(void) { return O_TMPFILE; }

// The numbers of the unified system call table (the same on x86-64 and arm64), for headers
// older than the calls.
#if !defined(SYS_getxattrat) && (defined(__x86_64__) || defined(__aarch64__))
#define SYS_getxattrat 464
#define SYS_listxattrat 465
#endif

ssize_t coffer_listxattrat(int dirfd, const char *name, char *list, size_t size) {
#ifdef SYS_listxattrat
    return (ssize_t)syscall(SYS_listxattrat, dirfd, name, AT_SYMLINK_NOFOLLOW, list, size);
#else
    (void)dirfd; (void)name; (void)list; (void)size;
    errno = ENOSYS;
    return -1;
#endif
}

ssize_t coffer_getxattrat(int dirfd, const char *name, const char *attribute, void *value, size_t size) {
#ifdef SYS_getxattrat
    // struct xattr_args from <linux/xattr.h> (6.13+).
    struct { uint64_t value; uint32_t size; uint32_t flags; } args = {(uint64_t)(uintptr_t)value, (uint32_t)size, 0};
    if (size > UINT32_MAX) { errno = EINVAL; return -1; }
    return (ssize_t)syscall(SYS_getxattrat, dirfd, name, AT_SYMLINK_NOFOLLOW, attribute, &args, sizeof args);
#else
    (void)dirfd; (void)name; (void)attribute; (void)value; (void)size;
    errno = ENOSYS;
    return -1;
#endif
}
