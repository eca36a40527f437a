// MemberOrderTests.swift: `ls`, `find` and `diff` read an archive's members in walk order in
// bounded memory (ArchiveMembers): held and sorted when few, streamed in layout order when the
// layout is sorted, sorted externally through an encrypted, unlinked temporary file otherwise.
// Whatever the way, the members and their storage are those the whole-layout sort gives.

import CofferCrypto
import Foundation
import Testing

@testable import CofferCore
@testable import CofferExports

@Suite struct MemberOrderTests {
    /// Names in walk order: a component's end sorts before any byte (`a/b` before `a-b`).
    static let walkOrder = ["a", "a/b", "a/c", "a-b", "a.txt", "b/x/y", "b/z", "c", "d/", "d/e", "zz"]

    /// A vault holding one version with `Export.zip`, whose members are `names` in that order
    /// (a name ending in `/` a folder; `dup.txt` twice with different contents when `duplicate`).
    private static func sealed(_ dir: URL, names: [String], duplicate: Bool = false) throws -> (Vault, ObjectID, VersionEntry) {
        let input = dir.path + "/in"
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        // Written by Python's zipfile, which keeps the order given (and a name given twice).
        var members = names.enumerated().map { k, name in (name, name.hasSuffix("/") ? "" : "member \(k) \(name) " + String(repeating: "x", count: k * 7)) }
        if duplicate { members.insert(contentsOf: [("dup.txt", "first"), ("dup.txt", "second, longer")], at: names.count / 2) }
        let script = """
            import sys, zipfile, warnings
            warnings.simplefilter("ignore")
            args = sys.argv[2:]
            with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
                for name, text in zip(args[0::2], args[1::2]):
                    if name.endswith("/"): z.writestr(zipfile.ZipInfo(name, (2024, 3, 1, 0, 0, 0)), b"")
                    else: z.writestr(zipfile.ZipInfo(name, (2024, 3, 1, 0, 0, 0)), text.encode(), zipfile.ZIP_DEFLATED)
            """
        let made = try runPython(script, [input + "/Export.zip"] + members.flatMap { [$0.0, $0.1] })
        #expect(made.status == 0, "\(made.error)")
        var vo = VaultOptions()
        vo.kdf = .insecureTestOnly
        let pass = Array("member order".utf8).withUnsafeBytes { SecureBytes(copying: $0) }
        let vault = try Vault.create(at: dir.path + "/vault", passphrase: pass, options: vo, state: RollbackState(directory: dir.path + "/state"))
        var so = SealOptions()
        so.archiveHandler = ZipArchiveHandler()
        let id = try vault.seal([input], options: so).id
        var archive: VersionEntry?
        try vault.walker(for: id).forEach { if $0.type == .archive { archive = $0 } }
        let e = try #require(archive, "the zip is stored as an archive")
        #expect(!e.layoutIDs.isEmpty, "format 2: the layout is in layout pieces")
        return (vault, id, e)
    }

    /// The members as the whole-layout sort gives them.
    private static func reference(_ vault: Vault, _ e: VersionEntry) throws -> [ArchiveMembers.Member] {
        let members = ArchiveMembers(of: e, layout: try #require(try vault.archiveLayout(of: e)))
        var out: [ArchiveMembers.Member] = []
        while let m = try members.next() { out.append(m) }
        return out
    }

    private static func all(_ members: ArchiveMembers) throws -> [ArchiveMembers.Member] {
        var out: [ArchiveMembers.Member] = []
        while let m = try members.next() { out.append(m) }
        return out
    }

    private static func same(_ a: [ArchiveMembers.Member], _ b: [ArchiveMembers.Member]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.entry == $1.entry && $0.storage == $1.storage }
    }

    @Test func aSortedLayoutIsStreamedInItsOwnOrder() throws {
        let dir = try makeTemporaryDirectory("memberorder-sorted")
        defer { removeTemporaryDirectory(dir) }
        let (vault, _, e) = try Self.sealed(dir, names: Self.walkOrder)
        let expected = try Self.reference(vault, e)
        #expect(expected.map { String(decoding: $0.entry.pathBytes, as: UTF8.self) } == Self.walkOrder.map { "in/Export.zip/" + ($0.hasSuffix("/") ? String($0.dropLast()) : $0) })
        #expect(expected.contains { $0.storage != nil && !$0.entry.chunks.isEmpty }, "members carry their chunks and storage")
        for limit in [1, 2, 5, Self.walkOrder.count] {
            let members = try ArchiveMembers(vault: vault, entry: e, limit: limit)
            #expect(members.order == .streamed, "limit \(limit)")
            #expect(Self.same(try Self.all(members), expected), "limit \(limit)")
        }
        let held = try ArchiveMembers(vault: vault, entry: e, limit: Self.walkOrder.count + 1)
        #expect(held.order == .held)
        #expect(Self.same(try Self.all(held), expected))
    }

    @Test("an unsorted layout (and one sorted by bytes, not by walk order) is sorted externally, as the whole-layout sort does",
          arguments: [false, true])
    func anUnsortedLayoutIsMerged(byteOrder: Bool) throws {
        let dir = try makeTemporaryDirectory("memberorder-unsorted")
        defer { removeTemporaryDirectory(dir) }
        var names = Self.walkOrder
        if byteOrder { names.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) } } else {
            var rng = SystemRandomNumberGenerator()
            while names == Self.walkOrder { names.shuffle(using: &rng) }
        }
        let (vault, _, e) = try Self.sealed(dir, names: names, duplicate: true)
        let expected = try Self.reference(vault, e)
        let dups = expected.filter { $0.entry.pathBytes == Array("in/Export.zip/dup.txt".utf8) }
        #expect(dups.map(\.entry.size) == [5, 14], "equal names keep their layout order")
        for limit in [1, 2, 3, 5] {
            let members = try ArchiveMembers(vault: vault, entry: e, limit: limit)
            guard case .merged(let runs) = members.order else {
                Issue.record("limit \(limit): \(members.order)")
                continue
            }
            #expect(runs == (names.count + 2 + limit - 1) / limit, "limit \(limit)")
            // The run file: unlinked, private, and no member name in clear.
            let fd = try #require(members.runs?.fd)
            var st = stat()
            #expect(fstat(fd, &st) == 0)
            #expect(st.st_nlink == 0, "the temporary file has no name")
            #expect(st.st_mode & 0o777 == 0o600)
            var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
            #expect(pread(fd, &bytes, bytes.count, 0) == bytes.count)
            for name in ["a.txt", "b/x/y", "dup.txt"] {
                #expect(!bytes.indices.contains { bytes[$0...].starts(with: Array(name.utf8)) }, "\(name) is encrypted")
            }
            #expect(Self.same(try Self.all(members), expected), "limit \(limit)")
        }
        #expect(try ArchiveMembers(vault: vault, entry: e, limit: names.count + 3).order == .held, "all 13 members held, one short of the limit")
    }

    @Test func aWalkerSkipsAMemberFolderAndTheCommandsAgree() throws {
        let dir = try makeTemporaryDirectory("memberorder-walk")
        defer { removeTemporaryDirectory(dir) }
        let (vault, id, _) = try Self.sealed(dir, names: Self.walkOrder.reversed())
        // Through the vault's walker (members streamed or merged past the limit): the same
        // entries as the whole-layout walk, and skipping a member folder skips what is below it.
        let v = try vault.version(id)
        let source = TreeSource(vault: vault, root: try #require(v.rootTree), object: VaultFile.version(id).path)
        let walker = VersionWalker(
            source: source, members: { e in e.type == .archive ? try ArchiveMembers(vault: vault, entry: e, limit: 2) : nil }, expandArchives: true)
        var seen: [String] = []
        while let e = try walker.next() {
            seen.append(String(decoding: e.pathBytes, as: UTF8.self))
            if e.pathBytes == Array("in/Export.zip/b".utf8) || e.pathBytes == Array("in/Export.zip/a".utf8) { walker.skipChildren() }
        }
        #expect(seen == ["in", "in/Export.zip", "in/Export.zip/a", "in/Export.zip/a-b", "in/Export.zip/a.txt", "in/Export.zip/b/x/y", "in/Export.zip/b/z", "in/Export.zip/c", "in/Export.zip/d", "in/Export.zip/d/e", "in/Export.zip/zz"])
    }
}
