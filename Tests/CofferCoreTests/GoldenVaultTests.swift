@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// The golden vault freezes format version 1: it was written once by `writeGoldenVault` (run
/// with COFFER_WRITE_GOLDEN=<folder>) and committed under Tests/CofferCoreTests/Golden/v1.
/// Any change to the format that current code can no longer read fails here.
@Suite struct GoldenVaultTests {
    static let passphrase = "golden vault passphrase"

    /// The input that was sealed (deterministic).
    static func input(_ root: String, month: Int) -> String {
        let dir = root + "/Basic_LinkedInDataExport"
        T.write(dir + "/Connections.csv", T.csv(rows: 600 + 20 * month, seed: 42))
        T.write(dir + "/media/photo.bin", T.bytes(150 << 10, seed: 43))
        T.write(dir + "/notes/ünïcödé name.txt", Array("month \(month)\n".utf8))
        try? FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        try? FileManager.default.createSymbolicLink(atPath: dir + "/latest.csv", withDestinationPath: "Connections.csv")
        return dir
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["COFFER_WRITE_GOLDEN"] != nil))
    func writeGoldenVault() throws {
        let out = ProcessInfo.processInfo.environment["COFFER_WRITE_GOLDEN"]!
        var o = T.cheap
        o.packTargetSize = 64 << 10
        let v = try Vault.create(at: out, passphrase: T.secret(Self.passphrase), options: o, host: "golden-host", state: nil, format: 1)
        for month in 0..<2 {
            let src = T.scratch("golden")
            let dir = Self.input(src, month: month)
            var s = SealOptions()
            s.time = Date(timeIntervalSince1970: 1_767_225_600 + Double(month) * 2_592_000)  // 2026-01-01, then 30 days later
            s.host = "golden-host"
            s.tags = ["golden"]
            _ = try v.seal([dir], options: s)
        }
    }

    @Test func currentCodeReadsTheGoldenVault() throws {
        let golden = try #require(Bundle.module.resourcePath).appending("/Golden/v1")
        // Work on a copy: opening writes nothing, but restore targets and state live elsewhere.
        let root = T.scratch("golden-copy")
        try FileManager.default.copyItem(atPath: golden, toPath: root + "/vault")
        let v = try Vault.open(at: root + "/vault", passphrase: T.secret(Self.passphrase), state: RollbackState(directory: root + "/state"))
        #expect(v.config.format == 1)
        #expect(v.config.tiers == [
            ChunkTier(maxFileSize: 16 << 20, sizes: ChunkSizes(min: 4 << 10, average: 16 << 10, max: 64 << 10)),
            ChunkTier(maxFileSize: UInt64.max, sizes: ChunkSizes(min: 256 << 10, average: 1 << 20, max: 4 << 20)),
        ])
        #expect(v.config.compressionLevel == 3)
        #expect(v.config.packTargetSize == 64 << 10)
        #expect(v.head.generation == 3)
        let versions = try v.versions()
        #expect(versions.count == 2)
        let report = try v.check(readDataFraction: 1)
        #expect(report.isClean, "\(report.errors)")
        #expect(report.packsRead >= 2)
        for (month, (id, version)) in versions.enumerated() {
            #expect(version.name == "Basic_LinkedInDataExport")
            #expect(version.host == "golden-host")
            #expect(version.tags == ["golden"])
            #expect(version.time == Date(timeIntervalSince1970: 1_767_225_600 + Double(month) * 2_592_000))
            let expected = T.scratch("golden-expected")
            let dir = Self.input(expected, month: month)
            let out = T.scratch("golden-out")
            try v.restore(id, to: out)
            for rel in ["Connections.csv", "media/photo.bin", "notes/ünïcödé name.txt"] {
                #expect(T.read(out + "/Basic_LinkedInDataExport/" + rel) == T.read(dir + "/" + rel), "\(rel) of month \(month)")
            }
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: out + "/Basic_LinkedInDataExport/latest.csv") == "Connections.csv")
            var isDir: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: out + "/Basic_LinkedInDataExport/empty", isDirectory: &isDir) && isDir.boolValue)
        }
        // The second version deduplicated against the first.
        #expect(versions[1].version.stats.addedChunks < versions[0].version.stats.addedChunks)
    }
}

/// The golden vault for version body 2 (archive entries), written once with the toy archive
/// handler by `writeGoldenArchiveVault` (COFFER_WRITE_GOLDEN_ARCHIVE=<folder>).
@Suite struct GoldenArchiveVaultTests {
    static let passphrase = "golden archive passphrase"
    static func payload(_ month: Int) -> [UInt8] { T.csv(rows: 300 + 10 * month, seed: 77) }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["COFFER_WRITE_GOLDEN_ARCHIVE"] != nil))
    func writeGoldenArchiveVault() throws {
        let out = ProcessInfo.processInfo.environment["COFFER_WRITE_GOLDEN_ARCHIVE"]!
        let v = try Vault.create(at: out, passphrase: T.secret(Self.passphrase), options: T.cheap, host: "golden-host", state: nil, format: 1)
        for month in 0..<2 {
            let dir = T.scratch("golden-archive") + "/exports"
            T.write(dir + "/export.toy", ToyArchiveHandler.magic + Self.payload(month))
            var s = SealOptions()
            s.archiveHandler = ToyArchiveHandler()
            s.time = Date(timeIntervalSince1970: 1_767_225_600 + Double(month) * 2_592_000)
            s.host = "golden-host"
            _ = try v.seal([dir], options: s)
        }
    }

    @Test func currentCodeReadsTheGoldenArchiveVault() throws {
        let golden = try #require(Bundle.module.resourcePath).appending("/Golden/v1-archive")
        let root = T.scratch("golden-archive-copy")
        try FileManager.default.copyItem(atPath: golden, toPath: root + "/vault")
        let v = try Vault.open(at: root + "/vault", passphrase: T.secret(Self.passphrase), state: RollbackState(directory: root + "/state"))
        let versions = try v.versions()
        #expect(versions.count == 2)
        #expect(try v.check(readDataFraction: 1).isClean)
        for (month, (id, version)) in versions.enumerated() {
            let e = try #require(try v.listing(id).first { $0.path == "exports/export.toy" })
            #expect(e.type == .archive)
            #expect(e.archive?.members.map(\.name) == ["inner.txt", "raw.bin", "folder/", "../escape.txt"])
            let out = T.scratch("golden-archive-out")
            var ro = RestoreOptions()
            ro.archiveHandler = ToyArchiveHandler()
            try v.restore(id, to: out, options: ro)
            #expect(T.read(out + "/exports/export.toy") == ToyArchiveHandler.magic + Self.payload(month))
        }
    }
}
