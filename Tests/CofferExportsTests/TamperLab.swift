// TamperLab.swift: a small vault with a history (seals, a zip, two key slots, forget and prune, a
// stale lock), and a harness that damages its files one way at a time and judges what `check
// --read-data` and `restore` of every version make of it.

@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

@testable import CofferExports

/// What a file in the vault is, for the tallies.
enum TamperFileKind: String, CaseIterable, Sendable {
    case config = "config"
    case slotUsed = "key slot (opens)"
    case slotOther = "key slot (other)"
    case pack = "pack"
    case index = "index"
    case version = "version"
    case headCurrent = "head (current)"
    case headOlder = "head (older)"
    case lock = "lock"
    case dictionary = "dictionary"
    case wholeVault = "whole vault"
}

/// How a file was damaged.
enum TamperMutationKind: String, CaseIterable, Sendable {
    case flip = "bit flip"
    case truncate = "truncate"
    case extend = "extend"
    case delete = "delete"
    case swapSame = "swap same kind"
    case swapOther = "swap other kind"
    case copyInto = "copy into other folder"
    case putBack = "older file back"
    /// A blob envelope pasted over another inside a pack (format 2 rows).
    case blobMoved = "blob moved in a pack"
    /// What only a key holder could write (format 2 rows: the checks behind the AEAD).
    case forged = "forged with the key"
}

/// What the matrix requires of one mutation.
enum TamperExpectation: Sendable, Equatable {
    /// `check --read-data` exits 13 (integrity) or 14 (rollback).
    case detected
    /// The vault does not open with the passphrase: exit 12. Only for a deleted key slot: without
    /// an authenticated list of slots, a missing slot cannot be told from a wrong passphrase.
    case wrongPassphrase(String)
    /// Exit 0, and check lists the file as reclaimable (an unreferenced pack or version file):
    /// nothing refers to it, so nothing reads it; prune removes it.
    case reclaimable(String)
    /// Exit 0 with a note from check (not an error): the damage loses no data.
    case noted(String)
    /// Exit 0 and nothing to report; the reason says why no byte of any version depends on it.
    case harmless(String)
}

/// One way of damaging the vault.
struct TamperMutation: Sendable {
    enum Action: Sendable {
        case flip(String, offset: Int, mask: UInt8)
        case truncate(String, length: Int)
        case extend(String)
        case delete(String)
        case swap(String, String)
        case copy(String, to: String)
        /// Files put back (path, bytes) and files removed, as storage handing back an older state.
        case replace(put: [String: [UInt8]], remove: [String])
    }

    var fileKind: TamperFileKind
    var kind: TamperMutationKind
    var action: Action
    var expectation: TamperExpectation
    /// For flips in packs: the region of the pack (blob nonce, header tag, …).
    var region: String?
    var label: String
}

/// A restored tree as it should be: file contents and link targets by path under the target.
struct ExpectedTree: Sendable {
    var files: [String: [UInt8]] = [:]
    var links: [String: String] = [:]
}

/// What happened to one mutation.
struct TamperOutcome: Sendable {
    /// The exit status `coffer check --read-data` would give (ExitStatus in Sources/coffer).
    var exit: Int32 = 0
    var message = ""
    var reclaimable = 0
    var notes = 0
    /// Per version: restored exactly / refused with nothing written under a real name / refused
    /// after writing some exact files.
    var exact = 0
    var refused = 0
    var partial = 0
    /// Files under a real name whose bytes differ from the sealed ones (must stay 0).
    var wrong: [String] = []
    /// A restore that reported success but left out a file (must stay 0).
    var missing: [String] = []
    /// `.coffer-restore-*` temporaries left behind (must stay 0).
    var leftovers: [String] = []
}

/// The exit status `coffer` gives for a library error (mirrors ExitStatus.init in Sources/coffer).
func cofferExitStatus(_ error: Error) -> Int32 {
    guard let e = error as? CofferError else { return 1 }
    switch e {
    case .noVault, .notAVault: return 10
    case .concurrentWriter, .locked: return 11
    case .wrongPassphrase: return 12
    case .integrity, .notFound, .keySlotRefused: return 13
    case .rollback: return 14
    case .interrupted: return 130
    default: return 1
    }
}

/// Deterministic bytes and text (SplitMix64).
enum TamperData {
    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        var out = [UInt8](repeating: 0, count: count)
        for i in 0..<count { out[i] = UInt8(truncatingIfNeeded: rng.next()) }
        return out
    }

    /// CSV rows; a longer file with the same seed starts with the shorter one's rows.
    static func csv(rows: Int, seed: UInt64) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        let first = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Dennis", "Margaret"]
        let corp = ["Acme", "Initech", "Globex", "Hooli", "Stark", "Wayne"]
        var s = "First Name,Last Name,URL,Company,Position,Connected On\n"
        for i in 0..<rows {
            let f = first[Int(rng.next() % 8)]
            s += "\(f),N\(rng.next() % 1000),https://www.linkedin.com/in/\(f.lowercased())-\(i)-\(rng.next() % 100000),"
            s += "\(corp[Int(rng.next() % 6)]),Engineer \(rng.next() % 40),\(1 + rng.next() % 28) Mar 2024\n"
        }
        return Array(s.utf8)
    }
}

/// File helpers (vault files are stored read-only; tests run as any user).
enum TamperFS {
    static func read(_ path: String) -> [UInt8]? { FileManager.default.contents(atPath: path).map { [UInt8]($0) } }

    static func write(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o400) {
        let dir = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        chmod(path, 0o600)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        precondition(fd >= 0, "cannot write \(path)")
        _ = bytes.withUnsafeBytes { LocalBackend.writeAll(fd, $0) }
        close(fd)
        chmod(path, mode)
    }

    static func remove(_ path: String) {
        chmod(path, 0o600)
        unlink(path)
    }

    /// Every regular file under `root` (relative paths), without hidden names.
    static func files(in root: String) -> [String] {
        var out: [String] = []
        guard let e = FileManager.default.enumerator(atPath: root) else { return out }
        while let rel = e.nextObject() as? String {
            var st = stat()
            guard lstat(root + "/" + rel, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
            if !(rel as NSString).lastPathComponent.hasPrefix(".") { out.append(rel) }
        }
        return out.sorted()
    }

    /// Files and links of a sealed input, as restore should give them back under `base`.
    static func expected(_ input: String, base: String) -> ExpectedTree {
        var t = ExpectedTree()
        var st = stat()
        lstat(input, &st)
        if st.st_mode & S_IFMT == S_IFREG {
            t.files[base] = read(input)
            return t
        }
        guard let e = FileManager.default.enumerator(atPath: input) else { return t }
        while let rel = e.nextObject() as? String {
            let p = input + "/" + rel
            lstat(p, &st)
            switch st.st_mode & S_IFMT {
            case S_IFREG: t.files[base + "/" + rel] = read(p)
            case S_IFLNK: t.links[base + "/" + rel] = try? FileManager.default.destinationOfSymbolicLink(atPath: p)
            default: break
            }
        }
        return t
    }

    /// A new folder under COFFER_TAMPER_DIR, else /dev/shm (restore fsyncs every folder it
    /// creates, which a memory file system makes free), else the temporary folder.
    static func makeTemporaryFolder(_ label: String) -> String {
        var parent = FileManager.default.temporaryDirectory.path
        if let d = ProcessInfo.processInfo.environment["COFFER_TAMPER_DIR"], !d.isEmpty {
            parent = d
        } else if access("/dev/shm", W_OK) == 0 {
            parent = "/dev/shm"
        }
        let base = parent + "/coffer-tamper"
        try? FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        var template = Array((base + "/\(label)-XXXXXX").utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }!
        return String(cString: p)
    }

    static func removeTree(_ path: String) {
        _ = try? FileManager.default.removeItem(atPath: path)
        if FileManager.default.fileExists(atPath: path) {
            // Read-only files in read-only folders: make them writable first.
            if let e = FileManager.default.enumerator(atPath: path) {
                while let rel = e.nextObject() as? String { chmod(path + "/" + rel, 0o700) }
            }
            _ = try? FileManager.default.removeItem(atPath: path)
        }
    }
}

/// The small vault and the harness.
final class TamperLab: @unchecked Sendable {
    static let passphrase = "tamper matrix passphrase"
    static let otherPassphrase = "tamper matrix second passphrase"
    static let removedPassphrase = "tamper matrix removed passphrase"

    let root: String
    var vaultPath: String { root + "/vault" }
    var statePath: String { root + "/state" }

    /// Every vault file (relative path) and its bytes, as the finished vault holds them.
    private(set) var pristine: [String: [UInt8]] = [:]
    private var stateFiles: [String: [UInt8]] = [:]
    /// The live versions and what each restores to.
    private(set) var versions: [(id: ObjectID, expected: ExpectedTree)] = []
    private(set) var usedSlot = ""
    private(set) var otherSlot = ""
    /// Files the vault once had and no longer has (storage can hand them back).
    private(set) var removedSlot: (path: String, bytes: [UInt8]) = ("", [])
    private(set) var prunedIndexFiles: [String: [UInt8]] = [:]
    private(set) var prunedPacks: [String: [UInt8]] = [:]
    private(set) var forgottenVersion: (path: String, bytes: [UInt8]) = ("", [])
    /// The index file prune wrote in place of the ones it removed.
    private(set) var pruneIndex = ""
    /// The vault's files after each seal (an older copy storage could put back).
    private(set) var olderStates: [(label: String, files: [String: [UInt8]])] = []
    private(set) var lockPath = ""
    /// Regions of each pack: (name, byte range).
    private(set) var packRegions: [String: [(name: String, range: Range<Int>)]] = [:]
    private(set) var headGenerations: [(generation: UInt64, path: String)] = []
    /// The vault's format (1 or 2).
    private(set) var format = VaultConfig.currentFormat
    /// Blobs in the packs, by type (format 2: tree and layout pieces beside data and padding).
    private(set) var blobTypes: [BlobType: Int] = [:]
    /// Format 2: the rows of TamperFormat2 (blobs moved inside packs, the dictionary, forged heads).
    private(set) var format2Rows: [TamperMutation] = []

    private init(root: String) { self.root = root }

    // MARK: Building

    /// Builds the vault: 4 live versions (2 of a folder, 2 of a zip sealed member by member), one
    /// more sealed, forgotten and pruned away (after the first), 2 key slots (a third added and
    /// removed), a stale lock. Chunks are small (256 B / 1 KiB / 4 KiB) so the files are few and short.
    static func build() throws -> TamperLab {
        let lab = TamperLab(root: TamperFS.makeTemporaryFolder("lab"))
        try lab.create()
        return lab
    }

    private func create() throws {
        var o = VaultOptions()
        o.kdf = .insecureTestOnly
        o.tiers = [ChunkTier(maxFileSize: UInt64.max, sizes: ChunkSizes(min: 256, average: 1024, max: 4096))]
        o.packTargetSize = 64 << 10
        let state = RollbackState(directory: statePath)
        let vault = try Vault.create(at: vaultPath, passphrase: Self.secret(Self.passphrase), options: o, host: "tamper-host", state: state)
        usedSlot = "keys/" + vault.keySlotID
        format = vault.format
        // Format 2: a dictionary before the first seal, so the lab's small chunks use it.
        if format >= 2 { try TamperFormat2.plantDictionary(vault) }
        let input = root + "/in"
        var seal = SealOptions()
        seal.host = "tamper-host"
        seal.archiveHandler = ZipArchiveHandler()

        // v1: a folder with a CSV, a note, random bytes, a link and an empty folder.
        let folder = input + "/export"
        TamperFS.write(folder + "/Connections.csv", TamperData.csv(rows: 30, seed: 1), mode: 0o644)
        TamperFS.write(folder + "/notes/readme.txt", Array("first month\n".utf8), mode: 0o644)
        TamperFS.write(folder + "/media.bin", TamperData.bytes(1_500, seed: 2), mode: 0o644)
        try FileManager.default.createSymbolicLink(atPath: folder + "/latest.csv", withDestinationPath: "Connections.csv")
        try FileManager.default.createDirectory(atPath: folder + "/empty", withIntermediateDirectories: true)
        seal.time = Date(timeIntervalSince1970: 1_767_225_600)
        let v1 = try vault.seal([folder], options: seal)
        versions.append((v1.id, TamperFS.expected(folder, base: "export")))
        olderStates.append(("after the 1st seal", snapshotVault()))

        // A version sealed, forgotten and pruned: its pack, the index files and its version file go
        // (prune repacks v1's small pack too and writes one index for what is kept).
        let scratch = input + "/scratch"
        TamperFS.write(scratch + "/big.bin", TamperData.bytes(3_000, seed: 3), mode: 0o644)
        seal.time = Date(timeIntervalSince1970: 1_768_000_000)
        let gone = try vault.seal([scratch], options: seal)
        let beforePrune = snapshotVault()
        try vault.forget([gone.id])
        _ = try vault.prune()
        let afterPrune = snapshotVault()
        for (p, b) in beforePrune where afterPrune[p] == nil {
            if p.hasPrefix("index/") { prunedIndexFiles[p] = b }
            if p.hasPrefix("packs/") { prunedPacks[p] = b }
            if p.hasPrefix("versions/") { forgottenVersion = (p, b) }
        }
        pruneIndex = afterPrune.keys.first { $0.hasPrefix("index/") && beforePrune[$0] == nil } ?? ""
        #expect(!prunedIndexFiles.isEmpty && !prunedPacks.isEmpty && !forgottenVersion.path.isEmpty && !pruneIndex.isEmpty,
                "prune removed index files, a pack and a version, and wrote an index")

        // v2: the CSV grows (its first chunks deduplicate), the note changes.
        TamperFS.write(folder + "/Connections.csv", TamperData.csv(rows: 36, seed: 1), mode: 0o644)
        TamperFS.write(folder + "/notes/readme.txt", Array("second month\n".utf8), mode: 0o644)
        seal.time = Date(timeIntervalSince1970: 1_769_904_000)
        let v2 = try vault.seal([folder], options: seal)
        versions.append((v2.id, TamperFS.expected(folder, base: "export")))
        olderStates.append(("after the 2nd seal", snapshotVault()))

        // v3: a zip stored member by member.
        let zip = input + "/Basic_LinkedInDataExport.zip"
        TamperFS.write(zip, try Self.zip(month: 0), mode: 0o644)
        seal.time = Date(timeIntervalSince1970: 1_772_323_200)
        let v3 = try vault.seal([zip], options: seal)
        #expect(try vault.listing(v3.id).first?.type == .archive, "the zip is stored member by member")
        versions.append((v3.id, TamperFS.expected(zip, base: "Basic_LinkedInDataExport.zip")))
        olderStates.append(("after the 3rd seal", snapshotVault()))

        // Key slots: a second passphrase; a third one added, then removed (its file kept aside).
        let other = try vault.addKey(passphrase: Self.secret(Self.otherPassphrase), parameters: .insecureTestOnly, host: "tamper-laptop")
        otherSlot = "keys/" + other.id
        let removed = try vault.addKey(passphrase: Self.secret(Self.removedPassphrase), parameters: .insecureTestOnly, host: "tamper-old")
        removedSlot = ("keys/" + removed.id, TamperFS.read(vaultPath + "/keys/" + removed.id)!)
        try vault.removeKey(id: removed.id)

        // v4: next month's zip (members deduplicate against v3's).
        TamperFS.write(zip, try Self.zip(month: 1), mode: 0o644)
        seal.time = Date(timeIntervalSince1970: 1_775_000_000)
        let v4 = try vault.seal([zip], options: seal)
        versions.append((v4.id, TamperFS.expected(zip, base: "Basic_LinkedInDataExport.zip")))

        // A stale lock, as a writer killed with SIGKILL leaves it.
        let now = Int64(Date().timeIntervalSince1970)
        let lock = LockInfo(host: "tamper-gone-host", pid: 999_999, created: now - 7_200, refreshed: now - 7_200, name: String(repeating: "5a", count: 16))
        try vault.writeLock(lock)
        lockPath = "locks/" + lock.name

        pristine = snapshotVault()
        for name in TamperFS.files(in: statePath) { stateFiles[name] = TamperFS.read(statePath + "/" + name) }
        headGenerations = pristine.keys.filter { $0.hasPrefix("heads/") }.compactMap { p in
            Head.parseFileName(String(p.dropFirst(6))).map { ($0.generation, p) }
        }.sorted { $0.generation < $1.generation }

        // Pack regions, from each pack's header.
        var packEntries: [String: [PackEntry]] = [:]
        for (p, bytes) in pristine where p.hasPrefix("packs/") {
            let entries = try PackFormat.readHeader(packSize: bytes.count, object: p, vaultID: vault.vaultID, keys: vault.keys) { off, len in
                Array(bytes[off..<off + len])
            }
            packEntries[p] = entries
            var regions: [(String, Range<Int>)] = []
            for e in entries {
                blobTypes[e.type, default: 0] += 1
                let what: String
                switch e.type {
                case .data: what = "data blob"
                case .padding: what = "padding blob"
                case .tree: what = "tree piece"
                case .layout: what = "layout piece"
                }
                regions.append(("\(what) nonce", e.offset..<e.offset + 24))
                regions.append(("\(what) ciphertext", e.offset + 24..<e.offset + e.envelopeLength - 16))
                regions.append(("\(what) tag", e.offset + e.envelopeLength - 16..<e.offset + e.envelopeLength))
            }
            let headerStart = entries.last!.offset + entries.last!.envelopeLength
            regions.append(("header nonce", headerStart..<headerStart + 24))
            regions.append(("header ciphertext", headerStart + 24..<bytes.count - 20))
            regions.append(("header tag", bytes.count - 20..<bytes.count - 4))
            regions.append(("trailer (header length)", bytes.count - 4..<bytes.count))
            packRegions[p] = regions.filter { !$0.1.isEmpty }
        }
        // Format 2: the matrix also damages tree pieces (every version's listings) and layout
        // pieces (the zips' layouts).
        #expect(format < 2 || (blobTypes[.tree, default: 0] > 0 && blobTypes[.layout, default: 0] > 0),
                "the format-2 vault holds tree and layout pieces: \(blobTypes)")
        if format >= 2 {
            format2Rows = try TamperFormat2.rows(
                vault: vault, pristine: pristine, packEntries: packEntries, prunedIndexFiles: prunedIndexFiles, pruneIndex: pruneIndex)
        }
        let clean = evaluate()
        #expect(clean.exit == 0 && clean.exact == versions.count && clean.reclaimable == 0 && clean.notes == 0,
                "the untouched vault is clean and restores: \(clean.message)")
    }

    /// A small LinkedIn-like zip (deflate level 6, as LinkedIn writes them).
    static func zip(month: Int) throws -> [UInt8] {
        var w = ZipWriter(options: .linkedIn)
        let t = try ZipWriter.DOSTimestamp(year: 2026, month: 1 + month, day: 1, hour: 9)
        try w.addFile("Connections.csv", contents: TamperData.csv(rows: 24 + 6 * month, seed: 11), modified: t)
        try w.addFile("Profile.csv", contents: Array("First Name,Last Name,Headline\nAda,Lorimore,Analyst\n".utf8), modified: t)
        try w.addFile("messages.csv", contents: TamperData.csv(rows: 12, seed: 12), modified: t)
        return try w.finish()
    }

    static func secret(_ s: String) -> SecureBytes { Array(s.utf8).withUnsafeBytes { SecureBytes(copying: $0) } }

    private func snapshotVault() -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for f in TamperFS.files(in: vaultPath) { out[f] = TamperFS.read(vaultPath + "/" + f) }
        return out
    }

    /// A copy of this lab in another folder (for a second worker).
    func clone() throws -> TamperLab {
        let copy = TamperLab(root: TamperFS.makeTemporaryFolder("lab"))
        copy.pristine = pristine
        copy.stateFiles = stateFiles
        copy.versions = versions
        copy.usedSlot = usedSlot
        copy.otherSlot = otherSlot
        copy.removedSlot = removedSlot
        copy.prunedIndexFiles = prunedIndexFiles
        copy.prunedPacks = prunedPacks
        copy.forgottenVersion = forgottenVersion
        copy.pruneIndex = pruneIndex
        copy.olderStates = olderStates
        copy.lockPath = lockPath
        copy.packRegions = packRegions
        copy.headGenerations = headGenerations
        copy.format = format
        copy.format2Rows = format2Rows
        for (p, b) in pristine { TamperFS.write(copy.vaultPath + "/" + p, b) }
        for d in ["packs", "index", "versions", "heads", "keys", "locks", "dicts"] { try? FileManager.default.createDirectory(atPath: copy.vaultPath + "/" + d, withIntermediateDirectories: true) }
        for (n, b) in stateFiles { TamperFS.write(copy.statePath + "/" + n, b, mode: 0o600) }
        return copy
    }

    func remove() { TamperFS.removeTree(root) }

    // MARK: Kinds

    func kind(of path: String) -> TamperFileKind {
        if path == "config" { return .config }
        if path.hasPrefix("keys/") { return path == usedSlot ? .slotUsed : .slotOther }
        if path.hasPrefix("packs/") { return .pack }
        if path.hasPrefix("index/") { return .index }
        if path.hasPrefix("versions/") { return .version }
        if path.hasPrefix("heads/") { return path == headGenerations.last!.path ? .headCurrent : .headOlder }
        if path.hasPrefix("locks/") { return .lock }
        if path.hasPrefix("dicts/") { return .dictionary }
        return .wholeVault
    }

    var files: [String] { pristine.keys.sorted() }

    // MARK: Running one mutation

    /// Applies the mutation, judges it, and puts the vault back as it was.
    func run(_ m: TamperMutation) -> TamperOutcome {
        let touched = apply(m.action)
        let outcome = evaluate()
        undo(touched)
        return outcome
    }

    private func apply(_ action: TamperMutation.Action) -> [String] {
        let v = vaultPath + "/"
        switch action {
        case .flip(let p, let offset, let mask):
            var b = pristine[p]!
            b[offset] ^= mask
            TamperFS.write(v + p, b)
            return [p]
        case .truncate(let p, let length):
            TamperFS.write(v + p, Array(pristine[p]![..<length]))
            return [p]
        case .extend(let p):
            TamperFS.write(v + p, pristine[p]! + [0])
            return [p]
        case .delete(let p):
            TamperFS.remove(v + p)
            return [p]
        case .swap(let a, let b):
            TamperFS.write(v + a, pristine[b]!)
            TamperFS.write(v + b, pristine[a]!)
            return [a, b]
        case .copy(let p, let to):
            TamperFS.write(v + to, pristine[p]!)
            return [to]
        case .replace(let put, let remove):
            for (p, b) in put { TamperFS.write(v + p, b) }
            for p in remove { TamperFS.remove(v + p) }
            return Array(put.keys) + remove
        }
    }

    private func undo(_ touched: [String]) {
        for p in touched {
            if let b = pristine[p] { TamperFS.write(vaultPath + "/" + p, b) } else { TamperFS.remove(vaultPath + "/" + p) }
        }
        // The rollback state only moves forward on a clean open of the newest head; put it back anyway.
        for (n, b) in stateFiles where TamperFS.read(statePath + "/" + n) != b { TamperFS.write(statePath + "/" + n, b, mode: 0o600) }
    }

    /// What `coffer check --read-data` and `coffer restore` of every version would do now.
    func evaluate() -> TamperOutcome {
        var o = TamperOutcome()
        let state = RollbackState(directory: statePath)
        do {
            let vault = try Vault.open(at: vaultPath, passphrase: Self.secret(Self.passphrase), state: state)
            let report = try vault.check(readDataFraction: 1)
            o.exit = !report.errors.isEmpty ? 13 : (report.rollback != nil ? 14 : 0)
            o.message = report.errors.first ?? report.rollback?.description ?? ""
            o.reclaimable = report.unreferencedPacks.count + report.unreferencedVersions.count + report.unlistedIndexFiles.count
            o.notes = report.notes.count
        } catch {
            o.exit = cofferExitStatus(error)
            o.message = "\(error)"
        }
        // Restore: a fresh open, as `coffer restore` does, into an empty folder per version.
        let vault = try? Vault.open(at: vaultPath, passphrase: Self.secret(Self.passphrase), state: state)
        for (id, expected) in versions {
            guard let vault else {
                o.refused += 1  // the vault does not open: nothing can be written
                continue
            }
            let out = root + "/restore-" + id.short
            TamperFS.removeTree(out)
            var options = RestoreOptions()
            options.archiveHandler = ZipArchiveHandler()
            var succeeded = true
            // A restore that lists entries it could not restore (damaged data of one file) did not succeed.
            do { succeeded = try vault.restore(id, to: out, options: options).failures.isEmpty } catch { succeeded = false }
            var exactFiles = 0
            for rel in TamperFS.allEntries(out) {
                let p = out + "/" + rel
                var st = stat()
                lstat(p, &st)
                if (rel as NSString).lastPathComponent.hasPrefix(".coffer-restore-") { o.leftovers.append(rel); continue }
                switch st.st_mode & S_IFMT {
                case S_IFREG:
                    if let want = expected.files[rel], TamperFS.read(p) == want { exactFiles += 1 } else { o.wrong.append("\(id.short):\(rel)") }
                case S_IFLNK:
                    if expected.links[rel] != (try? FileManager.default.destinationOfSymbolicLink(atPath: p)) { o.wrong.append("\(id.short):\(rel) (link)") }
                default: break
                }
            }
            if succeeded {
                for rel in expected.files.keys where !FileManager.default.fileExists(atPath: out + "/" + rel) { o.missing.append("\(id.short):\(rel)") }
                o.exact += 1
            } else if exactFiles == 0 {
                o.refused += 1
            } else {
                o.partial += 1
            }
            TamperFS.removeTree(out)
        }
        return o
    }
}

extension TamperFS {
    /// Every entry under `root`, relative, hidden names included.
    static func allEntries(_ root: String) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: root) else { return [] }
        var out: [String] = []
        while let rel = e.nextObject() as? String { out.append(rel) }
        return out
    }
}
