// ZipDirectory.swift: a parsed zip kept compactly, for archives of any member count.
//
// `ZipLayout` holds every member's decoded headers and every container span's bytes: fine for
// a small zip, about 1.7 KiB a member for a Takeout part. `ZipDirectory` is what the parser
// itself produces and what the seal uses: the central directory as the raw bytes it read
// (bounded by the file), and one fixed-size `ZipMemberPlace` (16 bytes) per member. A member's
// name, times, mode and extra fields are decoded from the raw directory when asked for; its
// local extra field is read from the file again (`member(_:from:)`); container bytes are never
// held: they are the bytes between members' data, read from the file when needed.
//
// Pieces: the archive in file order is `container || data(m0) || container || data(m1) || ...
// || [container]`: before each member's data there is always at least its local header (30
// bytes or more), so piece 2k + 1 is the data of the k-th member in file order and piece 2k
// the container bytes before it; a last container piece follows unless the last member's data
// ends the file. A zip without members is one container piece.

/// Where one member is, besides what its central directory entry says (16 bytes).
struct ZipMemberPlace: Sendable {
    /// Position of the member's data in the file.
    var dataOffset: Int
    /// Position of its central directory entry in the raw directory.
    var entry: UInt32
    /// Its local header's flags.
    var localFlags: UInt16
    /// Its data descriptor: 0 none, else 1 + (signature ? 1 : 0) + (zip64 sizes ? 2 : 0).
    var descriptor: UInt8
}

/// A central directory entry, decoded (zip64 extra field applied).
struct ZipCentralEntry {
    var versionMadeBy: UInt16
    var versionNeeded: UInt16
    var flags: UInt16
    var method: UInt16
    var time: UInt16
    var date: UInt16
    var crc32: UInt32
    var compressedSize: UInt64
    var uncompressedSize: UInt64
    var localOffset: UInt64
    var internalAttributes: UInt16
    var externalAttributes: UInt32
    var nameRange: Range<Int>
    var extraRange: Range<Int>
    var commentRange: Range<Int>
    var hasZip64: Bool
    /// Bytes the entry takes in the directory.
    var length: Int

    /// Decodes the entry at `position` of `central` (the raw directory that starts at
    /// `centralStart` in the file), entry number `index`.
    ///
    /// - Throws: `ZipParseError` when the entry is cut short, lacks a zip64 value it needs, or
    ///   names another disk.
    static func decode(_ central: [UInt8], at position: Int, index: Int, centralStart: Int) throws(ZipParseError) -> ZipCentralEntry {
        guard central.count - position >= 46 else {
            throw .truncated(record: "central directory entry", offset: centralStart + position)
        }
        let fields = LittleEndianBytes(central, base: position)
        let nameLength = Int(fields.u16(28))
        let extraLength = Int(fields.u16(30))
        let commentLength = Int(fields.u16(32))
        let total = 46 + nameLength + extraLength + commentLength
        guard central.count - position >= total else {
            throw .truncated(record: "central directory entry", offset: centralStart + position)
        }
        let nameStart = position + 46
        let extraStart = nameStart + nameLength
        let commentStart = extraStart + extraLength
        var entry = ZipCentralEntry(
            versionMadeBy: fields.u16(4), versionNeeded: fields.u16(6), flags: fields.u16(8),
            method: fields.u16(10), time: fields.u16(12), date: fields.u16(14), crc32: fields.u32(16),
            compressedSize: UInt64(fields.u32(20)), uncompressedSize: UInt64(fields.u32(24)),
            localOffset: UInt64(fields.u32(42)), internalAttributes: fields.u16(36),
            externalAttributes: fields.u32(38), nameRange: nameStart..<extraStart, extraRange: extraStart..<commentStart,
            commentRange: commentStart..<(commentStart + commentLength), hasZip64: false, length: total)
        let diskStart = fields.u16(34)
        if let zip64 = ZipExtraField.find(id: 0x0001, in: central[entry.extraRange]) {
            entry.hasZip64 = true
            var cursor = 0
            func next(_ what: String) throws(ZipParseError) -> UInt64 {
                guard zip64.count - cursor >= 8 else {
                    throw .invalidZip64("central directory entry #\(index) lacks its 64-bit \(what)")
                }
                defer { cursor += 8 }
                return LittleEndianBytes(zip64).u64(cursor)
            }
            if entry.uncompressedSize == 0xFFFF_FFFF { entry.uncompressedSize = try next("uncompressed size") }
            if entry.compressedSize == 0xFFFF_FFFF { entry.compressedSize = try next("compressed size") }
            if entry.localOffset == 0xFFFF_FFFF { entry.localOffset = try next("local header offset") }
            if diskStart == 0xFFFF {
                guard zip64.count - cursor >= 4, LittleEndianBytes(zip64).u32(cursor) == 0 else { throw .multiDisk }
            }
        } else if diskStart != 0 {
            throw .multiDisk
        }
        return entry
    }
}

/// A zip accounted for byte by byte, kept compactly (see the file comment): what the seal
/// holds for a zip, whatever its member count.
public struct ZipDirectory: Sendable {
    /// The input's size in bytes.
    public let size: Int
    /// The central directory as read (entries, and a digital signature record if any).
    let central: [UInt8]
    /// Position of the central directory in the input.
    public let centralDirectoryOffset: Int
    /// Bytes added in front of the archive its offsets do not count (see `ZipLayout`).
    public let prefixShift: Int
    /// The archive comment.
    public let comment: [UInt8]
    /// Whether the archive has a zip64 end record.
    public let isZip64: Bool
    /// One per member, in central-directory order.
    let places: [ZipMemberPlace]
    /// Member indices in file order; nil when that is central-directory order.
    let fileOrder: [UInt32]?
    /// Each member's position in file order; nil when that is its index.
    let positions: [UInt32]?
    /// Modification times from local extended-timestamp fields (0x5455) of the members whose
    /// central entry has none (rare: most tools write the field in both or in neither).
    let localTimes: [UInt32: Int32]
    /// The end record, zip64 records and central directory: kind and place.
    let records: [(kind: ZipSpan.Kind, range: Range<Int>)]
    /// The end record and the archive comment, as read.
    let endRecord: [UInt8]

    /// The number of members.
    public var memberCount: Int { places.count }

    /// Central directory entry of member `index`, decoded.
    func entry(_ index: Int) -> ZipCentralEntry {
        do {
            return try ZipCentralEntry.decode(central, at: Int(places[index].entry), index: index, centralStart: centralDirectoryOffset)
        } catch {
            preconditionFailure("central directory entry #\(index) decoded at parse time no longer decodes: \(error)")
        }
    }

    /// The range of member `index`'s stored (compressed) data in the input.
    public func dataRange(_ index: Int) -> Range<Int> {
        let start = places[index].dataOffset
        return start..<(start + Int(entry(index).compressedSize))
    }

    /// The member `index` in central-directory order, fully decoded: its local extra field is
    /// read from `source` again.
    ///
    /// - Throws: `ZipParseError.io` when the source cannot be read.
    public func member<Source: ZipSource>(_ index: Int, from source: Source) throws(ZipParseError) -> ZipMember {
        let entry = entry(index)
        let place = places[index]
        let localHeaderOffset = Int(entry.localOffset) + prefixShift
        let extraStart = localHeaderOffset + 30 + entry.nameRange.count
        guard extraStart <= place.dataOffset, place.dataOffset <= source.count else { throw .io("member #\(index) lies outside the file") }
        let localExtra = extraStart < place.dataOffset ? try source.read(extraStart..<place.dataOffset) : []
        var descriptor: ZipDataDescriptor?
        if place.descriptor != 0 {
            let code = place.descriptor - 1
            descriptor = ZipDataDescriptor(
                hasSignature: code & 1 != 0, hasZip64Sizes: code & 2 != 0, offset: place.dataOffset + Int(entry.compressedSize))
        }
        let rawName = Array(central[entry.nameRange])
        let centralExtra = Array(central[entry.extraRange])
        return ZipMember(
            index: index, rawName: rawName,
            name: ZipName.decode(rawName, flags: entry.flags, versionMadeBy: entry.versionMadeBy, centralExtra: centralExtra),
            versionMadeBy: entry.versionMadeBy, versionNeeded: entry.versionNeeded, flags: entry.flags,
            localFlags: place.localFlags, method: ZipCompressionMethod(rawValue: entry.method),
            modified: ZipWriter.DOSTimestamp(date: entry.date, time: entry.time), crc32: entry.crc32,
            compressedSize: entry.compressedSize, uncompressedSize: entry.uncompressedSize,
            localHeaderOffset: localHeaderOffset, dataOffset: place.dataOffset, dataDescriptor: descriptor,
            isZip64: entry.hasZip64 || ZipExtraField.find(id: 0x0001, in: localExtra[...]) != nil,
            internalAttributes: entry.internalAttributes, externalAttributes: entry.externalAttributes,
            comment: Array(central[entry.commentRange]), centralExtra: centralExtra, localExtra: localExtra)
    }

    /// What an archive listing needs of member `index`, from the directory alone (no read):
    /// the decoded name, whether it is a folder, its sizes, CRC-32, method, encryption, time
    /// and Unix mode, as ``ZipMember`` gives them.
    func summary(_ index: Int) -> ZipMemberSummary {
        let entry = entry(index)
        let place = places[index]
        let rawName = central[entry.nameRange]
        let centralExtra = Array(central[entry.extraRange])
        let name = ZipName.decode(Array(rawName), flags: entry.flags, versionMadeBy: entry.versionMadeBy, centralExtra: centralExtra)
        let modified = ZipWriter.DOSTimestamp(date: entry.date, time: entry.time)
        let mtime: Int64
        if let t = ZipMember.extendedTime(in: centralExtra) {
            mtime = t
        } else if let t = localTimes[UInt32(index)] {
            mtime = Int64(t)
        } else {
            mtime = ZipMember.localTime(modified)
        }
        return ZipMemberSummary(
            name: name, isDirectory: rawName.last == UInt8(ascii: "/"), method: ZipCompressionMethod(rawValue: entry.method),
            isEncrypted: entry.flags & 1 != 0 || place.localFlags & 1 != 0, crc32: entry.crc32,
            compressedSize: entry.compressedSize, uncompressedSize: entry.uncompressedSize, mtime: mtime,
            unixMode: entry.versionMadeBy >> 8 == 3 ? entry.externalAttributes >> 16 : 0)
    }

    /// The member at `position` in file order.
    func memberAt(filePosition position: Int) -> Int { fileOrder.map { Int($0[position]) } ?? position }

    /// Member `index`'s position in file order.
    func filePosition(of index: Int) -> Int { positions.map { Int($0[index]) } ?? index }

    /// Whether a container piece follows the last member's data.
    var hasTrailingContainer: Bool {
        guard memberCount > 0 else { return size > 0 }
        return dataRange(memberAt(filePosition: memberCount - 1)).upperBound < size
    }

    /// The number of pieces (see the file comment).
    public var pieceCount: Int { 2 * memberCount + (hasTrailingContainer ? 1 : 0) }

    /// One piece of the archive in file order.
    enum Piece: Equatable {
        /// Container bytes: this range of the file.
        case container(Range<Int>)
        /// Member `index`'s data.
        case member(Int)
    }

    /// Piece `k` (0 ..< `pieceCount`).
    func piece(_ k: Int) -> Piece {
        if k % 2 == 1 { return .member(memberAt(filePosition: k / 2)) }
        let start = k == 0 ? 0 : dataRange(memberAt(filePosition: k / 2 - 1)).upperBound
        let end = k / 2 < memberCount ? places[memberAt(filePosition: k / 2)].dataOffset : size
        return .container(start..<end)
    }
}

/// What a listing needs of one member (see ``ZipDirectory/summary(_:)``).
struct ZipMemberSummary {
    var name: String
    var isDirectory: Bool
    var method: ZipCompressionMethod
    var isEncrypted: Bool
    var crc32: UInt32
    var compressedSize: UInt64
    var uncompressedSize: UInt64
    var mtime: Int64
    var unixMode: UInt32
}
