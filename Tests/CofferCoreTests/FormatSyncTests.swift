@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// What an in-place upgrade to format 2 leaves, as far as sync can tell: `config` says format 2
/// (MAC under the vault's key) and a new head of body_version 2 lists the index files. (Only the
/// two files sync compares; the real `coffer upgrade` converts versions too.)
func pretendUpgradeToFormat2(_ v: Vault) throws {
    var c = v.config
    c.format = 2
    try v.backend.write(.config, c.encode(macKey: v.keys.config))
    let next = Head(
        generation: v.head.generation + 1, previous: v.headID, time: 1_800_000_000, live: v.head.live, removed: v.head.removed,
        indexFiles: try v.backend.ids(in: .index))
    let file = MetaObject.seal(next.encode(), kind: .head, vaultID: v.vaultID, key: v.keys.meta, zstd: v.zstd)
    try v.backend.write(.head(generation: next.generation, id: ObjectID.hashing(file)), file)
}

/// Every file of a folder with its bytes.
private func contents(_ path: String) -> [String: [UInt8]] {
    var out: [String: [UInt8]] = [:]
    for f in T.files(in: path) { out[f] = T.read(path + "/" + f) }
    return out
}

@Suite struct FormatSyncTests {
    /// A format-1 vault with one version, synced to `copy` (a format-1 copy), then upgraded in
    /// place and sealed into once more.
    static func upgradedVaultAndOldCopy() throws -> (f: T.Fixture, source: Vault, copy: String) {
        let f = try S.vaultOfFormat(1)
        try S.seal(f.vault, "a.bin", seed: 21)
        let copy = f.root + "/copy"
        _ = try f.vault.sync(to: LocalBackend(root: copy))
        try pretendUpgradeToFormat2(f.vault)
        let source = try f.reopen()
        #expect(source.format == 2 && source.rollback == nil)
        try S.seal(source, "b.bin", seed: 22)
        return (f, source, copy)
    }

    static func isFormatRefusal(_ e: Error, older: String) -> Bool {
        guard case CofferError.remote(_, let reason) = e else { return false }
        return reason.contains("coffer upgrade") && reason.contains("nothing was written") && reason.contains(older)
            && !"\(e)".contains("\n")
    }

    @Test("sync from a format-2 vault into its format-1 copy refuses in one line and writes nothing (also --force, --dry-run, --verify)")
    func formatTwoIntoFormatOneCopy() throws {
        let (_, source, copy) = try Self.upgradedVaultAndOldCopy()
        let before = contents(copy)
        for options in [SyncOptions(), { var o = SyncOptions(); o.force = true; o.delete = true; return o }(),
                        { var o = SyncOptions(); o.dryRun = true; return o }(), { var o = SyncOptions(); o.verify = true; return o }()] {
            #expect { try source.sync(to: LocalBackend(root: copy), options: options) } throws: { e in
                Self.isFormatRefusal(e, older: "format-1 copy") && "\(e)".contains("on the destination")
            }
        }
        #expect(contents(copy) == before)
    }

    @Test("sync from a format-1 copy into the upgraded format-2 vault refuses and names the source to upgrade")
    func formatOneIntoFormatTwo() throws {
        let (f, _, copy) = try Self.upgradedVaultAndOldCopy()
        let old = try Vault.open(at: copy, passphrase: T.secret("pw"), state: RollbackState(directory: T.scratch("state")))
        #expect(old.format == 1)
        let before = contents(f.path)
        for force in [false, true] {
            var o = SyncOptions()
            o.force = force
            #expect { try old.sync(to: LocalBackend(root: f.path), options: o) } throws: { e in
                Self.isFormatRefusal(e, older: "format-2 copy") && "\(e)".contains("on the source (\(copy))")
            }
        }
        #expect(contents(f.path) == before)
    }

    @Test("a destination config of another format whose MAC fails is damage, repaired as before")
    func damagedConfigWithAnotherFormatIsRepaired() throws {
        let f = try S.vaultOfFormat(2)
        try S.seal(f.vault, "a.bin", seed: 23)
        let copy = f.root + "/copy"
        _ = try f.vault.sync(to: LocalBackend(root: copy))
        // Byte 8 is the low byte of `format`: 2 becomes 3, and the MAC no longer holds.
        T.flip(copy + "/config", at: 8)
        var o = SyncOptions()
        o.verify = true
        let r = try f.vault.sync(to: LocalBackend(root: copy), options: o)
        #expect(r.repaired == ["config"])
        #expect(T.read(copy + "/config") == T.read(f.path + "/config"))
    }

    @Test("same-format copies still sync both ways (format 1 and format 2)")
    func sameFormatSyncs() throws {
        for format in [1, 2] {
            let f = try S.vaultOfFormat(format)
            try S.seal(f.vault, "a.bin", seed: 24)
            let copy = f.root + "/copy"
            _ = try f.vault.sync(to: LocalBackend(root: copy))
            try S.seal(f.vault, "b.bin", seed: 25)
            let r = try f.vault.sync(to: LocalBackend(root: copy))
            #expect(r.relation == .behind(1))
            let c = try Vault.open(at: copy, passphrase: T.secret("pw"), state: f.state)
            #expect(c.format == format)
            #expect(try c.check(readDataFraction: 1).isClean)
        }
    }
}

extension S {
    /// ``vault()`` in vault format `format`.
    static func vaultOfFormat(_ format: Int) throws -> T.Fixture {
        var o = T.cheap
        o.packTargetSize = 64 << 10
        return try T.vault(o, format: format)
    }
}
