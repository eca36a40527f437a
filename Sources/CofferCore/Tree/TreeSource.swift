import CofferCrypto
import Foundation

/// A format-2 version's entries, read tree piece by tree piece as the walk reaches them: one
/// piece per level of depth is held, never a whole listing, and a folder whose contents are
/// skipped (``skipChildren()``) is never read.
///
/// Each piece is read by id from the index (blob type 3: the AEAD binds the type, so a layout
/// piece or a data chunk given in its place does not open), checked (``TreeCodec/decode(_:)``),
/// and its first name must sort after the last name of the piece before it in the same folder.
final class TreeSource: VersionWalker.Source {
    private struct Level {
        var path: [UInt8]
        var pieces: [ObjectID]
        var nextPiece = 0
        var nodes: [TreeCodec.Node] = []
        var position = 0
        var lastName: [UInt8]?
    }

    private let vault: Vault
    private let object: String
    private let readers: PackReaders
    private var levels: [Level]
    /// The folder returned last: its listing is opened on the next call unless skipped.
    private var pendingFolder: VersionEntry?

    init(vault: Vault, root: [ObjectID], object: String) {
        self.vault = vault
        self.object = object
        self.readers = PackReaders(vault: vault)
        levels = [Level(path: [], pieces: root)]
    }

    func next() throws -> VersionEntry? {
        if let f = pendingFolder {
            pendingFolder = nil
            if !f.subtree.isEmpty { levels.append(Level(path: f.pathBytes, pieces: f.subtree)) }
        }
        while !levels.isEmpty {
            let i = levels.count - 1
            if levels[i].position < levels[i].nodes.count {
                let node = levels[i].nodes[levels[i].position]
                levels[i].position += 1
                var e = node.entry
                if !levels[i].path.isEmpty {
                    e.pathBytes = levels[i].path + [UInt8(ascii: "/")] + node.name
                    guard e.pathBytes.count <= TreeCodec.maximumPath else {
                        throw CofferError.integrity(object: object, reason: "a path longer than \(TreeCodec.maximumPath) bytes (\(TerminalText.escape(bytes: e.pathBytes.prefix(64)))...)")
                    }
                }
                if e.type == .directory { pendingFolder = e }
                return e
            }
            if levels[i].nextPiece < levels[i].pieces.count {
                let id = levels[i].pieces[levels[i].nextPiece]
                levels[i].nextPiece += 1
                let nodes: [TreeCodec.Node]
                let where_ = levels[i].path.isEmpty ? "the root listing" : "the listing of '\(TerminalText.escape(bytes: levels[i].path))'"
                do {
                    nodes = try TreeCodec.decode(try vault.readPiece(id, type: .tree, readers: readers, context: object))
                } catch let e as FormatError {
                    throw CofferError.integrity(object: object, reason: "tree piece \(id.short) of \(where_): \(e)")
                }
                if let last = levels[i].lastName, !TreeCodec.precedes(last, nodes[0].name) {
                    throw CofferError.integrity(object: object, reason: "tree piece \(id.short) of \(where_): names out of order or repeated across pieces")
                }
                levels[i].lastName = nodes[nodes.count - 1].name
                levels[i].nodes = nodes
                levels[i].position = 0
                continue
            }
            levels.removeLast()
        }
        return nil
    }

    func skipChildren() { pendingFolder = nil }
}

extension Vault {
    /// The plaintext of a tree or layout piece (at most 8 MiB), read by id and opened as `type`;
    /// its keyed id is checked again.
    func readPiece(_ id: ObjectID, type: BlobType, readers: PackReaders, context: String) throws -> [UInt8] {
        guard let loc = index.location(of: id) else {
            throw CofferError.integrity(object: context, reason: "\(type == .tree ? "tree" : "layout") piece \(id.short) is not in the index")
        }
        guard loc.plainLength <= ChunkSizes.formatMaximum, loc.envelopeLength <= Zstd.bound(ChunkSizes.formatMaximum) + AEAD.overhead else {
            throw CofferError.integrity(object: context, reason: "piece \(id.short) has an impossible length in the index")
        }
        let reader = try readers.reader(for: loc.pack)
        return try BlobScratch.with { scratch in
            let env = scratch.third(loc.envelopeLength)
            try reader.read(into: env, at: loc.offset)
            return Array(try BlobCrypto.open(
                UnsafeRawBufferPointer(env), type: type, flags: loc.flags, id: id, plainLength: loc.plainLength, keys: keys, zstd: zstd,
                object: VaultFile.pack(loc.pack).path, verifyID: true, scratch: scratch))
        }
    }

    /// The largest encoded layout read from layout pieces.
    static let maximumLayoutBytes = 256 << 20

    /// A format-2 archive's layout: its layout pieces read and decoded one after the other
    /// (``LayoutPieceReader``: the encoded layout is never held whole).
    func layoutFromPieces(of entry: VersionEntry) throws -> ArchiveLayout {
        let object = entry.displayPath
        var r = try LayoutPieceReader(vault: self, ids: entry.layoutIDs, object: object)
        do {
            let layout = try ArchiveLayout.decode(&r)
            guard r.isAtEnd else { throw FormatError("\(r.remaining) unexpected trailing bytes") }
            var sum: UInt64 = 0
            for p in layout.parts {
                let (s, overflow) = sum.addingReportingOverflow(p.outputSize)
                guard !overflow else { throw FormatError("archive part sizes overflow") }
                sum = s
            }
            guard sum == entry.size else { throw FormatError("archive parts do not add up to its size") }
            return layout
        } catch let e as FormatError {
            throw CofferError.integrity(object: object, reason: "layout: \(e)")
        }
    }
}
