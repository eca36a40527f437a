@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// Key slots: add, change the passphrase, remove, and the refusals.
@Suite("KeyManagement")
struct KeyManagementTests {
    static func isWrongPassphrase(_ e: Error) -> Bool {
        if case CofferError.wrongPassphrase = e { return true }
        return false
    }

    static func refusal(_ body: () throws -> Void) -> String? {
        do { try body() } catch CofferError.invalidArgument(let m) { return m } catch { Issue.record("unexpected \(error)") }
        return nil
    }

    @Test func addThenOpenWithEither() throws {
        let f = try T.vault()
        #expect(try f.vault.keySlots().count == 1)
        #expect(try f.vault.keySlots()[0].current)
        let added = try f.vault.addKey(passphrase: T.secret("second"), parameters: .insecureTestOnly, host: "laptop")
        #expect(!added.current)
        #expect(added.host == "laptop")
        #expect(added.parameters == .insecureTestOnly)
        #expect(added.damage == nil)

        let slots = try f.vault.keySlots()
        #expect(slots.count == 2)
        #expect(slots.filter(\.current).map(\.id) == [f.vault.keySlotID])
        let first = try f.reopen("pw")
        let second = try f.reopen("second")
        #expect(first.vaultID == second.vaultID)
        #expect(second.keySlotID == added.id)
        #expect(try second.keySlots().first { $0.current }?.id == added.id)
        #expect(throws: CofferError.self) { try f.reopen("third") }
        // No lock is left behind.
        #expect(try f.vault.locks().isEmpty)
    }

    @Test func changePassphraseKeepsTheData() throws {
        let f = try T.vault()
        let dir = T.scratch("in") + "/notes"
        T.write(dir + "/a.txt", T.csv(rows: 200, seed: 7))
        let sealed = try f.vault.seal([dir])
        let packsBefore = T.files(in: f.path).filter { $0.hasPrefix("packs/") || $0.hasPrefix("index/") || $0.hasPrefix("versions/") }
        let other = try f.vault.addKey(passphrase: T.secret("other"), parameters: .insecureTestOnly)

        let old = f.vault.keySlotID
        let new = try f.vault.changePassphrase(to: T.secret("new"), parameters: .insecureTestOnly)
        #expect(new.id != old)
        let ids = Set(try f.vault.keySlots().map(\.id))
        #expect(ids == [new.id, other.id])

        do {
            _ = try f.reopen("pw")
            Issue.record("the old passphrase still opens the vault")
        } catch {
            #expect(Self.isWrongPassphrase(error), "\(error)")
        }
        let reopened = try f.reopen("new")
        #expect(reopened.keySlotID == new.id)
        _ = try f.reopen("other")
        // Nothing was re-encrypted: the data files are the very same.
        let packsAfter = T.files(in: f.path).filter { $0.hasPrefix("packs/") || $0.hasPrefix("index/") || $0.hasPrefix("versions/") }
        #expect(packsAfter == packsBefore)
        let out = T.scratch("restore")
        try reopened.restore(sealed.id, to: out)
        #expect(T.read(out + "/notes/a.txt") == T.csv(rows: 200, seed: 7))
    }

    @Test func removeRefusals() throws {
        let f = try T.vault()
        let only = f.vault.keySlotID
        // The last key: always refused, even with force.
        let last = Self.refusal { try f.vault.removeKey(id: only, force: true) }
        #expect(last?.contains("last key slot") == true)

        let added = try f.vault.addKey(passphrase: T.secret("second"), parameters: .insecureTestOnly)
        // The current key: refused without force.
        let current = Self.refusal { try f.vault.removeKey(id: only) }
        #expect(current?.contains("in use") == true)
        #expect(try f.vault.keySlots().count == 2)

        // Another key by a prefix.
        let v2 = try f.reopen("second")
        let removed = try v2.removeKey(id: String(only.prefix(6)).uppercased(), force: false)
        #expect(removed == only)
        #expect(try v2.keySlots().map(\.id) == [added.id])
        #expect(throws: CofferError.self) { try f.reopen("pw") }

        // No such slot, not hex.
        #expect(Self.refusal { try v2.removeKey(id: "zz") }?.contains("not a key slot id") == true)
        let unknown = added.id.hasPrefix("0") ? "1" : "0"
        #expect(Self.refusal { try v2.removeKey(id: unknown + "000") }?.contains("no key slot") == true)
    }

    @Test func removeCurrentWithForce() throws {
        let f = try T.vault()
        try f.vault.addKey(passphrase: T.secret("second"), parameters: .insecureTestOnly)
        // The slot that stays must be unlocked: force alone, or a wrong other passphrase, is refused.
        #expect(Self.refusal { try f.vault.removeKey(id: f.vault.keySlotID, force: true) }?.contains("no other key slot was unlocked") == true)
        #expect(
            Self.refusal { try f.vault.removeKey(id: f.vault.keySlotID, force: true, otherPassphrase: T.secret("wrong")) }?
                .contains("opens none of the vault's other 1 key slot") == true)
        try f.vault.removeKey(id: f.vault.keySlotID, force: true, otherPassphrase: T.secret("second"))
        #expect(throws: CofferError.self) { try f.reopen("pw") }
        _ = try f.reopen("second")
    }

    /// A slot that decodes but was never unlocked does not count: one planted by whoever can write
    /// to keys/ (wrapping another master key under the vault's id, or another vault's slot) must
    /// not let the real slot go.
    @Test func plantedSlotsDoNotCountAsKeys() throws {
        let f = try T.vault()
        let real = f.vault.keySlotID
        // A slot of this vault's id around another master key, with a passphrase the attacker knows.
        let foreign = try KeySlot.create(
            masterKey: SecureBytes.random(count: 32), passphrase: T.secret("attacker"), parameters: .insecureTestOnly,
            vaultID: f.vault.vaultID, created: 1_700_000_000, host: "planted")
        let foreignBytes = foreign.encode()
        let foreignID = ObjectID.hashing(foreignBytes).hex
        try f.vault.backend.write("keys/" + foreignID, foreignBytes)
        // Another vault's slot, copied in.
        let other = try T.vault(passphrase: "other vault")
        let copiedID = other.vault.keySlotID
        try f.vault.backend.write("keys/" + copiedID, try other.vault.backend.read("keys/" + copiedID))
        let slots = try f.vault.keySlots()
        #expect(slots.count == 3)
        #expect(slots.allSatisfy { $0.damage == nil }, "the planted slots decode")

        #expect(Self.refusal { try f.vault.removeKey(id: real) }?.contains("in use") == true)
        #expect(Self.refusal { try f.vault.removeKey(id: real, force: true) }?.contains("no other key slot was unlocked") == true)
        for pass in ["attacker", "other vault", "pw"] {
            #expect(
                Self.refusal { try f.vault.removeKey(id: real, force: true, otherPassphrase: T.secret(pass)) }?
                    .contains("opens none of the vault's other 2 key slots") == true, "with '\(pass)'")
        }
        #expect(try f.vault.backend.size("keys/" + real) != nil)
        _ = try f.reopen("pw")
        // The planted slots themselves can go: the slot in use stays.
        try f.vault.removeKey(id: foreignID)
        try f.vault.removeKey(id: copiedID)
        #expect(try f.vault.keySlots().map(\.id) == [real])
    }

    /// The last *intact* slot counts as the last one: a damaged slot opens nothing.
    @Test func damagedSlotsDoNotCountAsKeys() throws {
        let f = try T.vault()
        let added = try f.vault.addKey(passphrase: T.secret("second"), parameters: .insecureTestOnly)
        T.flip(f.path + "/keys/" + added.id, at: 20)
        let damaged = try f.vault.keySlots().first { $0.id == added.id }
        #expect(damaged?.damage != nil)
        #expect(Self.refusal { try f.vault.removeKey(id: f.vault.keySlotID, force: true) }?.contains("no other key slot was unlocked") == true)
        // Its passphrase does not unlock it any more.
        #expect(
            Self.refusal { try f.vault.removeKey(id: f.vault.keySlotID, force: true, otherPassphrase: T.secret("second")) }?
                .contains("opens none") == true)
        // The damaged one can be removed.
        try f.vault.removeKey(id: added.id)
        #expect(try f.vault.keySlots().count == 1)
    }

    @Test func slotLimitAndAmbiguousPrefix() throws {
        let f = try T.vault()
        for i in 1..<Vault.maximumKeySlots {
            try f.vault.addKey(passphrase: T.secret("p\(i)"), parameters: .insecureTestOnly)
        }
        #expect(try f.vault.keySlots().count == Vault.maximumKeySlots)
        let full = Self.refusal { try f.vault.addKey(passphrase: T.secret("one too many"), parameters: .insecureTestOnly) }
        #expect(full?.contains("\(Vault.maximumKeySlots) key slots") == true)
        // passwd needs room for the new slot too.
        #expect(Self.refusal { try f.vault.changePassphrase(to: T.secret("x"), parameters: .insecureTestOnly) } != nil)
        #expect(try f.vault.keySlots().count == Vault.maximumKeySlots)
        // 32 slots share a first hex digit somewhere.
        let ids = try f.vault.keySlots().map(\.id)
        let shared = try #require(Dictionary(grouping: ids, by: { $0.prefix(1) }).first { $0.value.count > 1 }?.key)
        #expect(Self.refusal { try f.vault.removeKey(id: String(shared)) }?.contains("give more of the id") == true)
        // Still opens with every passphrase tried in turn (the last one added, for example).
        _ = try f.reopen("p\(Vault.maximumKeySlots - 1)")
    }

    /// Key changes take the writer lock: another holder makes them wait, then fail.
    @Test func keyChangesTakeTheLock() throws {
        let f = try T.vault()
        let other = try f.reopen()
        try other.withWriterLock {
            do {
                try f.vault.addKey(passphrase: T.secret("second"), parameters: .insecureTestOnly)
                Issue.record("added a key while another writer held the lock")
            } catch CofferError.locked {
            }
        }
        #expect(try f.vault.keySlots().count == 1)
    }
}
