// DeflateRecipe.swift: reconstruction data that turns a member's content back into a deflate
// stream no zlib setting reproduces (Info-ZIP's `zip`, other zlib ancestors).
//
// The idea is preflate's: keep the content, plus what an encoder needs to make the original
// bits from it. Here the encoder is `LazyDeflateEncoder` (Info-ZIP's matching rules), and what
// it needs is where each block ends (content offsets) and its level. A block the encoder does
// not reproduce bit for bit is carried as its exact bits, so the rebuild is always exact and a
// stream that mostly agrees still costs little. The recipe is only kept when the whole rebuild
// was compared with the original (`DeflateRecipeSearch`).
//
// Bytes (the zip part's transform, version 2; see Docs/FORMAT.md, Zip archives):
//
//     recipe = u8 version(2) || u8 encoder(1) || u8 level(1..9)
//           || uvarint blocks(≥ 1) || uvarint size* (blocks − 1: content bytes of each block but the last, ≥ 1)
//           || uvarint kept || (uvarint block || uvarint bits || bytes[(bits + 7) / 8])* (kept: blocks as their bits, ascending)

/// The reconstruction data of one deflate stream (see the file comment).
public struct DeflateRecipe: Sendable, Hashable, CustomStringConvertible {
    /// The transform version byte of a recipe.
    public static let version: UInt8 = 2
    /// The encoder: 1 = `LazyDeflateEncoder`.
    public static let lazyEncoder: UInt8 = 1
    /// The largest recipe in bytes (a part's transform holds at most 4096).
    public static let maxSize = 4096

    /// Level 1…9 (1…3: Info-ZIP's fast matching).
    public var level: Int
    /// Content bytes in each block but the last.
    public var blockSizes: [UInt64]
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
        "Info-ZIP deflate level \(level), \(blockSizes.count + 1) blocks, \(keptBlocks.count) kept as bits"
    }

    /// The recipe's bytes.
    public var bytes: [UInt8] {
        var out: [UInt8] = [Self.version, Self.lazyEncoder, UInt8(level)]
        Self.putVarint(UInt64(blockSizes.count + 1), &out)
        for size in blockSizes { Self.putVarint(size, &out) }
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
    public init?(bytes: [UInt8]) {
        guard bytes.count <= Self.maxSize, bytes.count >= 4, bytes[0] == Self.version, bytes[1] == Self.lazyEncoder,
            (1...9).contains(bytes[2])
        else { return nil }
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
        guard let blocks = varint(), blocks >= 1, blocks <= UInt64(bytes.count) else { return nil }
        var sizes: [UInt64] = []
        var total: UInt64 = 0
        for _ in 1..<blocks {
            guard let size = varint(), size >= 1 else { return nil }
            let (sum, overflow) = total.addingReportingOverflow(size)
            guard !overflow else { return nil }
            total = sum
            sizes.append(size)
        }
        guard let keptCount = varint(), keptCount <= blocks else { return nil }
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
        self.init(level: Int(bytes[2]), blockSizes: sizes, keptBlocks: kept)
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

    public init(_ recipe: DeflateRecipe) throws(LazyDeflateError) {
        let kept = recipe.keptBlocks
        encoder = try LazyDeflateEncoder(level: recipe.level, blockEnds: recipe.blockEnds, replace: kept.isEmpty ? nil : { index, _, _ in
            kept[index].map { ($0.bits, $0.count) }
        })
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

    /// Ends the stream; returns the last bytes.
    public func finish() throws -> [UInt8] {
        try encoder.finish()
    }
}
