@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// Format 2: what the seal captures through the metadata scanner (owners, modes, times,
/// extended attributes and ACLs, fifos, devices, sockets), hard links and sparse files, read back
/// through the walker.
@Suite struct MetadataSealTests {
    static func find(_ all: [VersionEntry], _ p: [UInt8]) -> VersionEntry? { all.first { $0.pathBytes == p } }
    static func find(_ all: [VersionEntry], _ p: String) -> VersionEntry? { find(all, Array(p.utf8)) }

    static func name(_ bytes: UnsafeMutablePointer<CChar>?) -> [UInt8] {
        bytes.map { Array(UnsafeRawBufferPointer(start: $0, count: strlen($0))) } ?? []
    }

    /// The kernel's POSIX ACL xattr encoding (version 2, then tag u16 || perm u16 || id u32 per entry).
    static func acl(_ entries: [(UInt16, UInt16, UInt32)]) -> [UInt8] {
        var w = ByteWriter()
        w.u32(2)
        for (tag, perm, id) in entries { w.u16(tag); w.u16(perm); w.u32(id) }
        return w.bytes
    }

    @Test func everyMetadataKindRoundTrips() throws {
        let f = try TreeTests.vault2()
        let dir = T.scratch("meta") + "/top"
        try FileManager.default.createDirectory(atPath: dir + "/sticky", withIntermediateDirectories: true)
        T.write(dir + "/setuid", Array("x".utf8))
        T.write(dir + "/attrs", Array("with attributes".utf8))
        #expect(chmod(dir + "/setuid", 0o4755) == 0)
        #expect(chmod(dir + "/sticky", 0o1777) == 0)
        mkdir(dir + "/setgid-dir", 0o755)
        #expect(chmod(dir + "/setgid-dir", 0o2775) == 0)
        #expect(mkfifo(dir + "/pipe", 0o640) == 0)

        // Extended attributes: a binary value (NUL and 0xFF), an empty value, a name that is not UTF-8, an ACL.
        let binary: [UInt8] = [0, 1, 2, 0xFF, 0, 0x80]
        let rawName: [UInt8] = Array("user.".utf8) + [0xFF, 0xFE, 0x01]
        let access = Array("system.posix_acl_access".utf8)
        let aclValue = Self.acl([(0x01, 6, UInt32.max), (0x02, 4, 65534), (0x04, 4, UInt32.max), (0x10, 4, UInt32.max), (0x20, 4, UInt32.max)])
        try #require(ScanFS.setXattr(dir + "/attrs", Array("user.binary".utf8), binary) == 0, "setxattr: \(String(cString: strerror(errno)))")
        #expect(ScanFS.setXattr(dir + "/attrs", Array("user.empty".utf8), []) == 0)
        #expect(ScanFS.setXattr(dir + "/attrs", rawName, Array("raw".utf8)) == 0)
        #expect(ScanFS.setXattr(dir + "/attrs", access, aclValue) == 0, "ACL: \(String(cString: strerror(errno)))")
        let storedACL = try #require(ScanFS.xattr(dir + "/attrs", access))
        #expect(ScanFS.setXattr(dir + "/sticky", Array("user.on-a-folder".utf8), [7]) == 0)

        // Nanosecond times.
        var times = [timespec(tv_sec: 1_700_000_000, tv_nsec: 123_456_789), timespec(tv_sec: 1_700_000_001, tv_nsec: 987_654_321)]
        #expect(utimensat(AT_FDCWD, dir + "/setuid", &times, AT_SYMLINK_NOFOLLOW) == 0)

        // A socket (mknod makes one without binding), under a name that is not UTF-8.
        let sockName: [UInt8] = Array("so".utf8) + [0xFF] + Array("ck".utf8)
        #expect((Array(dir.utf8) + [0x2F] + sockName).withNulTerminated { mknod($0, S_IFSOCK | 0o600, 0) } == 0)

        // Owners: another user's names, and an id without a name (root only); devices (root only).
        let root = getuid() == 0
        if root {
            T.write(dir + "/nobodys", [1])
            T.write(dir + "/nameless", [2])
            #expect(chown(dir + "/nobodys", 65534, 65534) == 0)
            #expect(chown(dir + "/nameless", 54_321, 54_322) == 0)
        }
        if ScanFS.canMakeDevices {
            #expect(mknod(dir + "/null", S_IFCHR | 0o666, ScanFS.makedev(1, 3)) == 0)
            #expect(mknod(dir + "/loop", S_IFBLK | 0o660, ScanFS.makedev(7, 300)) == 0)
            #expect(chmod(dir + "/null", 0o666) == 0 && chmod(dir + "/loop", 0o660) == 0)  // past the umask
        }

        let r = try f.vault.seal([dir])
        let all = try TreeTests.entries(try f.reopen(), r.id)

        let setuid = try #require(Self.find(all, "top/setuid"))
        #expect(setuid.mode == 0o4755)
        #expect(setuid.mtimeSeconds == 1_700_000_001 && setuid.mtimeNanoseconds == 987_654_321)
        var st = stat()
        #expect(lstat(dir + "/setuid", &st) == 0)
        #expect(setuid.ctimeSeconds == Int64(st.st_ctim.tv_sec) && setuid.ctimeNanoseconds == UInt32(st.st_ctim.tv_nsec))
        #expect(setuid.inode == UInt64(st.st_ino) && setuid.device == UInt64(st.st_dev))
        #expect(Self.find(all, "top/sticky")?.mode == 0o1777)
        #expect(Self.find(all, "top/sticky")?.xattrs == [ExtendedAttribute(name: Array("user.on-a-folder".utf8), value: [7])])
        #expect(Self.find(all, "top/setgid-dir")?.mode == 0o2775)
        #expect(Self.find(all, "top/pipe")?.type == .fifo)
        #expect(Self.find(all, "top/pipe")?.mode == 0o640)

        // Owners: ids and the names this machine gives them.
        let me = try #require(getpwuid(getuid()))
        let myGroup = try #require(getgrgid(getgid()))
        #expect(setuid.uid == getuid() && setuid.gid == getgid())
        #expect(setuid.user == Self.name(me.pointee.pw_name))
        #expect(setuid.group == Self.name(myGroup.pointee.gr_name))
        #expect(!setuid.user.isEmpty)

        let attrs = try #require(Self.find(all, "top/attrs"))
        #expect(attrs.xattrs.map(\.name) == [access, Array("user.binary".utf8), Array("user.empty".utf8), rawName].sorted { $0.lexicographicallyPrecedes($1) })
        #expect(attrs.xattrs.first { $0.name == Array("user.binary".utf8) }?.value == binary)
        #expect(attrs.xattrs.first { $0.name == Array("user.empty".utf8) }?.value == [])
        #expect(attrs.xattrs.first { $0.name == rawName }?.value == Array("raw".utf8))
        #expect(attrs.xattrs.first { $0.name == access }?.value == storedACL)
        #expect(try TreeTests.content(f.vault, attrs) == Array("with attributes".utf8))

        // The socket: not stored, a note naming its escaped path.
        #expect(Self.find(all, Array("top/".utf8) + sockName) == nil)
        let escaped = TerminalText.escape(bytes: Array("top/".utf8) + sockName)
        #expect(r.version.notes.contains { $0.hasPrefix(escaped + ": ") && $0.contains("socket") }, "\(r.version.notes)")
        #expect(!escaped.contains("\u{FFFD}"))
        #expect(r.unreadable.isEmpty)

        if root {
            let nobody = try #require(Self.find(all, "top/nobodys"))
            #expect(nobody.uid == 65534 && nobody.gid == 65534)
            #expect(nobody.user == Self.name(getpwuid(65534)?.pointee.pw_name))
            #expect(nobody.group == Self.name(getgrgid(65534)?.pointee.gr_name))
            #expect(!nobody.user.isEmpty)
            let nameless = try #require(Self.find(all, "top/nameless"))
            #expect(nameless.uid == 54_321 && nameless.gid == 54_322)
            #expect(nameless.user.isEmpty && nameless.group.isEmpty)
        }
        if ScanFS.canMakeDevices {
            let null = try #require(Self.find(all, "top/null"))
            #expect(null.type == .charDevice && null.rdev == UInt64(ScanFS.makedev(1, 3)) && null.mode == 0o666)
            let loop = try #require(Self.find(all, "top/loop"))
            #expect(loop.type == .blockDevice && loop.rdev == UInt64(ScanFS.makedev(7, 300)) && loop.mode == 0o660)
            #expect(r.version.stats.specialFiles == 3)
        } else {
            #expect(r.version.stats.specialFiles == 1)
        }

        // An unchanged re-seal takes the metadata fresh: a changed attribute shows (its ctime moved too).
        #expect(ScanFS.setXattr(dir + "/attrs", Array("user.binary".utf8), [9]) == 0)
        let r2 = try f.vault.seal([dir])
        let all2 = try TreeTests.entries(f.vault, r2.id)
        #expect(Self.find(all2, "top/attrs")?.xattrs.first { $0.name == Array("user.binary".utf8) }?.value == [9])
        #expect(Self.find(all2, "top/setuid")?.chunks == setuid.chunks)
    }

    @Test func hardLinksBecomeHardlinkEntriesNamingTheFirstPath() throws {
        let f = try TreeTests.vault2()
        let dir = T.scratch("links") + "/top"
        for d in ["a", "b", "c"] { try FileManager.default.createDirectory(atPath: dir + "/" + d, withIntermediateDirectories: true) }
        let content = T.bytes(300_000, seed: 7)
        T.write(dir + "/b/first", content)
        #expect(link(dir + "/b/first", dir + "/c/third") == 0)
        #expect(link(dir + "/b/first", dir + "/a/zz-not-first-in-creation") == 0)
        #expect(mkfifo(dir + "/p1", 0o600) == 0)
        #expect(link(dir + "/p1", dir + "/p2") == 0)
        T.write(dir + "/single", [1, 2, 3])

        let r = try f.vault.seal([dir])
        let all = try TreeTests.entries(f.vault, r.id)
        // The first name in walk order is the full entry, whichever was created first.
        let first = try #require(Self.find(all, "top/a/zz-not-first-in-creation"))
        #expect(first.type == .file)
        #expect(first.sha256 == SHA256.hash(content))
        #expect(try TreeTests.content(f.vault, first) == content)
        for p in ["top/b/first", "top/c/third"] {
            let h = try #require(Self.find(all, p))
            #expect(h.type == .hardlink)
            #expect(h.hardlinkTargetBytes == Array("top/a/zz-not-first-in-creation".utf8))
            #expect(h.chunks.isEmpty)
            #expect(h.inode == first.inode && h.size == first.size && h.mode == first.mode && h.uid == first.uid)
        }
        #expect(Self.find(all, "top/p1")?.type == .fifo)
        #expect(Self.find(all, "top/p2")?.type == .hardlink)
        #expect(Self.find(all, "top/p2")?.hardlinkTargetBytes == Array("top/p1".utf8))
        #expect(Self.find(all, "top/single")?.type == .file)
        #expect(all.filter { $0.type == .file }.count == 2)
        #expect(all.filter { $0.type == .hardlink }.count == 3)
        #expect(r.version.stats.hardlinks == 3)
        #expect(r.version.stats.files == 2)
        #expect(r.version.stats.bytesRead == 300_003)

        // Unchanged: nothing read, no piece written, the same entries.
        let r2 = try f.vault.seal([dir])
        #expect(r2.version.stats.unchangedFiles == 2)
        #expect(r2.version.stats.bytesRead == 0)
        #expect(r2.version.stats.hardlinks == 3)
        #expect(r2.version.stats.addedTreePieces == 0)
        #expect(r2.version.rootTree == r.version.rootTree)

        // Restored, the names share one inode again.
        let out = T.scratch("links-out")
        _ = try f.vault.restore(r.id, to: out)
        var a = stat(), b = stat(), c = stat()
        #expect(lstat(out + "/top/a/zz-not-first-in-creation", &a) == 0 && lstat(out + "/top/b/first", &b) == 0 && lstat(out + "/top/c/third", &c) == 0)
        #expect(a.st_ino == b.st_ino && b.st_ino == c.st_ino && a.st_nlink == 3)
        #expect(T.read(out + "/top/c/third") == content)
    }

    @Test func sparseFileIsStoredWithItsHolesAndReadOnlyWhereItHasData() throws {
        let f = try TreeTests.vault2()
        let dir = T.scratch("holes") + "/top"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let (path, data) = SparseTests.sparseFile(dir)
        let fd = open(path, O_RDONLY)
        let map = try SparseMap.map(fd)
        close(fd)
        try #require(map.data == data, "this file system does not report the written regions as data")
        let dataBytes = data.reduce(UInt64(0)) { $0 + UInt64($1.count) }

        let r = try f.vault.seal([dir])
        let e = try #require(Self.find(try TreeTests.entries(f.reopen(), r.id), "top/sparse"))
        #expect(e.size == 64 << 20)
        #expect(e.holes == map.holes)
        #expect(e.holes.count == 3)
        #expect(r.version.stats.bytesRead == dataBytes)
        #expect(e.sha256.map { String(format: "%02x", $0) }.joined() == (try SparseTests.sha256sum(path)))

        // Restored content is identical.
        let out = T.scratch("holes-out")
        _ = try f.vault.restore(r.id, to: out)
        _ = try ScanFS.run("/usr/bin/cmp", [path, out + "/top/sparse"])

        // Unchanged: the parent's holes carried over, nothing read.
        let r2 = try f.vault.seal([dir])
        let e2 = try #require(Self.find(try TreeTests.entries(f.vault, r2.id), "top/sparse"))
        #expect(r2.version.stats.bytesRead == 0)
        #expect(r2.version.stats.unchangedFiles == 1)
        #expect(e2.holes == e.holes && e2.chunks == e.chunks && e2.sha256 == e.sha256)
    }

    @Test func formatOneSealReadsHolesAsZerosAndRecordsNone() throws {
        let f = try T.vault(T.cheap, format: 1)
        #expect(f.vault.format == 1)
        let dir = T.scratch("holes1") + "/top"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let (path, _) = SparseTests.sparseFile(dir)
        let r = try f.vault.seal([dir])
        #expect(r.version.rootTree == nil)
        #expect(r.version.stats.bytesRead == 64 << 20)
        let e = try #require(Self.find(try TreeTests.entries(f.vault, r.id), "top/sparse"))
        #expect(e.holes.isEmpty)
        #expect(e.sha256.map { String(format: "%02x", $0) }.joined() == (try SparseTests.sha256sum(path)))
    }
}
