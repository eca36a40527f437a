import Foundation
import Testing

/// `--json` output parses and holds the documented fields.
@Suite("JSON output")
struct JSONTests {
    @Test("seal, list, ls, status and restore --json parse")
    func jsonParses() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("a/one.txt", "one")
        let seal1 = try s.ok(["seal", "--json", s.path("a"), "--time", "2026-01-15T10:00:00Z", "--tag", "x"])
        let v1 = try #require(try seal1.json() as? [String: Any])
        for key in ["id", "short_id", "name", "time", "host", "tags", "paths", "files", "dirs", "bytes", "added_bytes", "added_chunks",
                    "unchanged_files", "notes", "duration_seconds", "unreadable"] {
            #expect(v1[key] != nil, "seal --json lacks \(key)")
        }
        #expect(v1["name"] as? String == "a")
        #expect(v1["time"] as? String == "2026-01-15T10:00:00Z")
        #expect(v1["files"] as? Int == 1)
        #expect(v1["bytes"] as? Int == 3)
        #expect(v1["tags"] as? [String] == ["x"])
        let id1 = try #require(v1["id"] as? String)
        #expect(id1.count == 64)

        try s.write("a/two.txt", "two")
        let seal2 = try s.ok(["seal", "--json", s.path("a"), "--time", "2026-02-15T10:00:00Z"])
        let id2 = try #require((try seal2.json() as? [String: Any])?["id"] as? String)

        let list = try #require(try s.ok(["list", "--json"]).json() as? [[String: Any]])
        #expect(list.map { $0["id"] as? String } == [id2, id1], "newest first")
        let named = try #require(try s.ok(["list", "a", "--json"]).json() as? [[String: Any]])
        #expect(named.count == 2)

        let ls = try #require(try s.ok(["ls", "--json", String(id2.prefix(8))]).json() as? [String: Any])
        #expect(ls["id"] as? String == id2)
        let entries = try #require(ls["entries"] as? [[String: Any]])
        #expect(entries.map { $0["path"] as? String } == ["a", "a/one.txt", "a/two.txt"])
        #expect(entries[1]["sha256"] as? String == "7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed")

        let status = try #require(try s.ok(["status", "--json"]).json() as? [String: Any])
        #expect(status["versions"] as? Int == 2)
        #expect((status["storage_bytes"] as? Int ?? 0) > 0)
        #expect(status["names"] as? [[String: Any]] != nil)

        let restore = try #require(try s.ok(["restore", "--json", "a@-1", "--to", s.path("out")]).json() as? [String: Any])
        #expect(restore["files"] as? Int == 1)
        #expect(restore["id"] as? String == id1)
    }

    @Test("list --json of an empty vault is an empty array")
    func emptyList() throws {
        let s = try Scratch()
        try s.initVault()
        let r = try s.ok(["list", "--json"])
        #expect((try r.json() as? [Any])?.isEmpty == true)
    }
}
