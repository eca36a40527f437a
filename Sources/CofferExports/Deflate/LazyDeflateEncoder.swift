// LazyDeflateEncoder.swift: a deflate encoder with the matching rules of Info-ZIP's `zip`,
// ending its blocks where it is told.
//
// Info-ZIP's deflate is the ancestor of zlib's, and for levels 4–9 it finds the same matches
// as zlib with a 15-bit hash (memLevel 8): a 32 KiB window, hash chains over 3-byte strings,
// lazy evaluation (a match is kept only if the next position has no longer one), the level's
// (good, lazy, nice, chain) limits, and a 3-byte match more than 4096 back dropped. What zlib
// cannot reproduce is where Info-ZIP ends its blocks: after 32,767 symbols (zlib's memLevel 8
// stops at 16,383), or earlier when its estimate every 4096 symbols says the block compresses
// well. So this encoder either takes the block ends as input (a block ends after the first symbol
// that reaches the next given offset in the content), or ends blocks by Info-ZIP's own rule
// (`DeflateBlockBuilder.infoZipEndsBlock`), and then needs nothing but the level. The window is filled and slid as Info-ZIP does
// (whole 64 KiB window, slide by 32 KiB), which decides when a block's bytes are still in the
// window and a stored block is possible.
//
// Levels 1–3 (`zip -1` to `-3`) use Info-ZIP's fast matching instead, as zlib's levels 1–3 do:
// no lazy evaluation (the longest match at a position is taken at once), a match's strings are
// entered in the hash only when it is no longer than the level's insert limit (4, 5, 6), and no
// 3-byte match is dropped for its distance.
//
// Written from the descriptions of zlib 1.2.13's and Info-ZIP 3.0's algorithms; no code copied.

/// Thrown when an encoder is handed something it cannot encode.
public enum LazyDeflateError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A block would hold more symbols than `LazyDeflateEncoder.maxBlockSymbols`.
    case blockTooLong(block: Int)
    /// The level is not one of Info-ZIP's deflate levels (1…9).
    case unsupportedLevel(Int)
    /// Content was given after `finish`.
    case finished
    /// A recipe keeps a block past the stream's last.
    case keptBlockMissing(block: Int)

    public var description: String {
        switch self {
        case .blockTooLong(let block): "deflate block \(block) would hold more than \(LazyDeflateEncoder.maxBlockSymbols) symbols"
        case .unsupportedLevel(let level): "deflate level \(level) is not an Info-ZIP level (1...9)"
        case .finished: "the deflate encoder was already finished"
        case .keptBlockMissing(let block): "the deflate recipe keeps block \(block), which the stream does not have"
        }
    }
}

/// Streams content in, deflate bytes out (see the file comment).
///
/// Memory is fixed: the 64 KiB window, two 32 Ki-entry hash tables, and one block's symbols
/// (at most `maxBlockSymbols`).
public final class LazyDeflateEncoder {
    /// The most symbols one block may hold (Info-ZIP: 32,767).
    public static let maxBlockSymbols = 1 << 16

    static let windowSize = 1 << 15
    static let windowMask = windowSize - 1
    static let hashBits = 15
    static let hashSize = 1 << hashBits
    static let hashMask = hashSize - 1
    static let hashShift = (hashBits + 2) / 3
    static let minMatch = 3
    static let maxMatch = 258
    static let minLookahead = maxMatch + minMatch + 1
    static let maxDistance = windowSize - minLookahead
    static let tooFar = 4096

    /// (good, lazy, nice, chain) per level 1…9; at the fast levels 1…3 `lazy` is the longest
    /// match whose strings are entered in the hash.
    static let configuration: [Int: (good: Int, lazy: Int, nice: Int, chain: Int)] = [
        1: (4, 4, 8, 4), 2: (4, 5, 16, 8), 3: (4, 6, 32, 32),
        4: (4, 4, 16, 16), 5: (8, 16, 32, 32), 6: (8, 16, 128, 128), 7: (8, 32, 128, 256), 8: (32, 128, 258, 1024), 9: (32, 258, 258, 4096),
    ]

    private let window: UnsafeMutablePointer<UInt8>
    private let head: UnsafeMutablePointer<Int32>
    private let previous: UnsafeMutablePointer<Int32>
    private let good: Int
    private let lazy: Int
    private let nice: Int
    private let chain: Int
    /// Levels 1…3: fast matching, no lazy evaluation.
    private let fast: Bool
    private let level: Int
    /// Blocks end where Info-ZIP's own rule says, not at `blockEnds`.
    private let ownRule: Bool
    /// Whether Info-ZIP's rule said to end the block after the last symbol.
    private var ruleEnds = false
    /// With given block ends: whether every one of them is where Info-ZIP's own rule ends a block,
    /// and the rule ends none elsewhere (so far).
    public private(set) var ownRuleAgrees = true

    private var strstart = 0
    private var lookahead = 0
    private var blockStart = 0
    private var matchStart = 0
    private var matchLength = 2
    private var previousLength = 2
    private var previousMatch = 0
    private var matchAvailable = false
    private var hash = 0
    private var started = false
    private var endOfFile = false
    private var finished = false

    /// Content not yet in the window.
    private var pending: [UInt8] = []
    private var pendingStart = 0

    private let builder = DeflateBlockBuilder()
    private var writer = DeflateBitWriter()
    /// Content bytes covered by the symbols so far.
    private var covered: UInt64 = 0
    /// The content offsets after which blocks end (all but the last block's), ascending.
    private let blockEnds: [UInt64]
    private var nextEnd = 0
    /// Blocks written so far.
    public private(set) var blockIndex = 0
    /// Called with each block's index and its bits before they are written out; return the
    /// bits to write instead (a block kept as is), or nil to write the encoded block.
    private let replace: ((_ block: Int, _ encoded: DeflateBitWriter, _ startBit: UInt64) throws -> (bits: [UInt8], count: Int)?)?

    /// An encoder at `level` (1…9) whose blocks end after the given content offsets.
    public convenience init(level: Int, blockEnds: [UInt64]) throws(LazyDeflateError) {
        try self.init(level: level, blockEnds: blockEnds, replace: nil)
    }

    /// An encoder at `level` (1…9) that ends its blocks where Info-ZIP does.
    public convenience init(level: Int) throws(LazyDeflateError) {
        try self.init(level: level, blockEnds: [], ownRule: true, replace: nil)
    }

    init(
        level: Int, blockEnds: [UInt64], ownRule: Bool = false,
        replace: ((_ block: Int, _ encoded: DeflateBitWriter, _ startBit: UInt64) throws -> (bits: [UInt8], count: Int)?)?
    ) throws(LazyDeflateError) {
        guard let c = Self.configuration[level] else { throw .unsupportedLevel(level) }
        (good, lazy, nice, chain) = c
        fast = level <= 3
        self.level = level
        self.ownRule = ownRule
        self.blockEnds = blockEnds
        self.replace = replace
        window = .allocate(capacity: 2 * Self.windowSize + Self.maxMatch + 8)
        window.initialize(repeating: 0, count: 2 * Self.windowSize + Self.maxMatch + 8)
        head = .allocate(capacity: Self.hashSize)
        head.initialize(repeating: 0, count: Self.hashSize)
        previous = .allocate(capacity: Self.windowSize)
        previous.initialize(repeating: 0, count: Self.windowSize)
    }

    deinit {
        window.deallocate()
        head.deallocate()
        previous.deallocate()
    }

    /// Encodes `chunk` (as far as the window allows) and returns the complete bytes ready.
    public func compress(_ chunk: UnsafeRawBufferPointer) throws -> [UInt8] {
        guard !finished else { throw LazyDeflateError.finished }
        if pendingStart > 0 && pendingStart >= pending.count / 2 {
            pending.removeFirst(pendingStart)
            pendingStart = 0
        }
        pending.append(contentsOf: chunk)
        try run(atEnd: false)
        return writer.takeBytes()
    }

    /// Encodes what is left, ends the last block and returns the remaining bytes.
    public func finish() throws -> [UInt8] {
        guard !finished else { throw LazyDeflateError.finished }
        try run(atEnd: true)
        finished = true
        if matchAvailable {
            try tallyLiteral(window[strstart - 1])
            matchAvailable = false
            // Info-ZIP ignores its rule's answer for this last literal (the last block ends below).
            ruleEnds = false
            if !ownRule { try endBlockIfDue() }
        }
        // Info-ZIP ends its data with a block that is not the last and then an empty last block
        // (fixed codes, 10 bits) when the recipe's block ends say so.
        try flushBlock(last: true)
        return writer.finish()
    }

    /// Moves pending content into the window as Info-ZIP's `fill_window` does: slides the
    /// window by 32 KiB when the position has passed 32 KiB + maxDistance, then reads as much as
    /// fits (to 64 KiB). Returns nil, changing nothing, when the content so far does not reach
    /// that far and more may come; otherwise the bytes read (0 at the end: end of file).
    private func fill(atEnd: Bool) -> Int? {
        var more = 2 * Self.windowSize - lookahead - strstart
        let slides = strstart >= Self.windowSize + Self.maxDistance
        if slides { more += Self.windowSize }
        let available = pending.count - pendingStart
        guard atEnd || available >= more else { return nil }
        if slides {
            window.update(from: window + Self.windowSize, count: Self.windowSize)
            matchStart -= Self.windowSize
            strstart -= Self.windowSize
            blockStart -= Self.windowSize
            for n in 0..<Self.hashSize {
                let m = Int(head[n])
                head[n] = m >= Self.windowSize ? Int32(m - Self.windowSize) : 0
            }
            for n in 0..<Self.windowSize {
                let m = Int(previous[n])
                previous[n] = m >= Self.windowSize ? Int32(m - Self.windowSize) : 0
            }
        }
        let n = min(more, available)
        if n > 0 {
            pending.withUnsafeBufferPointer { p in
                (window + strstart + lookahead).update(from: p.baseAddress! + pendingStart, count: n)
            }
            pendingStart += n
            lookahead += n
        }
        return n
    }

    private func run(atEnd: Bool) throws {
        while true {
            while lookahead < Self.minLookahead && !endOfFile {
                guard let n = fill(atEnd: atEnd) else { return }
                if n == 0 { endOfFile = true }
                if !started && (lookahead >= Self.minLookahead || endOfFile) {
                    started = true
                    hash = 0
                    for j in 0..<(Self.minMatch - 1) { hash = ((hash << Self.hashShift) ^ Int(window[j])) & Self.hashMask }
                }
            }
            if lookahead == 0 { return }
            if fast { try stepFast() } else { try step() }
        }
    }

    @inline(__always)
    private func insertString(_ position: Int) -> Int {
        hash = ((hash << Self.hashShift) ^ Int(window[position + Self.minMatch - 1])) & Self.hashMask
        let match = Int(head[hash])
        previous[position & Self.windowMask] = Int32(match)
        head[hash] = Int32(position)
        return match
    }

    /// One step of lazy matching at `strstart`.
    @inline(__always)
    private func step() throws {
        let hashHead = insertString(strstart)
        previousLength = matchLength
        previousMatch = matchStart
        matchLength = Self.minMatch - 1
        if hashHead != 0 && previousLength < lazy && strstart - hashHead <= Self.maxDistance {
            matchLength = longestMatch(hashHead)
            if matchLength > lookahead { matchLength = lookahead }
            if matchLength == Self.minMatch && strstart - matchStart > Self.tooFar { matchLength -= 1 }
        }
        if previousLength >= Self.minMatch && matchLength <= previousLength {
            try tallyMatch(length: previousLength, distance: strstart - 1 - previousMatch)
            lookahead -= previousLength - 1
            var left = previousLength - 2
            repeat {
                strstart += 1
                _ = insertString(strstart)
                left -= 1
            } while left != 0
            matchAvailable = false
            matchLength = Self.minMatch - 1
            strstart += 1
            try endBlockIfDue()
        } else if matchAvailable {
            try tallyLiteral(window[strstart - 1])
            try endBlockIfDue()
            strstart += 1
            lookahead -= 1
        } else {
            matchAvailable = true
            strstart += 1
            lookahead -= 1
        }
    }

    /// One step of fast matching at `strstart` (levels 1…3). `previousLength` stays at 2, so
    /// the match search keeps any match of 3 or more and never shortens its chain.
    @inline(__always)
    private func stepFast() throws {
        let hashHead = insertString(strstart)
        if hashHead != 0 && strstart - hashHead <= Self.maxDistance {
            matchLength = longestMatch(hashHead)
            if matchLength > lookahead { matchLength = lookahead }
        }
        if matchLength >= Self.minMatch {
            try tallyMatch(length: matchLength, distance: strstart - matchStart)
            lookahead -= matchLength
            if matchLength <= lazy {
                // The string at strstart is in the hash already; enter the rest of the match's.
                matchLength -= 1
                repeat {
                    strstart += 1
                    _ = insertString(strstart)
                    matchLength -= 1
                } while matchLength != 0
                strstart += 1
            } else {
                strstart += matchLength
                matchLength = 0
                hash = Int(window[strstart])
                hash = ((hash << Self.hashShift) ^ Int(window[strstart + 1])) & Self.hashMask
            }
        } else {
            try tallyLiteral(window[strstart])
            lookahead -= 1
            strstart += 1
        }
        try endBlockIfDue()
    }

    private func longestMatch(_ start: Int) -> Int {
        var chainLength = chain
        var current = start
        let scan = window + strstart
        var bestLength = previousLength
        let limit = strstart > Self.maxDistance ? strstart - Self.maxDistance : 0
        var scanEnd1 = scan[bestLength - 1]
        var scanEnd = scan[bestLength]
        if previousLength >= good { chainLength >>= 2 }
        repeat {
            let match = window + current
            if match[bestLength] == scanEnd && match[bestLength - 1] == scanEnd1 && match[0] == scan[0] && match[1] == scan[1] {
                // Bytes 2 agree whenever 0, 1 and the hash do; compare from byte 3.
                var length = 3
                while length < Self.maxMatch && scan[length] == match[length] { length += 1 }
                if length > bestLength {
                    matchStart = current
                    bestLength = length
                    if length >= nice { break }
                    scanEnd1 = scan[bestLength - 1]
                    scanEnd = scan[bestLength]
                }
            }
            current = Int(previous[current & Self.windowMask])
            chainLength -= 1
        } while current > limit && chainLength != 0
        return bestLength
    }

    @inline(__always)
    private func tallyLiteral(_ byte: UInt8) throws {
        builder.literal(byte)
        covered += 1
        if builder.symbolCount > Self.maxBlockSymbols { throw LazyDeflateError.blockTooLong(block: blockIndex) }
        ruleEnds = builder.infoZipEndsBlock(level: level, inputLength: strstart - blockStart)
    }

    @inline(__always)
    private func tallyMatch(length: Int, distance: Int) throws {
        builder.match(length: length, distance: distance)
        covered += UInt64(length)
        if builder.symbolCount > Self.maxBlockSymbols { throw LazyDeflateError.blockTooLong(block: blockIndex) }
        ruleEnds = builder.infoZipEndsBlock(level: level, inputLength: strstart - blockStart)
    }

    @inline(__always)
    private func endBlockIfDue() throws {
        let rule = ruleEnds
        ruleEnds = false
        if ownRule {
            guard rule else { return }
        } else {
            let given = nextEnd < blockEnds.count && covered >= blockEnds[nextEnd]
            if given != rule { ownRuleAgrees = false }
            guard given else { return }
            while nextEnd < blockEnds.count && blockEnds[nextEnd] <= covered { nextEnd += 1 }
        }
        try flushBlock(last: false)
        blockStart = strstart
    }

    private func flushBlock(last: Bool) throws {
        let storedLength = strstart - blockStart
        let stored: UnsafeRawBufferPointer? = blockStart >= 0 ? UnsafeRawBufferPointer(start: window + blockStart, count: storedLength) : nil
        if let replace {
            var encoded = DeflateBitWriter()
            encoded.write(0, writer.pendingBitCount)  // the same bit phase as the stream
            builder.flush(into: &encoded, stored: stored, storedLength: storedLength, last: last)
            if let kept = try replace(blockIndex, encoded, writer.bitPosition) {
                writer.append(bits: kept.bits, bitCount: kept.count)
            } else {
                let phase = writer.pendingBitCount
                var block = encoded
                let count = Int(block.bitPosition) - phase
                var bytes = block.finish()
                // Drop the phase bits: shift the block to start at bit 0.
                bytes = Self.shiftDown(bytes, by: phase)
                writer.append(bits: bytes, bitCount: count)
            }
        } else {
            builder.flush(into: &writer, stored: stored, storedLength: storedLength, last: last)
        }
        blockIndex += 1
    }

    /// `bytes` as a bit string moved down by `shift` (0…7) bits.
    static func shiftDown(_ bytes: [UInt8], by shift: Int) -> [UInt8] {
        guard shift > 0 else { return bytes }
        var out = [UInt8](repeating: 0, count: bytes.count)
        for i in 0..<bytes.count {
            let high = i + 1 < bytes.count ? UInt16(bytes[i + 1]) : 0
            out[i] = UInt8(truncatingIfNeeded: (UInt16(bytes[i]) | high << 8) >> UInt16(shift))
        }
        return out
    }
}
