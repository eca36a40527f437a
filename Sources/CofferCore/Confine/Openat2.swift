import COpenat2
import Foundation

/// The fast path of ``RestoreFolder/openFolder(_:create:for:)``: one `openat2` call with
/// `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS` instead of one `openat` per component.
enum Openat2 {
    /// Whether the kernel runs openat2: not where it answers ENOSYS (before Linux 5.6), EPERM (a
    /// seccomp filter) or EINVAL (a flag it does not know). Probed once, on the current folder.
    static let available: Bool = {
        let fd = coffer_open_folder_beneath(AT_FDCWD, ".")
        if fd >= 0 { close(fd); return true }
        return ![ENOSYS, EPERM, EINVAL].contains(errno)
    }()

    /// The folder below `dirfd`, or nil for the per-component walk to handle: openat2 missing,
    /// a missing folder (to create), a link or a file in the way (to refuse or replace), or
    /// any other error (reported by the walk).
    static func openFolderBeneath(_ dirfd: Int32, _ components: ArraySlice<[UInt8]>) -> Int32? {
        let path = Array(components.joined(separator: [RelativePath.slash]))
        while true {
            let fd = path.withCName { coffer_open_folder_beneath(dirfd, $0) }
            if fd >= 0 { return fd }
            if errno == EINTR || errno == EAGAIN { continue }
            return nil
        }
    }
}
