// ExpandConfineTests.swift: `restore --expand` writes a zip's members only below the folder it
// expands into, whatever the member names (no key is needed to make such a zip).

import CofferCore
import CofferCrypto
import Foundation
import Testing

@testable import CofferExports

private func names(_ dir: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
}

/// Every path below `dir` (relative, files and folders), sorted.
private func tree(_ dir: String) -> [String] {
    var out: [String] = []
    let e = FileManager.default.enumerator(atPath: dir)
    while let rel = e?.nextObject() as? String { out.append(rel) }
    return out.sorted()
}

/// A zip holding `ok.txt`, folder members `folders` and file members named `names`, each with
/// content "member".
private func craftedZip(_ names: [String], folders: [String] = []) throws -> [UInt8] {
    var options = ZipWriter.Options()
    options.allowDuplicateNames = true
    var w = ZipWriter(options: options)
    let time = try ZipWriter.DOSTimestamp(year: 2024, month: 3, day: 1)
    try w.addFile("ok.txt", contents: Array("fine".utf8), modified: time)
    for f in folders { try w.addDirectory(f, modified: time) }
    for n in names { try w.addFile(n, contents: Array("member".utf8), modified: time) }
    return try w.finish()
}

/// Seals `zip` as `home/in/<zipName>` and restores it with --expand into `home/restore`.
private func sealAndExpand(_ zip: [UInt8], zipName: String = "Export.zip", force: Bool = false, plant: ((String) -> Void)? = nil)
    throws -> (home: String, result: RestoreResult, sealNotes: [String])
{
    let dir = try makeTemporaryDirectory("expandconfine")
    let home = dir.path + "/home"
    try FileManager.default.createDirectory(atPath: home + "/in", withIntermediateDirectories: true)
    try Data(zip).write(to: URL(fileURLWithPath: home + "/in/" + zipName))
    var vo = VaultOptions()
    vo.kdf = .insecureTestOnly
    let pass = Array("zip tests".utf8).withUnsafeBytes { SecureBytes(copying: $0) }
    let vault = try Vault.create(at: dir.path + "/vault", passphrase: pass, options: vo, state: RollbackState(directory: dir.path + "/state"))
    var so = SealOptions()
    so.archiveHandler = ZipArchiveHandler()
    let sealed = try vault.seal([home + "/in/" + zipName], options: so)
    #expect(try vault.listing(sealed.id).first?.type == .archive)
    try FileManager.default.removeItem(atPath: home + "/in")
    plant?(home)
    var ro = RestoreOptions()
    ro.archiveHandler = ZipArchiveHandler()
    ro.expandArchives = true
    ro.force = force
    return (home, try vault.restore(sealed.id, to: home + "/restore", options: ro), sealed.version.notes)
}

@Suite struct ExpandConfineTests {
    /// Member names that must never be written: the first two passed the old Character-based
    /// check (`/\u{301}` and `\u{600}/` are single Characters) and wrote `x` next to the
    /// expansion folder; the backslash forms are how unzip reads them.
    static let unsafeNames = [
        "../\u{301}Q\u{600}/../x", "../\u{301}x", "..", "../x", "/x", "/tmp/x", "a/../../x", "..\\x", "a\\..\\..\\x", "\\x",
        "C:\\..\\x", "a\0b", "./x",
    ]

    @Test func unsafeMembersAreSkippedWithANoteAndNeverWritten() throws {
        let (home, result, sealNotes) = try sealAndExpand(try craftedZip(Self.unsafeNames))
        defer { removeTemporaryDirectory(URL(fileURLWithPath: home).deletingLastPathComponent()) }
        #expect(names(home) == ["restore"])
        #expect(tree(home + "/restore") == ["Export", "Export/ok.txt"])
        #expect(result.notes.count == Self.unsafeNames.count, "\(result.notes)")
        #expect(result.notes.allSatisfy { $0.contains("not written: its name is not a safe relative path") })
        #expect(!result.notes.joined().contains("\0"), "a NUL is shown escaped")
        #expect(result.notes.contains { $0.contains("member 'a\\x00b' not written") })
        // The seal says so too.
        #expect(sealNotes.contains { $0.hasPrefix("Export.zip: \(Self.unsafeNames.count) members ('") && $0.contains("restore --expand skips them") }, "\(sealNotes)")
    }

    /// The folder member made the helper folder `restore/\u{301}Q\u{600}` (one component for
    /// a Character split); through it, `x` landed next to the expansion folder.
    @Test func aMemberHidingDotDotFromACharacterSplitStaysOut() throws {
        let (home, result, _) = try sealAndExpand(try craftedZip(["../\u{301}Q\u{600}/../x"], folders: ["../\u{301}Q\u{600}"]))
        defer { removeTemporaryDirectory(URL(fileURLWithPath: home).deletingLastPathComponent()) }
        #expect(tree(home + "/restore") == ["Export", "Export/ok.txt"])
        #expect(result.notes.count == 2, "\(result.notes)")
    }

    @Test func aBackslashSeparatesFoldersInMemberNames() throws {
        let (home, result, _) = try sealAndExpand(try craftedZip(["docs\\a.txt", "docs\\sub\\b.txt"]))
        defer { removeTemporaryDirectory(URL(fileURLWithPath: home).deletingLastPathComponent()) }
        #expect(result.notes.isEmpty)
        #expect(tree(home + "/restore/Export") == ["docs", "docs/a.txt", "docs/sub", "docs/sub/b.txt", "ok.txt"])
    }

    /// A zip named `...zip` used to expand into `..` (the name without `.zip`): its members
    /// landed next to the target.
    @Test(arguments: ["...zip", "..zip", ".zip"])
    func aZipWhoseNameWithoutZipIsDotOrDotDotExpandsBelowTheTarget(zipName: String) throws {
        let (home, _, _) = try sealAndExpand(try craftedZip([]), zipName: zipName)
        defer { removeTemporaryDirectory(URL(fileURLWithPath: home).deletingLastPathComponent()) }
        #expect(names(home) == ["restore"])
        #expect(tree(home + "/restore") == [zipName + ".contents", zipName + ".contents/ok.txt"])
    }

    /// A link planted where the zip expands (`restore/Export -> outside`) is not followed, even
    /// with --force: the link is replaced by the folder.
    @Test func aLinkPlantedWhereTheZipExpandsIsNotFollowed() throws {
        let (home, _, _) = try sealAndExpand(try craftedZip(["data/y.txt"]), force: true) { home in
            try? FileManager.default.createDirectory(atPath: home + "/outside", withIntermediateDirectories: true)
            try? FileManager.default.createDirectory(atPath: home + "/restore", withIntermediateDirectories: true)
            symlink(home + "/outside", home + "/restore/Export")
        }
        defer { removeTemporaryDirectory(URL(fileURLWithPath: home).deletingLastPathComponent()) }
        #expect(names(home + "/outside").isEmpty)
        #expect(tree(home + "/restore") == ["Export", "Export/data", "Export/data/y.txt", "Export/ok.txt"])
    }
}
