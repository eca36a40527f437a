import CScan
import Foundation

/// Everything a format-2 version records about one directory entry besides its content: what
/// ``MetadataScanner/capture(in:name:)`` reads with `fstatat`, `readlinkat` and the xattr calls.
public struct EntryMetadata: Sendable, Equatable {
    /// `.file`, `.directory`, `.symlink`, `.fifo`, `.charDevice` or `.blockDevice`.
    public var type: EntryType
    /// `st_mode & 0o7777`: permissions with the setuid, setgid and sticky bits.
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    /// The owner's and group's names (`getpwuid_r`/`getgrgid_r`); empty when unknown or longer than 255 bytes.
    public var user: [UInt8]
    public var group: [UInt8]
    public var mtimeSeconds: Int64
    public var mtimeNanoseconds: UInt32
    public var ctimeSeconds: Int64
    public var ctimeNanoseconds: UInt32
    public var inode: UInt64
    public var device: UInt64
    /// Names the inode has (`st_nlink`).
    public var nlink: UInt64
    /// `st_size` (a symbolic link: its target's length).
    public var size: UInt64
    /// 512-byte blocks allocated (`st_blocks`): fewer than `size` needs means the file may have holes.
    public var blocks: UInt64
    /// `st_rdev` (device nodes; 0 otherwise).
    public var rdev: UInt64
    /// A symbolic link's target, as raw bytes (empty otherwise).
    public var linkTarget: [UInt8]
    /// Extended attributes (with POSIX ACLs as `system.posix_acl_access`/`_default`), sorted by name bytes.
    public var xattrs: [ExtendedAttribute]

    /// Whether a later name of this inode is stored as a hardlink to the first one (see ``HardlinkTracker``).
    public var isLinkable: Bool {
        nlink > 1 && (type == .file || type == .fifo || type == .charDevice || type == .blockDevice)
    }

    /// Copies every field a version entry holds besides its path and content (the SHA-256,
    /// chunks, holes and archive layout come from the sealer). A folder's size is 0.
    public func apply(to e: inout VersionEntry) {
        e.type = type
        e.mode = mode
        e.uid = uid
        e.gid = gid
        e.user = user
        e.group = group
        e.mtimeSeconds = mtimeSeconds
        e.mtimeNanoseconds = mtimeNanoseconds
        e.ctimeSeconds = ctimeSeconds
        e.ctimeNanoseconds = ctimeNanoseconds
        e.inode = inode
        e.device = device
        e.size = type == .directory ? 0 : size
        e.rdev = rdev
        e.linkTargetBytes = linkTarget
        e.xattrs = xattrs
    }
}

/// Reads the metadata of directory entries, relative to an open directory and a name given as
/// bytes, caching user and group names per id. Not thread-safe: one per walk.
public final class MetadataScanner {
    /// The outcome of ``capture(in:name:)``.
    public enum Capture: Sendable {
        /// The entry, with notes on what could not be recorded (an extended attribute over a
        /// bound, say); each note is a reason without the path, for the caller to prefix.
        case entry(EntryMetadata, notes: [String])
        /// Not stored (a socket, a link target over 65,536 bytes): why.
        case skipped(String)
        /// `fstatat` failed (the entry vanished, a permission error): why.
        case unreadable(String)
    }

    /// Longest link target stored (format 2).
    public static let maximumLinkTarget = 65_536
    /// Longest user or group name stored.
    public static let maximumOwnerName = 255

    static let pathOnly = coffer_o_path()
    static let emptyPath = coffer_at_empty_path()

    /// Read extended attributes (and ACLs).
    public let readsExtendedAttributes: Bool
    private var users: [UInt32: [UInt8]] = [:]
    private var groups: [UInt32: [UInt8]] = [:]

    public init(extendedAttributes: Bool = true) {
        readsExtendedAttributes = extendedAttributes
    }

    /// Whether the `*xattrat` system calls are used (until the kernel says it lacks them), else
    /// an O_PATH descriptor per entry (see ``ExtendedAttributes``). Tests turn it off to check that way.
    var usesXattrAtCalls = true

    /// Captures the entry `name` (raw bytes, one component: no `/`) of the directory open as
    /// `directory` (or `AT_FDCWD`), without following a final symbolic link.
    ///
    /// Where the kernel lacks `listxattrat` (before 6.13) and extended attributes are read, the
    /// entry is opened with `O_PATH | O_NOFOLLOW` (which opens nothing: no FIFO blocks, no device
    /// driver runs, no read permission is needed) and stat'd through that descriptor, so its
    /// attributes come from the very inode the other fields describe. With `listxattrat` the stat
    /// and the attributes are two lookups of the name, like every other pair of calls on a live tree.
    public func capture(in directory: Int32, name: [UInt8]) -> Capture {
        guard !name.isEmpty, !name.contains(0), !name.contains(UInt8(ascii: "/")) else {
            return .unreadable("not a single path component")
        }
        var cname = name.map { CChar(bitPattern: $0) }
        cname.append(0)
        var st = stat()
        var fd: Int32 = -1
        if readsExtendedAttributes && !usesXattrAtCalls {
            fd = openat(directory, cname, MetadataScanner.pathOnly | O_NOFOLLOW | O_CLOEXEC)
            if fd < 0 { return .unreadable(String(cString: strerror(errno))) }
            if fstatat(fd, "", &st, MetadataScanner.emptyPath | AT_SYMLINK_NOFOLLOW) != 0 {
                let reason = String(cString: strerror(errno))
                close(fd)
                return .unreadable(reason)
            }
        } else if fstatat(directory, cname, &st, AT_SYMLINK_NOFOLLOW) != 0 {
            return .unreadable(String(cString: strerror(errno)))
        }
        defer { if fd >= 0 { close(fd) } }

        let type: EntryType
        switch st.st_mode & S_IFMT {
        case S_IFREG: type = .file
        case S_IFDIR: type = .directory
        case S_IFLNK: type = .symlink
        case S_IFIFO: type = .fifo
        case S_IFCHR: type = .charDevice
        case S_IFBLK: type = .blockDevice
        case S_IFSOCK: return .skipped("a socket (not stored)")
        default: return .skipped("unknown file type \(String(st.st_mode & S_IFMT, radix: 8)) (not stored)")
        }
        var m = EntryMetadata(
            type: type, mode: UInt32(st.st_mode & 0o7777), uid: st.st_uid, gid: st.st_gid,
            user: userName(st.st_uid), group: groupName(st.st_gid),
            mtimeSeconds: Int64(st.st_mtim.tv_sec), mtimeNanoseconds: UInt32(st.st_mtim.tv_nsec),
            ctimeSeconds: Int64(st.st_ctim.tv_sec), ctimeNanoseconds: UInt32(st.st_ctim.tv_nsec),
            inode: UInt64(st.st_ino), device: UInt64(st.st_dev), nlink: UInt64(st.st_nlink),
            size: UInt64(max(0, st.st_size)), blocks: UInt64(max(0, st.st_blocks)),
            rdev: type == .charDevice || type == .blockDevice ? UInt64(st.st_rdev) : 0, linkTarget: [], xattrs: [])
        if type == .symlink {
            // On the O_PATH descriptor (an empty name reads the link it refers to), else by name.
            switch MetadataScanner.readLink(fd >= 0 ? fd : directory, fd >= 0 ? [0] : cname, expected: Int(clamping: m.size)) {
            case .success(let target): m.linkTarget = target
            case .failure(let reason): return reason.skip ? .skipped(reason.text) : .unreadable(reason.text)
            }
        }
        var notes: [String] = []
        if fd >= 0 {
            m.xattrs = (try? ExtendedAttributes.read(.descriptor(fd), notes: &notes)) ?? []
        } else if readsExtendedAttributes {
            do {
                m.xattrs = try ExtendedAttributes.read(.entry(directory, cname), notes: &notes)
            } catch {
                // This kernel has no listxattrat: from now on, through O_PATH descriptors.
                usesXattrAtCalls = false
                return capture(in: directory, name: name)
            }
        }
        return .entry(m, notes: notes)
    }

    struct LinkFailure: Error {
        var text: String
        var skip: Bool
    }

    /// `readlinkat`, growing the buffer while the target fills it, up to ``maximumLinkTarget`` bytes.
    static func readLink(_ dirfd: Int32, _ cname: [CChar], expected: Int) -> Result<[UInt8], LinkFailure> {
        var capacity = min(max(expected + 1, 256), maximumLinkTarget + 1)
        while true {
            var buf = [UInt8](repeating: 0, count: capacity)
            let n = buf.withUnsafeMutableBytes { readlinkat(dirfd, cname, $0.baseAddress!.assumingMemoryBound(to: CChar.self), capacity) }
            if n < 0 { return .failure(LinkFailure(text: "cannot read link: \(String(cString: strerror(errno)))", skip: false)) }
            if n < capacity {
                buf.removeSubrange(n...)
                return .success(buf)
            }
            // Truncated: the target is at least `capacity` bytes.
            if capacity > maximumLinkTarget {
                return .failure(LinkFailure(text: "link target longer than \(maximumLinkTarget) bytes (not stored)", skip: true))
            }
            capacity = min(capacity * 2, maximumLinkTarget + 1)
        }
    }

    func userName(_ uid: UInt32) -> [UInt8] {
        if let n = users[uid] { return n }
        let n = MetadataScanner.lookUp { buf, len in
            var p = passwd()
            var res: UnsafeMutablePointer<passwd>?
            let rc = getpwuid_r(uid, &p, buf, len, &res)
            return (rc, rc == 0 && res != nil ? p.pw_name : nil)
        }
        users[uid] = n
        return n
    }

    func groupName(_ gid: UInt32) -> [UInt8] {
        if let n = groups[gid] { return n }
        let n = MetadataScanner.lookUp { buf, len in
            var g = group()
            var res: UnsafeMutablePointer<group>?
            let rc = getgrgid_r(gid, &g, buf, len, &res)
            return (rc, rc == 0 && res != nil ? g.gr_name : nil)
        }
        groups[gid] = n
        return n
    }

    /// Runs a `get*_r` lookup with a buffer grown while it returns ERANGE: the name's bytes, or
    /// empty (no such id, a lookup error, a name over ``maximumOwnerName`` bytes).
    private static func lookUp(_ call: (UnsafeMutablePointer<CChar>, Int) -> (Int32, UnsafeMutablePointer<CChar>?)) -> [UInt8] {
        var size = 1024
        while size <= 1 << 20 {
            let buf = UnsafeMutablePointer<CChar>.allocate(capacity: size)
            defer { buf.deallocate() }
            let (rc, name) = call(buf, size)
            if rc == ERANGE { size *= 2; continue }
            guard rc == 0, let name else { return [] }
            let bytes = Array(UnsafeRawBufferPointer(start: name, count: strlen(name)))
            return bytes.count <= maximumOwnerName ? bytes : []
        }
        return []
    }
}
