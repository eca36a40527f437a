#ifndef COFFER_COPENAT2_H
#define COFFER_COPENAT2_H

/// Opens the folder `path` (relative, `/`-separated) below the folder `dirfd` with one
/// openat2(2) call: O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, resolved with
/// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, so neither `..` nor a
/// symbolic link anywhere on the way is followed. Returns the descriptor, or -1 with errno
/// (ENOSYS where the kernel or the build's headers lack openat2).
int coffer_open_folder_beneath(int dirfd, const char *path);

#endif
