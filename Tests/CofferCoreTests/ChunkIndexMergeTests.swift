@testable import CofferCore
import Testing

/// The in-memory index (Index/ChunkIndex.swift): batches merged into one sorted buffer grown in
/// place; the first location of a chunk wins; copies of an index do not share changes.
@Suite struct ChunkIndexMergeTests {
    private static func id(_ rng: inout SplitMix64) -> ObjectID {
        ObjectID(w0: rng.next(), w1: rng.next(), w2: rng.next(), w3: rng.next())
    }

    private static func entry(_ id: ObjectID, offset: Int, type: BlobType = .data) -> PackEntry {
        PackEntry(type: type, flags: 1, id: id, offset: offset, envelopeLength: 40 + offset % 1000, plainLength: offset % 777)
    }

    @Test("chunks added in many batches are all found with their pack and place, and no other")
    func manyBatches() {
        var index = ChunkIndex()
        var rng = SplitMix64(seed: 11)
        var expected: [ObjectID: (pack: ObjectID, offset: Int)] = [:]
        for b in 0..<12 {
            var batch = ChunkIndex.Batch()
            for _ in 0..<(1 + b % 3) {
                let pack = Self.id(&rng)
                let entries = (0..<(2_000 + 500 * b)).map { k in Self.entry(Self.id(&rng), offset: 40 * k) }
                for e in entries { expected[e.id] = (pack, e.offset) }
                batch.append(pack: pack, entries: entries + [PackEntry(type: .padding, flags: 0, id: Self.id(&rng), offset: 0, envelopeLength: 40, plainLength: 0)])
            }
            index.add(batch)
            #expect(index.count == expected.count)
        }
        for (id, want) in expected {
            let loc = index.location(of: id)
            #expect(loc?.pack == want.pack && loc?.offset == want.offset && loc?.envelopeLength == 40 + want.offset % 1000 && loc?.plainLength == want.offset % 777)
        }
        #expect((0..<5_000).allSatisfy { _ in !index.contains(Self.id(&rng)) })
        #expect(index.locations.count == expected.count)
        #expect(index.packs.count == Set(expected.values.map(\.pack)).count)
    }

    @Test("the first location of a chunk wins: one already in the index, then the first in the batch")
    func firstLocationWins() {
        var index = ChunkIndex()
        var rng = SplitMix64(seed: 12)
        let a = Self.id(&rng), b = Self.id(&rng), c = Self.id(&rng)
        let p1 = Self.id(&rng), p2 = Self.id(&rng), p3 = Self.id(&rng)
        index.add(pack: p1, entries: [Self.entry(a, offset: 100)])
        var batch = ChunkIndex.Batch()
        batch.append(pack: p2, entries: [Self.entry(a, offset: 200), Self.entry(b, offset: 300), Self.entry(b, offset: 400)])
        batch.append(pack: p3, entries: [Self.entry(b, offset: 500), Self.entry(c, offset: 600, type: .tree)])
        index.add(batch)
        #expect(index.count == 3)
        #expect(index.location(of: a)?.pack == p1 && index.location(of: a)?.offset == 100)
        #expect(index.location(of: b)?.pack == p2 && index.location(of: b)?.offset == 300)
        #expect(index.location(of: c)?.pack == p3 && index.location(of: c)?.type == .tree)
        #expect(index.packs == [p1, p2, p3])
        // A batch of chunks the index holds adds its packs, and no record.
        var again = ChunkIndex.Batch()
        let p4 = Self.id(&rng)
        again.append(pack: p4, entries: [Self.entry(c, offset: 700)])
        index.add(again)
        #expect(index.count == 3 && index.location(of: c)?.pack == p3)
        #expect(index.packs.contains(p4))
    }

    @Test("a copy of an index keeps what it held when the original grows, and the other way round")
    func copiesDoNotShareChanges() {
        var index = ChunkIndex()
        var rng = SplitMix64(seed: 13)
        let first = (0..<3_000).map { Self.entry(Self.id(&rng), offset: $0) }
        index.add(pack: Self.id(&rng), entries: first)
        let saved = index
        let more = (0..<3_000).map { Self.entry(Self.id(&rng), offset: $0) }
        index.add(pack: Self.id(&rng), entries: more)
        #expect(saved.count == 3_000 && index.count == 6_000)
        #expect(first.allSatisfy { saved.contains($0.id) && index.contains($0.id) })
        #expect(more.allSatisfy { !saved.contains($0.id) && index.contains($0.id) })
        var other = saved
        let third = Self.entry(Self.id(&rng), offset: 1)
        other.add(pack: Self.id(&rng), entries: [third])
        #expect(other.contains(third.id) && !saved.contains(third.id) && !index.contains(third.id))
    }
}
