@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// `coffer sync` between a format-1 and a format-2 copy of the same vault.
@Suite("Sync between vault formats (CLI)")
struct FormatSyncCLITests {
    /// Every file of a folder with its bytes.
    private func contents(_ root: String) -> [String: Data] {
        var out: [String: Data] = [:]
        let e = FileManager.default.enumerator(atPath: root)
        while let rel = e?.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + rel, isDirectory: &isDir), !isDir.boolValue {
                out[rel] = FileManager.default.contents(atPath: root + "/" + rel)
            }
        }
        return out
    }

    @Test("sync refuses a format-1 copy of a format-2 vault, and the reverse: exit 1, one line naming what to upgrade, nothing written")
    func refusal() throws {
        let s = try Scratch()
        let pass = Array(s.passphrase.utf8).withUnsafeBytes { SecureBytes(copying: $0) }
        var o = VaultOptions()
        o.kdf = .insecureTestOnly
        let state = RollbackState(directory: s.path("state/coffer/vaults"))
        _ = try Vault.create(at: s.vault, passphrase: pass, options: o, state: state, format: 1)
        try s.write("in/a.bin", pseudoRandomBytes(count: 100_000, seed: 1))
        try s.ok(["seal", s.path("in/a.bin"), "--quiet"])
        try s.ok(["sync", s.path("copy"), "--quiet"])

        // The vault is upgraded in place: config format 2 and a head that lists its index files.
        let v = try Vault.open(at: s.vault, passphrase: pass, state: nil)
        var c = v.config
        c.format = 2
        try v.backend.write(.config, c.encode(macKey: v.keys.config))
        let next = Head(
            generation: v.head.generation + 1, previous: v.headID, time: 1_800_000_000, live: v.head.live, removed: v.head.removed,
            indexFiles: try v.backend.ids(in: .index))
        let file = MetaObject.seal(next.encode(), kind: .head, vaultID: v.vaultID, key: v.keys.meta, zstd: v.zstd)
        try v.backend.write(.head(generation: next.generation, id: ObjectID.hashing(file)), file)
        try s.write("in/b.bin", pseudoRandomBytes(count: 100_000, seed: 2))
        try s.ok(["seal", s.path("in/b.bin"), "--quiet"])

        let copyBefore = contents(s.path("copy"))
        for extra in [[], ["--force", "--delete"], ["--dry-run"]] {
            let r = try s.run(["sync", s.path("copy")] + extra)
            #expect(r.status == 1, "sync \(extra): \(r.stderr)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(r.stderr)")
            #expect(r.stderr.contains("is a format-1 copy of this vault and the source is format 2"))
            #expect(r.stderr.contains("run 'coffer upgrade' on the destination first; nothing was written"))
        }
        #expect(contents(s.path("copy")) == copyBefore)

        // From the old copy (opened by another machine) into the upgraded vault.
        let vaultBefore = contents(s.vault)
        let r = try s.run(["sync", s.vault, "--vault", s.path("copy"), "--force"], environment: ["XDG_STATE_HOME": s.path("other-state")])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(r.stderr.contains("is a format-2 copy of this vault and the source is format 1: run 'coffer upgrade' on the source"))
        #expect(contents(s.vault) == vaultBefore)
    }
}
