import Foundation
import Testing

/// `coffer forget` end to end.
@Suite("ForgetCommand")
struct ForgetCommandTests {
    /// docs: one, one, two, two (2025-01-01 … 04); photos: two versions.
    static func vaultWithVersions() throws -> Scratch {
        let s = try Scratch()
        try s.initVault()
        for (day, text) in [(1, "one"), (2, "one"), (3, "two"), (4, "two")] {
            try s.write("in/docs/a.txt", text + "\n")
            try s.ok(["seal", s.path("in/docs"), "--time", "2025-01-0\(day)T12:00:00Z", "--quiet"])
        }
        for day in [1, 2] {
            try s.write("in/photos/p.txt", "photo \(day)\n")
            try s.ok(["seal", s.path("in/photos"), "--time", "2025-02-0\(day)T12:00:00Z", "--tag", day == 1 ? "best" : "other", "--quiet"])
        }
        return s
    }

    static func versions(_ s: Scratch) throws -> [[String: Any]] {
        try #require(try s.ok(["list", "--json"]).json() as? [[String: Any]])
    }

    @Test("--dry-run shows the plan and changes nothing")
    func dryRun() throws {
        let s = try Self.vaultWithVersions()
        let r = try s.run(["forget", "--keep-last", "1", "--dry-run"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("docs: keep 1, remove 3"))
        #expect(r.stdout.contains("photos: keep 1, remove 1"))
        #expect(r.stdout.contains("last 1"))
        #expect(r.stdout.contains("no rule keeps it"))
        #expect(r.stdout.contains("Dry run: would remove 4 versions of 2 names"))
        #expect(try Self.versions(s).count == 6)
    }

    @Test("--keep-distinct collapses identical versions; --json; names restrict the policy")
    func keepDistinct() throws {
        let s = try Self.vaultWithVersions()
        let r = try s.run(["forget", "docs", "--keep-distinct", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try r.json() as? [String: Any])
        #expect(json["removed"] as? Int == 2)
        #expect(json["kept"] as? Int == 2)
        #expect(json["dry_run"] as? Bool == false)
        #expect(json["prune"] is NSNull)
        let entries = try #require(json["versions"] as? [[String: Any]])
        #expect(entries.map { $0["name"] as? String } == ["docs", "docs", "docs", "docs"])
        #expect(entries.map { $0["action"] as? String } == ["remove", "keep", "remove", "keep"])
        let reasons = entries.compactMap { ($0["reasons"] as? [String])?.first }
        #expect(reasons[0].hasPrefix("identical to ") && reasons[0].hasSuffix(" (distinct)"))
        #expect(reasons[1] == "distinct")

        let left = try Self.versions(s)
        #expect(left.count == 4)
        #expect(left.filter { $0["name"] as? String == "docs" }.compactMap { $0["time"] as? String }.sorted() == [
            "2025-01-01T12:00:00Z", "2025-01-03T12:00:00Z",
        ])
    }

    @Test("per name, the union of rules; --prune reclaims the space")
    func unionAndPrune() throws {
        let s = try Self.vaultWithVersions()
        let r = try s.run(["forget", "--keep-last", "1", "--keep-tag", "best", "--prune", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try r.json() as? [String: Any])
        #expect(json["removed"] as? Int == 3)
        let prune = try #require(json["prune"] as? [String: Any])
        #expect((prune["version_files_deleted"] as? Int ?? 0) == 3)
        let left = try Self.versions(s)
        #expect(left.count == 3)
        #expect(Set(left.compactMap { $0["time"] as? String }) == ["2025-01-04T12:00:00Z", "2025-02-01T12:00:00Z", "2025-02-02T12:00:00Z"])
        let cat = try s.run(["cat", "docs", "docs/a.txt"])
        #expect(cat.stdout == "two\n")
    }

    @Test("refusals: no rule (64), bad duration (64), a rule that keeps nothing of a name (1), an unknown name (1)")
    func refusals() throws {
        let s = try Self.vaultWithVersions()
        let none = try s.run(["forget"])
        #expect(none.status == 64)
        #expect(none.stderr.contains("no retention rule"))
        #expect(try s.run(["forget", "--keep-within", "2x"]).status == 64)
        #expect(try s.run(["forget", "--keep-last", "-1"]).status == 64)

        let all = try s.run(["forget", "--keep-tag", "best"])
        #expect(all.status == 1)
        #expect(all.stderr.contains("refusing to remove all 4 versions of 'docs'"))
        #expect(try s.run(["forget", "nope", "--keep-last", "1"]).status == 1)
        #expect(try Self.versions(s).count == 6)
    }

    @Test("--keep-within is measured from each name's newest version")
    func keepWithin() throws {
        let s = try Self.vaultWithVersions()
        let r = try s.run(["forget", "--keep-within", "1d", "--keep-tag", "best"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("within 1d"))
        // docs: only 01-04 (01-03 is exactly one day before: not within); photos: 02-02 and 02-01 (tag).
        #expect(Set(try Self.versions(s).compactMap { $0["time"] as? String }) == [
            "2025-01-04T12:00:00Z", "2025-02-01T12:00:00Z", "2025-02-02T12:00:00Z",
        ])
    }
}
