import Foundation

/// Writes an archive's layout (Docs/FORMAT.md, "Trees": `u8 format || u32le n || part* ||
/// u32le n || member*`) as it is produced, cutting it into layout pieces with the keyed chunker
/// (the vault's smallest tier) and storing each piece through the sink as soon as it is cut.
///
/// The cuts are those ``ArchiveLayout/storePieces(sink:vault:)`` makes on the whole encoding (a
/// cut depends only on the bytes since the previous cut, at most the tier's maximum): the same
/// layout gives the same pieces whichever way it was written. At most one maximum-size piece
/// and the records not yet cut are held, whatever the archive holds.
///
/// Records may be appended from one thread (the sealer's store stage) while pieces are stored
/// from another (the seal's own).
final class LayoutPieceWriter: @unchecked Sendable {
    private let sink: TreeBlobSink
    private let chunker: Chunker
    private let lock = NSLock()
    /// Encoded bytes not yet cut, from `start`.
    private var buffer: [UInt8] = []
    private var start = 0
    private(set) var ids: [ObjectID] = []
    /// Bytes written so far.
    private(set) var byteCount = 0

    init(sink: TreeBlobSink, vault: Vault) {
        self.sink = sink
        let tier = vault.config.tiers.min { $0.sizes.average < $1.sizes.average }!.sizes
        chunker = Chunker(sizes: tier, table: vault.gear)
    }

    /// Appends the layout's header: its format and how many parts follow.
    func header(format: UInt8, partCount: Int) {
        var w = ByteWriter(capacity: 5)
        w.u8(format)
        w.u32(UInt32(partCount))
        append(w.bytes)
    }

    /// Appends one part record.
    func append(_ part: ArchivePart) {
        var w = ByteWriter(capacity: 96)
        ArchiveLayout.encode(part, into: &w)
        append(w.bytes)
    }

    /// Appends the member count (after the last part).
    func memberCount(_ n: Int) {
        var w = ByteWriter(capacity: 4)
        w.u32(UInt32(n))
        append(w.bytes)
    }

    /// Appends one member record.
    func append(_ member: ArchiveMember) {
        var w = ByteWriter(capacity: 64)
        ArchiveLayout.encode(member, into: &w)
        append(w.bytes)
    }

    private func append(_ bytes: [UInt8]) {
        lock.withLock {
            buffer += bytes
            byteCount += bytes.count
        }
    }

    /// Cuts and stores every piece whose end is already known.
    func storeReady() throws {
        try store(isFinal: false)
    }

    /// Cuts and stores the rest; returns the layout's pieces, in order.
    func finish() throws -> [ObjectID] {
        try store(isFinal: true)
        return ids
    }

    private func store(isFinal: Bool) throws {
        while true {
            let piece: [UInt8]? = lock.withLock {
                let available = buffer.count - start
                guard available > 0, isFinal || available >= chunker.sizes.max else { return nil }
                let cut = buffer.withUnsafeBytes { all in
                    chunker.nextCut(in: UnsafeRawBufferPointer(rebasing: all[start...]), isFinal: isFinal)
                }
                guard let cut else { return nil }
                let p = Array(buffer[start..<start + cut])
                start += cut
                if start == buffer.count {
                    buffer.removeAll(keepingCapacity: true)
                    start = 0
                } else if start >= 1 << 20 {
                    buffer.removeFirst(start)
                    start = 0
                }
                return p
            }
            guard let piece else { return }
            ids.append(try sink.storePiece(piece, type: .layout))
        }
    }
}
