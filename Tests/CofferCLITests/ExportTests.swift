import Foundation
import Testing

/// Export-aware behaviour through the command: zips member by member, names and dates from the
/// file name, expand, member cat, and diffs.
@Suite("Exports")
struct ExportTests {
    /// Three monthly synthetic LinkedIn exports sealed without --name, in a fresh vault.
    func sealedSeries() throws -> (Scratch, [String])? {
        guard let generator = Binaries.exportGenerator else {
            Issue.record("export-generator is not built next to coffer")
            return nil
        }
        let s = try Scratch()
        let gen = try Scratch.shell([generator, "--out", s.path("exports"), "--months", "3", "--seed", "4", "--quiet"])
        #expect(gen.status == 0, "\(gen.stderr)")
        let zips = try FileManager.default.contentsOfDirectory(atPath: s.path("exports")).filter { $0.hasSuffix(".zip") }.sorted()
        #expect(zips == ["Basic_LinkedInDataExport_01-15-2025.zip", "Basic_LinkedInDataExport_02-14-2025.zip", "Basic_LinkedInDataExport_03-16-2025.zip"])
        try s.initVault()
        for z in zips { try s.ok(["seal", s.path("exports/" + z)]) }
        return (s, zips)
    }

    @Test("an export's name and date come from its file name; later exports cost a fraction")
    func namesDatesAndDedup() throws {
        guard let (s, zips) = try sealedSeries() else { return }
        let r = try s.ok(["list", "--json"])
        let list = try #require(try JSONSerialization.jsonObject(with: r.stdoutData) as? [[String: Any]])
        #expect(list.count == 3)
        #expect(list.allSatisfy { $0["name"] as? String == "Basic_LinkedInDataExport" })
        #expect(list.map { ($0["time"] as? String ?? "").prefix(10) } == ["2025-03-16", "2025-02-14", "2025-01-15"])
        // Each later export adds less than its zip's size: unchanged members cost nothing.
        for (k, v) in list.dropLast().enumerated() {
            let zipSize = try s.read("exports/" + zips[2 - k]).count
            let added = try #require(v["added_bytes"] as? Int)
            #expect(added < zipSize, "\(zips[2 - k]): added \(added) of \(zipSize)")
        }
        let status = try s.ok(["status"])
        #expect(status.stdout.contains("Basic_LinkedInDataExport"))
    }

    @Test("a zip comes back byte for byte, or expanded; ls and cat see its members")
    func restoreExpandLsCat() throws {
        guard let (s, zips) = try sealedSeries() else { return }
        try s.ok(["restore", "Basic_LinkedInDataExport@2025-01-15", "--to", s.path("out")])
        #expect(try s.read("out/" + zips[0]) == s.read("exports/" + zips[0]))
        try s.ok(["restore", "Basic_LinkedInDataExport@-1", "--to", s.path("expanded"), "--expand"])
        let folder = "expanded/Basic_LinkedInDataExport_02-14-2025"
        let unzip = try Scratch.shell(["/usr/bin/python3", "-c", """
            import zipfile, sys
            z = zipfile.ZipFile(sys.argv[1])
            bad = [n for n in z.namelist() if open(sys.argv[2] + '/' + n, 'rb').read() != z.read(n)]
            print(len(z.namelist()), bad)
            """, s.path("exports/" + zips[1]), s.path(folder)])
        #expect(unzip.status == 0, "\(unzip.stderr)")
        #expect(unzip.stdout.hasSuffix(" []\n"), "members differ: \(unzip.stdout)")
        let ls = try s.ok(["ls", "Basic_LinkedInDataExport@latest", "--long"])
        #expect(ls.stdout.contains(zips[2] + "/Connections.csv"))
        #expect(ls.stdout.contains(zips[2] + "/messages.csv"))
        let zipSHA = try Scratch.shell(["/usr/bin/sha256sum", s.path("exports/" + zips[2])]).stdout.prefix(64)
        #expect(ls.stdout.contains(String(zipSHA)), "ls --long shows the zip's SHA-256")
        let cat = try s.ok(["cat", "Basic_LinkedInDataExport@latest", zips[2] + "/Connections.csv"])
        #expect(cat.stdoutData.starts(with: Array("Notes:".utf8)))
    }

    @Test("diff lists changed members and, with --records, the rows")
    func diffFilesAndRecords() throws {
        guard let (s, _) = try sealedSeries() else { return }
        let files = try s.ok(["diff", "Basic_LinkedInDataExport@-1", "Basic_LinkedInDataExport@latest"])
        #expect(files.stdout.contains("comparing Basic_LinkedInDataExport_02-14-2025.zip with Basic_LinkedInDataExport_03-16-2025.zip"))
        #expect(files.stdout.contains("M Basic_LinkedInDataExport_03-16-2025.zip/Connections.csv"))
        #expect(!files.stdout.contains("Profile.csv"), "an unchanged member is not listed")
        let human = try s.ok(["diff", "Basic_LinkedInDataExport@-1", "Basic_LinkedInDataExport@latest", "--records", "Connections.csv"])
        #expect(human.stdout.contains("new connections"))
        let json = try s.ok(["diff", "Basic_LinkedInDataExport@-1", "Basic_LinkedInDataExport@latest", "--records", "--json"])
        let obj = try #require(try JSONSerialization.jsonObject(with: json.stdoutData) as? [String: Any])
        let reports = try #require(obj["files"] as? [[String: Any]])
        let connections = try #require(reports.first { ($0["path"] as? String)?.hasSuffix("/Connections.csv") == true })
        let added = try #require(connections["added"] as? [[String: Any]])
        #expect(!added.isEmpty)
        #expect((added.first?["row"] as? [String: String])?["URL"]?.hasPrefix("https://www.linkedin.com/in/") == true)
        #expect(connections["changed"] is [[String: Any]])
        let unknown = try s.run(["diff", "Basic_LinkedInDataExport@-1", "Basic_LinkedInDataExport@latest", "--records", "Connections.csv", "--key", "Nope"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("Nope"))
        let usage = try s.run(["diff", "Basic_LinkedInDataExport@-1", "Basic_LinkedInDataExport@latest", "--key", "URL"])
        #expect(usage.status == 64)
    }
}
