import Foundation
import Testing

/// Export names as they really come, and `diff --records` as a user sees it, through the binary.
@Suite("Export names and record diffs")
struct RecordNamesCLITests {
    /// A zip holding `members` (name → text), written with Python's zipfile.
    func zip(_ s: Scratch, _ name: String, _ members: [String: String]) throws {
        let spec = members.map { "\($0.key)\u{1}\($0.value)" }.joined(separator: "\u{2}")
        let r = try Scratch.shell(["/usr/bin/python3", "-c", """
            import zipfile, sys
            with zipfile.ZipFile(sys.argv[1], 'w') as z:
                for item in sys.argv[2].split('\\x02'):
                    n, t = item.split('\\x01', 1)
                    z.writestr(n, t)
            """, s.path("in/" + name), spec])
        #expect(r.status == 0, "\(r.stderr)")
    }

    @Test("file names give series and date: X, doubled extensions, copies, any case, one-digit days, Instagram, Facebook")
    func namesThroughBinary() throws {
        let s = try Scratch()
        try s.initVault()
        try FileManager.default.createDirectory(atPath: s.path("in"), withIntermediateDirectories: true)
        let cases: [(file: String, series: String, day: String)] = [
            ("twitter-2022-05-02-1a2b3c4d5e6f7a8b.zip", "twitter", "2022-05-02"),
            ("Basic_LinkedInDataExport_07-11-2023.zip.zip", "Basic_LinkedInDataExport", "2023-07-11"),
            ("Complete_LinkedInDataExport_11-06-2025.zip (1).zip", "Complete_LinkedInDataExport", "2025-11-06"),
            ("Complete_LinkedInDataExport_11-07-2025.zip (2).zip", "Complete_LinkedInDataExport", "2025-11-07"),
            ("basic_linkedindataexport_07-12-2023.zip", "Basic_LinkedInDataExport", "2023-07-12"),
            ("Basic_LinkedInDataExport_7-1-2023.zip", "Basic_LinkedInDataExport", "2023-07-01"),
            ("instagram-jane_doe-2026-01-01-Qw12.zip", "instagram-jane_doe", "2026-01-01"),
            ("facebook-jane.doe-15_03_2024-AbCd1234.zip", "facebook-jane.doe", "2024-03-15"),
        ]
        for c in cases {
            try zip(s, c.file, ["README.txt": "synthetic \(c.file)\n"])
            try s.ok(["seal", s.path("in/" + c.file)])
        }
        let list = try #require(try s.ok(["list", "--json"]).json() as? [[String: Any]])
        let seen = Set(list.map { "\($0["name"] as? String ?? "")@\(($0["time"] as? String ?? "").prefix(10))" })
        for c in cases {
            #expect(seen.contains("\(c.series)@\(c.day)"), "\(c.file) → \(seen.sorted())")
        }
        #expect(list.count == cases.count)
    }

    @Test("Takeout parts sealed together stay one version of series takeout")
    func takeoutParts() throws {
        let s = try Scratch()
        try s.initVault()
        try FileManager.default.createDirectory(atPath: s.path("in"), withIntermediateDirectories: true)
        try zip(s, "takeout-20260101T000000Z-001.zip", ["Takeout/a.txt": "part one\n"])
        try zip(s, "takeout-20260101T000000Z-002.zip", ["Takeout/b.txt": "part two\n"])
        try s.ok(["seal", s.path("in/takeout-20260101T000000Z-001.zip"), s.path("in/takeout-20260101T000000Z-002.zip")])
        let list = try #require(try s.ok(["list", "--json"]).json() as? [[String: Any]])
        #expect(list.count == 1)
        #expect(list.first?["name"] as? String == "takeout")
        #expect((list.first?["time"] as? String)?.hasPrefix("2026-01-01T00:00:00") == true)
        #expect((list.first?["paths"] as? [String])?.count == 2)
    }

    @Test("diff --records data/tweets.js on two generated X archives reports tweets added, removed and changed")
    func xArchiveRecords() throws {
        guard let generator = Binaries.exportGenerator else {
            Issue.record("export-generator is not built next to coffer")
            return
        }
        let s = try Scratch()
        let gen = try Scratch.shell([generator, "--platform", "x", "--out", s.path("x"), "--months", "2", "--seed", "3", "--connections", "300", "--quiet"])
        #expect(gen.status == 0, "\(gen.stderr)")
        let zips = try FileManager.default.contentsOfDirectory(atPath: s.path("x")).filter { $0.hasSuffix(".zip") }.sorted()
        #expect(zips.count == 2 && zips.allSatisfy { $0.hasPrefix("twitter-2025-") })
        try s.initVault()
        for z in zips { try s.ok(["seal", s.path("x/" + z)]) }
        let text = try s.ok(["diff", "twitter@-1", "twitter@latest", "--records", "data/tweets.js"])
        let lines = text.stdout.split(separator: "\n").map(String.init)
        let summary = try #require(lines.first)
        #expect(summary.contains("/data/tweets.js: ") && summary.contains(" new tweets, "))
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("+ ") || $0.hasPrefix("- ") || $0.hasPrefix("~ ") })
        #expect(lines.contains { $0.hasPrefix("~ ") && $0.contains("tweet.favorite_count: ") })
        let json = try #require(try s.ok(["diff", "twitter@-1", "twitter@latest", "--records", "data/tweets.js", "--json"]).json() as? [String: Any])
        let file = try #require((json["files"] as? [[String: Any]])?.first)
        #expect(file["kind"] as? String == "tweets" && file["key"] as? String == "tweet.id_str")
        #expect(((file["added"] as? [Any])?.count ?? 0) > 0)
        #expect((json["errors"] as? [Any])?.isEmpty == true)
        // Likes and followers diff by their ids too.
        let all = try #require(try s.ok(["diff", "twitter@-1", "twitter@latest", "--records", "--json"]).json() as? [String: Any])
        let kinds = Set((all["files"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String })
        #expect(kinds.isSuperset(of: ["tweets", "likes", "followers", "following"]))
    }

    /// A folder sealed twice under `name`: `first` then `second` (relative path → bytes).
    func twoVersions(_ s: Scratch, name: String, _ first: [String: [UInt8]], _ second: [String: [UInt8]]) throws {
        for (path, bytes) in first { _ = try s.write("data/" + path, bytes) }
        try s.ok(["seal", s.path("data"), "--name", name, "--time", "2026-01-01"])
        for (path, bytes) in second { _ = try s.write("data/" + path, bytes) }
        try s.ok(["seal", s.path("data"), "--name", name, "--time", "2026-02-01"])
    }

    @Test("a file that does not parse is reported, the others still diffed, exit 1; lines start with markers; --wide")
    func failuresAndTextForm() throws {
        let s = try Scratch()
        try s.initVault()
        let long = "https://example.com/" + String(repeating: "p", count: 80) + "/end"
        try twoVersions(s, name: "recs", [
            "broken.csv": Array("Name\nA\n".utf8),
            "items.csv": Array("id,text,url\n1,\"a, b\",x\n2,plain,\(long)\n3,same,y\n".utf8),
        ], [
            "broken.csv": Array("Name\n\"A\n".utf8),
            "items.csv": Array("id,text,url\n1,\"a,b \",x\n2,\"two\nlines\",\(long)2\n3,same,y\n4, lead,z\n".utf8),
        ])
        let r = try s.run(["diff", "recs@-1", "recs@latest", "--records", "--key", "id"])
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains("1 file could not be compared"))
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
        #expect(lines.contains { $0.hasSuffix("broken.csv: not compared: cannot read the after version: unterminated quoted field starting on line 2") })
        let summary = try #require(lines.firstIndex { $0.hasSuffix("items.csv: 1 added, 0 removed, 2 changed") })
        let records = lines[(summary + 1)...].filter { !$0.contains("broken.csv") }
        #expect(records.count == 3)
        #expect(records.allSatisfy { $0.hasPrefix("+ ") || $0.hasPrefix("~ ") })
        #expect(records.contains("+ 4,\" lead\",z"))
        #expect(records.contains { $0.hasPrefix("~ 1: text: \"a, b\" → \"a,b \"") })
        let changed2 = try #require(records.first { $0.hasPrefix("~ 2: ") })
        #expect(changed2.contains("text: plain → \"two\\nlines\""))
        #expect(changed2.contains("…") && changed2.contains("end2") && !changed2.contains(long))
        let wide = try s.run(["diff", "recs@-1", "recs@latest", "--records", "items.csv", "--key", "id", "--wide"])
        #expect(wide.status == 0)
        #expect(wide.stdout.contains(long + "2"))

        let json = try s.run(["diff", "recs@-1", "recs@latest", "--records", "--key", "id", "--json"])
        #expect(json.status == 1)
        let object = try #require(try json.json() as? [String: Any])
        let errors = try #require(object["errors"] as? [[String: Any]])
        #expect(errors.count == 1 && (errors.first?["path"] as? String)?.hasSuffix("broken.csv") == true)
        #expect((errors.first?["error"] as? String)?.contains("unterminated quoted field") == true)
        #expect((object["files"] as? [Any])?.count == 1)
    }

    @Test("through the binary: bytes compared exactly (NFC/NFD, Latin-1), duplicates pair truthfully, blank lines, kind from name and header")
    func exactThroughBinary() throws {
        let s = try Scratch()
        try s.initVault()
        let messagesHeader = "CONVERSATION ID,CONVERSATION TITLE,FROM,SENDER PROFILE URL,TO,RECIPIENT PROFILE URLS,DATE,SUBJECT,CONTENT,FOLDER"
        try twoVersions(s, name: "exact", [
            "latin.csv": Array("id,name\n1,Ren".utf8) + [0xE9] + Array("\n".utf8),
            "mixed.csv": Array("id,name\n1,Zo\u{EB}\n2,Ren".utf8) + [0xE9] + Array("\n".utf8),
            "unicode.csv": Array("id,name\n1,Caf\u{E9}\n".utf8),
            "dups.csv": Array("id,v\n1,a\n1,b\n2,x\n2,y\n".utf8),
            "Items.csv": Array("\(messagesHeader)\n".utf8),
        ], [
            "latin.csv": Array("id,name\n1,Ren".utf8) + [0xE8] + Array("\n".utf8),
            "mixed.csv": Array("id,name\n1,Zo\u{EB}\n2,Ren".utf8) + [0xE8] + Array("\n".utf8),
            "unicode.csv": Array("id,name\n1,Cafe\u{301}\n".utf8),
            "dups.csv": Array("id,v\n\n1,b\n\n2,y\n2,x\n\n".utf8),
            "Items.csv": Array("\(messagesHeader)\nc1,,Ada,u,Me,u,2024-01-01 10:00:00 UTC,,Hi,INBOX\n".utf8),
        ])
        let latin = try s.ok(["diff", "exact@-1", "exact@latest", "--records", "latin.csv", "--key", "id"])
        // A file that is all Windows-1252 is shown decoded, and says so; one that mixes UTF-8 and
        // stray bytes shows them escaped.
        #expect(latin.stdout.contains("latin.csv: 0 added, 0 removed, 1 changed (not UTF-8: values shown as Windows-1252)"), "\(latin.stdout)")
        #expect(latin.stdout.contains("~ 1: name: Ren\u{E9} → Ren\u{E8}"), "\(latin.stdout)")
        let mixed = try s.ok(["diff", "exact@-1", "exact@latest", "--records", "mixed.csv", "--key", "id"])
        #expect(mixed.stdout.contains("~ 2: name: Ren\\xe9 → Ren\\xe8"), "\(mixed.stdout)")
        #expect(!mixed.stdout.contains("Windows-1252"))
        let unicode = try s.ok(["diff", "exact@-1", "exact@latest", "--records", "unicode.csv", "--key", "id"])
        #expect(unicode.stdout.contains("unicode.csv: 0 added, 0 removed, 1 changed"), "\(unicode.stdout)")
        let dups = try s.ok(["diff", "exact@-1", "exact@latest", "--records", "dups.csv", "--key", "id"])
        #expect(dups.stdout.contains("dups.csv: 0 added, 1 removed, 0 changed"), "\(dups.stdout)")
        #expect(dups.stdout.contains("\n- 1,a\n"))
        let items = try s.ok(["diff", "exact@-1", "exact@latest", "--records", "Items.csv"])
        #expect(items.stdout.contains("Items.csv: 1 added, 0 removed, 0 changed"), "not summarised as messages: \(items.stdout)")

        let json = try #require(try s.ok(["diff", "exact@-1", "exact@latest", "--records", "latin.csv", "--key", "id", "--json"]).json() as? [String: Any])
        #expect((json["files"] as? [[String: Any]])?.first?["shown_as"] as? String == "Windows-1252")
        let change = try #require(((json["files"] as? [[String: Any]])?.first?["changed"] as? [[String: Any]])?.first)
        #expect((change["before"] as? [String: String])?["name"] == "Ren\u{FFFD}")
        #expect((change["before_bytes"] as? [String: String])?["name"] == Data(Array("Ren".utf8) + [0xE9]).base64EncodedString())
        #expect((change["after_bytes"] as? [String: String])?["name"] == Data(Array("Ren".utf8) + [0xE8]).base64EncodedString())
    }

    @Test("pre-2023 Connections.csv from the generator: keyed by name and date, job changes reported")
    func connectionsWithoutURLThroughBinary() throws {
        guard let generator = Binaries.exportGenerator else {
            Issue.record("export-generator is not built next to coffer")
            return
        }
        let s = try Scratch()
        let gen = try Scratch.shell([
            generator, "--out", s.path("old"), "--months", "2", "--seed", "2", "--connections", "300", "--messages-bytes", "20000",
            "--connections-header", "2022", "--quiet",
        ])
        #expect(gen.status == 0, "\(gen.stderr)")
        try s.initVault()
        for z in try FileManager.default.contentsOfDirectory(atPath: s.path("old")).sorted() { try s.ok(["seal", s.path("old/" + z)]) }
        let r = try s.ok(["diff", "Basic_LinkedInDataExport@-1", "Basic_LinkedInDataExport@latest", "--records", "Connections.csv", "--json"])
        let file = try #require(((try r.json() as? [String: Any])?["files"] as? [[String: Any]])?.first)
        #expect(file["key"] as? String == "First Name + Last Name + Connected On")
        #expect((file["summary"] as? String)?.contains(" changed job") == true, "\(file["summary"] ?? "")")
        #expect(((file["changed"] as? [Any])?.count ?? 0) > 0)
    }

    @Test("--key without a path: a file lacking the column is reported on its own line, the others still compared (exit 1)")
    func keyMissingInOneFile() throws {
        let s = try Scratch()
        try s.initVault()
        try twoVersions(s, name: "keys", [
            "a.csv": Array("id,v\n1,x\n".utf8), "b.csv": Array("name,v\nn,x\n".utf8),
        ], [
            "a.csv": Array("id,v\n1,y\n".utf8), "b.csv": Array("name,v\nn,z\n".utf8),
        ])
        let r = try s.run(["diff", "keys@-1", "keys@latest", "--records", "--key", "id"])
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("a.csv: 0 added, 0 removed, 1 changed\n~ 1: v: x → y\n"), "\(r.stdout)")
        #expect(r.stdout.contains("b.csv: not compared: no column \"id\" to key rows by; available columns: \"name\", \"v\""), "\(r.stdout)")
        #expect(r.stderr.contains("1 file could not be compared"))
        let json = try s.run(["diff", "keys@-1", "keys@latest", "--records", "--key", "id", "--json"])
        let object = try #require(try json.json() as? [String: Any])
        #expect((object["files"] as? [Any])?.count == 1)
        #expect(((object["errors"] as? [[String: Any]])?.first?["path"] as? String)?.hasSuffix("b.csv") == true)
        // Naming the one file that lacks it stays a usage error.
        let one = try s.run(["diff", "keys@-1", "keys@latest", "--records", "b.csv", "--key", "id"])
        #expect(one.status == 1 && one.stdout.isEmpty && one.stderr.contains("no column \"id\""), "\(one.stderr)")
    }

    @Test("a changed value never prints the same on both sides: NFC → NFD spelled out, a middle difference shown whole")
    func changedValuesReadDifferently() throws {
        let s = try Scratch()
        try s.initVault()
        let url = { (c: String) in "https://example.com/" + String(repeating: "a", count: 30) + c + String(repeating: "b", count: 30) }
        try twoVersions(s, name: "alike", [
            "t.csv": Array("id,name,url\n1,Jos\u{E9},\(url("X"))\n".utf8),
        ], [
            "t.csv": Array("id,name,url\n1,Jose\u{301},\(url("Y"))\n".utf8),
        ])
        let r = try s.ok(["diff", "alike@-1", "alike@latest", "--records", "--key", "id"])
        let line = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("~ 1: ") }.map(String.init))
        // Compared as bytes: a Swift String comparison would treat NFC and NFD as equal.
        #expect(Array(line.utf8) == Array("~ 1: name: Jos\\u{e9} → Jose\\u{301}; url: \(url("X")) → \(url("Y"))".utf8), "\(line)")
    }

    @Test("README's diff --records --json example has the shape the command prints")
    func readmeJSONShape() throws {
        // The README block, between its marker comment and the closing fence.
        var dir = URL(fileURLWithPath: #filePath)
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { dir.deleteLastPathComponent() }
        let readme = try String(contentsOf: dir.appendingPathComponent("README.md"), encoding: .utf8)
        let marker = try #require(readme.range(of: "<!-- diff-records-json -->"))
        let rest = readme[marker.upperBound...]
        let open = try #require(rest.range(of: "```json\n"))
        let close = try #require(rest[open.upperBound...].range(of: "\n```"))
        let documented = try JSONSerialization.jsonObject(with: Data(rest[open.upperBound..<close.lowerBound].utf8))

        // The same situation for real: a Connections.csv with one added, one removed, one changed
        // row, and a file that does not parse.
        let s = try Scratch()
        try s.initVault()
        let header = "First Name,Last Name,URL,Email Address,Company,Position,Connected On"
        try twoVersions(s, name: "export", [
            "Connections.csv": Array("\(header)\nAda,Lorimore,https://www.linkedin.com/in/ada,,Arithmetic Engines,Founder,04 Jul 2023\nAlan,Tarlow,https://www.linkedin.com/in/alan,,NPL,Researcher,30 Jun 2023\n".utf8),
            "Items.csv": Array("Name\nA\n".utf8),
        ], [
            "Connections.csv": Array("\(header)\nLioba,Tavernor,https://www.linkedin.com/in/lioba,,Lumen Foundation,Fellow,12 Jul 2023\nAda,Lorimore,https://www.linkedin.com/in/ada,,Arithmetic Engines,Chief Engineer,04 Jul 2023\n".utf8),
            "Items.csv": Array("Name\n\"A\n".utf8),
        ])
        let r = try s.run(["diff", "export@-1", "export@latest", "--records", "--json"])
        #expect(r.status == 1)
        let actual = try r.json()

        func shape(_ a: Any, _ b: Any, _ at: String) {
            switch (a, b) {
            case (let x as [String: Any], let y as [String: Any]):
                #expect(Set(x.keys) == Set(y.keys), "keys at \(at): README \(x.keys.sorted()) vs output \(y.keys.sorted())")
                for k in Set(x.keys).intersection(y.keys) { shape(x[k]!, y[k]!, at + "." + k) }
            case (let x as [Any], let y as [Any]):
                #expect(x.isEmpty == y.isEmpty, "array at \(at)")
                if let p = x.first, let q = y.first { shape(p, q, at + "[0]") }
            case (is String, is String), (is NSNumber, is NSNumber):
                break
            default:
                Issue.record("type at \(at): README \(type(of: a)) vs output \(type(of: b))")
            }
        }
        shape(documented, actual, "$")
        // Value for value, the example's export path standing for this vault's folder.
        func renamed(_ any: Any) -> Any {
            switch any {
            case let d as [String: Any]: return d.mapValues(renamed)
            case let a as [Any]: return a.map(renamed)
            case let t as String: return t.replacingOccurrences(of: "Basic_LinkedInDataExport_03-16-2025.zip/", with: "data/")
            default: return any
            }
        }
        func canonical(_ any: Any) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: any, options: [.sortedKeys]), as: UTF8.self)
        }
        #expect(try canonical(renamed(documented)) == canonical(actual), "README's example differs from the output: \(r.stdout)")
        // And the values that do not depend on the vault: the summary and key.
        let file = try #require(((actual as? [String: Any])?["files"] as? [[String: Any]])?.first)
        let readmeFile = try #require(((documented as? [String: Any])?["files"] as? [[String: Any]])?.first)
        func tail(_ any: Any?) -> String? { (any as? String)?.components(separatedBy: "Connections.csv").last }
        #expect(tail(file["summary"]) != nil && tail(file["summary"]) == tail(readmeFile["summary"]))
        #expect(file["kind"] as? String == readmeFile["kind"] as? String)
        #expect(file["key"] as? String == readmeFile["key"] as? String)
    }
}
