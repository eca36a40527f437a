// DeflateBlockWriter.swift: writes deflate blocks (RFC 1951) from LZ77 symbols, choosing and
// building the Huffman codes the way zlib's and Info-ZIP's trees do.
//
// Written from the description of that code: per block, a Huffman tree is built for the
// literal/length and the distance alphabets from the symbols' frequencies (a heap ordered by
// frequency, then by subtree depth), lengths over 15 bits are repaired by moving leaves down,
// the code-length alphabet's tree is built from the run-length coded code lengths, and the
// block is sent stored, with the fixed codes, or with the dynamic codes, whichever the
// computed sizes say is smallest (stored only while the block's bytes are still in the window).
// Two encoders that follow these rules turn the same symbols into the same bits.

/// Bits written least significant first, as deflate packs them.
struct DeflateBitWriter {
    /// Complete bytes written so far (the caller may take them out with `takeBytes`).
    private(set) var bytes: [UInt8] = []
    private var buffer: UInt64 = 0
    private var count = 0
    /// Bits taken out by `takeBytes` plus bits held: the stream position in bits.
    private(set) var bitPosition: UInt64 = 0

    init() { bytes.reserveCapacity(1 << 16) }

    /// Appends the low `length` bits of `value` (length ≤ 32).
    @inline(__always)
    mutating func write(_ value: UInt32, _ length: Int) {
        buffer |= UInt64(value) << UInt64(count)
        count += length
        bitPosition += UInt64(length)
        while count >= 8 {
            bytes.append(UInt8(truncatingIfNeeded: buffer))
            buffer >>= 8
            count -= 8
        }
    }

    /// Pads with zero bits to a byte boundary.
    mutating func alignToByte() {
        if count > 0 { write(0, 8 - count) }
    }

    /// Appends `bitCount` bits from `source`, starting at its bit 0.
    mutating func append(bits source: [UInt8], bitCount: Int) {
        var index = 0
        var left = bitCount
        while left >= 8 {
            write(UInt32(source[index]), 8)
            index += 1
            left -= 8
        }
        if left > 0 { write(UInt32(source[index]) & ((1 << UInt32(left)) - 1), left) }
    }

    /// The bits held back (fewer than 8), as a count.
    var pendingBitCount: Int { count }

    /// Removes and returns the complete bytes written so far.
    mutating func takeBytes() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }

    /// Ends the stream: pads the last byte with zero bits and returns everything left.
    mutating func finish() -> [UInt8] {
        alignToByte()
        return takeBytes()
    }
}

/// Static tables of deflate (RFC 1951 section 3.2.5) and of the tree builder.
enum DeflateTables {
    static let literalCodes = 286
    static let distanceCodes = 30
    static let bitLengthCodes = 19
    static let endOfBlock = 256
    static let maxBits = 15
    static let maxBitLengthBits = 7
    static let extraLengthBits: [Int] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let extraDistanceBits: [Int] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    static let extraBitLengthBits: [Int] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 7]
    /// The order code lengths of the code-length alphabet are sent in.
    static let bitLengthOrder: [Int] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    /// Length code (0…28) of a match length minus 3 (0…255); 255 (length 258) uses code 28.
    static let lengthCode: [UInt8] = (0..<256).map { l in
        if l < 8 { return UInt8(l) }
        if l == 255 { return 28 }
        let log = Int.bitWidth - 1 - l.leadingZeroBitCount
        return UInt8(4 * (log - 1) + ((l >> (log - 2)) & 3))
    }
    /// First match length minus 3 of each length code.
    static let baseLength: [Int] = (0..<29).map { c in
        if c < 8 { return c }
        if c == 28 { return 255 }
        return (4 | (c & 3)) << (c / 4 - 1)
    }
    /// Distance code (0…29) of a distance minus 1 (0…32767).
    @inline(__always)
    static func distanceCode(_ d: Int) -> Int {
        if d < 4 { return d }
        let log = Int.bitWidth - 1 - d.leadingZeroBitCount
        return 2 * log + ((d >> (log - 1)) & 1)
    }
    /// First distance minus 1 of each distance code.
    static let baseDistance: [Int] = (0..<30).map { c in c < 4 ? c : (2 | (c & 1)) << (c / 2 - 1) }

    /// The fixed literal/length code lengths.
    static let fixedLiteralLengths: [UInt8] = (0..<288).map { n in n < 144 ? 8 : n < 256 ? 9 : n < 280 ? 7 : 8 }
    static let fixedLiteralCodes: [UInt16] = canonicalCodes(fixedLiteralLengths, maxCode: 287)
    static let fixedDistanceLengths = [UInt8](repeating: 5, count: 30)
    static let fixedDistanceCodes: [UInt16] = canonicalCodes(fixedDistanceLengths, maxCode: 29)

    /// Canonical codes for `lengths`, bit-reversed (deflate sends codes most significant bit first).
    static func canonicalCodes(_ lengths: [UInt8], maxCode: Int) -> [UInt16] {
        var countPerLength = [Int](repeating: 0, count: maxBits + 1)
        for n in 0...maxCode where lengths[n] != 0 { countPerLength[Int(lengths[n])] += 1 }
        var next = [Int](repeating: 0, count: maxBits + 1)
        var code = 0
        for bits in 1...maxBits {
            code = (code + countPerLength[bits - 1]) << 1
            next[bits] = code
        }
        var codes = [UInt16](repeating: 0, count: lengths.count)
        for n in 0...maxCode {
            let length = Int(lengths[n])
            guard length != 0 else { continue }
            var value = next[length]
            next[length] += 1
            var reversed = 0
            for _ in 0..<length {
                reversed = reversed << 1 | (value & 1)
                value >>= 1
            }
            codes[n] = UInt16(reversed)
        }
        return codes
    }
}

/// One Huffman tree under construction: frequencies in, code lengths and codes out.
struct DeflateTree {
    var frequency: [Int]
    var length: [UInt8]
    var code: [UInt16]
    /// Number of leaf symbols.
    let elements: Int
    /// Extra bits per symbol from `extraBase` on (for the size estimate).
    let extraBits: [Int]
    let extraBase: Int
    let maxLength: Int
    /// Fixed code lengths, for the size of the block with fixed codes (nil for the code-length tree).
    let fixedLengths: [UInt8]?
    /// Largest symbol with a nonzero frequency, after `build`.
    var maxCode = 0

    init(elements: Int, extraBits: [Int], extraBase: Int, maxLength: Int, fixedLengths: [UInt8]?) {
        self.elements = elements
        self.extraBits = extraBits
        self.extraBase = extraBase
        self.maxLength = maxLength
        self.fixedLengths = fixedLengths
        frequency = [Int](repeating: 0, count: 2 * elements + 1)
        length = [UInt8](repeating: 0, count: 2 * elements + 1)
        code = [UInt16](repeating: 0, count: 2 * elements + 1)
    }

    mutating func reset() {
        for i in 0..<elements { frequency[i] = 0 }
    }

    /// Builds the tree: code lengths and codes. Adds the block's size with these codes to
    /// `optimal` and with the fixed codes to `fixed` (both in bits).
    mutating func build(optimal: inout Int, fixed: inout Int) {
        let heapSize = 2 * DeflateTables.literalCodes + 1
        var heap = [Int](repeating: 0, count: heapSize)
        var depth = [UInt8](repeating: 0, count: 2 * elements + 1)
        var parent = [Int](repeating: 0, count: 2 * elements + 1)
        var heapLength = 0
        var heapMax = heapSize
        var maxCode = -1
        for n in 0..<elements {
            if frequency[n] != 0 {
                heapLength += 1
                heap[heapLength] = n
                maxCode = n
                depth[n] = 0
            } else {
                length[n] = 0
            }
        }
        // At least two codes of nonzero frequency: force them.
        while heapLength < 2 {
            let node: Int
            if maxCode < 2 {
                maxCode += 1
                node = maxCode
            } else {
                node = 0
            }
            heapLength += 1
            heap[heapLength] = node
            frequency[node] = 1
            depth[node] = 0
            optimal -= 1
            if let fixedLengths { fixed -= Int(fixedLengths[node]) }
        }
        self.maxCode = maxCode

        func smaller(_ n: Int, _ m: Int) -> Bool {
            frequency[n] < frequency[m] || (frequency[n] == frequency[m] && depth[n] <= depth[m])
        }
        func siftDown(_ start: Int) {
            var k = start
            let v = heap[k]
            var j = k << 1
            while j <= heapLength {
                if j < heapLength && smaller(heap[j + 1], heap[j]) { j += 1 }
                if smaller(v, heap[j]) { break }
                heap[k] = heap[j]
                k = j
                j <<= 1
            }
            heap[k] = v
        }
        var n = heapLength / 2
        while n >= 1 {
            siftDown(n)
            n -= 1
        }
        var node = elements
        repeat {
            let least = heap[1]
            heap[1] = heap[heapLength]
            heapLength -= 1
            siftDown(1)
            let next = heap[1]
            heapMax -= 1
            heap[heapMax] = least
            heapMax -= 1
            heap[heapMax] = next
            frequency[node] = frequency[least] + frequency[next]
            depth[node] = max(depth[least], depth[next]) + 1
            parent[least] = node
            parent[next] = node
            heap[1] = node
            node += 1
            siftDown(1)
        } while heapLength >= 2
        heapMax -= 1
        heap[heapMax] = heap[1]

        // Code lengths: depth in the tree, capped at maxLength, then repaired.
        var countPerLength = [Int](repeating: 0, count: DeflateTables.maxBits + 1)
        length[heap[heapMax]] = 0
        var overflow = 0
        var h = heapMax + 1
        while h < heapSize {
            let n = heap[h]
            var bits = Int(length[parent[n]]) + 1
            if bits > maxLength {
                bits = maxLength
                overflow += 1
            }
            length[n] = UInt8(bits)
            h += 1
            if n > maxCode { continue }
            countPerLength[bits] += 1
            let extra = n >= extraBase ? extraBits[n - extraBase] : 0
            let f = frequency[n]
            optimal += f * (bits + extra)
            if let fixedLengths { fixed += f * (Int(fixedLengths[n]) + extra) }
        }
        if overflow > 0 {
            repeat {
                var bits = maxLength - 1
                while countPerLength[bits] == 0 { bits -= 1 }
                countPerLength[bits] -= 1
                countPerLength[bits + 1] += 2
                countPerLength[maxLength] -= 1
                overflow -= 2
            } while overflow > 0
            var h = heapSize
            var bits = maxLength
            while bits != 0 {
                var n = countPerLength[bits]
                while n != 0 {
                    h -= 1
                    let m = heap[h]
                    if m > maxCode { continue }
                    if Int(length[m]) != bits {
                        optimal += (bits - Int(length[m])) * frequency[m]
                        length[m] = UInt8(bits)
                    }
                    n -= 1
                }
                bits -= 1
            }
        }
        let codes = DeflateTables.canonicalCodes(length, maxCode: maxCode)
        for i in 0...maxCode { code[i] = codes[i] }
    }
}

/// Collects one block's symbols and writes the block. (A class: a struct held by the encoder
/// would be copied, arrays and all, whenever one of its properties is read.)
final class DeflateBlockBuilder {
    /// Symbols: a literal byte (distance 0) or a match (length − 3, distance).
    private(set) var lengthsOrLiterals: [UInt8] = []
    private(set) var distances: [UInt16] = []
    private var literalTree = DeflateTree(
        elements: DeflateTables.literalCodes, extraBits: DeflateTables.extraLengthBits, extraBase: 257, maxLength: 15,
        fixedLengths: DeflateTables.fixedLiteralLengths)
    private var distanceTree = DeflateTree(
        elements: DeflateTables.distanceCodes, extraBits: DeflateTables.extraDistanceBits, extraBase: 0, maxLength: 15,
        fixedLengths: DeflateTables.fixedDistanceLengths)
    private var bitLengthTree = DeflateTree(
        elements: DeflateTables.bitLengthCodes, extraBits: DeflateTables.extraBitLengthBits, extraBase: 0, maxLength: 7,
        fixedLengths: nil)

    init() {
        lengthsOrLiterals.reserveCapacity(1 << 15)
        distances.reserveCapacity(1 << 15)
        literalTree.frequency[DeflateTables.endOfBlock] = 1
    }

    var symbolCount: Int { distances.count }
    /// Matches among the symbols.
    private(set) var matchCount = 0

    /// Whether Info-ZIP ends the block after the symbol just added, `inputLength` content bytes
    /// after the block's start (its `ct_tally` answer): when its 32 Ki-entry buffers are full
    /// (32,767 symbols or 32,768 matches), or, above level 2 and at every 4096th symbol, when
    /// fewer than half the symbols are matches and the block's estimated size (8 bits a symbol
    /// plus 5 bits and the extra bits of each match's distance) is under half its input.
    func infoZipEndsBlock(level: Int, inputLength: Int) -> Bool {
        let symbols = distances.count
        if level > 2 && symbols & 0xfff == 0 && symbols > 0 {
            var bits = symbols * 8
            for code in 0..<DeflateTables.distanceCodes {
                bits += distanceTree.frequency[code] * (5 + DeflateTables.extraDistanceBits[code])
            }
            if matchCount < symbols / 2 && bits >> 3 < inputLength / 2 { return true }
        }
        return symbols == (1 << 15) - 1 || matchCount == 1 << 15
    }

    @inline(__always)
    func literal(_ byte: UInt8) {
        lengthsOrLiterals.append(byte)
        distances.append(0)
        literalTree.frequency[Int(byte)] += 1
    }

    /// A match of `length` (3…258) bytes at `distance` (1…32768).
    @inline(__always)
    func match(length: Int, distance: Int) {
        let l = length - 3
        lengthsOrLiterals.append(UInt8(l))
        distances.append(UInt16(distance))
        literalTree.frequency[Int(DeflateTables.lengthCode[l]) + 257] += 1
        distanceTree.frequency[DeflateTables.distanceCode(distance - 1)] += 1
        matchCount += 1
    }

    /// Writes the block to `writer` and starts a new one. `stored` is the block's bytes when
    /// they are still in the window (a stored block is then possible), `storedLength` their count.
    func flush(into writer: inout DeflateBitWriter, stored: UnsafeRawBufferPointer?, storedLength: Int, last: Bool) {
        var optimal = 0
        var fixed = 0
        literalTree.build(optimal: &optimal, fixed: &fixed)
        distanceTree.build(optimal: &optimal, fixed: &fixed)
        let maxIndex = buildBitLengthTree(optimal: &optimal)
        var optimalBytes = (optimal + 3 + 7) >> 3
        let fixedBytes = (fixed + 3 + 7) >> 3
        if fixedBytes <= optimalBytes { optimalBytes = fixedBytes }
        let lastBit: UInt32 = last ? 1 : 0
        if storedLength + 4 <= optimalBytes, storedLength <= 0xffff, let stored {  // (Info-ZIP's blocks never reach 64 KiB stored)
            writer.write(0 << 1 | lastBit, 3)
            writer.alignToByte()
            writer.write(UInt32(storedLength & 0xffff), 16)
            writer.write(UInt32(~storedLength & 0xffff), 16)
            for byte in stored.prefix(storedLength) { writer.write(UInt32(byte), 8) }
        } else if fixedBytes == optimalBytes {
            writer.write(1 << 1 | lastBit, 3)
            sendSymbols(
                into: &writer, literalLengths: DeflateTables.fixedLiteralLengths, literalCodes: DeflateTables.fixedLiteralCodes,
                distanceLengths: DeflateTables.fixedDistanceLengths, distanceCodes: DeflateTables.fixedDistanceCodes)
        } else {
            writer.write(2 << 1 | lastBit, 3)
            sendAllTrees(into: &writer, literalCount: literalTree.maxCode + 1, distanceCount: distanceTree.maxCode + 1, bitLengthCount: maxIndex + 1)
            sendSymbols(
                into: &writer, literalLengths: literalTree.length, literalCodes: literalTree.code,
                distanceLengths: distanceTree.length, distanceCodes: distanceTree.code)
        }
        if last { writer.alignToByte() }
        lengthsOrLiterals.removeAll(keepingCapacity: true)
        distances.removeAll(keepingCapacity: true)
        matchCount = 0
        literalTree.reset()
        distanceTree.reset()
        bitLengthTree.reset()
        literalTree.frequency[DeflateTables.endOfBlock] = 1
    }

    private func sendSymbols(
        into writer: inout DeflateBitWriter, literalLengths: [UInt8], literalCodes: [UInt16], distanceLengths: [UInt8], distanceCodes: [UInt16]
    ) {
        for i in 0..<distances.count {
            let distance = Int(distances[i])
            let value = Int(lengthsOrLiterals[i])
            if distance == 0 {
                writer.write(UInt32(literalCodes[value]), Int(literalLengths[value]))
            } else {
                let lc = Int(DeflateTables.lengthCode[value])
                writer.write(UInt32(literalCodes[lc + 257]), Int(literalLengths[lc + 257]))
                let extra = DeflateTables.extraLengthBits[lc]
                if extra != 0 { writer.write(UInt32(value - DeflateTables.baseLength[lc]), extra) }
                let d = distance - 1
                let dc = DeflateTables.distanceCode(d)
                writer.write(UInt32(distanceCodes[dc]), Int(distanceLengths[dc]))
                let dextra = DeflateTables.extraDistanceBits[dc]
                if dextra != 0 { writer.write(UInt32(d - DeflateTables.baseDistance[dc]), dextra) }
            }
        }
        writer.write(UInt32(literalCodes[DeflateTables.endOfBlock]), Int(literalLengths[DeflateTables.endOfBlock]))
    }

    /// Runs over a tree's code lengths the way they are sent (runs of zeros and repeats),
    /// either counting the code-length symbols or sending them.
    private static func scan(lengths: [UInt8], maxCode: Int, visit: (_ symbol: Int, _ extra: (value: Int, bits: Int)?) -> Void) {
        var previous = -1
        var next = Int(lengths[0])
        var count = 0
        var maxCount = 7
        var minCount = 4
        if next == 0 {
            maxCount = 138
            minCount = 3
        }
        for n in 0...maxCode {
            let current = next
            next = n + 1 <= maxCode ? Int(lengths[n + 1]) : 0xffff
            count += 1
            if count < maxCount && current == next {
                continue
            } else if count < minCount {
                for _ in 0..<count { visit(current, nil) }
            } else if current != 0 {
                if current != previous {
                    visit(current, nil)
                    count -= 1
                }
                visit(16, (count - 3, 2))
            } else if count <= 10 {
                visit(17, (count - 3, 3))
            } else {
                visit(18, (count - 11, 7))
            }
            count = 0
            previous = current
            if next == 0 {
                maxCount = 138
                minCount = 3
            } else if current == next {
                maxCount = 6
                minCount = 3
            } else {
                maxCount = 7
                minCount = 4
            }
        }
    }

    private func buildBitLengthTree(optimal: inout Int) -> Int {
        var tree = bitLengthTree
        // Counting: a run below minCount counts each length once per occurrence.
        let count: (Int, (value: Int, bits: Int)?) -> Void = { symbol, _ in tree.frequency[symbol] += 1 }
        Self.scan(lengths: literalTree.length, maxCode: literalTree.maxCode, visit: count)
        Self.scan(lengths: distanceTree.length, maxCode: distanceTree.maxCode, visit: count)
        var unusedFixed = 0
        tree.build(optimal: &optimal, fixed: &unusedFixed)
        bitLengthTree = tree
        var maxIndex = DeflateTables.bitLengthCodes - 1
        while maxIndex >= 3 {
            if bitLengthTree.length[DeflateTables.bitLengthOrder[maxIndex]] != 0 { break }
            maxIndex -= 1
        }
        optimal += 3 * (maxIndex + 1) + 5 + 5 + 4
        return maxIndex
    }

    private func sendAllTrees(into writer: inout DeflateBitWriter, literalCount: Int, distanceCount: Int, bitLengthCount: Int) {
        writer.write(UInt32(literalCount - 257), 5)
        writer.write(UInt32(distanceCount - 1), 5)
        writer.write(UInt32(bitLengthCount - 4), 4)
        for rank in 0..<bitLengthCount {
            writer.write(UInt32(bitLengthTree.length[DeflateTables.bitLengthOrder[rank]]), 3)
        }
        let bl = bitLengthTree
        var w = writer
        let send: (Int, (value: Int, bits: Int)?) -> Void = { symbol, extra in
            w.write(UInt32(bl.code[symbol]), Int(bl.length[symbol]))
            if let extra { w.write(UInt32(extra.value), extra.bits) }
        }
        Self.scan(lengths: literalTree.length, maxCode: literalTree.maxCode, visit: send)
        Self.scan(lengths: distanceTree.length, maxCode: distanceTree.maxCode, visit: send)
        writer = w
    }
}
