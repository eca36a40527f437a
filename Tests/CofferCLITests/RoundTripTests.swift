import Foundation
import Testing

/// init, seal, list, ls, restore and cat on the built binary.
@Suite("Round trip")
struct RoundTripTests {
    @Test("init, seal, list, ls, restore and cat give back the same bytes")
    func roundTrip() throws {
        let s = try Scratch()
        let created = try s.run(["init"])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.contains("Created vault"))

        let big = pseudoRandomBytes(count: 700_000, seed: 7)
        try s.write("docs/report.bin", big)
        try s.write("docs/notes/a.txt", "first line\nsecond line\n")
        #expect(symlink("notes/a.txt", s.path("docs/link")) == 0)
        #expect(chmod(s.path("docs/notes/a.txt"), 0o640) == 0)

        let seal = try s.run(["seal", s.path("docs"), "--tag", "first"])
        #expect(seal.status == 0, "\(seal.stderr)")
        // The one-line summary: files, bytes read, bytes added, time.
        #expect(seal.stdout.contains("Sealed "))
        #expect(seal.stdout.contains("2 files"))
        #expect(seal.stdout.contains("read"))
        #expect(seal.stdout.contains("added after dedup and compression"))
        // No progress when stdout is not a terminal.
        #expect(!seal.stderr.contains("\r"))

        let list = try s.ok(["list"])
        #expect(list.stdout.contains("docs"))
        #expect(list.stdout.contains("first"))

        let ls = try s.ok(["ls", "docs@latest"])
        for p in ["docs/report.bin", "docs/notes/a.txt", "docs/link -> notes/a.txt", "-rw-r-----"] {
            #expect(ls.stdout.contains(p), "ls lacks \(p):\n\(ls.stdout)")
        }
        let lsSub = try s.ok(["ls", "docs", "docs/notes", "--long"])
        #expect(lsSub.stdout.contains("docs/notes/a.txt"))
        #expect(!lsSub.stdout.contains("report.bin"))

        let restore = try s.run(["restore", "docs@latest", "--to", s.path("out")])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(try s.read("out/docs/report.bin") == big)
        #expect(try s.read("out/docs/notes/a.txt") == Array("first line\nsecond line\n".utf8))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: s.path("out/docs/link")) == "notes/a.txt")
        var st = stat()
        #expect(stat(s.path("out/docs/notes/a.txt"), &st) == 0 && st.st_mode & 0o777 == 0o640)

        let cat = try s.ok(["cat", "docs@latest", "docs/report.bin"])
        #expect(Array(cat.stdoutData) == big)

        // Only what --include selects.
        try s.ok(["restore", "docs", "--to", s.path("partial"), "--include", "docs/notes"])
        #expect(s.exists("partial/docs/notes/a.txt"))
        #expect(!s.exists("partial/docs/report.bin"))
    }

    @Test("a second seal of unchanged input adds no chunks, only its version and head; --quiet prints nothing")
    func dedupAndQuiet() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("data/x.bin", pseudoRandomBytes(count: 300_000, seed: 1))
        try s.ok(["seal", s.path("data")])
        let again = try s.ok(["seal", s.path("data"), "--quiet"])
        #expect(again.stdout.isEmpty)
        let json = try s.ok(["list", "--json"])
        let versions = try #require(try json.json() as? [[String: Any]])
        #expect(versions.count == 2)
        #expect((versions[0]["added_chunks"] as? Int) == 0)
        // ADDED counts every byte written: the version file and the head, a few hundred bytes.
        let added = versions[0]["added_bytes"] as? Int ?? 0
        #expect(added > 0 && added < 4096, "\(added)")
    }

    @Test("--name defaults to the base name of the first path")
    func defaultName() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("Basic_Export_01-02-2026.zip", "not really a zip")
        let r = try s.ok(["seal", "--json", s.path("Basic_Export_01-02-2026.zip")])
        let obj = try #require(try r.json() as? [String: Any])
        #expect(obj["name"] as? String == "Basic_Export_01-02-2026.zip")
        try s.ok(["seal", "--name", "custom", s.path("Basic_Export_01-02-2026.zip")])
        try s.ok(["ls", "custom@latest"])
    }

    @Test("a synthetic LinkedIn export comes back with the same SHA-256")
    func linkedInExport() throws {
        guard let generator = Binaries.exportGenerator else {
            print("skipped: export-generator is not built next to coffer (swift build --product export-generator)")
            return
        }
        let s = try Scratch()
        let gen = try Scratch.shell([generator, "--out", s.path("exports"), "--months", "2", "--seed", "3"])
        guard gen.status == 0 else {
            Issue.record("export-generator failed: \(gen.stderr)")
            return
        }
        let zips = filesUnder(s.path("exports")).filter { $0.hasSuffix(".zip") }
        #expect(zips.count == 2)
        try s.initVault()
        for z in zips { try s.ok(["seal", s.path("exports/" + z), "--name", "linkedin"]) }
        let first = zips[0]
        try s.ok(["restore", "linkedin@-1", "--to", s.path("restored")])
        #expect(try s.read("restored/" + first) == s.read("exports/" + first))
    }
}
