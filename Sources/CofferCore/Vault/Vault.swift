import CofferCrypto
import Foundation

/// Settings for a new vault.
public struct VaultOptions: Sendable {
    /// Argon2id cost of the first key slot. Default: ``KDFParameters/moderate``.
    public var kdf: KDFParameters = .moderate
    /// Chunk-size tiers by file size.
    public var tiers: [ChunkTier] = ChunkTier.defaults
    /// zstd level for chunk payloads of 64 KiB or more that the probe finds compressible (chunks
    /// under 64 KiB use level 1 or the dictionary's calibrated level at levels up to 3). Level 3:
    /// on the mixed corpus's 1 MiB text chunks it stored 0.55% less than level 1 for about 0.3 s
    /// more CPU in a 256 MiB seal (Docs/FORMAT.md, "Compression"; level 1 from 2026-11-29 to
    /// 2026-12-06).
    public var compressionLevel: Int = 3
    /// Packs are closed once they hold this many bytes.
    public var packTargetSize: Int = 16 << 20
    /// Packs filled at once; each chunk goes to one of them at random.
    public var openPacks: Int = 2

    public init() {}
}

/// An open vault: its keys, config, head and chunk index.
///
/// A `Vault` is used from one thread at a time; its operations parallelise internally.
public final class Vault: @unchecked Sendable {
    public let backend: Backend
    /// The settings (`config`); only `upgrade` changes it (format 1 to 2).
    public internal(set) var config: VaultConfig
    let keys: VaultKeys
    let zstd: Zstd
    let gear: GearTable
    public private(set) var head: Head
    public private(set) var headID: ObjectID
    var index: ChunkIndex
    /// The key slot that opened this vault.
    public let keySlotID: String
    /// Set when this vault's head is older than, or diverges from, the head this machine saw last.
    public let rollback: RollbackFinding?
    let state: RollbackState?
    private var versionCache: [ObjectID: Version] = [:]
    /// The writer lock while one is held (checked before index and head writes).
    var heldLock: HeldLock?
    /// Index files already read into `index`.
    var loadedIndexFiles = Set<String>()
    /// Bytes of metadata files (index, version, dictionary, head) this object has written: a
    /// seal counts its own into ``VersionStats/addedBytes``.
    var metaBytesWritten: UInt64 { metaBytesLock.withLock { metaBytes } }
    private var metaBytes: UInt64 = 0
    private let metaBytesLock = NSLock()
    /// Packs that index files name but storage does not hold (see ``forgetMissingPacks()``):
    /// their entries are left out of `index`.
    var missingPacks = Set<ObjectID>()
    /// Stale locks this vault object took over, one line each (for the command to print).
    public internal(set) var lockNotes: [String] = []

    public var vaultID: ObjectID { config.vaultID }
    public var location: String { backend.location }
    /// The vault's format (`config`'s): 1 or 2. Format 2 seals versions as trees (body_version 3),
    /// writes index files of bucketed size and heads that list the current index files.
    public var format: Int { config.format }

    private init(
        backend: Backend, config: VaultConfig, keys: VaultKeys, head: Head, headID: ObjectID, index: ChunkIndex, keySlotID: String,
        rollback: RollbackFinding?, state: RollbackState?
    ) {
        self.backend = backend
        self.config = config
        self.keys = keys
        self.zstd = Zstd(level: Int32(config.compressionLevel))
        if config.format >= 2 { zstd.dictionaries = Vault.dictionaryCache(backend: backend, vaultID: config.vaultID, keys: keys) }
        self.gear = GearTable(secret: keys.chunker)
        self.head = head
        self.headID = headID
        self.index = index
        self.keySlotID = keySlotID
        self.rollback = rollback
        self.state = state
    }

    // MARK: Create

    /// Creates a vault in `path` (a new or empty folder) protected by `passphrase`, in vault
    /// `format` 1 or 2 (default: ``VaultConfig/currentFormat``).
    public static func create(
        at path: String, passphrase: SecureBytes, options: VaultOptions = VaultOptions(), host: String = Vault.hostName,
        state: RollbackState? = RollbackState(directory: RollbackState.defaultDirectory), format: Int = VaultConfig.currentFormat
    ) throws -> Vault {
        for t in options.tiers { try wrapFormat("options") { try t.sizes.validate() } }
        guard (1...VaultConfig.currentFormat).contains(format) else {
            throw CofferError.invalidArgument("vault format \(format) is not one this coffer writes (1 to \(VaultConfig.currentFormat))")
        }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            let contents = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? ["?"]
            guard isDir.boolValue, contents.isEmpty else { throw CofferError.vaultExists(path: path) }
        }
        try LocalBackend.makeDirectory(path)
        return try create(backend: LocalBackend(root: path), passphrase: passphrase, options: options, host: host, state: state, format: format)
    }

    /// Creates a vault on `backend` (a folder, or object storage that holds nothing at its location yet).
    public static func create(
        backend: Backend, passphrase: SecureBytes, options: VaultOptions = VaultOptions(), host: String = Vault.hostName,
        state: RollbackState? = RollbackState(directory: RollbackState.defaultDirectory), format: Int = VaultConfig.currentFormat
    ) throws -> Vault {
        for t in options.tiers { try wrapFormat("options") { try t.sizes.validate() } }
        guard (1...VaultConfig.currentFormat).contains(format) else {
            throw CofferError.invalidArgument("vault format \(format) is not one this coffer writes (1 to \(VaultConfig.currentFormat))")
        }
        if !(backend is LocalBackend), try holdsAnything(backend) { throw CofferError.vaultExists(path: backend.location) }
        let master = SecureBytes.random(count: KeyWrap.masterKeyBytes)
        let keys = VaultKeys(master: master)
        let now = Int64(Date().timeIntervalSince1970)
        let config = VaultConfig(
            format: format, vaultID: ObjectID(bytes: Sodium.randomBytes(count: 32)), created: now,
            chunkerAlgorithm: VaultConfig.gearFastCDC, tiers: options.tiers, compression: VaultConfig.zstdCompression,
            compressionLevel: options.compressionLevel, packTargetSize: options.packTargetSize, openPacks: options.openPacks)
        let slot: KeySlot
        do {
            slot = try KeySlot.create(masterKey: master, passphrase: passphrase, parameters: options.kdf, vaultID: config.vaultID, created: now, host: host)
        } catch let e as CryptoError {
            throw CofferError.invalidArgument("cannot create the key slot: \(e)")
        }
        let slotBytes = slot.encode()
        let slotID = ObjectID.hashing(slotBytes).hex
        // Order: key slot, first head, then config — a folder without config is not yet a vault.
        try backend.write(.keySlot(slotID), slotBytes)
        let zstd = Zstd(level: Int32(config.compressionLevel))
        let head = Head(generation: 1, previous: .zero, time: now, live: [], removed: [], indexFiles: format >= 2 ? [] : nil)
        let headFile = MetaObject.seal(head.encode(), kind: .head, vaultID: config.vaultID, key: keys.meta, zstd: zstd)
        let headID = ObjectID.hashing(headFile)
        try backend.write(.head(generation: 1, id: headID), headFile)
        if let local = backend as? LocalBackend {
            for dir: VaultFolder in [.packs, .index, .versions, .locks] { try LocalBackend.makeDirectory(local.fullPath(dir.rawValue)) }
        }
        try backend.write(.config, config.encode(macKey: keys.config))
        state?.remember(vaultID: config.vaultID, generation: 1, head: headID)
        return Vault(
            backend: backend, config: config, keys: keys, head: head, headID: headID, index: ChunkIndex(), keySlotID: slotID,
            rollback: nil, state: state)
    }

    // MARK: Open

    /// Opens the vault at `path` with `passphrase`.
    ///
    /// - Parameter state: where this machine remembers the newest head of each vault; nil turns
    ///   rollback detection off.
    public static func open(
        at path: String, passphrase: SecureBytes, state: RollbackState? = RollbackState(directory: RollbackState.defaultDirectory)
    ) throws -> Vault {
        try open(backend: LocalBackend(root: path), passphrase: passphrase, state: state)
    }

    /// Checks, without a passphrase, that `path` holds a vault this build can read, so a wrong
    /// path is reported before asking for one (``identify(backend:)``).
    /// - Throws: ``CofferError/noVault(path:)``, ``CofferError/notAVault(path:reason:)``, or
    ///   ``CofferError/integrity(object:reason:)`` for a damaged config.
    public static func probe(at path: String) throws {
        _ = try identify(backend: LocalBackend(root: path))
    }

    /// Opens a vault on any backend.
    public static func open(backend: Backend, passphrase: SecureBytes, state: RollbackState?) throws -> Vault {
        let (configBytes, format, configVaultID) = try identify(backend: backend)
        let peek = (format: format, vaultID: configVaultID)
        let newer = peek.format > VaultConfig.currentFormat

        // Unlock: try each key slot. A slot whose content does not match its name is damaged.
        let slotNames = try backend.list(.keys)
        guard !slotNames.isEmpty else { throw CofferError.integrity(object: "keys/", reason: "the vault has no key slot") }
        // Each slot costs one Argon2id run: a hostile store must not be able to add hundreds.
        guard slotNames.count <= Vault.maximumKeySlots else {
            throw CofferError.integrity(object: "keys/", reason: "\(slotNames.count) key slots, more than the \(Vault.maximumKeySlots) a vault may have")
        }
        var master: SecureBytes?
        var usedSlot = ""
        var refusals: [CofferError] = []
        for name in slotNames {
            let file = VaultFile.keySlot(name)
            if let size = try backend.size(file), size > KeySlot.maximumFileSize {
                refusals.append(.integrity(object: file.path, reason: "\(size) bytes, larger than a key slot may be"))
                continue
            }
            let bytes: [UInt8]
            do { bytes = try backend.read(file) } catch let e as CofferError { throw e.missingAsIntegrity }
            guard ObjectID.hashing(bytes).hex == name else {
                refusals.append(.integrity(object: file.path, reason: "content does not match its name"))
                continue
            }
            let slot: KeySlot
            do { slot = try KeySlot.decode(bytes) } catch {
                refusals.append(.integrity(object: file.path, reason: "\(error)"))
                continue
            }
            do {
                master = try slot.unlock(passphrase: passphrase, vaultID: peek.vaultID)
                usedSlot = name
                break
            } catch CryptoError.wrongPassphrase {
                continue
            } catch let e as CryptoError {
                switch e {
                case .kdfParametersTooHigh, .kdfParametersInvalid, .kdfOutOfMemory:
                    refusals.append(.keySlotRefused(slot: name, reason: e.description))
                default:
                    refusals.append(.integrity(object: file.path, reason: e.description))
                }
            }
        }
        guard let master else {
            if newer { throw CofferError.unsupportedFormat(path: backend.location, found: peek.format, supported: VaultConfig.currentFormat) }
            if let first = refusals.first { throw first }
            throw CofferError.wrongPassphrase(vault: backend.location)
        }
        let keys = VaultKeys(master: master)
        if newer {
            // A format number we do not know: a newer vault if the MAC holds, damage otherwise.
            guard VaultConfig.macIsValid(configBytes, macKey: keys.config) else {
                throw CofferError.integrity(object: VaultFile.config.path, reason: "config MAC does not match (altered config)")
            }
            throw CofferError.unsupportedFormat(path: backend.location, found: peek.format, supported: VaultConfig.currentFormat)
        }
        let config: VaultConfig
        do { config = try VaultConfig.decode(configBytes, macKey: keys.config) } catch {
            throw CofferError.integrity(object: VaultFile.config.path, reason: "\(error)")
        }

        let zstd = Zstd(level: Int32(config.compressionLevel))
        let (head, headID) = try loadHead(backend: backend, vaultID: config.vaultID, keys: keys, zstd: zstd)

        let finding = state.flatMap {
            rollbackFinding(head: head, headID: headID, state: $0, backend: backend, vaultID: config.vaultID, keys: keys, zstd: zstd)
        }
        if finding == nil, let state {
            state.remember(vaultID: config.vaultID, generation: head.generation, head: headID)
            state.rememberSeen(vaultID: config.vaultID, live: head.live, removed: head.removed)
        }

        let vault = Vault(
            backend: backend, config: config, keys: keys, head: head, headID: headID, index: ChunkIndex(), keySlotID: usedSlot, rollback: finding,
            state: state)
        try vault.loadNewIndexFiles()
        return vault
    }

    /// Compares a copy's head with what this machine remembers of the vault: the newest head it
    /// accepted, and the versions it saw live. Nil when the copy holds everything this machine saw.
    ///
    /// - The copy is behind when its generation is lower than the remembered one.
    /// - It diverged when its chain of previous heads reaches the remembered generation at another head.
    /// - A chain that cannot be followed back (a previous head missing or unreadable) is a finding
    ///   too: it cannot be shown to descend from the remembered head.
    /// - Whatever the chain says, a version seen live must be live or forgotten (tombstoned) in the
    ///   copy's head; the others are listed as vanished.
    static func rollbackFinding(
        head: Head, headID: ObjectID, state: RollbackState, backend: Backend, vaultID: ObjectID, keys: VaultKeys, zstd: Zstd
    ) -> RollbackFinding? {
        var finding: RollbackFinding?
        let seen = state.remembered(vaultID: vaultID)
        if let seen {
            func make(diverged: Bool) -> RollbackFinding {
                RollbackFinding(vaultGeneration: head.generation, rememberedGeneration: seen.generation, rememberedHead: seen.head, diverged: diverged)
            }
            if seen.generation > head.generation {
                finding = make(diverged: false)
            } else {
                switch followChain(toGeneration: seen.generation, from: head, id: headID, backend: backend, vaultID: vaultID, keys: keys, zstd: zstd) {
                case .reached(let atSeen):
                    if atSeen != seen.head { finding = make(diverged: true) }
                case .broken(let generation, let reason):
                    finding = make(diverged: false)
                    finding?.brokenLink = (generation, reason)
                }
            }
        }
        if let seenIDs = state.seen(vaultID: vaultID) {
            let here = Set(head.live).union(head.removed)
            let vanished = seenIDs.filter { !here.contains($0) }.sorted { $0.hex < $1.hex }
            if !vanished.isEmpty {
                if finding == nil {
                    finding = RollbackFinding(
                        vaultGeneration: head.generation, rememberedGeneration: seen?.generation ?? head.generation,
                        rememberedHead: seen?.head ?? headID, diverged: false)
                }
                finding?.vanished = vanished
            }
        }
        return finding
    }

    /// Reads the index files not read yet. Format 1: every file in `index/`; names that are not
    /// 64 hex digits (a sync tool's "conflicted copy", a stray file) are not vault files, and
    /// check reports them. Format 2: exactly the files the head lists (``indexFilesToLoad()``).
    func loadNewIndexFiles() throws {
        var batch = ChunkIndex.Batch()  // merged into the index once
        var names: [String] = []
        for name in try indexFilesToLoad() where !loadedIndexFiles.contains(name) {
            guard let vaultFile = VaultFile(path: VaultFolder.index.rawValue + "/" + name) else { continue }
            let body: [UInt8]
            do {
                body = try Vault.readMeta(backend: backend, file: vaultFile, kind: .index, vaultID: vaultID, keys: keys, zstd: zstd)
            } catch CofferError.integrity(let object, let reason) where format >= 2 && head.indexFiles != nil {
                throw CofferError.integrity(object: object, reason: reason + " (the current head lists it)")
            }
            let file: IndexFile
            do { file = try IndexFile.decode(body) } catch { throw CofferError.decoding(error, object: vaultFile.path) }
            for p in file.packs where !missingPacks.contains(p.pack) { batch.append(pack: p.pack, entries: p.entries) }
            names.append(name)
        }
        index.add(consume batch)
        loadedIndexFiles.formUnion(names)
    }

    /// The names of the index files readers load. Format 1: every file in `index/`. Format 2:
    /// exactly those the current head lists, whether or not `index/` holds others (an old index
    /// put back, or the index of a seal that died before its head); when the head no longer lists
    /// a file already loaded (after another writer's prune), the index is emptied to be read again.
    private func indexFilesToLoad() throws -> [String] {
        guard format >= 2 else { return try backend.list(.index) }
        // A format-1 head in a format-2 vault: `upgrade` switched the config and has not
        // committed its head yet (``upgradeInProgress``); every index file is read, as in format 1.
        guard let listed = head.indexFiles else { return try backend.list(.index) }
        let names = listed.map(\.hex)
        if !loadedIndexFiles.isSubset(of: names) {
            index = ChunkIndex()
            loadedIndexFiles = []
        }
        return names
    }

    /// Makes sure no chunk is taken as stored in a pack that storage does not hold, before a
    /// writer deduplicates against the index: lists the packs once and, when an index file names
    /// a pack that is not there (an old index file put back after prune, or a deleted pack), reads
    /// the index again without those packs, so their chunks are stored anew. Returns the packs
    /// that were missing (none in a sound vault; `check` reports them).
    func forgetMissingPacks() throws -> (stored: Set<ObjectID>, missing: Set<ObjectID>) {
        let stored = try storedPacks()
        let missing = index.packs.subtracting(stored)
        guard !missing.isEmpty else { return (stored, []) }
        missingPacks.formUnion(missing)
        index = ChunkIndex()
        loadedIndexFiles = []
        try loadNewIndexFiles()
        return (stored, missing)
    }

    /// The packs storage holds (one listing).
    func storedPacks() throws -> Set<ObjectID> {
        Set(try backend.ids(in: .packs))
    }

    /// After taking the writer lock: catches up with changes another writer committed since this
    /// vault was opened (a newer head that descends from ours, and its index files), so a writer
    /// that waited for the lock builds on the latest state.
    func catchUp() throws {
        let (current, currentID) = try Vault.loadHead(backend: backend, vaultID: vaultID, keys: keys, zstd: zstd)
        guard currentID != headID else { return }
        guard current.generation > head.generation,
              try Vault.headID(atGeneration: head.generation, from: current, id: currentID, backend: backend, vaultID: vaultID, keys: keys, zstd: zstd) == headID
        else {
            throw CofferError.concurrentWriter(vault: location)
        }
        head = current
        headID = currentID
        try loadNewIndexFiles()
        rememberCommittedHead()
    }

    /// Reads, checks the name of, decrypts and unpads one metadata file.
    /// A file that is not there is an integrity error "missing".
    static func readMeta(
        backend: Backend, file: VaultFile, kind: MetaKind, vaultID: ObjectID, keys: VaultKeys, zstd: Zstd
    ) throws -> [UInt8] {
        let path = file.path
        guard let expectedID = file.contentID else { throw CofferError.integrity(object: path, reason: "its name is not a vault file name") }
        if let size = try backend.size(file), size > MetaObject.maximumFile {
            throw CofferError.integrity(object: path, reason: "\(size) bytes, larger than any metadata file may be")
        }
        let bytes: [UInt8]
        do { bytes = try backend.read(file) } catch let e as CofferError { throw e.missingAsIntegrity }
        guard ObjectID.hashing(bytes) == expectedID else {
            throw CofferError.integrity(object: path, reason: "content does not match its name")
        }
        do { return try MetaObject.open(bytes, kind: kind, vaultID: vaultID, key: keys.meta, zstd: zstd) } catch {
            throw CofferError.decoding(error, object: path)
        }
    }

    /// The head files present, by generation.
    static func listHeads(backend: Backend) throws -> [(generation: UInt64, id: ObjectID)] {
        try backend.files(in: .heads).compactMap { file -> (generation: UInt64, id: ObjectID)? in
            guard case .head(let generation, let id) = file else { return nil }
            return (generation, id)
        }.sorted { $0.generation < $1.generation }
    }

    static func loadHead(backend: Backend, vaultID: ObjectID, keys: VaultKeys, zstd: Zstd) throws -> (Head, ObjectID) {
        let heads = try listHeads(backend: backend)
        guard let top = heads.last else { throw CofferError.integrity(object: "heads/", reason: "the vault has no head") }
        let tied = heads.filter { $0.generation == top.generation }
        guard tied.count == 1 else {
            throw CofferError.integrity(
                object: "heads/", reason: "\(tied.count) heads share generation \(top.generation) (two writers at once); run coffer check")
        }
        let head = try readHead(backend: backend, generation: top.generation, id: top.id, vaultID: vaultID, keys: keys, zstd: zstd)
        return (head, top.id)
    }

    /// Reads the head file `name` (in `heads/`); a name that is not a head's is an integrity error.
    static func readHead(backend: Backend, name: String, vaultID: ObjectID, keys: VaultKeys, zstd: Zstd) throws -> Head {
        guard case .head(let g, let id)? = VaultFile(path: VaultFolder.heads.rawValue + "/" + name) else {
            throw CofferError.integrity(object: VaultFolder.heads.rawValue + "/" + name, reason: "bad name")
        }
        return try readHead(backend: backend, generation: g, id: id, vaultID: vaultID, keys: keys, zstd: zstd)
    }

    /// Reads the head of `generation` named `id`, and checks it holds that generation.
    static func readHead(backend: Backend, generation: UInt64, id: ObjectID, vaultID: ObjectID, keys: VaultKeys, zstd: Zstd) throws -> Head {
        let file = VaultFile.head(generation: generation, id: id)
        let body = try readMeta(backend: backend, file: file, kind: .head, vaultID: vaultID, keys: keys, zstd: zstd)
        let head: Head
        do { head = try Head.decode(body) } catch { throw CofferError.decoding(error, object: file.path) }
        guard head.generation == generation else {
            throw CofferError.integrity(object: file.path, reason: "holds generation \(head.generation), its name says \(generation)")
        }
        return head
    }

    /// Follows the chain of previous heads back to `generation`; nil if a link is no longer stored.
    static func headID(
        atGeneration generation: UInt64, from head: Head, id: ObjectID, backend: Backend, vaultID: ObjectID, keys: VaultKeys, zstd: Zstd
    ) throws -> ObjectID? {
        var current = head
        var currentID = id
        while current.generation > generation {
            let prev = VaultFile.head(generation: current.generation - 1, id: current.previous)
            guard try backend.size(prev) != nil else { return nil }
            current = try readHead(backend: backend, generation: current.generation - 1, id: current.previous, vaultID: vaultID, keys: keys, zstd: zstd)
            currentID = ObjectID.hashing(try backend.read(prev))
        }
        return currentID
    }

    /// Where following the chain of previous heads back to a generation ends.
    enum ChainEnd {
        /// The head the chain holds at that generation.
        case reached(ObjectID)
        /// The head of `generation` (named by the next head) is missing or cannot be read.
        case broken(generation: UInt64, reason: String)
    }

    /// ``headID(atGeneration:from:id:backend:vaultID:keys:zstd:)`` that says where and why the
    /// chain breaks instead of returning nil or throwing.
    static func followChain(
        toGeneration generation: UInt64, from head: Head, id: ObjectID, backend: Backend, vaultID: ObjectID, keys: VaultKeys, zstd: Zstd
    ) -> ChainEnd {
        var current = head
        var currentID = id
        while current.generation > generation {
            let g = current.generation - 1
            let prev = VaultFile.head(generation: g, id: current.previous)
            do {
                guard try backend.size(prev) != nil else { return .broken(generation: g, reason: "is missing") }
                let bytes = try backend.read(prev)
                currentID = ObjectID.hashing(bytes)
                current = try readHead(backend: backend, generation: g, id: current.previous, vaultID: vaultID, keys: keys, zstd: zstd)
            } catch {
                return .broken(generation: g, reason: "cannot be read (\(error))")
            }
        }
        return .reached(currentID)
    }

    // MARK: Versions

    /// Loads a version manifest (cached).
    public func version(_ id: ObjectID) throws -> Version {
        if let v = versionCache[id] { return v }
        let file = VaultFile.version(id)
        let body = try Vault.readMeta(backend: backend, file: file, kind: .version, vaultID: vaultID, keys: keys, zstd: zstd)
        let v: Version
        do { v = try Version.decode(body) } catch { throw CofferError.decoding(error, object: file.path) }
        versionCache[id] = v
        return v
    }

    /// The live versions, oldest first.
    public func versions() throws -> [(id: ObjectID, version: Version)] {
        try head.live.map { ($0, try version($0)) }.sorted { ($0.version.time, $0.id) < ($1.version.time, $1.id) }
    }

    /// Commits a new head that replaces the current one. Fails if another writer moved the head
    /// since this vault was opened.
    ///
    /// - Parameter indexFiles: format 2: the index files the new head lists; nil carries the
    ///   current head's list over (forget). Ignored in format 1, whose heads list none.
    func commitHead(live: [ObjectID], removed: [ObjectID], indexFiles: [ObjectID]? = nil) throws {
        try heldLock?.verify()
        let (current, currentID) = try Vault.loadHead(backend: backend, vaultID: vaultID, keys: keys, zstd: zstd)
        guard currentID == headID, current.generation == head.generation else {
            throw CofferError.concurrentWriter(vault: location)
        }
        let next = Head(
            generation: head.generation + 1, previous: headID, time: Int64(Date().timeIntervalSince1970), live: live, removed: removed,
            indexFiles: format >= 2 ? indexFiles ?? head.indexFiles ?? [] : nil)
        // Uncompressed (a head is mostly ids, which do not compress): its size then does not
        // depend on its ids, and a seal can count its head before it knows its version's id.
        let file = MetaObject.seal(next.encode(), kind: .head, vaultID: vaultID, key: keys.meta, zstd: zstd, compress: false)
        let id = ObjectID.hashing(file)
        try backend.write(.head(generation: next.generation, id: id), file)
        metaBytesLock.withLock { metaBytes += UInt64(file.count) }
        head = next
        headID = id
        rememberCommittedHead()
    }

    /// Records the current head in this machine's state after a commit (or after catching up
    /// with another writer's): its generation and id, its live list, and the versions seen live.
    /// A head committed over a rollback finding (`--force`) is this machine's deliberate choice:
    /// the versions seen live start again from its live list.
    func rememberCommittedHead() {
        guard let state else { return }
        state.remember(vaultID: vaultID, generation: head.generation, head: headID)
        state.rememberLive(vaultID: vaultID, generation: head.generation, head: headID, live: head.live)
        if rollback != nil { state.forgetSeen(vaultID: vaultID) }
        state.rememberSeen(vaultID: vaultID, live: head.live, removed: head.removed)
    }

    /// Writes an encrypted metadata file and returns its id. An index file counts as loaded unless
    /// `markLoaded` is false (one written during a seal, read back once its head lists it).
    func writeMeta(_ body: consuming [UInt8], kind: MetaKind, markLoaded: Bool = true) throws -> ObjectID {
        if kind == .index { try heldLock?.verify() }
        // A format-2 index is padded to hide its entry count: stored as it is, never compressed.
        let file = MetaObject.seal(consume body, kind: kind, vaultID: vaultID, key: keys.meta, zstd: zstd, compress: !(kind == .index && format >= 2))
        let id = ObjectID.hashing(file)
        let target: VaultFile
        switch kind {
        case .index: target = .index(id)
        case .version: target = .version(id)
        case .dictionary: target = .dictionary(id)
        case .head, .lock: preconditionFailure("heads and locks are not written here (their names are not only their id)")
        }
        try backend.write(target, file)
        metaBytesLock.withLock { metaBytes += UInt64(file.count) }
        if kind == .index && markLoaded { loadedIndexFiles.insert(id.hex) }
        return id
    }

    func packReader(_ pack: ObjectID) throws -> RandomAccessFile {
        do { return try backend.openRandomAccess(.pack(pack)) } catch let e as CofferError { throw e.missingAsIntegrity }
    }

    /// The most key slots a vault may have (each one is tried with Argon2id when opening).
    public static let maximumKeySlots = 32

    /// This machine's host name.
    public static var hostName: String { ProcessInfo.processInfo.hostName }
}

func wrapFormat(_ object: String, _ body: () throws -> Void) throws {
    do { try body() } catch let e as FormatError { throw CofferError.invalidArgument("\(object): \(e)") }
}

extension Vault {
    /// Files and bytes the vault occupies in storage (packs, dictionaries, index, versions, heads, keys, config).
    public func storageUsage() throws -> (files: Int, bytes: UInt64, packs: Int) {
        var files = 0
        var bytes: UInt64 = 0
        var packs = 0
        for dir: VaultFolder in [.packs, .dicts, .index, .versions, .heads, .keys] {
            for name in try backend.list(dir) {
                files += 1
                if dir == .packs { packs += 1 }
                bytes += UInt64(try backend.size(dir.rawValue + "/" + name) ?? 0)
            }
        }
        bytes += UInt64(try backend.size(.config) ?? 0)
        return (files + 1, bytes, packs)
    }
}
