@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// Counts of what a power-cut run tried.
struct CutCounts: CustomStringConvertible {
    var operations = 0
    var cutPoints = 0
    var statesTried = 0
    var distinctStates = 0
    var variantsTried: [CrashVariant: Int] = [:]
    /// What the distinct fsync-ignored states did.
    var fsyncIgnored: [String: Int] = [:]
    var description: String {
        let per = CrashVariant.allCases.map { "\($0.rawValue) \(variantsTried[$0] ?? 0)" }.joined(separator: ", ")
        let ignored = fsyncIgnored.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return "\(cutPoints) cut points (\(operations) recorded calls), \(statesTried) crash states (\(per)), \(distinctStates) distinct ones checked; "
            + "with fsync ignored: \(ignored)"
    }
}

/// Power cuts at the file level: an operation runs on a recording layer, then for every prefix
/// of its calls (cut point k) the state a crash would leave is rebuilt, under several models
/// of what survives (``CrashVariant``), and opened, checked, restored and sealed into.
///
/// `COFFER_TORTURE_FULL=1` (set by `make torture`) tries every variant at every cut point;
/// by default the strict model and the kill model are tried everywhere and the others at every
/// third cut point.
@Suite("Power cuts", .serialized)
struct PowerCutTests {
    static let full = ProcessInfo.processInfo.environment["COFFER_TORTURE_FULL"] == "1"

    func variants(at k: Int) -> [CrashVariant] {
        if Self.full || k % 3 == 0 { return CrashVariant.allCases }
        return [.strict, .processKilled]
    }

    /// Records `operation` on `lab`, then checks the crash state at every cut point.
    func cutEverywhere(
        _ label: String, _ lab: CrashLab, next nextInput: String, passphrase: String = "pw",
        expect expectAfter: () -> CrashExpectations = { CrashExpectations() }, target: String = "vault",
        verify: ((_ crash: String, _ committedGeneration: UInt64, _ context: String) throws -> Void)? = nil,
        _ operation: (Vault, SimulatedCalls) throws -> Void
    ) throws -> CutCounts {
        var model = CrashModel(scanning: lab.live)
        let recorder = SimulatedCalls()
        let v = try lab.open(recorder, passphrase: passphrase)
        try operation(v, recorder)
        let ops = recorder.ops
        let expect = expectAfter()
        var counts = CutCounts()
        counts.operations = ops.count
        // States already checked, per kind of check: one checked only for loud failure (fsync
        // ignored) is checked again if an honest variant reaches it.
        var seen: [Bool: Set<ObjectID>] = [:]
        for k in 0...ops.count {
            counts.cutPoints += 1
            // Committed before k: the newest head whose name is durable in heads/ (of the vault
            // written to: `target`).
            let strict = model.view(.strict)
            let committed = strict.keys.filter { $0.hasPrefix(target + "/heads/") }
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
                if variant.durabilityHonoured, let verify {
                    try verify(crash, committed?.generation ?? 0, context)
                } else if variant.durabilityHonoured {
                    try CrashChecks.verifyConsistent(
                        crash, lab: lab, committedGeneration: committed?.generation ?? 0, committedLive: committedLive, next: nextInput, expect: expect,
                        context)
                } else {
                    counts.fsyncIgnored[try CrashChecks.verifyNeverWrong(crash, lab: lab, expect: expect, target: target, context), default: 0] += 1
                }
                removeTree(crash)
            }
            if k < ops.count { model.apply(ops[k]) }
        }
        return counts
    }

    @Test("power cut at every call of a seal")
    func seal() throws {
        let lab = try CrashLab()
        try lab.seal(try lab.open(), lab.input(seed: 1, fresh: 0))
        let input = lab.input(seed: 2, fresh: 200 << 10)
        let next = lab.input(seed: 3, fresh: 30 << 10)
        let counts = try cutEverywhere("seal", lab, next: next) { v, _ in try lab.seal(v, input) }
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
        let counts = try cutEverywhere("prune", lab, next: next, expect: { expect }) { v, _ in
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
        let counts = try cutEverywhere("forget", lab, next: next, expect: { expect }) { v, _ in try v.forget([ids[0]]) }
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
        let passwd = try cutEverywhere("key passwd", lab, next: next, expect: { CrashExpectations(slots: [oldSlot: "pw", newSlot: "pw2"]) }) { v, _ in
            newSlot = try v.changePassphrase(to: T.secret("pw2"), parameters: .insecureTestOnly).id
        }
        print("power cut, key passwd: \(passwd)")

        // key add: both passphrases work throughout.
        var added = ""
        let add = try cutEverywhere(
            "key add", lab, next: next, passphrase: "pw2", expect: { CrashExpectations(slots: [newSlot: "pw2", added: "pw3"]) }
        ) { v, _ in
            added = try v.addKey(passphrase: T.secret("pw3"), parameters: .insecureTestOnly).id
        }
        print("power cut, key add: \(add)")
    }

    @Test("power cut at every call of a sync into a local copy")
    func sync() throws {
        let lab = try CrashLab()
        try lab.seal(try lab.open(), lab.input(seed: 90, fresh: 30 << 10))
        _ = try lab.open().sync(to: LocalBackend(root: lab.live + "/copy"))
        let oldHead = try lab.open().headID
        try lab.seal(try lab.open(), lab.input(seed: 91, fresh: 150 << 10))
        let source = try lab.open()
        let counts = try cutEverywhere(
            "sync", lab, next: "", target: "copy",
            verify: { crash, committedGeneration, context in
                // The copy is a valid vault at its old head or at the new one, with nothing torn.
                CrashChecks.verifyNames(crash + "/copy", context)
                let copy = try Vault.open(at: crash + "/copy", passphrase: T.secret("pw"), state: nil)
                #expect(copy.headID == oldHead || copy.headID == source.headID, "\(context): the copy is at generation \(copy.head.generation)")
                #expect(copy.head.generation >= committedGeneration, "\(context)")
                let report = try copy.check(readDataFraction: 1)
                #expect(report.errors.isEmpty, "\(context): \(report.errors)")
                for id in copy.head.live {
                    let out = crash + "/restored-" + id.short
                    try copy.restore(id, to: out)
                    #expect(T.tree(out + "/d") == lab.trees[id], "\(context): version \(id.short) restores wrong from the copy")
                }
                // Syncing again completes the copy (the crashed sync's lock on it is stale).
                try CrashChecks.removeOwnLocks(copy, crash + "/copy")
                let vault = try Vault.open(at: crash + "/vault", passphrase: T.secret("pw"), state: nil)
                _ = try vault.sync(to: LocalBackend(root: crash + "/copy"))
                let synced = try Vault.open(at: crash + "/copy", passphrase: T.secret("pw"), state: nil)
                #expect(synced.headID == source.headID, "\(context): the second sync did not complete the copy")
                #expect(try synced.check(readDataFraction: 1).errors.isEmpty, "\(context): after the second sync")
            }
        ) { v, calls in
            _ = try v.sync(to: LocalBackend(root: lab.live + "/copy", calls: calls))
        }
        print("power cut, sync: \(counts)")
    }
    @Test("power cut at every call of an upgrade from format 1: every state opens, restores every version, and upgrade again finishes it")
    func upgrade() throws {
        let lab = try CrashLab(format: 1)
        for s in 0..<2 { try lab.seal(try lab.open(), lab.input(seed: UInt64(60 + s), fresh: 20 << 10)) }
        #expect(try lab.open().format == 1)
        let prefix = "upgraded from format-1 version "
        /// Every live version restores to the tree its format-1 version was sealed from.
        func restoresAll(_ v: Vault, _ crash: String, _ context: String) throws {
            let versions = try v.versions()
            #expect(versions.count == 2, "\(context): \(versions.count) versions")
            for (id, version) in versions {
                let old = version.notes.last { $0.hasPrefix(prefix) }.flatMap { ObjectID(hex: String($0.dropFirst(prefix.count))) } ?? id
                let out = crash + "/restored-" + UUID().uuidString
                try v.restore(id, to: out)
                #expect(T.tree(out + "/d") == lab.trees[old], "\(context): version \(id.short) (from \(old.short)) restores wrong")
            }
        }
        let counts = try cutEverywhere(
            "upgrade", lab, next: "",
            verify: { crash, committedGeneration, context in
                CrashChecks.verifyNames(crash + "/vault", context)
                let state = RollbackState(directory: crash + "/state")
                let v = try Vault.open(at: crash + "/vault", passphrase: T.secret("pw"), state: state)
                #expect(v.rollback == nil, "\(context): \(v.rollback?.description ?? "")")
                #expect(v.head.generation >= committedGeneration, "\(context)")
                let report = try v.check(readDataFraction: 1)
                #expect(report.errors.isEmpty, "\(context): \(report.errors)")
                try restoresAll(v, crash, context)
                // The crashed writer's lock (this process, which lives on) goes, as after a restart.
                for (name, info) in try v.locks() where info?.pid == Int64(getpid()) { unlink(crash + "/vault/locks/" + name) }
                // Upgrade again finishes it.
                _ = try v.upgrade()
                let done = try Vault.open(at: crash + "/vault", passphrase: T.secret("pw"), state: state)
                #expect(done.format == 2 && !done.upgradeInProgress && done.rollback == nil, "\(context): not finished")
                #expect(try done.check(readDataFraction: 1).errors.isEmpty, "\(context): after the re-run")
                try restoresAll(done, crash, context + ", after the re-run")
            }
        ) { v, _ in
            // The new ids restore what the old ones did (for the fsync-ignored states' checks).
            for m in try v.upgrade().mapping { lab.trees[m.new] = lab.trees[m.old] }
        }
        print("power cut, upgrade: \(counts)")
    }
}
