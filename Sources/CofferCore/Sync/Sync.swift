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
    private let lock = NSLock()
    private var report: SyncReport
    private var progressDone = 0
    private var progressBytes: UInt64 = 0
    private var progressTotal = 0
    private var progressBytesTotal: UInt64 = 0
    private var phase: SyncProgress.Phase = .copying
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

    func run() throws -> SyncReport {
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
        let dstHeads = dstTree.files.keys.compactMap { path -> (generation: UInt64, id: ObjectID, path: String)? in
            guard case .head(let generation, let id)? = VaultFile(path: path) else { return nil }
            return (generation, id, path)
        }.sorted { ($0.generation, $0.path) < ($1.generation, $1.path) }
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
        var plain: [String] = []
        var heads: [String] = []
        for (path, size) in srcFiles {
            let there = dstTree.files[path]
            if there == nil {
                // missing
            } else if there != size || repairs.contains(path) {
                repairs.insert(path)
            } else {
                report.skippedFiles += 1
                continue
            }
            if VaultFile(path: path)?.folder == .heads { heads.append(path) } else { plain.append(path) }
        }
        plain.sort { (Self.rank($0), $0) < (Self.rank($1), $1) }
        heads.sort { lhs, rhs in
            // The source's current head first, then older heads newest first.
            if lhs == topPath { return rhs != topPath }
            if rhs == topPath { return false }
            return lhs > rhs
        }
        report.repaired = repairs.filter { srcFiles[$0] != nil }.sorted()
        let divergedHeads: [String] = {
            switch relation {
            case .diverged, .ahead: return dstHeads.map(\.path).filter { !srcHeadNames.contains($0) }.sorted(by: >)
            default: return []
            }
        }()
        var toDelete: [String] = []
        let extra = dstTree.files.keys.filter { srcFiles[$0] == nil && $0 != configPath && !divergedHeads.contains($0) }.sorted()
        if options.delete { toDelete = extra } else { report.extra = extra }
        if !(plain.isEmpty && heads.isEmpty && toDelete.isEmpty && divergedHeads.isEmpty) { try checkUnreadDestinationConfig() }
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
        if let remote = dest as? RcloneBackend, let local = source as? LocalBackend {
            try copyBulk(plain, sizes: srcFiles, remote: remote, localRoot: local.root)
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
            if let remote = dest as? RcloneBackend, let local = source as? LocalBackend, rest.count > 1 {
                try copyBulk(rest, sizes: srcFiles, remote: remote, localRoot: local.root, atomic: false)
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
            if let remote = dest as? RcloneBackend {
                try remote.removeFiles(toDelete)
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

    /// Copy order: config, key slots, packs and dictionaries, index, versions, heads.
    static func rank(_ path: String) -> Int {
        switch VaultFile(path: path) {
        case .config: return 0
        case .keySlot: return 1
        case .pack, .dictionary: return 2
        case .index: return 3
        case .version: return 4
        default: return 5
        }
    }

    // MARK: Checks

    func checkCancelled() throws {
        if options.isCancelled?() == true { throw CofferError.interrupted }
    }

    /// A sync into the vault's own folder would be a no-op at best.
    func refuseSelf() throws {
        guard let a = source as? LocalBackend, let b = dest as? LocalBackend else { return }
        let ra = realpath(a.root, nil).map { p -> String in defer { free(p) }; return String(cString: p) }
        let rb = realpath(b.root, nil).map { p -> String in defer { free(p) }; return String(cString: p) }
        if let ra, let rb, ra == rb {
            throw CofferError.invalidArgument("\(b.root) is the vault itself; give another folder or remote to sync to")
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

    /// Where the destination's head stands relative to the source's chain.
    func relate(dstHeads: [(generation: UInt64, id: ObjectID, path: String)], srcHeadNames: Set<String>) throws -> SyncRelation {
        guard let top = dstHeads.last else { return .new }
        let srcGen = vault.head.generation
        let tied = dstHeads.filter { $0.generation == top.generation }
        if tied.count > 1 { return .diverged }
        if srcHeadNames.contains(top.path) {
            if top.id == vault.headID { return .same }
            if top.generation > srcGen { return .ahead(top.generation - srcGen) }
            // On our chain? (A missing link in the source's own chain cannot tell; the head is ours.)
            if let atGen = try? Vault.headID(
                atGeneration: top.generation, from: vault.head, id: vault.headID, backend: source, vaultID: vault.vaultID, keys: vault.keys,
                zstd: vault.zstd), atGen != top.id {
                return .diverged
            }
            return .behind(srcGen - top.generation)
        }
        if top.generation > srcGen, let dstHead = try? readDestHead(top.path) {
            let back = try? Vault.headID(
                atGeneration: srcGen, from: dstHead, id: top.id, backend: dest, vaultID: vault.vaultID, keys: vault.keys, zstd: vault.zstd)
            if let back, back == vault.headID { return .ahead(top.generation - srcGen) }
        }
        return .diverged
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

    /// `name@YYYY-MM-DD (short id)` for a version read from `backend`, else the short id.
    func label(_ id: ObjectID, on backend: Backend) -> String {
        if backend === source, let v = try? vault.version(id) { return Self.label(v, id) }
        if let body = try? Vault.readMeta(
            backend: backend, file: .version(id), kind: .version, vaultID: vault.vaultID, keys: vault.keys, zstd: vault.zstd),
           let v = try? Version.decode(body) {
            return Self.label(v, id)
        }
        return id.short
    }

    static func label(_ v: Version, _ id: ObjectID) -> String {
        "\(v.name)@\(day(v.time)) (\(id.short))"
    }

    static func day(_ d: Date) -> String {
        ISO8601DateFormatter.string(from: d, timeZone: TimeZone(identifier: "UTC") ?? .current, formatOptions: [.withFullDate])
    }

    static func list(_ labels: [String]) -> String {
        if labels.isEmpty { return "none" }
        let shown = labels.prefix(6).joined(separator: ", ")
        return labels.count > 6 ? shown + " and \(labels.count - 6) more" : shown
    }

    /// Both sides of a diverged (or ahead) destination, in one paragraph.
    func explainDivergence(relation: SyncRelation, dstHeads: [(generation: UInt64, id: ObjectID, path: String)]) throws -> String {
        guard let top = dstHeads.last else { return "the destination has no head" }
        let src = vault.head
        var s: String
        let tied = dstHeads.filter { $0.generation == top.generation }
        if tied.count > 1 {
            return "the destination has \(tied.count) heads of generation \(top.generation) (two writers at once); "
                + "this vault is at generation \(src.generation) (head \(vault.headID.short)). Nothing was copied. "
                + "Pass --force to replace the destination's heads with this vault's"
        }
        let dstHead = try? readDestHead(top.path)
        let when = dstHead.map { " written \(Self.day(Date(timeIntervalSince1970: TimeInterval($0.time))))" } ?? ""
        let srcWhen = " written \(Self.day(Date(timeIntervalSince1970: TimeInterval(src.time))))"
        if case .ahead(let n) = relation {
            s = "the destination is newer than this vault: it is at generation \(top.generation) (head \(top.id.short)\(when)), "
                + "\(n) change\(n == 1 ? "" : "s") past this vault's generation \(src.generation) (head \(vault.headID.short)\(srcWhen))"
        } else {
            s = "the destination's history has diverged from this vault's: the destination is at generation \(top.generation) "
                + "(head \(top.id.short)\(when)), this vault at generation \(src.generation) (head \(vault.headID.short)\(srcWhen))"
        }
        if let dstHead {
            let srcLive = Set(src.live)
            let dstLive = Set(dstHead.live)
            let onlyDst = dstHead.live.filter { !srcLive.contains($0) }.map { label($0, on: dest) }
            let onlySrc = src.live.filter { !dstLive.contains($0) }.map { label($0, on: source) }
            s += "; versions only at the destination: \(Self.list(onlyDst)); versions only in this vault: \(Self.list(onlySrc))"
        } else {
            s += "; the destination's head cannot be read with this vault's keys, so its versions cannot be listed"
        }
        if case .ahead = relation {
            s += ". Nothing was copied. Sync from the destination to this vault instead, or pass --force to take the destination back to this vault's state"
        } else {
            s += ". Someone sealed into the copy, or it was replaced. Nothing was copied. Pass --force to make the destination a copy of this "
                + "vault (its own heads are removed; their files stay until --delete), or seal the destination's versions here first"
        }
        return s
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

    // MARK: Verify

    /// Reads back every destination vault file; returns the damaged ones (wrong content, or
    /// unreadable).
    func verifyDestination(dstTree: SyncTree, srcFiles: [String: Int]) throws -> [String] {
        let paths = dstTree.files.keys.sorted { (Self.rank($0), $0) < (Self.rank($1), $1) }
        startPhase(.verifying, files: paths.count, bytes: paths.reduce(0) { $0 + UInt64(max(0, dstTree.files[$1] ?? 0)) })
        if let remote = dest as? RcloneBackend {
            return try verifyRemote(paths, dstTree: dstTree, srcFiles: srcFiles, remote: remote)
        }
        let damaged = Locked<[String]>([])
        let config = try sourceConfigBytes()
        try forEachConcurrently(paths) { path in
            let size = dstTree.files[path] ?? 0
            var ok = false
            do {
                let bytes = try self.dest.read(path)
                ok = Self.matches(path, bytes, config: config)
                self.countVerified(bytes: UInt64(bytes.count))
            } catch let e as CofferError {
                switch e {
                case .integrity, .notFound, .io: ok = false
                default: throw e
                }
            }
            if !ok { damaged.mutate { $0.append(path) } }
            self.advance(bytes: UInt64(max(0, size)))
        }
        return damaged.value.sorted()
    }

    /// Verify through rclone: `hashsum sha256 --download` of every file, compared with the
    /// SHA-256 of the source's copy (itself checked against its name). Files only the
    /// destination has are read one by one and checked against their names.
    func verifyRemote(_ paths: [String], dstTree: SyncTree, srcFiles: [String: Int], remote: RcloneBackend) throws -> [String] {
        let inSource = paths.filter { srcFiles[$0] != nil }
        var expected: [String: [UInt8]] = [:]
        for path in inSource {
            try checkCancelled()
            expected[path] = SHA256.hash(try readSource(path))
        }
        let got = try remote.readBackSHA256(inSource)
        var damaged: [String] = []
        for path in inSource {
            if got[path] != expected[path] { damaged.append(path) } else { countVerified(bytes: UInt64(max(0, dstTree.files[path] ?? 0))) }
            advance(bytes: UInt64(max(0, dstTree.files[path] ?? 0)))
        }
        let config = try sourceConfigBytes()
        for path in paths where srcFiles[path] == nil {
            try checkCancelled()
            let bytes = try? remote.read(path)
            if let bytes, Self.matches(path, bytes, config: config) { countVerified(bytes: UInt64(bytes.count)) } else { damaged.append(path) }
            advance(bytes: UInt64(max(0, dstTree.files[path] ?? 0)))
        }
        return damaged
    }

    /// Whether `bytes` are the right content for `path`: the hash named by it, or for `config`
    /// the source's config.
    static func matches(_ path: String, _ bytes: [UInt8], config: [UInt8]) -> Bool {
        if path == VaultFile.config.path { return bytes == config }
        guard let id = SyncTree.expectedID(path) else { return false }
        return ObjectID.hashing(bytes) == id
    }

    /// A source file, checked against its name (the config against its MAC).
    func readSource(_ path: String) throws -> [UInt8] {
        if path == VaultFile.config.path { return try sourceConfigBytes() }
        let bytes: [UInt8]
        do { bytes = try source.read(path) } catch let e as CofferError { throw e.missingAsIntegrity }
        guard let id = SyncTree.expectedID(path), ObjectID.hashing(bytes) == id else {
            throw CofferError.integrity(
                object: path, reason: "the source's copy does not match its name; nothing referring to it was synced — run coffer check on the source")
        }
        return bytes
    }

    // MARK: Copy

    /// Copies one file: read and check at the source, write, read back and check at the destination.
    func copyOne(_ path: String, expectedSize: Int) throws {
        let bytes = try readSource(path)
        guard bytes.count == expectedSize || expectedSize < 0 else {
            throw CofferError.integrity(object: path, reason: "the source's copy changed size while syncing")
        }
        try dest.write(path, bytes)
        if !(try verifyCopy(path, bytes)) {
            // One more try: a write that went wrong on the way (or a damaged file the backend
            // kept because it had the same size) is replaced.
            try? dest.remove(path)
            try dest.write(path, bytes)
            guard try verifyCopy(path, bytes) else {
                throw CofferError.remote(
                    location: destName, reason: "\(path) does not read back as written (size or content differs, twice); the destination may be failing")
            }
        }
        advance(bytes: UInt64(bytes.count))
    }

    /// Reads a file back from the destination: its size, then its content's hash.
    func verifyCopy(_ path: String, _ bytes: [UInt8]) throws -> Bool {
        guard try dest.size(path) == bytes.count else { return false }
        let back: [UInt8]
        do { back = try dest.read(path) } catch let e as CofferError where e.isNotFound || e.isIntegrity { return false }
        guard back.count == bytes.count else { return false }
        let ok = path == VaultFile.config.path ? back == bytes : ObjectID.hashing(back) == SyncTree.expectedID(path)
        if ok { countVerified(bytes: UInt64(back.count)) }
        return ok
    }

    /// Copies files one by one, several at once.
    func copyGeneric(_ paths: [String], sizes: [String: Int]) throws {
        try forEachConcurrently(paths) { path in
            try self.copyOne(path, expectedSize: sizes[path] ?? -1)
        }
    }

    /// Copies files from a local folder to an rclone remote in few rclone runs: config, key
    /// slots, dictionaries and index files (which readers load as soon as they exist) atomically one by one,
    /// packs, versions and older heads in one run straight to their names (no reader loads them
    /// before a head refers to them); then all of them are read back at once (SHA-256 and size).
    func copyBulk(_ paths: [String], sizes: [String: Int], remote: RcloneBackend, localRoot: String, atomic: Bool = true) throws {
        guard !paths.isEmpty else { return }
        var digests: [String: [UInt8]] = [:]
        for path in paths {
            try checkCancelled()
            let bytes = try readSource(path)
            digests[path] = SHA256.hash(bytes)
        }
        // Runs of "direct" files between the atomic ones keep the copy order.
        var batch: [String] = []
        func flush() throws {
            try remote.copyDirectly(batch, fromLocalFolder: localRoot)
            for p in batch { advance(bytes: UInt64(max(0, sizes[p] ?? 0))) }
            batch = []
        }
        for path in paths {
            let loadedOnOpen: Bool
            switch VaultFile(path: path) {
            case .config, .keySlot, .index, .dictionary: loadedOnOpen = true  // a writer picks its dictionary by listing dicts/
            default: loadedOnOpen = false
            }
            if atomic && loadedOnOpen {
                try flush()
                try checkCancelled()
                try remote.copyAtomically(path, fromLocalFolder: localRoot)
                advance(bytes: UInt64(max(0, sizes[path] ?? 0)))
            } else {
                batch.append(path)
            }
        }
        try flush()
        // Read everything back; what does not match is copied once more, atomically.
        var bad = try remoteMismatches(paths, digests: digests, sizes: sizes, remote: remote)
        if !bad.isEmpty {
            for path in bad { try remote.copyAtomically(path, fromLocalFolder: localRoot) }
            bad = try remoteMismatches(bad, digests: digests, sizes: sizes, remote: remote)
            guard bad.isEmpty else {
                throw CofferError.remote(
                    location: destName,
                    reason: "\(Self.sample(bad)) do\(bad.count == 1 ? "es" : "") not read back as written (twice); the destination may be failing")
            }
        }
    }

    /// The paths whose size or SHA-256, read back from the remote, differ from the source's.
    func remoteMismatches(_ paths: [String], digests: [String: [UInt8]], sizes: [String: Int], remote: RcloneBackend) throws -> [String] {
        let listing = try remote.listTree()
        let back = try remote.readBackSHA256(paths)
        var bad: [String] = []
        for path in paths {
            if listing[path] != sizes[path] || back[path] == nil || back[path] != digests[path] {
                bad.append(path)
            } else {
                countVerified(bytes: UInt64(max(0, sizes[path] ?? 0)))
            }
        }
        return bad
    }

    // MARK: Workers and progress

    /// Runs `body` for every item on up to `options.parallelism` threads; the first error stops
    /// the others (they finish the file in hand) and is thrown.
    func forEachConcurrently(_ items: [String], _ body: @escaping @Sendable (String) throws -> Void) throws {
        if items.isEmpty { return }
        let width = max(1, min(options.parallelism, items.count))
        if width == 1 {
            for item in items {
                try checkCancelled()
                try body(item)
            }
            return
        }
        let state = Locked<(next: Int, error: Error?)>((0, nil))
        let group = DispatchGroup()
        let cancelled = options.isCancelled
        for _ in 0..<width {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                while true {
                    let i: Int? = state.mutate { s in
                        guard s.error == nil, s.next < items.count else { return nil }
                        s.next += 1
                        return s.next - 1
                    }
                    guard let i else { return }
                    do {
                        if cancelled?() == true { throw CofferError.interrupted }
                        try body(items[i])
                    } catch {
                        state.mutate { s in if s.error == nil { s.error = error } }
                        return
                    }
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        if let error = state.value.error { throw error }
    }

    func startPhase(_ phase: SyncProgress.Phase, files: Int, bytes: UInt64) {
        lock.withLock {
            self.phase = phase
            progressDone = 0
            progressBytes = 0
            progressTotal = files
            progressBytesTotal = bytes
        }
        emit()
    }

    func advance(bytes: UInt64) {
        lock.withLock {
            progressDone += 1
            progressBytes += bytes
        }
        emit()
    }

    func countVerified(bytes: UInt64) {
        lock.withLock {
            report.verifiedFiles += 1
            report.verifiedBytes += bytes
        }
    }

    func emit() {
        guard let progress = options.progress else { return }
        let p = lock.withLock {
            SyncProgress(phase: phase, filesDone: progressDone, filesTotal: progressTotal, bytesDone: progressBytes, bytesTotal: progressBytesTotal)
        }
        progress(p)
    }
}

/// A value shared between threads behind a lock.
final class Locked<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var _value: T
    init(_ value: T) { _value = value }
    var value: T { lock.withLock { _value } }
    func mutate<R>(_ body: (inout T) -> R) -> R { lock.withLock { body(&_value) } }
}
