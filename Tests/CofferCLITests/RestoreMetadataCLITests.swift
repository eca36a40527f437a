import CScan
import Foundation
import Testing

/// `coffer restore` gives back every field a format-2 version stores: a tree holding every kind
/// of entry is sealed, restored as root and as an unprivileged user, and compared field by field.
@Suite("restore metadata", .serialized)
struct RestoreMetadataCLITests {
    static let isRoot = geteuid() == 0
    static let nonUTF8Name: [UInt8] = [0x66, 0xFF, 0xFE, 0x2E, 0x62, 0x69, 0x6E]
    static let name240 = [UInt8](repeating: 0x6C, count: 240)
    static let name255 = [UInt8](repeating: 0x6D, count: 254) + [0xE9]  // ends in a lone Latin-1 byte
    static let linkTarget: [UInt8] = [0x2E, 0x2E, 0x2F, 0xFF, 0x80, 0x2F, 0x74]
    static let sparseSize = 64 << 20
    static let sparseRegions = [(offset: 0, length: 64 << 10), (offset: 40 << 20, length: 300 << 10)]

    // MARK: Byte paths

    static func cpath(_ bytes: [UInt8]) -> [CChar] { bytes.map { CChar(bitPattern: $0) } + [0] }
    static func join(_ parts: [UInt8]...) -> [UInt8] { Array(parts.joined(separator: [0x2F])) }
    static func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    static func writeFile(_ path: [UInt8], _ bytes: [UInt8], mode: mode_t = 0o644) {
        let fd = open(cpath(path), O_WRONLY | O_CREAT | O_TRUNC, mode)
        precondition(fd >= 0, "create \(String(decoding: path, as: UTF8.self)): \(String(cString: strerror(errno)))")
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        _ = chmod(cpath(path), mode)
    }

    static func setTime(_ path: [UInt8], _ seconds: Int, _ ns: Int) {
        var t = [timespec(tv_sec: seconds, tv_nsec: ns), timespec(tv_sec: seconds, tv_nsec: ns)]
        precondition(utimensat(AT_FDCWD, cpath(path), &t, AT_SYMLINK_NOFOLLOW) == 0)
    }

    /// An ACL in the kernel's xattr encoding: user::rw-, user:1234:r--, group::r--, mask::r--, other::---.
    static let acl: [UInt8] = {
        var out: [UInt8] = [2, 0, 0, 0]
        func entry(_ tag: UInt16, _ perm: UInt16, _ id: UInt32) {
            out += [UInt8(tag & 0xFF), UInt8(tag >> 8), UInt8(perm & 0xFF), UInt8(perm >> 8)]
            out += [UInt8(id & 0xFF), UInt8((id >> 8) & 0xFF), UInt8((id >> 16) & 0xFF), UInt8(id >> 24)]
        }
        entry(0x01, 6, 0xFFFF_FFFF)
        entry(0x02, 4, 1234)
        entry(0x04, 4, 0xFFFF_FFFF)
        entry(0x10, 4, 0xFFFF_FFFF)
        entry(0x20, 0, 0xFFFF_FFFF)
        return out
    }()

    /// A user this machine knows by name (not root), for the owned-by-name file.
    static var namedUser: (name: String, uid: uid_t, gid: gid_t)? {
        for name in ["daemon", "bin", "nobody"] {
            if let pw = getpwnam(name) { return (name, pw.pointee.pw_uid, pw.pointee.pw_gid) }
        }
        return nil
    }

    /// Builds the tree under `root/top`; returns the path of `top`.
    static func buildTree(_ root: String) throws -> [UInt8] {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let top = b(root) + b("/top")
        try #require(mkdir(cpath(top), 0o755) == 0)
        writeFile(join(top, b("file.txt")), Array(repeating: 0x41, count: 100_000) + Array("end".utf8))
        #expect(setxattr(cpath(join(top, b("file.txt"))), "user.note", "hello", 5, 0) == 0, "user xattrs: \(String(cString: strerror(errno)))")
        writeFile(join(top, b("empty")), [])
        writeFile(join(top, name240), b("two hundred forty"))
        writeFile(join(top, name255), b("two hundred fifty-five"))
        writeFile(join(top, nonUTF8Name), b("not utf-8"))
        writeFile(join(top, b("setuid")), b("#!/bin/sh\n"), mode: 0o4755)
        writeFile(join(top, b("setgid")), b("#!/bin/sh\n"), mode: 0o2750)
        #expect(mkdir(cpath(join(top, b("sticky"))), 0o755) == 0)
        #expect(chmod(cpath(join(top, b("sticky"))), 0o1777) == 0)
        writeFile(join(top, b("acl.txt")), b("acl"))
        #expect(setxattr(cpath(join(top, b("acl.txt"))), "system.posix_acl_access", acl, acl.count, 0) == 0, "ACL: \(String(cString: strerror(errno)))")
        if isRoot {
            writeFile(join(top, b("owned")), b("numbers"))
            #expect(chown(cpath(join(top, b("owned"))), 1234, 5678) == 0)
            if let u = namedUser {
                writeFile(join(top, b("named")), b("by name"))
                #expect(chown(cpath(join(top, b("named"))), u.uid, u.gid) == 0)
            }
            #expect(mknod(cpath(join(top, b("null"))), S_IFCHR | 0o666, dev_t((1 << 8) | 3)) == 0)
            #expect(chmod(cpath(join(top, b("null"))), 0o666) == 0)
        }
        #expect(symlink(cpath(linkTarget), cpath(join(top, b("link")))) == 0)
        #expect(mkfifo(cpath(join(top, b("pipe"))), 0o640) == 0)
        #expect(chmod(cpath(join(top, b("pipe"))), 0o640) == 0)
        #expect(mkdir(cpath(join(top, b("sub"))), 0o750) == 0)
        #expect(setxattr(cpath(join(top, b("sub"))), "user.dir", "d", 1, 0) == 0)
        writeFile(join(top, b("h1")), b("one inode, three names"))
        #expect(link(cpath(join(top, b("h1"))), cpath(join(top, b("sub"), b("h2")))) == 0)
        #expect(link(cpath(join(top, b("h1"))), cpath(join(top, b("sub"), b("h3")))) == 0)
        // Sparse: 64 MiB, two data extents.
        let sfd = open(cpath(join(top, b("sparse"))), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(ftruncate(sfd, off_t(sparseSize)) == 0)
        for (k, r) in sparseRegions.enumerated() {
            let bytes = (0..<r.length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ k) }
            #expect(bytes.withUnsafeBytes { pwrite(sfd, $0.baseAddress, r.length, off_t(r.offset)) } == r.length)
        }
        close(sfd)
        // Nested folders with old times, set deepest first and after their contents.
        let deep = join(top, b("deep"), b("a"), b("b"))
        #expect(mkdir(cpath(join(top, b("deep"))), 0o755) == 0 && mkdir(cpath(join(top, b("deep"), b("a"))), 0o700) == 0)
        #expect(mkdir(cpath(deep), 0o755) == 0)
        writeFile(join(deep, b("leaf")), b("leaf"))
        setTime(join(deep, b("leaf")), 1_400_000_000, 111)
        setTime(deep, 1_500_000_000, 123_456_789)
        setTime(join(top, b("deep"), b("a")), 1_500_000_001, 5)
        setTime(join(top, b("deep")), 1_500_000_002, 999_999_999)
        setTime(join(top, b("link")), 1_300_000_000, 42)
        setTime(join(top, b("sub")), 1_600_000_000, 7)
        setTime(top, 1_600_000_001, 8)
        return top
    }

    // MARK: Snapshots

    struct Node: Equatable, CustomStringConvertible {
        var type: mode_t
        var mode: mode_t
        var uid: uid_t
        var gid: gid_t
        var mtime: Int
        var mtimeNs: Int
        var content: String
        var xattrs: [String: [UInt8]]
        var rdev: UInt64
        var description: String {
            "type \(String(type, radix: 8)) mode \(String(mode, radix: 8)) \(uid):\(gid) mtime \(mtime).\(mtimeNs) \(content.prefix(40)) xattrs \(xattrs.keys.sorted()) rdev \(rdev)"
        }
    }

    struct Snapshot {
        var nodes: [[UInt8]: Node] = [:]
        /// Paths grouped by inode (hard links), only groups of two or more.
        var groups: Set<Set<[UInt8]>> = []
        var blocks: [[UInt8]: Int] = [:]
    }

    static func xattrs(_ path: [CChar]) -> [String: [UInt8]] {
        var list = [CChar](repeating: 0, count: 65536)
        let n = llistxattr(path, &list, list.count)
        guard n > 0 else { return [:] }
        var out: [String: [UInt8]] = [:]
        for name in list[0..<n].split(separator: 0) {
            let cname = Array(name) + [0]
            var value = [UInt8](repeating: 0, count: 65536)
            let m = lgetxattr(path, cname, &value, value.count)
            if m >= 0 { out[String(cString: cname)] = Array(value[0..<m]) }
        }
        return out
    }

    /// Every entry below `root` (which is included as its last component), by relative path bytes.
    static func snapshot(_ root: [UInt8]) -> Snapshot {
        var snap = Snapshot()
        var inodes: [UInt64: Set<[UInt8]>] = [:]
        func visit(_ rel: [UInt8]) {
            let full = rel.isEmpty ? root : root + [0x2F] + rel
            var st = stat()
            guard lstat(cpath(full), &st) == 0 else { return }
            let type = st.st_mode & S_IFMT
            var content = ""
            if type == S_IFREG {
                content = sha256(full)
                snap.blocks[rel] = Int(st.st_blocks)
                if st.st_nlink > 1 { inodes[UInt64(st.st_ino), default: []].insert(rel) }
            } else if type == S_IFLNK {
                var buf = [UInt8](repeating: 0, count: 4096)
                let n = buf.withUnsafeMutableBytes { readlink(cpath(full), $0.baseAddress!.assumingMemoryBound(to: CChar.self), 4096) }
                content = "link:" + buf[0..<max(0, n)].map { String(format: "%02x", $0) }.joined()
            }
            snap.nodes[rel] = Node(
                type: type, mode: st.st_mode & 0o7777, uid: st.st_uid, gid: st.st_gid, mtime: st.st_mtim.tv_sec, mtimeNs: st.st_mtim.tv_nsec,
                content: content, xattrs: xattrs(cpath(full)), rdev: type == S_IFCHR || type == S_IFBLK ? UInt64(st.st_rdev) : 0)
            if type == S_IFDIR {
                guard let d = opendir(cpath(full)) else { return }
                defer { closedir(d) }
                while let ent = readdir(d) {
                    let name = withUnsafeBytes(of: ent.pointee.d_name) { raw in Array(raw.prefix(while: { $0 != 0 })) }
                    if name == [0x2E] || name == [0x2E, 0x2E] { continue }
                    visit(rel.isEmpty ? name : rel + [0x2F] + name)
                }
            }
        }
        visit([])
        snap.groups = Set(inodes.values.filter { $0.count > 1 })
        return snap
    }

    static func sha256(_ path: [UInt8]) -> String {
        let fd = open(cpath(path), O_RDONLY | O_NOFOLLOW)
        guard fd >= 0 else { return "unreadable" }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        var hash = Hasher()
        var total = 0
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            total += n
            // A cheap digest is enough to compare two trees made from the same bytes in one run.
            buf[0..<n].withUnsafeBytes { hash.combine(bytes: $0) }
        }
        return "\(total):\(hash.finalize())"
    }

    static func show(_ path: [UInt8]) -> String { String(decoding: path, as: UTF8.self) }

    // MARK: Tests

    /// Seals the tree; returns the scratch, the original `top` path and the version selector.
    static func sealedTree() throws -> (Scratch, [UInt8]) {
        let s = try Scratch()
        try s.initVault()
        let top = try buildTree(s.path("src"))
        try s.ok(["seal", s.path("src/top")])
        return (s, top)
    }

    @Test("every kind of entry comes back with type, mode, owner, mtime, content, xattrs, hard links and holes; --verify")
    func everythingComesBack() throws {
        let (s, top) = try Self.sealedTree()
        let original = Self.snapshot(top)
        let r = try s.run(["restore", "top@latest", "--to", s.path("out"), "--verify"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stderr.contains("owners"), "root restores owners without a note: \(r.stderr)")
        let restored = Self.snapshot(Self.b(s.path("out/top")))
        #expect(Set(restored.nodes.keys) == Set(original.nodes.keys), "missing: \(Set(original.nodes.keys).subtracting(restored.nodes.keys).map(Self.show))")
        for (path, node) in original.nodes {
            #expect(restored.nodes[path] == node, "\(Self.show(path)): \(restored.nodes[path]?.description ?? "missing") != \(node)")
        }
        #expect(original.groups.count == 1 && original.groups.first?.count == 3)
        #expect(restored.groups == original.groups)
        // Holes come back as holes: no more blocks than the original, plus a little slack.
        let blocks = try #require(restored.blocks[Self.b("sparse")]), before = try #require(original.blocks[Self.b("sparse")])
        #expect(blocks <= before + 256, "sparse file: \(blocks) blocks restored, \(before) originally")
        #expect(blocks < (Self.sparseSize / 512) / 4)
        if Self.isRoot {
            let named = try #require(restored.nodes[Self.b("named")])
            #expect(named.uid == Self.namedUser?.uid)
            #expect(restored.nodes[Self.b("owned")]?.uid == 1234 && restored.nodes[Self.b("owned")]?.gid == 5678)
        }
        // Nothing left under a temporary name.
        #expect(!restored.nodes.keys.contains { $0.starts(with: Self.b(".coffer-")) })
    }

    @Test("--numeric-owner sets the stored numbers (the name-to-id mapping is covered in RestoreMetadataTests)")
    func numericOwner() throws {
        guard Self.isRoot, let user = Self.namedUser else { return }  // root only: no one else can give files away
        let (s, _) = try Self.sealedTree()
        try s.ok(["restore", "top@latest", "--to", s.path("byname")])
        try s.ok(["restore", "top@latest", "--to", s.path("bynumber"), "--numeric-owner"])
        var a = stat(), n = stat()
        #expect(lstat(s.path("byname/top/named"), &a) == 0 && lstat(s.path("bynumber/top/named"), &n) == 0)
        #expect(a.st_uid == user.uid && n.st_uid == user.uid)
        #expect(lstat(s.path("bynumber/top/owned"), &n) == 0 && n.st_uid == 1234 && n.st_gid == 5678)
    }

    @Test("an entry that cannot be restored is listed at the end, the others are restored, and the exit status is 3")
    func oneFailureExitsThree() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("src/top/ok.txt", "fine")
        try s.write("src/top/locked/a.txt", "cannot go here")
        try s.write("src/top/z.txt", "after it")
        try s.ok(["seal", s.path("src/top")])
        // Nothing can be made in top/locked: immutable as root (root ignores modes), read-only otherwise.
        let locked = s.path("out/top/locked")
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: true)
        if Self.isRoot {
            let chattr = try #require(Binaries.tool("chattr"))
            try #require(try Scratch.shell([chattr, "+i", locked]).status == 0, "chattr +i is not supported here")
        } else {
            #expect(chmod(locked, 0o555) == 0)
        }
        defer { if Self.isRoot, let chattr = Binaries.tool("chattr") { _ = try? Scratch.shell([chattr, "-i", locked]) } }
        let r = try s.run(["restore", "top@latest", "--to", s.path("out")])
        #expect(r.status == 3, "\(r.stderr)")
        let lines = r.stderr.split(separator: "\n").map(String.init)
        let header = try #require(lines.firstIndex(of: "1 entry could not be restored:"), "\(r.stderr)")
        #expect(lines.count > header + 1 && lines[header + 1].hasPrefix("  " + locked + "/a.txt: "), "\(r.stderr)")
        #expect(try s.read("out/top/ok.txt") == Array("fine".utf8))
        #expect(try s.read("out/top/z.txt") == Array("after it".utf8))
        #expect(!s.exists("out/top/locked/a.txt"))
        #expect(try s.run(["restore", "--help"]).stdout.contains("exit status is 3"))
    }

    @Test("an unprivileged user gets everything but owners, devices and privileged attributes, with one note")
    func unprivilegedRestore() throws {
        let (s, top) = try Self.sealedTree()
        let original = Self.snapshot(top)
        var wrapper: [String] = []
        var extra: [String: String] = [:]
        let uid: uid_t, gid: gid_t
        if Self.isRoot {
            // As nobody: a copy of the vault it can read, a home and a target it owns.
            let setpriv = try #require(Binaries.tool("setpriv"), "setpriv is needed to drop privileges")
            let copy = s.path("nobody/vault")
            try FileManager.default.createDirectory(atPath: s.path("nobody"), withIntermediateDirectories: true)
            try Scratch.shell(["/bin/cp", "-a", s.vault, copy])
            try FileManager.default.createDirectory(atPath: s.path("nobody/home"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: s.path("nobody/out"), withIntermediateDirectories: true)
            try Scratch.shell(["/bin/chown", "-R", "65534:65534", s.path("nobody")])
            wrapper = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
            extra = ["COFFER_VAULT": copy, "HOME": s.path("nobody/home"), "XDG_STATE_HOME": s.path("nobody/home/state")]
            (uid, gid) = (65534, 65534)
        } else {
            // Not root (the privilege drop is skipped): the restoring user is the caller.
            try FileManager.default.createDirectory(atPath: s.path("nobody/out"), withIntermediateDirectories: true)
            (uid, gid) = (geteuid(), getegid())
        }
        let r = try s.run(["restore", "top@latest", "--to", s.path("nobody/out"), "--verify"], environment: extra, wrapper: wrapper)
        #expect(r.status == 0, "\(r.stderr)")
        if Self.isRoot {
            let ownerNotes = r.stderr.split(separator: "\n").filter { $0.contains("owners and groups not restored") }
            #expect(ownerNotes.count == 1, "\(r.stderr)")
            #expect(r.stderr.contains("making a device needs root"), "\(r.stderr)")
        }
        let restored = Self.snapshot(Self.b(s.path("nobody/out/top")))
        for (path, node) in original.nodes {
            if node.type == S_IFCHR && !Self.isRoot { continue }
            if node.type == S_IFCHR {
                #expect(restored.nodes[path] == nil, "a device is made only by root")
                continue
            }
            var expected = node
            expected.uid = uid
            expected.gid = gid
            #expect(restored.nodes[path] == expected, "\(Self.show(path)): \(restored.nodes[path]?.description ?? "missing") != \(expected)")
        }
        #expect(restored.groups == original.groups)
        let blocks = try #require(restored.blocks[Self.b("sparse")]), before = try #require(original.blocks[Self.b("sparse")])
        #expect(blocks <= before + 256)
    }
}
