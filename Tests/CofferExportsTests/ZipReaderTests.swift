// ZipReaderTests.swift: ZipLayout.parse on archives of many shapes (ours, Python's, Info-ZIP's,
// 7-Zip's), its byte-exact coverage of the input, and its refusal of damaged archives.

import Foundation
import Testing

@testable import CofferExports

// MARK: - Shared helpers (also used by ZipRebuildTests.swift)

/// A DOS time for fixtures: 2023-07-11 08:07:10.
let zrTime = ZipWriter.DOSTimestamp(date: UInt16((2023 - 1980) << 9 | 7 << 5 | 11), time: UInt16(8 << 11 | 7 << 5 | 5))

/// Deterministic CSV-like text of about `count` bytes (compressible, like an export).
func zrText(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
    let words = ["Anna", "Müller", "Kestrel", "Labs", "Engineer", "https://www.linkedin.com/in/", "2023", "Jul", "Senior",
                 "Manager", "Zürich", "São Paulo", "Data", "Scientist", "Product", "Owner", "Berlin", "London"]
    var out: [UInt8] = []
    out.reserveCapacity(count + 64)
    while out.count < count {
        for field in 0..<6 {
            if field > 0 { out.append(UInt8(ascii: ",")) }
            out += Array(words[Int(next() % UInt64(words.count))].utf8)
            if next() % 3 == 0 { out += Array(String(next() % 10_000).utf8) }
        }
        out.append(UInt8(ascii: "\n"))
    }
    return Array(out.prefix(count))
}

/// Checks the layout invariants against the input: spans contiguous from 0 to the end,
/// container bytes equal to the input, each member's data exactly once where the member says.
func zrCheckCoverage(_ layout: ZipLayout, _ input: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(layout.size == input.count, sourceLocation: sourceLocation)
    var cursor = 0
    var seen = Set<Int>()
    var rebuilt: [UInt8] = []
    rebuilt.reserveCapacity(input.count)
    for span in layout.spans {
        #expect(span.range.lowerBound == cursor, "span \(span.kind) starts at \(span.range.lowerBound), expected \(cursor)", sourceLocation: sourceLocation)
        cursor = span.range.upperBound
        if case .memberData(let index) = span.kind {
            #expect(seen.insert(index).inserted, "member \(index) twice", sourceLocation: sourceLocation)
            #expect(layout.members[index].dataRange == span.range, sourceLocation: sourceLocation)
            #expect(span.bytes.isEmpty, sourceLocation: sourceLocation)
            rebuilt += input[span.range]
        } else {
            #expect(span.bytes.count == span.range.count, sourceLocation: sourceLocation)
            rebuilt += span.bytes
        }
    }
    #expect(cursor == input.count, sourceLocation: sourceLocation)
    #expect(seen.count == layout.members.count, sourceLocation: sourceLocation)
    #expect(rebuilt == input, "spans do not concatenate to the input", sourceLocation: sourceLocation)
}

/// Whether a program is on PATH.
func zrHasProgram(_ name: String) -> Bool {
    (try? runProgram("sh", ["-c", "command -v \(name)"]))?.status == 0
}

/// Python that writes the fixture tree and Python-made zips into argv[1].
let zrPythonFixtureScript = #"""
    import io, os, random, sys, zipfile
    d = sys.argv[1]
    random.seed(5)
    words = ["alpha", "Müller", "kestrel", "labs", "engineer", "https://www.linkedin.com/in/", "2023",
             "Zürich", "data", "scientist", "product", "owner", "Berlin", "São Paulo"]
    def text(n):
        out = []
        size = 0
        while size < n:
            line = ",".join(random.choice(words) + str(random.randint(0, 999)) for _ in range(6)) + "\n"
            out.append(line)
            size += len(line.encode())
        return "".join(out).encode()[:n]
    files = {
        "Connections.csv": text(150000),
        "messages.csv": text(400000),
        "notes/readme.txt": b"hello\n",
        "empty.txt": b"",
        "random.bin": bytes(random.getrandbits(8) for _ in range(30000)),
    }
    src = os.path.join(d, "src")
    for name, data in files.items():
        path = os.path.join(src, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    def write(name, members=files, comment=None, **kw):
        with zipfile.ZipFile(os.path.join(d, name), "w", **kw) as z:
            if comment is not None:
                z.comment = comment
            for n, b in members.items():
                z.writestr(n, b)
    write("py-deflated.zip", compression=zipfile.ZIP_DEFLATED)
    write("py-level9.zip", compression=zipfile.ZIP_DEFLATED, compresslevel=9)
    write("py-level1.zip", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
    write("py-stored.zip", compression=zipfile.ZIP_STORED)
    write("py-comment.zip", comment="Archive comment — kept as is.".encode(), compression=zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(os.path.join(d, "py-zip64.zip"), "w", zipfile.ZIP_DEFLATED) as z:
        for n, b in files.items():
            with z.open(n, "w", force_zip64=True) as f:
                f.write(b)
    class Unseekable(io.RawIOBase):
        def __init__(self, f): self.f = f
        def writable(self): return True
        def write(self, b): return self.f.write(b)
    with open(os.path.join(d, "py-stream.zip"), "wb") as raw:
        with zipfile.ZipFile(Unseekable(raw), "w", zipfile.ZIP_DEFLATED) as z:
            for n, b in files.items():
                z.writestr(n, b)
    with open(os.path.join(d, "py-stream-zip64.zip"), "wb") as raw:
        with zipfile.ZipFile(Unseekable(raw), "w", zipfile.ZIP_DEFLATED) as z:
            for n, b in files.items():
                with z.open(n, "w", force_zip64=True) as f:
                    f.write(b)
    with zipfile.ZipFile(os.path.join(d, "py-folder.zip"), "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("Jobs/"), b"")
        z.writestr("Jobs/Saved Jobs.csv", text(5000))
        z.writestr(zipfile.ZipInfo("Empty folder/"), b"")
    write("py-utf8.zip", members={"Übersicht/naïve café.csv": text(20000), "日本語.txt": "こんにちは\n".encode() * 50,
                                  "emoji 🎉.txt": b"party\n", "plain.txt": b"ascii\n"}, compression=zipfile.ZIP_DEFLATED)
    write("py-bzip2.zip", members={"a.csv": text(50000), "b.csv": text(20000)}, compression=zipfile.ZIP_BZIP2)
    with zipfile.ZipFile(os.path.join(d, "py-mixed.zip"), "w") as z:
        z.writestr("deflated.csv", text(40000), compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("bzip2.csv", text(40000), compress_type=zipfile.ZIP_BZIP2)
        z.writestr("lzma.csv", text(40000), compress_type=zipfile.ZIP_LZMA)
        z.writestr("stored.csv", text(4000), compress_type=zipfile.ZIP_STORED)
    import warnings
    warnings.simplefilter("ignore")
    with zipfile.ZipFile(os.path.join(d, "py-duplicate.zip"), "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("same.csv", text(3000))
        z.writestr("same.csv", text(4000))
    zipfile.ZipFile(os.path.join(d, "py-empty.zip"), "w").close()
    """#

/// Python that extracts every member of each zip given (after argv[1], the output folder) to
/// `<zip>_<member>.bin` and prints each zip's member names, methods and sizes as JSON.
let zrPythonExtractScript = #"""
    import json, os, sys, zipfile
    out = sys.argv[1]
    result = []
    for k, path in enumerate(sys.argv[2:]):
        z = zipfile.ZipFile(path)
        members = []
        for i, info in enumerate(z.infolist()):
            try:
                data = z.read(info)
                readable = True
            except RuntimeError:  # encrypted
                data = b""
                readable = False
            with open(os.path.join(out, "%d_%d.bin" % (k, i)), "wb") as f:
                f.write(data)
            members.append({"name": info.filename, "method": info.compress_type, "size": info.file_size,
                            "csize": info.compress_size, "flags": info.flag_bits, "readable": readable})
        result.append(members)
    print(json.dumps(result))
    """#

/// What Python's `zipfile` extracted from one member.
struct ZRPythonMember: Decodable {
    let name: String
    let method: Int
    let size: Int
    let csize: Int
    let flags: Int
    /// False when zipfile could not read the member (encrypted); its content is then empty.
    let readable: Bool
}

/// The fixture zips, made once per test run: name → bytes. Python's always; Info-ZIP's when
/// `zip` is installed; 7-Zip's when `7z` is.
enum ZipFixtures {
    struct Made: Sendable {
        let zips: [String: [UInt8]]
    }

    /// Writes fixture `name` to a fresh temporary folder and returns (folder, file path).
    static func file(_ name: String) throws -> (URL, String) {
        let directory = try makeTemporaryDirectory("zip-file")
        let url = directory.appendingPathComponent(name)
        try Data(try bytes(name)).write(to: url)
        return (directory, url.path)
    }

    static let made: Result<Made, any Error> = Result { try make() }

    /// The fixture named `name` (e.g. `py-deflated.zip`).
    static func bytes(_ name: String) throws -> [UInt8] {
        let made = try made.get()
        return try #require(made.zips[name], "fixture \(name) was not made")
    }

    static var names: [String] { ((try? made.get())?.zips.keys).map { Array($0).sorted() } ?? [] }

    private static func make() throws -> Made {
        let directory = try makeTemporaryDirectory("zip-fixtures")
        let python = try runPython(zrPythonFixtureScript, [directory.path])
        guard python.status == 0 else { throw FixtureError(message: "python fixtures failed: \(python.error)") }
        if zrHasProgram("zip") {
            let script = """
                set -e
                cd '\(directory.path)/src'
                zip -q -r ../iz-default.zip .
                zip -q -9 -r ../iz-9.zip .
                zip -q -0 -r ../iz-0.zip .
                zip -q -1 -r ../iz-1.zip .
                zip -q -r -P secret ../iz-encrypted.zip Connections.csv notes
                zip -q -r - . | cat > ../iz-stream.zip
                """
            let result = try runProgram("bash", ["-c", script])
            guard result.status == 0 else { throw FixtureError(message: "zip failed: \(result.error)") }
        }
        if zrHasProgram("7z") {
            let script = """
                set -e
                cd '\(directory.path)/src'
                7z a -tzip -bso0 -bsp0 ../7z-default.zip . >/dev/null
                7z a -tzip -mx=9 -bso0 -bsp0 ../7z-9.zip . >/dev/null
                """
            let result = try runProgram("bash", ["-c", script])
            guard result.status == 0 else { throw FixtureError(message: "7z failed: \(result.error)") }
        }
        var zips: [String: [UInt8]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".zip") {
            zips[name] = Array(try Data(contentsOf: directory.appendingPathComponent(name)))
        }
        removeTemporaryDirectory(directory)
        return Made(zips: zips)
    }

    struct FixtureError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}

/// Extracts each archive with Python's `zipfile`: per archive, the members' metadata and contents.
func zrPythonExtract(_ archives: [[UInt8]]) throws -> [[(ZRPythonMember, [UInt8])]] {
    let directory = try makeTemporaryDirectory("zip-extract")
    defer { removeTemporaryDirectory(directory) }
    var paths: [String] = []
    for (index, bytes) in archives.enumerated() {
        let url = directory.appendingPathComponent("in\(index).zip")
        try Data(bytes).write(to: url)
        paths.append(url.path)
    }
    let outDirectory = directory.appendingPathComponent("out")
    try FileManager.default.createDirectory(at: outDirectory, withIntermediateDirectories: true)
    let result = try runPython(zrPythonExtractScript, [outDirectory.path] + paths)
    guard result.status == 0 else { throw ZipFixtures.FixtureError(message: "python extraction failed: \(result.error)") }
    let listing = try JSONDecoder().decode([[ZRPythonMember]].self, from: Data(result.output.utf8))
    return try listing.enumerated().map { archive, members in
        try members.enumerated().map { member, info in
            (info, Array(try Data(contentsOf: outDirectory.appendingPathComponent("\(archive)_\(member).bin"))))
        }
    }
}

/// A small LinkedIn-style archive written with `options`.
func zrWriterArchive(_ options: ZipWriter.Options, stored: Bool = false) throws -> (archive: [UInt8], contents: [String: [UInt8]]) {
    var writer = ZipWriter(options: options)
    let contents: [(String, [UInt8])] = [
        ("Connections.csv", zrText(90_000, seed: 1)),
        ("Jobs/Saved Jobs.csv", zrText(3_000, seed: 2)),
        ("empty.csv", []),
        ("Profile.csv", zrText(700, seed: 3)),
    ]
    for (path, bytes) in contents {
        try writer.addFile(path, contents: bytes, modified: zrTime, method: stored ? .stored : .deflated)
    }
    return (try writer.finish(), Dictionary(uniqueKeysWithValues: contents))
}

// MARK: - Tests

@Suite("ZipReader")
struct ZipReaderTests {
    @Test("LinkedIn-style archive: members, metadata and spans in file order")
    func linkedInLayout() throws {
        let (archive, contents) = try zrWriterArchive(.linkedIn)
        let layout = try ZipLayout.parse(archive)
        zrCheckCoverage(layout, archive)
        #expect(layout.members.map(\.name) == ["Connections.csv", "Jobs/Saved Jobs.csv", "empty.csv", "Profile.csv"])
        #expect(!layout.isZip64 && layout.comment.isEmpty && layout.prefixShift == 0)
        for member in layout.members {
            #expect(member.method == .deflated)
            #expect(member.flags == 0x0808 && member.localFlags == 0x0808)
            #expect(member.hasUTF8Flag && !member.isDirectory && !member.isEncrypted && !member.isZip64)
            #expect(member.dataDescriptor == ZipDataDescriptor(hasSignature: true, hasZip64Sizes: false, offset: member.dataRange.upperBound))
            #expect(member.uncompressedSize == UInt64(contents[member.name]!.count))
            #expect(member.crc32 == Deflate.crc32(contents[member.name]!))
            #expect(member.modified.description == "2023-07-11 08:07:10")
            #expect((member.modified.year, member.modified.month, member.modified.day) == (2023, 7, 11))
            #expect(member.rawName == Array(member.name.utf8))
            let inflated = try Deflate.decompress(archive[member.dataRange], expectedSize: Int(member.uncompressedSize))
            #expect(inflated == contents[member.name]!)
        }
        #expect(layout.members[0].localHeaderOffset == 0)
        // local header, data, descriptor per member; then directory and end record.
        let kinds = layout.spans.map(\.kind)
        #expect(kinds.prefix(3) == [.localHeader(member: 0), .memberData(member: 0), .dataDescriptor(member: 0)])
        #expect(kinds.suffix(2) == [.centralDirectory, .endRecord])
        #expect(kinds.count == 4 * 3 + 2)
        #expect(layout.spans.last!.bytes.count == 22)
    }

    @Test("data descriptors: signed, unsigned, zip64 (8-byte sizes), none")
    func dataDescriptors() throws {
        var unsigned = ZipWriter.Options.linkedIn
        unsigned.dataDescriptorSignature = false
        var zip64 = ZipWriter.Options.linkedIn
        zip64.forceZip64 = true
        var zip64Unsigned = zip64
        zip64Unsigned.dataDescriptorSignature = false
        var zip64Plain = ZipWriter.Options.plain
        zip64Plain.forceZip64 = true
        let cases: [(ZipWriter.Options, ZipDataDescriptor?)] = [
            (.linkedIn, ZipDataDescriptor(hasSignature: true, hasZip64Sizes: false, offset: 0)),
            (unsigned, ZipDataDescriptor(hasSignature: false, hasZip64Sizes: false, offset: 0)),
            (zip64, ZipDataDescriptor(hasSignature: true, hasZip64Sizes: true, offset: 0)),
            (zip64Unsigned, ZipDataDescriptor(hasSignature: false, hasZip64Sizes: true, offset: 0)),
            (.plain, nil),
            (zip64Plain, nil),
        ]
        for (options, expected) in cases {
            let (archive, _) = try zrWriterArchive(options)
            let layout = try ZipLayout.parse(archive)
            zrCheckCoverage(layout, archive)
            #expect(layout.isZip64 == options.forceZip64)
            for member in layout.members {
                #expect(member.dataDescriptor?.hasSignature == expected?.hasSignature)
                #expect(member.dataDescriptor?.hasZip64Sizes == expected?.hasZip64Sizes)
                #expect(member.isZip64 == options.forceZip64)
            }
            if options.forceZip64 {
                #expect(layout.spans.map(\.kind).suffix(4) == [.centralDirectory, .zip64EndRecord, .zip64Locator, .endRecord])
            }
        }
    }

    @Test("real zip64 offsets and sizes (writer thresholds lowered)")
    func genuineZip64() throws {
        var writer = ZipWriter(options: .plain)
        writer.zip64Threshold = 1000
        writer.zip64EntryThreshold = 3
        for index in 0..<4 {
            try writer.addFile("file\(index).csv", contents: zrText(3_000, seed: UInt64(index)), modified: zrTime, method: .stored)
        }
        let archive = try writer.finish()
        let layout = try ZipLayout.parse(archive)
        zrCheckCoverage(layout, archive)
        #expect(layout.isZip64)
        #expect(layout.members.count == 4)
        #expect(layout.members.map(\.compressedSize) == [3000, 3000, 3000, 3000])
        #expect(layout.members[3].localHeaderOffset > 9000)
        #expect(layout.members.allSatisfy { $0.isZip64 })
    }

    @Test("archive comment, prefix stub, trailing bytes: all kept as container bytes")
    func commentPrefixAndTrailing() throws {
        var options = ZipWriter.Options.linkedIn
        options.comment = Array("Exported by LinkedIn — PK\u{5}\u{6} look-alike inside".utf8)
        let (archive, _) = try zrWriterArchive(options)
        let layout = try ZipLayout.parse(archive)
        zrCheckCoverage(layout, archive)
        #expect(layout.comment == options.comment)
        #expect(layout.spans.last!.kind == .endRecord && layout.spans.last!.bytes.count == 22 + options.comment.count)

        // A stub prepended after zipping (offsets not adjusted), as a self-extractor has.
        let stub = Array(repeating: UInt8(0x90), count: 1000) + Array("MZ stub".utf8)
        let prefixed = stub + archive
        let shifted = try ZipLayout.parse(prefixed)
        zrCheckCoverage(shifted, prefixed)
        #expect(shifted.prefixShift == stub.count)
        #expect(shifted.spans.first!.kind == .gap && shifted.spans.first!.range == 0..<stub.count)
        #expect(shifted.members.map(\.name) == layout.members.map(\.name))

        // Bytes after the comment.
        let trailing = archive + Array("garbage after the end".utf8)
        let withTrailing = try ZipLayout.parse(trailing)
        zrCheckCoverage(withTrailing, trailing)
        #expect(withTrailing.spans.last!.kind == .gap)
        #expect(withTrailing.comment == options.comment)
    }

    @Test("empty archives: only an end record")
    func emptyArchive() throws {
        var writer = ZipWriter()
        let ours = try writer.finish()
        for archive in [ours, try ZipFixtures.bytes("py-empty.zip")] {
            #expect(archive.count == 22)
            #expect(ZipLayout.looksLikeZip(prefix: archive))
            let layout = try ZipLayout.parse(archive)
            zrCheckCoverage(layout, archive)
            #expect(layout.members.isEmpty)
            #expect(layout.spans.map(\.kind) == [.endRecord])
        }
    }

    @Test("recognised by content, not by name")
    func looksLikeZip() throws {
        let (archive, _) = try zrWriterArchive(.linkedIn)
        #expect(ZipLayout.looksLikeZip(prefix: archive.prefix(4)))
        #expect(ZipLayout.containsEndRecord(suffix: archive.suffix(100)))
        #expect(!ZipLayout.looksLikeZip(prefix: Array("PK is not enough".utf8)))
        #expect(!ZipLayout.looksLikeZip(prefix: Array("First Name,Last Name\n".utf8)))
        #expect(!ZipLayout.looksLikeZip(prefix: [0x50, 0x4B]))
        #expect(!ZipLayout.containsEndRecord(suffix: zrText(1000)))
        #expect(ZipLayout.looksLikeZip(prefix: [0x50, 0x4B, 7, 8, 0x50, 0x4B, 3, 4]))
    }

    @Test("folder entries, UTF-8 and legacy names, duplicates, Unix extras")
    func namesAndFolders() throws {
        let folder = try ZipLayout.parse(try ZipFixtures.bytes("py-folder.zip"))
        #expect(folder.members.map(\.name) == ["Jobs/", "Jobs/Saved Jobs.csv", "Empty folder/"])
        #expect(folder.members.map(\.isDirectory) == [true, false, true])

        let utf8 = try ZipLayout.parse(try ZipFixtures.bytes("py-utf8.zip"))
        #expect(utf8.members.map(\.name) == ["Übersicht/naïve café.csv", "日本語.txt", "emoji 🎉.txt", "plain.txt"])
        #expect(utf8.members.map(\.hasUTF8Flag) == [true, true, true, false])

        // A legacy (no flag 11) name in code page 437, as old Windows tools wrote them.
        var writer = ZipWriter(options: .plain)
        try writer.addFile("X", contents: zrText(100), modified: zrTime)
        var archive = try writer.finish()
        // Patch the one-byte name "X" to 0x81 ("ü" in CP437) in the local header and directory.
        for index in archive.indices where archive[index] == UInt8(ascii: "X") { archive[index] = 0x81 }
        let legacy = try ZipLayout.parse(archive)
        #expect(legacy.members[0].rawName == [0x81])
        #expect(legacy.members[0].name == "ü")

        let duplicate = try ZipLayout.parse(try ZipFixtures.bytes("py-duplicate.zip"))
        #expect(duplicate.members.map(\.name) == ["same.csv", "same.csv"])
        #expect(duplicate.members[0].uncompressedSize == 3000 && duplicate.members[1].uncompressedSize == 4000)
    }

    @Test("every fixture zip parses with exact coverage, and agrees with Python's zipfile")
    func fixturesAgreeWithPython() throws {
        let names = ZipFixtures.names
        #expect(names.count >= 14, "fixtures: \(names)")
        let archives = try names.map { try ZipFixtures.bytes($0) }
        let extracted = try zrPythonExtract(archives)
        for (index, name) in names.enumerated() {
            let layout = try ZipLayout.parse(archives[index])
            zrCheckCoverage(layout, archives[index])
            let python = extracted[index]
            #expect(layout.members.count == python.count, "\(name)")
            for (member, (info, _)) in zip(layout.members, python) {
                #expect(member.name == info.name, "\(name)")
                #expect(Int(member.method.rawValue) == info.method, "\(name) \(info.name)")
                #expect(Int(member.uncompressedSize) == info.size, "\(name) \(info.name)")
                #expect(Int(member.compressedSize) == info.csize, "\(name) \(info.name)")
                #expect(Int(member.flags) == info.flags, "\(name) \(info.name)")
            }
        }
    }

    @Test("Info-ZIP archives: Unix extra fields, folder entries, streamed descriptors, encryption",
          .enabled(if: zrHasProgram("zip"), "Info-ZIP zip is not installed"))
    func infoZip() throws {
        let layout = try ZipLayout.parse(try ZipFixtures.bytes("iz-default.zip"))
        #expect(layout.members.contains { $0.isDirectory && $0.name == "notes/" })
        #expect(layout.members.allSatisfy { !$0.localExtra.isEmpty && $0.versionMadeBy >> 8 == 3 })  // UT/ux fields, made on Unix
        let stream = try ZipLayout.parse(try ZipFixtures.bytes("iz-stream.zip"))
        #expect(stream.members.filter { !$0.isDirectory }.allSatisfy { $0.hasDataDescriptor })
        let encrypted = try ZipLayout.parse(try ZipFixtures.bytes("iz-encrypted.zip"))
        #expect(encrypted.members.filter { !$0.isDirectory }.allSatisfy { $0.isEncrypted })
    }

    @Test("reading through a file source gives the same layout as in memory")
    func fileSource() throws {
        for name in ["py-deflated.zip", "py-stream-zip64.zip", "py-empty.zip"] {
            let (directory, path) = try ZipFixtures.file(name)
            defer { removeTemporaryDirectory(directory) }
            let source = try ZipFileSource(path: path)
            let fromFile = try ZipLayout.parse(source)
            let fromMemory = try ZipLayout.parse(try ZipFixtures.bytes(name))
            #expect(fromFile == fromMemory, "\(name)")
            #expect(throws: ZipParseError.self) { try ZipFileSource(path: path + ".missing") }
            #expect(throws: ZipParseError.self) { try ZipFileSource(path: directory.path) }
        }
    }

    // MARK: Damaged and hostile archives

    @Test("damaged archives are refused with a parse error")
    func damaged() throws {
        let (archive, _) = try zrWriterArchive(.linkedIn)
        let layout = try ZipLayout.parse(archive)
        let eocd = archive.count - 22
        func patched(_ offset: Int, _ value: UInt32, width: Int = 4) -> [UInt8] {
            var copy = archive
            for byte in 0..<width { copy[offset + byte] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(byte))) }
            return copy
        }
        let centralOffset = layout.centralDirectoryOffset
        let cases: [(String, [UInt8])] = [
            ("truncated by one byte", Array(archive.dropLast())),
            ("truncated to half", Array(archive.prefix(archive.count / 2))),
            ("first member cut out", Array(archive[layout.members[1].localHeaderOffset...])),
            ("a byte removed from the middle", Array(archive[..<1000] + archive[1001...])),
            ("central directory offset + 1", patched(eocd + 16, UInt32(centralOffset + 1))),
            ("central directory offset - 5", patched(eocd + 16, UInt32(centralOffset - 5))),
            ("central directory offset past the end", patched(eocd + 16, 0xFFFF_FF00)),
            ("central directory size too big", patched(eocd + 12, 0x7FFF_FFFF)),
            ("entry count + 1", patched(eocd + 8, 0x0005_0005)),
            ("entry count 0xFFFF", patched(eocd + 8, 0xFFFF_FFFF)),
            ("entry count - 1", patched(eocd + 8, 0x0003_0003)),
            ("garbage instead of the end record", Array(archive.dropLast(22)) + Array(repeating: 0xAB, count: 22)),
            ("multi-disk", patched(eocd + 4, 0x0001_0001)),
            ("member offset into the directory", patched(centralOffset + 42, UInt32(centralOffset))),
            ("member offset past the end", patched(centralOffset + 42, 0xFFFF_FFF0)),
            ("compressed size past the end", patched(centralOffset + 20, 0xFFFF_FFF0)),
            ("CRC differs from the descriptor", patched(centralOffset + 16, 0x1234_5678)),
            ("name differs from the local header", patched(centralOffset + 46, 0x58, width: 1)),
            ("method differs from the local header", patched(centralOffset + 10, 0, width: 2)),
            ("local header signature broken", patched(0, 0x0403_4B51)),
            ("not a zip", zrText(5000)),
            ("too short", [0x50, 0x4B, 5, 6]),
        ]
        for (label, bytes) in cases {
            #expect(throws: ZipParseError.self, "\(label)") { try ZipLayout.parse(bytes) }
        }
    }

    @Test("overlapping entries (two directory entries sharing one local header) are refused")
    func overlapping() throws {
        var options = ZipWriter.Options.plain
        options.allowDuplicateNames = true
        var writer = ZipWriter(options: options)
        try writer.addFile("same.csv", contents: zrText(2000), modified: zrTime)
        try writer.addFile("same.csv", contents: zrText(2000), modified: zrTime)
        var archive = try writer.finish()
        let layout = try ZipLayout.parse(archive)
        zrCheckCoverage(layout, archive)
        // Point the second directory entry at the first local header.
        let second = layout.centralDirectoryOffset + 46 + "same.csv".utf8.count
        for byte in 0..<4 { archive[second + 42 + byte] = 0 }
        let error = #expect(throws: ZipParseError.self) { try ZipLayout.parse(archive) }
        guard case .overlap = error else {
            Issue.record("expected an overlap error, got \(String(describing: error))")
            return
        }
    }

    @Test("hostile zip64 values are refused without large allocations")
    func hostileZip64() throws {
        var options = ZipWriter.Options.linkedIn
        options.forceZip64 = true
        let (archive, _) = try zrWriterArchive(options)
        let layout = try ZipLayout.parse(archive)
        let record = try #require(layout.spans.first { $0.kind == .zip64EndRecord }).range.lowerBound
        let locator = try #require(layout.spans.first { $0.kind == .zip64Locator }).range.lowerBound
        func patched64(_ offset: Int, _ value: UInt64, also second: Int? = nil) -> [UInt8] {
            var copy = archive
            for at in [offset] + (second.map { [$0] } ?? []) {
                for byte in 0..<8 { copy[at + byte] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(byte))) }
            }
            return copy
        }
        let cases: [(String, [UInt8])] = [
            ("entry count 2^60", patched64(record + 24, 1 << 60, also: record + 32)),
            ("entries on this disk differ", patched64(record + 24, 3)),
            ("directory size 2^62", patched64(record + 40, 1 << 62)),
            ("directory offset 2^63", patched64(record + 48, 1 << 63)),
            ("record size 2^63", patched64(record + 4, 1 << 63)),
            ("locator pointing past the end", patched64(locator + 8, UInt64.max)),
            ("locator pointing at the start", patched64(locator + 8, 0)),
        ]
        for (label, bytes) in cases {
            #expect(throws: ZipParseError.self, "\(label)") { try ZipLayout.parse(bytes) }
        }
    }

    @Test("random damage: never a crash; whatever parses covers the input exactly")
    func mutationFuzz() throws {
        var options = ZipWriter.Options.linkedIn
        options.comment = Array("c".utf8)
        var writer = ZipWriter(options: options)
        try writer.addFile("a.csv", contents: zrText(300), modified: zrTime)
        try writer.addFile("b.csv", contents: zrText(200, seed: 9), modified: zrTime, method: .stored)
        let archive = try writer.finish()
        var state: UInt64 = 0x1234_5678_9ABC_DEF1
        func next(_ bound: Int) -> Int {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Int(state % UInt64(bound))
        }
        var parsed = 0
        var refused = 0
        for round in 0..<600 {
            var bytes = archive
            if round % 6 == 5 {
                bytes = Array(bytes.prefix(next(bytes.count)))
            } else {
                for _ in 0...(round % 3) {
                    bytes[next(bytes.count)] = UInt8(next(256))
                }
            }
            do {
                let layout = try ZipLayout.parse(bytes)
                parsed += 1
                zrCheckCoverage(layout, bytes)
                // Whatever parses must rebuild exactly, or be refused as a whole.
                let analysis = try ZipReproduction.analyseAndVerify(bytes)
                #expect(analysis.verified)
                let rebuilt = try ZipRebuilder.rebuild(plan: analysis.plan) { analysis.payloads[$0] }
                #expect(rebuilt == bytes)
            } catch is ZipParseError {
                refused += 1
            }
        }
        #expect(parsed > 0 && refused > 0, "parsed \(parsed), refused \(refused)")
    }
}
