@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// `coffer copy --from-vault SRC`: versions of another vault (another passphrase) copied into
/// the target, through the binary.
@Suite("copy command")
struct CopyCommandTests {
    static let sourcePass = "source vault passphrase"

    /// A scratch with a target vault (the default one) and a source vault at `src` with another
    /// passphrase, holding two versions of `docs` (the second shares a large file with the first)
    /// and one of `pics`.
    static func setUp() throws -> Scratch {
        let s = try Scratch()
        try s.initVault()
        let init2 = try s.run(["init", "--quiet", "--vault", s.path("src")], passphrase: sourcePass)
        #expect(init2.status == 0, "\(init2.stderr)")
        try s.write("docs/big.bin", pseudoRandomBytes(count: 3 << 20, seed: 7))
        try s.write("docs/notes/a.txt", "first\n")
        // A name that is not UTF-8 (n, 0xFF), and a link.
        let odd = [UInt8](s.path("docs/").utf8) + [0x6E, 0xFF, 0]
        let fd = odd.withUnsafeBytes { open($0.baseAddress!.assumingMemoryBound(to: CChar.self), O_CREAT | O_WRONLY | O_TRUNC, 0o644) }
        #expect(fd >= 0)
        #expect(write(fd, "odd name", 8) == 8)
        close(fd)
        try FileManager.default.createSymbolicLink(atPath: s.path("docs/link"), withDestinationPath: "notes/a.txt")
        try s.write("pics/p.raw", pseudoRandomBytes(count: 200_000, seed: 9))
        try sealSource(s, "docs")
        try s.write("docs/notes/a.txt", "second\n")
        try s.write("docs/notes/new.bin", pseudoRandomBytes(count: 100_000, seed: 11))
        try sealSource(s, "docs")
        try sealSource(s, "pics")
        return s
    }

    static func sealSource(_ s: Scratch, _ folder: String) throws {
        let r = try s.run(["seal", "--quiet", "--vault", s.path("src"), s.path(folder)], passphrase: sourcePass)
        #expect(r.status == 0, "seal \(folder): \(r.stderr)")
    }

    /// `coffer copy ARGS` from `src` into the default vault, the source passphrase in COFFER_FROM_PASSPHRASE.
    static func copy(_ s: Scratch, _ args: [String], environment: [String: String] = [:]) throws -> RunResult {
        var env = ["COFFER_FROM_PASSPHRASE": sourcePass]
        for (k, v) in environment { env[k] = v }
        return try s.run(["copy", "--from-vault", s.path("src")] + args, environment: env)
    }

    /// `list --json` of a vault: (id, name) newest first.
    static func versions(_ s: Scratch, vault: String? = nil, passphrase: String? = nil) throws -> [(id: String, name: String, notes: [String])] {
        let r = try s.run(["list", "--json"] + (vault.map { ["--vault", $0] } ?? []), passphrase: passphrase)
        #expect(r.status == 0, "\(r.stderr)")
        return ((try? r.json() as? [[String: Any]]) ?? []).map { ($0["id"] as? String ?? "", $0["name"] as? String ?? "", $0["notes"] as? [String] ?? []) }
    }

    /// Every file under the vault folder with its size (what a no-op must leave as it was).
    static func files(_ root: String) -> [String: Int] {
        var out: [String: Int] = [:]
        let e = FileManager.default.enumerator(atPath: root)
        while let p = e?.nextObject() as? String {
            if p.hasPrefix("locks") { continue }
            var st = stat()
            if lstat(root + "/" + p, &st) == 0, st.st_mode & S_IFMT == S_IFREG { out[p] = Int(st.st_size) }
        }
        return out
    }

    /// Restores `id` from `vault` into `dir` and requires success.
    static func restore(_ s: Scratch, _ id: String, to dir: String, vault: String? = nil, passphrase: String? = nil) throws {
        let r = try s.run(["restore", id, "--to", dir] + (vault.map { ["--vault", $0] } ?? []), passphrase: passphrase)
        #expect(r.status == 0, "restore \(id): \(r.stderr)")
    }

    /// `diff -r` of two restored trees: equal names (bytes), types, link targets and contents.
    static func same(_ a: String, _ b: String) throws -> Bool {
        let r = try Scratch.shell(["/usr/bin/diff", "-r", "--no-dereference", a, b])
        if r.status != 0 { Issue.record("diff: \(r.stdout) \(r.stderr)") }
        return r.status == 0
    }

    @Test("copy with no selector copies every version; each restores byte for byte as its source; check --read-data is clean")
    func copiesEverything() throws {
        let s = try Self.setUp()
        let r = try Self.copy(s, ["--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try r.json() as? [String: Any]
        #expect((json?["copied"] as? [Any])?.count == 3)
        #expect((json?["skipped"] as? [Any])?.count == 0)
        let source = try Self.versions(s, vault: s.path("src"), passphrase: Self.sourcePass)
        let target = try Self.versions(s)
        #expect(target.count == 3)
        #expect(Set(target.map(\.name)) == ["docs", "pics"])
        // Each target version names its source; they restore to the same bytes.
        for t in target {
            let note = try #require(t.notes.last { $0.hasPrefix("copied from version ") })
            let src = try #require(source.first { note.contains($0.id) })
            try Self.restore(s, src.id, to: s.path("out-src-\(t.id)"), vault: s.path("src"), passphrase: Self.sourcePass)
            try Self.restore(s, t.id, to: s.path("out-dst-\(t.id)"))
            #expect(try Self.same(s.path("out-src-\(t.id)"), s.path("out-dst-\(t.id)")))
        }
        // The name that is not UTF-8 came across as its bytes.
        let latest = try #require(target.first { $0.name == "docs" })
        let odd = [UInt8](s.path("out-dst-\(latest.id)/docs/").utf8) + [0x6E, 0xFF]
        var st = stat()
        #expect((odd + [0]).withUnsafeBytes { lstat($0.baseAddress!.assumingMemoryBound(to: CChar.self), &st) } == 0)
        let check = try s.run(["check", "--read-data"])
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
    }

    @Test("every kind of entry (a zip sealed member by member, a hard link, a fifo, xattrs, a long name, a device as root) restores from the copy as from its source")
    func everyKindOfEntry() throws {
        guard let s = try DumpTests().sealed() else { return }
        let target = s.path("target")
        let other = "the target's own passphrase"
        #expect(try s.run(["init", "--quiet", "--vault", target], passphrase: other).status == 0)
        let r = try s.run(["copy", "--vault", target, "--from-vault", s.vault], passphrase: other, environment: ["COFFER_FROM_PASSPHRASE": s.passphrase])
        #expect(r.status == 0, "\(r.stderr)")
        try Self.restore(s, "data@latest", to: s.path("out-src"))
        try Self.restore(s, "data@latest", to: s.path("out-dst"), vault: target, passphrase: other)
        #expect(try DumpTests.compareTrees(s.path("out-src/data"), s.path("out-dst/data")) == "")
        // The zip's layout came across with the target's ids: its members list and read.
        let ls = try s.run(["ls", "--vault", target, "data@latest"], passphrase: other)
        #expect(ls.stdout.contains("data/Export.zip/Connections.csv"), "\(ls.stdout)")
        let member = try s.run(["cat", "--vault", target, "data@latest", "data/Export.zip/Connections.csv"], passphrase: other)
        let original = try s.run(["cat", "data@latest", "data/Export.zip/Connections.csv"])
        #expect(member.status == 0 && !member.stdoutData.isEmpty && member.stdoutData == original.stdoutData, "\(member.stderr)")
        let check = try s.run(["check", "--read-data", "--vault", target], passphrase: other)
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
    }

    @Test("a version copied in a later run gets the earlier copy of its source parent as parent")
    func parentAcrossRuns() throws {
        let s = try Self.setUp()
        #expect(try Self.copy(s, ["docs@-1"]).status == 0)
        #expect(try Self.copy(s, ["docs@latest"]).status == 0)
        let docs = try Self.versions(s).filter { $0.name == "docs" }
        #expect(docs.count == 2)
        let r = try s.run(["list", "--json"])
        let rows = (try r.json() as? [[String: Any]]) ?? []
        let newest = try #require(rows.first { ($0["id"] as? String) == docs.first?.id })
        #expect(newest["parent"] as? String == docs.last?.id, "\(newest)")
    }

    @Test("copy NAME copies that series only; copy again skips everything and leaves the target's files as they were")
    func oneSeriesThenAgain() throws {
        let s = try Self.setUp()
        let r = try Self.copy(s, ["docs"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Copied 2 versions"))
        #expect(try Self.versions(s).map(\.name) == ["docs", "docs"])
        let before = Self.files(s.vault)
        let again = try Self.copy(s, ["docs", "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        let json = try again.json() as? [String: Any]
        #expect((json?["copied"] as? [Any])?.count == 0)
        #expect((json?["skipped"] as? [Any])?.count == 2)
        #expect(Self.files(s.vault) == before)
        // The rest comes over later; docs is skipped.
        let rest = try Self.copy(s, [])
        #expect(rest.status == 0, "\(rest.stderr)")
        #expect(rest.stdout.contains("Copied 1 version") && rest.stdout.contains("2 already there"), "\(rest.stdout)")
        #expect(try Self.versions(s).count == 3)
    }

    @Test("a copy sharing data with a version already copied adds only the new data")
    func deduplicates() throws {
        let s = try Self.setUp()
        let first = try Self.copy(s, ["docs@-1", "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let sizeAfterFirst = Self.files(s.vault + "/packs").values.reduce(0, +)
        #expect(sizeAfterFirst > 3 << 20)
        let second = try Self.copy(s, ["docs@latest", "--json"])
        #expect(second.status == 0, "\(second.stderr)")
        let copied = try #require((try second.json() as? [String: Any])?["copied"] as? [[String: Any]])
        #expect(copied.count == 1)
        let addedPlain = copied.first?["added_plain_bytes"] as? Int ?? -1
        // New: the 100 kB file and the changed text; the 3 MiB file is already there.
        #expect(addedPlain >= 100_000 && addedPlain < 200_000, "added \(addedPlain)")
        let growth = Self.files(s.vault + "/packs").values.reduce(0, +) - sizeAfterFirst
        #expect(growth < 400_000, "the target grew by \(growth) bytes")
        // The 3 MiB file's chunks (hundreds, at the small tier's 8 KiB average) were mapped from
        // the parent's copy, not read again: only the changed and the new file's chunks were.
        let read = copied.first?["chunks_read"] as? Int ?? -1
        #expect(read >= 2 && read < 60, "\(read) chunks read")
        let check = try s.run(["check", "--read-data"])
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        try Self.restore(s, "docs@latest", to: s.path("out-dst"))
        try Self.restore(s, "docs@latest", to: s.path("out-src"), vault: s.path("src"), passphrase: Self.sourcePass)
        #expect(try Self.same(s.path("out-src"), s.path("out-dst")))
    }

    @Test("a wrong source passphrase: exit 12, one line naming the source, the target untouched")
    func wrongSourcePassphrase() throws {
        let s = try Self.setUp()
        let before = Self.files(s.vault)
        try s.write("wrong", "not the passphrase\n")
        let r = try s.run(["copy", "--from-vault", s.path("src"), "--from-passphrase-file", s.path("wrong")])
        #expect(r.status == 12)
        #expect(r.stderr.contains("wrong passphrase for source vault") && r.stderr.contains("--from-passphrase-file"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(Self.files(s.vault) == before)
        #expect(try Self.versions(s).isEmpty)
    }

    @Test("the target's passphrase is never used for the source: COFFER_PASSPHRASE alone does not open it")
    func sourcePassphraseIsItsOwn() throws {
        let s = try Self.setUp()
        // No source passphrase given: the target's COFFER_PASSPHRASE is not tried for the source
        // (the prompt, with no terminal, fails); nothing is copied.
        let none = try s.run(["copy", "--from-vault", s.path("src")])
        #expect(none.status != 0)
        #expect(!none.stderr.contains("wrong passphrase"), "\(none.stderr)")
        #expect(try Self.versions(s).isEmpty)
        let r = try s.run(["copy", "--from-vault", s.path("src"), "--from-passphrase-command", "echo '\(Self.sourcePass)'"])
        #expect(r.status == 0, "\(r.stderr)")
        try s.write("srcpass", Self.sourcePass + "\n")
        let s2 = try s.run(["copy", "--from-vault", s.path("src"), "--json"], environment: ["COFFER_FROM_PASSPHRASE_FILE": s.path("srcpass")])
        #expect(s2.status == 0, "\(s2.stderr)")
        #expect(((try s2.json() as? [String: Any])?["skipped"] as? [Any])?.count == 3)
    }

    @Test("killed after a version's packs and index are written: the target checks clean with --read-data, and copy again finishes")
    func interrupted() throws {
        let s = try Self.setUp()
        let r = try Self.copy(s, [], environment: ["COFFER_TESTONLY_COPY_KILL": "1"])
        #expect(r.status == 128 + SIGKILL, "\(r.status) \(r.stderr)")
        #expect(Self.files(s.vault + "/packs").count > 0)  // the first version's data is there, unreferenced
        #expect(try Self.versions(s).isEmpty)
        let check = try s.run(["check", "--read-data"])
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        let again = try Self.copy(s, [])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Self.versions(s).count == 3)
        let check2 = try s.run(["check", "--read-data"])
        #expect(check2.status == 0, "\(check2.stdout) \(check2.stderr)")
    }

    @Test("a format-1 source is copied as format-2 versions; a format-1 target is refused with one line")
    func formatOne() throws {
        let s = try Scratch()
        try s.initVault()
        try UpgradeTortureTests.createFormatOne(s, at: s.path("src"))
        try s.write("old/a.txt", "format one\n")
        try s.write("old/sub/b.bin", pseudoRandomBytes(count: 150_000, seed: 3))
        let seal = try s.run(["seal", "--quiet", "--vault", s.path("src"), s.path("old")])
        #expect(seal.status == 0, "\(seal.stderr)")
        let r = try s.run(["copy", "--from-vault", s.path("src"), "--json"], environment: ["COFFER_FROM_PASSPHRASE": s.passphrase])
        #expect(r.status == 0, "\(r.stderr)")
        let src = try #require(try Self.versions(s, vault: s.path("src")).first)
        let dst = try #require(try Self.versions(s).first)
        try Self.restore(s, src.id, to: s.path("out-src"), vault: s.path("src"))
        try Self.restore(s, dst.id, to: s.path("out-dst"))
        #expect(try Self.same(s.path("out-src"), s.path("out-dst")))
        #expect(try s.run(["check", "--read-data"]).status == 0)
        // Again: the format-2 copy is recognised as the format-1 version's (the digest does not
        // depend on the format).
        let again = try s.run(["copy", "--from-vault", s.path("src"), "--json"], environment: ["COFFER_FROM_PASSPHRASE": s.passphrase])
        #expect(((try again.json() as? [String: Any])?["skipped"] as? [Any])?.count == 1, "\(again.stdout) \(again.stderr)")
        // Into a format-1 vault: refused.
        try UpgradeTortureTests.createFormatOne(s, at: s.path("old-target"))
        let refused = try s.run(["copy", "--vault", s.path("old-target"), "--from-vault", s.vault], environment: ["COFFER_FROM_PASSPHRASE": s.passphrase])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("format-1 vault") && refused.stderr.contains("coffer upgrade"), "\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1)
    }

    @Test("copy --help names the source options and the skip rule")
    func help() throws {
        let s = try Scratch()
        let r = try s.run(["copy", "--help"])
        #expect(r.status == 0)
        for text in ["--from-vault", "--from-passphrase-file", "--from-passphrase-command", "COFFER_FROM_PASSPHRASE", "--dry-run", "same name, time, host"] {
            #expect(r.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ").contains(text), "missing \(text)")
        }
    }
}
