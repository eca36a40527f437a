import CScan
import Foundation

/// Reads an entry's extended attributes, in every namespace the process can read: `user.*`,
/// `trusted.*` (root only: the kernel lists them to no one else), `security.*`, and the POSIX ACLs
/// `system.posix_acl_access`/`system.posix_acl_default`, whose values are kept as the raw xattr
/// bytes (the kernel's ACL encoding, which `setxattr` takes back as is).
///
/// Linux has no `*xattrat` calls in glibc (the system calls are 6.13+ and have no wrapper), so
/// the entry is opened relative to its directory with `O_PATH | O_NOFOLLOW` and read through
/// `/proc/self/fd/<fd>` with the following forms (`listxattr`, `getxattr`): that magic link
/// resolves to the very object the descriptor holds, a symbolic link included (not its target),
/// which is what glibc does for `fchmodat(AT_SYMLINK_NOFOLLOW)`. This needs no full path (no
/// PATH_MAX limit, no race with a parent folder renamed mid-walk), opens nothing (a FIFO would
/// block, a device's driver would run) and needs no read permission beyond what the attribute
/// namespace itself asks; the f-forms would need a real open, the l-forms a full path.
enum ExtendedAttributes {
    static let maximumName = 255
    static let maximumValue = 65_536
    static let maximumCount = 1_024
    /// Times a list or value that changed size between two calls (ERANGE) is read again.
    static let retries = 8

    /// The attributes of the object open (O_PATH is enough) as `fd`, sorted by name bytes. A file
    /// system without extended attributes gives none; what cannot be read or is over a bound is
    /// left out with a note.
    static func read(pathFD fd: Int32, notes: inout [String]) -> [ExtendedAttribute] {
        let path = "/proc/self/fd/\(fd)"
        guard let list = listNames(path, notes: &notes) else { return [] }
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
            switch value(path, name) {
            case .success(let v?): out.append(ExtendedAttribute(name: name, value: v))
            case .success(nil): continue  // removed since it was listed
            case .failure(let reason): notes.append("extended attribute '\(TerminalText.escape(bytes: name))' not stored: \(reason)")
            }
        }
        if overCount > 0 {
            notes.append("\(overCount) extended attribute\(overCount == 1 ? "" : "s") not stored: more than \(maximumCount) on one entry")
        }
        return out
    }

    /// The NUL-separated name list; nil (with a note where that is news) when there is none to read.
    private static func listNames(_ path: String, notes: inout [String]) -> [UInt8]? {
        var capacity = 1024
        for _ in 0..<retries {
            var buf = [UInt8](repeating: 0, count: capacity)
            let n = buf.withUnsafeMutableBytes { listxattr(path, $0.baseAddress!.assumingMemoryBound(to: CChar.self), capacity) }
            if n >= 0 {
                buf.removeSubrange(n...)
                return n == 0 ? nil : buf
            }
            switch errno {
            case ENOTSUP, EOPNOTSUPP: return nil  // the file system has none
            case ERANGE:
                let needed = listxattr(path, nil, 0)
                if needed < 0 { continue }
                capacity = max(capacity * 2, needed)
            case ENOENT:
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
    private static func value(_ path: String, _ name: [UInt8]) -> Result<[UInt8]?, ValueFailure> {
        var cname = name.map { CChar(bitPattern: $0) }
        cname.append(0)
        var capacity = 4096
        for _ in 0..<retries {
            var buf = [UInt8](repeating: 0, count: capacity)
            let n = buf.withUnsafeMutableBytes { getxattr(path, cname, $0.baseAddress!, capacity) }
            if n >= 0 {
                buf.removeSubrange(n...)
                return .success(buf)
            }
            switch errno {
            case ENODATA: return .success(nil)
            case ERANGE:
                let needed = getxattr(path, cname, nil, 0)
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
