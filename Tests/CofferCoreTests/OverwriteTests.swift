@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// `restore` into a folder that already holds files: `--overwrite` modes, `--delete`, `--dry-run`.
@Suite struct OverwriteTests {
    /// The version's mtime for every file of the prepared tree.
    static let sealedTime: Int64 = 1_700_000_000

    /// A vault with one version of `d/`, restored once into `target`, then changed there:
    ///
    /// - `same.txt`: identical; `meta.txt`: identical content, mode 0600 and another mtime;
    /// - `changed.txt`: same size and mtime, other bytes; `grown.txt`: another size;
    /// - `older.txt` / `newer.txt`: other bytes, mtime before / after the version's;
    /// - `link-here.txt`: a link to a file outside the target where the version has a file;
    /// - `folder-here.txt`: a folder (with a file in it) where the version has a file;
    /// - `ln`: the version's link, identical; `sub/x.txt` identical;
    /// - extras the version lacks: `extra.txt`, `extra-dir/a`, `extra-dir/b/c`, and `extra-link`
    ///   pointing at a folder outside the target.
    struct Lab {
        let fx: T.Fixture
        let id: ObjectID
        let target: String
        let outside: String
        /// The sealed folder.
        let src: String
        var d: String { target + "/d" }

        init() throws {
            fx = try T.vault()
            let src = T.scratch("src") + "/d"
            self.src = src
            for name in ["same", "meta", "changed", "grown", "older", "newer", "link-here", "folder-here"] {
                T.write(src + "/\(name).txt", Array("content of \(name)".utf8))
            }
            T.write(src + "/sub/x.txt", Array("x".utf8))
            #expect(symlink("same.txt", src + "/ln") == 0)
            for p in ["same", "meta", "changed", "grown", "older", "newer", "link-here", "folder-here"].map({ src + "/\($0).txt" }) + [src + "/sub/x.txt"] {
                OverwriteTests.setMtime(p, OverwriteTests.sealedTime)
            }
            id = try fx.vault.seal([src]).id
            target = T.scratch("target")
            outside = T.scratch("outside")
            T.write(outside + "/keep.txt", Array("outside".utf8))
            try fx.vault.restore(id, to: target)

            chmod(d + "/meta.txt", 0o600)
            OverwriteTests.setMtime(d + "/meta.txt", OverwriteTests.sealedTime + 5)
            T.write(d + "/changed.txt", Array("CONTENT OF changed".utf8))
            OverwriteTests.setMtime(d + "/changed.txt", OverwriteTests.sealedTime)  // a forged mtime
            T.write(d + "/grown.txt", Array("content of grown, and more".utf8))
            T.write(d + "/older.txt", Array("old local".utf8))
            OverwriteTests.setMtime(d + "/older.txt", OverwriteTests.sealedTime - 1000)
            T.write(d + "/newer.txt", Array("new local".utf8))
            OverwriteTests.setMtime(d + "/newer.txt", OverwriteTests.sealedTime + 1000)
            unlink(d + "/link-here.txt")
            #expect(symlink(outside + "/keep.txt", d + "/link-here.txt") == 0)
            unlink(d + "/folder-here.txt")
            T.write(d + "/folder-here.txt/inside", Array("inside".utf8))
            T.write(d + "/extra.txt", Array("extra".utf8))
            T.write(d + "/extra-dir/a", Array("a".utf8))
            T.write(d + "/extra-dir/b/c", Array("c".utf8))
            #expect(symlink(outside, d + "/extra-link") == 0)
        }

        func restore(_ mode: OverwriteMode, delete: Bool = false, dryRun: Bool = false, include: [String] = [], to: String? = nil) throws
            -> (RestoreResult, [RestoreEvent])
        {
            var o = RestoreOptions()
            o.overwrite = mode
            o.delete = delete
            o.dryRun = dryRun
            o.include = include
            let events = Events()
            o.onEvent = { events.add($0) }
            let r = try fx.vault.restore(id, to: to ?? target, options: o)
            return (r, events.all)
        }

        /// The outside folder is as it was.
        func outsideUntouched() {
            #expect(T.read(outside + "/keep.txt") == Array("outside".utf8))
            #expect(OverwriteTests.names(outside) == ["keep.txt"])
        }
    }

    final class Events: @unchecked Sendable {
        private let lock = NSLock()
        private var events: [RestoreEvent] = []
        func add(_ e: RestoreEvent) { lock.withLock { events.append(e) } }
        var all: [RestoreEvent] { lock.withLock { events } }
    }

    static func setMtime(_ path: String, _ seconds: Int64) {
        var times = [timespec(tv_sec: Int(seconds), tv_nsec: 0), timespec(tv_sec: Int(seconds), tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW) == 0)
    }

    static func lstatOf(_ path: String) -> stat? {
        var st = stat()
        return lstat(path, &st) == 0 ? st : nil
    }

    static func names(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    }

    static func isLink(_ path: String) -> Bool { lstatOf(path).map { $0.st_mode & S_IFMT == S_IFLNK } ?? false }
    static func isFolder(_ path: String) -> Bool { lstatOf(path).map { $0.st_mode & S_IFMT == S_IFDIR } ?? false }

    /// Everything under `root` (not following links): type, inode, mode, size, mtime, ctime and
    /// content or link target, by path.
    static func snapshot(_ root: String) -> [String: String] {
        var out: [String: String] = [:]
        func visit(_ path: String, _ rel: String) {
            guard let st = lstatOf(path) else { return }
            let kind = st.st_mode & S_IFMT == S_IFDIR ? "d" : st.st_mode & S_IFMT == S_IFLNK ? "l" : "f"
            var line = "\(kind) \(st.st_mode) \(st.st_ino) \(st.st_size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec) \(st.st_ctim.tv_sec).\(st.st_ctim.tv_nsec)"
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                for n in names(path) { visit(path + "/" + n, rel + "/" + n) }
            case S_IFLNK:
                line += " -> " + ((try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?")
            default:
                line += " " + Hex.encode(SHA256.hash(T.read(path) ?? []))
            }
            out[rel] = line
        }
        visit(root, ".")
        return out
    }

    // MARK: never

    @Test func neverRefusesListingEveryConflictAndWritesNothing() throws {
        let lab = try Lab()
        let before = Self.snapshot(lab.target)
        #expect {
            try lab.restore(.never)
        } throws: { error in
            guard case CofferError.destinationConflicts(let paths, let count) = error else { return false }
            // Every file of the version exists (the folders d and d/sub are not conflicts).
            let expected = ["changed", "folder-here", "grown", "link-here", "meta", "newer", "older", "same"].map { lab.d + "/\($0).txt" }
                + [lab.d + "/ln", lab.d + "/sub/x.txt"]
            return count == expected.count && Set(paths) == Set(expected) && "\(error)".hasPrefix("10 paths already exist: ")
        }
        #expect(Self.snapshot(lab.target) == before)
        lab.outsideUntouched()
    }

    @Test func neverListsTwentyConflictsThenCountsTheRest() throws {
        let fx = try T.vault()
        let src = T.scratch("many") + "/m"
        for i in 0..<25 { T.write(src + "/f\(i)", [UInt8(i)]) }
        let id = try fx.vault.seal([src]).id
        let target = T.scratch("t")
        try fx.vault.restore(id, to: target)
        #expect {
            try fx.vault.restore(id, to: target)
        } throws: { error in
            guard case CofferError.destinationConflicts(let paths, 25) = error else { return false }
            let text = "\(error)"
            return paths.count == 20 && text.contains("… and 5 more") && !text.contains("\n")
        }
    }

    // MARK: always

    @Test func alwaysReplacesFilesAndLinksAndLeavesAFolderInTheWay() throws {
        let lab = try Lab()
        let sameInode = Self.lstatOf(lab.d + "/same.txt")!.st_ino
        let (r, _) = try lab.restore(.always)
        for name in ["same", "meta", "changed", "grown", "older", "newer", "link-here"] {
            #expect(T.read(lab.d + "/\(name).txt") == Array("content of \(name)".utf8), "\(name)")
        }
        #expect(Self.lstatOf(lab.d + "/same.txt")!.st_ino != sameInode, "always writes even an identical file")
        #expect(!Self.isLink(lab.d + "/link-here.txt"), "the link is replaced, not followed")
        #expect(Self.lstatOf(lab.d + "/meta.txt")!.st_mode & 0o7777 == 0o644)
        // A folder where the version has a file is not removed without --delete.
        #expect(T.read(lab.d + "/folder-here.txt/inside") == Array("inside".utf8))
        #expect(r.changes.conflicts == 1)
        #expect(r.notes.contains { $0.contains("folder-here.txt") && $0.contains("--delete") })
        // Extras stay without --delete.
        #expect(T.read(lab.d + "/extra.txt") == Array("extra".utf8))
        #expect(Self.isLink(lab.d + "/extra-link"))
        #expect(r.changes.replaced == 9)  // 7 files above, ln, sub/x.txt
        #expect(r.changes.removed == 0)
        lab.outsideUntouched()
    }

    @Test func forceIsAlways() {
        var o = RestoreOptions()
        o.force = true
        #expect(o.overwrite == .always)
        o.force = false
        #expect(o.overwrite == .never)
    }

    // MARK: if-changed

    @Test func ifChangedLeavesIdenticalFilesUntouchedAndReplacesTheRest() throws {
        let lab = try Lab()
        let same = try #require(Self.lstatOf(lab.d + "/same.txt"))
        let meta = try #require(Self.lstatOf(lab.d + "/meta.txt"))
        let ln = try #require(Self.lstatOf(lab.d + "/ln"))
        let x = try #require(Self.lstatOf(lab.d + "/sub/x.txt"))
        let (r, _) = try lab.restore(.ifChanged)

        // Identical: same inode, not written (mtime and ctime unchanged).
        let same2 = try #require(Self.lstatOf(lab.d + "/same.txt"))
        #expect(same2.st_ino == same.st_ino)
        #expect(same2.st_mtim.tv_sec == same.st_mtim.tv_sec && same2.st_mtim.tv_nsec == same.st_mtim.tv_nsec)
        #expect(same2.st_ctim.tv_sec == same.st_ctim.tv_sec && same2.st_ctim.tv_nsec == same.st_ctim.tv_nsec)
        let x2 = try #require(Self.lstatOf(lab.d + "/sub/x.txt"))
        #expect(x2.st_ino == x.st_ino && x2.st_ctim.tv_nsec == x.st_ctim.tv_nsec && x2.st_ctim.tv_sec == x.st_ctim.tv_sec)
        let ln2 = try #require(Self.lstatOf(lab.d + "/ln"))
        #expect(ln2.st_ino == ln.st_ino, "an identical link is kept")
        // Identical content, other metadata: set in place, same inode.
        let meta2 = try #require(Self.lstatOf(lab.d + "/meta.txt"))
        #expect(meta2.st_ino == meta.st_ino)
        #expect(meta2.st_mode & 0o7777 == 0o644)
        #expect(Int64(meta2.st_mtim.tv_sec) == Self.sealedTime)
        // Same size and a forged mtime: the SHA-256 decides.
        #expect(T.read(lab.d + "/changed.txt") == Array("content of changed".utf8))
        #expect(T.read(lab.d + "/grown.txt") == Array("content of grown".utf8))
        #expect(T.read(lab.d + "/newer.txt") == Array("content of newer".utf8))
        #expect(!Self.isLink(lab.d + "/link-here.txt"))
        #expect(T.read(lab.d + "/link-here.txt") == Array("content of link-here".utf8))
        #expect(Self.isFolder(lab.d + "/folder-here.txt"), "a folder is replaced only with --delete")

        #expect(r.changes.skippedIdentical == 4)  // same, meta, ln, sub/x.txt
        #expect(r.changes.metadataFixed == 1)
        #expect(r.changes.replaced == 5)  // changed, grown, older, newer, link-here
        #expect(r.changes.conflicts == 1)
        #expect(r.files == 5, "only the replaced files were written")
        lab.outsideUntouched()
    }

    @Test func ifChangedWritesZeroBytesIntoAnIdenticalTree() throws {
        let fx = try T.vault()
        let src = T.scratch("src") + "/tree"
        for i in 0..<20 { T.write(src + "/dir\(i % 3)/f\(i)", T.bytes(1000 + i, seed: UInt64(i))) }
        let id = try fx.vault.seal([src]).id
        let target = T.scratch("t")
        try fx.vault.restore(id, to: target)
        let before = Self.snapshot(target).filter { !$0.value.hasPrefix("d ") }
        var o = RestoreOptions()
        o.overwrite = .ifChanged
        let last = ProgressRecord()
        o.progress = { done, total in last.set(done, total) }
        let r = try fx.vault.restore(id, to: target, options: o)
        #expect(r.files == 0 && r.bytes == 0)
        #expect(r.changes.skippedIdentical == 20)
        let (done, total) = last.get()
        #expect(total == (0..<20).reduce(0) { $0 + UInt64(1000 + $1) } && done == total, "the progress line ends at its total: \(done) of \(total)")
        #expect(r.changes.written == 0 && r.changes.replaced == 0)
        let after = Self.snapshot(target).filter { !$0.value.hasPrefix("d ") }
        #expect(after == before, "files keep inode, mtime and ctime")
    }

    @Test func ifChangedGivesAnIdenticalFileItsStoredOwnerAndAttributesInPlace() throws {
        let fx = try T.vault()
        let src = T.scratch("src") + "/tree"
        T.write(src + "/f", Array("same bytes".utf8))
        let asRoot = geteuid() == 0
        if asRoot { #expect(chown(src + "/f", 1234, 5678) == 0) }
        let value = Array("stored".utf8)
        guard ScanFS.setXattr(src + "/f", Array("user.note".utf8), value) == 0 else {
            print("skipped: this file system has no user.* extended attributes")
            return
        }
        let id = try fx.vault.seal([src]).id
        let target = T.scratch("t")
        try fx.vault.restore(id, to: target)
        let f = target + "/tree/f"
        // The content stays identical; the owner and the attribute change on disk.
        if asRoot { #expect(chown(f, 0, 0) == 0) }
        #expect(ScanFS.setXattr(f, Array("user.note".utf8), Array("changed on disk".utf8)) == 0)
        var before = stat()
        #expect(stat(f, &before) == 0)
        var o = RestoreOptions()
        o.overwrite = .ifChanged
        let r = try fx.vault.restore(id, to: target, options: o)
        #expect(r.files == 0 && r.bytes == 0, "the content is not written again")
        var after = stat()
        #expect(stat(f, &after) == 0)
        #expect(after.st_ino == before.st_ino, "the identical file keeps its inode")
        #expect(ScanFS.xattr(f, Array("user.note".utf8)) == value, "the stored attribute is set again")
        if asRoot { #expect(after.st_uid == 1234 && after.st_gid == 5678, "the stored owner is set again") }
        // Nothing differs any more: a second run leaves it as identical.
        let again = try fx.vault.restore(id, to: target, options: o)
        #expect(again.changes.skippedIdentical >= 1 && again.files == 0)
    }

    // MARK: if-newer

    @Test func ifNewerReplacesOnlyWhatIsOlderOnDisk() throws {
        let lab = try Lab()
        let (r, _) = try lab.restore(.ifNewer)
        #expect(T.read(lab.d + "/older.txt") == Array("content of older".utf8))
        #expect(T.read(lab.d + "/newer.txt") == Array("new local".utf8))
        #expect(r.changes.skippedByMode >= 1)
        // meta.txt is 5 s newer on disk: left as it is.
        #expect(Self.lstatOf(lab.d + "/meta.txt")!.st_mode & 0o7777 == 0o600)
        lab.outsideUntouched()
    }

    // MARK: --delete

    @Test func deleteRemovesExtrasWithoutFollowingLinks() throws {
        let lab = try Lab()
        let (r, events) = try lab.restore(.always, delete: true)
        let expected = ["extra.txt", "extra-dir/a", "extra-dir/b/c", "extra-dir/b", "extra-dir", "extra-link", "folder-here.txt/inside", "folder-here.txt"]
        let removed = Set(events.filter { $0.action == .remove }.map { String(decoding: $0.pathBytes, as: UTF8.self) })
        #expect(removed == Set(expected.map { "d/" + $0 }))
        #expect(r.changes.removed == expected.count)
        #expect(Self.names(lab.d) == ["changed.txt", "folder-here.txt", "grown.txt", "link-here.txt", "ln", "meta.txt", "newer.txt", "older.txt", "same.txt", "sub"])
        #expect(T.read(lab.d + "/folder-here.txt") == Array("content of folder-here".utf8), "the folder in the way became the file")
        #expect(r.changes.conflicts == 0)
        lab.outsideUntouched()
        #expect(Self.names(lab.target) == ["d"])
    }

    @Test func deleteRemovesTopLevelExtrasOfTheTarget() throws {
        let lab = try Lab()
        T.write(lab.target + "/stray.txt", Array("stray".utf8))
        #expect(symlink(lab.outside, lab.target + "/stray-link") == 0)
        let (r, _) = try lab.restore(.ifChanged, delete: true)
        #expect(Self.names(lab.target) == ["d"])
        #expect(r.changes.removed == 10)  // 6 extras in d, the folder in the way and its file, 2 at the top
        lab.outsideUntouched()
    }

    @Test func aLinkWhereTheVersionHasAFolderIsReplacedNotEmptiedThrough() throws {
        let lab = try Lab()
        T.write(lab.outside + "/x.txt", Array("outside x".utf8))
        T.write(lab.outside + "/other", Array("other".utf8))
        #expect(rename(lab.d + "/sub", lab.d + "/sub-moved") == 0)
        #expect(symlink(lab.outside, lab.d + "/sub") == 0)
        let (r, events) = try lab.restore(.always, delete: true)
        #expect(Self.isFolder(lab.d + "/sub"))
        #expect(Self.names(lab.d + "/sub") == ["x.txt"])
        #expect(T.read(lab.outside + "/x.txt") == Array("outside x".utf8))
        #expect(T.read(lab.outside + "/other") == Array("other".utf8))
        #expect(T.read(lab.outside + "/keep.txt") == Array("outside".utf8))
        #expect(!FileManager.default.fileExists(atPath: lab.d + "/sub-moved"))
        #expect(!events.contains { $0.pathBytes.starts(with: Array("d/sub/".utf8)) && $0.action == .remove })
        #expect(r.changes.removed > 0)
    }

    @Test func deleteRemovesANameThatIsNotUTF8ByItsBytes() throws {
        let lab = try Lab()
        let name: [UInt8] = Array("odd-".utf8) + [0xFF, 0xFE]
        let path = Array(lab.d.utf8) + [UInt8(ascii: "/")] + name
        let fd = path.withCName { open($0, O_WRONLY | O_CREAT | O_EXCL, 0o644) }
        #expect(fd >= 0)
        close(fd)
        let (_, events) = try lab.restore(.ifChanged, delete: true)
        #expect(events.contains { $0.action == .remove && $0.pathBytes == Array("d/".utf8) + name })
        var st = stat()
        #expect(path.withCName { lstat($0, &st) } != 0)
    }

    @Test func deleteOnlyRemovesInsideTheIncludedSelection() throws {
        let lab = try Lab()
        T.write(lab.d + "/sub/extra-in-sub", Array("e".utf8))
        let (r, _) = try lab.restore(.always, delete: true, include: ["d/sub"])
        #expect(!FileManager.default.fileExists(atPath: lab.d + "/sub/extra-in-sub"))
        #expect(r.changes.removed == 1)
        // Outside the selection: kept.
        #expect(T.read(lab.d + "/extra.txt") == Array("extra".utf8))
        #expect(T.read(lab.d + "/extra-dir/b/c") == Array("c".utf8))
        #expect(Self.isLink(lab.d + "/extra-link"))
    }

    @Test func deleteNeedsAnOverwriteMode() throws {
        let lab = try Lab()
        let before = Self.snapshot(lab.target)
        #expect {
            try lab.restore(.never, delete: true)
        } throws: { error in
            guard case CofferError.invalidArgument(let m) = error else { return false }
            return m.contains("--delete") && m.contains("--overwrite")
        }
        #expect(Self.snapshot(lab.target) == before)
    }

    @Test func deleteRefusesATargetThatHoldsTheVault() throws {
        let lab = try Lab()
        var o = RestoreOptions()
        o.overwrite = .always
        o.delete = true
        #expect {
            try lab.fx.vault.restore(lab.id, to: lab.fx.root, options: o)
        } throws: { error in
            guard case CofferError.invalidArgument(let m) = error else { return false }
            return m.contains("could remove the vault")
        }
        #expect(try lab.fx.reopen().versions().count == 1)
    }

    @Test func deleteLeavesFoldersWithTheVersionsTimes() throws {
        let lab = try Lab()
        let (_, _) = try lab.restore(.ifChanged, delete: true)
        let d = try #require(Self.lstatOf(lab.d))
        let src = try #require(Self.lstatOf(lab.src))
        #expect(d.st_mtim.tv_sec == src.st_mtim.tv_sec && d.st_mtim.tv_nsec == src.st_mtim.tv_nsec)
    }

    // MARK: --dry-run

    @Test(arguments: [OverwriteMode.never, .always, .ifChanged, .ifNewer])
    func dryRunChangesNothing(mode: OverwriteMode) throws {
        let lab = try Lab()
        let before = Self.snapshot(lab.target)
        let outsideBefore = Self.snapshot(lab.outside)
        let (r, events) = try lab.restore(mode, delete: mode != .never, dryRun: true)
        #expect(Self.snapshot(lab.target) == before, "byte for byte and inode for inode")
        #expect(Self.snapshot(lab.outside) == outsideBefore)
        func action(_ name: String) -> RestoreAction? {
            events.last { String(decoding: $0.pathBytes, as: UTF8.self) == "d/" + name && $0.action != .remove }?.action
        }
        #expect(events.first?.action == .keep && events.first?.pathBytes == Array("d".utf8))
        switch mode {
        case .never:
            #expect(action("same.txt") == .conflict)
            #expect(r.changes.conflicts == 10)
        case .always:
            #expect(action("same.txt") == .replace)
            #expect(action("folder-here.txt") == .replace)
        case .ifChanged:
            #expect(action("same.txt") == .skipIdentical)
            #expect(action("meta.txt") == .fixMetadata)
            #expect(action("changed.txt") == .replace)
            #expect(r.changes.skippedIdentical == 4)
        case .ifNewer:
            #expect(action("older.txt") == .replace)
            #expect(action("newer.txt") == .skipNewer)
        }
        if mode != .never {
            let removed = events.filter { $0.action == .remove }.map { String(decoding: $0.pathBytes, as: UTF8.self) }
            #expect(Set(removed).isSuperset(of: ["d/extra.txt", "d/extra-dir", "d/extra-dir/b/c", "d/extra-link"]))
            #expect(!removed.contains { $0.hasPrefix("d/extra-link/") }, "a link is never listed through")
        }
    }

    @Test func dryRunIntoAMissingFolderCreatesNothing() throws {
        let lab = try Lab()
        let missing = T.scratch("dry") + "/not/yet"
        let (r, events) = try lab.restore(.never, dryRun: true, to: missing)
        #expect(access(missing, F_OK) != 0)
        #expect(access((missing as NSString).deletingLastPathComponent, F_OK) != 0)
        #expect(r.changes.written == events.count)
        #expect(events.allSatisfy { $0.action == .write })
        #expect(events.count == 12)  // d, its 10 files and links, d/sub
    }

    // MARK: format 1

    @Test func aFormat1VersionRestoresOverAnIdenticalTreeWithIfChanged() throws {
        let fx = try T.vault(format: 1)
        let src = T.scratch("src") + "/one"
        T.write(src + "/a.txt", Array("alpha".utf8))
        T.write(src + "/b/c.txt", Array("gamma".utf8))
        let id = try fx.vault.seal([src]).id
        let target = T.scratch("t")
        try fx.vault.restore(id, to: target)
        let inode = Self.lstatOf(target + "/one/a.txt")!.st_ino
        T.write(target + "/one/b/c.txt", Array("GAMMA".utf8))
        T.write(target + "/one/extra", Array("x".utf8))
        var o = RestoreOptions()
        o.overwrite = .ifChanged
        o.delete = true
        let r = try fx.vault.restore(id, to: target, options: o)
        #expect(Self.lstatOf(target + "/one/a.txt")!.st_ino == inode)
        #expect(T.read(target + "/one/b/c.txt") == Array("gamma".utf8))
        #expect(Self.names(target + "/one") == ["a.txt", "b"])
        #expect(r.changes.skippedIdentical == 1 && r.changes.replaced == 1 && r.changes.removed == 1)
    }
}

/// The last progress report of a restore.
private final class ProgressRecord: @unchecked Sendable {
    private let lock = NSLock()
    private var value: (UInt64, UInt64) = (0, 0)
    func set(_ done: UInt64, _ total: UInt64) { lock.withLock { value = (done, total) } }
    func get() -> (UInt64, UInt64) { lock.withLock { value } }
}
