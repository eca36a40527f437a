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
        let v = try Vault.create(at: out, passphrase: T.secret(Self.passphrase), options: o, host: "golden-host", state: nil)
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
