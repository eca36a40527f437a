@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// A toy archive format for testing the core's part-by-part storage without zip:
/// "TOYARC" || payload, stored as a stored part (the magic) and a transformed part whose content
/// is the payload reversed (the transform reverses it back). One member, "inner.txt", whose
/// content is the reversed payload; a second member "raw.bin" is "encoded" as the magic bytes.
struct ToyArchiveHandler: ArchiveHandler {
    static let magic = Array("TOYARC".utf8)

    func analyse(path: String, size: UInt64) throws -> ArchivePlan? {
        guard let bytes = T.read(path), bytes.starts(with: Self.magic) else { return nil }
        if bytes.count == 7 { throw CofferError.invalidArgument("toy archive too short") }
        let payload = Array(bytes.dropFirst(6))
        return ArchivePlan(
            format: ArchiveLayout.zip,
            parts: [
                .init(kind: .stored, transform: [], outputSize: 6, content: Self.magic),
                .init(kind: .transformed, transform: [1], outputSize: UInt64(payload.count), content: payload.reversed()),
            ],
            members: [
                ArchiveMember(name: "inner.txt", isDirectory: false, size: UInt64(payload.count), mtimeSeconds: 1_700_000_000, part: 1, data: .content, encoding: []),
                ArchiveMember(name: "raw.bin", isDirectory: false, size: 3, mtimeSeconds: 1_700_000_000, part: 0, data: .encoded, encoding: [3]),
                ArchiveMember(name: "folder/", isDirectory: true, size: 0, mtimeSeconds: 0, part: nil, data: .content, encoding: []),
                ArchiveMember(name: "../escape.txt", isDirectory: false, size: 6, mtimeSeconds: 0, part: 0, data: .content, encoding: []),
            ],
            sha256: SHA256.hash(bytes), size: UInt64(bytes.count), notes: ["toy archive"])
    }

    // The toy reverses whole parts, so it collects them (its archives are small).
    func encode(transform: [UInt8], content: ArchiveByteStream, into emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard transform == [1] else { throw CofferError.invalidArgument("unknown toy transform") }
        var all: [UInt8] = []
        try content { all += $0 }
        try Array(all.reversed()).withUnsafeBytes { try emit($0) }
    }

    func decode(member: ArchiveMember, stored: ArchiveByteStream, into emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        var all: [UInt8] = []
        try stored { all += $0 }
        try Array(all.prefix(Int(member.encoding.first ?? 0))).withUnsafeBytes { try emit($0) }
    }
}

@Suite struct ArchiveTests {
    func options() -> SealOptions {
        var o = SealOptions()
        o.archiveHandler = ToyArchiveHandler()
        return o
    }

    @Test(arguments: [1, 2]) func anArchiveIsStoredPartByPartAndComesBackExactly(format: Int) throws {
        let f = try T.vault(format: format)
        let dir = T.scratch("in") + "/exports"
        let payload = T.csv(rows: 3_000, seed: 5)
        T.write(dir + "/one.toy", ToyArchiveHandler.magic + payload)
        T.write(dir + "/plain.txt", Array("not an archive, long enough to be analysed".utf8))
        let r = try f.vault.seal([dir], options: options())
        let entry = try #require(try f.vault.listing(r.id).first { $0.path == "exports/one.toy" })
        #expect(entry.type == .archive)
        #expect(entry.archive?.parts.count == 2)
        #expect(try f.vault.listing(r.id).first { $0.path == "exports/plain.txt" }?.type == .file)
        #expect(r.version.notes.contains("exports/one.toy: toy archive"))
        // The stored content is the transformed (reversed) payload, deduplicated like a file.
        let v = try f.reopen()
        let out = T.scratch("o")
        var ro = RestoreOptions()
        ro.archiveHandler = ToyArchiveHandler()
        try v.restore(r.id, to: out, options: ro)
        #expect(T.read(out + "/exports/one.toy") == ToyArchiveHandler.magic + payload)
        #expect(try v.check(readDataFraction: 1).isClean)
        // Without a handler the archive cannot be rebuilt: refused, nothing written.
        let out2 = T.scratch("o2")
        #expect(throws: CofferError.self) { try v.restore(r.id, to: out2) }
        #expect(T.read(out2 + "/exports/plain.txt") == nil)
    }

    @Test(arguments: [1, 2]) func membersCanBeListedReadAndExpanded(format: Int) throws {
        let f = try T.vault(format: format)
        let dir = T.scratch("in") + "/e"
        let payload = Array("hello members, long enough to analyse".utf8)
        T.write(dir + "/a.toy", ToyArchiveHandler.magic + payload)
        let r = try f.vault.seal([dir], options: options())
        let listed = try f.vault.listing(r.id, expandArchives: true).map(\.path)
        // Members in walk order (name bytes, component by component), not in the zip's order.
        #expect(listed == ["e", "e/a.toy", "e/a.toy/../escape.txt", "e/a.toy/folder", "e/a.toy/inner.txt", "e/a.toy/raw.bin"])
        var got: [UInt8] = []
        try f.vault.readFile(r.id, path: "e/a.toy/inner.txt", archiveHandler: ToyArchiveHandler()) { got += $0 }
        #expect(got == payload.reversed())
        got = []
        try f.vault.readFile(r.id, path: "e/a.toy", archiveHandler: ToyArchiveHandler()) { got += $0 }
        #expect(got == ToyArchiveHandler.magic + payload)
        got = []
        try f.vault.readFile(r.id, path: "e/a.toy/raw.bin", archiveHandler: ToyArchiveHandler()) { got += $0 }
        #expect(got == Array("TOY".utf8))
        let out = T.scratch("x")
        var ro = RestoreOptions()
        ro.archiveHandler = ToyArchiveHandler()
        ro.expandArchives = true
        let res = try f.vault.restore(r.id, to: out, options: ro)
        #expect(T.read(out + "/e/a.toy.contents/inner.txt") == payload.reversed())
        #expect(T.read(out + "/e/a.toy.contents/raw.bin") == Array("TOY".utf8))
        #expect(FileManager.default.fileExists(atPath: out + "/e/a.toy.contents/folder"))
        #expect(!FileManager.default.fileExists(atPath: out + "/e/escape.txt"))
        #expect(res.notes.contains { $0.contains("../escape.txt") })
    }

    @Test(arguments: [1, 2]) func unchangedArchivesAreReusedAndChangedContentDeduplicates(format: Int) throws {
        let f = try T.vault(format: format)
        let dir = T.scratch("in") + "/e"
        var payload = T.csv(rows: 5_000, seed: 9)
        T.write(dir + "/a.toy", ToyArchiveHandler.magic + payload)
        let first = try f.vault.seal([dir], options: options())
        let second = try f.reopen().seal([dir], options: options())
        #expect(second.version.stats.unchangedFiles == 1)
        #expect(second.version.stats.addedChunks == 0)
        #expect(try f.vault.listing(second.id) == f.vault.listing(first.id))
        // One row changed in the middle: only a couple of chunks are new.
        payload.replaceSubrange(200_000..<200_010, with: Array("CHANGED!!!".utf8))
        T.write(dir + "/a.toy", ToyArchiveHandler.magic + payload)
        let third = try f.reopen().seal([dir], options: options())
        #expect(third.version.stats.addedChunks >= 1 && third.version.stats.addedChunks <= 2)
        let out = T.scratch("o")
        var ro = RestoreOptions()
        ro.archiveHandler = ToyArchiveHandler()
        try f.reopen().restore(third.id, to: out, options: ro)
        #expect(T.read(out + "/e/a.toy") == ToyArchiveHandler.magic + payload)
    }

    @Test func anArchiveThatCannotBeParsedIsSealedAsAFileWithANote() throws {
        let f = try T.vault()
        let dir = T.scratch("in") + "/e"
        // 7 bytes: the toy handler refuses it, but it is short of the 22-byte analysis threshold;
        // pad it to a size that is analysed and make the handler throw by content instead.
        T.write(dir + "/bad.toy", ToyArchiveHandler.magic + [0])
        T.write(dir + "/also-bad.toy", Array("TOYARC".utf8) + Array(repeating: 0, count: 30))
        let r = try f.vault.seal([dir], options: options())
        #expect(try f.vault.listing(r.id).first { $0.path == "e/bad.toy" }?.type == .file)
        #expect(try f.vault.listing(r.id).first { $0.path == "e/also-bad.toy" }?.type == .archive)
    }

    /// Format 1: body_version 2 with an archive entry, 1 without. Format 2: body_version 3
    /// whatever the entries (the archive is a tree node), the header and root tree surviving.
    @Test(arguments: [1, 2]) func archiveEntriesSurviveEncodingAndOldBodiesStayVersionOne(format: Int) throws {
        let f = try T.vault(format: format)
        let dir = T.scratch("in") + "/e"
        T.write(dir + "/a.toy", ToyArchiveHandler.magic + T.bytes(100, seed: 1))
        let r = try f.vault.seal([dir], options: options())
        let body = r.version.encode()
        let back = try Version.decode(body)
        if format == 1 {
            #expect(body[0] == 2)
            #expect(back.v1Entries == r.version.v1Entries)
            #expect(back.v1Entries.contains { $0.type == .archive && $0.archive != nil })
            var plain = r.version
            plain.v1Entries = plain.v1Entries.filter { $0.type != .archive }
            #expect(plain.encode()[0] == 1)
        } else {
            #expect(body[0] == 3)
            #expect(back.v1Entries.isEmpty && back.rootTree != nil)
            #expect(back.rootTree == r.version.rootTree)
            #expect(back.name == r.version.name && back.paths == r.version.paths)
            let archive = try #require(try f.vault.listing(r.id).first { $0.path == "e/a.toy" })
            #expect(archive.type == .archive && !archive.layoutIDs.isEmpty && archive.archive != nil)
        }
    }
}

@Suite struct VersionDiffTests {
    @Test func filesAndMembersAddedRemovedChanged() throws {
        let f = try T.vault()
        var o = SealOptions()
        o.archiveHandler = ToyArchiveHandler()
        o.name = "d"
        let dir = T.scratch("in") + "/d"
        T.write(dir + "/same.txt", Array("same".utf8))
        T.write(dir + "/gone.txt", Array("gone".utf8))
        T.write(dir + "/edit.txt", Array("v1".utf8))
        T.write(dir + "/a.toy", ToyArchiveHandler.magic + Array("first payload of the toy archive".utf8))
        let v1 = try f.vault.seal([dir], options: o)
        unlink(dir + "/gone.txt")
        T.write(dir + "/new.txt", Array("new".utf8))
        T.write(dir + "/edit.txt", Array("v2 longer".utf8))
        T.write(dir + "/a.toy", ToyArchiveHandler.magic + Array("second payload of the toy archive".utf8))
        let v2 = try f.vault.seal([dir], options: o)
        let diff = try VersionDiff(f.vault, from: v1.id, to: v2.id)
        var kinds: [String: String] = [:]
        for c in diff.changes {
            switch c {
            case .added: kinds[c.path] = "added"
            case .removed: kinds[c.path] = "removed"
            case .changed: kinds[c.path] = "changed"
            }
        }
        #expect(kinds == [
            "d/new.txt": "added", "d/gone.txt": "removed", "d/edit.txt": "changed", "d/a.toy": "changed", "d/a.toy/inner.txt": "changed",
        ])
        #expect(diff.unchanged >= 4)
    }
}

/// Counts analyses, to see which ones a prepared handler saves.
final class CountingHandler: ArchiveHandler, @unchecked Sendable {
    let inner = ToyArchiveHandler()
    private let lock = NSLock()
    private(set) var calls = 0
    func analyse(path: String, size: UInt64) throws -> ArchivePlan? {
        lock.withLock { calls += 1 }
        return try inner.analyse(path: path, size: size)
    }
    func encode(transform: [UInt8], content: ArchiveByteStream, into emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        try inner.encode(transform: transform, content: content, into: emit)
    }
    func decode(member: ArchiveMember, stored: ArchiveByteStream, into emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        try inner.decode(member: member, stored: stored, into: emit)
    }
}

@Suite struct PreparedArchiveTests {
    @Test func aPreparedAnalysisIsUsedOnlyWhileTheFileIsUnchanged() throws {
        let f = try T.vault()
        let dir = T.scratch("prepared")
        let a = dir + "/a.toy", b = dir + "/b.toy"
        T.write(a, ToyArchiveHandler.magic + Array("the first payload, long enough".utf8))
        T.write(b, ToyArchiveHandler.magic + Array("the second payload, long enough".utf8))
        let counting = CountingHandler()
        let prepared = PreparedArchiveHandler(counting)
        prepared.prepare([a, b, dir + "/missing.toy"])
        #expect(counting.calls == 2)
        // b changes after its analysis (same size, new content and mtime): analysed again.
        T.write(b, ToyArchiveHandler.magic + Array("the SECOND payload, long enough".utf8))
        var times = [timespec(tv_sec: 1_600_000_000, tv_nsec: 0), timespec(tv_sec: 1_600_000_000, tv_nsec: 0)]
        _ = utimensat(AT_FDCWD, b, &times, 0)
        var o = SealOptions()
        o.archiveHandler = prepared
        let r = try f.vault.seal([a, b], options: o)
        #expect(prepared.hits == 1)
        #expect(counting.calls == 3)
        var ro = RestoreOptions()
        ro.archiveHandler = prepared
        try f.vault.restore(r.id, to: dir + "/out", options: ro)
        #expect(T.read(dir + "/out/b.toy") == ToyArchiveHandler.magic + Array("the SECOND payload, long enough".utf8))
        #expect(T.read(dir + "/out/a.toy") == ToyArchiveHandler.magic + Array("the first payload, long enough".utf8))
    }
}
