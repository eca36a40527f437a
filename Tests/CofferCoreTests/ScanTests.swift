@testable import CofferCore
import CScan
import Foundation
import Testing

/// Scan helpers: raw-byte paths, a directory descriptor, and the scanner's result unwrapped.
enum ScanFS {
    /// `folder/name` as a C path, `name` as raw bytes.
    static func cpath(_ folder: String, _ name: [UInt8]) -> [CChar] {
        (Array(folder.utf8) + [UInt8(ascii: "/")] + name + [0]).map { CChar(bitPattern: $0) }
    }

    static func openFolder(_ path: String) -> Int32 {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        precondition(fd >= 0, "open \(path): \(String(cString: strerror(errno)))")
        return fd
    }

    /// Captures `name` in `folder`; fails the test unless an entry comes back.
    static func entry(_ folder: String, _ name: [UInt8], scanner: MetadataScanner = MetadataScanner(),
                      sourceLocation: SourceLocation = #_sourceLocation) -> (EntryMetadata, [String])? {
        let dir = openFolder(folder)
        defer { close(dir) }
        switch scanner.capture(in: dir, name: name) {
        case .entry(let m, let notes): return (m, notes)
        case .skipped(let r), .unreadable(let r):
            Issue.record("\(String(decoding: name, as: UTF8.self)): \(r)", sourceLocation: sourceLocation)
            return nil
        }
    }

    static func entry(_ folder: String, _ name: String, atCalls: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) -> (EntryMetadata, [String])? {
        let scanner = MetadataScanner()
        scanner.usesXattrAtCalls = atCalls
        return entry(folder, Array(name.utf8), scanner: scanner, sourceLocation: sourceLocation)
    }

    static func stat(_ path: [CChar]) -> stat {
        var st = Glibc.stat()
        precondition(lstat(path, &st) == 0)
        return st
    }

    static func stat(_ path: String) -> stat { stat(Array(path.utf8CString)) }

    static func scanner(_ atCalls: Bool) -> MetadataScanner {
        let s = MetadataScanner()
        s.usesXattrAtCalls = atCalls
        return s
    }

    /// `makedev(3)` (a macro Swift cannot call).
    static func makedev(_ major: UInt64, _ minor: UInt64) -> dev_t {
        dev_t(((major & 0xFFFF_F000) << 32) | ((major & 0xFFF) << 8) | ((minor & 0xFFFF_FF00) << 12) | (minor & 0xFF))
    }

    /// Whether this process may make device nodes (root with CAP_MKNOD): probed once.
    static let canMakeDevices: Bool = {
        let dir = T.scratch("mknod-probe")
        defer { T.removeTree(dir) }
        return mknod(dir + "/null", S_IFCHR | 0o600, makedev(1, 3)) == 0
    }()

    static let hasSetfacl = FileManager.default.isExecutableFile(atPath: "/usr/bin/setfacl")

    static func run(_ tool: String, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(tool) \(args)")
        return String(decoding: data, as: UTF8.self)
    }

    /// The raw value of an extended attribute, as the kernel returns it.
    static func xattr(_ path: String, _ name: [UInt8]) -> [UInt8]? {
        let cname = name.map { CChar(bitPattern: $0) } + [0]
        var buf = [UInt8](repeating: 0, count: 65536)
        let n = buf.withUnsafeMutableBytes { getxattr(path, cname, $0.baseAddress!, 65536) }
        return n < 0 ? nil : Array(buf[0..<n])
    }

    static func setXattr(_ path: String, _ name: [UInt8], _ value: [UInt8], follow: Bool = true) -> Int32 {
        let cname = name.map { CChar(bitPattern: $0) } + [0]
        return value.withUnsafeBytes { v in
            follow ? setxattr(path, cname, v.baseAddress, v.count, 0) : lsetxattr(path, cname, v.baseAddress, v.count, 0)
        }
    }
}

@Suite struct ScanTests {
    @Test func modesOwnersTimesAndIdentity() throws {
        let dir = T.scratch("scan")
        T.write(dir + "/setuid", Array("x".utf8))
        T.write(dir + "/setgid", Array("hello".utf8))
        mkdir(dir + "/sticky", 0o700)
        #expect(chmod(dir + "/setuid", 0o4755) == 0)
        #expect(chmod(dir + "/setgid", 0o2755) == 0)
        #expect(chmod(dir + "/sticky", 0o1777) == 0)
        // Times with nanoseconds, set exactly.
        var times = [timespec(tv_sec: 1_600_000_000, tv_nsec: 123_456_789), timespec(tv_sec: 1_600_000_001, tv_nsec: 987_654_321)]
        #expect(utimensat(AT_FDCWD, dir + "/setgid", &times, AT_SYMLINK_NOFOLLOW) == 0)

        let owner = String(cString: getpwuid(getuid())!.pointee.pw_name)
        let group = String(cString: getgrgid(getgid())!.pointee.gr_name)
        for (name, mode, type) in [("setuid", 0o4755, EntryType.file), ("setgid", 0o2755, .file), ("sticky", 0o1777, .directory)] {
            let (m, notes) = try #require(ScanFS.entry(dir, name))
            let st = ScanFS.stat(dir + "/" + name)
            #expect(m.type == type)
            #expect(m.mode == UInt32(mode), "\(name): \(String(m.mode, radix: 8))")
            #expect(m.uid == getuid() && m.gid == getgid())
            #expect(m.user == Array(owner.utf8) && m.group == Array(group.utf8))
            #expect(m.inode == UInt64(st.st_ino) && m.device == UInt64(st.st_dev) && m.nlink == UInt64(st.st_nlink))
            #expect(m.ctimeSeconds == Int64(st.st_ctim.tv_sec) && m.ctimeNanoseconds == UInt32(st.st_ctim.tv_nsec))
            #expect(m.rdev == 0 && m.linkTarget.isEmpty && m.xattrs.isEmpty)
            #expect(notes.isEmpty)
        }
        let (g, _) = try #require(ScanFS.entry(dir, "setgid"))
        #expect(g.mtimeSeconds == 1_600_000_001 && g.mtimeNanoseconds == 987_654_321)
        #expect(g.size == 5)

        // Into a version entry: every field but the path and content.
        var e = VersionEntry(type: .file, path: "root/setgid", mode: 0, mtimeSeconds: 0, mtimeNanoseconds: 0, size: 0)
        g.apply(to: &e)
        #expect(e.mode == 0o2755 && e.uid == g.uid && e.user == g.user && e.group == g.group && e.size == 5)
        #expect(e.mtimeNanoseconds == 987_654_321 && e.inode == g.inode && e.ctimeSeconds == g.ctimeSeconds)
        let (d, _) = try #require(ScanFS.entry(dir, "sticky"))
        d.apply(to: &e)
        #expect(e.type == .directory && e.size == 0)
    }

    @Test func ownersWithoutNamesAreEmpty() throws {
        let dir = T.scratch("scan")
        T.write(dir + "/f", [1])
        // An id no passwd or group entry has (only root may give a file away; otherwise check the cache directly).
        let scanner = MetadataScanner()
        #expect(scanner.userName(0x7FFF_FFF0).isEmpty)
        #expect(scanner.groupName(0x7FFF_FFF0).isEmpty)
        #expect(scanner.userName(0) == Array("root".utf8))
        if getuid() == 0 {
            #expect(chown(dir + "/f", 0x7FFF_FFF0, 0x7FFF_FFF1) == 0)
            let (m, _) = try #require(ScanFS.entry(dir, Array("f".utf8), scanner: scanner))
            #expect(m.uid == 0x7FFF_FFF0 && m.gid == 0x7FFF_FFF1 && m.user.isEmpty && m.group.isEmpty)
        }
    }

    @Test(arguments: [true, false]) func fifoIsCapturedWithoutOpening(atCalls: Bool) throws {
        let dir = T.scratch("scan")
        #expect(mkfifo(dir + "/pipe", 0o640) == 0)
        // No reader or writer ever opens the FIFO: opening it for reading would block here.
        let (m, notes) = try #require(ScanFS.entry(dir, "pipe", atCalls: atCalls))
        #expect(m.type == .fifo && m.mode == 0o640 && m.size == 0 && m.rdev == 0)
        #expect(notes.isEmpty)
    }

    @Test(.enabled(if: ScanFS.canMakeDevices, "making device nodes needs root with CAP_MKNOD"))
    func deviceNodes() throws {
        let dir = T.scratch("scan")
        #expect(mknod(dir + "/null", S_IFCHR | 0o666, ScanFS.makedev(1, 3)) == 0)
        #expect(mknod(dir + "/loop", S_IFBLK | 0o660, ScanFS.makedev(7, 300)) == 0)
        #expect(chmod(dir + "/null", 0o666) == 0 && chmod(dir + "/loop", 0o660) == 0)  // past the umask
        let (c, _) = try #require(ScanFS.entry(dir, "null"))
        #expect(c.type == .charDevice && c.rdev == UInt64(ScanFS.makedev(1, 3)) && c.mode == 0o666)
        let (b, _) = try #require(ScanFS.entry(dir, "loop"))
        #expect(b.type == .blockDevice && b.rdev == UInt64(ScanFS.makedev(7, 300)) && b.mode == 0o660)
        var e = VersionEntry(type: .file, path: "root/loop", mode: 0, mtimeSeconds: 0, mtimeNanoseconds: 0, size: 0)
        b.apply(to: &e)
        #expect(e.type == .blockDevice && e.rdev == b.rdev)
    }

    @Test func socketIsSkippedWithANote() throws {
        let dir = T.scratch("scan")
        // mknod makes a socket file without binding one (no privilege needed).
        #expect(mknod(dir + "/sock", S_IFSOCK | 0o600, 0) == 0)
        let fd = ScanFS.openFolder(dir)
        defer { close(fd) }
        guard case .skipped(let reason) = MetadataScanner().capture(in: fd, name: Array("sock".utf8)) else {
            Issue.record("a socket was not skipped")
            return
        }
        #expect(reason.contains("socket"))
        guard case .unreadable = MetadataScanner().capture(in: fd, name: Array("missing".utf8)) else {
            Issue.record("a missing entry was not unreadable")
            return
        }
    }

    @Test(arguments: [true, false]) func namesAndLinkTargetsAreExactBytes(atCalls: Bool) throws {
        let dir = T.scratch("scan")
        let name: [UInt8] = [0x66, 0xFF, 0xFE, 0x0A, 0xC3]  // not UTF-8, with a newline
        let fd = open(ScanFS.cpath(dir, name), O_WRONLY | O_CREAT | O_EXCL, 0o600)
        #expect(fd >= 0)
        close(fd)
        let target: [UInt8] = [0x80, 0x2F, 0xC3, 0x28, 0x20, 0xED, 0xA0, 0x80]
        let linkName: [UInt8] = [0x6C, 0xE9]  // Latin-1 "lé"
        #expect(symlink(target.map { CChar(bitPattern: $0) } + [0], ScanFS.cpath(dir, linkName)) == 0)
        let (f, _) = try #require(ScanFS.entry(dir, name, scanner: ScanFS.scanner(atCalls)))
        #expect(f.type == .file && f.mode == 0o600)
        let (l, notes) = try #require(ScanFS.entry(dir, linkName, scanner: ScanFS.scanner(atCalls)))
        #expect(l.type == .symlink && l.linkTarget == target && l.size == UInt64(target.count))
        #expect(notes.isEmpty)
        var e = VersionEntry(type: .file, pathBytes: Array("root/".utf8) + linkName, mode: 0, mtimeSeconds: 0, mtimeNanoseconds: 0, size: 0)
        l.apply(to: &e)
        #expect(e.type == .symlink && e.linkTargetBytes == target && e.size == UInt64(target.count))

        // A target longer than the first buffer (the read grows until it fits): ext4 allows 4,095 bytes.
        let long = (0..<4000).map { UInt8(0x41 + $0 % 26) }
        #expect(symlink(long.map { CChar(bitPattern: $0) } + [0], dir + "/long") == 0)
        let (ll, _) = try #require(ScanFS.entry(dir, "long", atCalls: atCalls))
        #expect(ll.linkTarget == long)
        // The same without extended attributes (by name, not through a descriptor).
        let (lx, _) = try #require(ScanFS.entry(dir, Array("long".utf8), scanner: MetadataScanner(extendedAttributes: false)))
        #expect(lx.linkTarget == long && lx.inode == ll.inode && lx.mode == ll.mode)

        // A name that is not one component is refused.
        let dfd = ScanFS.openFolder(dir)
        defer { close(dfd) }
        for bad: [UInt8] in [[], Array("a/b".utf8), [0x61, 0]] {
            guard case .unreadable = MetadataScanner().capture(in: dfd, name: bad) else { Issue.record("\(bad) accepted"); continue }
        }
    }

    @Test func linkReadDoesNotTrustTheSizeHint() {
        let dir = T.scratch("scan")
        let target = [UInt8](repeating: 0x61, count: 3000)
        #expect(symlink(target.map { CChar(bitPattern: $0) } + [0], dir + "/l") == 0)
        let fd = ScanFS.openFolder(dir)
        defer { close(fd) }
        // A wrong size hint (0: links on some file systems report st_size 0) still reads it whole.
        let r = MetadataScanner.readLink(fd, Array("l".utf8CString), expected: 0)
        #expect((try? r.get()) == target)
    }

    @Test(arguments: [true, false]) func userExtendedAttributesWithBinaryValuesAndNames(atCalls: Bool) throws {
        let dir = T.scratch("scan")
        T.write(dir + "/f", [1, 2, 3])
        let attrs: [([UInt8], [UInt8])] = [
            (Array("user.zeta".utf8), [0, 1, 2, 0xFF, 0]),
            (Array("user.alpha".utf8), []),
            (Array("user.".utf8) + [0xFF, 0xFE, 0x80], Array("not UTF-8 name".utf8)),
            (Array("user.big".utf8), (0..<3000).map { UInt8(truncatingIfNeeded: $0 * 7) }),
        ]
        for (n, v) in attrs {
            let rc = ScanFS.setXattr(dir + "/f", n, v)
            try #require(rc == 0, "setxattr: \(String(cString: strerror(errno)))")
        }
        let scanner = ScanFS.scanner(atCalls)
        let (m, notes) = try #require(ScanFS.entry(dir, Array("f".utf8), scanner: scanner))
        #expect(notes.isEmpty)
        // The way asked for was the way taken (the *xattrat calls where this kernel has them).
        let kernelHasAtCalls = coffer_listxattrat(AT_FDCWD, "/", nil, 0) >= 0 || errno != ENOSYS
        #expect(scanner.usesXattrAtCalls == (atCalls && kernelHasAtCalls))
        let user = m.xattrs.filter { $0.name.starts(with: Array("user.".utf8)) }
        #expect(user.map(\.name) == attrs.map(\.0).sorted { $0.lexicographicallyPrecedes($1) })
        for (n, v) in attrs { #expect(user.first { $0.name == n }?.value == v) }
        // Sorted by name bytes across namespaces.
        #expect(m.xattrs.map(\.name) == m.xattrs.map(\.name).sorted { $0.lexicographicallyPrecedes($1) })
        // Turned off: none read.
        let (plain, _) = try #require(ScanFS.entry(dir, Array("f".utf8), scanner: MetadataScanner(extendedAttributes: false)))
        #expect(plain.xattrs.isEmpty && plain.inode == m.inode)
    }

    @Test(.enabled(if: getuid() == 0, "trusted.* attributes need root"), arguments: [true, false])
    func symlinkAttributesAreTheLinksOwn(atCalls: Bool) throws {
        let dir = T.scratch("scan")
        T.write(dir + "/target", [1])
        #expect(symlink("target", dir + "/link") == 0)
        #expect(ScanFS.setXattr(dir + "/target", Array("trusted.of-target".utf8), [1]) == 0)
        try #require(ScanFS.setXattr(dir + "/link", Array("trusted.of-link".utf8), [2, 0], follow: false) == 0)
        let (l, _) = try #require(ScanFS.entry(dir, "link", atCalls: atCalls))
        #expect(l.type == .symlink)
        #expect(l.xattrs == [ExtendedAttribute(name: Array("trusted.of-link".utf8), value: [2, 0])])
        let (t, _) = try #require(ScanFS.entry(dir, "target", atCalls: atCalls))
        #expect(t.xattrs == [ExtendedAttribute(name: Array("trusted.of-target".utf8), value: [1])])
    }

    @Test(arguments: [true, false]) func accessControlListsAreRawAttributes(atCalls: Bool) throws {
        let dir = T.scratch("scan")
        T.write(dir + "/f", [1])
        mkdir(dir + "/d", 0o755)
        let access = Array("system.posix_acl_access".utf8)
        let defaults = Array("system.posix_acl_default".utf8)
        if ScanFS.hasSetfacl {
            _ = try ScanFS.run("/usr/bin/setfacl", ["-m", "u:65534:r", dir + "/f"])
            _ = try ScanFS.run("/usr/bin/setfacl", ["-d", "-m", "g:65534:rx", dir + "/d"])
        } else {
            // No setfacl here: the same ACLs, set as the kernel's xattr encoding (version 2, then
            // tag u16 || perm u16 || id u32 per entry), which the kernel checks.
            func acl(_ entries: [(UInt16, UInt16, UInt32)]) -> [UInt8] {
                var w = ByteWriter()
                w.u32(2)
                for (tag, perm, id) in entries { w.u16(tag); w.u16(perm); w.u32(id) }
                return w.bytes
            }
            let any = UInt32.max
            let rc1 = ScanFS.setXattr(dir + "/f", access, acl([(0x01, 6, any), (0x02, 4, 65534), (0x04, 4, any), (0x10, 4, any), (0x20, 4, any)]))
            try #require(rc1 == 0, "ACL: \(String(cString: strerror(errno)))")
            let rc2 = ScanFS.setXattr(dir + "/d", defaults, acl([(0x01, 7, any), (0x04, 5, any), (0x08, 5, 65534), (0x10, 5, any), (0x20, 5, any)]))
            try #require(rc2 == 0, "default ACL: \(String(cString: strerror(errno)))")
        }
        let (f, _) = try #require(ScanFS.entry(dir, "f", atCalls: atCalls))
        let fACL = try #require(f.xattrs.first { $0.name == access })
        #expect(fACL.value == ScanFS.xattr(dir + "/f", access))
        #expect(fACL.value.count == 4 + 5 * 8)
        let (d, _) = try #require(ScanFS.entry(dir, "d", atCalls: atCalls))
        let dACL = try #require(d.xattrs.first { $0.name == defaults })
        #expect(dACL.value == ScanFS.xattr(dir + "/d", defaults))
    }

    @Test(arguments: [true, false]) func hardlinksAfterTheFirstNameNameIt(atCalls: Bool) throws {
        let dir = T.scratch("scan")
        mkdir(dir + "/sub", 0o755)
        T.write(dir + "/b", Array("shared".utf8))
        #expect(link(dir + "/b", dir + "/a") == 0)
        #expect(link(dir + "/b", dir + "/sub/c") == 0)
        #expect(mkfifo(dir + "/p", 0o600) == 0)
        #expect(link(dir + "/p", dir + "/sub/q") == 0)
        T.write(dir + "/single", [1])
        #expect(symlink("b", dir + "/s") == 0)
        #expect(link(dir + "/s", dir + "/sub/s2") == 0)  // a hard-linked symbolic link is stored twice

        // Depth-first, names sorted (bytes), as the walk goes.
        var tracker = HardlinkTracker()
        var stored: [(path: String, type: EntryType, first: [UInt8]?)] = []
        func visit(_ folder: String, _ relative: String) throws {
            let names = try FileManager.default.contentsOfDirectory(atPath: folder).map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
            for n in names {
                let (m, _) = try #require(ScanFS.entry(folder, n, scanner: ScanFS.scanner(atCalls)))
                let path = relative + "/" + String(decoding: n, as: UTF8.self)
                let first = tracker.firstPath(of: m, at: Array(path.utf8))
                stored.append((path, first == nil ? m.type : .hardlink, first))
                if m.type == .directory { try visit(folder + "/" + String(decoding: n, as: UTF8.self), path) }
            }
        }
        try visit(dir, "root")
        let byPath = Dictionary(uniqueKeysWithValues: stored.map { ($0.path, $0) })
        #expect(byPath["root/a"]?.type == .file && byPath["root/a"]?.first == nil)
        #expect(byPath["root/b"]?.type == .hardlink && byPath["root/b"]?.first == Array("root/a".utf8))
        #expect(byPath["root/sub/c"]?.type == .hardlink && byPath["root/sub/c"]?.first == Array("root/a".utf8))
        #expect(byPath["root/p"]?.type == .fifo)
        #expect(byPath["root/sub/q"]?.type == .hardlink && byPath["root/sub/q"]?.first == Array("root/p".utf8))
        #expect(byPath["root/single"]?.type == .file && byPath["root/s"]?.type == .symlink && byPath["root/sub/s2"]?.type == .symlink)
        #expect(byPath["root/sub"]?.type == .directory)
        #expect(stored.filter { $0.type == .hardlink }.count == 3)
        // Every name of both inodes was seen: nothing is remembered any more.
        #expect(tracker.count == 0)

        // An inode whose first name could not be stored is forgotten: its next name is stored in full.
        var t2 = HardlinkTracker()
        let (m, _) = try #require(ScanFS.entry(dir, "a", atCalls: atCalls))
        #expect(t2.firstPath(of: m, at: Array("x/a".utf8)) == nil)
        t2.forget(m)
        #expect(t2.firstPath(of: m, at: Array("x/b".utf8)) == nil)
        #expect(t2.firstPath(of: m, at: Array("x/c".utf8)) == Array("x/b".utf8))
    }

    @Test(arguments: [true, false]) func extendedAttributeCountBound(atCalls: Bool) throws {
        // ext4 keeps an inode's attributes in one block; tmpfs takes 1,030 of them (and a 64 KiB value).
        var template = Array("/dev/shm/coffer-scan-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            Issue.record("no /dev/shm here: \(String(cString: strerror(errno)))")
            return
        }
        let dir = String(cString: made)
        defer { T.removeTree(dir) }
        T.write(dir + "/f", [1])
        let big = (0..<65_536).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try #require(ScanFS.setXattr(dir + "/f", Array("user.big".utf8), big) == 0, "tmpfs without user xattrs: \(String(cString: strerror(errno)))")
        for k in 0..<1_030 {
            let rc = ScanFS.setXattr(dir + "/f", Array("user.a\(1000 + k)".utf8), [UInt8(k & 0xFF)])
            try #require(rc == 0, "setxattr \(k): \(String(cString: strerror(errno)))")
        }
        let (m, notes) = try #require(ScanFS.entry(dir, "f", atCalls: atCalls))
        // The first 1,024 names in byte order are kept: user.a1000 ... user.a2023; user.big and 6 others are not.
        #expect(m.xattrs.count == 1_024)
        #expect(m.xattrs.first?.name == Array("user.a1000".utf8) && m.xattrs.last?.name == Array("user.a2023".utf8))
        #expect(m.xattrs[5].value == [5])
        #expect(notes == ["7 extended attributes not stored: more than 1024 on one entry"])
        // A value of exactly 64 KiB is kept whole.
        #expect(ScanFS.setXattr(dir + "/f", Array("user.a1000".utf8), big) == 0)
        let (m2, _) = try #require(ScanFS.entry(dir, "f", atCalls: atCalls))
        #expect(m2.xattrs.first?.value == big)
    }

    @Test func formatOneRefusesTheNewTypes() throws {
        let dir = VersionEntry(type: .directory, path: "a", mode: 0o755, mtimeSeconds: 1, mtimeNanoseconds: 0, size: 0)
        let body = Version(
            name: "n", time: Date(timeIntervalSince1970: 1), host: "h", tags: [], paths: ["/a"], parent: nil, stats: VersionStats(),
            notes: [], v1Entries: [dir]).encode()
        #expect(try Version.decode(body).v1Entries == [dir])
        // The directory entry is the body's last 30 bytes: type || str "a" || mode || mtime || ns || size.
        for type: UInt8 in 5...8 {
            var crafted = body
            crafted[crafted.count - 30] = type
            #expect(throws: FormatError.self) { try Version.decode(crafted) }
        }
    }
}
