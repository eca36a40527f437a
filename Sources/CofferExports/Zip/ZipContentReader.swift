import CofferCore
import CofferCrypto

/// What `ZipArchiveHandler.analyse` leaves in `ArchivePlan.context` for storing the parts:
/// where each part is in the file and how each member is kept, without the container bytes
/// (they are read from the file again, and the whole file's SHA-256 is checked at the end), so
/// a zip of many small members costs about 40 bytes per part here.
struct ZipSealContext: Sendable {
    /// One per part, in order.
    enum Piece: Sendable {
        /// Container bytes: this range of the file.
        case container(Range<Int>)
        /// Member `index`'s data.
        case member(Int)
    }

    let pieces: [Piece]
    /// How each member is kept (central-directory order).
    let members: [ZipMemberRecipe]
    /// Each member's compressed data in the file (central-directory order).
    let dataRanges: [Range<Int>]
    /// The file's SHA-256 as analysed.
    let sha256: [UInt8]

    /// The context for a verified `plan` of `layout`.
    init(plan: ZipRebuildPlan, layout: ZipLayout, sha256: [UInt8]) {
        var pieces: [Piece] = []
        pieces.reserveCapacity(plan.pieces.count)
        var position = 0
        for piece in plan.pieces {
            switch piece {
            case .bytes(let b):
                pieces.append(.container(position..<(position + b.count)))
                position += b.count
            case .member(let i):
                pieces.append(.member(i))
                position += layout.members[i].dataRange.count
            }
        }
        self.pieces = pieces
        self.members = plan.members
        self.dataRanges = layout.members.map(\.dataRange)
        self.sha256 = sha256
    }
}

/// Streams the parts of an analysed zip from its file, in order, through fixed-size buffers:
/// container bytes as they are, stored and raw members' bytes as they are, deflated members'
/// content inflated straight into the caller's buffer (size and CRC-32 checked at each member's
/// end). Every byte of the file is hashed on the way; `finish` compares the SHA-256 with the
/// analysis's, so a zip that changed since its analysis is never recorded as analysed.
final class ZipContentReader: ArchiveContentReader {
    private let source: ZipFileSource
    private let context: ZipSealContext
    private let sha = SHA256()
    private var nextPart = 0
    private var current: Current?
    /// Compressed bytes read ahead for the member being inflated.
    private let input: UnsafeMutableRawBufferPointer
    private var inputStart = 0, inputEnd = 0

    private struct Current {
        let part: Int
        var position: Int  // in the container piece's bytes, or in the file for members
        var inflater: InflateStream?
        var crc: UInt32 = 0
    }

    init(source: ZipFileSource, context: ZipSealContext) {
        self.source = source
        self.context = context
        input = .allocate(byteCount: 256 * 1024, alignment: 16)
    }

    deinit { input.deallocate() }

    func read(part: Int, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if current?.part != part {
            guard current == nil, part == nextPart, part < context.pieces.count else {
                throw ZipRebuildError.misuse("part \(part) asked for, part \(current?.part ?? nextPart) expected")
            }
            current = try start(part)
        }
        let n: Int
        switch context.pieces[part] {
        case .container(let range):
            n = min(buffer.count, range.upperBound - current!.position)
            if n > 0 {
                let view = UnsafeMutableRawBufferPointer(rebasing: buffer[..<n])
                try source.read(at: current!.position, into: view)
                sha.update(UnsafeRawBufferPointer(view))
            }
            current!.position += n
        case .member(let index):
            n = try readMember(index, into: buffer)
        }
        if n == 0 {
            current = nil
            nextPart += 1
        }
        return n
    }

    func finish() throws {
        guard current == nil, nextPart == context.pieces.count else {
            throw ZipRebuildError.misuse("the zip's parts were not all read")
        }
        guard sha.finalize() == context.sha256 else { throw ZipHandlerError.changedWhileRead }
    }

    private func start(_ part: Int) throws -> Current {
        switch context.pieces[part] {
        case .container(let range):
            return Current(part: part, position: range.lowerBound)
        case .member(let index):
            let recipe = context.members[index]
            var inflater: InflateStream?
            switch recipe.encoding {
            case .deflate, .rebuilt: inflater = try InflateStream(expectedSize: recipe.uncompressedSize)
            case .stored, .raw: break
            }
            inputStart = 0
            inputEnd = 0
            return Current(part: part, position: context.dataRanges[index].lowerBound, inflater: inflater)
        }
    }

    /// The next bytes of member `index`'s payload; 0 at its end, once checked.
    private func readMember(_ index: Int, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let recipe = context.members[index]
        let end = context.dataRanges[index].upperBound
        guard let inflater = current!.inflater else {
            // Stored and raw members: the file's bytes as they are.
            let n = min(buffer.count, end - current!.position)
            guard n > 0 else {
                if case .stored = recipe.encoding, current!.crc != recipe.crc32 { throw ZipRebuildError.crcMismatch(member: index) }
                return 0
            }
            let view = UnsafeMutableRawBufferPointer(rebasing: buffer[..<n])
            try source.read(at: current!.position, into: view)
            sha.update(UnsafeRawBufferPointer(view))
            current!.crc = Deflate.crc32(UnsafeRawBufferPointer(view), initial: current!.crc)
            current!.position += n
            return n
        }
        while true {
            if inflater.isAtEnd {
                guard inputStart == inputEnd, current!.position == end else {
                    throw DeflateError.trailingData(count: inputEnd - inputStart + end - current!.position)
                }
                try inflater.finish()
                guard current!.crc == recipe.crc32 else { throw ZipRebuildError.crcMismatch(member: index) }
                return 0
            }
            if inputStart == inputEnd && current!.position < end {
                let n = min(input.count, end - current!.position)
                let view = UnsafeMutableRawBufferPointer(rebasing: input[..<n])
                try source.read(at: current!.position, into: view)
                sha.update(UnsafeRawBufferPointer(view))
                current!.position += n
                inputStart = 0
                inputEnd = n
            }
            let (consumed, produced) = try inflater.step(
                input: UnsafeRawBufferPointer(rebasing: input[inputStart..<inputEnd]), output: buffer)
            inputStart += consumed
            if produced > 0 {
                current!.crc = Deflate.crc32(UnsafeRawBufferPointer(rebasing: buffer[..<produced]), initial: current!.crc)
                return produced
            }
            if consumed == 0 && !inflater.isAtEnd && (inputStart < inputEnd || current!.position == end) {
                throw inputStart < inputEnd ? DeflateError.corruptData(message: "no progress") : DeflateError.truncatedInput
            }
        }
    }
}
