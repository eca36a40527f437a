// OddZip.swift: zips written byte by byte, with the faults and fields other tools' test data
// hold (wrong CRC-32s, bytes after a deflate stream, Unicode path fields, cut-short comments).

import CofferExports
import Foundation

/// One member of an `OddZip`: every header field as it is to be written.
struct OddMember {
    var name: [UInt8]
    /// The bytes stored after the local header (compressed when `method` is 8).
    var data: [UInt8]
    var method: UInt16 = 0
    var crc32: UInt32
    var uncompressedSize: UInt64
    var flags: UInt16 = 0
    /// Host 3 (Unix), version 2.0.
    var versionMadeBy: UInt16 = 0x0314
    var externalAttributes: UInt32 = 0
    var centralExtra: [UInt8] = []
    var localExtra: [UInt8] = []
    /// 2021-03-04 05:06:08 (DOS).
    var dosTime: UInt16 = 5 << 11 | 6 << 5 | 4
    var dosDate: UInt16 = (2021 - 1980) << 9 | 3 << 5 | 4

    /// A stored member whose headers agree with its content.
    static func stored(_ name: String, _ content: [UInt8]) -> OddMember {
        OddMember(name: Array(name.utf8), data: content, crc32: Deflate.crc32(content), uncompressedSize: UInt64(content.count))
    }

    /// A deflated member (one final stored deflate block: `01 LEN NLEN bytes`, which zlib
    /// never writes for these contents at the levels tried) whose headers agree with its content.
    static func deflatedBlock(_ name: String, _ content: [UInt8]) -> OddMember {
        precondition(content.count < 0xFFFF)
        let n = UInt16(content.count)
        let block: [UInt8] = [1, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8(~n >> 8)] + content
        return OddMember(name: Array(name.utf8), data: block, method: 8, crc32: Deflate.crc32(content), uncompressedSize: UInt64(content.count))
    }

    /// A member deflated by zlib (level 6): reproduced at seal time.
    static func deflated(_ name: String, _ content: [UInt8]) throws -> OddMember {
        OddMember(
            name: Array(name.utf8), data: try Deflate.compress(content), method: 8, crc32: Deflate.crc32(content),
            uncompressedSize: UInt64(content.count))
    }
}

/// Little-endian appends.
extension Array where Element == UInt8 {
    mutating func le16(_ v: UInt16) { append(UInt8(v & 0xFF)); append(UInt8(v >> 8)) }
    mutating func le32(_ v: UInt32) { le16(UInt16(v & 0xFFFF)); le16(UInt16(v >> 16)) }
    mutating func le64(_ v: UInt64) { le32(UInt32(v & 0xFFFF_FFFF)); le32(UInt32(v >> 32)) }
}

enum OddZip {
    /// A zip of `members`: local headers and data in order, the central directory, the end
    /// record with `comment` (its length field `commentLength`, by default the comment's).
    static func build(_ members: [OddMember], comment: [UInt8] = [], commentLength: UInt16? = nil) -> [UInt8] {
        var out: [UInt8] = []
        var offsets: [UInt32] = []
        for m in members {
            offsets.append(UInt32(out.count))
            out.le32(0x0403_4B50)
            out.le16(20); out.le16(m.flags); out.le16(m.method); out.le16(m.dosTime); out.le16(m.dosDate)
            out.le32(m.crc32); out.le32(UInt32(m.data.count)); out.le32(UInt32(m.uncompressedSize))
            out.le16(UInt16(m.name.count)); out.le16(UInt16(m.localExtra.count))
            out += m.name + m.localExtra + m.data
        }
        let centralStart = out.count
        for (m, offset) in zip(members, offsets) {
            out.le32(0x0201_4B50)
            out.le16(m.versionMadeBy); out.le16(20); out.le16(m.flags); out.le16(m.method); out.le16(m.dosTime); out.le16(m.dosDate)
            out.le32(m.crc32); out.le32(UInt32(m.data.count)); out.le32(UInt32(m.uncompressedSize))
            out.le16(UInt16(m.name.count)); out.le16(UInt16(m.centralExtra.count)); out.le16(0)
            out.le16(0); out.le16(0); out.le32(m.externalAttributes); out.le32(offset)
            out += m.name + m.centralExtra
        }
        let centralSize = out.count - centralStart
        out.le32(0x0605_4B50)
        out.le16(0); out.le16(0); out.le16(UInt16(members.count)); out.le16(UInt16(members.count))
        out.le32(UInt32(centralSize)); out.le32(UInt32(centralStart)); out.le16(commentLength ?? UInt16(comment.count))
        return out + comment
    }

    /// An Info-ZIP Unicode path extra field (0x7075) giving `name` to the raw name `raw`.
    static func unicodePath(_ name: String, raw: [UInt8]) -> [UInt8] {
        var field: [UInt8] = []
        field.le16(0x7075)
        field.le16(UInt16(5 + name.utf8.count))
        field.append(1)
        field.le32(Deflate.crc32(raw))
        return field + Array(name.utf8)
    }

    /// An extended-timestamp extra field (0x5455) with a modification time.
    static func extendedTimestamp(_ seconds: Int32) -> [UInt8] {
        var field: [UInt8] = []
        field.le16(0x5455); field.le16(5); field.append(1); field.le32(UInt32(bitPattern: seconds))
        return field
    }
}

/// Zip64 archives of stored members, laid out as pieces at offsets so that a large one can be
/// written sparsely (member data of zeros left as holes).
enum Zip64Zip {
    struct Member {
        var name: String
        var size: UInt64
        /// The content; nil: `size` zero bytes.
        var content: [UInt8]?
    }

    /// CRC-32 of `count` zero bytes.
    static func zerosCRC(_ count: UInt64) -> UInt32 {
        let block = [UInt8](repeating: 0, count: 1 << 20)
        var crc: UInt32 = 0
        var left = count
        while left > 0 {
            let n = Int(min(left, UInt64(block.count)))
            crc = Deflate.crc32(block[0..<n], initial: crc)
            left -= UInt64(n)
        }
        return crc
    }

    /// The archive's non-zero pieces (offset, bytes) and its total size. Every size and offset
    /// goes through zip64 fields (the 32-bit ones are 0xFFFFFFFF), and the end records are
    /// the zip64 record, its locator and an end record of 0xFFFF / 0xFFFFFFFF values.
    static func layout(_ members: [Member]) -> (pieces: [(offset: UInt64, bytes: [UInt8])], size: UInt64) {
        var pieces: [(offset: UInt64, bytes: [UInt8])] = []
        var position: UInt64 = 0
        var central: [UInt8] = []
        for m in members {
            let crc = m.content.map { Deflate.crc32($0) } ?? zerosCRC(m.size)
            let name = Array(m.name.utf8)
            var local: [UInt8] = []
            local.le32(0x0403_4B50)
            local.le16(45); local.le16(0); local.le16(0); local.le16(0); local.le16(0x21)
            local.le32(crc); local.le32(0xFFFF_FFFF); local.le32(0xFFFF_FFFF)
            local.le16(UInt16(name.count)); local.le16(20)
            local += name
            local.le16(1); local.le16(16); local.le64(m.size); local.le64(m.size)
            pieces.append((position, local + (m.content ?? [])))
            central.le32(0x0201_4B50)
            central.le16(0x0314); central.le16(45); central.le16(0); central.le16(0); central.le16(0); central.le16(0x21)
            central.le32(crc); central.le32(0xFFFF_FFFF); central.le32(0xFFFF_FFFF)
            central.le16(UInt16(name.count)); central.le16(28); central.le16(0)
            central.le16(0); central.le16(0); central.le32(0o100644 << 16); central.le32(0xFFFF_FFFF)
            central += name
            central.le16(1); central.le16(24); central.le64(m.size); central.le64(m.size); central.le64(position)
            position += UInt64(local.count) + m.size
        }
        let centralOffset = position
        var tail = central
        let recordOffset = centralOffset + UInt64(central.count)
        tail.le32(0x0606_4B50); tail.le64(44); tail.le16(45); tail.le16(45); tail.le32(0); tail.le32(0)
        tail.le64(UInt64(members.count)); tail.le64(UInt64(members.count)); tail.le64(UInt64(central.count)); tail.le64(centralOffset)
        tail.le32(0x0706_4B50); tail.le32(0); tail.le64(recordOffset); tail.le32(1)
        tail.le32(0x0605_4B50); tail.le16(0); tail.le16(0); tail.le16(0xFFFF); tail.le16(0xFFFF)
        tail.le32(0xFFFF_FFFF); tail.le32(0xFFFF_FFFF); tail.le16(0)
        pieces.append((centralOffset, tail))
        return (pieces, centralOffset + UInt64(tail.count))
    }

    /// The archive in memory (for small members).
    static func bytes(_ members: [Member]) -> [UInt8] {
        let (pieces, size) = layout(members)
        var out = [UInt8](repeating: 0, count: Int(size))
        for p in pieces { out.replaceSubrange(Int(p.offset)..<(Int(p.offset) + p.bytes.count), with: p.bytes) }
        return out
    }

    /// Writes the archive to `path` sparsely: its pieces, and holes for the zero data.
    static func writeSparse(_ members: [Member], to path: String) throws {
        let (pieces, size) = layout(members)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        for p in pieces {
            let written = p.bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(p.offset)) }
            guard written == p.bytes.count else { throw POSIXError(.EIO) }
        }
        guard ftruncate(fd, off_t(size)) == 0 else { throw POSIXError(.EIO) }
    }
}
