/// Archives stored part by part.
///
/// A file recognised as an archive (a zip) is not stored as one byte stream. An
/// ``ArchiveHandler`` (CofferExports provides the zip one) splits it into *parts* that, written
/// one after the other, give back the exact file:
/// - a **stored** part is kept as it is in the archive (container bytes: headers, directories,
///   comments; or a member's compressed bytes that could not be reproduced);
/// - a **transformed** part keeps a member's *content* (its uncompressed bytes) and a small opaque
///   `transform` (for zip: the deflate parameters that recompress it byte for byte).
///
/// Member contents go through the chunker like any file, so an unchanged `Connections.csv` in next
/// month's export adds nothing, and a changed one adds only its changed chunks. The handler proves
/// at seal time that the parts rebuild the file (same SHA-256); restore checks it again.

/// How a part's stored bytes relate to the archive.
public enum ArchivePartKind: UInt8, Sendable {
    /// The stored bytes are the archive's bytes.
    case stored = 1
    /// The stored bytes are a member's content; the archive holds `handler.encode(transform, content)`.
    case transformed = 2
    /// The archive's bytes, held in the layout record itself (no chunks): small container bytes
    /// (zip headers, the central directory, the end record). Only in layout format 2
    /// (``ArchiveLayout/zipInline``); never a member's part.
    case inline = 3
}

/// One part of an archive, in archive order.
///
/// A zip with many members has about two parts per member, most of them a few hundred bytes
/// with one chunk: the digest and a single chunk are kept inline (no allocation per part), and
/// decoding shares equal transforms, so a part costs about 120 bytes in memory.
public struct ArchivePart: Sendable, Equatable {
    /// Opaque to the core (at most 4096 bytes); for zip, the deflate parameters.
    public var transform: [UInt8]
    /// Bytes this part contributes to the archive.
    public var outputSize: UInt64
    /// Bytes stored for this part (its content).
    public var contentSize: UInt64
    /// The SHA-256 when it has 32 bytes (always, but for hand-made parts in tests).
    private var digest: ObjectID
    private var otherDigest: [UInt8]?
    private var chunkList: ChunkList
    // Last, so it packs after the chunk list's tag instead of padding a word of its own.
    public var kind: ArchivePartKind

    enum ChunkList: Sendable, Equatable {
        case none
        case one(ObjectID)
        case many([ObjectID])
        /// An inline part's bytes (it has no chunks).
        case inline([UInt8])

        init(_ chunks: [ObjectID]) {
            switch chunks.count {
            case 0: self = .none
            case 1: self = .one(chunks[0])
            default: self = .many(chunks)
            }
        }
    }

    /// SHA-256 of the stored bytes.
    public var contentSHA256: [UInt8] {
        get { otherDigest ?? digest.bytes }
        set {
            if newValue.count == 32 {
                digest = ObjectID(bytes: newValue)
                otherDigest = nil
            } else {
                digest = .zero
                otherDigest = newValue
            }
        }
    }

    /// Chunks of the stored bytes, in order.
    public var chunks: [ObjectID] {
        get {
            switch chunkList {
            case .none, .inline: return []
            case .one(let id): return [id]
            case .many(let ids): return ids
            }
        }
        set {
            precondition(kind != .inline || newValue.isEmpty, "an inline part has no chunks")
            if kind != .inline { chunkList = ChunkList(newValue) }
        }
    }

    /// An inline part's bytes (the archive's bytes); nil for other kinds.
    public var inlineBytes: [UInt8]? {
        if case .inline(let bytes) = chunkList { return bytes }
        return nil
    }

    /// An inline part holding `bytes`.
    public static func inline(_ bytes: [UInt8]) -> ArchivePart {
        ArchivePart(
            kind: .inline, transform: [], outputSize: UInt64(bytes.count), contentSize: UInt64(bytes.count), digest: .zero, chunks: .inline(bytes))
    }

    /// How many chunks the part has.
    public var chunkCount: Int {
        switch chunkList {
        case .none, .inline: return 0
        case .one: return 1
        case .many(let ids): return ids.count
        }
    }

    /// Calls `body` with each chunk, in order (without building an array).
    public func forEachChunk(_ body: (ObjectID) throws -> Void) rethrows {
        switch chunkList {
        case .none, .inline: break
        case .one(let id): try body(id)
        case .many(let ids): for id in ids { try body(id) }
        }
    }

    public init(kind: ArchivePartKind, transform: [UInt8], outputSize: UInt64, contentSize: UInt64, contentSHA256: [UInt8], chunks: [ObjectID]) {
        self.kind = kind
        self.transform = transform
        self.outputSize = outputSize
        self.contentSize = contentSize
        self.digest = .zero
        self.otherDigest = nil
        self.chunkList = ChunkList(chunks)
        self.contentSHA256 = contentSHA256
    }

    init(kind: ArchivePartKind, transform: [UInt8], outputSize: UInt64, contentSize: UInt64, digest: ObjectID, chunks: ChunkList) {
        self.kind = kind
        self.transform = transform
        self.outputSize = outputSize
        self.contentSize = contentSize
        self.digest = digest
        self.otherDigest = nil
        self.chunkList = chunks
    }
}

/// How a member's content is obtained from its part.
public enum ArchiveMemberData: UInt8, Sendable {
    /// The part's stored bytes are the member's content.
    case content = 0
    /// The part's stored bytes are the member's encoded (compressed) form; the handler decodes them.
    case encoded = 1
    /// The member cannot be decoded (encrypted, or an unknown compression method).
    case opaque = 2
}

/// A member of an archive, as `ls`, `cat` and `restore --expand` see it.
public struct ArchiveMember: Sendable, Equatable {
    /// The member's name in the archive (`/`-separated).
    public var name: String
    /// Uncompressed size.
    public var size: UInt64
    /// Modification time (seconds since 1970, UTC).
    public var mtimeSeconds: Int64
    /// Opaque to the core (at most 4096 bytes); what `decode` needs (for zip: method, CRC-32).
    public var encoding: [UInt8]
    /// The part holding the member's data, or nil (folders, empty members).
    public var part: Int?
    // The one-byte fields last, packed together (56 bytes a member, besides a long name).
    public var isDirectory: Bool
    public var data: ArchiveMemberData
    /// Unix mode bits (permissions, and the file type bits when the archive records them),
    /// or 0 when the archive records none (`restore --expand` then uses 0644).
    public var mode: UInt32 = 0

    public init(
        name: String, isDirectory: Bool, size: UInt64, mtimeSeconds: Int64, part: Int?, data: ArchiveMemberData, encoding: [UInt8], mode: UInt32 = 0
    ) {
        self.mode = mode
        self.name = name
        self.isDirectory = isDirectory
        self.size = size
        self.mtimeSeconds = mtimeSeconds
        self.part = part
        self.data = data
        self.encoding = encoding
    }
}

/// The recorded layout of an archive.
public struct ArchiveLayout: Sendable, Equatable {
    /// The layout's `format` byte: 1 = zip (parts of kinds 1 and 2), 2 = zip whose parts may
    /// also be inline (kind 3; format-2 vaults only).
    public var format: UInt8
    public var parts: [ArchivePart]
    public var members: [ArchiveMember]

    public init(format: UInt8, parts: [ArchivePart], members: [ArchiveMember]) {
        self.format = format
        self.parts = parts
        self.members = members
    }

    public static let zip: UInt8 = 1
    /// A zip layout whose parts may be inline (``ArchivePartKind/inline``): what format-2 vaults'
    /// writers write. Readers before it refuse it ("unknown archive format 2").
    public static let zipInline: UInt8 = 2
    /// The largest inline part: the writer keeps container bytes up to this many inline, and a
    /// reader refuses a longer one (Docs/FORMAT.md, "Inline parts").
    public static let inlineLimit = 4096
}

/// What a handler found in an archive at seal time: its parts and members, without their bytes
/// (a handler that keeps small parts in memory may hand them over in `Part.content`).
public struct ArchivePlan: Sendable {
    public struct Part: Sendable {
        public var kind: ArchivePartKind
        public var transform: [UInt8]
        public var outputSize: UInt64
        /// Bytes to store for this part (the archive's bytes for `.stored`, the content for `.transformed`).
        public var contentSize: UInt64
        /// The bytes to store, when the handler holds them; nil: ``ArchiveHandler/openContent(of:path:)``
        /// streams them from the file.
        public var content: [UInt8]?

        /// A part whose bytes the handler holds in memory.
        public init(kind: ArchivePartKind, transform: [UInt8], outputSize: UInt64, content: [UInt8]) {
            self.kind = kind
            self.transform = transform
            self.outputSize = outputSize
            self.contentSize = UInt64(content.count)
            self.content = content
        }

        /// A part whose `contentSize` bytes the handler streams at storing time.
        public init(kind: ArchivePartKind, transform: [UInt8], outputSize: UInt64, contentSize: UInt64) {
            self.kind = kind
            self.transform = transform
            self.outputSize = outputSize
            self.contentSize = contentSize
            self.content = nil
        }
    }

    /// The parts in archive order, each made when asked for: a handler may hand them over from
    /// an array or compute each from its compact record of the analysis (nothing per part held).
    public struct Parts: RandomAccessCollection, Sendable {
        public let count: Int
        private let make: @Sendable (Int) -> Part
        /// `count` parts, part `k` made by `make(k)` each time it is asked for.
        public init(count: Int, _ make: @escaping @Sendable (Int) -> Part) {
            self.count = count
            self.make = make
        }
        public init(_ parts: [Part]) { self.init(count: parts.count) { parts[$0] } }
        public var startIndex: Int { 0 }
        public var endIndex: Int { count }
        public subscript(k: Int) -> Part {
            precondition(k >= 0 && k < count, "part \(k) of \(count)")
            return make(k)
        }
    }

    /// The members in archive order, made when asked for (like ``Parts``).
    public struct Members: RandomAccessCollection, Sendable {
        public let count: Int
        private let make: @Sendable (Int) -> ArchiveMember
        public init(count: Int, _ make: @escaping @Sendable (Int) -> ArchiveMember) {
            self.count = count
            self.make = make
        }
        public init(_ members: [ArchiveMember]) { self.init(count: members.count) { members[$0] } }
        public var startIndex: Int { 0 }
        public var endIndex: Int { count }
        public subscript(i: Int) -> ArchiveMember {
            precondition(i >= 0 && i < count, "member \(i) of \(count)")
            return make(i)
        }
    }

    public var format: UInt8
    public var parts: Parts
    /// Members, with `part` indexing `parts`.
    public var members: Members
    /// SHA-256 of the whole archive file as read.
    public var sha256: [UInt8]
    /// Size of the archive file as read.
    public var size: UInt64
    /// Remarks for the version's notes (for example members kept as compressed bytes).
    public var notes: [String]
    /// The handler's own record of the analysis, for ``ArchiveHandler/openContent(of:path:)``;
    /// opaque to the core.
    public var context: (any Sendable)?

    public init(
        format: UInt8, parts: [Part], members: [ArchiveMember], sha256: [UInt8], size: UInt64, notes: [String], context: (any Sendable)? = nil
    ) {
        self.init(format: format, parts: Parts(parts), members: Members(members), sha256: sha256, size: size, notes: notes, context: context)
    }

    /// A plan whose parts and members are made as the core asks for them, in order.
    public init(
        format: UInt8, parts: Parts, members: Members, sha256: [UInt8], size: UInt64, notes: [String], context: (any Sendable)? = nil
    ) {
        self.format = format
        self.parts = parts
        self.members = members
        self.sha256 = sha256
        self.size = size
        self.notes = notes
        self.context = context
    }
}

/// Streams the bytes to store for an archive's parts, at seal time, from the archive file.
/// The core reads the parts in order, each to its end, then calls `finish`. Used from one thread.
public protocol ArchiveContentReader: AnyObject {
    /// Reads the next bytes of part `part` into `buffer` (which is never empty) and returns how
    /// many; 0 only once the part is complete.
    func read(part: Int, into buffer: UnsafeMutableRawBufferPointer) throws -> Int

    /// Called after the last part: throws when the file did not read back as it was analysed
    /// (it changed in between), in which case nothing stored from it may be used.
    func finish() throws
}

/// A stream of bytes given chunk by chunk: calling it with a body calls the body with each
/// chunk in order (each view valid only during its call), and throws what the body or the
/// producer throws.
public typealias ArchiveByteStream = ((UnsafeRawBufferPointer) throws -> Void) throws -> Void

/// Recognises archives at seal time and rebuilds them at restore time. Implemented outside the
/// core (CofferExports' zip handler) and passed in through ``SealOptions`` and ``RestoreOptions``.
///
/// Every entry point streams: no part or member is ever held whole, so memory stays bounded
/// whatever an archive holds.
public protocol ArchiveHandler: Sendable {
    /// Analyses the file at `path`. Returns nil when it is not an archive this handler stores part
    /// by part (it is then sealed as an ordinary file). Throws when it looks like one but cannot be
    /// parsed or is over the handler's limits; the file is then sealed as an ordinary file with a
    /// note. The plan must rebuild the file exactly: the handler checks this before returning it.
    func analyse(path: String, size: UInt64) throws -> ArchivePlan?

    /// Opens the file at `path` to stream the bytes of `plan`'s parts whose `content` is nil.
    func openContent(of plan: ArchivePlan, path: String) throws -> ArchiveContentReader

    /// Emits the archive bytes of a transformed part, from its content.
    func encode(transform: [UInt8], content: ArchiveByteStream, into emit: (UnsafeRawBufferPointer) throws -> Void) throws

    /// Why `member` (an `.opaque` one) is not decoded, in words that follow "member NAME is".
    func whyOpaque(_ member: ArchiveMember) -> String

    /// Emits a member's content from its encoded bytes (for `.encoded` members), and checks it.
    /// A fault of the original archive (a wrong CRC-32, bytes after the compressed stream) is
    /// thrown as an ``ArchiveMemberFault`` after all the content that decodes was emitted.
    func decode(member: ArchiveMember, stored: ArchiveByteStream, into emit: (UnsafeRawBufferPointer) throws -> Void) throws

    /// The longest layout this handler's archives may have to be stored part by part: at most
    /// ``Vault/maximumArchiveLayoutBytes`` (the default), which the seal applies whatever a
    /// handler says.
    var maximumLayoutBytes: Int { get }
}

extension ArchiveHandler {
    public var maximumLayoutBytes: Int { Vault.maximumArchiveLayoutBytes }
}

/// How an archive member's data is kept, as `ls` shows it.
public enum ArchiveMemberStorage: String, Sendable {
    /// Its content is stored and the handler rebuilds its compressed bytes exactly (a deflated
    /// zip member whose settings were found).
    case reproduced
    /// Its compressed (or encrypted) bytes are stored as they are in the archive.
    case keptCompressed = "kept-compressed"
    /// It is not compressed in the archive: its content is stored as it is.
    case stored
}

extension ArchiveMember {
    /// Why an `.opaque` member is not decoded, when its handler does not say more.
    public static let opaqueReason = "encrypted or compressed with a method Coffer does not decode"
}

extension ArchiveHandler {
    /// Why `member` (an `.opaque` one) is not decoded, in words that follow "member NAME is":
    /// by default ``ArchiveMember/opaqueReason``.
    public func whyOpaque(_ member: ArchiveMember) -> String { ArchiveMember.opaqueReason }

    /// For handlers whose plans hold every part's bytes: there is nothing to stream.
    public func openContent(of plan: ArchivePlan, path: String) throws -> ArchiveContentReader {
        throw CofferError.invalidArgument("\(path): the archive handler gave a part without its bytes")
    }

    /// The archive bytes of a transformed part, in memory (for small parts and tests).
    public func encode(transform: [UInt8], content: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        try encode(transform: transform, content: { body in try content.withUnsafeBytes { try body($0) } }, into: { out += $0 })
        return out
    }

    /// A member's content from its encoded bytes, in memory (for small members and tests).
    public func decode(member: ArchiveMember, stored: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        try decode(member: member, stored: { body in try stored.withUnsafeBytes { try body($0) } }, into: { out += $0 })
        return out
    }
}

extension ArchiveLayout {
    /// Bytes `encode` writes.
    var encodedSize: Int {
        var n = 1 + 4 + 4
        for p in parts {
            n += p.inlineBytes.map(Self.inlinePartRecordSize) ?? Self.partRecordSize(transform: p.transform.count, chunks: p.chunkCount)
        }
        for m in members { n += Self.memberRecordSize(m) }
        return n
    }

    /// Bytes of an inline `part` record holding `bytes`.
    static func inlinePartRecordSize(_ bytes: [UInt8]) -> Int { 1 + 4 + bytes.count }

    /// Bytes of a stored or transformed `part` record.
    static func partRecordSize(transform: Int, chunks: Int) -> Int { 1 + 4 + transform + 8 + 8 + 32 + 4 + 32 * chunks }

    /// Bytes of a `member` record.
    static func memberRecordSize(_ m: ArchiveMember) -> Int {
        4 + m.name.utf8.count + 1 + 1 + 4 + m.encoding.count + 8 + 8 + 4 + (m.mode != 0 ? 4 : 0)
    }

    func encode(into w: inout ByteWriter) {
        w.u8(format)
        w.u32(UInt32(parts.count))
        for p in parts { Self.encode(p, into: &w) }
        w.u32(UInt32(members.count))
        for m in members { Self.encode(m, into: &w) }
    }

    /// One `part` record of the layout grammar.
    static func encode(_ p: ArchivePart, into w: inout ByteWriter) {
        if let b = p.inlineBytes {
            w.u8(ArchivePartKind.inline.rawValue); w.blob(b)
            return
        }
        w.u8(p.kind.rawValue); w.blob(p.transform); w.u64(p.outputSize); w.u64(p.contentSize); w.raw(p.contentSHA256)
        w.u32(UInt32(p.chunkCount)); p.forEachChunk { w.id($0) }
    }

    /// One `member` record of the layout grammar.
    static func encode(_ m: ArchiveMember, into w: inout ByteWriter) {
        w.string(m.name); w.u8((m.isDirectory ? 1 : 0) | (m.mode != 0 ? 2 : 0)); w.u8(m.data.rawValue); w.blob(m.encoding)
        w.u64(m.size); w.i64(m.mtimeSeconds); w.u32(m.part.map { UInt32($0) } ?? UInt32.max)
        if m.mode != 0 { w.u32(m.mode) }
    }

    /// Decodes a whole layout. `allowsInline`: whether layout format 2 is accepted (layout
    /// pieces of a format-2 vault); a format-1 version body holds format 1 only.
    static func decode<R: LayoutByteReading>(_ r: inout R, allowsInline: Bool = true) throws -> ArchiveLayout {
        let format = try decodeFormat(&r, allowsInline: allowsInline)
        let partCount = try r.count(minimumElementSize: partMinimumSize(format: format))
        var parts: [ArchivePart] = []
        // Counts are checked against the bytes left, which for layout pieces the index gives:
        // grow past 65,536 as records decode.
        parts.reserveCapacity(min(partCount, 1 << 16))
        var transforms = TransformCache()
        var inline = InlineParts()
        for k in 0..<partCount {
            let p = try decodePart(&r, format: format, transforms: &transforms)
            if p.kind == .inline { inline.insert(k) }
            parts.append(p)
        }
        let memberCount = try r.count(minimumElementSize: memberMinimumSize)
        var members: [ArchiveMember] = []
        members.reserveCapacity(min(memberCount, 1 << 16))
        for _ in 0..<memberCount { members.append(try decodeMember(&r, partCount: parts.count, inline: inline)) }
        return ArchiveLayout(format: format, parts: parts, members: members)
    }

    /// The `format` byte: 1, or 2 where `allowsInline`. A higher value is a newer coffer's.
    static func decodeFormat<R: LayoutByteReading>(_ r: inout R, allowsInline: Bool) throws -> UInt8 {
        let format = try r.u8()
        switch format {
        case zip: return format
        case zipInline where allowsInline: return format
        case zipInline: throw FormatError("archive layout format 2 (inline parts) in a format-1 version")
        case 3...: throw FormatError("archive layout format \(format): written by a newer coffer")
        default: throw FormatError("unknown archive format \(format)")
        }
    }

    static let partMinimumSize = 1 + 4 + 16 + 32 + 4
    /// An inline part: kind, length, at least one byte.
    static let inlinePartMinimumSize = 1 + 4 + 1
    static let memberMinimumSize = 4 + 2 + 4 + 20

    static func partMinimumSize(format: UInt8) -> Int { format == zipInline ? inlinePartMinimumSize : partMinimumSize }

    /// Which parts of a layout are inline (members may not name them).
    ///
    /// One bit a part up to the highest inline part number (16 KiB for 131,072 parts; a
    /// `Set<Int>` took 16–32 bytes a part). Part numbers are below the layout's part count.
    struct InlineParts {
        private var words: [UInt64] = []
        mutating func insert(_ k: Int) {
            precondition(k >= 0)
            let w = k >> 6
            if w >= words.count { words.append(contentsOf: repeatElement(0, count: w + 1 - words.count)) }
            words[w] |= 1 << UInt64(k & 63)
        }
        func contains(_ k: Int) -> Bool {
            let w = k >> 6
            return k >= 0 && w < words.count && words[w] & (1 << UInt64(k & 63)) != 0
        }
    }

    /// Parts share few distinct transforms (a zip's deflate settings): one copy of each.
    struct TransformCache {
        private var transforms: [[UInt8]: [UInt8]] = [:]
        mutating func shared(_ t: [UInt8]) -> [UInt8] {
            if let s = transforms[t] { return s }
            if transforms.count < 64 { transforms[t] = t }
            return t
        }
    }

    /// One `part` record.
    static func decodePart<R: LayoutByteReading>(_ r: inout R, format: UInt8, transforms: inout TransformCache) throws -> ArchivePart {
        let k = try r.u8()
        guard let kind = ArchivePartKind(rawValue: k), kind != .inline || format == zipInline else {
            throw FormatError("unknown archive part kind \(k) in layout format \(format)")
        }
        if kind == .inline {
            // The length is checked against the limit and the bytes left before anything is read.
            let bytes = try r.blob(max: inlineLimit)
            guard !bytes.isEmpty else { throw FormatError("empty inline part") }
            return .inline(bytes)
        }
        let transform = transforms.shared(try r.blob(max: 4096))
        let out = try r.u64(), content = try r.u64()
        let sha = try r.id()
        let n = try r.count(minimumElementSize: 32)
        let chunks: ArchivePart.ChunkList
        switch n {
        case 0: chunks = .none
        case 1: chunks = .one(try r.id())
        default:
            var ids: [ObjectID] = []
            ids.reserveCapacity(n)
            for _ in 0..<n { ids.append(try r.id()) }
            chunks = .many(ids)
        }
        guard kind == .transformed || out == content else { throw FormatError("stored part sizes differ") }
        // Restore reserves content_size bytes for a part: no more than its chunks can hold.
        guard content <= UInt64(n) * UInt64(ChunkSizes.formatMaximum) else { throw FormatError("part content larger than its chunks can hold") }
        return ArchivePart(kind: kind, transform: transform, outputSize: out, contentSize: content, digest: sha, chunks: chunks)
    }

    /// One `member` record of a layout with `partCount` parts.
    static func decodeMember<R: LayoutByteReading>(_ r: inout R, partCount: Int, inline: InlineParts) throws -> ArchiveMember {
        let name = try r.string(max: 65536)
        let flags = try r.u8()
        guard flags <= 3 else { throw FormatError("member \(name) has unknown flags \(flags)") }
        guard let data = ArchiveMemberData(rawValue: try r.u8()) else { throw FormatError("unknown member data kind") }
        let encoding = try r.blob(max: 4096)
        let size = try r.u64(), mtime = try r.i64()
        let p = try r.u32()
        guard p == UInt32.max || Int(p) < partCount else { throw FormatError("member \(name) refers to a missing part") }
        guard p == UInt32.max || !inline.contains(Int(p)) else { throw FormatError("member \(name) refers to an inline part") }
        let mode = flags & 2 != 0 ? try r.u32() : 0
        return ArchiveMember(
            name: name, isDirectory: flags & 1 != 0, size: size, mtimeSeconds: mtime, part: p == UInt32.max ? nil : Int(p), data: data,
            encoding: encoding, mode: mode)
    }
}
