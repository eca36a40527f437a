import ArgumentParser
import CofferCore
import Foundation

/// The exit statuses of `coffer`. They are part of the interface: scripts and cron jobs test
/// them, `coffer --help` and README.md list them.
enum ExitStatus: Int32, CaseIterable {
    /// Success.
    case success = 0
    /// Any other error.
    case failure = 1
    /// Some input could not be read; the version was still written and its notes say which.
    /// For `restore`: some entries could not be restored; the others were.
    case partial = 3
    /// No vault at the path given (or the folder is not a vault).
    case noVault = 10
    /// The vault is locked by another writer.
    case locked = 11
    /// The passphrase opens no key slot of the vault.
    case wrongPassphrase = 12
    /// Tampered or corrupt vault data.
    case integrity = 13
    /// The vault is older than one this machine has seen (rollback).
    case rollback = 14
    /// The command line is wrong: unknown option, missing or invalid argument.
    case usage = 64
    /// Hung up (SIGHUP), handled like Ctrl-C.
    case hangup = 129
    /// Interrupted (Ctrl-C); the vault is unchanged.
    case interrupted = 130
    /// Terminated (SIGTERM), handled like Ctrl-C.
    case terminated = 143

    /// One line per status, for `--help` and README.md.
    var meaning: String {
        switch self {
        case .success: return "success"
        case .failure: return "other error (message on stderr)"
        case .partial: return "seal: some input could not be read (the version is still written); restore: some entries could not be restored; cat: a zip member with a fault of the zip's own was written as unzip writes it"
        case .noVault: return "no vault at the path, or the folder is not a vault"
        case .locked: return "the vault is locked by another writer"
        case .wrongPassphrase: return "wrong passphrase"
        case .integrity: return "integrity failure (tampered or corrupt data)"
        case .rollback: return "rollback detected (the vault is older than one seen before)"
        case .usage: return "usage error (bad option or argument)"
        case .hangup: return "hung up (SIGHUP), handled like Ctrl-C"
        case .interrupted: return "interrupted (Ctrl-C); the vault is unchanged"
        case .terminated: return "terminated (SIGTERM), handled like Ctrl-C"
        }
    }

    /// The exit-code table shown at the end of `coffer --help`.
    static var helpTable: String {
        allCases.map { s in
            let code = String(s.rawValue)
            return String(repeating: " ", count: max(0, 5 - code.count)) + code + "  " + s.meaning
        }.joined(separator: "\n")
    }

    /// The status a library error maps to.
    init(_ error: CofferError) {
        switch error {
        case .noVault, .notAVault: self = .noVault
        case .wrongPassphrase: self = .wrongPassphrase
        // A vault file a command needs and does not find is damage, as the library reports it.
        case .integrity, .notFound, .keySlotRefused: self = .integrity
        case .rollback: self = .rollback
        case .concurrentWriter, .locked: self = .locked
        case .interrupted: self = .interrupted
        case .vaultExists, .unsupportedFormat, .inputNotFound, .inputUnreadable, .inputChanged, .io, .diskFull,
             .versionNotFound, .ambiguousVersion, .pathNotInVersion, .destinationExists, .destinationConflicts, .restoreRefused, .invalidArgument,
             .remote, .upgradeUnfinished:
            self = .failure
        }
    }
}

/// A failure the command layer reports itself: one line on stderr (none if `message` is empty)
/// and an exit status.
struct CommandFailure: Error, CustomStringConvertible {
    var status: ExitStatus
    var message: String

    init(_ status: ExitStatus, _ message: String = "") {
        self.status = status
        self.message = message
    }

    /// A usage error found after parsing (no vault given, no passphrase source).
    static func usage(_ message: String) -> CommandFailure { CommandFailure(.usage, message) }

    var description: String { message }
}

/// Turns any error thrown by a command into its one-line message and exit status.
enum FailureReport {
    static func describe(_ error: Error) -> (status: ExitStatus, message: String) {
        switch error {
        case let f as CommandFailure:
            return (f.status, f.message)
        case let e as CofferError:
            return (ExitStatus(e), message(for: e))
        default:
            return (.failure, "\(error)")
        }
    }

    /// The library's description, plus what to do where it does not already say.
    static func message(for error: CofferError) -> String {
        switch error {
        case .wrongPassphrase:
            return error.description + " (check the passphrase source: prompt, COFFER_PASSPHRASE, --passphrase-file, --passphrase-command)"
        case .integrity, .notFound, .keySlotRefused:
            return error.description + " — the vault data is damaged or was altered; use another copy of the vault"
        case .rollback:
            return error.description + " (seal refuses; 'coffer seal --force' writes anyway)"
        case .interrupted:
            return "interrupted; the vault is unchanged"
        case .inputNotFound:
            return error.description + "; check the path and seal again"
        case .io(let path, let operation, let code) where code == EACCES || code == EPERM:
            return "\(path): \(operation) failed: permission denied; check the folder's permissions"
        default:
            return error.description
        }
    }
}
