@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// Format-2 seals of many chunks write packs of bounded entry counts and their index files as
/// they go (``Sealer/Limits``), so the seal's memory does not grow with its chunk count. The
/// limits here are test-only small ones (31 blobs a pack, a flush every 64 entries), so a few
/// hundred tiny files reach several packs and index files.
@Suite struct IndexFlushTests {
    static let limits = Sealer.Limits(packEntries: 31, indexFlushEntries: 64)

    static func options(_ limits: Sealer.Limits = limits) -> SealOptions {
        var o = SealOptions()
        o.sealerLimits = limits
        return o
    }

    /// `count` tiny files (one chunk each) under a new folder, contents no other seal has.
    static func tinyFiles(count: Int, seed: UInt64) -> String {
        let dir = T.scratch("in") + "/tiny\(seed)"
        for i in 0..<count { T.write(dir + "/d\(i / 50)/f\(i).json", T.bytes(100 + i % 50, seed: seed * 100_000 + UInt64(i))) }
        return dir
    }

    /// The modification times (s, ns) of the files under `folder` of the vault at `path`, by name.
    static func times(_ path: String, _ folder: String) -> [String: [Int]] {
        var out: [String: [Int]] = [:]
        for name in T.files(in: path) where name.hasPrefix(folder + "/") {
            var st = stat()
            if stat(path + "/" + name, &st) == 0 { out[String(name.split(separator: "/").last!)] = [st.st_mtim.tv_sec, st.st_mtim.tv_nsec] }
        }
        return out
    }

    @Test("a seal of more chunks than the flush limit writes several index files, listed in order; it opens, restores and checks")
    func severalIndexFiles() throws {
        let f = try T.vault(format: 2)
        let before = f.vault.head.indexFiles ?? []
        let dir = Self.tinyFiles(count: 400, seed: 1)
        let r = try f.vault.seal([dir], options: Self.options())
        #expect(r.version.stats.addedChunks == 400)

        // Several index files, all listed by the head after the ones before, in the order written.
        let listed = try #require(f.vault.head.indexFiles)
        #expect(Array(listed.prefix(before.count)) == before)
        let new = Array(listed.dropFirst(before.count))
        let times = Self.times(f.path, "index")
        #expect(Set(times.keys) == Set(listed.map(\.hex)))
        for (a, b) in zip(new, new.dropFirst()) {
            let ta = try #require(times[a.hex]), tb = try #require(times[b.hex])
            #expect(ta.lexicographicallyPrecedes(tb) || ta == tb, "index \(a.short) is listed before \(b.short), written after it")
        }
        // Written during the seal: several index files are older than its last pack.
        let lastPack = try #require(Self.times(f.path, "packs").values.max { $0.lexicographicallyPrecedes($1) })
        let early = new.filter { times[$0.hex]!.lexicographicallyPrecedes(lastPack) }
        #expect(early.count >= 2, "\(early.count) of \(new.count) index files were written before the seal's last pack")

        // Every pack in exactly one file, none over the entry limit.
        var packs: [ObjectID: Int] = [:]
        var perFile: [Int] = []
        for id in new {
            let file = try IndexFile.decode(try IndexHeadTests.indexBody(f.vault, id))
            #expect(file.bodyVersion == 2)
            for p in file.packs {
                #expect(packs[p.pack] == nil, "pack \(p.pack.short) is listed twice")
                packs[p.pack] = p.entries.count
                #expect(p.entries.count <= Self.limits.packEntries, "pack \(p.pack.short) holds \(p.entries.count) blobs")
            }
            perFile.append(file.packs.reduce(0) { $0 + $1.entries.count })
        }
        #expect(Set(packs.keys) == Set(try f.vault.backend.ids(in: .packs)))
        #expect(perFile.reduce(0, +) >= 400)

        // The seal's vault reads the flushed files back: it knows every chunk, as a fresh open does,
        // and a second seal of the same files stores nothing new.
        let fresh = try f.reopenFresh()
        #expect(fresh.index.count == f.vault.index.count)
        #expect(fresh.index.packs == f.vault.index.packs)
        let again = try f.vault.seal([dir], options: Self.options())
        #expect(again.version.stats.addedChunks == 0)

        let out = T.scratch("out")
        try fresh.restore(r.id, to: out)
        #expect(T.tree(dir) == T.tree(out + "/" + (dir as NSString).lastPathComponent))
        let check = try f.reopenFresh().check(readDataFraction: 1)
        #expect(check.isClean, "\(check.errors)")
        #expect(check.unlistedIndexFiles.isEmpty && check.unreferencedPacks.isEmpty)
    }

    @Test("a seal below the flush limit writes one index file at its end, as before")
    func smallSealOneFile() throws {
        let f = try T.vault(format: 2)
        let before = IndexHeadTests.indexNames(f.path)
        _ = try f.vault.seal([Self.tinyFiles(count: 20, seed: 2)], options: Self.options())
        #expect(IndexHeadTests.indexNames(f.path).subtracting(before).count == 1)
    }

    @Test("a seal stopped between two index flushes leaves the vault as it was; check names the unlisted files, prune removes them")
    func stoppedBetweenFlushes() throws {
        let f = try T.vault(format: 2)
        let first = try f.vault.seal([Self.tinyFiles(count: 10, seed: 3)])
        let headBefore = f.vault.head
        let indexBefore = IndexHeadTests.indexNames(f.path)
        let packsBefore = Set(try f.vault.backend.ids(in: .packs))

        // Stops the seal once its first index file is written. 200 tiny files, then a 20 MiB file
        // (three 8 MiB batches), then 200 more tiny files: those are read only once the first batch
        // is stored, its packs written and their index flushed, so the stop falls between that
        // flush and the seal's end.
        let path = f.path
        let count = 400
        var options = Self.options()
        options.isCancelled = { IndexHeadTests.indexNames(path).count > indexBefore.count }
        let dir = Self.tinyFiles(count: count, seed: 4)
        T.write(dir + "/d3x/large.bin", T.bytes(20 << 20, seed: 44))
        do {
            _ = try f.vault.seal([dir], options: options)
            Issue.record("the seal was not stopped")
        } catch CofferError.interrupted {}
        let flushed = IndexHeadTests.indexNames(f.path).subtracting(indexBefore)
        #expect(!flushed.isEmpty, "the stopped seal wrote an index file before it stopped")

        // Nothing committed: the same head, the same index for a fresh reader.
        let v = try f.reopenFresh()
        #expect(v.headID == f.vault.headID)
        #expect(v.head.generation == headBefore.generation && v.head.live == headBefore.live)
        #expect(v.head.indexFiles == headBefore.indexFiles)
        #expect(v.index.packs == packsBefore)
        let check = try v.check(readDataFraction: 1)
        #expect(check.isClean, "\(check.errors)")
        #expect(Set(check.unlistedIndexFiles.map { "index/" + $0.hex }) == flushed)
        #expect(!check.unreferencedPacks.isEmpty)
        let out = T.scratch("out")
        try v.restore(first.id, to: out)

        // The next seal stores the files anew; prune removes what the stopped one left.
        let next = try v.seal([dir], options: Self.options())
        #expect(next.version.stats.addedChunks > UInt64(count))
        var prune = PruneOptions()
        prune.minimumAge = 0
        _ = try v.prune(options: prune)
        #expect(IndexHeadTests.indexNames(f.path).isDisjoint(with: flushed))
        let after = try f.reopenFresh().check(readDataFraction: 1)
        #expect(after.isClean && after.unlistedIndexFiles.isEmpty && after.unreferencedPacks.isEmpty)
        let out2 = T.scratch("out2")
        try f.reopenFresh().restore(next.id, to: out2)
        #expect(T.tree(dir) == T.tree(out2 + "/" + (dir as NSString).lastPathComponent))
    }
}

@Suite struct ChunkIDSetTests {
    @Test("the compact id set finds every id added, across merges, and no other")
    func findsWhatWasAdded() {
        let set = ChunkIDSet()
        var rng = SplitMix64(seed: 9)
        func id() -> ObjectID { ObjectID(w0: rng.next(), w1: rng.next(), w2: rng.next(), w3: rng.next()) }
        let added = (0..<40_000).map { _ in id() }
        for (n, a) in added.enumerated() {
            #expect(!set.contains(a))
            set.insert(a)
            if n % 9_999 == 0 { #expect(set.contains(added[n / 2])) }
        }
        #expect(set.count == added.count)
        #expect(added.allSatisfy { set.contains($0) })
        #expect((0..<10_000).allSatisfy { _ in !set.contains(id()) })
    }
}
