@testable import CofferCore
import Foundation
import Testing

/// The calibrated minimum match of chunks of 64 KiB or more (Docs/FORMAT.md, "Compression").
@Suite struct LargeChunkMatchTests {
    /// Text like the mixed corpus's: random words and numbers from a small vocabulary.
    static func wordText(_ count: Int, seed: UInt64) -> [UInt8] {
        let words = ["alpha", "backup", "vault", "chunk", "export", "message", "connection", "profile", "company", "london"]
        var state = seed | 1
        func next() -> UInt64 { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state }
        var out: [UInt8] = []
        while out.count < count {
            out += next() % 5 == 0 ? Array(String(next() % 1_000_000).utf8) : Array(words[Int(next() % UInt64(words.count))].utf8)
            out.append(next() % 4 == 0 ? UInt8(ascii: ",") : next() % 9 == 0 ? UInt8(ascii: "\n") : UInt8(ascii: " "))
        }
        return Array(out.prefix(count))
    }

    @Test func eachSizeClassFollowsTheSmallerOutputs() {
        let m = LargeChunkMatch()
        #expect(m.settled == [nil, nil, nil])
        for _ in 0..<100 { m.record(sizes: [990_000, 995_000], of: 1_000_000) }  // incompressible: no vote
        #expect(m.minimumMatch(forChunkOf: 1_000_000) == nil)
        for i in 0..<LargeChunkMatch.calibrationChunks {
            #expect(m.minimumMatch(forChunkOf: 1_000_000) == nil)
            m.record(sizes: [300_000, i == 0 ? 400_000 : 290_000], of: 1_000_000)
        }
        #expect(m.minimumMatch(forChunkOf: 1_000_000) == 6)
        #expect(m.minimumMatch(forChunkOf: 100_000) == nil)  // another class calibrates on its own
        for _ in 0..<LargeChunkMatch.calibrationChunks { m.record(sizes: [30_000, 31_000], of: 100_000) }
        #expect(m.minimumMatch(forChunkOf: 100_000) == 0)
        m.record(sizes: [900_000, 100_000], of: 1_000_000)  // decided: later chunks do not change it
        #expect(m.settled == [0, nil, 6])
        #expect(LargeChunkMatch.sizeClass(128 << 10) == 0 && LargeChunkMatch.sizeClass(256 << 10) == 1
            && LargeChunkMatch.sizeClass((256 << 10) + 1) == 2)
    }

    /// Calibrating keeps the smaller of the two frames, every frame decompresses to the chunk, and
    /// a pooled context keeps no parameter: a default-level frame after calibration is the same
    /// as from a fresh context.
    @Test func framesRoundTripAndPooledContextsAreReset() throws {
        let z = Zstd(level: 3)
        let fresh = Zstd(level: 3)
        var out = [UInt8](repeating: 0, count: Zstd.bound(1 << 20))
        for i in 0..<(LargeChunkMatch.calibrationChunks + 2) {
            let chunk = Self.wordText(300 << 10, seed: UInt64(i + 1))
            let n = try #require(chunk.withUnsafeBytes { c in out.withUnsafeMutableBytes { z.compressChunk(c, into: $0) } })
            let sizes = LargeChunkMatch.candidates.map { m in
                chunk.withUnsafeBytes { c in
                    var o = [UInt8](repeating: 0, count: Zstd.bound(c.count))
                    return o.withUnsafeMutableBytes { fresh.compress(c, into: $0, level: 3, minimumMatch: m) } ?? c.count
                }
            }
            if i < LargeChunkMatch.calibrationChunks { #expect(n == sizes.min()) } else { #expect(sizes.contains(n)) }
            var back = [UInt8](repeating: 0, count: chunk.count)
            try out.withUnsafeBytes { o in try back.withUnsafeMutableBytes { try z.decompress(UnsafeRawBufferPointer(rebasing: o[0..<n]), into: $0) } }
            #expect(back == chunk)
            // The same context pool at the level's own parameters gives the fresh context's frame.
            let plain = chunk.withUnsafeBytes { c in out.withUnsafeMutableBytes { z.compress(c, into: $0, level: 3) } }
            let reference = chunk.withUnsafeBytes { c in
                var o = [UInt8](repeating: 0, count: Zstd.bound(c.count))
                return o.withUnsafeMutableBytes { fresh.compress(c, into: $0, level: 3) }
            }
            #expect(plain == reference)
        }
        #expect(z.largeMatch.settled[2] != nil)
    }

    /// Random data is left to the incompressibility probe: it never votes and is stored raw.
    @Test func incompressibleChunksDoNotVote() {
        let z = Zstd(level: 3)
        var out = [UInt8](repeating: 0, count: Zstd.bound(1 << 20))
        for _ in 0..<(LargeChunkMatch.calibrationChunks + 1) {
            let chunk = (0..<(512 << 10)).map { _ in UInt8.random(in: 0...255) }
            #expect(chunk.withUnsafeBytes { c in out.withUnsafeMutableBytes { z.compressChunk(c, into: $0) } } == nil)
        }
        #expect(z.largeMatch.settled == [nil, nil, nil])
    }
}
