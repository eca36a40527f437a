// DeflateRecipe.swift: reconstruction data that turns a member's content back into a deflate
// stream no zlib setting reproduces (Info-ZIP's `zip`, other zlib ancestors).
//
// The idea is preflate's: keep the content, plus what an encoder needs to make the original
// bits from it. Here the encoder is `LazyDeflateEncoder` (Info-ZIP's matching rules), and what
// it needs is its level and where each block ends: content offsets (encoder 1), or nothing when
// Info-ZIP's own block rule puts every end where the stream has it (encoder 2). A block the encoder does
// not reproduce bit for bit is carried as its exact bits, so the rebuild is always exact and a
// stream that mostly agrees still costs little. The recipe is only kept when the whole rebuild
// was compared with the original (`DeflateRecipeSearch`).
//
// Bytes (the zip part's transform, version 2; see Docs/FORMAT.md, Zip archives):
//
//     recipe = u8 version(2) || u8 encoder(1) || u8 level(1..9)
//           || uvarint blocks(≥ 1) || uvarint size* (blocks − 1: content bytes of each block but the last, ≥ 1)
//           || kept
//            | u8 version(2) || u8 encoder(2) || u8 level(1..9) || kept
//     kept   = uvarint count || (uvarint block || uvarint bits || bytes[(bits + 7) / 8])* (blocks as their bits, ascending)

/// The reconstruction data of one deflate stream (see the file comment).
public struct DeflateRecipe: Sendable, Hashable, CustomStringConvertible {
    /// The transform version byte of a recipe.
    public static let version: UInt8 = 2
    /// The encoder: 1 = `LazyDeflateEncoder` with the block ends given.
    public static let lazyEncoder: UInt8 = 1
    /// The encoder: 2 = `LazyDeflateEncoder` ending blocks by Info-ZIP's own rule.
    public static let ownRuleEncoder: UInt8 = 2
    /// The largest recipe in bytes (a part's transform holds at most 4096).
    public static let maxSize = 4096

    /// Level 1…9 (1…3: Info-ZIP's fast matching).
    public var level: Int
    /// Content bytes in each block but the last (empty with `ownBlockRule`).
    public var blockSizes: [UInt64]
    /// Blocks end where Info-ZIP's own rule ends them (encoder 2), not at `blockSizes`.
    public var ownBlockRule: Bool
    /// Blocks kept as their exact bits: block index → (bits packed from bit 0, bit count).
    public var keptBlocks: [Int: KeptBlock]

    /// A block's exact bits.
    public struct KeptBlock: Sendable, Hashable {
        public var bits: [UInt8]
        public var count: Int
    }

    public init(level: Int, blockSizes: [UInt64], keptBlocks: [Int: KeptBlock] = [:]) {
        self.level = level
        self.blockSizes = blockSizes
        self.ownBlockRule = false
        self.keptBlocks = keptBlocks
    }

    /// A recipe whose blocks end by Info-ZIP's own rule.
    public init(level: Int, ownBlockRuleKeeping keptBlocks: [Int: KeptBlock] = [:]) {
        self.level = level
        self.blockSizes = []
        self.ownBlockRule = true
        self.keptBlocks = keptBlocks
    }

    /// The content offsets after which blocks end.
    public var blockEnds: [UInt64] {
        var ends: [UInt64] = []
        ends.reserveCapacity(blockSizes.count)
        var total: UInt64 = 0
        for size in blockSizes {
            total &+= size
            ends.append(total)
        }
        return ends
    }

    /// Bits carried as they are.
    public var keptBits: Int { keptBlocks.values.reduce(0) { $0 + $1.count } }

    public var description: String {
        ownBlockRule
            ? "Info-ZIP deflate level \(level), its own block ends, \(keptBlocks.count) blocks kept as bits"
            : "Info-ZIP deflate level \(level), \(blockSizes.count + 1) blocks, \(keptBlocks.count) kept as bits"
    }

    /// The recipe's bytes.
    public var bytes: [UInt8] {
        var out: [UInt8] = [Self.version, ownBlockRule ? Self.ownRuleEncoder : Self.lazyEncoder, UInt8(level)]
        if !ownBlockRule {
            Self.putVarint(UInt64(blockSizes.count + 1), &out)
            for size in blockSizes { Self.putVarint(size, &out) }
        }
        Self.putVarint(UInt64(keptBlocks.count), &out)
        for index in keptBlocks.keys.sorted() {
            let kept = keptBlocks[index]!
            Self.putVarint(UInt64(index), &out)
            Self.putVarint(UInt64(kept.count), &out)
            out += kept.bits
        }
        return out
    }

    /// Decodes recipe bytes; nil when they are not a valid recipe (strictly: every field in
    /// range, kept blocks ascending and inside the block count, unused bits zero, no trailing bytes).
    /// With Info-ZIP's own block rule the block count is known only to the encoder, which refuses
    /// a kept block past the stream's last (`DeflateRecipeEncoder.finish`).
    public init?(bytes: [UInt8]) {
        guard bytes.count <= Self.maxSize, bytes.count >= 4, bytes[0] == Self.version,
            bytes[1] == Self.lazyEncoder || bytes[1] == Self.ownRuleEncoder, (1...9).contains(bytes[2])
        else { return nil }
        let ownRule = bytes[1] == Self.ownRuleEncoder
        var offset = 3
        func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while offset < bytes.count, shift < 63 {
                let byte = bytes[offset]
                offset += 1
                value |= UInt64(byte & 0x7f) << shift
                if byte & 0x80 == 0 { return (byte == 0 && shift > 0) ? nil : value }  // no overlong forms
                shift += 7
            }
            return nil
        }
        // Encoder 2: the blocks are counted by the encoder; a kept block's index is only bounded.
        guard let blocks = ownRule ? UInt64(Int32.max) : varint(), blocks >= 1, ownRule || blocks <= UInt64(bytes.count) else { return nil }
        var sizes: [UInt64] = []
        var total: UInt64 = 0
        for _ in 1..<(ownRule ? 1 : blocks) {
            guard let size = varint(), size >= 1 else { return nil }
            let (sum, overflow) = total.addingReportingOverflow(size)
            guard !overflow else { return nil }
            total = sum
            sizes.append(size)
        }
        guard let keptCount = varint(), keptCount <= blocks, keptCount <= UInt64(bytes.count) else { return nil }
        var kept: [Int: KeptBlock] = [:]
        var last = -1
        for _ in 0..<keptCount {
            guard let index = varint(), index < blocks, Int(index) > last, let count = varint(), count >= 3,
                count <= UInt64(bytes.count - offset) * 8
            else { return nil }
            let n = Int((count + 7) / 8)
            let bits = Array(bytes[offset..<(offset + n)])
            offset += n
            if count % 8 != 0, bits[n - 1] >> (count % 8) != 0 { return nil }
            kept[Int(index)] = KeptBlock(bits: bits, count: Int(count))
            last = Int(index)
        }
        guard offset == bytes.count else { return nil }
        if ownRule {
            self.init(level: Int(bytes[2]), ownBlockRuleKeeping: kept)
        } else {
            self.init(level: Int(bytes[2]), blockSizes: sizes, keptBlocks: kept)
        }
    }

    static func putVarint(_ value: UInt64, _ out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }
}

/// Rebuilds a deflate stream from content and a recipe, chunk by chunk, in fixed memory.
public final class DeflateRecipeEncoder {
    private let encoder: LazyDeflateEncoder
    /// The highest kept block's index, or −1.
    private let lastKept: Int

    public init(_ recipe: DeflateRecipe) throws(LazyDeflateError) {
        let kept = recipe.keptBlocks
        lastKept = kept.keys.max() ?? -1
        encoder = try LazyDeflateEncoder(
            level: recipe.level, blockEnds: recipe.blockEnds, ownRule: recipe.ownBlockRule,
            replace: kept.isEmpty ? nil : { index, _, _ in kept[index].map { ($0.bits, $0.count) } })
    }

    /// Encodes `chunk`; returns the stream bytes ready.
    public func compress<Bytes: Collection<UInt8>>(_ chunk: Bytes) throws -> [UInt8] {
        if let done = try chunk.withContiguousStorageIfAvailable({ try encoder.compress(UnsafeRawBufferPointer($0)) }) { return done }
        let copy = Array(chunk)
        return try copy.withUnsafeBytes { try encoder.compress($0) }
    }

    /// Encodes `chunk`; returns the stream bytes ready.
    public func compress(_ chunk: UnsafeRawBufferPointer) throws -> [UInt8] {
        try encoder.compress(chunk)
    }

    /// Ends the stream; returns the last bytes. Throws when the recipe keeps a block the stream
    /// does not have.
    public func finish() throws -> [UInt8] {
        let last = try encoder.finish()
        guard lastKept < encoder.blockIndex else { throw LazyDeflateError.keptBlockMissing(block: lastKept) }
        return last
    }
}
