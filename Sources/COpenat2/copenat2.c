// openat2(2) has no glibc wrapper and syscall(2) is variadic, which Swift cannot call: this is
// the one C function RestoreFolder needs for it (see Sources/CofferCore/Confine/RestoreFolder.swift).
#define _GNU_SOURCE
#include "copenat2.h"
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/syscall.h>
#if defined(__linux__) && defined(SYS_openat2)
#include <linux/openat2.h>
#endif

int coffer_open_folder_beneath(int dirfd, const char *path) {
#if defined(__linux__) && defined(SYS_openat2)
    struct open_how how = {
        .flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
        .mode = 0,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
#else
    (void)dirfd;
    (void)path;
    errno = ENOSYS;
    return -1;
#endif
}
