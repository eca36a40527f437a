import Foundation

/// What this machine remembers about each vault it has opened: the newest head generation and
/// head id seen, so a copy that was rolled back or replaced is noticed.
///
/// Stored as one small text file per vault id under the state folder
/// (`$XDG_STATE_HOME/coffer/vaults/<vault-id>`, default `~/.local/state/coffer/vaults/`):
/// `<generation in decimal> <head id in hex>\n`.
public struct RollbackState: Sendable {
    public let directory: String
    /// The calls the state files are written with (libc; tests substitute a recording layer).
    let calls: any FileSystemCalls

    public init(directory: String) { self.init(directory: directory, calls: POSIXCalls()) }

    init(directory: String, calls: any FileSystemCalls) {
        self.directory = directory
        self.calls = calls
    }

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
        writeDurably(name: vaultID.hex, Array("\(generation) \(head.hex)\n".utf8))
    }

    /// Replaces `name` in the state folder: a temporary file, fsync, rename, fsync of the
    /// folder. Best effort: the state is a safeguard, and a failure leaves the previous file.
    private func writeDurably(name: String, _ bytes: [UInt8]) {
        try? LocalBackend.makeDirectory(directory, calls: calls)
        let tmp = directory + "/." + name + ".tmp"
        let fd = calls.openFile(tmp, flags: O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode: 0o600)
        guard fd >= 0 else { return }
        let ok = bytes.withUnsafeBytes { LocalBackend.writeAll(fd, $0, calls: calls) } == 0 && calls.fsync(fd) == 0
        _ = calls.close(fd)
        guard ok, calls.rename(tmp, directory + "/" + name) == 0 else { _ = calls.unlink(tmp); return }
        try? LocalBackend.syncDirectory(directory, calls: calls)
    }

    // MARK: Live versions of the remembered head

    /// Remembers the live versions of head `head` (generation `generation`) beside the state
    /// file, in `<vault id>.live`, so that a copy found behind later can be told which versions
    /// it lacks. Written only for the generation the state file remembers.
    ///
    /// `<generation> <head id>\n` then one version id (64 hex digits) per line.
    func rememberLive(vaultID: ObjectID, generation: UInt64, head: ObjectID, live: [ObjectID]) {
        guard let r = remembered(vaultID: vaultID), r.generation == generation, r.head == head else { return }
        if let known = rememberedLive(vaultID: vaultID), known.generation == generation, known.head == head { return }
        var text = "\(generation) \(head.hex)\n"
        for id in live { text += id.hex + "\n" }
        writeDurably(name: vaultID.hex + ".live", Array(text.utf8))
    }

    // MARK: Versions seen live

    /// Adds the live versions of an accepted head to the versions this machine has seen live, and
    /// drops those the head records as forgotten, in `<vault id>.seen`: one version id (64 hex
    /// digits) per line. Every id in it must be live or forgotten in any later head this machine
    /// accepts, however many heads it did not see in between (see ``Vault/open(backend:passphrase:state:)``),
    /// so a version that vanished without a forget is noticed even across a gap in the chain.
    func rememberSeen(vaultID: ObjectID, live: [ObjectID], removed: [ObjectID]) {
        let known = seen(vaultID: vaultID)
        let next = (known ?? []).union(live).subtracting(removed)
        if let known, known == next { return }
        let text = next.map(\.hex).sorted().map { $0 + "\n" }.joined()
        writeDurably(name: vaultID.hex + ".seen", Array(text.utf8))
    }

    /// Drops the record of versions seen live (after a commit the user forced over a finding).
    func forgetSeen(vaultID: ObjectID) {
        writeDurably(name: vaultID.hex + ".seen", [])
    }

    /// The versions this machine has seen live and not seen forgotten; nil when none were recorded.
    /// A damaged file counts as nothing recorded (the generation check still applies).
    func seen(vaultID: ObjectID) -> Set<ObjectID>? {
        guard let text = try? String(contentsOfFile: directory + "/" + vaultID.hex + ".seen", encoding: .utf8) else { return nil }
        var out = Set<ObjectID>()
        for line in text.split(separator: "\n") {
            guard let id = ObjectID(hex: line) else { return nil }
            out.insert(id)
        }
        return out
    }

    /// The live versions remembered with ``rememberLive(vaultID:generation:head:live:)``.
    func rememberedLive(vaultID: ObjectID) -> (generation: UInt64, head: ObjectID, live: [ObjectID])? {
        guard let text = try? String(contentsOfFile: directory + "/" + vaultID.hex + ".live", encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n")
        guard let first = lines.first else { return nil }
        let parts = first.split(separator: " ")
        guard parts.count == 2, let g = UInt64(parts[0]), let id = ObjectID(hex: parts[1]) else { return nil }
        var live: [ObjectID] = []
        for line in lines.dropFirst() {
            guard let v = ObjectID(hex: line) else { return nil }
            live.append(v)
        }
        return (g, id, live)
    }
}

/// A mismatch between a vault's head and what this machine remembers.
public struct RollbackFinding: Sendable, CustomStringConvertible {
    public var vaultGeneration: UInt64
    public var rememberedGeneration: UInt64
    public var rememberedHead: ObjectID
    /// True when the vault's chain does not contain the remembered head at all (a different history).
    public var diverged: Bool
    /// Set when the chain of previous heads from this copy's head back to the remembered
    /// generation is broken (a head file missing or unreadable): whether this copy descends from
    /// the head this machine saw cannot be shown. The generation whose head could not be read,
    /// and why.
    public var brokenLink: (generation: UInt64, reason: String)?
    /// Versions this machine saw live that this copy's head neither lists nor records as
    /// forgotten: they vanished without a forget.
    public var vanished: [ObjectID] = []
    /// What could be learnt about the versions this copy lacks; filled in after the vault is
    /// opened (``Vault/open(location:passphrase:state:)`` does it), shared by every copy of
    /// this value.
    let details = RollbackDetails()

    /// The versions the newer head lists that this copy does not (`name@date (short id)`, or
    /// the short id when the version file is not in this copy either), when they are known.
    public var missingVersions: [String]? { details.missing }

    /// The number of heads written since this copy's head.
    public var changesBehind: UInt64 { rememberedGeneration > vaultGeneration ? rememberedGeneration - vaultGeneration : 0 }

    /// True when this copy is only behind the head this machine saw: its history leads there
    /// (not diverged, no broken link) and every version it lacks is one that newer head lists,
    /// so a sync from the newer copy is all it needs.
    public var isOnlyBehind: Bool {
        guard !diverged, brokenLink == nil, rememberedGeneration > vaultGeneration else { return false }
        let named = Set(details.missing ?? [])
        return (details.vanishedLabels ?? vanished.map(\.short)).allSatisfy { named.contains($0) }
    }

    public var description: String {
        var s = summary
        // Versions already named as missing (a copy behind, or diverged) are not named twice.
        let listsMissing = brokenLink == nil && (diverged || rememberedGeneration > vaultGeneration)
        let named = listsMissing ? Set(details.missing ?? []) : []
        let labels = (details.vanishedLabels ?? vanished.map(\.short)).filter { !named.contains($0) }
        if !labels.isEmpty {
            let shown = labels.prefix(8).joined(separator: ", ")
            s += "; versions this machine saw that this copy neither lists nor records as forgotten: "
                + (labels.count > 8 ? shown + " and \(labels.count - 8) more" : shown)
        }
        return s
    }

    private var summary: String {
        if let brokenLink {
            return "this copy's history (head generation \(vaultGeneration)) cannot be followed back to head \(rememberedHead.short) "
                + "(generation \(rememberedGeneration)) that this machine saw: the head of generation \(brokenLink.generation) "
                + "\(brokenLink.reason). If a sync into this copy was interrupted, run it again; otherwise heads were deleted "
                + "or withheld, or the history was replaced"
        }
        if !diverged && rememberedGeneration <= vaultGeneration && !vanished.isEmpty {
            return "this copy's head (generation \(vaultGeneration)) follows the one this machine saw but dropped versions without forgetting them"
        }
        let missing = details.missing
        let list: String = {
            guard let missing, !missing.isEmpty else { return "" }
            let shown = missing.prefix(8).joined(separator: ", ")
            return missing.count > 8 ? shown + " and \(missing.count - 8) more" : shown
        }()
        if diverged {
            var s = "this copy's history (head generation \(vaultGeneration)) does not contain head \(rememberedHead.short) "
                + "(generation \(rememberedGeneration)) that this machine saw before; it was replaced, or sealed into from elsewhere"
            if let missing {
                s += missing.isEmpty ? "; it still lists every version that head listed" : "; versions that head listed and this copy lacks: \(list)"
            } else {
                s += "; which versions differ cannot be told: that head is not in this copy"
            }
            return s
        }
        let where_ = "(head generation \(vaultGeneration) here; this machine has seen generation \(rememberedGeneration))"
        guard let missing else {
            let n = changesBehind
            return "this copy is \(n) version\(n == 1 ? "" : "s") behind \(where_); run coffer sync from the newer copy. "
                + "The missing versions cannot be named: the newer head is not in this copy and this machine did not keep its list"
        }
        if missing.isEmpty {
            let n = changesBehind
            return "this copy is \(n) change\(n == 1 ? "" : "s") behind \(where_) but lacks no version (versions forgotten since "
                + "are still listed here); run coffer sync from the newer copy"
        }
        return "this copy is \(missing.count) version\(missing.count == 1 ? "" : "s") behind \(where_); run coffer sync from the newer copy. "
            + "Missing: \(list)"
    }
}

/// The part of a ``RollbackFinding`` that is worked out after the vault is open.
final class RollbackDetails: @unchecked Sendable {
    private let lock = NSLock()
    private var _missing: [String]?
    private var _vanishedLabels: [String]?

    /// `name@date (short id)` labels of ``RollbackFinding/vanished``, when they could be read.
    var vanishedLabels: [String]? {
        get { lock.withLock { _vanishedLabels } }
        set { lock.withLock { _vanishedLabels = newValue } }
    }

    /// The versions the newer head lists and this copy lacks; nil when that cannot be known.
    var missing: [String]? {
        get { lock.withLock { _missing } }
        set { lock.withLock { _missing = newValue } }
    }
}
