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

    init(packTarget: Int = 64 << 10) throws {
        root = CrashLab.scratch()
        var o = T.cheap
        o.packTargetSize = packTarget
        _ = try Vault.create(at: vaultPath, passphrase: T.secret("pw"), options: o, state: RollbackState(directory: statePath))
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

/// Counts of what a power-cut run tried.
struct CutCounts: CustomStringConvertible {
    var operations = 0
    var cutPoints = 0
    var statesTried = 0
    var distinctStates = 0
    var variantsTried: [CrashVariant: Int] = [:]
    var description: String {
        let per = CrashVariant.allCases.map { "\($0.rawValue) \(variantsTried[$0] ?? 0)" }.joined(separator: ", ")
        return "\(cutPoints) cut points (\(operations) recorded calls), \(statesTried) crash states (\(per)), \(distinctStates) distinct ones checked"
    }
}

/// Power cuts at the file level: an operation runs on a recording layer, then for every prefix
/// of its calls (cut point k) the state a crash would leave is rebuilt, under several models
/// of what survives (``CrashVariant``), and opened, checked, restored and sealed into.
///
/// `COFFER_POWERCUT_FULL=1` (set by `make torture`) tries every variant at every cut point;
/// by default the strict model and the kill model are tried everywhere and the others at every
/// third cut point.
@Suite("Power cuts", .serialized)
struct PowerCutTests {
    static let full = ProcessInfo.processInfo.environment["COFFER_POWERCUT_FULL"] == "1"

    func variants(at k: Int) -> [CrashVariant] {
        if Self.full || k % 3 == 0 { return CrashVariant.allCases }
        return [.strict, .processKilled]
    }

    /// Records `operation` on `lab`, then checks the crash state at every cut point.
    func cutEverywhere(
        _ label: String, _ lab: CrashLab, next nextInput: String, passphrase: String = "pw",
        expect expectAfter: () -> CrashExpectations = { CrashExpectations() }, _ operation: (Vault) throws -> Void
    ) throws -> CutCounts {
        var model = CrashModel(scanning: lab.live)
        let recorder = SimulatedCalls()
        let v = try lab.open(recorder, passphrase: passphrase)
        try operation(v)
        let ops = recorder.ops
        let expect = expectAfter()
        var counts = CutCounts()
        counts.operations = ops.count
        // States already checked, per kind of check: one checked only for loud failure (fsync
        // ignored) is checked again if an honest variant reaches it.
        var seen: [Bool: Set<ObjectID>] = [:]
        for k in 0...ops.count {
            counts.cutPoints += 1
            // Committed before k: the newest head whose name is durable in heads/.
            let strict = model.view(.strict)
            let committed = strict.keys.filter { $0.hasPrefix("vault/heads/") }
                .compactMap { Head.parseFileName(Paths.lastComponent($0)) }.max { $0.generation < $1.generation }
            let committedLive = try committed.map { c -> [ObjectID] in
                try Vault.readHead(
                    backend: LocalBackend(root: lab.vaultPath), name: Head.fileName(generation: c.generation, id: c.id), vaultID: v.vaultID, keys: v.keys,
                    zstd: v.zstd
                ).live
            } ?? []
            for variant in variants(at: k) {
                counts.statesTried += 1
                counts.variantsTried[variant, default: 0] += 1
                let view = variant == .strict ? strict : model.view(variant)
                // The same state reached twice (a kill just after a rename equals a power cut just
                // after the folder's fsync) is checked once.
                guard seen[variant.durabilityHonoured, default: []].insert(CrashModel.fingerprint(view)).inserted else { continue }
                counts.distinctStates += 1
                let crash = lab.root + "/crash"
                removeTree(crash)
                CrashModel.materialize(view, at: crash)
                let context = "\(label), cut after \(k) of \(ops.count) calls (\(k > 0 ? ops[k - 1].description : "none")), \(variant.rawValue)"
                if variant.durabilityHonoured {
                    try verifyConsistent(
                        crash, lab: lab, committedGeneration: committed?.generation ?? 0, committedLive: committedLive, next: nextInput, expect: expect,
                        context)
                } else {
                    try verifyNeverWrong(crash, lab: lab, expect: expect, context)
                }
                removeTree(crash)
            }
            if k < ops.count { model.apply(ops[k]) }
        }
        return counts
    }

    /// The passphrases to try, each once.
    func passphrases(_ expect: CrashExpectations) -> [String] {
        expect.slots.isEmpty ? ["pw"] : Array(Set(expect.slots.values)).sorted()
    }

    /// Durability was honoured: the vault must be consistent and hold every committed version.
    func verifyConsistent(
        _ crash: String, lab: CrashLab, committedGeneration: UInt64, committedLive: [ObjectID], next: String, expect: CrashExpectations,
        _ context: String
    ) throws {
        let vaultDir = crash + "/vault"
        // No zero-length or torn file sits under a vault name.
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
        // The crashed writer's lock is left: it was this test process, which lives on, so it is
        // removed here as a restarted machine would find its process gone.
        for (name, info) in try v.locks() {
            #expect(info?.pid == Int64(getpid()), "\(context): lock \(name) is not the crashed writer's")
            unlink(vaultDir + "/locks/" + name)
        }
        if expect.rerunPrune {
            _ = try v.prune()
            let after = try v.check(readDataFraction: 1)
            #expect(after.errors.isEmpty && after.unreferencedPacks.isEmpty, "\(context): prune re-run: \(after.errors) \(after.unreferencedPacks)")
        }
        // The next seal works, deduplicating against what is there.
        let sealed = try v.seal([next])
        #expect(v.head.live.last == sealed.id)
        let final = try Vault.open(at: vaultDir, passphrase: T.secret(openedWith), state: state)
        let after = try final.check(readDataFraction: 1)
        #expect(after.errors.isEmpty, "\(context): after the next seal: \(after.errors)")
        let out = crash + "/restored-next"
        try final.restore(sealed.id, to: out)
        #expect(T.tree(out + "/d") == T.tree(next), "\(context): the next seal restores wrong")
    }

    /// Durability was not honoured (fsync ignored): data may be lost, but it must be lost loudly.
    /// The vault refuses to open with an integrity error, or it opens and then any version that
    /// restores restores exactly, and a check that reports no error means every version restores.
    func verifyNeverWrong(_ crash: String, lab: CrashLab, expect: CrashExpectations, _ context: String) throws {
        let vaultDir = crash + "/vault"
        var opened: Vault?
        for pass in passphrases(expect) {
            do {
                opened = try Vault.open(at: vaultDir, passphrase: T.secret(pass), state: RollbackState(directory: crash + "/state"))
                break
            } catch CofferError.wrongPassphrase {
                continue
            } catch let e as CofferError {
                guard case .integrity = e else {
                    Issue.record("\(context): open failed with \(e), not an integrity error")
                    return
                }
                return  // loud: a damaged file is named
            }
        }
        guard let v = opened else { return }  // every slot written during the operation was lost: loud
        let clean: Bool
        do { clean = try v.check(readDataFraction: 1).errors.isEmpty } catch { clean = false }
        for id in v.head.live {
            let out = crash + "/restored-" + id.short
            do {
                try v.restore(id, to: out)
                #expect(T.tree(out + "/d") == lab.trees[id], "\(context): version \(id.short) restored with wrong content")
            } catch {
                #expect(!clean, "\(context): check found nothing, yet version \(id.short) does not restore: \(error)")
            }
        }
    }

    @Test("power cut at every call of a seal")
    func seal() throws {
        let lab = try CrashLab()
        try lab.seal(try lab.open(), lab.input(seed: 1, fresh: 0))
        let input = lab.input(seed: 2, fresh: 200 << 10)
        let next = lab.input(seed: 3, fresh: 30 << 10)
        let counts = try cutEverywhere("seal", lab, next: next) { v in try lab.seal(v, input) }
        print("power cut, seal: \(counts)")
    }

    @Test("power cut at every call of a prune (repack, index swap, deletions)")
    func prune() throws {
        let lab = try CrashLab()
        var ids: [ObjectID] = []
        for s in 0..<3 { ids.append(try lab.seal(try lab.open(), lab.input(seed: UInt64(10 + s), fresh: 90 << 10))) }
        try lab.open().forget([ids[0]])
        let next = lab.input(seed: 20, fresh: 10 << 10)
        var expect = CrashExpectations()
        expect.rerunPrune = true
        let counts = try cutEverywhere("prune", lab, next: next, expect: { expect }) { v in
            let r = try v.prune()
            #expect(r.packsDeleted + r.packsRepacked > 0 && r.versionFilesDeleted == 1, "prune had work: \(r)")
        }
        print("power cut, prune: \(counts)")
    }

    @Test("power cut at every call of a forget")
    func forget() throws {
        let lab = try CrashLab()
        var ids: [ObjectID] = []
        for s in 0..<2 { ids.append(try lab.seal(try lab.open(), lab.input(seed: UInt64(30 + s), fresh: 20 << 10))) }
        let next = lab.input(seed: 40, fresh: 10 << 10)
        var expect = CrashExpectations()
        expect.mayRemove = [ids[0]]
        let counts = try cutEverywhere("forget", lab, next: next, expect: { expect }) { v in try v.forget([ids[0]]) }
        print("power cut, forget: \(counts)")
    }

    @Test("power cut at every call of a passphrase change and a key add")
    func keyChange() throws {
        let lab = try CrashLab()
        try lab.seal(try lab.open(), lab.input(seed: 50, fresh: 10 << 10))
        let oldSlot = try lab.open().keySlotID
        let next = lab.input(seed: 51, fresh: 5 << 10)

        // passwd: the new slot is written and read back, then the old one is removed.
        var newSlot = ""
        let passwd = try cutEverywhere("key passwd", lab, next: next, expect: { CrashExpectations(slots: [oldSlot: "pw", newSlot: "pw2"]) }) { v in
            newSlot = try v.changePassphrase(to: T.secret("pw2"), parameters: .insecureTestOnly).id
        }
        print("power cut, key passwd: \(passwd)")

        // key add: both passphrases work throughout.
        var added = ""
        let add = try cutEverywhere(
            "key add", lab, next: next, passphrase: "pw2", expect: { CrashExpectations(slots: [newSlot: "pw2", added: "pw3"]) }
        ) { v in
            added = try v.addKey(passphrase: T.secret("pw3"), parameters: .insecureTestOnly).id
        }
        print("power cut, key add: \(add)")
    }
}
