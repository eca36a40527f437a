import Foundation
import Testing

/// Series identity (parents by name, host and paths), list filters and groups, forget by id and
/// by series, and tag, through the binary.
@Suite("SeriesCLI")
struct SeriesCLITests {
    static func list(_ s: Scratch, _ extra: [String] = []) throws -> [[String: Any]] {
        try #require(try s.ok(["list", "--json"] + extra).json() as? [[String: Any]])
    }

    static func sealID(_ s: Scratch, _ args: [String]) throws -> (id: String, stderr: String) {
        let r = try s.ok(["seal", "--json"] + args)
        let json = try #require(try r.json() as? [String: Any])
        return (try #require(json["id"] as? String), r.stderr)
    }

    static func parent(_ s: Scratch, of id: String) throws -> String? {
        try list(s).first { $0["id"] as? String == id }?["parent"] as? String
    }

    @Test("a different path under an existing name: the name, no parent, a warning; diff still works; --parent forces one")
    func parentsMatchPaths() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("a/src/one.txt", "one\n")
        try s.write("b/src/two.txt", "two\n")
        let first = try Self.sealID(s, [s.path("a/src"), "--time", "2025-01-01T12:00:00Z"])
        let again = try Self.sealID(s, [s.path("a/src"), "--time", "2025-01-02T12:00:00Z"])
        #expect(try Self.parent(s, of: again.id) == first.id)
        #expect(!again.stderr.contains("no parent"))

        let other = try Self.sealID(s, [s.path("b/src"), "--time", "2025-01-03T12:00:00Z"])
        #expect(try Self.parent(s, of: other.id) == nil)
        #expect(other.stderr.contains("'src' already names versions of other inputs"), "\(other.stderr)")
        #expect(other.stderr.contains(s.path("a/src")))
        #expect(other.stderr.contains("--name"))
        #expect(try Self.list(s).first { $0["id"] as? String == other.id }?["name"] as? String == "src")

        // diff between the two series still works: one file gone, one added.
        let diff = try s.ok(["diff", again.id, other.id])
        #expect(diff.stdout.contains("one.txt") && diff.stdout.contains("two.txt"), "\(diff.stdout)")

        // The next seal of a/src takes its parent from a/src again, not from the newer b/src.
        let third = try Self.sealID(s, [s.path("a/src"), "--time", "2025-01-04T12:00:00Z"])
        #expect(try Self.parent(s, of: third.id) == again.id)
        // --parent forces one (a prefix works), and no warning then.
        let forced = try Self.sealID(s, [s.path("b/src"), "--parent", String(first.id.prefix(10)), "--time", "2025-01-05T12:00:00Z"])
        #expect(try Self.parent(s, of: forced.id) == first.id)
        #expect(!forced.stderr.contains("no parent"))
        let bad = try s.run(["seal", s.path("b/src"), "--parent", "ffffffffff"])
        #expect(bad.status != 0)
    }

    @Test("an export series (the name from the file name) joins its series without a warning")
    func exportSeriesDoesNotWarn() throws {
        let s = try Scratch()
        try s.initVault()
        let jan = try s.write("dl/Basic_LinkedInDataExport_01-15-2025.zip", "not really a zip, january\n")
        let feb = try s.write("dl/Basic_LinkedInDataExport_02-15-2025.zip", "not really a zip, february\n")
        _ = try Self.sealID(s, [jan])
        let second = try Self.sealID(s, [feb])
        #expect(!second.stderr.contains("already names versions"), "\(second.stderr)")
        #expect(try Self.list(s, ["Basic_LinkedInDataExport"]).count == 2)
    }

    /// Two hosts and two paths, tagged: the filters and groups of `list`.
    static func mixedVault() throws -> Scratch {
        let s = try Scratch()
        try s.initVault()
        try s.write("a/docs/x.txt", "x\n")
        try s.write("b/notes/y.txt", "y\n")
        try s.ok(["seal", s.path("a/docs"), "--tag", "daily", "--time", "2025-01-01T12:00:00Z", "--quiet"])
        try s.ok(["seal", s.path("a/docs"), s.path("b/notes"), "--name", "both", "--tag", "daily", "--tag", "keep", "--time", "2025-01-02T12:00:00Z", "--quiet"])
        try s.ok(["seal", s.path("b/notes"), "--tag", "keep", "--time", "2025-01-03T12:00:00Z", "--quiet"])
        return s
    }

    @Test("list: HOST and PATHS columns; --host, --path (all given), --tag (a,b both; repeated: any)")
    func listFilters() throws {
        let s = try Self.mixedVault()
        let table = try s.ok(["list"]).stdout
        #expect(table.contains("HOST") && table.contains("PATHS"))
        #expect(table.contains("/a/docs"))
        let host = try #require(try Self.list(s).first?["host"] as? String)
        #expect(try Self.list(s, ["--host", host]).count == 3)
        #expect(try Self.list(s, ["--host", "no-such-host"]).isEmpty)
        #expect(try Self.list(s, ["--path", s.path("a/docs")]).compactMap { $0["name"] as? String }.sorted() == ["both", "docs"])
        #expect(try Self.list(s, ["--path", s.path("a/docs"), "--path", s.path("b/notes") + "/"]).compactMap { $0["name"] as? String } == ["both"])
        #expect(try Self.list(s, ["--tag", "daily,keep"]).compactMap { $0["name"] as? String } == ["both"])
        #expect(try Self.list(s, ["--tag", "daily", "--tag", "keep"]).count == 3)
        #expect(try Self.list(s, ["--tag", "keep"]).compactMap { $0["name"] as? String }.sorted() == ["both", "notes"])
        let none = try s.ok(["list", "--tag", "nothing"])
        #expect(none.stdout.contains("No version matches"))
        // JSON has the paths in full.
        let both = try #require(try Self.list(s, ["both"]).first)
        #expect(both["paths"] as? [String] == [s.path("a/docs"), s.path("b/notes")])
        #expect(both["path_bytes"] == nil)
    }

    @Test("list --group-by: one header line per group")
    func listGroups() throws {
        let s = try Self.mixedVault()
        let byPaths = try s.ok(["list", "--group-by", "paths"]).stdout
        #expect(byPaths.split(separator: "\n").filter { $0.hasPrefix("paths ") && $0.hasSuffix("):") }.count == 3, "\(byPaths)")
        #expect(byPaths.contains("paths \(s.path("a/docs")), \(s.path("b/notes")) (1 version):"))
        let byTags = try s.ok(["list", "--group-by", "host,tags"]).stdout
        #expect(byTags.contains(", tags daily (1 version):"))
        #expect(byTags.contains(", tags daily,keep (1 version):"))
        #expect(byTags.contains("host "))
        let bad = try s.run(["list", "--group-by", "colour"])
        #expect(bad.status == 64)
    }

    @Test("forget ID…: exactly those versions; NAME@selector; a bare name is refused; --dry-run")
    func forgetByID() throws {
        let s = try Self.mixedVault()
        let all = try Self.list(s)
        let docs = try #require(all.first { $0["name"] as? String == "docs" }?["id"] as? String)
        let dry = try s.ok(["forget", String(docs.prefix(8)), "notes@latest", "--dry-run"])
        #expect(dry.stdout.contains("Dry run: would remove 2 versions"))
        #expect(try Self.list(s).count == 3)
        let bare = try s.run(["forget", "both"])
        #expect(bare.status != 0)
        #expect(bare.stderr.contains("is a series name"))
        #expect(try Self.list(s).count == 3)
        try s.ok(["forget", String(docs.prefix(8)), "notes@latest"])
        #expect(try Self.list(s).compactMap { $0["name"] as? String } == ["both"])
    }

    @Test("forget NAME --all: refused without a terminal unless --yes; --dry-run; removes the whole series")
    func forgetSeries() throws {
        let s = try Self.mixedVault()
        try s.ok(["seal", s.path("a/docs"), "--time", "2025-01-04T12:00:00Z", "--quiet"])
        let refused = try s.run(["forget", "docs", "--all"])
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("--yes"))
        #expect(refused.stderr.split(separator: "\n").count == 1)
        let dry = try s.ok(["forget", "docs", "--all", "--dry-run"])
        #expect(dry.stdout.contains("would remove 2 versions"))
        #expect(try Self.list(s).count == 4)
        let r = try s.ok(["forget", "docs", "--all", "--yes", "--json"])
        let json = try #require(try r.json() as? [String: Any])
        #expect(json["removed"] as? Int == 2)
        #expect(try Self.list(s).compactMap { $0["name"] as? String }.sorted() == ["both", "notes"])
        #expect(try s.run(["forget", "docs", "--all", "--keep-last", "1"]).status == 64)
        #expect(try s.run(["forget", "nope", "--all", "--yes"]).status != 0)
    }

    @Test("forget NAME --all asks on a terminal: 'n' keeps the series, 'y' removes it")
    func forgetSeriesAsks() throws {
        guard let script = Binaries.tool("script") else { return }  // util-linux script gives the command a terminal
        let s = try Self.mixedVault()
        var env = s.environment
        env["COFFER_VAULT"] = s.vault
        env["COFFER_PASSPHRASE"] = s.passphrase
        func answer(_ reply: String) throws -> RunResult {
            try Scratch.shell(["/bin/sh", "-c", "printf '\(reply)\\n' | '\(script)' -qec \"'\(Binaries.coffer)' forget docs --all\" /dev/null"], environment: env)
        }
        let no = try answer("n")
        #expect(no.stdout.contains("Remove all 1 version of 'docs'? [y/N]"), "\(no.stdout)")
        #expect(no.stdout.contains("not confirmed"))
        #expect(try Self.list(s).count == 3)
        let yes = try answer("y")
        #expect(yes.status == 0, "\(yes.stdout)")
        #expect(yes.stdout.contains("Removed 1 version"))
        #expect(try Self.list(s).compactMap { $0["name"] as? String }.sorted() == ["both", "notes"])
    }

    @Test("tag --add/--remove/--set: a new id with the same content and parent; list shows the tags")
    func tagVersions() throws {
        let s = try Self.mixedVault()
        try s.ok(["seal", s.path("a/docs"), "--time", "2025-01-04T12:00:00Z", "--quiet"])
        let before = try Self.list(s, ["docs"])
        let newest = try #require(before.first)
        let oldID = try #require(newest["id"] as? String)
        let parent = newest["parent"] as? String
        #expect(parent != nil)

        let r = try s.ok(["tag", "docs@latest", "--add", "weekly", "--add", "best", "--json"])
        let out = try #require(try r.json() as? [[String: Any]])
        let newID = try #require(out.first?["new_id"] as? String)
        #expect(newID != oldID)
        let after = try Self.list(s, ["docs"])
        let retagged = try #require(after.first { $0["id"] as? String == newID })
        #expect(retagged["tags"] as? [String] == ["weekly", "best"])
        #expect(retagged["parent"] as? String == parent)
        #expect(retagged["time"] as? String == newest["time"] as? String)
        #expect(retagged["files"] as? Int == newest["files"] as? Int)
        #expect(!after.contains { $0["id"] as? String == oldID })
        #expect(try s.ok(["list", "docs"]).stdout.contains("weekly,best"))

        try s.ok(["tag", String(newID.prefix(8)), "--remove", "weekly"])
        #expect(try Self.list(s, ["docs"]).first?["tags"] as? [String] == ["best"])
        try s.ok(["tag", "docs@latest", "--set", "a", "--set", "b"])
        #expect(try Self.list(s, ["docs"]).first?["tags"] as? [String] == ["a", "b"])
        // Unchanged tags: nothing written, same id.
        let same = try #require(try Self.list(s, ["docs"]).first?["id"] as? String)
        let noop = try s.ok(["tag", "docs@latest", "--add", "a"])
        #expect(noop.stdout.contains("unchanged"))
        #expect(try Self.list(s, ["docs"]).first?["id"] as? String == same)
        // The retagged version restores.
        try s.ok(["restore", "docs@latest", "--to", s.path("out"), "--quiet"])
        #expect(try s.read("out/docs/x.txt") == Array("x\n".utf8))
        #expect(try s.run(["tag", "docs@latest"]).status == 64)
        #expect(try s.ok(["check"]).status == 0)
    }
}
