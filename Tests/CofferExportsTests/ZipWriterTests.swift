// ZipWriterTests.swift: byte layout of the writer's archives, and readers' verdicts on them.

import Foundation
import Testing

@testable import CofferExports

/// Little-endian reads over an archive.
struct ByteReader {
    let bytes: [UInt8]

    func u16(_ offset: Int) -> UInt16 { UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8 }
    func u32(_ offset: Int) -> UInt32 { UInt32(u16(offset)) | UInt32(u16(offset + 2)) << 16 }
    func u64(_ offset: Int) -> UInt64 { UInt64(u32(offset)) | UInt64(u32(offset + 4)) << 32 }
    func string(_ offset: Int, _ count: Int) -> String { String(decoding: bytes[offset..<offset + count], as: UTF8.self) }
}

/// Writes an archive to a temporary file and returns its path.
func writeTemporaryZip(_ bytes: [UInt8], label: String) throws -> (URL, URL) {
    let directory = try makeTemporaryDirectory(label)
    let url = directory.appendingPathComponent("\(label).zip")
    try Data(bytes).write(to: url)
    return (directory, url)
}

/// A Python script that opens each zip given, tests every member's CRC, and prints a JSON
/// summary list (one python3 start for many archives keeps the tests fast).
let pythonZipSummary = """
    import hashlib, json, sys, zipfile
    out = []
    for path in sys.argv[1:]:
        z = zipfile.ZipFile(path)
        out.append({
          "bad": z.testzip(),
          "comment": z.comment.decode("utf-8"),
          "members": [{"name": i.filename, "flags": i.flag_bits, "method": i.compress_type,
                       "made_by": i.create_version, "system": i.create_system, "needed": i.extract_version,
                       "size": i.file_size, "csize": i.compress_size, "extra": i.extra.hex(),
                       "date": list(i.date_time), "external": i.external_attr,
                       "sha": hashlib.sha256(z.read(i)).hexdigest()}
                      for i in z.infolist()]})
    print(json.dumps(out))
    """

struct PythonZipMember: Decodable {
    let name: String
    let flags: Int
    let method: Int
    let made_by: Int
    let system: Int
    let needed: Int
    let size: Int
    let csize: Int
    let extra: String
    let date: [Int]
    let external: Int
    let sha: String
}

struct PythonZipSummary: Decodable {
    let bad: String?
    let comment: String
    let members: [PythonZipMember]
}

/// What Python's `zipfile` sees in each archive.
func pythonSummaries(of urls: [URL]) throws -> [PythonZipSummary] {
    let result = try runPython(pythonZipSummary, urls.map(\.path))
    #expect(result.status == 0, "python3 zipfile failed: \(result.error)")
    return try JSONDecoder().decode([PythonZipSummary].self, from: Data(result.output.utf8))
}

func pythonSummary(of url: URL) throws -> PythonZipSummary {
    let summaries = try pythonSummaries(of: [url])
    return try #require(summaries.first)
}

@Suite("ZipWriter")
struct ZipWriterTests {
    static let time: ZipWriter.DOSTimestamp = {
        // 2023-07-11 08:07:10, as in the real Basic export.
        ZipWriter.DOSTimestamp(date: UInt16((2023 - 1980) << 9 | 7 << 5 | 11), time: UInt16(8 << 11 | 7 << 5 | 5))
    }()

    static let connections = Array(
        ("Notes:\n\"When exporting...\"\n\nFirst Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
            + String(repeating: "Anna,Müller,https://www.linkedin.com/in/anna-m,,Kestrel Labs,Engineer,04 Jul 2023\n", count: 300)).utf8)
    static let small = Array("Name\nSwift\n".utf8)

    /// A LinkedIn-style archive with two members, one in a subfolder.
    static func linkedInArchive() throws -> [UInt8] {
        var zip = ZipWriter()
        try zip.addFile("Connections.csv", contents: connections, modified: time)
        try zip.addFile("Jobs/Saved Jobs.csv", contents: small, modified: time)
        return try zip.finish()
    }

    @Test("DOS timestamps pack and unpack")
    func dosTimestamp() throws {
        let stamp = try ZipWriter.DOSTimestamp(year: 2023, month: 7, day: 11, hour: 8, minute: 7, second: 11)
        #expect(stamp == Self.time)
        #expect(stamp.description == "2023-07-11 08:07:10")
        #expect((stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second) == (2023, 7, 11, 8, 7, 10))
        #expect(throws: ZipError.self) { try ZipWriter.DOSTimestamp(year: 1979, month: 1, day: 1) }
        #expect(throws: ZipError.self) { try ZipWriter.DOSTimestamp(year: 2024, month: 13, day: 1) }
        #expect(throws: ZipError.self) { try ZipWriter.DOSTimestamp(year: 2024, month: 1, day: 1, hour: 24) }
    }

    @Test("LinkedIn layout, byte by byte: local header, data, signed descriptor, central directory, end record")
    func linkedInLayout() throws {
        let archive = try Self.linkedInArchive()
        let r = ByteReader(bytes: archive)
        let compressed = try Deflate.compress(Self.connections)
        let crc = Deflate.crc32(Self.connections)

        // Local header of member 1.
        #expect(r.u32(0) == 0x0403_4B50)
        #expect(r.u16(4) == 20)  // version needed 2.0
        #expect(r.u16(6) == 0x0808)  // data descriptor + UTF-8
        #expect(r.u16(8) == 8)  // deflate
        #expect(r.u16(10) == Self.time.time && r.u16(12) == Self.time.date)
        #expect(r.u32(14) == 0 && r.u32(18) == 0 && r.u32(22) == 0)  // CRC and sizes deferred
        #expect(Int(r.u16(26)) == "Connections.csv".utf8.count)
        #expect(r.u16(28) == 0)  // no extra field
        #expect(r.string(30, 15) == "Connections.csv")
        #expect(Array(archive[45..<45 + compressed.count]) == compressed)

        // Signed data descriptor: PK 07 08, CRC, compressed size, size (16 bytes).
        let descriptor = 45 + compressed.count
        #expect(r.u32(descriptor) == 0x0807_4B50)
        #expect(r.u32(descriptor + 4) == crc)
        #expect(Int(r.u32(descriptor + 8)) == compressed.count)
        #expect(Int(r.u32(descriptor + 12)) == Self.connections.count)

        // Member 2 follows directly; its path keeps the folder prefix and no folder entry exists.
        let second = descriptor + 16
        #expect(r.u32(second) == 0x0403_4B50)
        #expect(r.string(second + 30, Int(r.u16(second + 26))) == "Jobs/Saved Jobs.csv")

        // End record at the very end (no comment), pointing at the central directory.
        let eocd = archive.count - 22
        #expect(r.u32(eocd) == 0x0605_4B50)
        #expect(r.u16(eocd + 8) == 2 && r.u16(eocd + 10) == 2)
        let cdSize = Int(r.u32(eocd + 12))
        let cdOffset = Int(r.u32(eocd + 16))
        #expect(cdOffset + cdSize == eocd)
        #expect(r.u16(eocd + 20) == 0)

        // Central header of member 1: made-by 2.0 on MS-DOS, no extra, attributes 0.
        #expect(r.u32(cdOffset) == 0x0201_4B50)
        #expect(r.u16(cdOffset + 4) == 0x0014)
        #expect(r.u16(cdOffset + 6) == 20)
        #expect(r.u16(cdOffset + 8) == 0x0808)
        #expect(r.u16(cdOffset + 10) == 8)
        #expect(r.u32(cdOffset + 16) == crc)
        #expect(Int(r.u32(cdOffset + 20)) == compressed.count)
        #expect(Int(r.u32(cdOffset + 24)) == Self.connections.count)
        #expect(r.u16(cdOffset + 30) == 0 && r.u16(cdOffset + 32) == 0)  // extra, comment
        #expect(r.u32(cdOffset + 38) == 0)  // external attributes
        #expect(r.u32(cdOffset + 42) == 0)  // local header offset

        // The recorded entries agree.
        var zip = ZipWriter()
        try zip.addFile("Connections.csv", contents: Self.connections, modified: Self.time)
        let entry = try #require(zip.entries.first)
        #expect(entry.dataOffset == 45 && entry.compressedSize == UInt64(compressed.count) && !entry.isZip64)
    }

    @Test("Python's zipfile reads the LinkedIn layout and sees what was written")
    func pythonReadsLinkedInLayout() throws {
        let (directory, url) = try writeTemporaryZip(try Self.linkedInArchive(), label: "linkedin")
        defer { removeTemporaryDirectory(directory) }
        let summary = try pythonSummary(of: url)
        #expect(summary.bad == nil)
        #expect(summary.members.map(\.name) == ["Connections.csv", "Jobs/Saved Jobs.csv"])
        for member in summary.members {
            #expect(member.flags == 0x0808 && member.method == 8 && member.made_by == 20 && member.system == 0)
            #expect(member.needed == 20 && member.extra.isEmpty && member.external == 0)
            #expect(member.date == [2023, 7, 11, 8, 7, 10])
        }
        #expect(summary.members[0].sha == TestSHA256.hex(Self.connections))
        #expect(summary.members[1].sha == TestSHA256.hex(Self.small))
    }

    @Test("unzip -t accepts every layout", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/unzip")))
    func unzipAcceptsLayouts() throws {
        for (label, options) in Self.layouts() {
            var zip = ZipWriter(options: options)
            try zip.addFile("Connections.csv", contents: Self.connections, modified: Self.time)
            try zip.addFile("Rich Media.csv", contents: Self.small, modified: Self.time, method: .stored)
            try zip.addDirectory("Articles", modified: Self.time)
            try zip.addFile("Articles/2017-12-09 04:54:08.html", contents: Array("<html></html>".utf8), modified: Self.time)
            let (directory, url) = try writeTemporaryZip(try zip.finish(), label: "unzip-\(label)")
            defer { removeTemporaryDirectory(directory) }
            let result = try runProgram("unzip", ["-t", url.path])
            #expect(result.status == 0, "\(label): \(result.output) \(result.error)")
            #expect(result.output.contains("No errors detected"), "\(label)")
        }
    }

    static func layouts() -> [(String, ZipWriter.Options)] {
        var noSignature = ZipWriter.Options()
        noSignature.dataDescriptorSignature = false
        var zip64 = ZipWriter.Options()
        zip64.forceZip64 = true
        zip64.comment = Array("forced zip64".utf8)
        var plainZip64 = ZipWriter.Options.plain
        plainZip64.forceZip64 = true
        var level9 = ZipWriter.Options()
        level9.compressionLevel = 9
        level9.strategy = .filtered
        return [
            ("linkedin", .linkedIn), ("plain", .plain), ("unsigned-descriptor", noSignature), ("zip64", zip64),
            ("plain-zip64", plainZip64), ("level9", level9),
        ]
    }

    @Test("Python's zipfile reads every layout")
    func pythonReadsLayouts() throws {
        let directory = try makeTemporaryDirectory("py-layouts")
        defer { removeTemporaryDirectory(directory) }
        var urls: [URL] = []
        for (label, options) in Self.layouts() {
            var zip = ZipWriter(options: options)
            try zip.addFile("Connections.csv", contents: Self.connections, modified: Self.time)
            try zip.addFile("Rich Media.csv", contents: Self.small, modified: Self.time, method: .stored)
            try zip.addFile("empty.csv", contents: [UInt8](), modified: Self.time)
            try zip.addDirectory("Articles/", modified: Self.time)
            let url = directory.appendingPathComponent("\(label).zip")
            try Data(try zip.finish()).write(to: url)
            urls.append(url)
        }
        let summaries = try pythonSummaries(of: urls)
        #expect(summaries.count == Self.layouts().count)
        for ((label, options), summary) in zip(Self.layouts(), summaries) {
            #expect(summary.bad == nil, "\(label)")
            #expect(summary.comment == String(decoding: options.comment, as: UTF8.self))
            #expect(summary.members.map(\.name) == ["Connections.csv", "Rich Media.csv", "empty.csv", "Articles/"])
            #expect(summary.members.map(\.sha) == [Self.connections, Self.small, [], []].map(TestSHA256.hex), "\(label)")
            #expect(summary.members.map(\.method) == [8, 0, 8, 0])
            let expectedFlags = (options.useDataDescriptor ? 0x08 : 0) | (options.utf8Flag ? 0x800 : 0)
            #expect(summary.members.allSatisfy { $0.flags == expectedFlags }, "\(label)")
            if options.forceZip64 {
                #expect(summary.members.allSatisfy { $0.needed == 45 }, "\(label)")
            }
            #expect(summary.members[3].external == 0x10)
        }
    }

    @Test("forced zip64: extra fields, 64-bit descriptors, zip64 end record and locator")
    func forcedZip64Layout() throws {
        var options = ZipWriter.Options()
        options.forceZip64 = true
        var zip = ZipWriter(options: options)
        try zip.addFile("a.csv", contents: Self.small, modified: Self.time)
        let archive = try zip.finish()
        let r = ByteReader(bytes: archive)
        #expect(r.u16(4) == 45)
        #expect(r.u32(18) == 0xFFFF_FFFF && r.u32(22) == 0xFFFF_FFFF)
        #expect(r.u16(28) == 20)  // zip64 extra: id, size, two 8-byte sizes
        #expect(r.u16(35) == 0x0001 && r.u16(37) == 16)
        let compressed = try Deflate.compress(Self.small)
        let descriptor = 30 + 5 + 20 + compressed.count
        #expect(r.u32(descriptor) == 0x0807_4B50)
        #expect(Int(r.u64(descriptor + 8)) == compressed.count && Int(r.u64(descriptor + 16)) == Self.small.count)

        let eocd = archive.count - 22
        #expect(r.u32(eocd) == 0x0605_4B50)
        #expect(r.u16(eocd + 10) == 0xFFFF && r.u32(eocd + 12) == 0xFFFF_FFFF && r.u32(eocd + 16) == 0xFFFF_FFFF)
        let locator = eocd - 20
        #expect(r.u32(locator) == 0x0706_4B50)
        let zip64End = Int(r.u64(locator + 8))
        #expect(r.u32(zip64End) == 0x0606_4B50)
        #expect(r.u64(zip64End + 24) == 1 && r.u64(zip64End + 32) == 1)
        let cdOffset = Int(r.u64(zip64End + 48))
        #expect(r.u32(cdOffset) == 0x0201_4B50)
        #expect(r.u16(cdOffset + 30) == 28)  // extra: 4 + 3 × 8
        #expect(r.u32(cdOffset + 42) == 0xFFFF_FFFF)
    }

    @Test("zip64 switches on by itself past the size threshold (lowered for the test)")
    func automaticZip64() throws {
        var zip = ZipWriter()
        zip.zip64Threshold = 1000
        zip.zip64EntryThreshold = 3
        try zip.addFile("small.csv", contents: Self.small, modified: Self.time)  // below every threshold
        try zip.addFile("big.csv", contents: Self.connections, modified: Self.time, method: .stored)  // size over
        try zip.addFile("late.csv", contents: Self.small, modified: Self.time)  // offset over
        #expect(zip.entries.map(\.isZip64) == [false, true, true])
        let archive = try zip.finish()
        let r = ByteReader(bytes: archive)
        #expect(r.u32(archive.count - 42) == 0x0706_4B50)  // locator before the end record
        #expect(r.u16(archive.count - 22 + 10) == 0xFFFF)  // entry count overflowed its threshold
        let (directory, url) = try writeTemporaryZip(archive, label: "auto-zip64")
        defer { removeTemporaryDirectory(directory) }
        let summary = try pythonSummary(of: url)
        #expect(summary.bad == nil)
        #expect(summary.members.map(\.sha) == [Self.small, Self.connections, Self.small].map(TestSHA256.hex))
        #expect(summary.members.map(\.needed) == [20, 45, 45])
    }

    @Test("precompressed members are copied byte for byte")
    func precompressed() throws {
        let stream = try Deflate.compress(Self.connections, level: 1)
        var attributes = ZipWriter.EntryAttributes(modified: Self.time)
        attributes.comment = Array("rebuilt".utf8)
        attributes.centralExtra = [0xCA, 0xFE, 0x00, 0x00]
        var zip = ZipWriter()
        try zip.addPrecompressed(
            "Connections.csv", compressedData: stream, crc32: Deflate.crc32(Self.connections),
            uncompressedSize: UInt64(Self.connections.count), attributes: attributes)
        let archive = try zip.finish()
        #expect(Array(archive[45..<45 + stream.count]) == stream)
        let (directory, url) = try writeTemporaryZip(archive, label: "precompressed")
        defer { removeTemporaryDirectory(directory) }
        let summary = try pythonSummary(of: url)
        #expect(summary.bad == nil && summary.members.first?.sha == TestSHA256.hex(Self.connections))
        #expect(summary.members.first?.extra == "cafe0000")
    }

    @Test("invalid use is refused with typed errors")
    func errors() throws {
        var zip = ZipWriter()
        try zip.addFile("a.csv", contents: Self.small, modified: Self.time)
        #expect(throws: ZipError.duplicateName("a.csv")) { try zip.addFile("a.csv", contents: Self.small, modified: Self.time) }
        #expect(throws: ZipError.emptyName) { try zip.addFile("", contents: Self.small, modified: Self.time) }
        let longName = String(repeating: "x", count: 70_000)
        #expect(throws: ZipError.fieldTooLong(field: "member path", length: 70_000)) {
            try zip.addFile(longName, contents: Self.small, modified: Self.time)
        }
        _ = try zip.finish()
        #expect(throws: ZipError.alreadyFinished) { try zip.finish() }
        #expect(throws: ZipError.alreadyFinished) { try zip.addFile("b.csv", contents: Self.small, modified: Self.time) }

        var options = ZipWriter.Options()
        options.allowDuplicateNames = true
        var duplicates = ZipWriter(options: options)
        try duplicates.addFile("a.csv", contents: Self.small, modified: Self.time)
        try duplicates.addFile("a.csv", contents: Self.small, modified: Self.time)
        #expect(duplicates.entries.count == 2)

        var badLevel = ZipWriter.Options()
        badLevel.compressionLevel = 42
        var broken = ZipWriter(options: badLevel)
        #expect(throws: ZipError.compression(.invalidParameters(level: 42, memLevel: 8, windowBits: -15))) {
            try broken.addFile("a.csv", contents: Self.small, modified: Self.time)
        }
        #expect(!ZipError.emptyName.description.isEmpty)
    }
}
