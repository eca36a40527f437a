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
    /// A character device node; ``VersionEntry/rdev`` says which (format 2).
    case charDevice = 6
    /// A block device node; ``VersionEntry/rdev`` says which (format 2).
    case blockDevice = 7
    /// Another name of an inode already listed under ``VersionEntry/hardlinkTargetBytes`` (format 2).
    case hardlink = 8

    /// The types a format-1 version body can hold.
    var isFormat1: Bool { rawValue <= EntryType.archive.rawValue }
}

/// One extended attribute of an entry: its full name (`user.note`, `security.selinux`,
/// `system.posix_acl_access`) and its value, both as raw bytes.
public struct ExtendedAttribute: Sendable, Hashable {
    public var name: [UInt8]
    public var value: [UInt8]

    public init(name: [UInt8], value: [UInt8]) {
        self.name = name
        self.value = value
    }
}

/// A range of a file that reads as zeros and is not stored (a hole of a sparse file).
public struct Hole: Sendable, Hashable {
    public var offset: UInt64
    public var length: UInt64

    public init(offset: UInt64, length: UInt64) {
        self.offset = offset
        self.length = length
    }
}

/// One file, folder, symbolic link or other file-system object in a version.
public struct VersionEntry: Sendable, Equatable {
    public var type: EntryType
    /// Relative path inside the version, `/`-separated; its first component is the base name of
    /// the path given to seal (`Exports/2024/Connections.csv`).
    public var path: String
    /// Permission bits (`st_mode & 0o7777`).
    public var mode: UInt32
    public var mtimeSeconds: Int64
    public var mtimeNanoseconds: UInt32
    /// Content size in bytes (0 for folders; the target length for links).
    public var size: UInt64
    /// SHA-256 of the content (files only; zeros otherwise).
    public var sha256: [UInt8]
    /// Identity used to skip unchanged files on the next seal (files only).
    public var inode: UInt64
    public var device: UInt64
    public var ctimeSeconds: Int64
    public var ctimeNanoseconds: UInt32
    /// Chunks of the content, in order (files only).
    public var chunks: [ObjectID]
    /// Link target (symlinks only).
    public var linkTarget: String
    /// How an archive is stored (archives only).
    public var archive: ArchiveLayout?
    /// Owner and group ids, and their names when known (empty otherwise); format 2.
    public var uid: UInt32 = 0
    public var gid: UInt32 = 0
    public var user: [UInt8] = []
    public var group: [UInt8] = []
    /// Extended attributes, including POSIX ACLs, sorted by name bytes; format 2.
    public var xattrs: [ExtendedAttribute] = []
    /// A file's holes, sorted, not overlapping, inside `size`: its chunks hold the other bytes, in order; format 2.
    public var holes: [Hole] = []
    /// Which device (`st_rdev`), for device nodes.
    public var rdev: UInt64 = 0
    /// For a hardlink: the path, from the version root, of the inode's first name.
    public var hardlinkTargetBytes: [UInt8] = []

    public init(
        type: EntryType, path: String, mode: UInt32, mtimeSeconds: Int64, mtimeNanoseconds: UInt32, size: UInt64,
        sha256: [UInt8] = [UInt8](repeating: 0, count: 32), inode: UInt64 = 0, device: UInt64 = 0, ctimeSeconds: Int64 = 0,
        ctimeNanoseconds: UInt32 = 0, chunks: [ObjectID] = [], linkTarget: String = ""
    ) {
        self.type = type
        self.path = path
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
        self.linkTarget = linkTarget
        self.archive = nil
    }

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
    public var entries: [VersionEntry]

    func encode() -> [UInt8] {
        // Archives with many members make large bodies: reserved once, not grown by doubling.
        let archiveBytes = entries.reduce(0) { $0 + ($1.archive?.encodedSize ?? 0) }
        var w = ByteWriter(capacity: 256 + entries.count * 96 + notes.reduce(0) { $0 + 4 + $1.utf8.count } + archiveBytes)
        w.u8(entries.contains { $0.type == .archive } ? 2 : 1)
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
        // Format 1 has no fifos, devices or hardlinks: a format-1 seal never lists them.
        let storable = entries.filter { $0.type.isFormat1 }
        w.u32(UInt32(storable.count))
        for e in storable {
            w.u8(e.type.rawValue); w.string(e.path); w.u32(e.mode); w.i64(e.mtimeSeconds); w.u32(e.mtimeNanoseconds); w.u64(e.size)
            switch e.type {
            case .file:
                w.raw(e.sha256); w.u64(e.inode); w.u64(e.device); w.i64(e.ctimeSeconds); w.u32(e.ctimeNanoseconds)
                w.u32(UInt32(e.chunks.count)); e.chunks.forEach { w.id($0) }
            case .directory: break
            case .symlink: w.string(e.linkTarget)
            case .archive:
                w.raw(e.sha256); w.u64(e.inode); w.u64(e.device); w.i64(e.ctimeSeconds); w.u32(e.ctimeNanoseconds)
                e.archive!.encode(into: &w)
            case .fifo, .charDevice, .blockDevice, .hardlink:
                preconditionFailure("filtered above")
            }
        }
        return w.bytes
    }

    static func decode(_ body: [UInt8]) throws -> Version {
        var r = ByteReader(body)
        let bv = try r.u8()
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
        var entries: [VersionEntry] = []
        entries.reserveCapacity(n)
        // Sizes are summed by readers (restore's progress): their total must fit in 64 bits.
        var totalSize: UInt64 = 0
        for _ in 0..<n {
            guard let type = EntryType(rawValue: try r.u8()), type.isFormat1, type != .archive || bv >= 2 else { throw FormatError("unknown entry type") }
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
                let layout = try ArchiveLayout.decode(&r)
                var sum: UInt64 = 0
                for p in layout.parts {
                    let (s, overflow) = sum.addingReportingOverflow(p.outputSize)
                    guard !overflow else { throw FormatError("archive part sizes overflow") }
                    sum = s
                }
                guard sum == e.size else { throw FormatError("archive parts do not add up to its size") }
                e.archive = layout
            case .fifo, .charDevice, .blockDevice, .hardlink:
                preconditionFailure("refused above")
            }
            let (t, overflow) = totalSize.addingReportingOverflow(e.size)
            guard !overflow else { throw FormatError("entry sizes add up to more than 2^64 bytes") }
            totalSize = t
            entries.append(e)
        }
        try r.expectEnd()
        return Version(
            name: name, time: Date(timeIntervalSince1970: Double(secs) + Double(ns) / 1e9), host: host, tags: tags, paths: paths,
            parent: parent, stats: s, notes: notes, entries: entries)
    }

    /// The entries with each archive's members listed right after it, as virtual files and
    /// folders (`Export.zip/Connections.csv`): what `ls` shows and `diff` compares. A member whose
    /// content is stored as such carries its SHA-256 and chunks; an encoded one carries the chunks
    /// of its encoded bytes and no SHA-256 (zeros).
    public var expandedEntries: [VersionEntry] {
        var out: [VersionEntry] = []
        out.reserveCapacity(entries.count)
        for e in entries {
            out.append(e)
            guard e.type == .archive, let layout = e.archive else { continue }
            for m in layout.members {
                var nameBytes = Array(m.name.utf8)
                while nameBytes.last == UInt8(ascii: "/") { nameBytes.removeLast() }
                guard !nameBytes.isEmpty else { continue }
                let name = String(decoding: nameBytes, as: UTF8.self)
                var v = VersionEntry(
                    type: m.isDirectory ? .directory : .file, path: e.path + "/" + name, mode: m.isDirectory ? 0o755 : 0o644,
                    mtimeSeconds: m.mtimeSeconds, mtimeNanoseconds: 0, size: m.isDirectory ? 0 : m.size)
                if let p = m.part {
                    v.chunks = layout.parts[p].chunks
                    if m.data == .content { v.sha256 = layout.parts[p].contentSHA256 }
                }
                out.append(v)
            }
        }
        return out
    }

    /// A stored path must be relative, non-empty, without empty, `.` or `..` components or NUL,
    /// checked on its bytes (``RelativePath``), so a hostile manifest cannot make restore write
    /// outside its target folder.
    static func isValidPath(_ p: String) -> Bool { RelativePath.isValid(p) }
}
