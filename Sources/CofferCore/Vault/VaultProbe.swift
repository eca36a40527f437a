import Foundation

extension Vault {
    /// The largest `config` a reader looks at; a larger file is not a Coffer config.
    static let maximumConfigSize = 65536

    /// Decides whether `backend` (a folder or a remote) holds a vault, without a passphrase, and
    /// returns its config bytes with the format and vault id they state (not yet authenticated).
    /// ``probe(at:)``, ``probe(backend:)`` and ``open(backend:passphrase:state:)`` all decide here,
    /// with one set of messages:
    ///
    /// - nothing there (a missing folder, an empty folder or remote): ``CofferError/noVault(path:)``;
    /// - a file instead of a folder, or something without a config: ``CofferError/notAVault(path:reason:)``;
    /// - key slots but no config: ``CofferError/integrity(object:reason:)`` "missing";
    /// - a config that is not one (too large, unreadable as a config): with key slots, a damaged
    ///   config (integrity); without, not a vault;
    /// - a config of format 0: integrity.
    ///
    /// A remote that cannot be reached, or a read that fails (``CofferError/remote(location:reason:)``,
    /// ``CofferError/io(path:operation:errno:)``), is thrown as it is.
    static func identify(backend: Backend) throws -> (config: [UInt8], format: Int, vaultID: ObjectID) {
        if let local = backend as? LocalBackend {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: local.root, isDirectory: &isDir) else { throw CofferError.noVault(path: local.root) }
            guard isDir.boolValue else { throw CofferError.notAVault(path: local.root, reason: "it is a file, not a folder") }
        }
        // A remote is listed once, whole: the sizes asked below are then known without a run each,
        // and a remote that cannot be listed fails here, as a listing.
        _ = try backend.listAll()
        guard let size = try backend.size(.config) else { throw try noConfig(backend) }
        guard size <= maximumConfigSize else { throw notAConfig(backend) }
        let bytes: [UInt8]
        do { bytes = try backend.read(.config) } catch CofferError.notFound {
            throw try noConfig(backend)
        } catch CofferError.integrity {
            throw notAConfig(backend)  // shorter than listed
        }
        guard let peek = try? VaultConfig.peek(bytes) else { throw notAConfig(backend) }
        guard peek.format >= 1 else { throw CofferError.integrity(object: VaultFile.config.path, reason: "format version 0") }
        return (bytes, peek.format, peek.vaultID)
    }

    /// The error for a location without a config file.
    private static func noConfig(_ backend: Backend) throws -> CofferError {
        if hasKeySlots(backend) {
            return .integrity(object: VaultFile.config.path, reason: "missing (the vault has key slots but no config)")
        }
        if try !holdsAnything(backend) { return .noVault(path: backend.location) }
        return .notAVault(path: backend.location, reason: "it has no config file")
    }

    /// The error for a config file that is not a Coffer config.
    private static func notAConfig(_ backend: Backend) -> CofferError {
        if hasKeySlots(backend) { return .integrity(object: VaultFile.config.path, reason: "not a valid config (damaged)") }
        return .notAVault(path: backend.location, reason: "its config file is not a Coffer config")
    }

    private static func hasKeySlots(_ backend: Backend) -> Bool { (try? backend.list(.keys))?.isEmpty == false }

    /// Whether the location holds anything: any entry of a local folder; for other backends any
    /// vault file or any name at the top (locks and stray names in the vault folders aside).
    static func holdsAnything(_ backend: Backend) throws -> Bool {
        if let local = backend as? LocalBackend {
            return !((try? FileManager.default.contentsOfDirectory(atPath: local.root)) ?? []).isEmpty
        }
        let tree = try SyncTree.list(backend)
        return !tree.files.isEmpty || !tree.foreign.isEmpty
    }
}
