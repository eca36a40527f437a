// DictionaryZipOrderTests.swift: the first seal's dictionary learns from the whole of a zip,
// whatever order its members come in.

import CofferCrypto
import Foundation
import Testing

@testable import CofferCore
@testable import CofferExports
@testable import ExportGenerator

@Suite struct DictionaryZipOrderTests {
    /// `bytes` cut into `size`-byte pieces (the last may be shorter).
    static func pieces(_ bytes: [UInt8], size: Int) -> [[UInt8]] {
        stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<min(bytes.count, $0 + size)]) }
    }

    /// The bytes zstd makes of `chunks` with `dictionary` at level 1, summed.
    static func compressed(_ chunks: [[UInt8]], with dictionary: [UInt8]) throws -> Int {
        let d = try ZstdDictionary(id: .zero, bytes: dictionary)
        let zstd = Zstd(level: 1)
        var total = 0
        for c in chunks {
            var out = [UInt8](repeating: 0, count: c.count + 1024)
            let n = c.withUnsafeBytes { i in out.withUnsafeMutableBytes { zstd.compress(i, into: $0, dictionary: d, level: 1) } }
            total += n ?? c.count
        }
        return total
    }

    /// A LinkedIn zip listing Connections.csv (about 0.9 MB) first and messages.csv (most of
    /// the export) last, as LinkedIn may: the first MiB of small chunks is nearly all
    /// Connections.csv, yet the vault's dictionary compresses messages.csv better than one
    /// trained on that first MiB; the zip comes back byte for byte.
    @Test func aZipWhoseFirstMiBIsOneMemberTrainsOnTheBulkToo() throws {
        let dir = try makeTemporaryDirectory("dictorder")
        defer { removeTemporaryDirectory(dir) }
        let export = smallSeries(seed: 31, months: 1, connections: 8000, messagesBytes: 2_500_000)[0]
        func rank(_ path: String) -> Int { path == "Connections.csv" ? 0 : path == "messages.csv" ? 2 : 1 }
        let members = export.members.sorted { rank($0.path) < rank($1.path) }
        let connections = try #require(export.member("Connections.csv")).contents
        let messages = try #require(export.member("messages.csv")).contents
        #expect(connections.count > 800_000 && messages.count > 2_000_000)
        var writer = ZipWriter(options: .linkedIn)
        for m in members { try writer.addFile(m.path, contents: m.contents, modified: m.dosTimestamp) }
        let zip = try writer.finish()
        let path = dir.path + "/in/" + export.zipFileName
        try FileManager.default.createDirectory(atPath: dir.path + "/in", withIntermediateDirectories: true)
        try Data(zip).write(to: URL(fileURLWithPath: path))

        var o = VaultOptions()
        o.kdf = .insecureTestOnly
        let pass = Array("dictionary order".utf8).withUnsafeBytes { SecureBytes(copying: $0) }
        let state = RollbackState(directory: dir.path + "/state")
        let vault = try Vault.create(at: dir.path + "/vault", passphrase: pass, options: o, state: state)
        var seal = SealOptions()
        seal.archiveHandler = ZipArchiveHandler()
        let r = try vault.seal([path], options: seal)
        #expect(try vault.listing(r.id).first?.type == .archive)
        let ids = try vault.dictionaryIDs()
        try #require(ids.count == 1)
        let trained = try Vault.readDictionary(backend: vault.backend, id: ids[0], vaultID: vault.vaultID, keys: vault.keys).bytes

        // What the seal trained on before: the first MiB of small pieces in member order.
        var firstMiB: [[UInt8]] = []
        for c in members.flatMap({ Self.pieces($0.contents, size: 12 << 10) }) where firstMiB.reduce(0, { $0 + $1.count }) < DictionaryPolicy.sampleBytes {
            firstMiB.append(c)
        }
        let old = try #require(ZstdDictionary.train(
            samples: firstMiB.flatMap { $0 }, sizes: firstMiB.map(\.count), capacity: DictionaryPolicy.capacity(forSampleBytes: 1 << 20)))
        let bulk = Self.pieces(Array(messages.suffix(600_000)), size: 12 << 10)
        let now = try Self.compressed(bulk, with: trained), before = try Self.compressed(bulk, with: old)
        #expect(now * 100 < before * 80, "messages.csv compresses to \(now) bytes with the vault's dictionary, \(before) with the first MiB's")

        let reopened = try Vault.open(at: dir.path + "/vault", passphrase: pass, state: state)
        var ro = RestoreOptions()
        ro.archiveHandler = ZipArchiveHandler()
        try reopened.restore(r.id, to: dir.path + "/out", options: ro)
        #expect(FileManager.default.contents(atPath: dir.path + "/out/" + export.zipFileName).map { [UInt8]($0) } == zip)
        #expect(try reopened.check(readDataFraction: 1).isClean)
    }
}
