// LayoutEstimateTests.swift: the layout size known from a zip's central directory
// (ZipDirectory.minimumLayoutBytes) is a lower bound of the layout the seal writes, close to
// it; a zip whose bound is over the layout cap is sealed as an ordinary file before its
// members are analysed, with the note a layout found too long after the analysis gets; the
// analysed plan's bound (ArchivePlan.minimumLayoutBytes, exact but for chunk ids) refuses a
// layout over the cap before anything of the archive is stored.

import CofferCrypto
import Foundation
import Testing

@testable import CofferCore
@testable import CofferExports

@Suite struct LayoutEstimateTests {
    private static func vault(_ dir: URL) throws -> Vault {
        var vo = VaultOptions()
        vo.kdf = .insecureTestOnly
        let pass = Array("layout estimate".utf8).withUnsafeBytes { SecureBytes(copying: $0) }
        return try Vault.create(at: dir.path + "/vault", passphrase: pass, options: vo, state: RollbackState(directory: dir.path + "/state"))
    }

    /// Zips made differently: tiny deflated members (a Takeout's), stored members with Unix
    /// modes and long non-ASCII names, folders, empty members, and a Python zipfile one.
    private static func zips(in dir: URL) throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        let time = try ZipWriter.DOSTimestamp(year: 2024, month: 3, day: 1)
        var tiny = ZipWriter(options: ZipWriter.Options())
        for k in 0..<600 {
            try tiny.addFile("Takeout/Mail/message-\(k).json", contents: Array("{\"id\": \(k), \"subject\": \"hello \(k % 7)\"}".utf8), modified: time)
        }
        out["tiny"] = try tiny.finish()
        var mixed = ZipWriter(options: ZipWriter.Options())
        try mixed.addDirectory("Fotos/", modified: time)
        for k in 0..<40 {
            let name = "Fotos/Été \(String(repeating: "ü", count: k)) \(k).txt"
            try mixed.addFile(name, contents: Array(repeating: UInt8(k), count: k * 300), modified: time)
        }
        try mixed.addFile("empty.txt", contents: [], modified: time)
        out["mixed"] = try mixed.finish()
        let py = dir.path + "/py.zip"
        let script = """
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
                for k in range(300):
                    z.writestr(f"dir{k % 5}/file-{k}.txt", ("line %d\\n" % k) * (k % 9))
                z.writestr(zipfile.ZipInfo("dir0/sub/"), b"")
            """
        let made = try runPython(script, [py])
        #expect(made.status == 0, "\(made.error)")
        out["python"] = Array(try Data(contentsOf: URL(fileURLWithPath: py)))
        return out
    }

    @Test func theBoundIsBelowTheLayoutWrittenAndCloseToIt() throws {
        let dir = try makeTemporaryDirectory("layoutestimate")
        defer { removeTemporaryDirectory(dir) }
        let vault = try Self.vault(dir)
        for (name, bytes) in try Self.zips(in: dir) {
            let input = dir.path + "/in-" + name
            try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: input + "/\(name).zip"))
            let directory = try ZipLayout.parseDirectory(ZipMemorySource(bytes))
            let bound = directory.minimumLayoutBytes
            var so = SealOptions()
            so.archiveHandler = ZipArchiveHandler()
            let id = try vault.seal([input], options: so).id
            var archive: VersionEntry?
            try vault.walker(for: id).forEach { if $0.type == .archive { archive = $0 } }
            let e = try #require(archive, "\(name): stored as an archive")
            let written = try e.layoutIDs.reduce(0) { $0 + (try #require(vault.index.location(of: $1)).plainLength) }
            #expect(bound <= written, "\(name): bound \(bound), layout \(written)")
            // The analysed plan's bound lies between, and misses only chunk ids: those of parts
            // cut into more than one chunk (the central directory, large members).
            let plan = try #require(try ZipArchiveHandler().analyse(path: input + "/\(name).zip", size: UInt64(bytes.count)))
            let planBound = plan.minimumLayoutBytes(isInline: inlinePartFlags(of: plan))
            #expect(bound <= planBound && planBound <= written, "\(name): directory \(bound), plan \(planBound), layout \(written)")
            #expect((written - planBound) % 32 == 0, "\(name): plan \(planBound), layout \(written)")
            if name != "mixed" { #expect(written - planBound < 32 * 64, "\(name): plan \(planBound), layout \(written)") }
            // Close for short names: what the analysis decides (a transform or an encoding) is
            // 5 bytes a member, and a local header of at most 84 bytes is counted exactly (a
            // longer one as the 89 bytes of a stored part, as a format-1 vault keeps it).
            if name != "mixed" {
                #expect(written - bound <= 6 * directory.memberCount + 16, "\(name): bound \(bound), layout \(written), \(directory.memberCount) members")
            }
        }
    }

    /// The tiny zip written as `dir/in/tiny.zip`: its bytes and the input folder.
    private static func tinyInput(in dir: URL) throws -> (bytes: [UInt8], input: String) {
        let bytes = try #require(try zips(in: dir)["tiny"])
        let input = dir.path + "/in"
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: input + "/tiny.zip"))
        return (bytes, input)
    }

    /// Seals `input` with `handler` (in series `name` when given): the version and the type
    /// `in/tiny.zip` was stored as.
    private static func seal(_ vault: Vault, _ input: String, handler: ZipArchiveHandler, name: String? = nil) throws -> (sealed: SealResult, type: EntryType?) {
        var so = SealOptions()
        so.archiveHandler = handler
        if let name { so.name = name }  // a series of its own: the unchanged file is not taken from the first version
        let sealed = try vault.seal([input], options: so)
        var type: EntryType?
        try vault.walker(for: sealed.id).forEach { if $0.pathBytes == Array("in/tiny.zip".utf8) { type = $0.type } }
        return (sealed, type)
    }

    @Test func aZipSureToBeOverTheCapIsSealedAsAFileWithoutItsAnalysis() throws {
        let dir = try makeTemporaryDirectory("layoutestimate-cap")
        defer { removeTemporaryDirectory(dir) }
        let vault = try Self.vault(dir)
        let (bytes, input) = try Self.tinyInput(in: dir)
        let bound = try ZipLayout.parseDirectory(ZipMemorySource(bytes)).minimumLayoutBytes
        // Just over the bound: refused before the analysis.
        var handler = ZipArchiveHandler()
        handler.maximumLayoutBytes = bound - 1
        var so = SealOptions()
        so.archiveHandler = handler
        let sealed = try vault.seal([input], options: so)
        var entries: [VersionEntry] = []
        try vault.walker(for: sealed.id).forEach { entries.append($0) }
        let file = try #require(entries.first { $0.pathBytes == Array("in/tiny.zip".utf8) })
        #expect(file.type == .file)
        #expect(file.sha256 == SHA256.hash(bytes))
        #expect(
            sealed.version.notes == [
                "in/tiny.zip: could not be stored as an archive (its layout takes at least \(bound) bytes, over \(bound - 1)); sealed as an ordinary file"
            ], "\(sealed.version.notes)")
        // At the bound: analysed (the plan's own bound then decides; the default cap here).
        handler.maximumLayoutBytes = Vault.maximumArchiveLayoutBytes
        let analysed = try Self.seal(vault, input, handler: handler, name: "again")
        #expect(analysed.sealed.version.notes.isEmpty, "\(analysed.sealed.version.notes)")
        #expect(analysed.type == .archive)
    }

    /// A layout whose directory bound fits but whose analysed plan does not (each member's
    /// transform and encoding count) is refused before any part is stored: the vault gains the
    /// file's chunks only, not one a member.
    @Test func aPlanOverTheCapStoresNothingOfTheArchive() throws {
        let dir = try makeTemporaryDirectory("layoutestimate-plan")
        defer { removeTemporaryDirectory(dir) }
        let vault = try Self.vault(dir)
        let (bytes, input) = try Self.tinyInput(in: dir)
        let bound = try ZipLayout.parseDirectory(ZipMemorySource(bytes)).minimumLayoutBytes
        let plan = try #require(try ZipArchiveHandler().analyse(path: input + "/tiny.zip", size: UInt64(bytes.count)))
        let planBound = plan.minimumLayoutBytes(isInline: inlinePartFlags(of: plan))
        #expect(bound < planBound)
        #expect(plan.minimumLayoutBytes(isInline: inlinePartFlags(of: plan), limit: bound) > bound, "stops once over the limit")
        var handler = ZipArchiveHandler()
        handler.maximumLayoutBytes = planBound - 1
        let (sealed, type) = try Self.seal(vault, input, handler: handler)
        #expect(type == .file)
        #expect(
            sealed.version.notes == [
                "in/tiny.zip: could not be stored as an archive (its layout takes at least \(planBound) bytes, over \(planBound - 1)); sealed as an ordinary file"
            ], "\(sealed.version.notes)")
        // The zip's own chunks (a few, at most one per 2 KiB), none of its 600 members'.
        #expect(sealed.version.stats.addedChunks <= UInt64(bytes.count / 2048 + 2), "\(sealed.version.stats.addedChunks) chunks added")
        // With room for the central directory's chunk ids it is stored member by member.
        handler.maximumLayoutBytes = planBound + 32 * 64
        let analysed = try Self.seal(vault, input, handler: handler, name: "again")
        #expect(analysed.sealed.version.notes.isEmpty, "\(analysed.sealed.version.notes)")
        #expect(analysed.type == .archive)
    }
}
