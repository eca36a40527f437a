@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// Whether anything (a file, folder or link, followed or not) is at `path`.
private func exists(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0
}

/// The names in a folder, sorted (bytes decoded as UTF-8).
private func names(_ dir: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
}

/// A format-1 vault (crafted versions are format-1 bodies, whose paths are whole strings a key
/// holder writes) with one sealed file `src/payload` (content "payload"), whose chunks crafted
/// versions reuse; `home` is a folder holding only `restore`'s future parent.
private struct Lab {
    let fixture: T.Fixture
    let sealed: ObjectID
    /// `<scratch>/home`: restores go to `home/restore`; nothing else may appear in `home`.
    let home: String
    /// A folder outside every restore target, that links point to.
    let outside: String

    init() throws {
        fixture = try T.vault(format: 1)
        let src = fixture.root + "/src"
        T.write(src + "/payload", Array("payload".utf8))
        sealed = try fixture.vault.seal([src]).id
        home = fixture.root + "/home"
        outside = fixture.root + "/outside"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
    }

    var vault: Vault { fixture.vault }
    var target: String { home + "/restore" }

    func file(_ path: String) throws -> VersionEntry { try vault.craftedFile(path, like: "src/payload", in: sealed) }

    /// Nothing but `restore` in `home`, nothing in `outside`.
    func nothingOutside(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(names(home).allSatisfy { $0 == "restore" }, "written next to the target: \(names(home))", sourceLocation: sourceLocation)
        #expect(names(outside).isEmpty, "written through a link: \(names(outside))", sourceLocation: sourceLocation)
    }
}

@Suite struct ConfineTests {
    // MARK: Crafted version paths

    /// Paths a key holder can write into a version. The first three passed the old
    /// Character-based check: Swift sees `/\u{301}` and `\u{600}/` as single characters, the
    /// kernel sees a separator in each.
    static let craftedPaths = [
        "../\u{301}Q\u{600}/../x", "../\u{301}x", "/\u{301}x", "a/\u{301}Q\u{600}/../../\u{301}x",
        "..", "../x", "/x", "a/../../x", "./x", "a//x", "a/", "", "a/\0/x",
    ]

    @Test(arguments: craftedPaths)
    func aCraftedVersionPathIsRefusedAndNothingIsWritten(path: String) throws {
        let lab = try Lab()
        let id = try lab.vault.commitCrafted([try lab.file(path)])
        #expect {
            try lab.vault.restore(id, to: lab.target)
        } throws: { error in
            guard case CofferError.integrity(let object, let reason) = error else { return false }
            return object == "versions/" + id.hex && reason.contains("unsafe path")
        }
        lab.nothingOutside()
        #expect(names(lab.target).isEmpty)
        // The same rule for cat.
        #expect(throws: CofferError.self) { try lab.vault.readFile(id, path: path) { _ in } }
    }

    /// The folder entry makes the helper folder `home/\u{301}Q\u{600}` (Swift saw one component,
    /// `../\u{301}Q\u{600}`); through it, the file lands in `home`.
    @Test func theReviewersAttackWouldHaveWrittenBashProfileNextToTheTarget() throws {
        let lab = try Lab()
        let id = try lab.vault.commitCrafted([.folder("../\u{301}Q\u{600}"), try lab.file("../\u{301}Q\u{600}/../.bash_profile")])
        #expect(throws: CofferError.self) { try lab.vault.restore(id, to: lab.target) }
        #expect(!exists(lab.home + "/.bash_profile"))
        #expect(!exists(lab.home + "/\u{301}Q\u{600}"), "the helper folder was created next to the target")
        lab.nothingOutside()
    }

    // MARK: Links

    @Test func aFileBelowALinkOfTheVersionIsRefusedBeforeAnythingIsWritten() throws {
        let lab = try Lab()
        let id = try lab.vault.commitCrafted([
            .folder("src"), .link("src/d", to: lab.outside), try lab.file("src/d/x"), try lab.file("src/plain"),
        ])
        for force in [false, true] {
            var options = RestoreOptions()
            options.force = force
            #expect {
                try lab.vault.restore(id, to: lab.target, options: options)
            } throws: { error in
                guard case CofferError.restoreRefused(let path, let reason) = error else { return false }
                return path == lab.target + "/src/d/x" && reason.contains("src/d is a symbolic link in the version")
            }
            lab.nothingOutside()
            // Refused before writing: not even the folder or the other file.
            #expect(names(lab.target).isEmpty)
        }
    }

    @Test func aLinkPlantedInTheTargetIsNotFollowed() throws {
        let lab = try Lab()
        // No folder entry for `sub`: restore must create it, and finds a link there instead.
        let id = try lab.vault.commitCrafted([try lab.file("sub/file")])
        try FileManager.default.createDirectory(atPath: lab.target, withIntermediateDirectories: true)
        #expect(symlink(lab.outside, lab.target + "/sub") == 0)
        for force in [false, true] {
            var options = RestoreOptions()
            options.force = force
            #expect {
                try lab.vault.restore(id, to: lab.target, options: options)
            } throws: { error in
                guard case CofferError.restoreRefused(let path, let reason) = error else { return false }
                return path == lab.target + "/sub/file" && reason == "\(lab.target)/sub is a symbolic link; restore never writes through a link"
            }
            lab.nothingOutside()
        }
    }

    @Test func aLinkPlantedWhereTheVersionHasAFolderIsReportedOrReplacedWithForce() throws {
        let lab = try Lab()
        let id = try lab.vault.commitCrafted([.folder("sub"), try lab.file("sub/file")])
        try FileManager.default.createDirectory(atPath: lab.target, withIntermediateDirectories: true)
        #expect(symlink(lab.outside, lab.target + "/sub") == 0)
        #expect {
            try lab.vault.restore(id, to: lab.target)
        } throws: { error in
            guard case CofferError.destinationExists(let path) = error else { return false }
            return path == lab.target + "/sub"
        }
        lab.nothingOutside()
        var options = RestoreOptions()
        options.force = true
        try lab.vault.restore(id, to: lab.target, options: options)
        var st = stat()
        #expect(lstat(lab.target + "/sub", &st) == 0 && st.st_mode & S_IFMT == S_IFDIR, "the link is replaced by a folder")
        #expect(T.read(lab.target + "/sub/file") == Array("payload".utf8))
        lab.nothingOutside()
    }

    /// Someone replaces a folder of the target with a link while the restore runs (once the
    /// folder is made, before the file in it is written: at a cancellation check).
    @Test func aLinkPlantedDuringTheRestoreIsNotFollowed() throws {
        let lab = try Lab()
        let tree = lab.fixture.root + "/tree"
        T.write(tree + "/a/one", Array("one".utf8))
        T.write(tree + "/b/two", Array("two".utf8))
        let id = try lab.vault.seal([tree]).id
        let planted = ManagedFlag()
        let target = lab.target
        let outside = lab.outside
        var options = RestoreOptions()
        options.isCancelled = {
            var st = stat()
            if !planted.isSet && lstat(target + "/tree/b", &st) == 0 && st.st_mode & S_IFMT == S_IFDIR {
                planted.set()
                rename(target + "/tree/b", target + "/tree/b-moved")
                symlink(outside, target + "/tree/b")
            }
            return false
        }
        #expect(throws: CofferError.self) { try lab.vault.restore(id, to: lab.target, options: options) }
        #expect(planted.isSet)
        lab.nothingOutside()
    }

    @Test func linksOfTheVersionAreMadeAsLinksAndNeverFollowed() throws {
        let lab = try Lab()
        let id = try lab.vault.commitCrafted([.folder("src"), .link("src/d", to: lab.outside), try lab.file("src/e")])
        try lab.vault.restore(id, to: lab.target)
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: lab.target + "/src/d")) == lab.outside)
        #expect(T.read(lab.target + "/src/e") == Array("payload".utf8))
        // Restoring again with --force replaces the link itself, not what it points to.
        var options = RestoreOptions()
        options.force = true
        try lab.vault.restore(id, to: lab.target, options: options)
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: lab.target + "/src/d")) == lab.outside)
        lab.nothingOutside()
    }

    // MARK: Names

    @Test func aNameOf240BytesRestores() throws {
        let lab = try Lab()
        let long = String(repeating: "n", count: 236) + ".csv"
        let id = try lab.vault.commitCrafted([.folder("src"), try lab.file("src/" + long)])
        try lab.vault.restore(id, to: lab.target)
        #expect(T.read(lab.target + "/src/" + long) == Array("payload".utf8))
        #expect(names(lab.target + "/src") == [long], "no temporary file left")
    }

    @Test func namesThatOnlyLookAlikeAreDifferentFiles() throws {
        let fx = try T.vault()
        let src = fx.root + "/names"
        let composed = "\u{e9}.txt", decomposed = "e\u{301}.txt"
        T.write(src + "/" + composed, Array("composed".utf8))
        T.write(src + "/" + decomposed, Array("decomposed".utf8))
        let id = try fx.vault.seal([src]).id
        var got: [UInt8] = []
        try fx.vault.readFile(id, path: "names/" + composed) { got += $0 }
        #expect(got == Array("composed".utf8))
        got = []
        try fx.vault.readFile(id, path: "names/" + decomposed) { got += $0 }
        #expect(got == Array("decomposed".utf8))
        var options = RestoreOptions()
        options.include = ["names/" + decomposed]
        let out = fx.root + "/out"
        let r = try fx.vault.restore(id, to: out, options: options)
        #expect(r.files == 1)
        #expect(names(out + "/names").map { Array($0.utf8) } == [Array(decomposed.utf8)])
    }

    @Test func escapeSequencesInNamesAreEscapedInMessages() throws {
        let lab = try Lab()
        let id = try lab.vault.commitCrafted([try lab.file("\u{1b}[2J/../x")])
        #expect {
            try lab.vault.restore(id, to: lab.target)
        } throws: { error in
            let text = "\(error)"
            return text.contains("unsafe path '\\x1b[2J/../x'") && !text.contains("\u{1b}")
        }
    }

    // MARK: Rules

    @Test func pathRulesWorkOnBytes() {
        for good in ["a", "a/b", ".a", "a..", "...", "a\\..\\b", "\u{301}", "Q\u{600}", "a/\u{301}b", "\u{e9}"] {
            #expect(RelativePath.isValid(good), "\(good)")
        }
        for bad in ["", "/", "/a", "a/", "a//b", ".", "..", "./a", "a/.", "a/../b", "../\u{301}x", "a\u{600}/..", "/\u{301}", "a\0b"] {
            #expect(!RelativePath.isValid(bad), "\(bad)")
            #expect(!Version.isValidPath(bad), "\(bad)")
        }
        #expect(RelativePath("a/\u{301}b")?.components == [Array("a".utf8), Array("\u{301}b".utf8)])
        #expect(RelativePath(bytes: [0x61, 0xFF, 0x2F, 0x62])?.components == [[0x61, 0xFF], [0x62]])
    }

    @Test func zipMemberNamesAlsoSplitOnBackslash() {
        #expect(RelativePath.zipMember("a\\b.txt")?.description == "a/b.txt")
        #expect(RelativePath.zipMember("dir/")?.description == "dir")
        #expect(RelativePath.zipMember("dir/sub//")?.description == "dir/sub")
        for bad in ["..\\x", "a\\..\\..\\x", "\\x", "C:\\..\\x", "a\\\\b", "../x", "/x", "", "/", "a\0b", "../\u{301}Q\u{600}/../x", ".\\x"] {
            #expect(RelativePath.zipMember(bad) == nil, "\(bad)")
        }
    }

    @Test func pathHelpersSplitOnTheSlashByte() {
        #expect(Paths.parent("a/\u{301}b") == "a")
        #expect(Paths.lastComponent("a/\u{301}b") == "\u{301}b")
        #expect(Paths.parent("Q\u{600}/x") == "Q\u{600}")
        #expect(Paths.lastComponent("Q\u{600}/x") == "x")
    }

    @Test func pathPrefixesAndSuffixesCompareBytes() {
        // A name starting with a combining mark is still below `d` for the kernel.
        #expect(Paths.isSelfOrDescendant("d/\u{301}x", of: "d"))
        #expect(Paths.isSelfOrDescendant("d", of: "d"))
        #expect(!Paths.isSelfOrDescendant("dd/x", of: "d"))
        // Unicode-equivalent spellings are different names.
        #expect(!Paths.isSelfOrDescendant("e\u{301}/x", of: "\u{e9}"))
        #expect(Paths.endsWithComponents("Export.zip/\u{301}Connections.csv", "\u{301}Connections.csv"))
        #expect(!Paths.endsWithComponents("a/xConnections.csv", "Connections.csv"))
        #expect(!Paths.endsWithComponents("a/e\u{301}.csv", "\u{e9}.csv"))
        #expect(Paths.normalized("/a//\u{301}b/") == "a/\u{301}b")
        #expect(Paths.firstComponent("\u{600}/x") == "\u{600}")
        #expect(Paths.replacingAncestor("old", with: "new", in: "old/\u{301}x") == "new/\u{301}x")
    }

    /// Two files whose names differ only in Unicode normalization are two files: the diff
    /// reports each, instead of merging them into one entry.
    @Test func diffKeepsUnicodeEquivalentNamesApart() throws {
        let lab = try Lab()
        let before = try lab.vault.commitCrafted([.folder("src"), try lab.file("src/\u{e9}.txt")])
        let after = try lab.vault.commitCrafted([.folder("src"), try lab.file("src/\u{e9}.txt"), try lab.file("src/e\u{301}.txt")])
        let diff = try VersionDiff(lab.vault, from: before, to: after)
        let added = diff.changes.compactMap { c -> [UInt8]? in
            if case .added(let e) = c { return Array(e.path.utf8) }
            return nil
        }
        #expect(added == [Array("src/e\u{301}.txt".utf8)])
        #expect(diff.unchanged == 2)
    }

    @Test func expandedFolderNamesStayBelowTheTarget() {
        func expanded(_ p: String) -> String { Restorer.expandedName(RelativePath(p)!).description }
        #expect(expanded("Export.zip") == "Export")
        #expect(expanded("a/Export.ZIP") == "a/Export")
        #expect(expanded(".zip") == ".zip.contents")
        #expect(expanded("...zip") == "...zip.contents")
        #expect(expanded("..zip") == "..zip.contents")
        #expect(expanded("a/...zip") == "a/...zip.contents")
        #expect(expanded("notes.txt") == "notes.txt.contents")
    }

    @Test func terminalTextEscapesControlsAndInvalidUTF8() {
        #expect(TerminalText.escape("plain name.txt") == "plain name.txt")
        #expect(TerminalText.escape("a\u{1b}[31mb\u{7}") == "a\\x1b[31mb\\x07")
        #expect(TerminalText.escape("csi\u{9b}2J") == "csi\\xc2\\x9b2J")
        #expect(TerminalText.escape("line\nbreak\ttab\u{7f}") == "line\\x0abreak\\x09tab\\x7f")
        #expect(TerminalText.escape(bytes: [0x61, 0xFF, 0x62, 0xC3]) == "a\\xffb\\xc3")
        #expect(TerminalText.escape("r\u{202e}txt.exe") == "r\\u{202e}txt.exe")
        #expect(TerminalText.escape("caf\u{e9} e\u{301} \u{600}") == "caf\u{e9} e\u{301} \u{600}")
        let once = TerminalText.escape(bytes: [0x1b, 0x5c, 0xFF, 0x0a])
        #expect(TerminalText.escape(once) == once, "escaping is idempotent")
    }

    // MARK: The descriptor walk alone (without openat2)

    @Test(arguments: [false, true])
    func deepFoldersAreCreatedInOneCall(fastPath: Bool) throws {
        let root = T.scratch("deep")
        let place = RelativePath((1...20).map { "level\($0)" }.joined(separator: "/"))!
        let folder = try RestoreFolder(path: root, force: false, folders: [], fastPath: fastPath)
        close(try #require(try folder.openFolder(place.components[...], create: true, for: place)))
        var st = stat()
        #expect(stat(root + "/" + place.description, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR)
    }

    @Test func theWalkCreatesFoldersAndRefusesLinks() throws {
        let root = T.scratch("walk")
        let outside = T.scratch("walk-outside")
        let place = RelativePath("a/b/c")!
        let folder = try RestoreFolder(path: root + "/t", force: false, folders: [], fastPath: false)
        let fd = try #require(try folder.openFolder(place.components[...], create: true, for: place))
        close(fd)
        var st = stat()
        #expect(stat(root + "/t/a/b/c", &st) == 0 && st.st_mode & S_IFMT == S_IFDIR)
        #expect(try folder.openFolder(RelativePath("a/missing")!.components[...], create: false, for: place) == nil)
        #expect(symlink(outside, root + "/t/a/link") == 0)
        let below = RelativePath("a/link/x")!
        #expect(throws: CofferError.self) { _ = try folder.openFolder(below.components[...], create: true, for: below) }
        #expect(throws: CofferError.self) { _ = try folder.existing(below) }
        T.write(root + "/t/a/file", [1])
        let underFile = RelativePath("a/file/x")!
        #expect(throws: CofferError.self) { _ = try folder.openFolder(underFile.components[...], create: true, for: underFile) }
        #expect(names(outside).isEmpty)
        // openat2 (where the kernel has it) refuses the same link and opens the real folders.
        if Openat2.available {
            #expect(Openat2.openFolderBeneath(folder.fd, below.parentComponents) == .walk)
            #expect(Openat2.openFolderBeneath(folder.fd, RelativePath("a/missing")!.components[...]) == .missing)
            guard case .opened(let real) = Openat2.openFolderBeneath(folder.fd, place.components[...]) else {
                Issue.record("openat2 did not open a/b/c")
                return
            }
            close(real)
        }
        // With force, a link where the version has a folder is replaced (the link, not its target).
        let forced = try RestoreFolder(path: root + "/t", force: true, folders: [RelativePath("a/link")!], fastPath: false)
        close(try #require(try forced.openFolder(below.parentComponents, create: true, for: below)))
        #expect(lstat(root + "/t/a/link", &st) == 0 && st.st_mode & S_IFMT == S_IFDIR)
        #expect(names(outside).isEmpty)
    }
}
