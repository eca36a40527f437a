import CofferCrypto
import Foundation

/// Settings for ``Vault/sync(to:options:)``.
public struct SyncOptions: Sendable {
    /// Re-read every file at the destination and replace any whose content does not match its
    /// name (or, for `config`, the source's config).
    public var verify = false
    /// Work out and report what would be copied, repaired and deleted; write nothing.
    public var dryRun = false
    /// Remove vault files from the destination that the source no longer has, once the new head
    /// is in place.
    public var delete = false
    /// Replace a destination whose head chain has diverged from the source's (or that is ahead
    /// of it): its own heads are removed, then the source's are written.
    public var force = false
    /// Seconds to wait for another writer's lock on the destination.
    public var lockWait: Double = 0
    /// Files copied at once to a local folder or through the generic backend path.
    public var parallelism = 4
    /// Called from worker threads as files are verified, copied and deleted.
    public var progress: (@Sendable (SyncProgress) -> Void)?
    /// Checked between files; when it returns true the sync stops with
    /// ``CofferError/interrupted`` (the destination is still a valid vault).
    public var isCancelled: (@Sendable () -> Bool)?

    public init() {}
}

/// Where a sync is.
public struct SyncProgress: Sendable {
    public enum Phase: String, Sendable {
        case verifying, copying, heads, deleting
    }

    public var phase: Phase
    public var filesDone: Int
    public var filesTotal: Int
    public var bytesDone: UInt64
    public var bytesTotal: UInt64
}

/// How the destination's head chain stood relative to the source's before the sync.
public enum SyncRelation: Sendable, Equatable, CustomStringConvertible {
    /// No vault there yet (an empty or missing folder, or a copy interrupted before its first head).
    case new
    /// The same head: nothing new to copy.
    case same
    /// The destination's head is on the source's chain, this many generations back.
    case behind(UInt64)
    /// The destination's head is not on the source's chain (someone sealed into the copy, or it
    /// was replaced). Only synced with ``SyncOptions/force``.
    case diverged
    /// The destination's chain contains the source's head and goes further: the source is the
    /// older copy. Only synced with ``SyncOptions/force``.
    case ahead(UInt64)

    public var description: String {
        switch self {
        case .new: return "new"
        case .same: return "same"
        case .behind: return "behind"
        case .diverged: return "diverged"
        case .ahead: return "ahead"
        }
    }
}

/// What a sync did (or, in a dry run, would do).
public struct SyncReport: Sendable {
    public var source: String
    public var destination: String
    public var dryRun: Bool
    public var relation: SyncRelation = .new
    /// The source's head generation (what the destination is brought to).
    public var sourceGeneration: UInt64 = 0
    /// The destination's head generation before the sync; nil when it had none.
    public var destinationGenerationBefore: UInt64?
    /// Vault files in the source (config, key slots, packs, index, versions, heads).
    public var totalFiles = 0
    public var totalBytes: UInt64 = 0
    /// Files written to the destination (or, in a dry run, that would be), repairs included.
    public var copiedFiles = 0
    public var copiedBytes: UInt64 = 0
    /// Source files already at the destination with the right size (and, with verify, content).
    public var skippedFiles = 0
    /// Destination files read back and checked: every copied file, and with verify every file.
    public var verifiedFiles = 0
    public var verifiedBytes: UInt64 = 0
    /// Destination files that were damaged (wrong size or content) and replaced from the source.
    public var repairedFiles: Int { repaired.count }
    public var repaired: [String] = []
    /// The paths copied (or to be copied), in order.
    public var copied: [String] = []
    /// Destination files removed by `delete` (or to be removed), and heads removed by `force`.
    public var deleted: [String] = []
    /// Vault files at the destination that the source does not have, kept (no `delete`).
    public var extra: [String] = []
    /// Files at the destination that are not in the source and do not match their names.
    public var damagedExtra: [String] = []
    /// Names in the destination's vault folders that are not vault files (never touched).
    public var strays: [String] = []
    /// Versions live in the source and not at the destination before the sync.
    public var versionsAdded: [ObjectID] = []
    public var duration: TimeInterval = 0

    public var deletedFiles: Int { deleted.count }
}

extension Vault {
    /// Copies this vault to `destination`, which becomes (or stays) a complete copy.
    ///
    /// 1. Both sides are listed (no file is read). A listing error stops the sync.
    /// 2. The destination must be empty, or a copy of this vault: its newest head is one of
    ///    this vault's heads, or its `config` has this vault's id. Unrelated files, another
    ///    vault, or a head chain that diverged from this one is refused (divergence only
    ///    unless ``SyncOptions/force``).
    /// 3. With ``SyncOptions/verify``, every destination file is read back and checked against
    ///    its name; damaged ones are replaced below.
    /// 4. The files the destination lacks (or holds with another size) are copied in the order
    ///    config, key slots, packs, index, versions. Each is read from the source and checked
    ///    against its name, written (atomically), then read back from the destination: size
    ///    and content hash.
    /// 5. Heads last: the source's current head first, so the destination moves from its old
    ///    state to the new one in a single step, then the older heads it lacks (filling its
    ///    chain). Each is verified like the other files.
    /// 6. With ``SyncOptions/delete``, vault files the source no longer has are removed, only
    ///    now that the new head is in place.
    ///
    /// Interrupted at any point, the destination is a valid vault at its previous state, or at
    /// the new one; running the sync again completes it. An unchanged vault costs two listings.
    public func sync(to destination: Backend, options: SyncOptions = SyncOptions()) throws -> SyncReport {
        let engine = SyncEngine(vault: self, destination: destination, options: options)
        return try engine.run()
    }
}

/// One sync run.
final class SyncEngine: @unchecked Sendable {
    let vault: Vault
    let source: Backend
    let dest: Backend
    let options: SyncOptions
    let lock = NSLock()
    var report: SyncReport
    var progressDone = 0
    var progressBytes: UInt64 = 0
    var progressTotal = 0
    var progressBytesTotal: UInt64 = 0
    var phase: SyncProgress.Phase = .copying
    /// The source's config bytes (read once, MAC-checked).
    private var sourceConfig: [UInt8]?
    /// Set when the destination's config was taken as the source's without reading it (it shares
    /// a head and has the same size): it is read before anything is written, for its format.
    private var destinationConfigUnread = false

    init(vault: Vault, destination: Backend, options: SyncOptions) {
        self.vault = vault
        self.source = vault.backend
        self.dest = destination
        self.options = options
        self.report = SyncReport(source: vault.location, destination: destination.location, dryRun: options.dryRun)
    }

    var destName: String { dest.location }

    /// Runs the sync. A sync that writes holds the destination's writer lock (as a seal holds
    /// its vault's), so a seal, prune or another sync into the copy waits for it or is refused.
    /// The destination is first looked at without the lock (a dry run without verify): one that is
    /// not a copy of this vault is refused before any lock file is written into it, and an
    /// unchanged copy costs no lock. Then the sync runs again under the lock, from fresh listings.
    func run() throws -> SyncReport {
        if options.dryRun { return try runUnlocked() }
        try refuseSelf()
        var look = options
        look.dryRun = true
        look.verify = false
        look.progress = nil
        var preview = try SyncEngine(vault: vault, destination: dest, options: look).runUnlocked()
        if !options.verify && preview.copiedFiles == 0 && preview.deleted.isEmpty {
            preview.dryRun = false
            return preview
        }
        return try vault.withWriterLock(on: dest, wait: options.lockWait) { try runUnlocked() }
    }

    func runUnlocked() throws -> SyncReport {
        let started = Date()
        try refuseSelf()
        let head = vault.head
        let headID = vault.headID
        if vault.rollback == nil {
            vault.state?.rememberLive(vaultID: vault.vaultID, generation: head.generation, head: headID, live: head.live)
        }
        report.sourceGeneration = head.generation

        // 1. Listings.
        let srcTree = try SyncTree.list(source)
        let dstTree = try SyncTree.list(dest)
        try checkCancelled()

        // The source's files: everything listed, except heads newer than the one this vault
        // opened (another writer's, copied next time) and a second head of the same generation.
        var srcFiles = srcTree.files.filter { path, _ in
            guard case .head(let generation, let id)? = VaultFile(path: path) else { return true }
            return generation < head.generation || (generation == head.generation && id == headID)
        }
        let topPath = VaultFile.head(generation: head.generation, id: headID).path
        let configPath = VaultFile.config.path
        if srcFiles[topPath] == nil {
            // Listed before a concurrent change, or a backend that lists lazily: the open head is authoritative.
            srcFiles[topPath] = try source.size(topPath)
        }
        guard srcFiles[topPath] != nil, srcFiles[configPath] != nil else {
            throw CofferError.integrity(object: "source " + (srcFiles[configPath] == nil ? configPath : topPath), reason: "missing from the source's listing")
        }
        report.totalFiles = srcFiles.count
        report.totalBytes = srcFiles.values.reduce(0) { $0 + UInt64(max(0, $1)) }
        report.strays = dstTree.strays

        // 2. Is the destination a copy of this vault, and where is its head?
        let srcHeadNames = Set(srcFiles.keys.filter { VaultFile(path: $0)?.folder == .heads })
        let dstHeads = SyncPlan.heads(in: dstTree.files)
        var repairs = Set<String>()
        try checkIdentity(srcFiles: srcFiles, dstTree: dstTree, srcHeadNames: srcHeadNames, dstHeads: dstHeads.map(\.path), repairs: &repairs)
        let relation = try relate(dstHeads: dstHeads, srcHeadNames: srcHeadNames)
        report.relation = relation
        report.destinationGenerationBefore = dstHeads.last?.generation
        if relation != .same { try checkUnreadDestinationConfig() }
        switch relation {
        case .diverged, .ahead:
            if !options.force {
                throw CofferError.rollback(vault: destName, reason: try explainDivergence(relation: relation, dstHeads: dstHeads))
            }
        default: break
        }
        report.versionsAdded = versionsAdded(relation: relation, dstHeads: dstHeads)

        // 3. --verify: read back every destination file.
        if options.verify {
            let damaged = try verifyDestination(dstTree: dstTree, srcFiles: srcFiles)
            repairs.formUnion(damaged.filter { srcFiles[$0] != nil })
            report.damagedExtra = damaged.filter { srcFiles[$0] == nil }.sorted()
        }
        try checkCancelled()

        // 4. Plan: what the destination lacks, holds with another size, or holds damaged.
        let plan = SyncPlan(source: srcFiles, destination: dstTree.files, topHead: topPath, relation: relation, damaged: repairs, delete: options.delete)
        let (plain, heads, divergedHeads, toDelete) = (plan.plain, plan.heads, plan.divergedHeads, plan.toDelete)
        report.skippedFiles = plan.skipped
        report.repaired = plan.repairs
        if !options.delete { report.extra = plan.extra }
        if plan.changesDestination { try checkUnreadDestinationConfig() }
        report.copied = plain + heads
        report.copiedFiles = plain.count + heads.count
        report.copiedBytes = (plain + heads).reduce(0) { $0 + UInt64(max(0, srcFiles[$1] ?? 0)) }

        if options.dryRun {
            report.deleted = divergedHeads + toDelete
            report.duration = Date().timeIntervalSince(started)
            return report
        }

        // 5. Copy (verified), heads last, then delete.
        startPhase(.copying, files: plain.count, bytes: plain.reduce(0) { $0 + UInt64(max(0, srcFiles[$1] ?? 0)) })
        if dest.prefersBatchCopy, let localRoot = source.localFolder {
            try copyBulk(plain, sizes: srcFiles, remote: dest, localRoot: localRoot)
        } else {
            // Groups in order; files within a group in parallel.
            var group: [String] = []
            var groupRank = -1
            for path in plain {
                if Self.rank(path) != groupRank && !group.isEmpty {
                    try copyGeneric(group, sizes: srcFiles)
                    group = []
                }
                groupRank = Self.rank(path)
                group.append(path)
            }
            try copyGeneric(group, sizes: srcFiles)
        }
        try checkCancelled()

        if !divergedHeads.isEmpty {
            // --force: take the destination back to the shared history before writing ours.
            startPhase(.deleting, files: divergedHeads.count, bytes: 0)
            for path in divergedHeads {
                try checkCancelled()
                try dest.remove(path)
                report.deleted.append(path)
                advance(bytes: 0)
            }
        }

        startPhase(.heads, files: heads.count, bytes: heads.reduce(0) { $0 + UInt64(max(0, srcFiles[$1] ?? 0)) })
        if let first = heads.first {
            try copyOne(first, expectedSize: srcFiles[first] ?? 0)
            try checkCancelled()
            let rest = Array(heads.dropFirst())
            if dest.prefersBatchCopy, let localRoot = source.localFolder, rest.count > 1 {
                try copyBulk(rest, sizes: srcFiles, remote: dest, localRoot: localRoot, atomic: false)
            } else {
                try copyGeneric(rest, sizes: srcFiles)
            }
        }

        if !toDelete.isEmpty {
            try checkCancelled()
            // Only now that the destination's head is the source's.
            let dstNow = try SyncTree.list(dest)
            guard dstNow.files[topPath] == srcFiles[topPath] else {
                throw CofferError.remote(location: destName, reason: "the new head is not in place after writing it; nothing was deleted")
            }
            startPhase(.deleting, files: toDelete.count, bytes: 0)
            if dest.prefersBatchCopy {
                try dest.removeFiles(toDelete)
                report.deleted += toDelete
            } else {
                for path in toDelete {
                    try dest.remove(path)
                    report.deleted.append(path)
                    advance(bytes: 0)
                }
            }
        }
        report.duration = Date().timeIntervalSince(started)
        return report
    }

    /// Copy order (``SyncPlan/rank(_:)``).
    static func rank(_ path: String) -> Int { SyncPlan.rank(path) }

    // MARK: Checks

    func checkCancelled() throws {
        if options.isCancelled?() == true { throw CofferError.interrupted }
    }

    /// A sync into the vault's own folder would be a no-op at best.
    func refuseSelf() throws {
        guard let a = source.localFolder, let b = dest.localFolder else { return }
        let ra = realpath(a, nil).map { p -> String in defer { free(p) }; return String(cString: p) }
        let rb = realpath(b, nil).map { p -> String in defer { free(p) }; return String(cString: p) }
        if let ra, let rb, ra == rb {
            throw CofferError.invalidArgument("\(b) is the vault itself; give another folder or remote to sync to")
        }
    }

    /// Refuses a destination that is not empty and not a copy of this vault.
    func checkIdentity(
        srcFiles: [String: Int], dstTree: SyncTree, srcHeadNames: Set<String>, dstHeads: [String], repairs: inout Set<String>
    ) throws {
        if dstTree.files.isEmpty {
            guard dstTree.foreign.isEmpty && dstTree.strays.isEmpty else {
                throw CofferError.remote(
                    location: destName,
                    reason: "is not empty and is not a copy of this vault (it holds \(Self.sample(dstTree.foreign + dstTree.strays))); "
                        + "sync to an empty folder or to an existing copy of this vault")
            }
            return
        }
        // A head of this vault at the destination proves it is a copy: heads are named by the
        // hash of their content, which is authenticated under this vault's key and id.
        let sharesAHead = dstHeads.contains { srcHeadNames.contains($0) }
        let configPath = VaultFile.config.path
        guard let dstConfigSize = dstTree.files[configPath] else {
            if sharesAHead && dstHeads.allSatisfy({ srcHeadNames.contains($0) }) { return }  // a copy that lost its config
            throw CofferError.remote(
                location: destName,
                reason: "is not empty and is not a Coffer vault (it has no config; it holds \(Self.sample(Array(dstTree.files.keys) + dstTree.foreign))); "
                    + "sync to an empty folder or to an existing copy of this vault")
        }
        if sharesAHead && dstConfigSize == srcFiles[configPath] && !options.verify {
            destinationConfigUnread = true
            return
        }
        let bytes: [UInt8]
        do { bytes = try dest.read(.config) } catch let e as CofferError where e.isNotFound || e.isIntegrity {
            if sharesAHead { repairs.insert(configPath); return }
            throw CofferError.remote(location: destName, reason: "its config file cannot be read; it is not a usable vault")
        }
        let own = try sourceConfigBytes()
        if bytes == own { return }
        let peek = dstConfigSize <= 65536 ? try? VaultConfig.peek(bytes) : nil
        try refuseOtherFormat(bytes)
        if sharesAHead { repairs.insert(configPath); return }
        guard let peek else {
            throw CofferError.remote(
                location: destName, reason: "is not a copy of this vault: its config file is not a Coffer config; sync to an empty folder or to an existing copy")
        }
        guard peek.vaultID == vault.vaultID else {
            throw CofferError.remote(
                location: destName,
                reason: "holds another vault (id \(peek.vaultID.short), this vault is \(vault.vaultID.short)); "
                    + "sync to an empty folder or to an existing copy of this vault")
        }
        // Same vault id, other bytes: a damaged config (it is never rewritten), replaced below.
        repairs.insert(configPath)
    }

    /// Refuses a destination whose config is this vault's (its MAC holds under this vault's key)
    /// in another format: a format-1 copy of a format-2 vault or the reverse. Copying files
    /// across would leave a vault whose config and heads disagree; the older copy must be
    /// upgraded first. A config whose MAC fails is damage, repaired as before.
    func refuseOtherFormat(_ bytes: [UInt8]) throws {
        guard bytes.count <= 65536, let peek = try? VaultConfig.peek(bytes), peek.vaultID == vault.vaultID, peek.format != vault.format,
              VaultConfig.macIsValid(bytes, macKey: vault.keys.config)
        else { return }
        let older = peek.format < vault.format ? "the destination" : "the source (\(vault.location))"
        throw CofferError.remote(
            location: destName,
            reason: "is a format-\(peek.format) copy of this vault and the source is format \(vault.format): run 'coffer upgrade' on \(older) first; "
                + "nothing was written")
    }

    /// Reads the destination's config when ``checkIdentity`` took it as the source's unread, and
    /// refuses another format (``refuseOtherFormat(_:)``); once, and only before a change.
    func checkUnreadDestinationConfig() throws {
        guard destinationConfigUnread else { return }
        destinationConfigUnread = false
        if let bytes = try? dest.read(.config) { try refuseOtherFormat(bytes) }
    }

    static func sample(_ names: [String]) -> String {
        let sorted = names.sorted()
        let shown = sorted.prefix(3).joined(separator: ", ")
        return sorted.count > 3 ? shown + " and \(sorted.count - 3) more" : shown
    }

    func sourceConfigBytes() throws -> [UInt8] {
        if let sourceConfig { return sourceConfig }
        let bytes: [UInt8]
        do { bytes = try source.read(.config) } catch let e as CofferError { throw e.missingAsIntegrity }
        guard VaultConfig.macIsValid(bytes, macKey: vault.keys.config) else {
            throw CofferError.integrity(object: VaultFile.config.path, reason: "the source's config does not match its MAC; run coffer check on the source")
        }
        sourceConfig = bytes
        return bytes
    }

    /// Where the destination's head stands relative to the source's chain (``SyncPlan/relation``,
    /// with the head reads it asks for).
    func relate(dstHeads: [SyncPlan.DestinationHead], srcHeadNames: Set<String>) throws -> SyncRelation {
        let srcGen = vault.head.generation
        return SyncPlan.relation(
            dstHeads: dstHeads, srcHeadNames: srcHeadNames, sourceGeneration: srcGen, sourceHead: vault.headID,
            sourceHeadAt: { generation in
                try? Vault.headID(
                    atGeneration: generation, from: self.vault.head, id: self.vault.headID, backend: self.source, vaultID: self.vault.vaultID,
                    keys: self.vault.keys, zstd: self.vault.zstd)
            },
            destinationReaches: { top in
                guard let dstHead = try? self.readDestHead(top.path) else { return false }
                let back = try? Vault.headID(
                    atGeneration: srcGen, from: dstHead, id: top.id, backend: self.dest, vaultID: self.vault.vaultID, keys: self.vault.keys,
                    zstd: self.vault.zstd)
                return back == self.vault.headID
            })
    }

    func readDestHead(_ path: String) throws -> Head {
        try Self.readHead(path, on: dest, vault: vault)
    }

    /// The head at `path` (a `heads/` path) read from `backend`; a path that is not a head's is
    /// an integrity error.
    static func readHead(_ path: String, on backend: Backend, vault: Vault) throws -> Head {
        guard case .head(let generation, let id)? = VaultFile(path: path) else {
            throw CofferError.integrity(object: path, reason: "bad name")
        }
        return try Vault.readHead(backend: backend, generation: generation, id: id, vaultID: vault.vaultID, keys: vault.keys, zstd: vault.zstd)
    }
    /// Versions live in the source and not in the destination's head.
    func versionsAdded(relation: SyncRelation, dstHeads: [(generation: UInt64, id: ObjectID, path: String)]) -> [ObjectID] {
        switch relation {
        case .same: return []
        case .new: return vault.head.live
        case .behind:
            guard let top = dstHeads.last,
                  let h = try? Self.readHead(top.path, on: source, vault: vault)
            else { return vault.head.live }
            let there = Set(h.live)
            return vault.head.live.filter { !there.contains($0) }
        case .diverged, .ahead:
            guard let top = dstHeads.last, let h = try? readDestHead(top.path) else { return vault.head.live }
            let there = Set(h.live)
            return vault.head.live.filter { !there.contains($0) }
        }
    }
}
