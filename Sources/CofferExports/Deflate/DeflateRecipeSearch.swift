// DeflateRecipeSearch.swift: finds and proves a `DeflateRecipe` for a stored deflate stream.
//
// Three passes over the stream, each through fixed-size buffers:
//
// 1. inflate it with zlib stopping at every block end (`Z_BLOCK`): each block's end as a bit
//    position in the stream and an offset in the content;
// 2. for each candidate level, inflate it again and re-encode the content with
//    `LazyDeflateEncoder`, ending blocks at those offsets; each block's bits are compared
//    with the original's, and a block that differs is kept as its bits. A level whose kept
//    bits outgrow the recipe's room is dropped at once (a wrong level differs from the first block),
//    and so is a recipe over half the stream's size (another encoder's stream: 7-Zip's);
// 3. rebuild the stream from content and recipe exactly as a restore does
//    (`DeflateRecipeEncoder`) and compare every byte with the original.
//
// Every content byte inflated counts against the caller's budget.

import CZlib

/// Finds recipes (see the file comment).
public enum DeflateRecipeSearch {
    /// Compressed bytes read at a time.
    static let pieceSize = 64 * 1024
    /// The most blocks a stream may have for a recipe to be tried (a recipe holds at most 4096 bytes).
    static let maxBlocks = 4000

    /// The levels to try for a zip member with general-purpose `flags` (bits 2–1: what Info-ZIP
    /// writes for its level): 9 first when they say maximum compression (`zip -8`, `-9`); 1 and
    /// 2 when they say fast or super fast (`zip -1`, `-2`); else the default 6, then 9 and 3
    /// (`zip -3` writes the normal flags).
    public static func levels(flags: UInt16?) -> [Int] {
        switch flags.map({ $0 >> 1 & 0b11 }) {
        case 0b01: [9, 6]
        case 0b10, 0b11: [1, 2]
        default: [6, 9, 3]
        }
    }

    /// A recipe that rebuilds the stream `read` gives, proven by a full rebuild, or nil.
    ///
    /// - Parameters:
    ///   - compressedSize: the stream's size in bytes.
    ///   - uncompressedSize: its content's size.
    ///   - crc32: its content's CRC-32 (checked in the last pass).
    ///   - levels: the levels to try, in order.
    ///   - budget: content bytes that may still be inflated; each pass takes its share, and a
    ///     search that would need more than is left is not started.
    ///   - read: the stream's bytes in a range of `0..<compressedSize`.
    public static func find(
        compressedSize: Int, uncompressedSize: UInt64, crc32: UInt32, levels: [Int], budget: inout UInt64,
        read: (Range<Int>) throws -> [UInt8]
    ) throws -> DeflateRecipe? {
        try withoutActuallyEscaping(read) { read in
            try search(compressedSize: compressedSize, uncompressedSize: uncompressedSize, crc32: crc32, levels: levels, budget: &budget, read: read)
        }
    }

    private static func search(
        compressedSize: Int, uncompressedSize: UInt64, crc32: UInt32, levels: [Int], budget: inout UInt64,
        read: @escaping (Range<Int>) throws -> [UInt8]
    ) throws -> DeflateRecipe? {
        guard compressedSize > 0, uncompressedSize > 0 else { return nil }
        let (need, overflow) = uncompressedSize.multipliedReportingOverflow(by: passes(levels: levels.count))
        guard !overflow, need <= budget else { return nil }
        // One pass inflates the stream, learns where its blocks end, and feeds the content to
        // Info-ZIP's encoder with its own block rule at every level, each compared with the
        // original as it goes and dropped at its first differing byte. A level that matches to
        // the end is the recipe: it needs no list of blocks, so the member's size is not limited
        // by the recipe's room.
        budget -= uncompressedSize
        let trial = OwnRuleTrial(levels: levels, compressedSize: compressedSize, read: read)
        let scanned = try scanBlocks(compressedSize: compressedSize, uncompressedSize: uncompressedSize, read: read) { piece in
            try trial.feed(piece)
            return trial.alive
        }
        if scanned != nil, let level = try trial.finish(crc32: crc32) { return DeflateRecipe(level: level, ownBlockRuleKeeping: [:]) }
        // Then the block ends as the stream has them: one encode per level, at most two rebuilds.
        guard case .complete(let blocks)? = scanned else { return nil }
        var sizes: [UInt64] = []
        var previous: UInt64 = 0
        for block in blocks {
            guard block.contentEnd > previous else { return nil }  // an empty block: not Info-ZIP's
            sizes.append(block.contentEnd - previous)
            previous = block.contentEnd
        }
        for level in levels {
            budget -= uncompressedSize
            guard
                let recipe = try encodeComparing(
                    level: level, sizes: sizes, blocks: blocks, compressedSize: compressedSize, uncompressedSize: uncompressedSize, read: read)
            else { continue }
            // Blocks kept as bits cost what keeping the compressed bytes would, and more each
            // time the content changes: worth it only when most of the stream is rebuilt.
            guard recipe.bytes.count * 2 <= compressedSize else { continue }
            budget -= uncompressedSize
            if try rebuildMatches(recipe, compressedSize: compressedSize, uncompressedSize: uncompressedSize, crc32: crc32, read: read) {
                return recipe
            }
            // The own rule agreed with the ends the encoding was given, yet the stream differs:
            // the same blocks with their ends written out.
            guard recipe.ownBlockRule else { return nil }
            let explicit = DeflateRecipe(level: level, blockSizes: sizes, keptBlocks: recipe.keptBlocks)
            guard explicit.bytes.count <= DeflateRecipe.maxSize, explicit.bytes.count * 2 <= compressedSize else { return nil }
            budget -= uncompressedSize
            if try rebuildMatches(explicit, compressedSize: compressedSize, uncompressedSize: uncompressedSize, crc32: crc32, read: read) {
                return explicit
            }
            return nil
        }
        return nil
    }

    /// The most passes over a member's content `find` makes with `levels` levels (the budget it
    /// needs, in multiples of the content's size): one scan (which also tries Info-ZIP's own block
    /// rule at every level), one encode per level and two rebuilds.
    public static func passes(levels: Int) -> UInt64 {
        UInt64(levels + 3)
    }

    /// Info-ZIP's encoder with its own block rule at several levels at once, fed the content of
    /// one inflate pass; each level's output is compared with the original stream as it comes and
    /// the level dropped at its first differing byte.
    final class OwnRuleTrial {
        private var candidates: [(level: Int, encoder: DeflateRecipeEncoder, compared: Int)] = []
        private let compressedSize: Int
        private let read: (Range<Int>) throws -> [UInt8]
        private var crc: UInt32 = 0

        init(levels: [Int], compressedSize: Int, read: @escaping (Range<Int>) throws -> [UInt8]) {
            self.compressedSize = compressedSize
            self.read = read
            for level in levels {
                if let encoder = try? DeflateRecipeEncoder(DeflateRecipe(level: level, ownBlockRuleKeeping: [:])) {
                    candidates.append((level, encoder, 0))
                }
            }
        }

        /// Whether a level still agrees.
        var alive: Bool { !candidates.isEmpty }

        /// Whether `output`, the next bytes of candidate `i`, are the original's next bytes.
        private func agrees(_ i: Int, _ output: [UInt8]) throws -> Bool {
            guard !output.isEmpty else { return true }
            let at = candidates[i].compared
            guard output.count <= compressedSize - at else { return false }
            guard try read(at..<(at + output.count)) == output else { return false }
            candidates[i].compared += output.count
            return true
        }

        func feed(_ piece: UnsafeRawBufferPointer) throws {
            crc = Deflate.crc32(piece, initial: crc)
            var i = 0
            while i < candidates.count {
                // An encoder error (a block past its symbol limit) drops the level like a difference.
                if let output = try? candidates[i].encoder.compress(piece), try agrees(i, output) {
                    i += 1
                } else {
                    candidates.remove(at: i)
                }
            }
        }

        /// The first level (in the order given) whose whole stream is the original, or nil.
        func finish(crc32: UInt32) throws -> Int? {
            guard crc == crc32 else { return nil }
            for i in candidates.indices {
                guard let last = try? candidates[i].encoder.finish() else { continue }
                if try agrees(i, last), candidates[i].compared == compressedSize { return candidates[i].level }
            }
            return nil
        }
    }

    /// What a block scan found: every block end, or only that there are more than `maxBlocks`.
    enum Scan: Equatable {
        case complete([BlockEnd])
        case tooManyBlocks
    }

    /// Where each block but the last ends: its bit position in the stream and its content offset.
    struct BlockEnd: Equatable {
        var bit: UInt64
        var contentEnd: UInt64
    }

    /// Inflates the stream, stopping at each block end. Nil when it does not inflate to exactly
    /// `uncompressedSize` bytes with nothing after its end.
    /// `content`, when given, gets the content as it is inflated and says whether it still needs
    /// the rest: past `maxBlocks` blocks the scan records no more ends and stops as soon as it
    /// does not.
    static func scanBlocks(
        compressedSize: Int, uncompressedSize: UInt64, read: (Range<Int>) throws -> [UInt8],
        content: ((UnsafeRawBufferPointer) throws -> Bool)? = nil
    ) throws -> Scan? {
        let stream: ZStream
        do { stream = try ZStream(inflateWindowBits: -15) } catch { return nil }
        let z = stream.pointer
        let outSize = 64 * 1024
        let output = UnsafeMutablePointer<UInt8>.allocate(capacity: outSize)
        defer { output.deallocate() }
        var ends: [BlockEnd] = []
        var tooMany = false
        var wanted = true
        var position = 0
        var ended = false
        while !ended {
            guard position < compressedSize else { return nil }
            if tooMany && !wanted { return .tooManyBlocks }
            let end = min(position + pieceSize, compressedSize)
            var input = try read(position..<end)
            position = end
            let done: Bool? = try input.withUnsafeMutableBufferPointer { buffer throws -> Bool? in
                z.pointee.next_in = buffer.baseAddress
                z.pointee.avail_in = uInt(buffer.count)
                defer {
                    z.pointee.next_in = nil
                    z.pointee.avail_in = 0
                }
                while true {
                    z.pointee.next_out = output
                    z.pointee.avail_out = uInt(outSize)
                    let code = CZlib.inflate(z, Z_BLOCK)
                    z.pointee.next_out = nil
                    guard UInt64(z.pointee.total_out) <= uncompressedSize else { return nil }
                    let produced = outSize - Int(z.pointee.avail_out)
                    if produced > 0, wanted, let content {
                        wanted = try content(UnsafeRawBufferPointer(start: output, count: produced))
                    }
                    if code == Z_STREAM_END { return z.pointee.avail_in == 0 ? true : nil }
                    guard code == Z_OK || code == Z_BUF_ERROR else { return nil }
                    let type = Int(z.pointee.data_type)
                    if type & 128 != 0 {
                        // After the last block (64): the next call ends the stream.
                        if type & 64 != 0 { continue }
                        // At a block boundary: bits of the last byte taken that are not used yet.
                        let unused = type & 63
                        guard unused < 8 else { return nil }
                        let bit = UInt64(z.pointee.total_in) * 8 - UInt64(unused)
                        if ends.last?.bit != bit && !tooMany {
                            ends.append(BlockEnd(bit: bit, contentEnd: UInt64(z.pointee.total_out)))
                            if ends.count >= maxBlocks {
                                tooMany = true
                                ends = []
                                if content == nil || !wanted { return nil }
                            }
                        }
                    }
                    if z.pointee.avail_in == 0 && z.pointee.avail_out != 0 { return false }
                    if code == Z_BUF_ERROR { return false }
                }
            }
            guard let done else { return nil }
            ended = done
        }
        guard position == compressedSize, UInt64(z.pointee.total_out) == uncompressedSize else { return nil }
        return tooMany ? .tooManyBlocks : .complete(ends)
    }

    /// Inflates the stream and hands its content to `body` in pieces.
    static func inflating(compressedSize: Int, uncompressedSize: UInt64, read: (Range<Int>) throws -> [UInt8], body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let inflater = try InflateStream(expectedSize: uncompressedSize)
        var position = 0
        while position < compressedSize {
            let end = min(position + pieceSize, compressedSize)
            let input = try read(position..<end)
            position = end
            try input.withUnsafeBytes { try inflater.inflate($0, emit: body) }
        }
        try inflater.finish()
    }

    /// Thrown to stop a level whose kept bits outgrow the recipe.
    private struct TooMuchKept: Error {}

    /// Re-encodes the content at `level`; the recipe with every differing block kept, or nil
    /// when that does not fit.
    static func encodeComparing(
        level: Int, sizes: [UInt64], blocks: [BlockEnd], compressedSize: Int, uncompressedSize: UInt64, read: (Range<Int>) throws -> [UInt8]
    ) throws -> DeflateRecipe? {
        try withoutActuallyEscaping(read) { read in
            try encodeComparing(level: level, sizes: sizes, blocks: blocks, compressedSize: compressedSize, uncompressedSize: uncompressedSize, escapingRead: read)
        }
    }

    private static func encodeComparing(
        level: Int, sizes: [UInt64], blocks: [BlockEnd], compressedSize: Int, uncompressedSize: UInt64, escapingRead read: @escaping (Range<Int>) throws -> [UInt8]
    ) throws -> DeflateRecipe? {
        var recipe = DeflateRecipe(level: level, blockSizes: sizes)
        let room = DeflateRecipe.maxSize - recipe.bytes.count
        var keptBytes = 0
        let encoder = try LazyDeflateEncoder(level: level, blockEnds: recipe.blockEnds) { index, encoded, startBit in
            let endBit = index < blocks.count ? blocks[index].bit : UInt64(compressedSize) * 8
            guard startBit <= endBit, endBit <= UInt64(compressedSize) * 8 else { throw TooMuchKept() }
            let count = Int(endBit - startBit)
            let phase = Int(startBit & 7)
            let original = try read(Int(startBit / 8)..<Int((endBit + 7) / 8))
            var mine = encoded
            let encodedCount = Int(mine.bitPosition) - phase
            let encodedBytes = mine.finish()
            if encodedCount == count && Self.equalBits(encodedBytes, original, phase: phase, count: count) { return nil }
            var bits = LazyDeflateEncoder.shiftDown(original, by: phase)
            bits.removeLast(bits.count - (count + 7) / 8)
            if count % 8 != 0 { bits[bits.count - 1] &= UInt8((1 << (count % 8)) - 1) }
            keptBytes += bits.count + 6
            guard keptBytes <= room else { throw TooMuchKept() }
            recipe.keptBlocks[index] = DeflateRecipe.KeptBlock(bits: bits, count: count)
            return (bits, count)
        }
        do {
            try inflating(compressedSize: compressedSize, uncompressedSize: uncompressedSize, read: read) { piece in
                _ = try encoder.compress(piece)
            }
            _ = try encoder.finish()
        } catch is TooMuchKept {
            return nil
        } catch is LazyDeflateError {
            return nil
        }
        guard recipe.bytes.count <= DeflateRecipe.maxSize else { return nil }
        // Every given end is where Info-ZIP's own rule puts one: the ends need not be stored.
        if encoder.ownRuleAgrees { return DeflateRecipe(level: level, ownBlockRuleKeeping: recipe.keptBlocks) }
        return recipe
    }

    /// Whether bits `phase..<phase+count` of `a` and of `b` agree.
    static func equalBits(_ a: [UInt8], _ b: [UInt8], phase: Int, count: Int) -> Bool {
        let total = phase + count
        let bytes = (total + 7) / 8
        guard a.count >= bytes, b.count >= bytes, bytes > 0 else { return count == 0 }
        for i in 0..<bytes {
            var mask: UInt8 = 0xff
            if i == 0 { mask &= UInt8(truncatingIfNeeded: 0xff << phase) }
            if i == bytes - 1 && total % 8 != 0 { mask &= UInt8((1 << (total % 8)) - 1) }
            if (a[i] ^ b[i]) & mask != 0 { return false }
        }
        return true
    }

    /// Rebuilds the stream from its content with `recipe` and compares every byte.
    static func rebuildMatches(
        _ recipe: DeflateRecipe, compressedSize: Int, uncompressedSize: UInt64, crc32: UInt32, read: (Range<Int>) throws -> [UInt8]
    ) throws -> Bool {
        let encoder = try DeflateRecipeEncoder(recipe)
        var compared = 0
        var crc: UInt32 = 0
        func agrees(_ output: [UInt8]) throws -> Bool {
            guard !output.isEmpty else { return true }
            guard output.count <= compressedSize - compared else { return false }
            let original = try read(compared..<(compared + output.count))
            compared += output.count
            return original == output
        }
        struct Differs: Error {}
        do {
            try inflating(compressedSize: compressedSize, uncompressedSize: uncompressedSize, read: read) { piece in
                crc = Deflate.crc32(piece, initial: crc)
                guard try agrees(try encoder.compress(piece)) else { throw Differs() }
            }
            guard try agrees(try encoder.finish()) else { return false }
        } catch is Differs {
            return false
        }
        return compared == compressedSize && crc == crc32
    }
}
