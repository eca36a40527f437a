import CScan
import Foundation

/// Reads an entry's extended attributes, in every namespace the process can read: `user.*`,
/// `trusted.*` (root only: the kernel lists them to no one else), `security.*`, and the POSIX ACLs
/// `system.posix_acl_access`/`system.posix_acl_default`, whose values are kept as the raw xattr
/// bytes (the kernel's ACL encoding, which `setxattr` takes back as is).
///
/// Two ways to reach an entry given as a directory descriptor and a name, never a full path (no
/// PATH_MAX limit on deep trees, no race with a parent folder renamed mid-walk):
/// - ``Target/entry(_:_:)``: `listxattrat`/`getxattrat` with `AT_SYMLINK_NOFOLLOW` (Linux 6.13+;
///   glibc has no wrapper, so through CScan's `syscall`): no descriptor at all, the cheapest.
/// - ``Target/descriptor(_:)``, where those calls do not exist (ENOSYS): the entry opened with
///   `O_PATH | O_NOFOLLOW` and read through `/proc/self/fd/<fd>` with the following forms
///   (`listxattr`, `getxattr`). That magic link resolves to the very object the descriptor holds,
///   a symbolic link included (not its target), as glibc's `fchmodat(AT_SYMLINK_NOFOLLOW)` relies
///   on. O_PATH opens nothing (a FIFO would block, a device's driver would run) and needs no read
///   permission; the f-forms would need a real open, the l-forms a full path.
enum ExtendedAttributes {
    static let maximumName = 255
    static let maximumValue = 65_536
    static let maximumCount = 1_024
    /// Times a list or value that changed size between two calls (ERANGE) is read again.
    static let retries = 8

    /// Where the attributes are read.
    enum Target {
        /// The entry `name` (NUL-terminated) of the folder open as the descriptor.
        case entry(Int32, [CChar])
        /// The object an O_PATH descriptor holds, through `/proc/self/fd`.
        case descriptor(Int32)

        fileprivate func list(_ buffer: UnsafeMutablePointer<CChar>?, _ size: Int) -> Int {
            switch self {
            case .entry(let dir, let name): return coffer_listxattrat(dir, name, buffer, size)
            case .descriptor(let fd): return listxattr("/proc/self/fd/\(fd)", buffer, size)
            }
        }

        fileprivate func get(_ attribute: [CChar], _ buffer: UnsafeMutableRawPointer?, _ size: Int) -> Int {
            switch self {
            case .entry(let dir, let name): return coffer_getxattrat(dir, name, attribute, buffer, size)
            case .descriptor(let fd): return getxattr("/proc/self/fd/\(fd)", attribute, buffer, size)
            }
        }
    }

    /// The attributes of `target`, sorted by name bytes. A file system without extended
    /// attributes gives none; what cannot be read or is over a bound is left out with a note.
    /// Throws only ENOSYS (from an ``Target/entry(_:_:)`` target on a kernel without the calls).
    static func read(_ target: Target, notes: inout [String]) throws(NoSystemCall) -> [ExtendedAttribute] {
        guard let list = try listNames(target, notes: &notes) else { return [] }
        var names: [[UInt8]] = []
        var start = 0
        for (i, b) in list.enumerated() where b == 0 {
            if i > start { names.append(Array(list[start..<i])) }
            start = i + 1
        }
        names.sort { $0.lexicographicallyPrecedes($1) }
        var out: [ExtendedAttribute] = []
        var overCount = 0
        for name in names {
            if name.count > maximumName {
                notes.append("extended attribute '\(TerminalText.escape(bytes: name.prefix(64)))...' not stored: its name is longer than \(maximumName) bytes")
                continue
            }
            if out.count == maximumCount { overCount += 1; continue }
            switch value(target, name) {
            case .success(let v?): out.append(ExtendedAttribute(name: name, value: v))
            case .success(nil): continue  // removed since it was listed
            case .failure(let f): notes.append("extended attribute '\(TerminalText.escape(bytes: name))' not stored: \(f.reason)")
            }
        }
        if overCount > 0 {
            notes.append("\(overCount) extended attribute\(overCount == 1 ? "" : "s") not stored: more than \(maximumCount) on one entry")
        }
        return out
    }

    struct NoSystemCall: Error {}

    /// The NUL-separated name list; nil (with a note where that is news) when there is none to read.
    private static func listNames(_ target: Target, notes: inout [String]) throws(NoSystemCall) -> [UInt8]? {
        var capacity = 1024
        for _ in 0..<retries {
            var buf = [UInt8](repeating: 0, count: capacity)
            let n = buf.withUnsafeMutableBytes { target.list($0.baseAddress!.assumingMemoryBound(to: CChar.self), capacity) }
            if n >= 0 {
                buf.removeSubrange(n...)
                return n == 0 ? nil : buf
            }
            switch errno {
            case ENOTSUP, EOPNOTSUPP: return nil  // the file system has none
            case ENOSYS: throw NoSystemCall()
            case ERANGE:
                let needed = target.list(nil, 0)
                if needed < 0 { continue }
                capacity = max(capacity * 2, needed)
            case ENOENT where { if case .descriptor = target { return true } else { return false } }():
                notes.append("extended attributes not read: /proc/self/fd is not available (is /proc mounted?)")
                return nil
            default:
                notes.append("extended attributes not read: \(String(cString: strerror(errno)))")
                return nil
            }
        }
        notes.append("extended attributes not read: the list kept changing size")
        return nil
    }

    /// One value: nil when the attribute is gone; a failure reason when it is over the bound or unreadable.
    private static func value(_ target: Target, _ name: [UInt8]) -> Result<[UInt8]?, ValueFailure> {
        var cname = name.map { CChar(bitPattern: $0) }
        cname.append(0)
        var capacity = 4096
        for _ in 0..<retries {
            var buf = [UInt8](repeating: 0, count: capacity)
            let n = buf.withUnsafeMutableBytes { target.get(cname, $0.baseAddress!, capacity) }
            if n >= 0 {
                buf.removeSubrange(n...)
                return .success(buf)
            }
            switch errno {
            case ENODATA: return .success(nil)
            case ERANGE:
                let needed = target.get(cname, nil, 0)
                if needed < 0 { if errno == ENODATA { return .success(nil) }; continue }
                if needed > maximumValue { return .failure(ValueFailure("its value is \(needed) bytes (limit \(maximumValue))")) }
                capacity = max(needed, 1)
            default:
                return .failure(ValueFailure(String(cString: strerror(errno))))
            }
        }
        return .failure(ValueFailure("its value kept changing size"))
    }

    struct ValueFailure: Error {
        var reason: String
        init(_ r: String) { reason = r }
    }
}
