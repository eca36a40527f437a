/// Where a seal's bytes went: the blobs version `id` refers to that no earlier version does,
/// attributed to the files and archive members that hold them (`coffer-bench seal-cost`).
///
/// A measurement aid, not a user command: it reads the versions and the index like `stats`,
/// and counts each new blob once, at the first entry (in walk order) that refers to it.
public struct SealCost: Sendable {
    /// One file, or one part of an archive (a member's data, or container bytes).
    public struct Item: Sendable {
        /// The entry's path; for an archive part `path!member` (container parts: `path!(container)`).
        public var path: [UInt8]
        /// Bytes of the file or of the part's stored content.
        public var size: UInt64
        /// Chunks the item refers to, and those of them no earlier version refers to.
        public var chunks = 0
        public var newChunks = 0
        /// Plaintext and stored (compressed, encrypted envelope) bytes of the new chunks.
        public var newPlain: UInt64 = 0
        public var newStored: UInt64 = 0
        /// Plaintext and stored sizes of the new chunks, in order.
        public var newChunkSizes: [(plain: Int, stored: Int)] = []
    }

    /// New pieces of one kind (tree or layout).
    public struct Pieces: Sendable {
        public var count = 0
        public var newCount = 0
        public var newPlain: UInt64 = 0
        public var newStored: UInt64 = 0
    }

    public var items: [Item] = []
    public var trees = Pieces()
    public var layouts = Pieces()
    /// New blobs the index does not list (a damaged vault).
    public var missing = 0
}

extension Vault {
    /// What version `id` added over versions `earlier` (see ``SealCost``).
    public func sealCost(of id: ObjectID, after earlier: [ObjectID]) throws -> SealCost {
        var old = UsedBlobs()
        for e in earlier {
            try markUsed(version: e, into: &old, missing: { _ in })
        }
        var seen = Set<ObjectID>()
        var cost = SealCost()
        func isNew(_ blob: ObjectID) -> ChunkLocation? {
            guard !old.contains(blob), seen.insert(blob).inserted else { return nil }
            guard let loc = index.location(of: blob) else {
                cost.missing += 1
                return nil
            }
            return loc
        }
        func count(_ pieces: [ObjectID], into p: inout SealCost.Pieces) {
            for piece in pieces {
                p.count += 1
                guard let loc = isNew(piece) else { continue }
                p.newCount += 1
                p.newPlain += UInt64(loc.plainLength)
                p.newStored += UInt64(loc.envelopeLength)
            }
        }
        func item(_ path: [UInt8], size: UInt64, chunks: [ObjectID]) -> SealCost.Item {
            var i = SealCost.Item(path: path, size: size)
            for c in chunks {
                i.chunks += 1
                guard let loc = isNew(c) else { continue }
                i.newChunks += 1
                i.newPlain += UInt64(loc.plainLength)
                i.newStored += UInt64(loc.envelopeLength)
                i.newChunkSizes.append((loc.plainLength, loc.envelopeLength))
            }
            return i
        }
        let v = try version(id)
        count(v.rootTree ?? [], into: &cost.trees)
        let walker = try self.walker(for: v, id: id)
        while let e = try walker.next() {
            switch e.type {
            case .file:
                cost.items.append(item(e.pathBytes, size: e.size, chunks: e.chunks))
            case .directory:
                count(e.subtree, into: &cost.trees)
            case .archive:
                count(e.layoutIDs, into: &cost.layouts)
                guard let layout = try archiveLayout(of: e) else { continue }
                var names = [Int: [UInt8]]()
                for m in layout.members {
                    if let p = m.part, names[p] == nil { names[p] = Array(m.name.utf8) }
                }
                // Inline parts cost only their bytes in the layout pieces (counted there).
                for (n, part) in layout.parts.enumerated() where part.kind != .inline {
                    let label = e.pathBytes + Array("!".utf8) + (names[n] ?? Array("(container)".utf8))
                    cost.items.append(item(label, size: part.contentSize, chunks: part.chunks))
                }
            default:
                break
            }
        }
        return cost
    }
}
