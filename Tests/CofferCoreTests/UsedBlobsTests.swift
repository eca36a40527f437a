@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

extension T {
    /// The vault formats the format-independent tests run on.
    static let vaultFormats = [1, 2]

    /// A vault of `format` with the test-only Argon2id profile.
    static func vault(format: Int, _ options: VaultOptions = T.cheap) throws -> Fixture {
        let f = try vault(options, format: format)
        #expect(f.vault.config.format == format, "this build creates format \(f.vault.config.format) vaults")
        return f
    }
}

/// `check` and `prune` find what live versions use by one walk: chunks, tree pieces and layout
/// pieces, each subtree shared by several versions walked once.
@Suite struct UsedBlobsTests {
    /// Prune after forget, repacking every partly used pack: every blob a kept version uses
    /// (chunks, and in format 2 its tree and layout pieces) is still in the index and in a pack,
    /// check reads everything clean, and each kept version restores exactly.
    @Test(arguments: T.vaultFormats) func pruneKeepsEveryBlobALiveVersionUses(format: Int) throws {
        var o = T.cheap
        o.packTargetSize = 64 << 10
        let f = try T.vault(format: format, o)
        var seal = SealOptions()
        seal.archiveHandler = ToyArchiveHandler()
        let dir = T.scratch("in") + "/d"
        for k in 0..<20 { T.write(dir + "/same/\(k).txt", T.bytes(3_000, seed: UInt64(k))) }
        var ids: [ObjectID] = []
        var trees: [[String: String]] = []
        for month in 0..<4 {
            T.write(dir + "/changing/data.bin", T.bytes(150 << 10, seed: UInt64(1_000 + month)))
            T.write(dir + "/exports/e.toy", ToyArchiveHandler.magic + T.bytes(40 << 10, seed: UInt64(month % 2)))
            ids.append(try f.vault.seal([dir], options: seal).id)
            trees.append(T.tree(dir))
        }
        try f.vault.forget([ids[0], ids[2]])
        var options = PruneOptions()
        options.repackThreshold = 0.01
        let report = try f.vault.prune(options: options)
        #expect(report.packsDeleted + report.packsRepacked > 0)

        let v = try f.reopen()
        var used = UsedBlobs()
        var missing: [UsedBlobs.Missing] = []
        for id in v.head.live { try v.markUsed(version: id, into: &used, missing: { missing.append($0) }) }
        #expect(missing.isEmpty)
        #expect(!used.chunks.isEmpty)
        if format >= 2 { #expect(!used.trees.isEmpty && !used.layouts.isEmpty, "format 2 versions are made of tree and layout pieces") }
        for id in used.chunks.union(used.trees).union(used.layouts) { #expect(v.index.contains(id)) }
        let check = try v.check(readDataFraction: 1)
        #expect(check.isClean, "\(check.errors)")
        for k in [1, 3] {
            let out = T.scratch("r")
            var r = RestoreOptions()
            r.archiveHandler = ToyArchiveHandler()
            try v.restore(ids[k], to: out, options: r)
            #expect(T.tree(out + "/d") == trees[k])
        }
    }

    /// A folder whose tree pieces an earlier version's walk saw is skipped (what is below was
    /// marked with them); a missing tree piece is reported with its folder, what is below it is
    /// not read, and a later version sharing it is named as damaged.
    @Test func sharedSubtreesAreWalkedOnceAndDamageIsShared() throws {
        let f = try T.vault()
        T.write(f.root + "/src/x", Array("x".utf8))
        let sealed = try f.vault.seal([f.root + "/src"]).id
        var present: ObjectID?
        try f.vault.walker(for: sealed).forEach { if $0.type == .file { present = $0.chunks.first } }
        let stored = try #require(present)  // in the index: stands for a stored tree piece
        let absent = ObjectID.hashing(Array("not stored".utf8))

        var shared = VersionEntry.raw(.directory, Array("d".utf8), mode: 0o755)
        shared.subtree = [stored]
        var file = VersionEntry.raw(.file, Array("d/f".utf8), size: 1)
        file.chunks = [stored]
        var broken = VersionEntry.raw(.directory, Array("e".utf8), mode: 0o755)
        broken.subtree = [absent]
        var unreadable = VersionEntry.raw(.file, Array("e/g".utf8), size: 1)
        unreadable.chunks = [absent]
        // Below the shared folder, the second walk has a file the index lacks: never looked at.
        var skipped = VersionEntry.raw(.file, Array("d/h".utf8), size: 1)
        skipped.chunks = [absent]

        var used = UsedBlobs()
        var missing: [String] = []
        var damaged: [String] = []
        func mark(_ entries: [VersionEntry]) throws {
            try f.vault.markUsed(
                rootTree: nil, walk: { .handBuilt(ListSource(entries)) }, into: &used,
                missing: { missing.append("\(String(decoding: $0.path, as: UTF8.self)) \($0.kind)") },
                damagedBelow: { damaged.append(String(decoding: $0, as: UTF8.self)) })
        }
        try mark([shared, file, broken, unreadable])
        #expect(missing == ["e tree piece"])
        #expect(used.trees == [stored, absent] && used.chunks == [stored])
        missing = []
        try mark([shared, skipped, broken, unreadable])
        #expect(missing.isEmpty, "the shared folder and the broken one were not walked again")
        #expect(damaged == ["e"])
        #expect(!used.chunks.contains(absent))
    }
}
