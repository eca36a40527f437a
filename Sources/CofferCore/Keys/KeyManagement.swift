import CofferCrypto
import Foundation

/// One key slot as `coffer key list` shows it. Listing needs no passphrase beyond the one that
/// opened the vault: the fields are in the slot's plaintext header.
public struct KeySlotInfo: Sendable, Equatable {
    /// The slot's file name under `keys/` (64 hex digits).
    public var id: String
    /// When the slot was made.
    public var created: Date
    /// The host name of the machine that made it.
    public var host: String
    /// Its Argon2id cost.
    public var parameters: KDFParameters
    /// Whether this slot opened the vault (the passphrase in use now).
    public var current: Bool
    /// Set when the slot cannot be used: its content does not match its name, or it does not
    /// decode. `created`, `host` and `parameters` are then zero.
    public var damage: String?

    /// The first 8 hex digits.
    public var shortID: String { String(id.prefix(8)) }
}

/// Adding, listing and removing key slots, and changing a passphrase.
///
/// A key slot wraps the vault's master key under one passphrase (Docs/FORMAT.md, Key slots).
/// None of these operations touches data: every slot wraps the same master key, so changing a
/// passphrase writes one new slot and removes one old slot, and nothing is re-encrypted. Each
/// change holds the writer lock (``withWriterLock(wait:_:)``).
extension Vault {
    /// The key slots in `keys/`, oldest first (then by id). A damaged slot is listed with
    /// ``KeySlotInfo/damage`` set.
    public func keySlots() throws -> [KeySlotInfo] {
        try backend.list(.keys).map { name in
            switch readSlot(name) {
            case .success(let slot):
                return KeySlotInfo(
                    id: name, created: Date(timeIntervalSince1970: TimeInterval(slot.created)), host: slot.host,
                    parameters: slot.parameters, current: name == keySlotID, damage: nil)
            case .failure(let why):
                return KeySlotInfo(
                    id: name, created: Date(timeIntervalSince1970: 0), host: "", parameters: KDFParameters(algorithm: 0, opsLimit: 0, memLimit: 0),
                    current: name == keySlotID, damage: why.reason)
            }
        }.sorted { ($0.created, $0.id) < ($1.created, $1.id) }
    }

    /// Adds a key slot that opens the vault with `passphrase`. The existing slots keep working.
    ///
    /// The new slot is read back and unlocked before this returns, so a slot that would not open
    /// is reported rather than left behind unnoticed.
    /// - Throws: ``CofferError/invalidArgument(_:)`` when the vault already has
    ///   ``maximumKeySlots`` slots; ``CofferError/locked(vault:holder:)``.
    @discardableResult
    public func addKey(
        passphrase: SecureBytes, parameters: KDFParameters = .moderate, host: String = Vault.hostName, lockWait: Double = 0
    ) throws -> KeySlotInfo {
        try withWriterLock(wait: lockWait) {
            let id = try writeSlot(passphrase: passphrase, parameters: parameters, host: host)
            return try keySlots().first { $0.id == id }!
        }
    }

    /// Replaces the passphrase in use (the slot ``keySlotID``) with `passphrase`: writes a new slot
    /// for the same master key, checks that it opens, then removes the old slot. Data is never
    /// re-encrypted. Other slots are left as they are.
    ///
    /// The order means a crash at any point leaves at least one slot that opens: before the new
    /// slot is written only the old one exists; between the two steps both open the vault.
    /// This `Vault` object keeps naming the removed slot in ``keySlotID``; open the vault again to
    /// see the new slot as current.
    /// - Returns: the new slot.
    /// - Throws: ``CofferError/invalidArgument(_:)`` when the vault has ``maximumKeySlots`` slots
    ///   (there is no room for the new one: remove another first). When removing the old slot
    ///   fails (a full disk, an I/O error), the new passphrase already opens the vault, and the
    ///   error says so: ``CofferError/io(path:operation:errno:)`` naming the old slot. It is
    ///   never reported as a plain "disk full, run the command again", which would leave the
    ///   user trusting the old passphrase (and perhaps discarding the new one) while the old
    ///   slot may already be gone.
    @discardableResult
    public func changePassphrase(
        to passphrase: SecureBytes, parameters: KDFParameters = .moderate, host: String = Vault.hostName, lockWait: Double = 0
    ) throws -> KeySlotInfo {
        try withWriterLock(wait: lockWait) {
            let id = try writeSlot(passphrase: passphrase, parameters: parameters, host: host)
            if keySlotID != id {
                do {
                    try backend.remove(.keySlot(keySlotID))
                } catch {
                    let code: Int32
                    switch error as? CofferError {
                    case .diskFull?: code = ENOSPC
                    case .io(_, _, let e)?: code = e
                    default: code = EIO
                    }
                    throw CofferError.io(
                        path: location + "/keys/" + keySlotID,
                        operation: "the new passphrase is in place (key slot \(id.prefix(8))) and opens the vault; removing the old key slot", errno: code)
                }
            }
            return try keySlots().first { $0.id == id }!
        }
    }

    /// Removes a key slot: its passphrase no longer opens the vault.
    ///
    /// The slot is removed only when another slot is known to open the vault: one that was
    /// unlocked in this process and gave this vault's master key. A slot that merely decodes does
    /// not count (anyone who can write to `keys/` can plant one: another vault's slot, or a slot
    /// wrapping some other key). Removing any slot but the current one keeps the current slot,
    /// which opened this vault. Removing the current slot (`force`) needs `otherPassphrase`, which
    /// must unlock one of the other slots to this vault's master key.
    ///
    /// - Parameters:
    ///   - id: the slot's id or a unique prefix of it.
    ///   - force: allow removing the slot that opened this vault (the passphrase in use).
    ///   - otherPassphrase: with `force`, the passphrase of a slot that stays.
    /// - Returns: the full id of the removed slot.
    /// - Throws: ``CofferError/invalidArgument(_:)`` when no slot or several slots match `id`,
    ///   when it is the last key slot, when it is the current slot and `force` is false, or when
    ///   no other slot was unlocked with `otherPassphrase`. Nothing is removed then.
    @discardableResult
    public func removeKey(id: String, force: Bool = false, otherPassphrase: SecureBytes? = nil, lockWait: Double = 0) throws -> String {
        try withWriterLock(wait: lockWait) {
            let names = try backend.list(.keys)
            let prefix = id.lowercased()
            guard !prefix.isEmpty, prefix.allSatisfy(\.isHexDigit) else {
                throw CofferError.invalidArgument("'\(id)' is not a key slot id; 'coffer key list' shows the ids")
            }
            let matches = names.filter { $0.hasPrefix(prefix) }
            guard !matches.isEmpty else {
                throw CofferError.invalidArgument("no key slot of vault \(location) matches '\(id)'; 'coffer key list' shows the ids")
            }
            guard matches.count == 1 else {
                throw CofferError.invalidArgument(
                    "'\(id)' matches \(matches.count) key slots (\(matches.map { String($0.prefix(8)) }.joined(separator: ", "))); give more of the id")
            }
            let target = matches[0]
            let others = names.filter { $0 != target }
            guard !others.isEmpty else {
                throw CofferError.invalidArgument(
                    "refusing to remove key slot \(target.prefix(8)): it is the vault's last key slot, and without it nothing in the vault "
                        + "could be opened again; add another passphrase with 'coffer key add' first")
            }
            if target == keySlotID && !force {
                throw CofferError.invalidArgument(
                    "refusing to remove key slot \(target.prefix(8)): it is the slot of the passphrase in use now; use 'coffer key passwd' "
                        + "to change that passphrase, or pass --force if another passphrase will open the vault")
            }
            // The slot that will open the vault afterwards, unlocked in this process.
            if !others.contains(keySlotID) {
                guard let otherPassphrase else {
                    throw CofferError.invalidArgument(
                        "refusing to remove key slot \(target.prefix(8)): it is the slot of the passphrase in use, and no other key slot was "
                            + "unlocked to show it opens the vault (a slot that merely exists does not count); give another passphrase of "
                            + "this vault (--other-passphrase-file)")
                }
                guard others.contains(where: { opensThisVault($0, passphrase: otherPassphrase) }) else {
                    throw CofferError.invalidArgument(
                        "refusing to remove key slot \(target.prefix(8)): the other passphrase opens none of the vault's other "
                            + "\(others.count) key slot\(others.count == 1 ? "" : "s"), so without this slot nothing might open the vault; "
                            + "nothing was removed")
                }
            }
            try backend.remove(.keySlot(target))
            return target
        }
    }

    /// Whether slot `name` unlocks with `passphrase` to this vault's master key.
    private func opensThisVault(_ name: String, passphrase: SecureBytes) -> Bool {
        guard case .success(let slot) = readSlot(name),
              let master = try? slot.unlock(passphrase: passphrase, vaultID: vaultID)
        else { return false }
        return master.constantTimeEquals(keys.master)
    }

    // MARK: Helpers

    private struct SlotDamage: Error { var reason: String }

    /// Reads, checks the name of and decodes one slot (no unlocking).
    private func readSlot(_ name: String) -> Result<KeySlot, SlotDamage> {
        do {
            if let size = try backend.size(.keySlot(name)), size > KeySlot.maximumFileSize {
                return .failure(SlotDamage(reason: "\(size) bytes, larger than a key slot may be"))
            }
            let bytes = try backend.read(.keySlot(name))
            guard ObjectID.hashing(bytes).hex == name else { return .failure(SlotDamage(reason: "content does not match its name")) }
            return .success(try KeySlot.decode(bytes))
        } catch {
            return .failure(SlotDamage(reason: "\(error)"))
        }
    }

    /// Writes a new slot for this vault's master key (caller holds the writer lock), reads it
    /// back and unlocks it. Returns its id.
    private func writeSlot(passphrase: SecureBytes, parameters: KDFParameters, host: String) throws -> String {
        let count = try backend.list(.keys).count
        guard count < Vault.maximumKeySlots else {
            throw CofferError.invalidArgument(
                "vault \(location) already has \(count) key slots, the most a vault may have; remove one with 'coffer key remove ID' first")
        }
        guard host.utf8.count <= 1024 else { throw CofferError.invalidArgument("host name longer than 1024 bytes: \(host.prefix(40))…") }
        let slot: KeySlot
        do {
            try parameters.validate()
            slot = try KeySlot.create(
                masterKey: keys.master, passphrase: passphrase, parameters: parameters, vaultID: vaultID,
                created: Int64(Date().timeIntervalSince1970), host: host)
        } catch let e as CryptoError {
            throw CofferError.invalidArgument("cannot create the key slot: \(e)")
        }
        let bytes = slot.encode()
        let id = ObjectID.hashing(bytes).hex
        let file = VaultFile.keySlot(id)
        try backend.write(file, bytes)
        // Read it back: the old slot is only removed once the new one is known to open.
        let stored: [UInt8]
        do { stored = try backend.read(file) } catch let e as CofferError { throw e.missingAsIntegrity }
        guard stored == bytes, let reread = try? KeySlot.decode(stored),
              let master = try? reread.unlock(passphrase: passphrase, vaultID: vaultID), master.constantTimeEquals(keys.master)
        else {
            try? backend.remove(file)
            throw CofferError.integrity(object: file.path, reason: "the new key slot did not read back as written and was removed; no old slot was touched")
        }
        return id
    }
}
