import CofferCore
import CofferCrypto

/// What `ZipArchiveHandler.analyse` leaves in `ArchivePlan.context`: the analysis of the
/// compact directory, from which each part and each member record is made when asked for.
/// Container bytes are not held: they are read from the file again when stored, and the whole
/// file's SHA-256 is checked at the end.
final class ZipSealState: Sendable {
    let analysis: ZipDirectoryAnalysis
    var directory: ZipDirectory { analysis.directory }

    init(analysis: ZipDirectoryAnalysis) { self.analysis = analysis }

    /// Part `k`, as the core stores it.
    func part(_ k: Int) -> ArchivePlan.Part {
        switch directory.piece(k) {
        case .container(let range):
            return .init(kind: .stored, transform: [], outputSize: UInt64(range.count), contentSize: UInt64(range.count))
        case .member(let i):
            let entry = directory.entry(i)
            switch analysis.encoding(i) {
            case .deflate(let p):
                return .init(kind: .transformed, transform: ZipArchiveHandler.transform(p), outputSize: entry.compressedSize, contentSize: entry.uncompressedSize)
            case .rebuilt(let recipe):
                return .init(kind: .transformed, transform: recipe.bytes, outputSize: entry.compressedSize, contentSize: entry.uncompressedSize)
            case .stored, .raw:
                return .init(kind: .stored, transform: [], outputSize: entry.compressedSize, contentSize: entry.compressedSize)
            }
        }
    }

    /// Member `i`'s record (central-directory order).
    func member(_ i: Int) -> ArchiveMember {
        let m = directory.summary(i)
        var data = ArchiveMemberData.content
        var encoding: [UInt8] = []
        var size = m.uncompressedSize
        if case .raw = analysis.encoding(i) {
            if m.method == .deflated && !m.isEncrypted {
                data = .encoded
                encoding = [8] + ZipArchiveHandler.le(m.crc32)
            } else if m.method == .stored && !m.isEncrypted {
                // A stored member whose CRC-32 or sizes are wrong in the zip: its bytes are
                // its content, as unzip writes it; decode says what is wrong.
                data = .encoded
                encoding = [0] + ZipArchiveHandler.le(m.crc32) + ZipArchiveHandler.le(m.uncompressedSize)
                size = m.compressedSize
            } else {
                data = .opaque
                encoding = ZipArchiveHandler.le(m.method.rawValue) + [m.isEncrypted ? 1 : 0]
            }
        }
        return ArchiveMember(
            name: m.name, isDirectory: m.isDirectory || (m.name.hasSuffix("/") && m.uncompressedSize == 0), size: size, mtimeSeconds: m.mtime,
            part: 2 * directory.filePosition(of: i) + 1, data: data, encoding: encoding, mode: m.unixMode)
    }
}

/// Streams the parts of an analysed zip from its file, in order, through fixed-size buffers:
/// container bytes as they are, stored and raw members' bytes as they are, deflated members'
/// content inflated straight into the caller's buffer (size and CRC-32 checked at each member's
/// end). Every byte of the file is hashed on the way; `finish` compares the SHA-256 with the
/// analysis's, so a zip that changed since its analysis is never recorded as analysed.
final class ZipContentReader: ArchiveContentReader {
    private let source: ZipFileSource
    private let state: ZipSealState
    private var directory: ZipDirectory { state.analysis.directory }
    private let sha = SHA256()
    private var nextPart = 0
    private var current: Current?
    /// Compressed bytes read ahead for the member being inflated.
    private let input: UnsafeMutableRawBufferPointer
    private var inputStart = 0, inputEnd = 0

    private struct Current {
        let part: Int
        let piece: ZipDirectory.Piece
        var position: Int  // in the container piece's bytes, or in the file for members
        var inflater: InflateStream?
        /// For members: where the data ends and the CRC-32 the directory gives.
        var end = 0
        var crc32: UInt32 = 0
        var crc: UInt32 = 0
    }

    init(source: ZipFileSource, state: ZipSealState) {
        self.source = source
        self.state = state
        input = .allocate(byteCount: 256 * 1024, alignment: 16)
    }

    deinit { input.deallocate() }

    func read(part: Int, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if current?.part != part {
            guard current == nil, part == nextPart, part < directory.pieceCount else {
                throw ZipRebuildError.misuse("part \(part) asked for, part \(current?.part ?? nextPart) expected")
            }
            current = try start(part)
        }
        let n: Int
        switch current!.piece {
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
        guard current == nil, nextPart == directory.pieceCount else {
            throw ZipRebuildError.misuse("the zip's parts were not all read")
        }
        guard sha.finalize() == state.analysis.sha256 else { throw ZipHandlerError.changedWhileRead }
    }

    private func start(_ part: Int) throws -> Current {
        let piece = directory.piece(part)
        switch piece {
        case .container(let range):
            return Current(part: part, piece: piece, position: range.lowerBound)
        case .member(let index):
            var inflater: InflateStream?
            switch state.analysis.encoding(index) {
            case .deflate, .rebuilt: inflater = try InflateStream(expectedSize: directory.entry(index).uncompressedSize)
            case .stored, .raw: break
            }
            inputStart = 0
            inputEnd = 0
            return Current(part: part, piece: piece, position: directory.places[index].dataOffset, inflater: inflater, end: directory.dataRange(index).upperBound, crc32: directory.entry(index).crc32)
        }
    }

    /// The next bytes of member `index`'s payload; 0 at its end, once checked.
    private func readMember(_ index: Int, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let end = current!.end
        let stored = state.analysis.encoding(index) == .stored
        guard let inflater = current!.inflater else {
            // Stored and raw members: the file's bytes as they are.
            let n = min(buffer.count, end - current!.position)
            guard n > 0 else {
                if stored, current!.crc != current!.crc32 { throw ZipRebuildError.crcMismatch(member: index) }
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
                guard current!.crc == current!.crc32 else { throw ZipRebuildError.crcMismatch(member: index) }
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
