@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// Restore reads the version as a stream: bounded batches, raw-byte names, and the entry kinds
/// of format 2 (hard links, named pipes, devices, holes) through hand-built walks.
@Suite struct StreamingRestoreTests {
    private static let someVersion = ObjectID.hashing(Array("hand-built".utf8))

    private static func lstatMode(_ path: [UInt8]) -> mode_t? {
        var st = stat()
        return path.withCName { lstat($0, &st) } == 0 ? st.st_mode : nil
    }

    /// A vault holding `src/payload` ("payload"), and its entry (real chunks for hand-built walks).
    private static func payload() throws -> (T.Fixture, VersionEntry) {
        let f = try T.vault()
        T.write(f.root + "/src/payload", Array("payload".utf8))
        let id = try f.vault.seal([f.root + "/src"]).id
        let w = try f.vault.walker(for: id)
        while let e = try w.next() { if e.type == .file { return (f, e) } }
        throw CofferError.pathNotInVersion(path: "src/payload", version: id.short)
    }

    /// 6,000 entries restored while the walk is checked: whenever an entry is pulled in the
    /// writing pass, every file pulled more than two batches earlier is already on disk, so the
    /// restore never holds more than a batch or two of the listing.
    @Test func restoreWritesInBoundedBatchesAsTheWalkGoes() throws {
        let f = try T.vault()
        let target = f.root + "/restore"
        let folders = 6, files = 1000
        var passes: [GeneratedSource] = []
        var late: [String] = []
        let bound = 2 * RestoreRun.batchFiles + 8
        let result = try f.vault.restore(Self.someVersion, to: target, options: RestoreOptions()) {
            let source = GeneratedSource(folders: folders, files: files)
            passes.append(source)
            if passes.count == 3 {
                // The writing pass (after the selection and the no-overwrite checks).
                var pulledFiles: [String] = []
                source.onPull = { _, e in
                    guard e.type == .file else { return }
                    pulledFiles.append(e.path)
                    if pulledFiles.count > bound, late.count < 3 {
                        let earlier = pulledFiles[pulledFiles.count - bound - 1]
                        if access(target + "/" + earlier, F_OK) != 0 { late.append(earlier) }
                    }
                }
            }
            return .handBuilt(source)
        }
        #expect(passes.count == 3)
        #expect(late.isEmpty, "pulled more than \(bound) files ahead of the writes: \(late)")
        #expect(result.files == folders * files)
        #expect(result.directories == folders + 1)
        #expect(access(target + "/big/d005/f00999", F_OK) == 0)
        #expect(passes.allSatisfy { $0.pulled == 1 + folders * (1 + files) })
    }

    /// Names and link targets that are not UTF-8 are written with their exact bytes.
    @Test func rawByteNamesAndLinkTargetsRestoreExactly() throws {
        let (f, payload) = try Self.payload()
        let target = f.root + "/restore"
        var file = payload
        file.pathBytes = Array("r/caf".utf8) + [0xE9] + Array(".txt".utf8)  // Latin-1 é
        var link = VersionEntry.raw(.symlink, Array("r/l".utf8) + [0xFF], mode: 0o777)
        link.linkTargetBytes = [0x2E, 0x2E, 0x2F, 0xFE, 0x01]
        let entries = [VersionEntry.raw(.directory, Array("r".utf8), mode: 0o750), file, link]
        try f.vault.restore(Self.someVersion, to: target, options: RestoreOptions()) { .handBuilt(ListSource(entries)) }
        let filePath = Array((target + "/").utf8) + file.pathBytes
        let content = filePath.withCName { p -> [UInt8]? in
            let fd = open(p, O_RDONLY)
            guard fd >= 0 else { return nil }
            defer { close(fd) }
            var b = [UInt8](repeating: 0, count: 64)
            let n = read(fd, &b, 64)
            return Array(b.prefix(max(0, n)))
        }
        #expect(content == Array("payload".utf8))
        var buffer = [CChar](repeating: 0, count: 64)
        let n = (Array((target + "/").utf8) + link.pathBytes).withCName { readlink($0, &buffer, 64) }
        #expect(n == 5 && buffer.prefix(5).map { UInt8(bitPattern: $0) } == link.linkTargetBytes)
        #expect(Self.lstatMode(Array((target + "/r").utf8)).map { $0 & 0o7777 } == 0o750)
    }

    /// Hard links become hard links of their first name; named pipes are made with their mode;
    /// a device is made as root, else noted. Restoring only a hard link writes its first name's
    /// content at its place, and a second hard link to the same first name is linked to it.
    @Test func hardLinksPipesAndDevices() throws {
        let (f, payload) = try Self.payload()
        var a = payload
        a.path = "t/a"
        var b = VersionEntry.raw(.hardlink, Array("t/b".utf8), size: payload.size)
        b.hardlinkTargetBytes = Array("t/a".utf8)
        let pipe = VersionEntry.raw(.fifo, Array("t/p".utf8), mode: 0o640)
        var dev = VersionEntry.raw(.charDevice, Array("t/z".utf8), mode: 0o600)
        dev.rdev = (1 << 8) | 3  // 1:3, /dev/null
        var c = VersionEntry.raw(.hardlink, Array("u/c".utf8), size: payload.size)
        c.hardlinkTargetBytes = Array("t/a".utf8)
        let entries = [VersionEntry.raw(.directory, Array("t".utf8), mode: 0o755), a, b, pipe, dev,
                       VersionEntry.raw(.directory, Array("u".utf8), mode: 0o755), c]

        let all = f.root + "/all"
        let result = try f.vault.restore(Self.someVersion, to: all, options: RestoreOptions()) { .handBuilt(ListSource(entries)) }
        var sa = stat(), sb = stat(), sc = stat(), sp = stat()
        #expect(lstat(all + "/t/a", &sa) == 0 && lstat(all + "/t/b", &sb) == 0 && lstat(all + "/u/c", &sc) == 0)
        #expect(sa.st_ino == sb.st_ino && sa.st_ino == sc.st_ino && sa.st_nlink == 3, "one inode, three names")
        #expect(T.read(all + "/t/b") == Array("payload".utf8))
        #expect(lstat(all + "/t/p", &sp) == 0 && sp.st_mode & S_IFMT == S_IFIFO && sp.st_mode & 0o7777 == 0o640)
        #expect(result.hardlinks == 2)
        if geteuid() == 0 {
            var sz = stat()
            #expect(lstat(all + "/t/z", &sz) == 0 && sz.st_mode & S_IFMT == S_IFCHR && sz.st_rdev == dev.rdev)
            #expect(result.specialFiles == 2)
        } else {
            #expect(access(all + "/t/z", F_OK) != 0)
            #expect(result.notes.count == 1 && result.notes[0].contains("1:3 not restored: making a device needs root"))
            #expect(result.specialFiles == 1)
        }

        // Only the hard links: the first name is not selected, its content goes to t/b, u/c links to t/b.
        let some = f.root + "/some"
        var options = RestoreOptions()
        options.include = ["t/b", "u"]
        try f.vault.restore(Self.someVersion, to: some, options: options) { .handBuilt(ListSource(entries)) }
        #expect(access(some + "/t/a", F_OK) != 0)
        #expect(T.read(some + "/t/b") == Array("payload".utf8))
        var s1 = stat(), s2 = stat()
        #expect(lstat(some + "/t/b", &s1) == 0 && lstat(some + "/u/c", &s2) == 0 && s1.st_ino == s2.st_ino)
    }

    /// The per-entry functions stay in the target: a hard link whose first name lies behind a
    /// link planted in the target is refused; a pipe replaces a file only through a rename.
    @Test func perEntryFunctionsStayInTheTarget() throws {
        let root = T.scratch("special")
        let outside = root + "/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        T.write(outside + "/secret", Array("s".utf8))
        let folder = try RestoreFolder(path: root + "/t", force: false)
        symlink(outside, root + "/t/planted")
        var h = VersionEntry.raw(.hardlink, Array("h".utf8))
        h.hardlinkTargetBytes = Array("planted/secret".utf8)
        #expect(throws: CofferError.self) {
            try Restorer.makeHardlink(h, at: RelativePath("h")!, versionFolders: 0, to: RelativePath("planted/secret")!, target: folder)
        }
        #expect(access(root + "/t/h", F_OK) != 0)
        // A first name that is missing: a note, nothing made.
        let note = try Restorer.makeHardlink(h, at: RelativePath("h")!, versionFolders: 0, to: RelativePath("gone")!, target: folder)
        #expect(note?.contains("is missing") == true)

        T.write(root + "/t/p", Array("old".utf8))
        let pipe = VersionEntry.raw(.fifo, Array("p".utf8), mode: 0o604)
        #expect(try Restorer.makeSpecial(pipe, at: RelativePath("p")!, versionFolders: 0, target: folder) == nil)
        var st = stat()
        #expect(lstat(root + "/t/p", &st) == 0 && st.st_mode & S_IFMT == S_IFIFO && st.st_mode & 0o7777 == 0o604)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/t").sorted() == ["p", "planted"], "no temporary name left")
    }

    /// A sparse file's stored bytes come back with its holes as zeros, wherever they fall.
    @Test func holesAreFilledWithZeros() throws {
        var filler = HoleFiller([Hole(offset: 0, length: 2), Hole(offset: 3, length: 70_000), Hole(offset: 70_005, length: 1)], object: "x")
        var out: [UInt8] = []
        let sink: (UnsafeRawBufferPointer) throws -> Void = { out += $0 }
        try Array("ab".utf8).withUnsafeBytes { try filler.emit($0, into: sink) }
        try Array("cde".utf8).withUnsafeBytes { try filler.emit($0, into: sink) }
        try filler.finish(into: sink)
        let expected = [0, 0] + Array("a".utf8) + [UInt8](repeating: 0, count: 70_000) + Array("bc".utf8) + [0] + Array("de".utf8)
        let same = out == expected  // (not inside #expect: a failure would print 70,000 values)
        #expect(same, "\(out.count) bytes, expected \(expected.count); tail \(out.suffix(6))")
        var beyond = HoleFiller([Hole(offset: 9, length: 1)], object: "x")
        try Array("ab".utf8).withUnsafeBytes { try beyond.emit($0, into: sink) }
        #expect(throws: CofferError.self) { try beyond.finish(into: sink) }
    }
}
