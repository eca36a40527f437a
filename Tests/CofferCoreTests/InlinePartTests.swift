@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// A toy archive with container bytes no member names: "FRAMED" (6 bytes), the payload (one
/// member, stored reversed as a transformed part), a trailer of `trailer` bytes (a container
/// part: inline up to the limit, stored above it) and "END!". The parts are streamed from the
/// file (`openContent`), in order, as the zip handler streams them.
struct FramedArchiveHandler: ArchiveHandler {
    static let magic = Array("FRAMED".utf8)
    static let end = Array("END!".utf8)
    /// The trailer's length is the file's byte 6 times 1,000.
    static func make(payload: [UInt8], trailerKB: UInt8) -> [UInt8] {
        magic + [trailerKB] + payload + [UInt8](repeating: 0x54, count: Int(trailerKB) * 1000) + end
    }

    func analyse(path: String, size: UInt64) throws -> ArchivePlan? {
        guard let bytes = T.read(path), bytes.starts(with: Self.magic), bytes.count >= 11 else { return nil }
        let trailer = Int(bytes[6]) * 1000
        let payload = bytes.count - 11 - trailer
        var parts: [ArchivePlan.Part] = [
            .init(kind: .stored, transform: [], outputSize: 7, contentSize: 7),
            .init(kind: .transformed, transform: [1], outputSize: UInt64(payload), contentSize: UInt64(payload)),
        ]
        if trailer > 0 { parts.append(.init(kind: .stored, transform: [], outputSize: UInt64(trailer), contentSize: UInt64(trailer))) }
        parts.append(.init(kind: .stored, transform: [], outputSize: 4, contentSize: 4))
        return ArchivePlan(
            format: ArchiveLayout.zip, parts: parts,
            members: [ArchiveMember(name: "body.txt", isDirectory: false, size: UInt64(payload), mtimeSeconds: 1_700_000_000, part: 1, data: .content, encoding: [])],
            sha256: SHA256.hash(bytes), size: UInt64(bytes.count), notes: [])
    }

    func openContent(of plan: ArchivePlan, path: String) throws -> ArchiveContentReader {
        let bytes = T.read(path)!
        var ranges: [[UInt8]] = []
        var at = 0
        for (k, p) in plan.parts.enumerated() {
            let b = Array(bytes[at..<at + Int(p.outputSize)])
            ranges.append(k == 1 ? b.reversed() : b)
            at += Int(p.outputSize)
        }
        return Reader(parts: ranges)
    }

    final class Reader: ArchiveContentReader {
        let parts: [[UInt8]]
        var next = 0, at = 0
        init(parts: [[UInt8]]) { self.parts = parts }
        func read(part: Int, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            guard part == next else { throw CofferError.invalidArgument("part \(part) read out of order, \(next) expected") }
            // At most 1,000 bytes a call, so parts take several reads.
            let n = min(buffer.count, parts[part].count - at, 1000)
            if n == 0 {
                next += 1
                at = 0
                return 0
            }
            parts[part].withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[at..<at + n])) }
            at += n
            return n
        }
        func finish() throws {
            guard next == parts.count else { throw CofferError.invalidArgument("\(parts.count - next) parts not read") }
        }
    }

    func encode(transform: [UInt8], content: ArchiveByteStream, into emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        var all: [UInt8] = []
        try content { all += $0 }
        try Array(all.reversed()).withUnsafeBytes { try emit($0) }
    }

    func decode(member: ArchiveMember, stored: ArchiveByteStream, into emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        throw CofferError.invalidArgument("nothing is encoded")
    }
}

@Suite struct InlinePartTests {
    func options() -> SealOptions {
        var o = SealOptions()
        o.archiveHandler = FramedArchiveHandler()
        return o
    }

    func restoreOptions(expand: Bool = false) -> RestoreOptions {
        var o = RestoreOptions()
        o.archiveHandler = FramedArchiveHandler()
        o.expandArchives = expand
        return o
    }

    @Test("format 2: container parts up to the limit are inline (layout format 2); every reader gets the archive back")
    func containerPartsAreInline() throws {
        let f = try T.vault(format: 2)
        let dir = T.scratch("in") + "/e"
        let payload = T.csv(rows: 2_000, seed: 3)
        let file = FramedArchiveHandler.make(payload: payload, trailerKB: 5)
        T.write(dir + "/a.framed", file)
        let r = try f.vault.seal([dir], options: options())
        let entry = try #require(try f.vault.listing(r.id).first { $0.path == "e/a.framed" })
        #expect(entry.type == .archive && !entry.layoutIDs.isEmpty)
        let layout = try f.vault.layoutFromPieces(of: entry)
        #expect(layout.format == ArchiveLayout.zipInline)
        // The 7-byte header and "END!" inline; the 5,000-byte trailer over the limit stays a stored part.
        #expect(layout.parts.map(\.kind) == [.inline, .transformed, .stored, .inline])
        #expect(layout.parts[0].inlineBytes == Array(file[0..<7]) && layout.parts[3].inlineBytes == FramedArchiveHandler.end)
        #expect(layout.parts[0].chunkCount == 0 && layout.parts[2].chunkCount >= 1)

        let v = try f.reopen()
        let out = T.scratch("o")
        try v.restore(r.id, to: out, options: restoreOptions())
        #expect(T.read(out + "/e/a.framed") == file)
        var got: [UInt8] = []
        try v.readFile(r.id, path: "e/a.framed", archiveHandler: FramedArchiveHandler()) { got += $0 }
        #expect(got == file)
        got = []
        try v.readFile(r.id, path: "e/a.framed/body.txt", archiveHandler: FramedArchiveHandler()) { got += $0 }
        #expect(got == payload.reversed())
        let x = T.scratch("x")
        try v.restore(r.id, to: x, options: restoreOptions(expand: true))
        #expect(T.read(x + "/e/a.framed.contents/body.txt") == payload.reversed())
        #expect(try v.listing(r.id, expandArchives: true).map(\.path) == ["e", "e/a.framed", "e/a.framed/body.txt"])
        let report = try v.check(readDataFraction: 1)
        #expect(report.isClean, "\(report.errors)")

        // Unchanged: reused without reading (inline parts have no chunks to look for).
        let again = try v.seal([dir], options: options())
        #expect(again.version.stats.unchangedFiles == 1 && again.version.stats.addedChunks == 0)
        // Prune after forgetting the first version keeps what the second needs.
        try v.forget([r.id])
        _ = try v.prune()
        let out2 = T.scratch("o2")
        try f.reopen().restore(again.id, to: out2, options: restoreOptions())
        #expect(T.read(out2 + "/e/a.framed") == file)

        // Copied into another format-2 vault: the inline parts come along, the archive restores.
        let g = try T.vault(format: 2)
        _ = try g.vault.copyVersions([again.id], from: try f.reopen())
        let copied = try #require(try g.reopen().versions().first)
        let out3 = T.scratch("o3")
        try g.reopen().restore(copied.id, to: out3, options: restoreOptions())
        #expect(T.read(out3 + "/e/a.framed") == file)
        let ce = try #require(try g.vault.listing(copied.id).first { $0.path == "e/a.framed" })
        #expect(try g.vault.layoutFromPieces(of: ce).parts.map(\.kind) == [.inline, .transformed, .stored, .inline])
        #expect(try g.reopen().check(readDataFraction: 1).isClean)
    }

    @Test("format 1 keeps layout format 1: no inline part in a version body")
    func format1KeepsStoredParts() throws {
        let f = try T.vault(format: 1)
        let dir = T.scratch("in") + "/e"
        let file = FramedArchiveHandler.make(payload: T.csv(rows: 200, seed: 4), trailerKB: 0)
        T.write(dir + "/a.framed", file)
        let r = try f.vault.seal([dir], options: options())
        let entry = try #require(try f.vault.listing(r.id).first { $0.path == "e/a.framed" })
        #expect(entry.archive?.format == ArchiveLayout.zip)
        #expect(entry.archive?.parts.map(\.kind) == [.stored, .transformed, .stored])
        let out = T.scratch("o")
        try f.reopen().restore(r.id, to: out, options: restoreOptions())
        #expect(T.read(out + "/e/a.framed") == file)
    }

    static func layout(format: UInt8 = 2, parts: [ArchivePart], memberPart: Int? = nil) -> [UInt8] {
        var w = ByteWriter()
        ArchiveLayout(
            format: format, parts: parts,
            members: [ArchiveMember(name: "m", isDirectory: false, size: 0, mtimeSeconds: 0, part: memberPart, data: .content, encoding: [])]
        ).encode(into: &w)
        return w.bytes
    }

    static func decode(_ bytes: [UInt8], allowsInline: Bool = true) throws -> ArchiveLayout {
        var r = ByteReader(bytes)
        let l = try ArchiveLayout.decode(&r, allowsInline: allowsInline)
        guard r.isAtEnd else { throw FormatError("trailing bytes") }
        return l
    }

    static func message(_ body: () throws -> Void) -> String? {
        do { try body() } catch { return "\(error)" }
        return nil
    }

    @Test("inline parts encode and decode; the reader's checks refuse what the rules refuse")
    func decodingRules() throws {
        let header = ArchivePart.inline(Array("PK\u{3}\u{4}header".utf8))
        let member = ArchivePart(kind: .stored, transform: [], outputSize: 3, contentSize: 3, contentSHA256: [UInt8](repeating: 7, count: 32), chunks: [ObjectID(bytes: [UInt8](repeating: 1, count: 32))])
        let bytes = Self.layout(parts: [header, member], memberPart: 1)
        // u8 format(2) || u32 n || u8 kind(3) || u32 length || bytes || …
        #expect(Array(bytes[0..<10]) == [2, 2, 0, 0, 0, 3, 10, 0, 0, 0])
        #expect(Array(bytes[10..<20]) == header.inlineBytes)
        let back = try Self.decode(bytes)
        #expect(back.parts == [header, member] && back.parts[0].outputSize == 10)
        var w = ByteWriter()
        back.encode(into: &w)
        #expect(w.bytes == bytes && back.encodedSize == bytes.count)

        // The old rules (and a format-1 version body) accept layout format 1 only: format 2 is refused before any part.
        #expect(Self.message { _ = try Self.decode(bytes, allowsInline: false) }?.contains("format 2") == true)
        // A newer layout format is a newer coffer's.
        var newer = bytes
        newer[0] = 3
        #expect(Self.message { _ = try Self.decode(newer) }?.contains("written by a newer coffer") == true)
        // Kind 3 in a format-1 layout is an unknown kind.
        var old = bytes
        old[0] = 1
        #expect(Self.message { _ = try Self.decode(old) }?.contains("unknown archive part kind 3") == true)
        // A member may not name an inline part.
        #expect(Self.message { _ = try Self.decode(Self.layout(parts: [header, member], memberPart: 0)) }?.contains("inline part") == true)
        // Length: above the limit, beyond the bytes left, or 0, refused before anything is read.
        for length: UInt32 in [4097, 0xFFFF_FFFF, 1000, 0] {
            var b = bytes
            b.replaceSubrange(6..<10, with: withUnsafeBytes(of: length.littleEndian, Array.init))
            #expect(throws: FormatError.self) { _ = try Self.decode(b) }
        }
        // The limit itself is accepted.
        let big = ArchivePart.inline([UInt8](repeating: 0x50, count: ArchiveLayout.inlineLimit))
        #expect(try Self.decode(Self.layout(parts: [big])).parts == [big])
        // The part count is checked with 6 bytes as the smallest part.
        var many = Self.layout(parts: [header])
        many.replaceSubrange(1..<5, with: [0xFF, 0xFF, 0, 0])
        #expect(Self.message { _ = try Self.decode(many) }?.contains("exceeds") == true)
    }
}

/// The set of inline part numbers a layout reader keeps (a bit set).
@Suite struct InlinePartSetTests {
    @Test("the inline part set holds exactly the numbers inserted, far apart or next to one another")
    func holdsWhatWasInserted() {
        var set = ArchiveLayout.InlineParts()
        #expect(!set.contains(0) && !set.contains(-1) && !set.contains(1 << 40))
        let inserted = [0, 1, 63, 64, 65, 127, 1000, 131_071, 200_003]
        for k in inserted { set.insert(k) }
        let inSet = Set(inserted)
        #expect((0...200_100).allSatisfy { set.contains($0) == inSet.contains($0) })
        #expect(!set.contains(-64) && !set.contains(Int.max))
    }
}
