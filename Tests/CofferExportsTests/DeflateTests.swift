// DeflateTests.swift: raw deflate round trips, known answers against Python's zlib, CRC-32.

import Foundation
import Testing

@testable import CofferExports

@Suite("Deflate")
struct DeflateTests {
    /// A CSV-like fixture; Python builds the same bytes in `pythonFixture`.
    static let fixture: [UInt8] = {
        var text = "Notes:\nFirst Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
        for i in 0..<200 {
            let hex = String(i, radix: 16)
            let padded = String(repeating: "0", count: 4 - hex.count) + hex
            let day = i % 28 + 1
            text += "Name\(i),Last\(i * 7 % 13),https://www.linkedin.com/in/name-\(padded),,Company \(i % 17),Engineer,"
                + "\(day < 10 ? "0" : "")\(day) Jan 2025\n"
        }
        return Array(text.utf8)
    }()

    static let pythonFixture = """
        ("Notes:\\nFirst Name,Last Name,URL,Email Address,Company,Position,Connected On\\n" + "".join(\
        f"Name{i},Last{i*7%13},https://www.linkedin.com/in/name-{i:04x},,Company {i%17},Engineer,{i%28+1:02d} Jan 2025\\n" \
        for i in range(200))).encode()
        """

    @Test("level 6, memLevel 8, raw: the exact bytes of zlib.compressobj(6, DEFLATED, -15, 8)")
    func knownAnswerDefaultParameters() throws {
        #expect(Self.fixture.count == 16891)
        #expect(TestSHA256.hex(Self.fixture) == "25042279ca362e83f759611e526a80f74b3be2dba2a40a9af12ef08473175d26")
        let compressed = try Deflate.compress(Self.fixture)
        #expect(compressed.count == 2020)
        #expect(TestSHA256.hex(compressed) == "0e49fc6e15cd1bd7b7c17bf59b72e364b14e6bcce7eef53d9ef6e76afc1eb0c7")
        // Explicit parameters give the same bytes as the defaults.
        #expect(try Deflate.compress(Self.fixture, level: 6, memLevel: 8, strategy: .default, windowBits: -15) == compressed)
    }

    @Test("a short input, byte for byte")
    func knownAnswerShort() throws {
        let input = Array((String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 4) + "0123456789").utf8)
        let expected = Hex.decode(
            "0bc94855282ccd4cce56482aca2fcf5348cbaf50c82acd2d2856c82f4b2d5228014ae72456552aa4e4a7eb29840c0ec5068646c626a666e6169600")
        #expect(try Deflate.compress(input) == expected)
        #expect(try Deflate.decompress(expected, expectedSize: input.count) == input)
    }

    /// (level, memLevel, strategy) sets compared with Python's zlib.
    static let parameterSets: [(Int32, Int32, Int32)] = [
        (1, 8, 0), (6, 8, 0), (9, 8, 0), (6, 9, 0), (6, 1, 0), (4, 8, 1), (6, 8, 2), (6, 8, 3), (6, 8, 4), (0, 8, 0),
        (-1, 8, 0), (9, 9, 1),
    ]

    @Test("every parameter set matches Python's zlib byte for byte")
    func matchesPython() throws {
        let sets = Self.parameterSets.map { "(\($0.0), \($0.1), \($0.2))" }.joined(separator: ", ")
        let script = """
            import sys, zlib
            data = \(Self.pythonFixture)
            for level, mem, strategy in [\(sets)]:
                c = zlib.compressobj(level, zlib.DEFLATED, -15, mem, strategy)
                print((c.compress(data) + c.flush()).hex())
            """
        let result = try runPython(script)
        #expect(result.status == 0, "python3 failed: \(result.error)")
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.count == Self.parameterSets.count)
        for ((level, memLevel, strategy), expected) in zip(Self.parameterSets, lines) {
            let strategyValue = try #require(DeflateStrategy(rawValue: strategy))
            let ours = try Deflate.compress(Self.fixture, level: level, memLevel: memLevel, strategy: strategyValue)
            #expect(ours == Hex.decode(expected), "level \(level) memLevel \(memLevel) \(strategyValue)")
            #expect(try Deflate.decompress(ours, expectedSize: Self.fixture.count) == Self.fixture)
        }
    }

    @Test("round trips: empty, one byte, incompressible, large and repetitive")
    func roundTrips() throws {
        // Incompressible bytes from a fixed LCG (tests stay deterministic).
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let random = (0..<300_000).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        let inputs: [[UInt8]] = [[], [42], random, Array(repeating: 7, count: 1_000_000), Self.fixture]
        for input in inputs {
            for level: Int32 in [0, 1, 6, 9] {
                let compressed = try Deflate.compress(input, level: level)
                #expect(try Deflate.decompress(compressed, expectedSize: input.count) == input)
                #expect(try Deflate.decompress(compressed, expectedSize: nil) == input)
            }
        }
        // Non-contiguous collections are accepted too.
        let slice = Self.fixture.reversed()
        #expect(try Deflate.decompress(Deflate.compress(slice), expectedSize: nil) == Array(slice))
    }

    @Test("zlib and gzip wrappers through windowBits")
    func wrappers() throws {
        let zlibStream = try Deflate.compress(Self.fixture, windowBits: 15)
        #expect(zlibStream.first == 0x78)
        #expect(try Deflate.decompress(zlibStream, expectedSize: nil, windowBits: 15) == Self.fixture)
        let gzipStream = try Deflate.compress(Self.fixture, windowBits: 31)
        #expect(Array(gzipStream.prefix(2)) == [0x1F, 0x8B])
        #expect(try Deflate.decompress(gzipStream, expectedSize: nil, windowBits: 47) == Self.fixture)
    }

    @Test("a stream fed in chunks gives the one-shot bytes")
    func streaming() throws {
        let oneShot = try Deflate.compress(Self.fixture)
        for chunkSize in [1, 7, 512, 4096, 100_000] {
            let stream = try DeflateStream()
            var out: [UInt8] = []
            var offset = 0
            while offset < Self.fixture.count {
                let end = min(offset + chunkSize, Self.fixture.count)
                out += try stream.compress(Self.fixture[offset..<end])
                offset = end
            }
            out += try stream.finish()
            #expect(out == oneShot, "chunk size \(chunkSize)")
            #expect(stream.totalIn == UInt64(Self.fixture.count))
            #expect(stream.totalOut == UInt64(oneShot.count))
            #expect(throws: DeflateError.streamFinished) { try stream.finish() }
            #expect(throws: DeflateError.streamFinished) { try stream.compress([1, 2, 3]) }
        }
    }

    @Test("decompression is bounded and strict")
    func decompressErrors() throws {
        let compressed = try Deflate.compress(Self.fixture)
        #expect(throws: DeflateError.outputLimitExceeded(limit: 1000)) {
            try Deflate.decompress(compressed, expectedSize: 1000)
        }
        #expect(throws: DeflateError.outputLimitExceeded(limit: Self.fixture.count - 1)) {
            try Deflate.decompress(compressed, expectedSize: Self.fixture.count - 1)
        }
        #expect(throws: DeflateError.sizeMismatch(expected: Self.fixture.count + 1, actual: Self.fixture.count)) {
            try Deflate.decompress(compressed, expectedSize: Self.fixture.count + 1)
        }
        #expect(throws: DeflateError.truncatedInput) {
            try Deflate.decompress(compressed.dropLast(10), expectedSize: nil)
        }
        #expect(throws: DeflateError.trailingData(count: 3)) {
            try Deflate.decompress(compressed + [1, 2, 3], expectedSize: nil)
        }
        #expect(throws: DeflateError.truncatedInput) { try Deflate.decompress([UInt8](), expectedSize: nil) }
        // Block type 3 is reserved: invalid data.
        #expect {
            try Deflate.decompress([0xFF, 0xFF, 0xFF, 0xFF], expectedSize: nil)
        } throws: { error in
            guard case DeflateError.corruptData = error else { return false }
            return true
        }
        // A zip bomb cannot make the output grow past the limit.
        let bomb = try Deflate.compress([UInt8](repeating: 0, count: 20_000_000))
        #expect(throws: DeflateError.outputLimitExceeded(limit: 65_536)) {
            try Deflate.decompress(bomb, expectedSize: 65_536)
        }
    }

    @Test("invalid parameters are reported, not crashed on")
    func invalidParameters() {
        #expect(throws: DeflateError.invalidParameters(level: 12, memLevel: 8, windowBits: -15)) {
            try Deflate.compress([1, 2, 3], level: 12)
        }
        #expect(throws: DeflateError.invalidParameters(level: 6, memLevel: 0, windowBits: -15)) {
            try Deflate.compress([1, 2, 3], memLevel: 0)
        }
        #expect(throws: DeflateError.invalidParameters(level: 6, memLevel: 8, windowBits: 99)) {
            try Deflate.compress([1, 2, 3], windowBits: 99)
        }
        #expect(!DeflateError.truncatedInput.description.isEmpty)
    }

    @Test("CRC-32 known answers and continuation")
    func crc32() {
        #expect(Deflate.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(Deflate.crc32([UInt8]()) == 0)
        #expect(Deflate.crc32(Self.fixture) == 0x0360_a746)
        let split = 5000
        let running = Deflate.crc32(Self.fixture[split...], initial: Deflate.crc32(Self.fixture[..<split]))
        #expect(running == 0x0360_a746)
        #expect(Deflate.crc32(Self.fixture.reversed().reversed()) == 0x0360_a746)
    }

    /// Inflates `compressed` fed in `feed`-byte pieces through an `InflateStream`.
    static func inflateStreaming(_ compressed: [UInt8], feed: Int, expectedSize: UInt64?) throws -> (content: [UInt8], largestPiece: Int) {
        let inflater = try InflateStream(expectedSize: expectedSize)
        var content: [UInt8] = []
        var largest = 0
        var offset = 0
        repeat {
            let end = min(offset + feed, compressed.count)
            try compressed[offset..<end].withUnsafeBytes { input in
                try inflater.inflate(input) { piece in
                    largest = max(largest, piece.count)
                    content += piece
                }
            }
            offset = end
        } while offset < compressed.count
        try inflater.finish()
        return (content, largest)
    }

    @Test("streaming inflate: any feeding gives the content, in pieces of at most 64 KiB")
    func streamingInflate() throws {
        let big = [UInt8](repeating: 7, count: 5 << 20) + Self.fixture
        let packed = try Deflate.compress(big)
        for feed in [1, 7, 4096, packed.count] {
            let (content, largest) = try Self.inflateStreaming(packed, feed: feed, expectedSize: UInt64(big.count))
            #expect(content == big, "feed \(feed)")
            #expect(largest <= InflateStream.pieceSize)
        }
        #expect(try Self.inflateStreaming(packed, feed: 1000, expectedSize: nil).content == big)
        // Pulling into a small buffer of the caller's.
        let inflater = try InflateStream(expectedSize: UInt64(big.count))
        var out = [UInt8](repeating: 0, count: 1000)
        var content: [UInt8] = []
        var offset = 0
        while !inflater.isAtEnd {
            let (consumed, produced) = try packed[offset...].withUnsafeBytes { input in
                try out.withUnsafeMutableBytes { try inflater.step(input: input, output: $0) }
            }
            offset += consumed
            content += out[..<produced]
            #expect(consumed > 0 || produced > 0)
        }
        try inflater.finish()
        #expect(content == big && offset == packed.count)
    }

    @Test("streaming inflate is bounded and strict: a bomb stops one byte past its claimed size")
    func streamingInflateIsBounded() throws {
        let bomb = try Deflate.compress([UInt8](repeating: 0, count: 64 << 20))  // 64 KiB, 64 MiB inflated
        var produced = 0
        #expect(throws: DeflateError.outputLimitExceeded(limit: 1 << 20)) {
            let inflater = try InflateStream(expectedSize: 1 << 20)
            try bomb.withUnsafeBytes { try inflater.inflate($0) { produced += $0.count } }
        }
        #expect(produced <= (1 << 20) + 1)
        let packed = try Deflate.compress(Self.fixture)
        #expect(throws: DeflateError.sizeMismatch(expected: Self.fixture.count + 1, actual: Self.fixture.count)) {
            _ = try Self.inflateStreaming(packed, feed: 100, expectedSize: UInt64(Self.fixture.count + 1))
        }
        #expect(throws: DeflateError.truncatedInput) {
            _ = try Self.inflateStreaming(Array(packed.dropLast(10)), feed: 100, expectedSize: nil)
        }
        #expect(throws: DeflateError.trailingData(count: 2)) {
            _ = try Self.inflateStreaming(packed + [1, 2], feed: packed.count + 2, expectedSize: nil)
        }
        #expect(throws: DeflateError.self) {
            _ = try Self.inflateStreaming([0xFF, 0xFF, 0xFF, 0xFF], feed: 4, expectedSize: nil)
        }
    }

    @Test("the zlib version is reported")
    func version() {
        #expect(Deflate.zlibVersion.hasPrefix("1."))
    }
}
