import CScan
import Foundation

/// Gives a restored entry back what format 2 stores besides its content, in this order: owner
/// and group (`fchown`/`fchownat(AT_SYMLINK_NOFOLLOW)`), then the mode with its setuid, setgid
/// and sticky bits (after the owner: a change of owner clears setuid and setgid), then extended
/// attributes and POSIX ACLs, then the times last, so nothing changes them afterwards.
///
/// Owners come back only for root: by name where this machine knows the stored user or group
/// name (unless ``numericOwner``), else by the stored number. Otherwise entries stay the
/// restoring user's, and one note says so. `security.*` and `trusted.*` attributes need root
/// too. What cannot be given back for a whole class of entries (no root, a file system without
/// extended attributes, attributes Linux refuses on links and special files) gives one note
/// each, never one per entry. Format-1 entries store no owner and no attributes: only their
/// mode and times are set.
///
/// Shared by the restore's workers.
final class RestoreMetadata: @unchecked Sendable {
    /// Whether the version is format 2 (owners and attributes stored).
    let formatTwo: Bool
    /// Owners by number only (`--numeric-owner`).
    let numericOwner: Bool
    /// Whether owners, `security.*` and `trusted.*` can be set (running as root).
    let isRoot: Bool
    private let lock = NSLock()
    private var users: [[UInt8]: uid_t?] = [:]
    private var groups: [[UInt8]: gid_t?] = [:]
    private var noteKeys = Set<String>()
    private var collected: [String] = []

    /// Mode and times only, as for format-1 entries.
    static let plain = RestoreMetadata(formatTwo: false, numericOwner: false)

    init(formatTwo: Bool, numericOwner: Bool, isRoot: Bool = geteuid() == 0) {
        self.formatTwo = formatTwo
        self.numericOwner = numericOwner
        self.isRoot = isRoot
    }

    /// The notes so far (each once), emptied.
    func takeNotes() -> [String] {
        lock.withLock {
            defer { collected = [] }
            return collected
        }
    }

    /// Adds `text` unless a note with the same `key` was added before (nil key: always).
    private func note(_ key: String?, _ text: String) {
        lock.withLock {
            if let key { guard noteKeys.insert(key).inserted else { return } }
            collected.append(text)
        }
    }

    // MARK: Owners

    /// The owner and group to give `e`, or nil when owners are not restored (format 1, or not
    /// root: then one note, the first time an entry's stored owner is not the restoring user).
    func owner(_ e: VersionEntry) -> (uid: uid_t, gid: gid_t)? {
        guard formatTwo else { return nil }
        guard isRoot else {
            if e.uid != geteuid() || e.gid != getegid() {
                note("owner", "owners and groups not restored: only root can set them; restored entries belong to the restoring user")
            }
            return nil
        }
        var uid = uid_t(e.uid), gid = gid_t(e.gid)
        if !numericOwner {
            if !e.user.isEmpty, let u = userID(e.user) { uid = u }
            if !e.group.isEmpty, let g = groupID(e.group) { gid = g }
        }
        return (uid, gid)
    }

    /// The id of user `name` on this machine (`getpwnam_r`), nil when unknown.
    func userID(_ name: [UInt8]) -> uid_t? {
        if let known = lock.withLock({ users[name] }) { return known }
        let id: uid_t? = name.withCName { cname in
            Self.lookUp { buf, len in
                var p = passwd()
                var res: UnsafeMutablePointer<passwd>?
                let rc = getpwnam_r(cname, &p, buf, len, &res)
                return (rc, rc == 0 && res != nil ? UInt32(p.pw_uid) : nil)
            }
        }
        lock.withLock { users[name] = .some(id) }
        return id
    }

    /// The id of group `name` on this machine (`getgrnam_r`), nil when unknown.
    func groupID(_ name: [UInt8]) -> gid_t? {
        if let known = lock.withLock({ groups[name] }) { return known }
        let id: gid_t? = name.withCName { cname in
            Self.lookUp { buf, len in
                var g = group()
                var res: UnsafeMutablePointer<group>?
                let rc = getgrnam_r(cname, &g, buf, len, &res)
                return (rc, rc == 0 && res != nil ? UInt32(g.gr_gid) : nil)
            }
        }
        lock.withLock { groups[name] = .some(id) }
        return id
    }

    /// Runs a `get*nam_r` lookup with a buffer grown while it answers ERANGE.
    private static func lookUp(_ call: (UnsafeMutablePointer<CChar>, Int) -> (Int32, UInt32?)) -> UInt32? {
        var size = 1024
        while size <= 1 << 20 {
            let buf = UnsafeMutablePointer<CChar>.allocate(capacity: size)
            defer { buf.deallocate() }
            let (rc, id) = call(buf, size)
            if rc == ERANGE { size *= 2; continue }
            return rc == 0 ? id : nil
        }
        return nil
    }

    private func chownFailed(_ err: Int32, _ shown: String) {
        note("chown-\(err)", "owners not restored where chown failed (\(String(cString: strerror(err)))), first at \(shown)")
    }

    // MARK: Applying

    /// Owner, mode, attributes and times of a file or folder open as `fd`.
    func apply(fd: Int32, _ e: VersionEntry, display shown: @autoclosure () -> String) {
        if let (u, g) = owner(e), fchown(fd, u, g) != 0 { chownFailed(errno, shown()) }
        _ = fchmod(fd, mode_t(e.mode & 0o7777))
        if formatTwo && !e.xattrs.isEmpty {
            setAttributes(e, kind: e.type, display: shown()) { name, value in
                value.withUnsafeBytes { fsetxattr(fd, name, $0.baseAddress, $0.count, 0) }
            }
        }
        var times = Self.times(e)
        _ = futimens(fd, &times)
    }

    /// Owner, mode (not for a symbolic link: Linux has no link modes), attributes and times of
    /// the new entry `name` in the folder `dir`, never following a link.
    /// - Throws: the `chmod` failure (the caller removes the entry).
    func apply(in dir: Int32, name: [UInt8], _ e: VersionEntry, display shown: @autoclosure () -> String) throws {
        if let (u, g) = owner(e), name.withCName({ fchownat(dir, $0, u, g, AT_SYMLINK_NOFOLLOW) }) != 0 { chownFailed(errno, shown()) }
        if e.type != .symlink, name.withCName({ fchmodat(dir, $0, mode_t(e.mode & 0o7777), AT_SYMLINK_NOFOLLOW) }) != 0 {
            throw CofferError.fromErrno(errno, path: shown(), operation: "chmod")
        }
        if formatTwo && !e.xattrs.isEmpty {
            // No *xattrat call before Linux 6.13: the l-form on the folder's descriptor path
            // (the entry's short temporary name, not followed).
            let path = Array("/proc/self/fd/\(dir)/".utf8) + name
            path.withCName { cpath in
                setAttributes(e, kind: e.type, display: shown()) { attr, value in
                    value.withUnsafeBytes { lsetxattr(cpath, attr, $0.baseAddress, $0.count, 0) }
                }
            }
        }
        var times = Self.times(e)
        _ = name.withCName { utimensat(dir, $0, &times, AT_SYMLINK_NOFOLLOW) }
    }

    /// Whether a stored extended attribute of `e` that this process can set is missing or has
    /// another value on the entry `name` in `dir` (not followed). Attributes the version lacks
    /// are not compared.
    func attributesDiffer(in dir: Int32, name: [UInt8], _ e: VersionEntry) -> Bool {
        guard formatTwo && !e.xattrs.isEmpty else { return false }
        // No *xattrat call before Linux 6.13: the l-form through the folder's descriptor.
        let path = Array("/proc/self/fd/\(dir)/".utf8) + name
        return path.withCName { cpath in
            e.xattrs.contains { x in
                let privileged = x.name.starts(with: Array("security.".utf8)) || x.name.starts(with: Array("trusted.".utf8))
                if privileged && !isRoot { return false }  // cannot be set here: nothing to fix
                var value = [UInt8](repeating: 0, count: x.value.count + 1)
                let n = x.name.withCName { attr in value.withUnsafeMutableBytes { lgetxattr(cpath, attr, $0.baseAddress, $0.count) } }
                return n != x.value.count || !value.prefix(max(n, 0)).elementsEqual(x.value)
            }
        }
    }

    static func times(_ e: VersionEntry) -> [timespec] {
        let t = timespec(tv_sec: Int(e.mtimeSeconds), tv_nsec: Int(e.mtimeNanoseconds))
        return [t, t]
    }

    /// Sets each stored attribute with `set` (0 or -1 with errno), turning what fails into notes.
    private func setAttributes(
        _ e: VersionEntry, kind: EntryType, display shown: String, _ set: (UnsafePointer<CChar>, [UInt8]) -> Int32
    ) {
        for x in e.xattrs {
            let privileged = x.name.starts(with: Array("security.".utf8)) || x.name.starts(with: Array("trusted.".utf8))
            if privileged && !isRoot {
                note("xattr-root", "security.* and trusted.* extended attributes not restored: setting them needs root")
                continue
            }
            if x.name.withCName({ set($0, x.value) }) == 0 { continue }
            let err = errno
            let shownName = TerminalText.escape(bytes: x.name)
            switch err {
            case ENOTSUP, EOPNOTSUPP:
                note("xattr-fs", "extended attributes not restored: the file system does not support them (first at \(shown))")
                return
            case EPERM where kind != .file && kind != .directory:
                note(
                    "xattr-special",
                    "some extended attributes of symbolic links, pipes and devices not restored: Linux allows user.* and ACLs only on files and folders (first: '\(shownName)' at \(shown))")
            default:
                note(nil, "\(shown): extended attribute '\(shownName)' not restored: \(String(cString: strerror(err)))")
            }
        }
    }
}
