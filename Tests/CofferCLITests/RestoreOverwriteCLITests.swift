@testable import coffer
import CofferCore
import Foundation
import Testing

/// `coffer restore --overwrite / --delete / --dry-run`.
@Suite("restore into a folder that holds files")
struct RestoreOverwriteCLITests {
    /// A vault with `docs/{a.txt,b.txt}` sealed, restored into `out`, then `out/docs/b.txt`
    /// changed and `out/docs/extra.txt` added.
    private func prepared() throws -> Scratch {
        let s = try Scratch()
        try s.initVault()
        _ = try s.write("docs/a.txt", "alpha")
        _ = try s.write("docs/b.txt", "beta")
        try s.ok(["seal", s.path("docs")])
        try s.ok(["restore", "docs@latest", "--to", s.path("out")])
        _ = try s.write("out/docs/b.txt", "BETA")
        _ = try s.write("out/docs/extra.txt", "extra")
        return s
    }

    @Test("--delete without --overwrite is a usage error, one line")
    func deleteNeedsOverwrite() throws {
        let s = try prepared()
        let r = try s.run(["restore", "docs@latest", "--to", s.path("out"), "--delete"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("--delete needs --overwrite"))
        #expect(try s.read("out/docs/extra.txt") == Array("extra".utf8))
    }

    @Test("--overwrite if-changed --delete: replaces the changed file, keeps the identical one, prints what it removes")
    func ifChangedDelete() throws {
        let s = try prepared()
        var st = stat()
        #expect(lstat(s.path("out/docs/a.txt"), &st) == 0)
        let inode = st.st_ino
        let r = try s.ok(["restore", "docs@latest", "--to", s.path("out"), "--overwrite", "if-changed", "--delete"])
        #expect(try s.read("out/docs/b.txt") == Array("beta".utf8))
        #expect(!s.exists("out/docs/extra.txt"))
        #expect(lstat(s.path("out/docs/a.txt"), &st) == 0 && st.st_ino == inode)
        #expect(r.stderr.contains("removed " + s.path("out/docs/extra.txt")))
        #expect(r.stdout.contains("1 replaced, 1 identical"))
        #expect(r.stdout.contains("1 removed"))
    }

    @Test("--dry-run prints the plan and writes nothing; --json gives it to machines")
    func dryRun() throws {
        let s = try prepared()
        let before = filesUnder(s.path("out"))
        let r = try s.ok(["restore", "docs@latest", "--to", s.path("out"), "--overwrite", "if-changed", "--delete", "--dry-run"])
        #expect(r.stdout.contains("would skip (identical)") && r.stdout.contains("docs/a.txt"))
        #expect(r.stdout.contains("would replace") && r.stdout.contains("docs/b.txt"))
        #expect(r.stdout.contains("would remove") && r.stdout.contains("docs/extra.txt"))
        #expect(r.stdout.contains("nothing was written"))
        #expect(try s.read("out/docs/extra.txt") == Array("extra".utf8))
        #expect(try s.read("out/docs/b.txt") == Array("BETA".utf8))
        #expect(filesUnder(s.path("out")) == before)

        let j = try s.ok(["restore", "docs@latest", "--to", s.path("out"), "--overwrite", "if-changed", "--delete", "--dry-run", "--json"])
        let doc = try #require(try j.json() as? [String: Any])
        #expect(doc["dry_run"] as? Bool == true)
        let plan = try #require(doc["plan"] as? [[String: Any]])
        let actions = Dictionary(plan.map { ($0["path"] as? String ?? "", $0["action"] as? String ?? "") }, uniquingKeysWith: { a, _ in a })
        #expect(actions["docs/a.txt"] == "skip-identical")
        #expect(actions["docs/b.txt"] == "replace")
        #expect(actions["docs/extra.txt"] == "remove")
        let changes = try #require(doc["changes"] as? [String: Any])
        #expect(changes["removed"] as? Int == 1 && changes["replaced"] as? Int == 1 && changes["skipped_identical"] as? Int == 1)
        #expect(try s.read("out/docs/extra.txt") == Array("extra".utf8))

        // A missing folder is not created.
        let missing = try s.ok(["restore", "docs@latest", "--to", s.path("fresh/out"), "--dry-run"])
        #expect(missing.stdout.contains("would write"))
        #expect(!s.exists("fresh"))
    }

    @Test("a plan line carries a name that is not UTF-8 exactly, in base64")
    func planPathBytes() throws {
        let bytes = Array("d/caf".utf8) + [0xE9]
        let data = try JSONEncoder().encode(RestorePathJSON(RestoreEvent(action: .remove, pathBytes: bytes, type: .file)))
        let doc = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(doc["action"] as? String == "remove")
        #expect((doc["path_bytes"] as? String).flatMap { Data(base64Encoded: $0) }.map { Array($0) } == bytes)
        #expect(doc["path"] as? String == "d/caf\u{FFFD}")
    }

    @Test("--force is a hidden alias of --overwrite always; --help shows --overwrite, --delete and --dry-run")
    func forceAndHelp() throws {
        let s = try prepared()
        let help = try s.ok(["restore", "--help"])
        #expect(help.stdout.contains("--overwrite <mode>") && help.stdout.contains("--delete") && help.stdout.contains("--dry-run"))
        #expect(help.stdout.contains("if-changed") && help.stdout.contains("SHA-256"))
        #expect(!help.stdout.contains("  --force"))
        try s.ok(["restore", "docs@latest", "--to", s.path("out"), "--force"])
        #expect(try s.read("out/docs/b.txt") == Array("beta".utf8))
        #expect(try s.read("out/docs/extra.txt") == Array("extra".utf8))
        let both = try s.run(["restore", "docs@latest", "--to", s.path("out"), "--force", "--overwrite", "if-newer"])
        #expect(both.status == 64)
    }
}
