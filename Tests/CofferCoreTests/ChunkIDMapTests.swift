@testable import CofferCore
import Testing

/// Copy's compact chunk-id map (Copy/ChunkIDMap.swift): what a `[ObjectID: ObjectID]` would
/// answer, across merges of its small dictionary into the sorted run.
@Suite struct ChunkIDMapTests {
    private static func id(_ rng: inout SplitMix64) -> ObjectID {
        ObjectID(w0: rng.next(), w1: rng.next(), w2: rng.next(), w3: rng.next())
    }

    @Test("an empty map finds nothing")
    func empty() {
        let map = ChunkIDMap()
        var rng = SplitMix64(seed: 1)
        #expect(map.count == 0)
        #expect(map[Self.id(&rng)] == nil)
        #expect(map[.zero] == nil)
    }

    @Test("every pair added is found, across many merges, and no other key")
    func findsWhatWasAdded() {
        let map = ChunkIDMap()
        var rng = SplitMix64(seed: 2)
        var reference: [ObjectID: ObjectID] = [:]
        var keys: [ObjectID] = []
        for n in 0..<150_000 {
            let k = Self.id(&rng), v = Self.id(&rng)
            #expect(map[k] == nil)
            map[k] = v
            reference[k] = v
            keys.append(k)
            if n % 9_973 == 0 {
                #expect(map[keys[n / 2]] == reference[keys[n / 2]])
                #expect(map[k] == v)
            }
        }
        #expect(map.count == 150_000)
        // Several merges happened: most pairs are in the sorted run, the rest in the dictionary.
        #expect(map.mergedCount >= 150_000 - (1 << 14) && map.mergedCount < 150_000)
        #expect(keys.allSatisfy { map[$0] == reference[$0] })
        #expect((0..<10_000).allSatisfy { _ in map[Self.id(&rng)] == nil })
    }

    @Test("setting a key already there replaces its value, merged or not, and adds no pair")
    func duplicatesReplace() {
        let map = ChunkIDMap()
        var rng = SplitMix64(seed: 3)
        let keys = (0..<40_000).map { _ in Self.id(&rng) }
        for k in keys { map[k] = k }
        let merged = map.mergedCount
        #expect(merged > 0 && merged < keys.count)
        // The first keys are in the sorted run, the last ones still in the dictionary.
        let early = keys[0], late = keys[keys.count - 1]
        let a = Self.id(&rng), b = Self.id(&rng)
        map[early] = a
        map[late] = b
        #expect(map[early] == a)
        #expect(map[late] == b)
        #expect(map.count == keys.count)
        #expect(map[keys[1]] == keys[1])
        // Keys next to one another in the order (sharing their first words) stay apart.
        let near = ObjectID(w0: early.w0, w1: early.w1, w2: early.w2, w3: early.w3 &+ 1)
        #expect(map[near] == nil)
        map[near] = b
        #expect(map[near] == b && map[early] == a)
    }

    @Test("removeAll empties the map, which fills again")
    func removeAll() {
        let map = ChunkIDMap()
        var rng = SplitMix64(seed: 4)
        let keys = (0..<20_000).map { _ in Self.id(&rng) }
        for k in keys { map[k] = k }
        map.removeAll()
        #expect(map.count == 0 && map.mergedCount == 0)
        #expect(keys.allSatisfy { map[$0] == nil })
        for k in keys.prefix(100) { map[k] = .zero }
        #expect(map.count == 100)
        #expect(map[keys[99]] == .zero && map[keys[100]] == nil)
    }
}
