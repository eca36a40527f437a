import Foundation
import Testing

/// `coffer stats`: restore sizes counted per version; unique data counted once, with the
/// deduplication and compression ratios; per name and for the selection.
@Suite("Stats command")
struct StatsCommandTests {
    private func doc(_ r: RunResult) throws -> [String: Any] { try #require(try r.json() as? [String: Any]) }

    @Test("restore-size counts the files of every selected version; names and versions select")
    func restoreSize() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("in/a.txt", "alpha\n")  // 6 bytes
        try s.ok(["seal", s.path("in"), "--quiet"])
        try s.write("in/sub/b.txt", "beta\n")  // 5 bytes
        try s.ok(["seal", s.path("in"), "--quiet"])
        try s.write("other/c.txt", "gamma!\n")  // 7 bytes
        try s.ok(["seal", s.path("other"), "--quiet"])

        let all = try doc(try s.ok(["stats", "--json"]))
        #expect(all["mode"] as? String == "restore-size")
        let total = try #require(all["total"] as? [String: Any])
        #expect(total["versions"] as? Int == 3 && total["files"] as? Int == 4 && total["restore_bytes"] as? Int == 6 + 6 + 5 + 7, "\(total)")
        let names = try #require(all["names"] as? [[String: Any]])
        #expect(names.map { $0["name"] as? String } == ["in", "other"])
        #expect(names[0]["files"] as? Int == 3 && names[0]["restore_bytes"] as? Int == 17)

        let one = try doc(try s.ok(["stats", "in@latest", "--json"]))
        #expect((one["total"] as? [String: Any])?["restore_bytes"] as? Int == 11)
        let named = try doc(try s.ok(["stats", "other", "--json"]))
        #expect((named["total"] as? [String: Any])?["files"] as? Int == 1)

        let table = try s.ok(["stats"])
        #expect(table.stdout.contains("RESTORE SIZE") && table.stdout.contains("TOTAL"), "\(table.stdout)")
        let missing = try s.run(["stats", "nosuchname"])
        #expect(missing.status != 0 && missing.stderr.contains("nosuchname"), "\(missing.stderr)")
    }

    @Test("raw-data counts shared chunks once: deduplication and compression ratios")
    func rawData() throws {
        let s = try Scratch()
        try s.initVault()
        let random = pseudoRandomBytes(count: 200_000, seed: 7)
        try s.write("in/one.bin", random)
        try s.write("in/two.bin", random)
        try s.ok(["seal", s.path("in"), "--quiet"])
        try s.write("in/note.txt", "x\n")
        try s.ok(["seal", s.path("in"), "--quiet"])

        let r = try doc(try s.ok(["stats", "--mode", "raw-data", "--json"]))
        let t = try #require(r["total"] as? [String: Any])
        let restore = try #require(t["restore_bytes"] as? Int)
        let unique = try #require(t["unique_bytes"] as? Int)
        let stored = try #require(t["stored_bytes"] as? Int)
        #expect(restore == 4 * 200_000 + 2)
        #expect(unique == 200_000 + 2, "the random content is stored once: \(t)")
        // Random data does not compress: what is stored is the plaintext plus envelopes.
        #expect(stored >= unique && stored < unique + 4_096, "\(t)")
        let dedup = try #require(t["deduplication_ratio"] as? Double)
        #expect(abs(dedup - Double(restore) / Double(unique)) < 0.001)
        #expect((t["metadata_pieces"] as? Int ?? 0) >= 2)

        // Text compresses: the compression ratio is above 1.
        let c = try Scratch()
        try c.initVault()
        try c.write("t/words.txt", String(repeating: "the quick brown fox jumps over the lazy dog\n", count: 5_000))
        try c.ok(["seal", c.path("t"), "--quiet"])
        let ct = try #require(try doc(try c.ok(["stats", "--mode", "raw-data", "--json"]))["total"] as? [String: Any])
        #expect((ct["compression_ratio"] as? Double ?? 0) > 5, "\(ct)")

        let table = try s.ok(["stats", "--mode", "raw-data"])
        #expect(table.stdout.contains("DEDUP") && table.stdout.contains("COMPRESSION") && table.stdout.contains("x"), "\(table.stdout)")
        let bad = try s.run(["stats", "--mode", "sizes"])
        #expect(bad.status == 64)
    }
}
