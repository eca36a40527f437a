// OddZip.swift: zips written byte by byte, with the faults and fields other tools' test data
// hold (wrong CRC-32s, bytes after a deflate stream, Unicode path fields, cut-short comments).

import CofferExports

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
