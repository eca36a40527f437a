import CofferCrypto
import Foundation

extension Vault {
    /// Opens the vault at `location`: a folder path, or `rclone:REMOTE:PATH` (see ``VaultLocation``).
    ///
    /// Besides ``open(backend:passphrase:state:)``, this remembers the live versions of the head
    /// on this machine (beside the rollback state) and, on a rollback finding, works out which
    /// versions this copy lacks, so that ``RollbackFinding/description`` can name them.
    public static func open(
        location: String, passphrase: SecureBytes, state: RollbackState? = RollbackState(directory: RollbackState.defaultDirectory)
    ) throws -> Vault {
        let parsed = try VaultLocation(parsing: location)
        let vault: Vault
        switch parsed {
        case .folder(let path):
            vault = try open(at: path, passphrase: passphrase, state: state)
        case .rclone, .s3:
            vault = try open(backend: parsed.backend(), passphrase: passphrase, state: state)
        }
        vault.afterOpen()
        return vault
    }

    /// Checks, without a passphrase, that `location` holds a vault this build can read.
    /// - Throws: ``CofferError/noVault(path:)``, ``CofferError/notAVault(path:reason:)``,
    ///   ``CofferError/integrity(object:reason:)`` for a damaged config, or
    ///   ``CofferError/remote(location:reason:)`` when the remote cannot be reached.
    public static func probe(location: String) throws {
        let parsed = try VaultLocation(parsing: location)
        switch parsed {
        case .folder(let path): try probe(at: path)
        case .rclone, .s3: try probe(backend: parsed.backend())
        }
    }

    /// ``probe(at:)`` for any backend (``identify(backend:)``).
    static func probe(backend: Backend) throws {
        _ = try identify(backend: backend)
    }

    /// Remembers the live list of a head this machine accepts, and explains a rollback finding.
    func afterOpen() {
        guard let state else { return }
        if let finding = rollback {
            finding.details.missing = missingVersions(finding: finding, state: state)
            if !finding.vanished.isEmpty { finding.details.vanishedLabels = finding.vanished.map { versionLabel($0) } }
        } else {
            state.rememberLive(vaultID: vaultID, generation: head.generation, head: headID, live: head.live)
        }
    }

    /// The versions the remembered (newer) head lists and this copy's head does not, labelled;
    /// nil when the remembered head's list is unknown (the head is not in this copy and this
    /// machine did not keep its list).
    func missingVersions(finding: RollbackFinding, state: RollbackState) -> [String]? {
        var rememberedLive: [ObjectID]?
        if let known = state.rememberedLive(vaultID: vaultID), known.generation == finding.rememberedGeneration,
           known.head == finding.rememberedHead {
            rememberedLive = known.live
        } else {
            let (g, id) = (finding.rememberedGeneration, finding.rememberedHead)
            if (try? backend.size(.head(generation: g, id: id))) != nil,
               let h = try? Vault.readHead(backend: backend, generation: g, id: id, vaultID: vaultID, keys: keys, zstd: zstd) {
                rememberedLive = h.live
            }
        }
        guard let rememberedLive else { return nil }
        let here = Set(head.live)
        return rememberedLive.filter { !here.contains($0) }.map { versionLabel($0) }
    }

    /// `name@YYYY-MM-DD (short id)` when the version file can be read here, else the short id.
    func versionLabel(_ id: ObjectID) -> String {
        guard (try? backend.size(.version(id))) != nil, let v = try? version(id) else {
            return id.short + " (not in this copy)"
        }
        let day = ISO8601DateFormatter.string(from: v.time, timeZone: TimeZone(identifier: "UTC") ?? .current, formatOptions: [.withFullDate])
        return "\(v.name)@\(day) (\(id.short))"
    }
}

extension CofferError {
    /// A failure of the remote itself (``remote(location:reason:)``).
    var isRemote: Bool { if case .remote = self { return true } else { return false } }
}
