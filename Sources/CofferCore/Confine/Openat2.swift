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

    enum Outcome: Equatable {
        case opened(Int32)
        /// A folder on the way does not exist (with RESOLVE_NO_SYMLINKS a link gives ELOOP, so
        /// ENOENT really means missing).
        case missing
        /// For the per-component walk to handle: a link or a file in the way (to refuse or
        /// replace), or any other error (reported by the walk).
        case walk
    }

    /// The folder `components` below `dirfd`, opened with one openat2 call.
    static func openFolderBeneath(_ dirfd: Int32, _ components: ArraySlice<[UInt8]>) -> Outcome {
        let path = Array(components.joined(separator: [RelativePath.slash]))
        while true {
            let fd = path.withCName { coffer_open_folder_beneath(dirfd, $0) }
            if fd >= 0 { return .opened(fd) }
            switch errno {
            case EINTR, EAGAIN: continue
            case ENOENT: return .missing
            default: return .walk
            }
        }
    }
}
