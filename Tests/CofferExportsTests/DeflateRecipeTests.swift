import Foundation
import Testing

@testable import CofferExports
@testable import ExportGenerator

/// Writes `export`'s members under `directory` and zips them with `command` (run in that folder,
/// writing `../<name>`); returns the zip's bytes.
func drZip(_ export: LinkedInExport, in directory: URL, name: String, command: String) throws -> [UInt8] {
    let tree = directory.appendingPathComponent("tree-\(name)")
    for member in export.members {
        let url = tree.appendingPathComponent(member.path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(member.contents).write(to: url)
    }
    let result = try runProgram("sh", ["-c", "cd '\(tree.path)' && \(command) '../\(name)' . >/dev/null"])
    guard result.status == 0 else { throw ZipFixtures.FixtureError(message: "\(command) failed: \(result.error)") }
    return Array(try Data(contentsOf: directory.appendingPathComponent(name)))
}

/// Rebuilds a streamed analysis's zip from its payloads and returns the bytes.
func drRebuild(_ analysis: StreamedZip, from archive: [UInt8]) throws -> [UInt8] {
    var out: [UInt8] = []
    let rebuilder = try ZipRebuilder(plan: analysis.plan) { out += $0 }
    let source = ZipMemorySource(archive)
    while let index = try rebuilder.nextMember() {
        let member = analysis.layout.members[index]
        let payload = try ZipReproduction.payload(of: member, encoding: analysis.plan.members[index].encoding, in: source)
        var offset = 0
        while offset < payload.count {  // in uneven chunks, as a restore's chunks come
            let end = min(payload.count, offset + 10_007)
            try rebuilder.write(payload[offset..<end])
            offset = end
        }
        try rebuilder.endMember()
    }
    return out
}

@Suite("Deflate recipes (Info-ZIP streams)")
struct DeflateRecipeTests {
    static func export(connections: Int = 6000, messagesBytes: Int = 700_000) -> LinkedInExport {
        var config = GeneratorConfig(outputDirectory: "/nonexistent")
        config.connections = connections
        config.messagesBytes = messagesBytes
        return LinkedInGenerator(config: config).nextExport()
    }

    @Test("Info-ZIP zips of a generated export: every large member is rebuilt from its content, byte for byte",
          .enabled(if: zrHasProgram("zip"), "Info-ZIP zip is not installed"),
          arguments: ["zip -q -r", "zip -q -9 -r"])
    func infoZip(command: String) throws {
        let directory = try makeTemporaryDirectory("recipe")
        defer { removeTemporaryDirectory(directory) }
        let archive = try drZip(Self.export(), in: directory, name: "export.zip", command: command)
        let source = ZipMemorySource(archive)
        let layout = try ZipLayout.parse(source)
        let analysis = try StreamedZip(source)
        var rebuilt = 0
        for (member, encoding) in zip(layout.members, analysis.encodings) where member.method == .deflated {
            if case .rebuilt = encoding { rebuilt += 1 }
            #expect(encoding.payloadIsContent, "\(command): \(member.name) (\(member.uncompressedSize) bytes): \(encoding)")
        }
        #expect(rebuilt >= 2, "\(command): Connections.csv and messages.csv at least need a recipe")
        #expect(try drRebuild(analysis, from: archive) == archive)
    }

    @Test("7-Zip zips: its encoder's blocks are not Info-ZIP's, so its members stay compressed bytes",
          .enabled(if: zrHasProgram("7z"), "7z is not installed"))
    func sevenZip() throws {
        let directory = try makeTemporaryDirectory("recipe-7z")
        defer { removeTemporaryDirectory(directory) }
        let archive = try drZip(Self.export(connections: 1500, messagesBytes: 150_000), in: directory, name: "export.zip", command: "7z a -tzip -bso0 -bsp0")
        let source = ZipMemorySource(archive)
        let layout = try ZipLayout.parse(source)
        let analysis = try StreamedZip(source)
        for (member, encoding) in zip(layout.members, analysis.encodings) {
            // A recipe that keeps every block as bits would cost as much as the bytes, every month.
            if case .rebuilt(let recipe) = encoding {
                #expect(recipe.bytes.count * 2 <= Int(member.compressedSize), "\(member.name): \(recipe)")
            }
            if member.rawName == Array("messages.csv".utf8) { #expect(encoding == .raw(.noMatchingParameters)) }
        }
        #expect(try drRebuild(analysis, from: archive) == archive)
    }

    @Test("a block the encoder does not reproduce is kept as its bits, and the rebuild is exact")
    func keptBlock() throws {
        var text: [UInt8] = []
        var state: UInt64 = 7
        for _ in 0..<350 {
            state = state &* 6_364_136_223_846_793_005 &+ 1
            text += Array("row \(state >> 50),\(state >> 40 & 0xff),name\(state >> 58)\n".utf8)
        }
        // zlib level 1 (fast matching): the lazy encoder cannot reproduce it.
        let stream = try Deflate.compress(text, level: 1)
        try #require(stream.count < 3000)
        let read: (Range<Int>) throws -> [UInt8] = { Array(stream[$0]) }
        let scan = try #require(try DeflateRecipeSearch.scanBlocks(compressedSize: stream.count, uncompressedSize: UInt64(text.count), read: read))
        guard case .complete(let blocks) = scan else { Issue.record("\(scan)"); return }
        #expect(blocks.isEmpty)
        let recipe = try #require(
            try DeflateRecipeSearch.encodeComparing(
                level: 6, sizes: [], blocks: blocks, compressedSize: stream.count, uncompressedSize: UInt64(text.count), read: read))
        #expect(recipe.keptBlocks.keys.sorted() == [0])
        #expect(try DeflateRecipeSearch.rebuildMatches(
            recipe, compressedSize: stream.count, uncompressedSize: UInt64(text.count), crc32: Deflate.crc32(text), read: read))
        #expect(DeflateRecipe(bytes: recipe.bytes) == recipe)
    }

    @Test("recipe bytes round-trip; malformed recipes are refused")
    func recipeBytes() throws {
        let recipe = DeflateRecipe(
            level: 6, blockSizes: [1, 200, 70_000], keptBlocks: [1: .init(bits: [0xff, 0x03], count: 10), 3: .init(bits: [5], count: 3)])
        let bytes = recipe.bytes
        #expect(bytes.prefix(4) == [2, 1, 6, 4])
        #expect(DeflateRecipe(bytes: bytes) == recipe)
        var bad: [[UInt8]] = []
        bad.append([1] + bytes.dropFirst())  // version 1 is zlib parameters
        bad.append([2, 3] + bytes.dropFirst(2))  // unknown encoder
        bad.append([2, 0] + bytes.dropFirst(2))  // nor is 0
        bad.append([2, 1, 0] + bytes.dropFirst(3))  // level 0 (stored) is no deflate level
        bad.append([2, 1, 10] + bytes.dropFirst(3))  // nor is 10
        bad.append(bytes + [0])  // trailing byte
        bad.append(Array(bytes.dropLast()))  // truncated
        bad.append([2, 1, 6, 2, 0, 0])  // an empty block
        bad.append([2, 1, 6, 0x81, 0x00, 0])  // overlong varint
        bad.append([2, 1, 6, 1, 1, 1, 3, 0])  // kept block past the last block
        bad.append([2, 1, 6, 1, 1, 0, 3, 0xf8])  // unused bits set
        for b in bad { #expect(DeflateRecipe(bytes: b) == nil, "\(b)") }
    }

    @Test("recipes with Info-ZIP's own block rule: bytes round-trip, malformed ones are refused, a kept block past the stream fails the rebuild")
    func ownRuleRecipeBytes() throws {
        let plain = DeflateRecipe(level: 9, ownBlockRuleKeeping: [:])
        #expect(plain.bytes == [2, 2, 9, 0])
        #expect(DeflateRecipe(bytes: plain.bytes) == plain)
        let kept = DeflateRecipe(level: 3, ownBlockRuleKeeping: [2: .init(bits: [0xff, 0x03], count: 10)])
        #expect(kept.bytes == [2, 2, 3, 1, 2, 10, 0xff, 0x03])
        #expect(DeflateRecipe(bytes: kept.bytes) == kept)
        for b: [UInt8] in [
            [2, 2, 9], [2, 2, 9, 0, 0], [2, 2, 0, 0], [2, 2, 10, 0],
            [2, 2, 9, 2, 1, 3, 0, 1, 3, 0],  // kept blocks not ascending
            [2, 2, 9, 1, 0, 3, 0xf8],  // unused bits set
            [2, 2, 9, 1, 0, 16, 0],  // bits past the end
        ] {
            #expect(DeflateRecipe(bytes: b) == nil, "\(b)")
        }
        // A stream of one block: a recipe keeping block 1 names a block it does not have.
        let text = Array(String(repeating: "a short text, ", count: 50).utf8)
        let encoder = try DeflateRecipeEncoder(DeflateRecipe(level: 6, ownBlockRuleKeeping: [1: .init(bits: [3], count: 3)]))
        _ = try encoder.compress(text)
        #expect(throws: LazyDeflateError.keptBlockMissing(block: 1)) { try encoder.finish() }
    }
}

@Suite("Deflate recipes: Info-ZIP's own block rule and its fast levels")
struct DeflateOwnRuleRecipeTests {
    /// The one member of a zip written by `zip` from a single file: flags, CRC-32, sizes and
    /// its deflate stream, read from the local header (Info-ZIP writes the sizes there when it
    /// zips a file, not a pipe).
    static func onlyMember(_ zip: [UInt8]) throws -> (flags: UInt16, crc: UInt32, stream: [UInt8], size: UInt64) {
        func u16(_ at: Int) -> Int { Int(zip[at]) | Int(zip[at + 1]) << 8 }
        func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) | UInt32(u16(at + 2)) << 16 }
        try #require(zip.count > 30 && u32(0) == 0x0403_4b50 && u16(8) == 8, "a deflated first member")
        let flags = UInt16(u16(6))
        try #require(flags & 0x8 == 0, "sizes in the local header")
        let start = 30 + u16(26) + u16(28)
        let compressed = Int(u32(18))
        try #require(start + compressed <= zip.count)
        return (flags, u32(14), Array(zip[start..<(start + compressed)]), UInt64(u32(22)))
    }

    @Test("zip -1 to -9 streams are rebuilt exactly by a 4-byte recipe: the level, and Info-ZIP's own block ends",
          .enabled(if: zrHasProgram("zip"), "Info-ZIP zip is not installed"),
          arguments: [1, 2, 3, 6, 9])
    func everyLevel(level: Int) throws {
        let directory = try makeTemporaryDirectory("recipe-fast")
        defer { removeTemporaryDirectory(directory) }
        let export = DeflateRecipeTests.export(connections: 3000, messagesBytes: 400_000)
        var checked = 0
        for member in export.members where member.contents.count > 100_000 {
            let file = directory.appendingPathComponent("member-\(checked)")
            try Data(member.contents).write(to: file)
            let zipPath = directory.appendingPathComponent("member-\(checked).zip").path
            let result = try runProgram("zip", ["-q", "-j", "-\(level)", zipPath, file.path])
            try #require(result.status == 0, "zip -\(level): \(result.error)")
            let (flags, crc, stream, size) = try Self.onlyMember(Array(try Data(contentsOf: URL(fileURLWithPath: zipPath))))
            #expect(size == UInt64(member.contents.count))
            let levels = DeflateRecipeSearch.levels(flags: flags)
            #expect(levels.contains(level), "zip -\(level) writes flags \(flags); tried \(levels)")
            let read: (Range<Int>) throws -> [UInt8] = { Array(stream[$0]) }
            var budget = UInt64.max
            let recipe = try #require(
                try DeflateRecipeSearch.find(compressedSize: stream.count, uncompressedSize: size, crc32: crc, levels: levels, budget: &budget, read: read),
                "zip -\(level), \(member.path): no recipe")
            #expect(recipe.level == level, "zip -\(level): \(recipe)")
            #expect(recipe.ownBlockRule && recipe.keptBlocks.isEmpty, "zip -\(level), \(member.path): \(recipe)")
            #expect(recipe.bytes == [2, 2, UInt8(recipe.level), 0])
            #expect(DeflateRecipe(bytes: recipe.bytes) == recipe)
            // What a restore does: the content through the recipe's encoder gives the original stream.
            let encoder = try DeflateRecipeEncoder(recipe)
            var rebuilt = try encoder.compress(member.contents)
            rebuilt += try encoder.finish()
            #expect(rebuilt == stream)
            checked += 1
        }
        #expect(checked >= 2, "Connections.csv and messages.csv at least")
    }

    @Test("a fast-level recipe does not rebuild a lazy-level stream, nor the other way round")
    func levelsDiffer() throws {
        var text: [UInt8] = []
        var state: UInt64 = 11
        for _ in 0..<4000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1
            text += Array("row \(state >> 52),\(state >> 44 & 0xff),name\(state >> 59)\n".utf8)
        }
        func encode(_ level: Int) throws -> [UInt8] {
            let e = try LazyDeflateEncoder(level: level, blockEnds: [])
            return try text.withUnsafeBytes { try e.compress($0) } + e.finish()
        }
        let fast = try encode(1), lazy = try encode(6)
        #expect(fast != lazy)
        #expect(try Deflate.decompress(fast, expectedSize: text.count) == text)
        #expect(try Deflate.decompress(lazy, expectedSize: text.count) == text)
        #expect(try encode(2) != fast)
        #expect(throws: LazyDeflateError.unsupportedLevel(0)) { try LazyDeflateEncoder(level: 0, blockEnds: []) }
        #expect(throws: LazyDeflateError.unsupportedLevel(10)) { try LazyDeflateEncoder(level: 10, blockEnds: []) }
    }
}
