import Foundation

/// The tree piece of format 2 (blob type 3): a directory listing, or a contiguous slice of one.
///
/// ```
/// tree  = u8 tree_version(1) || u32le n || node*           n ≥ 1; nodes sorted by name bytes, unique in the directory
/// node  = u8 type || bytes name || u32le mode || u32le uid || u32le gid || bytes user || bytes group
///      || i64le mtime || u32le mtime_ns || i64le ctime || u32le ctime_ns || u64le inode || u64le device || u64le size
///      || u32le n || xattr* || type-specific
/// xattr = bytes name || bytes value
/// bytes = u32le len || raw bytes
/// file (1)      = sha256(32) || u32le n || chunk_id(32)* || u32le h || hole*     hole = u64le offset || u64le length
/// directory (2) = u32le n || tree_id(32)*
/// symlink (3)   = bytes target
/// archive (4)   = sha256(32) || u32le n || layout_id(32)*
/// fifo (5)      = (nothing)
/// char dev (6)  = u64le rdev
/// block dev (7) = u64le rdev
/// hardlink (8)  = bytes first_path
/// ```
/// Docs/FORMAT.md ("Tree pieces") gives the reader checks; ``decode(_:)`` applies every one that
/// a single piece can show (the order across a directory's pieces is checked by the walker).
enum TreeCodec {
    static let treeVersion: UInt8 = 1
    /// Bytes before the first node: tree_version and n.
    static let headerSize = 5
    /// The smallest node: a one-byte name and no type-specific bytes (a fifo).
    static let minimumNodeSize = 1 + 5 + 4 * 5 + 8 + 4 + 8 + 4 + 8 * 3 + 4
    static let maximumName = 255
    static let maximumOwnerName = 255
    static let maximumLinkTarget = 65_536
    /// Paths in a version (and a hard link's first path) are at most this long.
    static let maximumPath = 65_536
    static let maximumXattrName = 255
    static let maximumXattrValue = 65_536
    static let maximumXattrs = 1_024
    /// A piece is a blob: its plaintext is at most this long (one node may not be longer).
    static let maximumPiece = ChunkSizes.formatMaximum

    /// A name as a directory listing may hold it: non-empty, at most 255 bytes, no `/` or NUL, not `.` or `..`.
    static func isValidName(_ name: some Collection<UInt8>) -> Bool {
        guard !name.isEmpty, name.count <= maximumName else { return false }
        if name.count <= 2, name.allSatisfy({ $0 == UInt8(ascii: ".") }) { return false }
        return !name.contains(UInt8(ascii: "/")) && !name.contains(0)
    }

    /// True when name `a` sorts before `b`: bytes compared unsigned, a prefix first.
    static func precedes(_ a: [UInt8], _ b: [UInt8]) -> Bool { a.lexicographicallyPrecedes(b) }

    /// Appends the node of entry `e` under `name` (the entry's own path is not written).
    static func encodeNode(_ e: VersionEntry, name: [UInt8], into w: inout ByteWriter) {
        w.u8(e.type.rawValue)
        w.blob(name)
        w.u32(e.mode); w.u32(e.uid); w.u32(e.gid); w.blob(e.user); w.blob(e.group)
        w.i64(e.mtimeSeconds); w.u32(e.mtimeNanoseconds); w.i64(e.ctimeSeconds); w.u32(e.ctimeNanoseconds)
        w.u64(e.inode); w.u64(e.device); w.u64(e.size)
        w.u32(UInt32(e.xattrs.count))
        for x in e.xattrs { w.blob(x.name); w.blob(x.value) }
        switch e.type {
        case .file:
            w.raw(e.sha256)
            w.u32(UInt32(e.chunks.count)); e.chunks.forEach { w.id($0) }
            w.u32(UInt32(e.holes.count))
            for h in e.holes { w.u64(h.offset); w.u64(h.length) }
        case .directory:
            w.u32(UInt32(e.subtree.count)); e.subtree.forEach { w.id($0) }
        case .symlink:
            w.blob(e.linkTargetBytes)
        case .archive:
            w.raw(e.sha256)
            w.u32(UInt32(e.layoutIDs.count)); e.layoutIDs.forEach { w.id($0) }
        case .fifo:
            break
        case .charDevice, .blockDevice:
            w.u64(e.rdev)
        case .hardlink:
            w.blob(e.hardlinkTargetBytes)
        }
    }

    /// The encoded length of a node (what ``encodeNode(_:name:into:)`` appends).
    static func nodeSize(_ e: VersionEntry, name: [UInt8]) -> Int {
        var n = minimumNodeSize - 1 + name.count + e.user.count + e.group.count
        for x in e.xattrs { n += 8 + x.name.count + x.value.count }
        switch e.type {
        case .file: n += 32 + 4 + 32 * e.chunks.count + 4 + 16 * e.holes.count
        case .directory: n += 4 + 32 * e.subtree.count
        case .symlink: n += 4 + e.linkTargetBytes.count
        case .archive: n += 32 + 4 + 32 * e.layoutIDs.count
        case .fifo: break
        case .charDevice, .blockDevice: n += 8
        case .hardlink: n += 4 + e.hardlinkTargetBytes.count
        }
        return n
    }

    /// Why entry `e` cannot be written as a node (nil when it can): the limits a reader checks.
    static func refusal(_ e: VersionEntry, name: [UInt8]) -> String? {
        guard isValidName(name) else { return "its name is not a valid file name" }
        guard e.mode <= 0o7777 else { return "mode above 0o7777" }
        guard e.user.count <= maximumOwnerName, e.group.count <= maximumOwnerName else { return "owner name longer than 255 bytes" }
        guard e.xattrs.count <= maximumXattrs else { return "more than \(maximumXattrs) extended attributes" }
        for x in e.xattrs where x.name.isEmpty || x.name.count > maximumXattrName || x.name.contains(0) || x.value.count > maximumXattrValue {
            return "an extended attribute beyond the limits (name 1–255 bytes, value at most 64 KiB)"
        }
        switch e.type {
        case .symlink, .hardlink:
            let t = e.type == .symlink ? e.linkTargetBytes : e.hardlinkTargetBytes
            guard t.count <= maximumLinkTarget, !t.contains(0) else { return "link target longer than 64 KiB or holding NUL" }
        default: break
        }
        guard headerSize + nodeSize(e, name: name) <= maximumPiece else { return "its listing record would exceed 8 MiB (too many chunks or attributes)" }
        return nil
    }

    /// Encodes a whole piece from nodes already encoded back to back.
    static func piece(count: Int, nodes: [UInt8]) -> [UInt8] {
        var w = ByteWriter(capacity: headerSize + nodes.count)
        w.u8(treeVersion); w.u32(UInt32(count)); w.raw(nodes)
        return w.bytes
    }

    /// One decoded node: its name and the entry (whose `pathBytes` is the name alone).
    struct Node {
        var name: [UInt8]
        var entry: VersionEntry
    }

    /// Decodes and checks a piece.
    static func decode(_ bytes: [UInt8]) throws -> [Node] {
        var r = ByteReader(bytes)
        let v = try r.u8()
        guard v == treeVersion else { throw v > treeVersion ? FormatError.newer("tree piece", v) : FormatError("unknown tree piece version \(v)") }
        let n = try r.count(minimumElementSize: minimumNodeSize)
        guard n >= 1 else { throw FormatError("tree piece without nodes") }
        var nodes: [Node] = []
        nodes.reserveCapacity(n)
        for _ in 0..<n {
            let node = try decodeNode(&r)
            if let last = nodes.last {
                guard precedes(last.name, node.name) else {
                    throw FormatError("names out of order or repeated ('\(TerminalText.escape(bytes: node.name))' after '\(TerminalText.escape(bytes: last.name))')")
                }
            }
            nodes.append(node)
        }
        try r.expectEnd()
        return nodes
    }

    static func decodeNode(_ r: inout ByteReader) throws -> Node {
        let t = try r.u8()
        guard let type = EntryType(rawValue: t) else { throw FormatError("unknown node type \(t)") }
        let name = try r.blob(max: maximumName)
        guard isValidName(name) else { throw FormatError("invalid name '\(TerminalText.escape(bytes: name))'") }
        let mode = try r.u32()
        guard mode <= 0o7777 else { throw FormatError("mode \(String(mode, radix: 8)) above 0o7777") }
        var e = VersionEntry(type: type, pathBytes: name, mode: mode, mtimeSeconds: 0, mtimeNanoseconds: 0, size: 0)
        e.uid = try r.u32(); e.gid = try r.u32()
        e.user = try r.blob(max: maximumOwnerName); e.group = try r.blob(max: maximumOwnerName)
        e.mtimeSeconds = try r.i64(); e.mtimeNanoseconds = try r.u32()
        e.ctimeSeconds = try r.i64(); e.ctimeNanoseconds = try r.u32()
        guard e.mtimeNanoseconds < 1_000_000_000, e.ctimeNanoseconds < 1_000_000_000 else { throw FormatError("bad nanoseconds") }
        e.inode = try r.u64(); e.device = try r.u64(); e.size = try r.u64()
        let nx = try r.count(minimumElementSize: 9)
        guard nx <= maximumXattrs else { throw FormatError("\(nx) extended attributes, more than \(maximumXattrs)") }
        e.xattrs.reserveCapacity(nx)
        for _ in 0..<nx {
            let xn = try r.blob(max: maximumXattrName)
            guard !xn.isEmpty, !xn.contains(0) else { throw FormatError("invalid extended attribute name") }
            let xv = try r.blob(max: maximumXattrValue)
            if let last = e.xattrs.last, !precedes(last.name, xn) { throw FormatError("extended attributes out of order or repeated") }
            e.xattrs.append(ExtendedAttribute(name: xn, value: xv))
        }
        switch type {
        case .file:
            e.sha256 = try r.raw(32)
            let nc = try r.count(minimumElementSize: 32)
            e.chunks.reserveCapacity(nc)
            for _ in 0..<nc { e.chunks.append(try r.id()) }
            let nh = try r.count(minimumElementSize: 16)
            var end: UInt64 = 0
            var holeBytes: UInt64 = 0
            e.holes.reserveCapacity(nh)
            for _ in 0..<nh {
                let h = Hole(offset: try r.u64(), length: try r.u64())
                let (hEnd, overflow) = h.offset.addingReportingOverflow(h.length)
                guard h.length > 0, !overflow, h.offset >= end, hEnd <= e.size else { throw FormatError("holes not sorted, overlapping, empty or outside the file") }
                end = hEnd
                holeBytes += h.length
                e.holes.append(h)
            }
            let data = e.size - holeBytes
            guard data <= UInt64(nc) * UInt64(ChunkSizes.formatMaximum) else { throw FormatError("file size larger than its chunks can hold") }
            guard data >= UInt64(nc) else { throw FormatError("more chunks than bytes") }
        case .directory:
            guard e.size == 0 else { throw FormatError("folder with a size") }
            let nt = try r.count(minimumElementSize: 32)
            e.subtree.reserveCapacity(nt)
            for _ in 0..<nt { e.subtree.append(try r.id()) }
        case .symlink:
            e.linkTargetBytes = try r.blob(max: maximumLinkTarget)
            guard !e.linkTargetBytes.contains(0) else { throw FormatError("link target holds NUL") }
            guard e.size == UInt64(e.linkTargetBytes.count) else { throw FormatError("link size is not its target's length") }
        case .archive:
            e.sha256 = try r.raw(32)
            let nl = try r.count(minimumElementSize: 32)
            guard nl >= 1 else { throw FormatError("archive without layout pieces") }
            e.layoutIDs.reserveCapacity(nl)
            for _ in 0..<nl { e.layoutIDs.append(try r.id()) }
        case .fifo:
            guard e.size == 0 else { throw FormatError("fifo with a size") }
        case .charDevice, .blockDevice:
            guard e.size == 0 else { throw FormatError("device with a size") }
            e.rdev = try r.u64()
        case .hardlink:
            e.hardlinkTargetBytes = try r.blob(max: maximumPath)
            guard RelativePath(bytes: e.hardlinkTargetBytes) != nil else {
                throw FormatError("hard link to an invalid path '\(TerminalText.escape(bytes: e.hardlinkTargetBytes))'")
            }
        }
        return Node(name: name, entry: e)
    }
}
