import Foundation

/// Every failure a vault operation reports. Each case names the thing that failed
/// (a path, a vault file, a version id) so a one-line message can tell the user what to do.
public enum CofferError: Error, CustomStringConvertible, Sendable {
    /// Nothing that looks like a vault at `path` (no such directory, or no `config` in it).
    case noVault(path: String)
    /// `path` exists but is not a Coffer vault.
    case notAVault(path: String, reason: String)
    /// A vault already exists (or the directory is not empty) where one was to be created.
    case vaultExists(path: String)
    /// The vault was written by a newer format version than this build reads.
    case unsupportedFormat(path: String, found: Int, supported: Int)
    /// No key slot opens with the passphrase given.
    case wrongPassphrase(vault: String)
    /// A key slot was refused before use (for example it demands more Argon2id memory than allowed).
    case keySlotRefused(slot: String, reason: String)
    /// A vault file failed authentication, was truncated, is missing, or contradicts another.
    case integrity(object: String, reason: String)
    /// A backend has no file at `path` (a vault path, relative to its root). The vault layer
    /// reports a vault file it needs and does not find as ``integrity(object:reason:)``
    /// "missing"; see ``missingAsIntegrity``.
    case notFound(path: String)
    /// The vault's head is older than one this machine has already seen, or its chain does not contain it.
    case rollback(vault: String, reason: String)
    /// An input path given to seal does not exist.
    case inputNotFound(path: String)
    /// An input path exists but cannot be read.
    case inputUnreadable(path: String, reason: String)
    /// An input file changed while it was being read (size or content moved under us).
    case inputChanged(path: String)
    /// A file-system operation failed.
    case io(path: String, operation: String, errno: Int32)
    /// The disk holding `path` is full.
    case diskFull(path: String)
    /// No version matches the selector; `candidates` are close matches.
    case versionNotFound(selector: String, candidates: [String])
    /// More than one version matches the selector.
    case ambiguousVersion(selector: String, candidates: [String])
    /// The path does not exist inside the version.
    case pathNotInVersion(path: String, version: String)
    /// Restore would overwrite an existing file or folder.
    case destinationExists(path: String)
    /// Restore would overwrite `count` existing files or folders; `paths` names the first of them.
    case destinationConflicts(paths: [String], count: Int)
    /// Restore refused to write `path`: reaching it would go through a symbolic link (one in the
    /// version, or one found in the target folder), so it could land outside the target.
    case restoreRefused(path: String, reason: String)
    /// A caller-supplied value is invalid.
    case invalidArgument(String)
    /// Another writer changed the vault while this one was writing (its head moved). Nothing
    /// was lost; the command can be run again.
    case concurrentWriter(vault: String)
    /// Another writer holds the vault's lock.
    case locked(vault: String, holder: String)
    /// The operation was cancelled (Ctrl-C).
    case interrupted
    /// A remote vault location (an rclone remote) or a sync destination failed or refused;
    /// `reason` says what happened and what to do.
    case remote(location: String, reason: String)
    /// The vault's upgrade to format 2 was interrupted after its switch: only `coffer upgrade`
    /// may write into it until it is finished (readers read it as it is).
    case upgradeUnfinished(vault: String)

    public var description: String {
        switch self {
        case .noVault(let p): return "no vault at \(p) (create one with 'coffer init', or point --vault / COFFER_VAULT at an existing one)"
        case .notAVault(let p, let r): return "\(p) is not a Coffer vault: \(r)"
        case .vaultExists(let p): return "\(p) already exists and is not empty; choose a new or empty folder for the vault"
        case .unsupportedFormat(let p, let f, let s):
            return "vault \(p) has format version \(f); this coffer reads version \(s) and older — upgrade coffer"
        case .wrongPassphrase(let v): return "wrong passphrase for vault \(v)"
        case .keySlotRefused(let s, let r): return "key slot \(s) refused: \(r)"
        case .integrity(let o, let r): return "integrity error in \(o): \(r)"
        case .notFound(let p): return "integrity error in \(p): missing"
        case .rollback(let v, let r): return "rollback detected in vault \(v): \(r)"
        case .inputNotFound(let p): return "\(p): no such file or folder"
        case .inputUnreadable(let p, let r): return "\(p): cannot read: \(r)"
        case .inputChanged(let p): return "\(p): changed while it was being read; seal again"
        case .io(let p, let op, let e): return "\(p): \(op) failed: \(String(cString: strerror(e)))"
        case .diskFull(let p): return "\(p): the disk is full; free some space and run the command again"
        case .versionNotFound(let s, let c):
            return c.isEmpty ? "no version matches '\(s)'" : "no version matches '\(s)'; close matches: \(c.joined(separator: ", "))"
        case .ambiguousVersion(let s, let c): return "'\(s)' matches several versions: \(c.joined(separator: ", ")); give more of the id"
        case .pathNotInVersion(let p, let v): return "\(p) is not in version \(v) (see 'coffer ls \(v)')"
        case .destinationExists(let p): return "\(p) already exists; restore elsewhere or pass --overwrite (always, if-changed or if-newer)"
        case .destinationConflicts(let p, let n):
            let more = n > p.count ? " … and \(n - p.count) more" : ""
            return "\(n) paths already exist: \(p.joined(separator: ", "))\(more); restore elsewhere or pass --overwrite (always, if-changed or if-newer)"
        case .restoreRefused(let p, let r): return "\(p): not restored: \(r)"
        case .invalidArgument(let m): return m
        case .concurrentWriter(let v):
            return "vault \(v) was changed by another writer while this command ran; nothing was lost — run the command again"
        case .locked(let v, let h):
            return "vault \(v) is locked by \(h); wait for it to finish (--lock-wait SECONDS), or run 'coffer unlock' if that process is gone"
        case .interrupted: return "interrupted"
        case .remote(let l, let r): return "\(l): \(r)"
        case .upgradeUnfinished(let v):
            return "vault \(v) is being upgraded to format 2 and the upgrade did not finish: run 'coffer upgrade' to finish it; nothing was written"
        }
    }

    /// ``notFound(path:)`` as the integrity error a missing vault file is ("missing"); any other
    /// error unchanged.
    public var missingAsIntegrity: CofferError {
        if case .notFound(let p) = self { return .integrity(object: p, reason: "missing") }
        return self
    }

    /// Whether this is ``integrity(object:reason:)``.
    var isIntegrity: Bool { if case .integrity = self { return true } else { return false } }

    /// Whether this is ``notFound(path:)``.
    public var isNotFound: Bool { if case .notFound = self { return true } else { return false } }

    /// Maps an `errno` from a write to `.diskFull` or `.io`.
    static func fromErrno(_ e: Int32, path: String, operation: String) -> CofferError {
        if e == ENOSPC || e == EDQUOT { return .diskFull(path: path) }
        return .io(path: path, operation: operation, errno: e)
    }
}
