import Foundation

/// The kind of an entry in a version.
public enum EntryType: UInt8, Sendable {
    case file = 1
    case directory = 2
    case symlink = 3
    /// A file stored part by part (a zip): see ``ArchiveLayout``.
    case archive = 4
    /// A named pipe (format 2).
    case fifo = 5
    /// A character device, with its device number in ``VersionEntry/rdev`` (format 2).
    case charDevice = 6
    /// A block device, with its device number in ``VersionEntry/rdev`` (format 2).
    case blockDevice = 7
    /// Another name of an inode listed earlier in the version (format 2): see
    /// ``VersionEntry/hardlinkTargetBytes``.
    case hardlink = 8
}

/// One extended attribute: its name and value, both raw bytes.
public struct ExtendedAttribute: Sendable, Equatable, Hashable {
    public var name: [UInt8]
    public var value: [UInt8]
    public init(name: [UInt8], value: [UInt8]) {
        self.name = name
        self.value = value
    }
}

/// A hole of a sparse file: `length` bytes of zeros at `offset` that were not read and are not stored.
public struct Hole: Sendable, Equatable, Hashable {
    public var offset: UInt64
    public var length: UInt64
    public init(offset: UInt64, length: UInt64) {
        self.offset = offset
        self.length = length
    }
}

/// One entry of a version: a file, folder, symbolic link, archive, special file or hard link.
///
/// Paths and link targets are raw bytes, as the file system gave them: ``pathBytes`` and
/// ``linkTargetBytes``. The `String` forms (``path``, ``linkTarget``) decode them leniently and
/// are for display and messages only, never for file-system calls or comparisons.
public struct VersionEntry: Sendable, Equatable {
    public var type: EntryType
    /// Relative path inside the version, `/`-separated bytes; its first component is the base
    /// name of the path given to seal (`Exports/2024/Connections.csv`).
    public var pathBytes: [UInt8]
    /// Permission bits (`st_mode & 0o7777`: setuid, setgid and sticky included).
    public var mode: UInt32
    public var mtimeSeconds: Int64
    public var mtimeNanoseconds: UInt32
    /// Content size in bytes (0 for folders; the target length for links; holes included for sparse files).
    public var size: UInt64
    /// SHA-256 of the content (files only; zeros otherwise).
    public var sha256: [UInt8]
    /// Identity used to skip unchanged files on the next seal.
    public var inode: UInt64
    public var device: UInt64
    public var ctimeSeconds: Int64
    public var ctimeNanoseconds: UInt32
    /// Chunks of the content, in order (files only; the bytes outside ``holes``).
    public var chunks: [ObjectID]
    /// Link target (symlinks only), raw bytes.
    public var linkTargetBytes: [UInt8]
    /// How an archive is stored (archives; in format 2, nil until loaded with `Vault.archiveLayout(of:)`).
    public var archive: ArchiveLayout?

    // Format 2 metadata (zero or empty in format-1 versions).
    public var uid: UInt32 = 0
    public var gid: UInt32 = 0
    /// Owner and group names on the sealing machine (empty when unknown or not recorded).
    public var user: [UInt8] = []
    public var group: [UInt8] = []
    /// Extended attributes (POSIX ACLs included), sorted by name bytes.
    public var xattrs: [ExtendedAttribute] = []
    /// Holes of a sparse file, sorted, inside `size`.
    public var holes: [Hole] = []
    /// Device number (character and block devices).
    public var rdev: UInt64 = 0
    /// For a hard link: the path of the inode's first name in the version, raw bytes.
    public var hardlinkTargetBytes: [UInt8] = []
    /// For a folder in format 2: the tree pieces of its listing, in order.
    public var subtree: [ObjectID] = []
    /// For an archive in format 2: the layout pieces whose plaintexts, concatenated, are its layout.
    public var layoutIDs: [ObjectID] = []

    public init(
        type: EntryType, pathBytes: [UInt8], mode: UInt32, mtimeSeconds: Int64, mtimeNanoseconds: UInt32, size: UInt64,
        sha256: [UInt8] = [UInt8](repeating: 0, count: 32), inode: UInt64 = 0, device: UInt64 = 0, ctimeSeconds: Int64 = 0,
        ctimeNanoseconds: UInt32 = 0, chunks: [ObjectID] = [], linkTargetBytes: [UInt8] = []
    ) {
        self.type = type
        self.pathBytes = pathBytes
        self.mode = mode
        self.mtimeSeconds = mtimeSeconds
        self.mtimeNanoseconds = mtimeNanoseconds
        self.size = size
        self.sha256 = sha256
        self.inode = inode
        self.device = device
        self.ctimeSeconds = ctimeSeconds
        self.ctimeNanoseconds = ctimeNanoseconds
        self.chunks = chunks
        self.linkTargetBytes = linkTargetBytes
        self.archive = nil
    }

    public init(
        type: EntryType, path: String, mode: UInt32, mtimeSeconds: Int64, mtimeNanoseconds: UInt32, size: UInt64,
        sha256: [UInt8] = [UInt8](repeating: 0, count: 32), inode: UInt64 = 0, device: UInt64 = 0, ctimeSeconds: Int64 = 0,
        ctimeNanoseconds: UInt32 = 0, chunks: [ObjectID] = [], linkTarget: String = ""
    ) {
        self.init(
            type: type, pathBytes: Array(path.utf8), mode: mode, mtimeSeconds: mtimeSeconds, mtimeNanoseconds: mtimeNanoseconds,
            size: size, sha256: sha256, inode: inode, device: device, ctimeSeconds: ctimeSeconds, ctimeNanoseconds: ctimeNanoseconds,
            chunks: chunks, linkTargetBytes: Array(linkTarget.utf8))
    }

    /// The path decoded as UTF-8, invalid bytes replaced: for messages and display only.
    public var path: String {
        get { String(decoding: pathBytes, as: UTF8.self) }
        set { pathBytes = Array(newValue.utf8) }
    }

    /// The path made safe to print on a terminal (invalid bytes and controls as `\xNN`).
    public var displayPath: String { TerminalText.escape(bytes: pathBytes) }

    /// The link target decoded as UTF-8, invalid bytes replaced: for messages and display only.
    public var linkTarget: String {
        get { String(decoding: linkTargetBytes, as: UTF8.self) }
        set { linkTargetBytes = Array(newValue.utf8) }
    }

    /// The path as valid UTF-8 when it is, else nil (`--json` then adds the bytes in base64).
    public var utf8Path: String? { String(validating: pathBytes, as: UTF8.self) }

    /// Every chunk this entry refers to (a file's chunks, or all of an archive's parts).
    public var storedChunks: [ObjectID] {
        switch type {
        case .file: return chunks
        case .archive: return archive?.parts.flatMap(\.chunks) ?? []
        default: return []
        }
    }

    /// The SHA-256 as lowercase hex, comparable with `sha256sum`.
    public var sha256Hex: String { Hex.encode(sha256) }
}

/// Counts recorded with a version.
public struct VersionStats: Sendable, Equatable {
    public var files: UInt64 = 0
    public var directories: UInt64 = 0
    public var symlinks: UInt64 = 0
    /// Sum of the sizes of the files.
    public var bytes: UInt64 = 0
    /// Bytes read from the input (files skipped as unchanged are not read).
    public var bytesRead: UInt64 = 0
    /// New chunks stored by this version.
    public var addedChunks: UInt64 = 0
    /// Plaintext bytes of the new chunks.
    public var addedPlainBytes: UInt64 = 0
    /// Encrypted, compressed bytes of the new chunks (what the version added to the vault).
    public var addedBytes: UInt64 = 0
    /// Files reused from the previous version without reading (size, mtime, ctime, inode unchanged).
    public var unchangedFiles: UInt64 = 0
    // Format 2 (body_version 3) only.
    /// Fifos and devices.
    public var specialFiles: UInt64 = 0
    /// Hard links (second and later names of an inode).
    public var hardlinks: UInt64 = 0
    /// Tree and layout pieces this version stored (new to the vault).
    public var addedTreePieces: UInt64 = 0
    /// Plaintext bytes of those pieces.
    public var addedTreePlainBytes: UInt64 = 0

    /// The counters in the order body_version 3 writes them (extensible: readers take the ones they know).
    var allCounters: [UInt64] {
        [files, directories, symlinks, bytes, bytesRead, addedChunks, addedPlainBytes, addedBytes, unchangedFiles,
         specialFiles, hardlinks, addedTreePieces, addedTreePlainBytes]
    }

    init(counters c: [UInt64]) {
        func at(_ i: Int) -> UInt64 { i < c.count ? c[i] : 0 }
        files = at(0); directories = at(1); symlinks = at(2); bytes = at(3); bytesRead = at(4); addedChunks = at(5)
        addedPlainBytes = at(6); addedBytes = at(7); unchangedFiles = at(8); specialFiles = at(9); hardlinks = at(10)
        addedTreePieces = at(11); addedTreePlainBytes = at(12)
    }

    public init() {}
}

/// A version manifest: one sealed state of some paths.
///
/// ```
/// body   = u8 body_version(1) || str name || i64le time_unix || u32le time_ns || str host
///       || u32le n || str* tags || u32le n || str* paths_given || u8 has_parent || [parent_id(32)]
///       || stats (9 × u64le, in the order of VersionStats) || u32le n || str* notes
///       || u32le n || entry*
/// entry  = u8 type || str path || u32le mode || i64le mtime || u32le mtime_ns || u64le size || type-specific
/// file   = sha256(32) || u64le inode || u64le device || i64le ctime || u32le ctime_ns || u32le n || chunk_id(32)*
/// dir    = (nothing)
/// link   = str target
/// archive = sha256(32) || u64le inode || u64le device || i64le ctime || u32le ctime_ns || layout   (body_version 2)
/// layout = u8 format(1 zip) || u32le n || part* || u32le n || member*
/// part   = u8 kind(1 stored, 2 transformed) || blob transform || u64le output_size || u64le content_size
///       || content_sha256(32) || u32le n || chunk_id(32)*
/// member = str name || u8 flags(bit0 folder) || u8 data(0 content, 1 encoded, 2 opaque) || blob encoding
///       || u64le size || i64le mtime || u32le part (0xFFFFFFFF: none)
/// ```
/// body_version is 1 unless an archive entry is present, then 2 (readers of format 1 that only
/// know body_version 1 report "written by a newer coffer").
/// (in the MetaObject envelope, kind 2, stored at versions/<id>; the version id is that name)
public struct Version: Sendable {
    public var name: String
    public var time: Date
    public var host: String
    public var tags: [String]
    public var paths: [String]
    public var parent: ObjectID?
    public var stats: VersionStats
    /// Things the seal could not include, one line each (for example an unreadable file).
    public var notes: [String]
    /// The entries of a format-1 version (empty in format 2, whose entries are in trees). Not
    /// public: read a version's entries with `Vault.walker(for:)`, which streams both formats
    /// (no command holds a whole listing).
    var v1Entries: [VersionEntry]
    /// Format 2: the pieces of the root listing (the base names given to seal); nil in format 1.
    public var rootTree: [ObjectID]? = nil
    /// Format 2: host, paths and notes as the body held them (raw bytes, which need not be
    /// UTF-8; the `String` fields decode them leniently, for display). Set when a body_version 3
    /// is decoded, and written back as they are; nil for a version made in memory.
    var rawText: (host: [UInt8], paths: [[UInt8]], notes: [[UInt8]])? = nil
    /// Format 2: the stats counters as the body held them (counters this build does not know
    /// included), written back as they are while ``stats`` still says the same.
    var rawCounters: [UInt64]? = nil

    func encode() -> [UInt8] {
        if let rootTree { return encodeTreeVersion(rootTree) }
        // Archives with many members make large bodies: reserved once, not grown by doubling.
        let archiveBytes = v1Entries.reduce(0) { $0 + ($1.archive?.encodedSize ?? 0) }
        var w = ByteWriter(capacity: 256 + v1Entries.count * 96 + notes.reduce(0) { $0 + 4 + $1.utf8.count } + archiveBytes)
        w.u8(v1Entries.contains { $0.type == .archive } ? 2 : 1)
        w.string(name)
        let t = time.timeIntervalSince1970
        let secs = Int64(t.rounded(.down))
        w.i64(secs)
        w.u32(UInt32(max(0, min(999_999_999, ((t - Double(secs)) * 1e9).rounded()))))
        w.string(host)
        w.u32(UInt32(tags.count)); tags.forEach { w.string($0) }
        w.u32(UInt32(paths.count)); paths.forEach { w.string($0) }
        if let parent { w.u8(1); w.id(parent) } else { w.u8(0) }
        for v in [stats.files, stats.directories, stats.symlinks, stats.bytes, stats.bytesRead, stats.addedChunks,
                  stats.addedPlainBytes, stats.addedBytes, stats.unchangedFiles] { w.u64(v) }
        w.u32(UInt32(notes.count)); notes.forEach { w.string($0) }
        w.u32(UInt32(v1Entries.count))
        for e in v1Entries {
            w.u8(e.type.rawValue); w.blob(e.pathBytes); w.u32(e.mode); w.i64(e.mtimeSeconds); w.u32(e.mtimeNanoseconds); w.u64(e.size)
            switch e.type {
            case .file:
                w.raw(e.sha256); w.u64(e.inode); w.u64(e.device); w.i64(e.ctimeSeconds); w.u32(e.ctimeNanoseconds)
                w.u32(UInt32(e.chunks.count)); e.chunks.forEach { w.id($0) }
            case .directory: break
            case .symlink: w.blob(e.linkTargetBytes)
            case .archive:
                w.raw(e.sha256); w.u64(e.inode); w.u64(e.device); w.i64(e.ctimeSeconds); w.u32(e.ctimeNanoseconds)
                e.archive!.encode(into: &w)
            case .fifo, .charDevice, .blockDevice, .hardlink:
                preconditionFailure("a format-1 version cannot hold a \(e.type) entry")
            }
        }
        return w.bytes
    }

    static func decode(_ body: [UInt8]) throws -> Version {
        var r = ByteReader(body)
        let bv = try r.u8()
        if bv == 3 { return try decodeTreeVersion(&r) }
        guard bv == 1 || bv == 2 else { throw bv > 2 ? FormatError.newer("version body", bv) : FormatError("unknown version body version") }
        let name = try r.string()
        let secs = try r.i64()
        let ns = try r.u32()
        guard ns < 1_000_000_000 else { throw FormatError("bad nanoseconds") }
        let host = try r.string()
        var tags: [String] = []
        for _ in 0..<(try r.count(minimumElementSize: 4)) { tags.append(try r.string()) }
        var paths: [String] = []
        for _ in 0..<(try r.count(minimumElementSize: 4)) { paths.append(try r.string()) }
        var parent: ObjectID?
        switch try r.u8() {
        case 0: parent = nil
        case 1: parent = try r.id()
        default: throw FormatError("bad parent flag")
        }
        var s = VersionStats()
        s.files = try r.u64(); s.directories = try r.u64(); s.symlinks = try r.u64(); s.bytes = try r.u64(); s.bytesRead = try r.u64()
        s.addedChunks = try r.u64(); s.addedPlainBytes = try r.u64(); s.addedBytes = try r.u64(); s.unchangedFiles = try r.u64()
        var notes: [String] = []
        for _ in 0..<(try r.count(minimumElementSize: 4)) { notes.append(try r.string()) }
        let n = try r.count(minimumElementSize: 30)
        var v1Entries: [VersionEntry] = []
        v1Entries.reserveCapacity(n)
        // Sizes are summed by readers (restore's progress): their total must fit in 64 bits.
        var totalSize: UInt64 = 0
        for _ in 0..<n {
            guard let type = EntryType(rawValue: try r.u8()), type.rawValue <= EntryType.archive.rawValue, type != .archive || bv >= 2 else { throw FormatError("unknown entry type") }
            var e = VersionEntry(
                type: type, path: try r.string(max: 65536), mode: try r.u32(), mtimeSeconds: try r.i64(), mtimeNanoseconds: try r.u32(),
                size: try r.u64())
            guard Version.isValidPath(e.path) else { throw FormatError("unsafe path '\(TerminalText.escape(e.path))'") }
            switch type {
            case .file:
                e.sha256 = try r.raw(32); e.inode = try r.u64(); e.device = try r.u64(); e.ctimeSeconds = try r.i64(); e.ctimeNanoseconds = try r.u32()
                let nc = try r.count(minimumElementSize: 32)
                e.chunks.reserveCapacity(nc)
                for _ in 0..<nc { e.chunks.append(try r.id()) }
                guard e.size <= UInt64(nc) * UInt64(ChunkSizes.formatMaximum) else { throw FormatError("file size larger than its chunks can hold") }
            case .directory: break
            case .symlink: e.linkTarget = try r.string(max: 65536)
            case .archive:
                e.sha256 = try r.raw(32); e.inode = try r.u64(); e.device = try r.u64(); e.ctimeSeconds = try r.i64(); e.ctimeNanoseconds = try r.u32()
                let layout = try ArchiveLayout.decode(&r, allowsInline: false)
                var sum: UInt64 = 0
                for p in layout.parts {
                    let (s, overflow) = sum.addingReportingOverflow(p.outputSize)
                    guard !overflow else { throw FormatError("archive part sizes overflow") }
                    sum = s
                }
                guard sum == e.size else { throw FormatError("archive parts do not add up to its size") }
                e.archive = layout
            case .fifo, .charDevice, .blockDevice, .hardlink:
                throw FormatError("unknown entry type")  // refused above: format 1 has none
            }
            let (t, overflow) = totalSize.addingReportingOverflow(e.size)
            guard !overflow else { throw FormatError("entry sizes add up to more than 2^64 bytes") }
            totalSize = t
            v1Entries.append(e)
        }
        try r.expectEnd()
        return Version(
            name: name, time: Date(timeIntervalSince1970: Double(secs) + Double(ns) / 1e9), host: host, tags: tags, paths: paths,
            parent: parent, stats: s, notes: notes, v1Entries: v1Entries)
    }

    /// A stored path must be relative, non-empty, without empty, `.` or `..` components or NUL,
    /// checked on its bytes (``RelativePath``), so a hostile manifest cannot make restore write
    /// outside its target folder.
    static func isValidPath(_ p: String) -> Bool { RelativePath.isValid(p) }
}
