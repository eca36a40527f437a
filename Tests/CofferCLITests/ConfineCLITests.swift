@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// `coffer restore` of versions a key holder crafted (written here through the vault's own
/// internal write path) writes nothing outside the target and fails with one line.
@Suite("Restore stays in its target")
struct ConfineCLITests {
    /// Opens the scratch vault in this process and commits a version holding `entries`, made
    /// from the sealed file `docs/payload` by `make`.
    private func craft(_ s: Scratch, _ make: (_ payload: VersionEntry) -> [VersionEntry]) throws {
        let pass = Array(s.passphrase.utf8).withUnsafeBytes { SecureBytes(copying: $0) }
        let vault = try Vault.open(at: s.vault, passphrase: pass, state: RollbackState(directory: s.path("crafter-state")))
        let sealed = try #require(try vault.versions().last)
        let payload = try #require(try vault.listing(sealed.id).first { $0.path == "docs/payload" })
        try vault.withWriterLock {
            let v = Version(
                name: "crafted", time: Date(), host: "crafted", tags: [], paths: [], parent: nil, stats: VersionStats(), notes: [],
                v1Entries: make(payload))
            let id = try vault.writeMeta(v.encode(), kind: .version)
            try vault.commitHead(live: vault.head.live + [id], removed: vault.head.removed)
        }
    }

    private func names(_ dir: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() }

    @Test("a crafted path that hides '..' from a Character split exits 13 and writes nothing")
    func craftedPath() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("docs/payload", "export PATH=/tmp/evil:$PATH\n")
        try s.ok(["seal", s.path("docs")])
        try craft(s) { payload in
            var e = payload
            e.path = "../\u{301}Q\u{600}/../.bash_profile"
            // Makes the helper folder home/\u{301}Q\u{600} (one component for a Character split).
            let helper = VersionEntry(type: .directory, path: "../\u{301}Q\u{600}", mode: 0o755, mtimeSeconds: 1_700_000_000, mtimeNanoseconds: 0, size: 0)
            return [helper, e]
        }
        try FileManager.default.createDirectory(atPath: s.path("home/restore"), withIntermediateDirectories: true)
        let r = try s.run(["restore", "crafted@latest", "--to", s.path("home/restore")])
        #expect(r.status == 13, "\(r.stderr)")
        #expect(r.stderr.hasPrefix("coffer: integrity error in versions/"), "\(r.stderr)")
        #expect(r.stderr.contains("unsafe path"))
        #expect(r.stderr.filter { $0 == "\n" }.count == 1, "one line: \(r.stderr)")
        #expect(!s.exists("home/.bash_profile"))
        #expect(names(s.path("home")) == ["restore"])
        #expect(names(s.path("home/restore")).isEmpty)
    }

    @Test("a file below a link of the version is refused: exit 1, one line, nothing written through the link")
    func fileBelowLink() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("docs/payload", "payload\n")
        try s.ok(["seal", s.path("docs")])
        try FileManager.default.createDirectory(atPath: s.path("outside"), withIntermediateDirectories: true)
        let outside = s.path("outside")
        try craft(s) { payload in
            var file = payload
            file.path = "docs/d/x"
            let link = VersionEntry(
                type: .symlink, path: "docs/d", mode: 0o777, mtimeSeconds: 1_700_000_000, mtimeNanoseconds: 0,
                size: UInt64(outside.utf8.count), linkTarget: outside)
            return [.init(type: .directory, path: "docs", mode: 0o755, mtimeSeconds: 1_700_000_000, mtimeNanoseconds: 0, size: 0), link, file]
        }
        let r = try s.run(["restore", "crafted@latest", "--to", s.path("restore"), "--force"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(
            r.stderr == "coffer: \(s.path("restore"))/docs/d/x: not restored: docs/d is a symbolic link in the version; restore never writes through a link\n")
        #expect(names(outside).isEmpty)
        #expect(!s.exists("restore/docs"))
    }

    @Test("a link planted in the target is not followed")
    func plantedLink() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("docs/payload", "payload\n")
        try s.ok(["seal", s.path("docs")])
        try craft(s) { payload in [payload] }  // docs/payload without its folder entry
        try FileManager.default.createDirectory(atPath: s.path("outside"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: s.path("restore"), withIntermediateDirectories: true)
        #expect(symlink(s.path("outside"), s.path("restore/docs")) == 0)
        let r = try s.run(["restore", "crafted@latest", "--to", s.path("restore")])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("is a symbolic link; restore never writes through a link"), "\(r.stderr)")
        #expect(r.stderr.filter { $0 == "\n" }.count == 1)
        #expect(names(s.path("outside")).isEmpty)
    }
}
