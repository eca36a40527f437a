import CofferCore
import CofferCrypto
import Foundation

/// Measures what a chunk-size choice stores: over an export series (folders sealed one after the
/// other) and over a mixed corpus, the compressed bytes of the distinct chunks plus the per-chunk
/// metadata (40 B envelope, 46 B pack-header entry, 45 B index entry, 32 B in each version that
/// lists it).
enum ChunkingExperiment {
    static let perChunkOverhead = 40 + 46 + 45 + 32

    struct Candidate {
        var label: String
        var tiers: [ChunkTier]
    }

    static func sizes(_ min: Int, _ avg: Int, _ max: Int) -> ChunkSizes { ChunkSizes(min: min << 10, average: avg << 10, max: max << 10) }

    static let candidates: [Candidate] = [
        Candidate(label: "2/8/32 KiB", tiers: [ChunkTier(maxFileSize: .max, sizes: sizes(2, 8, 32))]),
        Candidate(label: "4/16/64 KiB", tiers: [ChunkTier(maxFileSize: .max, sizes: sizes(4, 16, 64))]),
        Candidate(label: "4/16/128 KiB", tiers: [ChunkTier(maxFileSize: .max, sizes: sizes(4, 16, 128))]),
        Candidate(label: "8/32/128 KiB", tiers: [ChunkTier(maxFileSize: .max, sizes: sizes(8, 32, 128))]),
        Candidate(label: "16/64/256 KiB", tiers: [ChunkTier(maxFileSize: .max, sizes: sizes(16, 64, 256))]),
        Candidate(label: "64/256/1024 KiB", tiers: [ChunkTier(maxFileSize: .max, sizes: sizes(64, 256, 1024))]),
        Candidate(label: "256/1024/4096 KiB", tiers: [ChunkTier(maxFileSize: .max, sizes: sizes(256, 1024, 4096))]),
        Candidate(label: "tiered: 4/16/128 KiB up to 1 MiB files, then 256/1024/4096", tiers: [
            ChunkTier(maxFileSize: 1 << 20, sizes: sizes(4, 16, 128)), ChunkTier(maxFileSize: .max, sizes: sizes(256, 1024, 4096))]),
        Candidate(label: "tiered: 4/16/128 KiB up to 16 MiB files, then 64/256/1024", tiers: [
            ChunkTier(maxFileSize: 16 << 20, sizes: sizes(4, 16, 128)), ChunkTier(maxFileSize: .max, sizes: sizes(64, 256, 1024))]),
        Candidate(label: "tiered (default): 4/16/128 KiB up to 16 MiB files, then 256/1024/4096", tiers: ChunkTier.defaults),
    ]

    struct Result {
        var stored: UInt64 = 0
        var chunks: UInt64 = 0
        var references: UInt64 = 0
        var perStep: [UInt64] = []
        var total: UInt64 { stored + chunks * UInt64(perChunkOverhead - 32) + references * 32 }
    }

    static func files(in dir: String) -> [String] {
        let fm = FileManager.default
        var out: [String] = []
        guard let e = fm.enumerator(atPath: dir) else { return out }
        while let rel = e.nextObject() as? String {
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: dir + "/" + rel, isDirectory: &isDir), !isDir.boolValue { out.append(dir + "/" + rel) }
        }
        return out.sorted()
    }

    static func measure(_ steps: [[String]], tiers: [ChunkTier], zstd: Zstd) -> Result {
        let table = GearTable(seed: 0xC0FFEE)
        var seen = Set<[UInt8]>()
        var r = Result()
        var out = [UInt8](repeating: 0, count: Zstd.bound(8 << 20))
        for step in steps {
            var added: UInt64 = 0
            for path in step {
                guard let data = FileManager.default.contents(atPath: path).map({ [UInt8]($0) }) else { continue }
                let sizes = tiers.first { UInt64(data.count) <= $0.maxFileSize }!.sizes
                let chunker = Chunker(sizes: sizes, table: table)
                data.withUnsafeBytes { all in
                    var start = 0
                    while let c = chunker.nextCut(in: UnsafeRawBufferPointer(rebasing: all[start...]), isFinal: true) {
                        let chunk = UnsafeRawBufferPointer(rebasing: all[start..<start + c])
                        r.references += 1
                        let id = Blake2b.hash(Array(chunk))
                        if seen.insert(id).inserted {
                            let n = out.withUnsafeMutableBytes { zstd.compress(chunk, into: $0) } ?? c
                            added += UInt64(n + 40)
                            r.chunks += 1
                        }
                        start += c
                    }
                }
            }
            r.stored += added
            r.perStep.append(added)
        }
        return r
    }

    static func mb(_ b: UInt64) -> String { String(format: "%.2f MB", Double(b) / 1e6) }

    static func run(series: String?, corpus: String?, level: Int32 = 3) {
        let zstd = Zstd(level: level)
        print("zstd level \(level)")
        if let series {
            let steps = (try? FileManager.default.contentsOfDirectory(atPath: series))?.sorted().map { files(in: series + "/" + $0) } ?? []
            let input = steps.joined().reduce(UInt64(0)) { $0 + UInt64((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
            print("Export series: \(steps.count) exports, \(mb(input)) of unpacked files")
            print("| chunk sizes (min/avg/max) | stored, all exports | first export | later exports (mean) | chunks |")
            print("|---|---|---|---|---|")
            for c in candidates {
                let r = measure(steps, tiers: c.tiers, zstd: zstd)
                let later = r.perStep.dropFirst()
                let mean = later.isEmpty ? 0 : later.reduce(0, +) / UInt64(later.count)
                print("| \(c.label) | \(mb(r.total)) | \(mb(r.perStep.first ?? 0)) | \(mb(mean)) | \(r.chunks) |")
            }
        }
        if let corpus {
            let all = files(in: corpus)
            let input = all.reduce(UInt64(0)) { $0 + UInt64((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
            print("\nMixed corpus: \(all.count) files, \(mb(input))")
            print("| chunk sizes (min/avg/max) | stored | chunks | metadata share |")
            print("|---|---|---|---|")
            for c in candidates {
                let r = measure([all], tiers: c.tiers, zstd: zstd)
                let meta = r.total - r.stored
                print("| \(c.label) | \(mb(r.total)) | \(r.chunks) | \(String(format: "%.2f%%", 100 * Double(meta) / Double(r.total))) |")
            }
        }
    }
}
