import Foundation

/// What this machine remembers about each vault it has opened: the newest head generation and
/// head id seen, so a copy that was rolled back or replaced is noticed.
///
/// Stored as one small text file per vault id under the state folder
/// (`$XDG_STATE_HOME/coffer/vaults/<vault-id>`, default `~/.local/state/coffer/vaults/`):
/// `<generation in decimal> <head id in hex>\n`.
public struct RollbackState: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// The default state folder for the current user.
    public static var defaultDirectory: String {
        let env = ProcessInfo.processInfo.environment
        if let x = env["XDG_STATE_HOME"], x.hasPrefix("/") { return x + "/coffer/vaults" }
        let home = env["HOME"] ?? NSHomeDirectory()
        return home + "/.local/state/coffer/vaults"
    }

    func remembered(vaultID: ObjectID) -> (generation: UInt64, head: ObjectID)? {
        guard let text = try? String(contentsOfFile: directory + "/" + vaultID.hex, encoding: .utf8) else { return nil }
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count >= 2, let g = UInt64(parts[0]), let id = ObjectID(hex: parts[1]) else { return nil }
        return (g, id)
    }

    /// Records `head` if it is newer than what is remembered.
    func remember(vaultID: ObjectID, generation: UInt64, head: ObjectID) {
        if let r = remembered(vaultID: vaultID), r.generation >= generation { return }
        try? LocalBackend.makeDirectory(directory)
        let line = Array("\(generation) \(head.hex)\n".utf8)
        let tmp = directory + "/." + vaultID.hex + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        let ok = line.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) } == line.count && fsync(fd) == 0
        close(fd)
        guard ok, rename(tmp, directory + "/" + vaultID.hex) == 0 else { unlink(tmp); return }
        try? LocalBackend.syncDirectory(directory)
    }
}

/// A mismatch between a vault's head and what this machine remembers.
public struct RollbackFinding: Sendable, CustomStringConvertible {
    public var vaultGeneration: UInt64
    public var rememberedGeneration: UInt64
    public var rememberedHead: ObjectID
    /// True when the vault's chain does not contain the remembered head at all (a different history).
    public var diverged: Bool

    public var description: String {
        if diverged {
            return "this vault's history (head generation \(vaultGeneration)) does not contain head \(rememberedHead.short) "
                + "(generation \(rememberedGeneration)) that this machine saw before; it was replaced or written to from elsewhere"
        }
        let behind = rememberedGeneration - vaultGeneration
        return "this copy is at head generation \(vaultGeneration) but this machine has seen generation \(rememberedGeneration) "
            + "(\(behind) change\(behind == 1 ? "" : "s") behind); versions sealed since may be missing — run coffer sync from the newer copy"
    }
}
