/// Finds the names of an inode after its first: the first name seen (in the walk's depth-first,
/// name-sorted order) is stored in full; each later one becomes a hardlink entry naming the
/// first's path.
///
/// Only inodes with more than one name that are not folders or symbolic links are tracked
/// (``EntryMetadata/isLinkable``), and an inode is forgotten once all its names were seen, so
/// memory is bounded by the inodes whose names are still partly to come.
public struct HardlinkTracker: Sendable {
    private struct Key: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    private struct First {
        var path: [UInt8]
        /// Names of the inode not seen yet.
        var remaining: UInt64
    }

    private var seen: [Key: First] = [:]

    public init() {}

    /// Inodes currently remembered.
    public var count: Int { seen.count }

    /// For an entry found at `path` (bytes, from the version root): the path of the first name
    /// of the same inode when this is a later name (store it as a hardlink to that path), or nil
    /// when it must be stored in full (it is the first name, or not a linkable inode).
    public mutating func firstPath(of metadata: EntryMetadata, at path: [UInt8]) -> [UInt8]? {
        guard metadata.isLinkable else { return nil }
        let key = Key(device: metadata.device, inode: metadata.inode)
        guard var first = seen[key] else {
            seen[key] = First(path: path, remaining: metadata.nlink - 1)
            return nil
        }
        first.remaining -= 1
        if first.remaining == 0 { seen[key] = nil } else { seen[key] = first }
        return first.path
    }

    /// Forgets the inode of an entry whose first name could not be stored (it became unreadable),
    /// so its next name is stored in full instead of pointing at a missing entry.
    public mutating func forget(_ metadata: EntryMetadata) {
        seen[Key(device: metadata.device, inode: metadata.inode)] = nil
    }
}
