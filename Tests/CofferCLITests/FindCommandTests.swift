import Foundation
import Testing

/// `coffer find`: patterns on base names and paths, version and time filters, archive members,
/// raw-byte names, and the cache of folders with no match.
@Suite("Find command")
struct FindCommandTests {
    /// Two versions of `in`: a.txt and docs/notes.md, then also docs/b.txt.
    private func twoVersions() throws -> Scratch {
        let s = try Scratch()
        try s.initVault()
        try s.write("in/a.txt", "alpha\n")
        try s.write("in/docs/notes.md", "# notes\n")
        try s.ok(["seal", s.path("in"), "--quiet"])
        try s.write("in/docs/b.txt", "beta\n")
        try s.ok(["seal", s.path("in"), "--quiet"])
        return s
    }

    private func matches(_ r: RunResult) throws -> [[String]] {
        let doc = try #require(try r.json() as? [String: Any])
        let versions = try #require(doc["versions"] as? [[String: Any]])
        return versions.map { v in ((v["matches"] as? [[String: Any]]) ?? []).compactMap { $0["path"] as? String } }
    }

    @Test("a pattern without / matches base names at any depth, in every version that holds them, newest first")
    func baseNames() throws {
        let s = try twoVersions()
        let r = try s.ok(["find", "*.txt", "--json"])
        #expect(try matches(r) == [["in/a.txt", "in/docs/b.txt"], ["in/a.txt"]])
        let doc = try #require(try r.json() as? [String: Any])
        #expect(doc["searched"] as? Int == 2)
        let first = try #require((doc["versions"] as? [[String: Any]])?.first?["matches"] as? [[String: Any]])
        #expect(first[0]["type"] as? String == "file" && first[0]["size"] as? Int == 6)
        // A folder's name selects the folder, not what is below it.
        #expect(try matches(try s.ok(["find", "docs", "--json"])) == [["in/docs"], ["in/docs"]])
        // The human listing: a header per version, then type, size, time and path.
        let text = try s.ok(["find", "b.txt"])
        #expect(text.stdout.contains("Found in ") && text.stdout.contains(" in (") , "\(text.stdout)")
        #expect(text.stdout.contains("  f ") && text.stdout.contains("in/docs/b.txt"), "\(text.stdout)")
        #expect(text.stdout.contains("1 match in 1 of 2 versions."), "\(text.stdout)")
        let none = try s.ok(["find", "*.pdf"])
        #expect(none.stdout.contains("No matches in 2 versions."), "\(none.stdout)")
    }

    @Test("a pattern with / matches whole paths as restore --include does; ! takes back; -i ignores case")
    func pathPatterns() throws {
        let s = try twoVersions()
        #expect(try matches(try s.ok(["find", "/in/docs", "--json", "--name", "in"]))[0] == ["in/docs", "in/docs/b.txt", "in/docs/notes.md"])
        #expect(try matches(try s.ok(["find", "docs/*.md", "--json"])) == [["in/docs/notes.md"], ["in/docs/notes.md"]])
        #expect(try matches(try s.ok(["find", "*.txt", "!a.txt", "--json"])) == [["in/docs/b.txt"]])
        #expect(try matches(try s.ok(["find", "-i", "A.TXT", "--json"])) == [["in/a.txt"], ["in/a.txt"]])
        // An anchored pattern that cannot match below a folder: none of it is reported.
        #expect(try matches(try s.ok(["find", "/other/**", "--json"])).isEmpty)
        let bad = try s.run(["find", "[a-"])
        #expect(bad.status == 64, "\(bad.stderr)")
        #expect(bad.stderr.split(separator: "\n").count == 1, "\(bad.stderr)")
    }

    @Test("--name and --host select versions; --oldest and --newest select by modification time")
    func filters() throws {
        let s = try twoVersions()
        try s.write("other/c.txt", "gamma\n")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 946_684_800)], ofItemAtPath: s.path("other/c.txt"))
        try s.ok(["seal", s.path("other"), "--quiet"])
        #expect(try matches(try s.ok(["find", "*.txt", "--name", "other", "--json"])) == [["other/c.txt"]])
        #expect(try matches(try s.ok(["find", "*.txt", "--newest", "2001-01-01", "--json"])) == [["other/c.txt"]])
        #expect(try matches(try s.ok(["find", "c.txt", "--oldest", "2001-01-01", "--json"])).isEmpty)
        #expect(try matches(try s.ok(["find", "*.txt", "--host", "no-such-host", "--json"])).isEmpty)
        let list = try #require(try s.ok(["list", "--json"]).json() as? [[String: Any]])
        let host = try #require(list.first?["host"] as? String)
        #expect(try matches(try s.ok(["find", "c.txt", "--host", host, "--json"])) == [["other/c.txt"]])
        let unknown = try s.run(["find", "*", "--name", "nothing"])
        #expect(unknown.status != 0 && unknown.stderr.contains("nothing"), "\(unknown.stderr)")
        let badTime = try s.run(["find", "*", "--newest", "yesterday"])
        #expect(badTime.status == 64, "\(badTime.stderr)")
    }

    @Test("names are bytes: a name that is not UTF-8 is matched by ? and given exactly as path_bytes")
    func rawBytes() throws {
        let s = try Scratch()
        try s.initVault()
        let dir = s.path("raw")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let name: [UInt8] = Array((dir + "/x").utf8) + [0xFF] + Array(".bin".utf8)
        let fd = name.withUnsafeBufferPointer { b -> Int32 in
            var z = Array(b)
            z.append(0)
            return z.withUnsafeBufferPointer { open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_CREAT | O_WRONLY, 0o644) }
        }
        #expect(fd >= 0)
        close(fd)
        try s.ok(["seal", dir, "--quiet"])
        let r = try s.ok(["find", "x?.bin", "--json"])
        let doc = try #require(try r.json() as? [String: Any])
        let m = try #require(((doc["versions"] as? [[String: Any]])?.first?["matches"] as? [[String: Any]])?.first)
        let base64 = try #require(m["path_bytes"] as? String)
        let bytes = try #require(Data(base64Encoded: base64))
        #expect(Array(bytes) == Array("raw/x".utf8) + [0xFF] + Array(".bin".utf8))
        let text = try s.ok(["find", "x?.bin"])
        #expect(text.stdout.contains("raw/x\\xff.bin"), "\(text.stdout)")
    }

    @Test("--members searches inside sealed zips by member name; without it the archive is one file")
    func members() throws {
        guard let zip = Binaries.tool("zip") else { return }
        let s = try Scratch()
        try s.initVault()
        try s.write("zipwork/report.csv", "a,b\n1,2\n")
        try s.write("zipwork/readme.txt", "read me\n")
        try FileManager.default.createDirectory(atPath: s.path("in"), withIntermediateDirectories: true)
        let z = try Scratch.shell([zip, "-q", "-X", "-j", s.path("in/export.zip"), s.path("zipwork/report.csv"), s.path("zipwork/readme.txt")])
        #expect(z.status == 0, "\(z.stderr)")
        try s.ok(["seal", s.path("in"), "--quiet"])
        #expect(try matches(try s.ok(["find", "*.csv", "--json"])).isEmpty)
        #expect(try matches(try s.ok(["find", "*.csv", "--members", "--json"])) == [["in/export.zip/report.csv"]])
        let archive = try s.ok(["find", "*.zip", "--json"])
        let m = try #require(((try archive.json() as? [String: Any])?["versions"] as? [[String: Any]])?.first?["matches"] as? [[String: Any]])
        #expect(m.first?["type"] as? String == "archive")
    }

    @Test("identical folders in later versions are not read again, and their matches are still reported")
    func cache() throws {
        let s = try Scratch()
        try s.initVault()
        for d in 0..<6 {
            for f in 0..<5 { try s.write("in/d\(d)/f\(f).dat", "\(d) \(f)\n") }
        }
        try s.write("in/d3/wanted.txt", "here\n")
        for i in 0..<4 {
            try s.write("in/top\(i).dat", "\(i)\n")
            try s.ok(["seal", s.path("in"), "--quiet"])
        }
        let r = try s.run(["find", "wanted.txt", "--json"], environment: ["COFFER_FIND_STATS": "1"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try matches(r) == Array(repeating: ["in/d3/wanted.txt"], count: 4))
        // Version 1 reads all 6 folders; versions 2 to 4 take each of them from memory, the one
        // with the match included.
        #expect(r.stderr.contains("18 folders from memory"), "\(r.stderr)")
        let all = try s.run(["find", "*.dat", "--json"], environment: ["COFFER_FIND_STATS": "1"])
        #expect(try matches(all).map(\.count) == [34, 33, 32, 31], "each version's top files and the 30 in its folders")
        let uncached = try s.run(["find", "*.dat", "--json"], environment: ["COFFER_FIND_STATS": "nocache"])
        #expect(try matches(uncached) == (try matches(all)))
        #expect(uncached.stderr.contains(" 0 folders from memory"), "\(uncached.stderr)")
    }
}
