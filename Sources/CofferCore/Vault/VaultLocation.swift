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
        case .rclone:
            let backend = parsed.backend()
            try probe(backend: backend)
            vault = try open(backend: backend, passphrase: passphrase, state: state)
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
        case .rclone: try probe(backend: parsed.backend())
        }
    }

    /// ``probe(at:)`` for any backend: one listing of the root, then the config's first bytes.
    static func probe(backend: Backend) throws {
        let tree: SyncTree
        if let remote = backend as? RcloneBackend {
            tree = SyncTree(classifying: try remote.listTree())
        } else {
            tree = try SyncTree.list(backend)
        }
        guard let size = tree.files["config"] else {
            if tree.files.keys.contains(where: { $0.hasPrefix("keys/") }) {
                throw CofferError.integrity(object: "config", reason: "missing (the vault has key slots but no config)")
            }
            if tree.files.isEmpty && tree.foreign.isEmpty { throw CofferError.noVault(path: backend.location) }
            throw CofferError.notAVault(path: backend.location, reason: "it has no config file")
        }
        // A remote that fails the read (unreachable, or sending more than it lists) is reported as such.
        let configBytes: [UInt8]?
        do { configBytes = size <= 65536 ? try backend.read("config") : nil } catch let e as CofferError where e.isRemote {
            throw e
        } catch { configBytes = nil }
        guard let configBytes, (try? VaultConfig.peek(configBytes)) != nil else {
            if tree.files.keys.contains(where: { $0.hasPrefix("keys/") }) {
                throw CofferError.integrity(object: "config", reason: "not a valid config (damaged)")
            }
            throw CofferError.notAVault(path: backend.location, reason: "its config file is not a Coffer config")
        }
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
            let name = Head.fileName(generation: finding.rememberedGeneration, id: finding.rememberedHead)
            if (try? backend.size("heads/" + name)) != nil,
               let h = try? Vault.readHead(backend: backend, name: name, vaultID: vaultID, keys: keys, zstd: zstd) {
                rememberedLive = h.live
            }
        }
        guard let rememberedLive else { return nil }
        let here = Set(head.live)
        return rememberedLive.filter { !here.contains($0) }.map { versionLabel($0) }
    }

    /// `name@YYYY-MM-DD (short id)` when the version file can be read here, else the short id.
    func versionLabel(_ id: ObjectID) -> String {
        guard (try? backend.size("versions/" + id.hex)) != nil, let v = try? version(id) else {
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
