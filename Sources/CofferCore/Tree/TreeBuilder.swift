import CofferCrypto
import Foundation

/// Where tree and layout pieces go: stores a piece (once: a piece already stored costs nothing)
/// and returns its id, keyed BLAKE2b-256 under K_tree.
protocol TreeBlobSink: AnyObject {
    func storePiece(_ plaintext: [UInt8], type: BlobType) throws -> ObjectID
}

/// The rule that cuts a directory listing into tree pieces (Docs/FORMAT.md, "Splitting a listing").
///
/// Nodes are added in name order. Before a node is added, the piece is closed if it holds a node
/// and the node would take it past ``maximumSize``. After a node is added, the piece is closed if
/// it holds at least ``minimumSize`` bytes and the first four bytes of
/// `BLAKE2b-256(key: K_tree, "coffer.tree.cut" || name)`, read as u32le, have their low
/// ``maskBits`` bits zero. The last piece is closed at the end of the listing.
///
/// Cuts depend on names and on the bytes since the last cut, not on positions: inserting,
/// removing or changing one node changes the piece that holds it (and at most the next ones
/// until a cut falls where it fell before), so one change in a folder of 100,000 entries
/// rewrites one or two pieces.
struct TreeSplitter {
    static let minimumSize = 4 << 10
    static let maximumSize = 64 << 10
    static let maskBits = 5
    static let cutPrefix: [UInt8] = Array("coffer.tree.cut".utf8)

    let key: SecureBytes

    /// Whether a cut may fall after the node called `name`.
    func isCutName(_ name: [UInt8]) -> Bool {
        var h = [UInt8](repeating: 0, count: 32)
        let msg = Self.cutPrefix + name
        msg.withUnsafeBytes { m in h.withUnsafeMutableBytes { Blake2b.hash(m, key: key, into: $0) } }
        let v = UInt32(h[0]) | UInt32(h[1]) << 8 | UInt32(h[2]) << 16 | UInt32(h[3]) << 24
        return v & ((1 << Self.maskBits) - 1) == 0
    }
}

/// Builds a version's trees from entries given in walk order (``VersionWalker/precedes(_:_:)``:
/// depth-first, names sorted by bytes, a folder before its contents), as the seal walks the file
/// system or as `upgrade` reads a format-1 version.
///
/// It keeps one open listing per depth level. Each listing is cut into pieces as it grows
/// (``TreeSplitter``), each closed piece is stored through the sink at once, and when a folder
/// closes its node (with the ids of its pieces as `subtree`) goes into its parent's listing.
/// ``finish()`` closes everything and returns the root pieces.
final class TreeBuilder {
    private struct Level {
        /// The folder's path (empty for the root).
        var path: [UInt8]
        /// The folder's own entry (nil for the root).
        var entry: VersionEntry?
        /// Nodes of the open piece, encoded back to back.
        var nodes = ByteWriter(capacity: 8 << 10)
        var count = 0
        var pieces: [ObjectID] = []
        var lastName: [UInt8]?
    }

    private let sink: TreeBlobSink
    private let splitter: TreeSplitter
    private var levels: [Level] = [Level(path: [], entry: nil)]
    /// Pieces stored (for stats): count and plaintext bytes.
    private(set) var piecesWritten = 0
    private(set) var bytesWritten: UInt64 = 0

    init(sink: TreeBlobSink, keys: VaultKeys) {
        self.sink = sink
        self.splitter = TreeSplitter(key: keys.tree)
    }

    /// Adds the next entry in walk order. A folder's node is written when the folder closes.
    /// Throws when the entry is out of order, its parent was not given, or it cannot be a node.
    func add(_ e: VersionEntry) throws {
        let slash = UInt8(ascii: "/")
        let path = e.pathBytes
        let cut = path.lastIndex(of: slash)
        let parent = cut.map { Array(path[..<$0]) } ?? []
        let name = cut.map { Array(path[($0 + 1)...]) } ?? path
        while levels.count > 1 && levels[levels.count - 1].path != parent { try close() }
        guard levels[levels.count - 1].path == parent else {
            throw CofferError.integrity(object: e.displayPath, reason: "tree builder: its folder was not given before it")
        }
        if let reason = TreeCodec.refusal(e, name: name) { throw CofferError.integrity(object: e.displayPath, reason: "tree builder: \(reason)") }
        if let last = levels[levels.count - 1].lastName, !TreeCodec.precedes(last, name) {
            throw CofferError.integrity(object: e.displayPath, reason: "tree builder: entries out of order or repeated")
        }
        levels[levels.count - 1].lastName = name
        if e.type == .directory {
            var d = e
            d.subtree = []
            levels.append(Level(path: path, entry: d))
        } else {
            try append(e, name: name)
        }
    }

    /// Closes every open folder and returns the root listing's pieces.
    func finish() throws -> [ObjectID] {
        while levels.count > 1 { try close() }
        try closePiece(&levels[0])
        return levels[0].pieces
    }

    /// Closes the innermost folder: its last piece, then its node into the parent's listing.
    private func close() throws {
        var top = levels.removeLast()
        try closePiece(&top)
        var e = top.entry!
        e.subtree = top.pieces
        let name = top.path.lastIndex(of: UInt8(ascii: "/")).map { Array(top.path[($0 + 1)...]) } ?? top.path
        try append(e, name: name)
    }

    private func append(_ e: VersionEntry, name: [UInt8]) throws {
        let i = levels.count - 1
        let size = TreeCodec.nodeSize(e, name: name)
        if levels[i].count > 0 && TreeCodec.headerSize + levels[i].nodes.bytes.count + size > TreeSplitter.maximumSize {
            try closePiece(&levels[i])
        }
        TreeCodec.encodeNode(e, name: name, into: &levels[i].nodes)
        levels[i].count += 1
        if TreeCodec.headerSize + levels[i].nodes.bytes.count >= TreeSplitter.minimumSize && splitter.isCutName(name) {
            try closePiece(&levels[i])
        }
    }

    private func closePiece(_ level: inout Level) throws {
        guard level.count > 0 else { return }
        let piece = TreeCodec.piece(count: level.count, nodes: level.nodes.bytes)
        level.pieces.append(try sink.storePiece(piece, type: .tree))
        piecesWritten += 1
        bytesWritten += UInt64(piece.count)
        level.nodes = ByteWriter(capacity: 8 << 10)
        level.count = 0
    }
}

extension ArchiveLayout {
    /// The layout's encoding cut into layout pieces by the keyed chunker (the vault's smallest
    /// tier), each stored through `sink`: an identical layout costs nothing the second time.
    func storePieces(sink: TreeBlobSink, vault: Vault) throws -> [ObjectID] {
        var w = ByteWriter(capacity: encodedSize)
        encode(into: &w)
        let bytes = w.bytes
        let tier = vault.config.tiers.min { $0.sizes.average < $1.sizes.average }!.sizes
        let chunker = Chunker(sizes: tier, table: vault.gear)
        var ids: [ObjectID] = []
        var start = 0
        try bytes.withUnsafeBytes { all in
            while start < bytes.count {
                guard let c = chunker.nextCut(in: UnsafeRawBufferPointer(rebasing: all[start...]), isFinal: true) else { break }
                ids.append(try sink.storePiece(Array(bytes[start..<start + c]), type: .layout))
                start += c
            }
        }
        return ids
    }
}
