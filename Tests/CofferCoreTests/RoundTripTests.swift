@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

@Suite struct RoundTripTests {
    /// Seals `input` (a folder), restores it elsewhere and compares the whole tree.
    func roundTrip(_ f: T.Fixture, _ input: String) throws -> SealResult {
        let r = try f.vault.seal([input])
        let out = T.scratch("restore")
        try f.vault.restore(r.id, to: out)
        let base = (input as NSString).lastPathComponent
        #expect(T.tree(input) == T.tree(out + "/" + base))
        // And through a freshly opened vault (nothing cached).
        let out2 = T.scratch("restore2")
        try f.reopen().restore(r.id, to: out2)
        #expect(T.tree(input) == T.tree(out2 + "/" + base))
        return r
    }

    @Test(arguments: [0, 1, 2, 63, 64, 65])
    func tinyFiles(size: Int) throws {
        let f = try T.vault()
        let dir = T.scratch("in") + "/data"
        T.write(dir + "/f.bin", T.bytes(size, seed: UInt64(size)))
        let r = try roundTrip(f, dir)
        #expect(r.version.stats.files == 1)
        #expect(try f.vault.listing(r.id).first { $0.path == "data/f.bin" }?.size == UInt64(size))
    }

    /// Sizes at the chunker's limits and at the read-block boundary, ±1.
    @Test(arguments: [4 << 10, 16 << 10, 64 << 10, 128 << 10, 16 << 20, Sealer.blockSize])
    func boundarySizes(edge: Int) throws {
        let f = try T.vault()
        let dir = T.scratch("in") + "/edges"
        for d in [-1, 0, 1] {
            T.write(dir + "/r\(d + 1).bin", T.bytes(edge + d, seed: UInt64(edge + d)))
        }
        let r = try roundTrip(f, dir)
        #expect(r.version.stats.files == 3)
        for e in try f.vault.listing(r.id) where e.type == .file {
            let tier = f.vault.config.tier(forFileSize: e.size)
            #expect(e.chunks.count >= 1)
            #expect(e.chunks.count <= Int(e.size) / tier.min + 1)
        }
    }

    @Test func fiftyMiBFile() throws {
        let f = try T.vault()
        let dir = T.scratch("in") + "/big"
        var data = T.bytes(25 << 20, seed: 50)
        data += T.csv(rows: 200_000, seed: 51).prefix(25 << 20)
        T.write(dir + "/big.bin", data)
        let r = try roundTrip(f, dir)
        #expect(r.version.stats.bytes == UInt64(data.count))
        #expect(try f.vault.listing(r.id).first { $0.type == .file }?.sha256 == SHA256.hash(data))
    }

    @Test(arguments: [1, 2]) func emptyFolderSymlinkAndOddNames(format: Int) throws {
        let f = try T.vault(format: format)
        let dir = T.scratch("in") + "/tree"
        try FileManager.default.createDirectory(atPath: dir + "/empty folder", withIntermediateDirectories: true)
        T.write(dir + "/naïve café/résumé 2024.csv", T.csv(rows: 50, seed: 1))
        T.write(dir + "/日本語/ファイル.txt", Array("こんにちは".utf8))
        T.write(dir + "/with space/a b.txt", Array("x".utf8), mode: 0o600)
        T.write(dir + "/exec.sh", Array("#!/bin/sh\necho hi\n".utf8), mode: 0o755)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: "naïve café/résumé 2024.csv")
        try FileManager.default.createSymbolicLink(atPath: dir + "/dangling", withDestinationPath: "/nowhere/at/all")
        let r = try roundTrip(f, dir)
        #expect(r.version.stats.symlinks == 2)
        #expect(r.version.stats.directories == 5)
        #expect(try f.vault.listing(r.id).contains { $0.path == "tree/empty folder" && $0.type == .directory })
    }

    @Test(arguments: [1, 2]) func severalPathsEachUnderItsBaseName(format: Int) throws {
        let f = try T.vault(format: format)
        let a = T.scratch("a")
        T.write(a + "/one/x.txt", Array("one".utf8))
        T.write(a + "/single.txt", Array("single file".utf8))
        let r = try f.vault.seal([a + "/one", a + "/single.txt"], options: { var o = SealOptions(); o.name = "mix"; return o }())
        #expect(Set(try f.vault.listing(r.id).map(\.path)) == ["one", "one/x.txt", "single.txt"])
        let out = T.scratch("o")
        try f.vault.restore(r.id, to: out)
        #expect(T.read(out + "/single.txt") == Array("single file".utf8))
        #expect(T.read(out + "/one/x.txt") == Array("one".utf8))
    }

    @Test func readOneFileAsAStream() throws {
        let f = try T.vault()
        let dir = T.scratch("in") + "/s"
        let data = T.csv(rows: 20_000, seed: 3)
        T.write(dir + "/Connections.csv", data)
        let r = try f.vault.seal([dir])
        var got: [UInt8] = []
        var pieces = 0
        try f.vault.readFile(r.id, path: "s/Connections.csv") { got += $0; pieces += 1 }
        #expect(got == data)
        #expect(pieces > 1)
        #expect(throws: CofferError.self) { try f.vault.readFile(r.id, path: "s/missing.csv") { _ in } }
    }

    @Test func restoreRefusesToOverwriteUnlessForced() throws {
        let f = try T.vault()
        let dir = T.scratch("in") + "/d"
        T.write(dir + "/a.txt", Array("sealed".utf8))
        let r = try f.vault.seal([dir])
        let out = T.scratch("o")
        T.write(out + "/d/a.txt", Array("user's own file".utf8))
        #expect(throws: CofferError.self) { try f.vault.restore(r.id, to: out) }
        #expect(T.read(out + "/d/a.txt") == Array("user's own file".utf8))
        var o = RestoreOptions()
        o.force = true
        try f.vault.restore(r.id, to: out, options: o)
        #expect(T.read(out + "/d/a.txt") == Array("sealed".utf8))
    }

    @Test func includePatternsRestoreASubset() throws {
        let f = try T.vault()
        let dir = T.scratch("in") + "/exp"
        T.write(dir + "/Connections.csv", Array("c".utf8))
        T.write(dir + "/messages.csv", Array("m".utf8))
        T.write(dir + "/sub/Invitations.csv", Array("i".utf8))
        let r = try f.vault.seal([dir])
        let out = T.scratch("o")
        var o = RestoreOptions()
        o.include = ["exp/sub", "*/Connections.csv"]
        try f.vault.restore(r.id, to: out, options: o)
        #expect(T.read(out + "/exp/Connections.csv") == Array("c".utf8))
        #expect(T.read(out + "/exp/sub/Invitations.csv") == Array("i".utf8))
        #expect(T.read(out + "/exp/messages.csv") == nil)
    }

    @Test func versionsNamesTagsAndSelectors() throws {
        let f = try T.vault()
        let dir = T.scratch("in") + "/Basic_LinkedInDataExport"
        var ids: [ObjectID] = []
        for (i, day) in ["2026-01-15", "2026-02-14", "2026-03-16"].enumerated() {
            T.write(dir + "/Connections.csv", T.csv(rows: 100 + i, seed: 9))
            var o = SealOptions()
            o.tags = ["linkedin"]
            o.time = Vault.parseDay(day)!.addingTimeInterval(3600)
            ids.append(try f.vault.seal([dir], options: o).id)
        }
        let v = try f.reopen()
        #expect(try v.versions().map(\.id) == ids)
        #expect(try v.resolve("Basic_LinkedInDataExport@latest") == ids[2])
        #expect(try v.resolve("Basic_LinkedInDataExport") == ids[2])
        #expect(try v.resolve("Basic_LinkedInDataExport@-1") == ids[1])
        #expect(try v.resolve("Basic_LinkedInDataExport@-2") == ids[0])
        #expect(try v.resolve("Basic_LinkedInDataExport@2026-02-14") == ids[1])
        #expect(try v.resolve(String(ids[0].hex.prefix(10))) == ids[0])
        #expect(try v.version(ids[1]).tags == ["linkedin"])
        #expect(try v.version(ids[1]).parent == ids[0])
        #expect(throws: CofferError.self) { try v.resolve("Basic_LinkedInDataExport@-3") }
        do {
            _ = try v.resolve("Basic_LinkedInDataExport@2026-02-20")
            Issue.record("resolved a day without a version")
        } catch CofferError.versionNotFound(_, let candidates) {
            #expect(candidates.first == "Basic_LinkedInDataExport@2026-02-14")
        }
        do {
            _ = try v.resolve("Basic_Linked@latest")
            Issue.record("resolved an unknown name")
        } catch CofferError.versionNotFound(_, let candidates) {
            #expect(candidates == ["Basic_LinkedInDataExport@latest"])
        }
    }
}
