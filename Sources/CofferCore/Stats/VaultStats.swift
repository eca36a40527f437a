import Foundation

/// What versions would restore (`stats --mode restore-size`): their files, counted per version.
public struct RestoreSize: Sendable, Equatable {
    /// Regular files and archives (a hard link's second and later names are not counted).
    public var files: UInt64 = 0
    /// The sum of their sizes (holes of sparse files included).
    public var bytes: UInt64 = 0
    public init() {}

    public static func += (a: inout RestoreSize, b: RestoreSize) {
        a.files += b.files
        a.bytes += b.bytes
    }
}

/// The unique blobs versions refer to (`stats --mode raw-data`), each counted once however many
/// entries and versions refer to it.
public struct RawData: Sendable, Equatable {
    /// Data chunks: how many, their plaintext bytes, and what they occupy in packs (compressed
    /// and encrypted envelopes).
    public var chunks: UInt64 = 0
    public var chunkPlainBytes: UInt64 = 0
    public var chunkStoredBytes: UInt64 = 0
    /// Format 2: tree pieces (folder listings) and layout pieces (archive layouts).
    public var pieces: UInt64 = 0
    public var piecePlainBytes: UInt64 = 0
    public var pieceStoredBytes: UInt64 = 0
    /// Blobs the versions refer to that the index does not list (a damaged vault; `check` says more).
    public var missing: UInt64 = 0
    public init() {}
}

/// Restore sizes of versions, with identical folders (same path and tree pieces) summed once
/// and remembered: the same listing in another version is not read again.
public final class RestoreSizeCounter {
    private struct FolderKey: Hashable {
        var path: [UInt8]
        var pieces: [ObjectID]
    }

    private var folders: [FolderKey: RestoreSize] = [:]
    private let vault: Vault

    public init(vault: Vault) { self.vault = vault }

    /// The restore size of version `id`.
    public func size(of id: ObjectID) throws -> RestoreSize {
        let walker = try vault.walker(for: id)
        var open: [(key: FolderKey, size: RestoreSize)] = []
        var total = RestoreSize()
        func add(_ s: RestoreSize) {
            total += s
            for i in open.indices { open[i].size += s }
        }
        func close(to path: [UInt8]?) {
            while let top = open.last, path == nil || !ListedEntries.isBelow(path!, top.key.path) {
                open.removeLast()
                folders[top.key] = top.size
            }
        }
        while let e = try walker.next() {
            close(to: e.pathBytes)
            switch e.type {
            case .file, .archive:
                var s = RestoreSize()
                s.files = 1
                s.bytes = e.size
                add(s)
            case .directory where !e.subtree.isEmpty:
                let key = FolderKey(path: e.pathBytes, pieces: e.subtree)
                if let known = folders[key] {
                    add(known)
                    walker.skipChildren()
                } else {
                    open.append((key, RestoreSize()))
                }
            default:
                break
            }
        }
        close(to: nil)
        return total
    }
}

extension Vault {
    /// The unique blobs versions `ids` refer to, with their sizes from the index.
    public func rawData(of ids: [ObjectID]) throws -> RawData {
        var used = UsedBlobs()
        var missing = Set<ObjectID>()
        for id in ids {
            try markUsed(version: id, into: &used, missing: { missing.insert($0.id) })
        }
        var r = RawData()
        r.missing = UInt64(missing.count)
        for c in used.chunks {
            guard let loc = index.location(of: c) else { continue }
            r.chunks += 1
            r.chunkPlainBytes += UInt64(loc.plainLength)
            r.chunkStoredBytes += UInt64(loc.envelopeLength)
        }
        for p in used.trees.union(used.layouts) {
            guard let loc = index.location(of: p) else { continue }
            r.pieces += 1
            r.piecePlainBytes += UInt64(loc.plainLength)
            r.pieceStoredBytes += UInt64(loc.envelopeLength)
        }
        return r
    }
}
