@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

@Suite struct PadmeTests {
    @Test func knownValues() {
        // Values from the PURBs paper's definition: keep the top ⌊log2 E⌋+1 bits of the exponent's mantissa.
        let cases: [(UInt64, UInt64)] = [(0, 0), (1, 1), (2, 2), (3, 3), (9, 10), (100, 104), (1000, 1024), (1_000_000, 1_015_808), (16 << 20, 16 << 20), ((16 << 20) + 1, (16 << 20) + (1 << 19))]
        for (l, p) in cases { #expect(Padme.padded(l) == p, "Padmé(\(l))") }
    }

    @Test func overheadIsBoundedAndIdempotent() {
        var rng = SplitMix64(seed: 3)
        for _ in 0..<10_000 {
            let l = rng.next() % (1 << 34) + 2
            let p = Padme.padded(l)
            #expect(p >= l)
            #expect(Double(p - l) <= Double(l) * 0.12)
            #expect(Padme.padded(p) == p)
        }
    }
}

@Suite struct ChunkerTests {
    let sizes = ChunkSizes(min: 4 << 10, average: 16 << 10, max: 64 << 10)

    func cuts(_ data: [UInt8], chunker: Chunker, step: Int) -> [Int] {
        // Feed the data `step` bytes at a time, keeping the uncut tail, as the sealer does.
        var out: [Int] = []
        var buffer: [UInt8] = []
        var offset = 0
        while offset < data.count || !buffer.isEmpty {
            let end = min(data.count, offset + step)
            buffer += data[offset..<end]
            offset = end
            let final = offset == data.count
            while let c = buffer.withUnsafeBytes({ chunker.nextCut(in: $0, isFinal: final) }) {
                out.append(c)
                buffer.removeFirst(c)
            }
            if final { break }
        }
        return out
    }

    @Test func streamingGivesTheSameCutsAsOneBuffer() {
        let chunker = Chunker(sizes: sizes, table: GearTable(seed: 1))
        let data = T.bytes(1 << 20, seed: 5) + T.csv(rows: 5_000, seed: 6)
        let whole = cuts(data, chunker: chunker, step: data.count)
        #expect(whole.reduce(0, +) == data.count)
        for step in [1_000, 4_096, 65_535, 100_000] {
            #expect(cuts(data, chunker: chunker, step: step) == whole, "step \(step)")
        }
    }

    @Test func resumedScansGiveTheSameCutsAsOneBuffer() {
        // The sealer offers a growing tail again after a nil and resumes where the scan stopped.
        for tier in [sizes, ChunkSizes(min: 256 << 10, average: 1 << 20, max: 4 << 20)] {
            let chunker = Chunker(sizes: tier, table: GearTable(seed: 1))
            let data = T.csv(rows: 40_000, seed: 6) + T.bytes(6 << 20, seed: 5) + T.csv(rows: 30_000, seed: 7)
            let whole = cuts(data, chunker: chunker, step: data.count)
            for step in [777, 4_096, 65_535, 1 << 20] {
                var out: [Int] = []
                var start = 0, end = 0, scanned = 0
                while start < data.count {
                    end = min(data.count, end + step)
                    let final = end == data.count
                    while let c = data.withUnsafeBytes({ chunker.nextCut(in: UnsafeRawBufferPointer(rebasing: $0[start..<end]), isFinal: final, scanned: &scanned) }) {
                        out.append(c)
                        start += c
                        if start == end { break }
                    }
                    if final && start == end { break }
                }
                #expect(out == whole, "step \(step)")
            }
        }
    }

    @Test func sizesStayWithinLimitsAndAverageIsNear() {
        let chunker = Chunker(sizes: sizes, table: GearTable(seed: 2))
        let data = T.bytes(8 << 20, seed: 9)
        let c = cuts(data, chunker: chunker, step: data.count)
        for s in c.dropLast() {
            #expect(s >= sizes.min && s <= sizes.max)
        }
        let mean = Double(data.count) / Double(c.count)
        #expect(mean > 0.6 * Double(sizes.average) && mean < 1.6 * Double(sizes.average), "mean \(mean)")
    }

    @Test func boundariesDependOnTheSecretAndResynchronise() {
        let data = T.csv(rows: 20_000, seed: 3)
        let a = cuts(data, chunker: Chunker(sizes: sizes, table: GearTable(seed: 10)), step: data.count)
        let b = cuts(data, chunker: Chunker(sizes: sizes, table: GearTable(seed: 11)), step: data.count)
        #expect(a != b)
        // Inserting bytes near the start changes only the first chunk or two.
        let shifted = Array("a new row at the top\n".utf8) + data
        let s = cuts(shifted, chunker: Chunker(sizes: sizes, table: GearTable(seed: 10)), step: shifted.count)
        func ends(_ c: [Int]) -> Set<Int> { var t = 0; var out = Set<Int>(); for x in c { t += x; out.insert(t) }; return out }
        let common = ends(a).intersection(Set(ends(s).map { $0 - 21 }))
        #expect(common.count >= a.count - 3)
    }

    @Test func emptyAndTinyInputs() {
        let chunker = Chunker(sizes: sizes, table: GearTable(seed: 1))
        #expect([UInt8]().withUnsafeBytes { chunker.nextCut(in: $0, isFinal: true) } == nil)
        #expect([UInt8](repeating: 7, count: 10).withUnsafeBytes { chunker.nextCut(in: $0, isFinal: true) } == 10)
        #expect([UInt8](repeating: 7, count: 10).withUnsafeBytes { chunker.nextCut(in: $0, isFinal: false) } == nil)
        // All zeros never cut early: forced at max.
        #expect([UInt8](repeating: 0, count: 200_000).withUnsafeBytes { chunker.nextCut(in: $0, isFinal: false) } == sizes.max)
    }
}

@Suite struct EncodingTests {
    @Test func hostileCountsAreRejectedBeforeAllocating() {
        var w = ByteWriter()
        w.u8(1); w.u32(0xFFFF_FFFF)  // an index claiming four billion packs
        #expect(throws: FormatError.self) { try IndexFile.decode(w.bytes) }
        var r = ByteReader([0xFF, 0xFF, 0xFF, 0x7F, 1, 2])
        #expect(throws: FormatError.self) { try r.blob() }
    }

    @Test func versionRoundTripAndUnsafePaths() throws {
        var e = VersionEntry(type: .file, path: "a/b.csv", mode: 0o644, mtimeSeconds: 1_700_000_000, mtimeNanoseconds: 5, size: 3)
        e.sha256 = SHA256.hash([1, 2, 3]); e.chunks = [ObjectID.hashing([1]), ObjectID.hashing([2])]; e.inode = 9; e.device = 8
        let v = Version(
            name: "n", time: Date(timeIntervalSince1970: 1_700_000_000.25), host: "h", tags: ["t1", "t2"], paths: ["/x/a"], parent: nil,
            stats: VersionStats(), notes: ["note"],
            v1Entries: [VersionEntry(type: .directory, path: "a", mode: 0o755, mtimeSeconds: 1, mtimeNanoseconds: 0, size: 0), e,
                      VersionEntry(type: .symlink, path: "a/l", mode: 0o777, mtimeSeconds: 1, mtimeNanoseconds: 0, size: 5, linkTarget: "b.csv")])
        let back = try Version.decode(v.encode())
        #expect(back.v1Entries == v.v1Entries)
        #expect(back.tags == v.tags && back.notes == v.notes && back.name == "n")
        #expect(abs(back.time.timeIntervalSince1970 - 1_700_000_000.25) < 1e-6)
        for bad in ["../etc/passwd", "/abs", "a/../../b", "a//b", "", "a/./b"] {
            var hostile = v
            hostile.v1Entries[1].path = bad
            #expect(throws: FormatError.self) { try Version.decode(hostile.encode()) }
        }
    }

    @Test func headNamesRoundTrip() throws {
        let id = ObjectID.hashing([1, 2, 3])
        let name = Head.fileName(generation: 42, id: id)
        #expect(name.hasPrefix("000000000000002a-"))
        #expect(Head.parseFileName(name)?.generation == 42)
        #expect(Head.parseFileName(name)?.id == id)
        #expect(Head.parseFileName("junk") == nil)
        let h = Head(generation: 2, previous: id, time: 5, live: [id], removed: [])
        #expect(try Head.decode(h.encode()) == h)
        var bad = h
        bad.previous = .zero
        #expect(throws: FormatError.self) { try Head.decode(bad.encode()) }
    }

    @Test func metadataIsPaddedAndKindBound() throws {
        let f = try T.vault()
        let body = Array(repeating: UInt8(7), count: 1000) + T.bytes(3000, seed: 1)
        let sealed = MetaObject.seal(body, kind: .version, vaultID: f.vault.vaultID, key: f.vault.keys.meta, zstd: f.vault.zstd)
        #expect(Padme.padded(UInt64(sealed.count - 2 - 40)) == UInt64(sealed.count - 2 - 40))
        #expect(try MetaObject.open(sealed, kind: .version, vaultID: f.vault.vaultID, key: f.vault.keys.meta, zstd: f.vault.zstd) == body)
        #expect(throws: FormatError.self) { try MetaObject.open(sealed, kind: .index, vaultID: f.vault.vaultID, key: f.vault.keys.meta, zstd: f.vault.zstd) }
        var relabeled = sealed
        relabeled[0] = MetaKind.index.rawValue
        #expect(throws: FormatError.self) { try MetaObject.open(relabeled, kind: .index, vaultID: f.vault.vaultID, key: f.vault.keys.meta, zstd: f.vault.zstd) }
        #expect(throws: FormatError.self) { try MetaObject.open(sealed, kind: .version, vaultID: .zero, key: f.vault.keys.meta, zstd: f.vault.zstd) }
    }

    @Test func anUnknownEnvelopeVersionIsDamageNotANewerFormat() throws {
        // The envelope byte is not authenticated: random bytes (a pack copied into heads/ whose
        // nonce starts with the head kind) must not make coffer say "upgrade".
        let f = try T.vault()
        let file = [MetaKind.head.rawValue, 128] + T.bytes(200, seed: 3)
        do {
            _ = try MetaObject.open(file, kind: .head, vaultID: f.vault.vaultID, key: f.vault.keys.meta, zstd: f.vault.zstd)
            Issue.record("opened")
        } catch let e as FormatError {
            #expect(e.newerVersion == nil)
        }
    }

    @Test func chunkPlaintextCannotBePassedOffAsAPackHeaderOrMetadata() throws {
        let f = try T.vault()
        let keys = f.vault.keys
        let plain = Head(generation: 9, previous: ObjectID.hashing([1]), time: 0, live: [], removed: []).encode()
        let id = plain.withUnsafeBytes { keys.chunkID(of: $0) }
        let blob = try plain.withUnsafeBytes { try BlobCrypto.seal($0, id: id, type: .data, keys: keys, zstd: nil) }
        // The same ciphertext offered as a head fails: different key and associated data.
        let forged = [MetaKind.head.rawValue, 1] + blob.envelope
        #expect(throws: FormatError.self) { try MetaObject.open(forged, kind: .head, vaultID: f.vault.vaultID, key: keys.meta, zstd: f.vault.zstd) }
        // A data blob opened as padding (or with another id) fails.
        #expect(throws: CofferError.self) {
            try BlobCrypto.open(blob.envelope, type: .padding, flags: blob.flags, id: id, plainLength: plain.count, keys: keys, zstd: nil, object: "x")
        }
        #expect(throws: CofferError.self) {
            try BlobCrypto.open(blob.envelope, type: .data, flags: blob.flags, id: .zero, plainLength: plain.count, keys: keys, zstd: nil, object: "x")
        }
    }

    @Test func objectIDHexAndOrder() {
        let a = ObjectID.hashing([1]), b = ObjectID.hashing([2])
        #expect(ObjectID(hex: a.hex) == a)
        #expect(ObjectID(hex: a.hex.uppercased()) == a)
        #expect(ObjectID(hex: "zz") == nil)
        #expect((a < b) == (a.hex < b.hex))
    }
}

@Suite struct PathTests {
    @Test func parentsAndLastComponents() {
        let cases: [(String, String, String)] = [
            ("v", "", "v"), ("a/b", "a", "b"), ("/a", "/", "a"), ("/a/b/", "/a", "b"), ("/", "/", "/"), ("a/b/c.txt", "a/b", "c.txt"),
        ]
        for (p, parent, last) in cases {
            #expect(Paths.parent(p) == parent, "parent of \(p)")
            #expect(Paths.lastComponent(p) == last, "last of \(p)")
        }
    }
}
