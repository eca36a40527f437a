@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// `coffer upgrade` killed with SIGKILL at random instants: after each kill the vault opens (as
/// format 1 or format 2), lists every version, restores each byte for byte, checks clean apart
/// from reclaimable leftovers, and `upgrade` run again finishes it (the same then holds).
///
/// Iterations as the crash torture: `COFFER_TORTURE_ITERATIONS` (default 2 here: a few seconds),
/// `make torture N=...` for more; the summary line starts with "torture summary: upgrade".
@Suite("Upgrade torture", .serialized)
struct UpgradeTortureTests {
    /// The config's format field (bytes 8–9, little-endian), read without a key.
    static func configFormat(_ vault: String) -> Int {
        guard let b = FileManager.default.contents(atPath: vault + "/config"), b.count >= 10 else { return -1 }
        return Int(b[8]) | Int(b[9]) << 8
    }

    /// The head files in `heads/` (temporary files not counted).
    static func heads(_ vault: String) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: vault + "/heads")) ?? []).filter { !$0.hasPrefix(".") }.count
    }

    /// A format-1 vault at `path` with the scratch's passphrase (the test-only way to make one:
    /// `coffer init` makes format 2).
    static func createFormatOne(_ s: Scratch, at path: String) throws {
        let pass = Array(s.passphrase.utf8).withUnsafeBytes { SecureBytes(copying: $0) }
        var o = VaultOptions()
        o.kdf = .insecureTestOnly
        o.packTargetSize = 256 << 10  // several packs, so kills fall between pack writes too
        _ = try Vault.create(at: path, passphrase: pass, options: o, state: nil, format: 1)
    }

    /// The live versions (`list --json`): id → the format-1 version it came from (itself when not upgraded).
    static func live(_ run: TortureTests.Run, _ context: String) throws -> [String: String] {
        let r = try run.s.run(["list", "--json"])
        #expect(r.status == 0, "\(context): list: \(r.stderr)")
        var out: [String: String] = [:]
        for v in (try? r.json() as? [[String: Any]]) ?? [] {
            guard let id = v["id"] as? String else { continue }
            let notes = v["notes"] as? [String] ?? []
            let prefix = "upgraded from format-1 version "
            out[id] = notes.last { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) } ?? id
        }
        return out
    }

    /// Every version listed, each restoring to the tree its format-1 version was sealed from.
    static func expectAllRestore(_ run: TortureTests.Run, old: Set<String>, _ context: String) throws -> [String: String] {
        let live = try live(run, context)
        #expect(Set(live.values) == old, "\(context): the versions listed are not the sealed ones: \(live)")
        for (id, from) in live.sorted(by: { $0.key < $1.key }) {
            guard let want = run.expected[from] else { continue }
            let out = run.s.path("restore-out")
            _ = try? Scratch.shell(["/bin/rm", "-rf", out])
            let r = try run.s.run(["restore", id, "--to", out], timeout: 300)
            run.restores += 1
            #expect(r.status == 0, "\(context): restore \(id.prefix(8)): \(r.stderr)")
            let got = TreeNode.snapshot(out + "/tree")
            #expect(got == want, "\(context): version \(id.prefix(8)) (from \(from.prefix(8))) restores wrong: \(TreeNode.differences(got, want))")
        }
        return live
    }

    @Test("upgrade killed at random instants; the vault opens, lists, restores and checks after each, and upgrade again finishes it")
    func torture() throws {
        let n = TortureTests.iterations
        let seed = ProcessInfo.processInfo.environment["COFFER_TORTURE_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1...UInt64.max)
        let run = try TortureTests.Run(seed: seed)
        let s = run.s
        let template = s.path("template")

        // A format-1 vault of four versions of a mixed tree (files, duplicates, folders, links, a zip export).
        try Self.createFormatOne(s, at: template)
        try run.build()
        for k in 0..<4 {
            if k > 0 { try run.mutate() }
            let r = try s.run(["seal", run.tree, "--json", "--vault", template])
            #expect(r.status == 0, "template seal \(k): \(r.stderr)")
            if let id = (try? r.json() as? [String: Any])?["id"] as? String { run.expected[id] = TreeNode.snapshot(run.tree) }
        }
        let old = Set(run.expected.keys)
        #expect(old.count == 4)
        #expect(Self.configFormat(template) == 1)

        func fresh(_ label: String) throws {
            _ = try Scratch.shell(["/bin/rm", "-rf", s.vault])
            let cp = try Scratch.shell(["/bin/cp", "-a", template, s.vault])
            #expect(cp.status == 0, "cp: \(cp.stderr)")
            // Each copy starts with its own rollback memory (a finished upgrade moves it forward).
            s.environment["XDG_STATE_HOME"] = s.path("state-" + label)
        }
        let locked = { TortureTests.Run.hasEntry(s.vault + "/locks") }
        var vaultCount = 0
        let vaultGrows = { TortureTests.Run.written(s.vault) != vaultCount }
        // The switch: kills placed from it fall between the config's rename and the head.
        let switched = { Self.configFormat(s.vault) == 2 }

        // A complete upgrade first, for the timings the kills are placed by.
        try fresh("timing")
        vaultCount = TortureTests.Run.written(s.vault)
        let timed = try run.complete("upgrade", ["upgrade", "--json"], anchors: [locked, vaultGrows, switched], "timing run")
        let mapped = ((try? timed.json() as? [String: Any])?["versions"] as? [[String: String]]) ?? []
        #expect(Set(mapped.compactMap { $0["old"] }) == old)
        #expect(Self.configFormat(s.vault) == 2)
        _ = try Self.expectAllRestore(run, old: old, "timing run")
        try run.checkClean("timing run")

        for i in 0..<n {
            let context = "iteration \(i) (seed \(seed))"
            try fresh("\(i)")
            let headsBefore = Self.heads(s.vault)
            let filesBefore = run.files(s.vault)
            vaultCount = TortureTests.Run.written(s.vault)
            let (r, killed) = try run.killed("upgrade", ["upgrade"], anchors: [locked, vaultGrows, switched])

            // Where it got to.
            let format = Self.configFormat(s.vault)
            let committed = Self.heads(s.vault) > headsBefore
            if !killed {
                #expect(r.status == 0, "\(context): upgrade exited \(r.status): \(r.stderr)")
                run.tally.add("upgrade", "finished before the kill")
            } else {
                let added = run.files(s.vault).subtracting(filesBefore)
                let phase = committed ? "after commit"
                    : format == 2 ? "switched, head not written"
                    : added.contains { $0.hasPrefix("versions/") } ? "before switch: versions written"
                    : added.contains { $0.hasPrefix("index/") } ? "before switch: index written"
                    : added.contains { $0.hasPrefix("packs/") } ? "before switch: packs written" : "before switch: nothing written"
                run.tally.add("upgrade", phase)
            }
            #expect(format == 1 || format == 2, "\(context): config format \(format)")

            // The vault opens, lists every version, restores each, checks clean.
            let live = try Self.expectAllRestore(run, old: old, context + ", after the kill")
            if format == 1 || !committed { #expect(Set(live.keys) == old, "\(context): the format-1 versions are still the live ones") }
            try run.checkClean(context + ", after the kill")
            if format == 2 && !committed {
                // Switched, not finished: other writers refuse in one line.
                let sealed = try s.run(["seal", run.tree])
                #expect(sealed.status == 1 && sealed.stderr.contains("run 'coffer upgrade' to finish it"), "\(context): seal: \(sealed.status) \(sealed.stderr)")
                #expect(sealed.stderr.split(separator: "\n").count == 1, "\(context): \(sealed.stderr)")
            }

            // Upgrade again finishes it; the same holds.
            let again = try run.complete("upgrade", ["upgrade", "--json"], context + ", upgrade re-run")
            run.reruns += 1
            let obj = (try? again.json() as? [String: Any]) ?? [:]
            if committed { #expect(obj["already_format_2"] as? Bool == true, "\(context): \(again.stdout)") }
            #expect(Self.configFormat(s.vault) == 2, "\(context): not format 2 after the re-run")
            let done = try Self.expectAllRestore(run, old: old, context + ", after the re-run")
            #expect(Set(done.keys).isDisjoint(with: old), "\(context): format-1 versions still live after the re-run")
            try run.checkClean(context + ", after the re-run")
        }
        let placed = (0..<4).map { w in run.kills.filter { $0.1 == w }.count }
        print(
            "torture summary: upgrade \(n) iterations (seed \(seed)); \(run.tally.line("upgrade")); "
                + "\(run.kills.count) kills (placed from the start \(placed[0]), from the lock \(placed[1]), from the first vault write \(placed[2]), from the switch \(placed[3])); "
                + "\(run.restores) versions restored; \(run.checks) checks; \(run.reruns) re-runs")
    }

    @Test("sync refuses an old format-1 copy of an upgraded vault; the copy upgraded, sync --force makes it the source's copy again")
    func syncAfterUpgrade() throws {
        let s = try Scratch()
        try Self.createFormatOne(s, at: s.vault)
        try s.write("in/a.bin", pseudoRandomBytes(count: 80_000, seed: 3))
        try s.ok(["seal", s.path("in"), "--quiet"])
        try s.ok(["sync", s.path("copy"), "--quiet"])
        let up = try s.ok(["upgrade"])
        #expect(up.stdout.contains(" -> ") && up.stdout.contains("upgraded 1 version to format 2"), "\(up.stdout)")
        #expect(Self.configFormat(s.vault) == 2)

        let r = try s.run(["sync", s.path("copy")])
        #expect(r.status == 1 && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(r.stderr.contains("is a format-1 copy of this vault and the source is format 2: run 'coffer upgrade' on the destination first"), "\(r.stderr)")
        #expect(Self.configFormat(s.path("copy")) == 1)

        // Upgraded on its own, the copy has its own new versions: the heads diverge, and --force
        // (with --delete) makes it the source's copy.
        let other = ["XDG_STATE_HOME": s.path("copy-state")]
        #expect(try s.run(["upgrade", "--vault", s.path("copy")], environment: other).status == 0)
        #expect(try s.run(["sync", s.path("copy")]).status != 0)
        try s.ok(["sync", s.path("copy"), "--force", "--delete", "--quiet"])
        let listed = try s.run(["list", "--json", "--vault", s.path("copy")], environment: other)
        let src = try s.run(["list", "--json"])
        let ids = { (r: RunResult) in Set(((try? r.json() as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }) }
        #expect(!ids(src).isEmpty && ids(listed) == ids(src))
        try s.ok(["restore", ids(src).first!, "--to", s.path("out"), "--vault", s.path("copy")])
        #expect(try s.read("out/in/a.bin") == pseudoRandomBytes(count: 80_000, seed: 3))

        // Already format 2: a message, exit 0.
        let again = try s.ok(["upgrade"])
        #expect(again.stdout.contains("already format 2"), "\(again.stdout)")
    }
}
