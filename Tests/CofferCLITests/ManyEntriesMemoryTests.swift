@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// `ls`, `diff` and `restore` of a version of 200,001 entries stream it: their peak memory after
/// the unlock (`COFFER_BENCH_RSS`) stays within a bound that holding the listing again (a copy,
/// a row per entry, a dictionary per side) exceeds. A format-1 version is one object, held once
/// by its reader: here all four peak at about 179 MiB, the decoded version; before the walker,
/// `ls` peaked at 298 MiB, `ls --json` at 427 and `diff` at 430. Format 2 reads one listing per
/// level of depth.
@Suite("Many entries, bounded memory")
struct ManyEntriesMemoryTests {
    static let folders = 200, files = 1000

    /// Commits a version of `big/dNNN/fNNNNN` empty files (plus `extra` more in the last folder).
    private func craft(_ s: Scratch, name: String, extra: Int = 0) throws {
        let pass = Array(s.passphrase.utf8).withUnsafeBytes { SecureBytes(copying: $0) }
        let vault = try Vault.open(at: s.vault, passphrase: pass, state: RollbackState(directory: s.path("crafter-state")))
        let empty = SHA256.hash([UInt8]())
        var entries = [VersionEntry(type: .directory, path: "big", mode: 0o755, mtimeSeconds: 1_700_000_000, mtimeNanoseconds: 0, size: 0)]
        entries.reserveCapacity(Self.folders * (Self.files + 1) + 1 + extra)
        for d in 0..<Self.folders {
            let folder = "big/d\(1000 + d)"
            entries.append(VersionEntry(type: .directory, path: folder, mode: 0o755, mtimeSeconds: 1_700_000_000, mtimeNanoseconds: 0, size: 0))
            let count = Self.files - 1 + (d == Self.folders - 1 ? extra : 0)
            for f in 0..<count {
                entries.append(
                    VersionEntry(type: .file, path: "\(folder)/f\(100_000 + f)", mode: 0o644, mtimeSeconds: 1_700_000_000, mtimeNanoseconds: 0, size: 0, sha256: empty))
            }
        }
        try vault.withWriterLock {
            let v = Version(
                name: name, time: Date(), host: "crafted", tags: [], paths: [], parent: nil, stats: VersionStats(), notes: [], v1Entries: entries)
            let id = try vault.writeMeta(v.encode(), kind: .version)
            try vault.commitHead(live: vault.head.live + [id], removed: vault.head.removed)
        }
    }

    /// Runs `args` and returns the peak memory after the unlock, in MiB.
    private func peak(_ s: Scratch, _ args: [String]) throws -> Double {
        let file = s.path("rss-\(args[0])")
        let r = try s.run(args, environment: ["COFFER_BENCH_RSS": file], timeout: 600)
        #expect(r.status == 0, "\(args): \(r.stderr)")
        let kib = Double(String(decoding: try s.read("rss-\(args[0])"), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        return kib / 1024
    }

    @Test("ls, diff and restore of 200,001 entries stay under 230 MiB")
    func manyEntries() throws {
        let s = try Scratch()
        try s.initVault()
        try craft(s, name: "a")
        try craft(s, name: "b", extra: 1)
        let ls = try peak(s, ["ls", "a@latest"])
        let json = try peak(s, ["ls", "a@latest", "--json"])
        let diff = try peak(s, ["diff", "a@latest", "b@latest"])
        // The selection and no-overwrite passes walk all of it; the last folder is written.
        let restore = try peak(s, ["restore", "b@latest", "--to", s.path("out"), "--include", "big/d1199", "--quiet"])
        #expect(FileManager.default.fileExists(atPath: s.path("out/big/d1199/f100999")))
        #expect(!FileManager.default.fileExists(atPath: s.path("out/big/d1198")))
        print("peak MiB after unlock, 200,001 entries: ls \(ls), ls --json \(json), diff \(diff), restore \(restore)")
        for (name, mib) in [("ls", ls), ("ls --json", json), ("diff", diff), ("restore", restore)] {
            #expect(mib > 0 && mib < 230, "\(name): \(mib) MiB")
        }
    }
}
