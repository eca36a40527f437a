@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// A vault and its rollback state in one scratch folder (`live/vault`, `live/state`), so that a
/// crash can be simulated over both, plus the expected content of every version sealed.
final class CrashLab: @unchecked Sendable {
    let root: String
    var live: String { root + "/live" }
    var vaultPath: String { live + "/vault" }
    var statePath: String { live + "/state" }
    /// The tree each version must restore to (as `T.tree` of its folder `d`).
    var trees: [ObjectID: [String: String]] = [:]
    private var inputs = 0

    init(packTarget: Int = 64 << 10, format: Int = VaultConfig.currentFormat) throws {
        root = CrashLab.scratch()
        var o = T.cheap
        o.packTargetSize = packTarget
        _ = try Vault.create(at: vaultPath, passphrase: T.secret("pw"), options: o, state: RollbackState(directory: statePath), format: format)
    }

    deinit { removeTree(root) }

    /// A scratch folder in memory (/dev/shm) when there is one: the simulation does not need a
    /// real disk, and hundreds of crash states written, fsynced and removed on a shared disk
    /// would cost seconds.
    static func scratch() -> String {
        var st = stat()
        guard stat("/dev/shm", &st) == 0, access("/dev/shm", W_OK) == 0 else { return T.scratch("crashlab") }
        var template = Array("/dev/shm/coffer-crashlab-XXXXXX".utf8CString)
        guard let p = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else { return T.scratch("crashlab") }
        return String(cString: p)
    }

    func open(_ calls: any FileSystemCalls = POSIXCalls(), passphrase: String = "pw") throws -> Vault {
        try Vault.open(
            backend: LocalBackend(root: vaultPath, calls: calls), passphrase: T.secret(passphrase),
            state: RollbackState(directory: statePath, calls: calls))
    }

    /// A new input folder `…/d` of mixed content: CSV text, random data and a duplicate of it,
    /// an empty file, a symlink, and `fresh` bytes of new random data.
    func input(seed: UInt64, fresh: Int) -> String {
        inputs += 1
        let d = root + "/inputs/\(inputs)/d"
        T.write(d + "/contacts.csv", T.csv(rows: 300 + Int(seed % 7) * 40, seed: seed))
        let random = T.bytes(40 << 10, seed: 1_000 + seed % 3)
        T.write(d + "/blob.bin", random)
        T.write(d + "/copy/blob-again.bin", random)
        T.write(d + "/empty.txt", [])
        symlink("contacts.csv", d + "/link")
        if fresh > 0 { T.write(d + "/new-\(seed).bin", T.bytes(fresh, seed: 50_000 + seed)) }
        return d
    }

    @discardableResult
    func seal(_ v: Vault, _ dir: String) throws -> ObjectID {
        let r = try v.seal([dir])
        trees[r.id] = T.tree(dir)
        return r.id
    }
}

/// How one simulated crash state is judged.
struct CrashExpectations {
    /// Versions that the operation may remove from the live list (forget).
    var mayRemove: Set<ObjectID> = []
    /// Key slot file → the passphrase it opens with; a slot present after the crash must open.
    var slots: [String: String] = [:]
    /// Run prune again after the crash and expect it to finish the job.
    var rerunPrune = false
}

/// The checks made on a vault after a simulated crash or a failed call.
enum CrashChecks {
    /// Removes the locks this test process left in the vault at `dir` (`vault` opened there): a
    /// crashed or failed writer's, whose process on a real machine would be gone, so that the
    /// next writer would find them stale. A lock file the cut left torn (unreadable) goes too, as
    /// `coffer unlock` would remove it.
    static func removeOwnLocks(_ vault: Vault, _ dir: String) throws {
        for (name, info) in try vault.locks() where info == nil || (info?.pid == Int64(getpid()) && info?.host == Vault.hostName) {
            unlink(dir + "/locks/" + name)
        }
    }

    /// The passphrases to try, each once.
    static func passphrases(_ expect: CrashExpectations) -> [String] {
        expect.slots.isEmpty ? ["pw"] : Array(Set(expect.slots.values)).sorted()
    }

    /// No zero-length or torn file sits under a vault name: every content-addressed file hashes
    /// to its name, and the others are not empty.
    static func verifyNames(_ vaultDir: String, _ context: String) {
        for rel in T.files(in: vaultDir) {
            let bytes = T.read(vaultDir + "/" + rel) ?? []
            let name = Paths.lastComponent(rel)
            switch rel.split(separator: "/").first.map(String.init) ?? "" {
            case "packs", "index", "versions", "keys":
                #expect(ObjectID.hashing(bytes).hex == name, "\(context): \(rel) is torn (\(bytes.count) bytes)")
            case "heads":
                #expect(Head.parseFileName(name)?.id == ObjectID.hashing(bytes), "\(context): \(rel) is torn (\(bytes.count) bytes)")
            default:
                #expect(!bytes.isEmpty, "\(context): \(rel) is empty")
            }
        }
    }

    /// Durability was honoured: the vault must be consistent and hold every committed version.
    static func verifyConsistent(
        _ crash: String, lab: CrashLab, committedGeneration: UInt64, committedLive: [ObjectID], next: String, expect: CrashExpectations,
        _ context: String
    ) throws {
        let vaultDir = crash + "/vault"
        verifyNames(vaultDir, context)
        let state = RollbackState(directory: crash + "/state")
        // Each key slot present opens with its passphrase; at least one is present.
        if !expect.slots.isEmpty {
            let present = Set(try LocalBackend(root: vaultDir).list("keys"))
            #expect(!present.isDisjoint(with: expect.slots.keys), "\(context): no known key slot left")
            for (slot, pass) in expect.slots where present.contains(slot) {
                let v = try Vault.open(at: vaultDir, passphrase: T.secret(pass), state: nil)
                #expect(v.keySlotID == slot, "\(context)")
            }
        }
        var opened: Vault?
        var openedWith = ""
        var lastError: Error?
        for pass in passphrases(expect) {
            do {
                opened = try Vault.open(at: vaultDir, passphrase: T.secret(pass), state: state)
                openedWith = pass
                break
            } catch { lastError = error }
        }
        guard let v = opened else {
            Issue.record("\(context): the vault does not open: \(lastError.map { "\($0)" } ?? "?")")
            return
        }
        #expect(v.rollback == nil, "\(context): \(v.rollback?.description ?? "")")
        #expect(v.head.generation >= committedGeneration, "\(context): head \(v.head.generation), committed \(committedGeneration)")
        for id in committedLive {
            #expect(v.head.live.contains(id) || expect.mayRemove.contains(id), "\(context): committed version \(id.short) is gone")
        }
        let report = try v.check(readDataFraction: 1)
        #expect(report.errors.isEmpty, "\(context): \(report.errors)")
        for id in v.head.live {
            let out = crash + "/restored-" + id.short
            try v.restore(id, to: out)
            #expect(T.tree(out + "/d") == lab.trees[id], "\(context): version \(id.short) restores wrong")
        }
        // The crashed writer's lock may be left: it was this test process, which lives on, so it
        // is removed here as a restarted machine would find its process gone. Any other lock
        // must be stale (the next writer takes it over).
        let now = Int64(Date().timeIntervalSince1970)
        for (name, info) in try v.locks() {
            // A lock file torn by the cut (a sync's lock on the copy) is removed as `unlock` would.
            if info == nil || (info?.pid == Int64(getpid()) && info?.host == Vault.hostName) {
                unlink(vaultDir + "/locks/" + name)
            } else {
                #expect(info?.staleReason(now: now, host: Vault.hostName) != nil, "\(context): lock \(name) is neither the crashed writer's nor stale")
            }
        }
        if expect.rerunPrune {
            // The crashed run's packs are its own leftovers (its writer is gone): no age needed.
            var options = PruneOptions()
            options.minimumAge = 0
            _ = try v.prune(options: options)
            let after = try v.check(readDataFraction: 1)
            #expect(after.errors.isEmpty && after.unreferencedPacks.isEmpty, "\(context): prune re-run: \(after.errors) \(after.unreferencedPacks)")
        }
        // The next seal works, deduplicating against what is there.
        let sealed = try v.seal([next])
        #expect(v.head.live.last == sealed.id)
        let final = try Vault.open(at: vaultDir, passphrase: T.secret(openedWith), state: state)
        let after = try final.check()  // structure; the restore below reads the new data
        #expect(after.errors.isEmpty, "\(context): after the next seal: \(after.errors)")
        let out = crash + "/restored-next"
        try final.restore(sealed.id, to: out)
        #expect(T.tree(out + "/d") == T.tree(next), "\(context): the next seal restores wrong")
    }

    /// Durability was not honoured (fsync ignored): data may be lost, but it must be lost loudly.
    /// The vault refuses to open with an integrity error, or it opens and then any version that
    /// restores restores exactly, and a check that reports no error means every version restores.
    static func verifyNeverWrong(_ crash: String, lab: CrashLab, expect: CrashExpectations, target: String = "vault", _ context: String) throws -> String {
        let outcome = try neverWrong(crash, lab: lab, expect: expect, target: target, context)
        if target == "copy" {
            // A damaged copy is repaired by syncing again (files whose size differs are replaced);
            // the cut sync's lock on it is stale.
            if let cut = try? Vault.open(at: crash + "/copy", passphrase: T.secret("pw"), state: nil) {
                try removeOwnLocks(cut, crash + "/copy")
            } else {
                // The copy does not open (its config or head lost with fsync ignored): the only
                // lock in it is the cut sync's, possibly torn; a user would run `coffer unlock`
                // after the stale time or remove it by hand.
                for name in (try? FileManager.default.contentsOfDirectory(atPath: crash + "/copy/locks")) ?? [] {
                    unlink(crash + "/copy/locks/" + name)
                }
            }
            let vault = try Vault.open(at: crash + "/vault", passphrase: T.secret("pw"), state: nil)
            _ = try vault.sync(to: LocalBackend(root: crash + "/copy"))
            let copy = try Vault.open(at: crash + "/copy", passphrase: T.secret("pw"), state: nil)
            #expect(copy.headID == vault.headID, "\(context): syncing again did not complete the copy")
            #expect(try copy.check(readDataFraction: 1).errors.isEmpty, "\(context): syncing again did not repair the copy")
        }
        return outcome
    }

    private static func neverWrong(_ crash: String, lab: CrashLab, expect: CrashExpectations, target: String, _ context: String) throws -> String {
        let vaultDir = crash + "/" + target
        var opened: Vault?
        for pass in passphrases(expect) {
            do {
                // A copy is opened without the rollback memory: it may rightly be behind.
                opened = try Vault.open(
                    at: vaultDir, passphrase: T.secret(pass), state: target == "vault" ? RollbackState(directory: crash + "/state") : nil)
                break
            } catch CofferError.wrongPassphrase {
                continue
            } catch let e as CofferError {
                guard case .integrity = e else {
                    Issue.record("\(context): open failed with \(e), not an integrity error")
                    return "open failed otherwise"
                }
                return "refused to open (integrity error)"  // loud: the damaged file is named
            }
        }
        guard let v = opened else { return "no passphrase opens" }
        let clean: Bool
        do { clean = try v.check(readDataFraction: 1).isClean } catch { clean = false }
        var failures = 0
        for id in v.head.live {
            let out = crash + "/restored-" + id.short
            do {
                try v.restore(id, to: out)
                #expect(T.tree(out + "/d") == lab.trees[id], "\(context): version \(id.short) restored with wrong content")
            } catch {
                failures += 1
                #expect(!clean, "\(context): check found nothing, yet version \(id.short) does not restore: \(error)")
            }
        }
        return clean ? "opened, check clean" : failures > 0 ? "opened, check reports damage, restores fail" : "opened, check reports damage"
    }

}
