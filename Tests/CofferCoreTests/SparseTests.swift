@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

@Suite struct SparseTests {
    static let mib = 1 << 20

    /// A 64 MiB file of holes with a few written regions (block-aligned, so the file system's
    /// data ranges are exactly them); returns the path and the regions.
    static func sparseFile(_ dir: String, name: String = "sparse", size: Int = 64 << 20,
                           regions: [(offset: Int, length: Int)] = [(0, 64 << 10), (5 << 20, 1 << 20), (40 << 20, 300 << 10)]) -> (String, [Range<UInt64>]) {
        let path = dir + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        precondition(fd >= 0)
        defer { close(fd) }
        precondition(ftruncate(fd, off_t(size)) == 0)
        for (k, r) in regions.enumerated() {
            let bytes = T.bytes(r.length, seed: UInt64(k + 1))
            precondition(bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, r.length, off_t(r.offset)) } == r.length)
        }
        return (path, regions.map { UInt64($0.offset)..<UInt64($0.offset + $0.length) })
    }

    static func sha256sum(_ path: String) throws -> String {
        String(try ScanFS.run("/usr/bin/sha256sum", [path]).prefix(64))
    }

    /// Seals `paths` with a sealer that skips holes (or not) and puts the packs in the index.
    static func seal(_ f: T.Fixture, _ paths: [String], skipHoles: Bool) throws -> (results: [Sealer.FileResult], bytesRead: UInt64) {
        let sealer = Sealer(vault: f.vault, options: SealOptions(), totalFiles: paths.count, totalBytes: 0, skipHoles: skipHoles)
        let files = paths.map { p in
            var st = stat()
            precondition(lstat(p, &st) == 0)
            return (Sealer.Source.file(p), VersionEntry(type: .file, path: p, mode: 0o644, mtimeSeconds: 0, mtimeNanoseconds: 0, size: UInt64(st.st_size)))
        }
        let results = try sealer.seal(files: files).map { try $0.get() }
        let added = try sealer.finish()
        var batch = ChunkIndex.Batch()
        for p in added.packs { batch.append(pack: p.pack, entries: p.entries) }
        f.vault.index.add(batch)
        return (results, sealer.bytesRead)
    }

    /// The file's content put back from its chunks and holes.
    static func content(_ f: T.Fixture, _ r: Sealer.FileResult) throws -> [UInt8] {
        let readers = PackReaders(vault: f.vault)
        var data: [UInt8] = []
        for c in r.chunks { data += try f.vault.readChunk(c, readers: readers, context: "test") }
        var out: [UInt8] = []
        out.reserveCapacity(Int(r.size))
        var taken = 0
        for h in r.holes {
            let n = Int(h.offset) - out.count
            out += data[taken..<taken + n]
            taken += n
            out += [UInt8](repeating: 0, count: Int(h.length))
        }
        out += data[taken...]
        return out
    }

    @Test func mapFindsTheWrittenRegions() throws {
        let dir = T.scratch("sparse")
        let (path, regions) = Self.sparseFile(dir)
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        let map = try SparseMap.map(fd)
        #expect(map.size == 64 << 20)
        #expect(map.data == regions)
        #expect(map.holes == [
            Hole(offset: 64 << 10, length: (5 << 20) - (64 << 10)), Hole(offset: 6 << 20, length: 34 << 20),
            Hole(offset: (40 << 20) + (300 << 10), length: (24 << 20) - (300 << 10)),
        ])
        #expect(SparseMap.firstHole(fd, size: map.size) == 64 << 10)

        // A file without holes: one range; the probe says so.
        T.write(dir + "/dense", T.bytes(100_000, seed: 9))
        let dfd = open(dir + "/dense", O_RDONLY)
        defer { close(dfd) }
        #expect(try SparseMap.map(dfd).data == [0..<100_000])
        #expect(SparseMap.firstHole(dfd, size: 100_000)! >= 100_000)
        // Nothing but a hole.
        let (empty, _) = Self.sparseFile(dir, name: "hollow", size: 3 << 20, regions: [])
        let efd = open(empty, O_RDONLY)
        defer { close(efd) }
        let hollow = try SparseMap.map(efd)
        #expect(hollow.data.isEmpty && hollow.holes == [Hole(offset: 0, length: 3 << 20)])
    }

    @Test func sealerReadsOnlyTheDataOfASparseFile() throws {
        let f = try T.vault()
        let dir = T.scratch("sparse")
        let (path, regions) = Self.sparseFile(dir)
        let (hollow, _) = Self.sparseFile(dir, name: "hollow", size: 3 << 20, regions: [])
        let (results, bytesRead) = try Self.seal(f, [path, hollow], skipHoles: true)
        let r = results[0]
        // Only the written regions were read; the SHA-256 covers the whole 64 MiB.
        #expect(bytesRead == regions.reduce(0) { $0 + $1.count })
        #expect(r.size == 64 << 20 && !r.changed)
        #expect(Hex.encode(r.sha256) == (try Self.sha256sum(path)))
        #expect(r.holes.count == 3 && r.holes.first == Hole(offset: 64 << 10, length: (5 << 20) - (64 << 10)))
        // The chunks hold exactly the data, in order; with the holes they give the file back.
        let stored = try Self.content(f, r)
        #expect(stored == T.read(path)!)
        // A file that is only a hole: no chunks, zeros hashed.
        #expect(results[1].chunks.isEmpty && results[1].holes == [Hole(offset: 0, length: 3 << 20)] && results[1].size == 3 << 20)
        #expect(Hex.encode(results[1].sha256) == (try Self.sha256sum(hollow)))
    }

    @Test func holesAcrossBatchesAndSmallFilesAround() throws {
        // Regions larger than the 4 MiB read block, a hole at the start and one at the end, with
        // small files before and after it in the same batches.
        let f = try T.vault()
        let dir = T.scratch("sparse")
        T.write(dir + "/a", T.bytes(10_000, seed: 3))
        let (path, regions) = Self.sparseFile(
            dir, name: "big", size: 40 << 20, regions: [(3 << 20, 9 << 20), (13 << 20, 4096), (20 << 20, 6 << 20)])
        T.write(dir + "/z", T.bytes(70_000, seed: 4))
        let (results, bytesRead) = try Self.seal(f, [dir + "/a", path, dir + "/z"], skipHoles: true)
        #expect(bytesRead == 10_000 + 70_000 + regions.reduce(0) { $0 + $1.count })
        #expect(results[1].holes.map(\.offset) == [0, 12 << 20, (13 << 20) + 4096, 26 << 20])
        #expect(Hex.encode(results[1].sha256) == (try Self.sha256sum(path)))
        #expect(try Self.content(f, results[1]) == T.read(path)!)
        for (k, name) in [(0, "a"), (2, "z")] {
            #expect(results[k].holes.isEmpty)
            #expect(Hex.encode(results[k].sha256) == (try Self.sha256sum(dir + "/" + name)))
        }
    }

    @Test func withoutHolesNothingChanges() throws {
        // Dense files: the same chunks and SHA-256 either way; a sparse file sealed without
        // skipping holes is read whole and has none.
        let f = try T.vault()
        let dir = T.scratch("sparse")
        T.write(dir + "/a", T.bytes(5 << 20, seed: 5))
        T.write(dir + "/b", T.bytes(3, seed: 6))
        T.write(dir + "/empty", [])
        let (sparse, _) = Self.sparseFile(dir, size: 8 << 20, regions: [(1 << 20, 4096)])
        let on = try Self.seal(f, [dir + "/a", dir + "/b", dir + "/empty"], skipHoles: true)
        let off = try Self.seal(f, [dir + "/a", dir + "/b", dir + "/empty", sparse], skipHoles: false)
        for k in 0..<3 {
            #expect(on.results[k].chunks == off.results[k].chunks && on.results[k].sha256 == off.results[k].sha256)
            #expect(on.results[k].holes.isEmpty && on.results[k].size == off.results[k].size)
        }
        #expect(on.bytesRead == (5 << 20) + 3)
        #expect(off.bytesRead == (5 << 20) + 3 + (8 << 20))
        let sum = try Self.sha256sum(sparse)
        #expect(off.results[3].holes.isEmpty && Hex.encode(off.results[3].sha256) == sum)
    }
}
