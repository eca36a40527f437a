import CScan
import Foundation

/// A regular file being restored into the folder `dir`, not yet under its real name.
///
/// Where the file system allows, it is made without any name (`O_TMPFILE`), so nothing is left
/// behind by a crash and the real name can be as long as the file system allows (255 bytes):
/// once complete it is linked under a short temporary name (`linkat`) and renamed onto its
/// name (`renameat`, which replaces an existing file atomically; `linkat` cannot). Elsewhere it
/// is created under a short temporary name (`.coffer-` and 8 hex digits, 16 bytes) with
/// `O_CREAT | O_EXCL | O_NOFOLLOW`. Either way it is reached only from `dir`'s descriptor.
final class RestoreNewFile {
    let dir: Int32
    let fd: Int32
    /// The temporary name the file has in `dir` (nil while it has none).
    private(set) var temporaryName: [UInt8]?
    private var isOpen = true

    static let tmpfileFlag = coffer_o_tmpfile()
    static let emptyPathFlag = coffer_at_empty_path()

    /// Creates the file in `dir` (mode 0600 until its own is set); `unnamed` allows `O_TMPFILE`.
    init(in dir: Int32, unnamed: Bool, display: @autoclosure () -> String) throws {
        self.dir = dir
        if unnamed {
            let fd = ".".withCString { openat(dir, $0, Self.tmpfileFlag | O_WRONLY | O_CLOEXEC, 0o600) }
            if fd >= 0 {
                self.fd = fd
                return
            }
            // EISDIR, EINVAL: a kernel without O_TMPFILE; EOPNOTSUPP: a file system without it.
            guard [EOPNOTSUPP, ENOTSUP, EISDIR, EINVAL].contains(errno) else {
                throw CofferError.fromErrno(errno, path: display(), operation: "create")
            }
        }
        let (name, fd) = try RestoreFolder.temporary(in: dir, display: display(), operation: "create") {
            openat(dir, $0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        }
        self.fd = fd
        temporaryName = name
    }

    /// Gives the complete file its real `name`: links an unnamed file under a temporary name,
    /// closes it (a deferred write error shows there), and renames it into place.
    func publish(as name: [UInt8], display: @autoclosure () -> String) throws {
        if temporaryName == nil {
            let made = try RestoreFolder.temporary(in: dir, display: display(), operation: "link") { tmp in
                // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; without it, the descriptor's /proc link.
                let r = "".withCString { linkat(fd, $0, dir, tmp, Self.emptyPathFlag) }
                if r == 0 || (errno != ENOENT && errno != EPERM) { return r }
                return "/proc/self/fd/\(fd)".withCString { linkat(AT_FDCWD, $0, dir, tmp, AT_SYMLINK_FOLLOW) }
            }
            temporaryName = made.name
        }
        isOpen = false
        guard close(fd) == 0 else { throw CofferError.fromErrno(errno, path: display(), operation: "close") }
        try RestoreFolder.moveIntoPlace(in: dir, from: temporaryName!, to: name, display: display())
        temporaryName = nil
    }

    /// Closes the file if still open and removes its temporary name if it has one (a failed
    /// file leaves nothing behind).
    func discard() {
        if isOpen { close(fd); isOpen = false }
        if let tmp = temporaryName { _ = tmp.withCName { unlinkat(dir, $0, 0) } }
        temporaryName = nil
    }
}

/// Writes a file's logical content (holes included, as zeros) at its offsets, skipping the
/// bytes that fall in its holes, so holes come back as holes; ``finish()`` sets the size, which
/// makes a trailing hole.
struct SparseWriter {
    let fd: Int32
    private let holes: [Hole]
    private var next = 0
    private(set) var position: UInt64 = 0

    init(fd: Int32, holes: [Hole]) {
        self.fd = fd
        self.holes = holes
    }

    /// Writes the next `bytes`; returns 0 or the errno of a failed write.
    mutating func write(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        var rest = bytes[...]
        while !rest.isEmpty {
            while next < holes.count && holes[next].offset + holes[next].length <= position { next += 1 }
            if next < holes.count && holes[next].offset <= position {
                let n = Int(min(UInt64(rest.count), holes[next].offset + holes[next].length - position))
                position += UInt64(n)
                rest = rest.dropFirst(n)
                continue
            }
            let room = next < holes.count ? holes[next].offset - position : UInt64.max
            let n = Int(min(UInt64(rest.count), room))
            let failure = Self.pwriteAll(fd, UnsafeRawBufferPointer(rebasing: rest.prefix(n)), at: position)
            if failure != 0 { return failure }
            position += UInt64(n)
            rest = rest.dropFirst(n)
        }
        return 0
    }

    /// Sets the file's size to what was written (a hole at the end stays a hole); 0 or errno.
    func finish() -> Int32 {
        guard !holes.isEmpty else { return 0 }
        return ftruncate(fd, off_t(position)) == 0 ? 0 : errno
    }

    private static func pwriteAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: UInt64) -> Int32 {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            done += n
        }
        return 0
    }
}
