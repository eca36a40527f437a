import Foundation
import Testing

/// A vault on a small tmpfs that fills up during seal and prune (reliability matrix row 4), at
/// several fill levels: the command fails with status 1 and one line saying the disk is full, no
/// temporary file is left and no partial file is taken for valid, `check --read-data` passes,
/// every version restores, and after space is freed the command works. Sync to a full
/// destination is in FaultTests.
///
/// Needs root to mount (skipped with a message otherwise). `COFFER_DISKFULL_PASSES` sets the
/// fill levels per test (default 2; `make diskfull` runs 10).
@Suite("Disk full", .serialized)
struct DiskFullTests {
    static var passes: Int {
        ProcessInfo.processInfo.environment["COFFER_DISKFULL_PASSES"].flatMap { Int($0) }.map { max(1, $0) } ?? 2
    }

    /// The one line a full disk must produce.
    static func isDiskFullLine(_ stderr: String) -> Bool {
        let lines = stderr.split(separator: "\n", omittingEmptySubsequences: true)
        return lines.count == 1 && lines[0].hasPrefix("coffer: ") && lines[0].hasSuffix("the disk is full; free some space and run the command again")
    }

    /// What must hold of a vault after a command failed on a full disk.
    func verifyAfterFailure(_ s: Scratch, env: [String: String], vault: String, versions: [String: [String: TreeNode]], _ context: String) throws {
        #expect(filesUnder(vault).filter { $0.contains("/.tmp-") || $0.hasPrefix(".tmp-") }.isEmpty, "\(context): temporary files left")
        let check = try s.run(["check", "--read-data", "--json"], environment: env)
        let obj = (try? check.json() as? [String: Any]) ?? [:]
        #expect(check.status == 0 && (obj["errors"] as? [Any])?.isEmpty == true, "\(context): check: \(check.stdout) \(check.stderr)")
        try namesMatchContent(vault, context)
        let list = try s.run(["list", "--json"], environment: env)
        let ids = ((try? list.json() as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
        #expect(Set(ids) == Set(versions.keys), "\(context): the versions changed")
        for (id, tree) in versions {
            let out = s.path("restored-\(id.prefix(8))")
            _ = try? Scratch.shell(["/bin/rm", "-rf", out])
            let r = try s.run(["restore", id, "--to", out], environment: env)
            #expect(r.status == 0, "\(context): restore: \(r.stderr)")
            let got = TreeNode.snapshot(out + "/tree")
            #expect(got == tree, "\(context): version \(id.prefix(8)) restores wrong: \(TreeNode.differences(got, tree))")
        }
    }

    /// Every file under a content-addressed vault name hashes to it (`b2sum -l 256`).
    func namesMatchContent(_ vault: String, _ context: String) throws {
        guard let b2sum = Binaries.tool("b2sum") else { return }
        let files = filesUnder(vault).filter {
            let parts = $0.split(separator: "/")
            return ["keys", "index", "versions", "heads", "packs"].contains(String(parts.first ?? "")) && !isHiddenPath($0)
                && (parts.first != "packs" || parts.count == 3) && parts.count >= 2
        }
        guard !files.isEmpty else { return }
        let r = try RunningCoffer(command: [b2sum, "-l", "256"] + files, environment: ["PATH": "/usr/bin:/bin"], directory: vault).finish(timeout: 60)
        for line in r.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let path = parts[1].trimmingCharacters(in: .whitespaces)
            let name = String(path.split(separator: "/").last ?? "")
            let want = path.hasPrefix("heads/") ? String(name.split(separator: "-").last ?? "") : name
            #expect(String(parts[0]) == want, "\(context): \(path) does not match its name (a partial file under a vault name)")
        }
    }

    func seal(_ s: Scratch, env: [String: String]) throws -> (RunResult, String?) {
        let r = try s.run(["seal", s.path("tree"), "--json"], environment: env, timeout: 120)
        return (r, (try? r.json() as? [String: Any])?["id"] as? String)
    }

    @Test("seal into a vault whose disk fills up, at several fill levels")
    func sealFillsTheDisk() throws {
        let s = try Scratch()
        // The reference: what the second seal writes, on an ordinary disk.
        try s.write("tree/notes.txt", Array(String(repeating: "a line of text for the first version\n", count: 4_000).utf8))
        try s.initVault()
        try s.ok(["seal", s.path("tree")])
        let before = Set(filesUnder(s.vault))
        try s.write("tree/big.bin", pseudoRandomBytes(count: 2_500_000, seed: 1))
        try s.write("tree/more/small.bin", pseudoRandomBytes(count: 30_000, seed: 2))
        try s.ok(["seal", s.path("tree")])
        let needed = pagesUsed(s.vault, Set(filesUnder(s.vault)).subtracting(before)) + 4096  // plus the lock
        unlink(s.path("tree/big.bin"))
        try? FileManager.default.removeItem(atPath: s.path("tree/more"))

        guard let fs = try Tmpfs.mount(bytes: 8 << 20, label: "seal") else { return }
        defer { fs.unmount() }
        var outcomes: [String] = []
        for pass in 0..<Self.passes {
            let vault = fs.path + "/vault-\(pass)"
            let env = ["COFFER_VAULT": vault]
            #expect(try s.run(["init", "-q"], environment: env).status == 0)
            let (first, firstID) = try seal(s, env: env)
            #expect(first.status == 0, "\(first.stderr)")
            var versions: [String: [String: TreeNode]] = [:]
            if let firstID { versions[firstID] = TreeNode.snapshot(s.path("tree")) }
            try s.write("tree/big.bin", pseudoRandomBytes(count: 2_500_000, seed: 1))
            try s.write("tree/more/small.bin", pseudoRandomBytes(count: 30_000, seed: 2))
            let second = TreeNode.snapshot(s.path("tree"))

            // Free space from none to just short of what the seal needs.
            let leave = needed * pass / Self.passes
            fs.fill(leaving: leave)
            let freeBefore = fs.free
            let context = "pass \(pass): \(freeBefore) bytes free of \(needed) needed"
            let (full, _) = try seal(s, env: env)
            #expect(full.status == 1, "\(context): seal exited \(full.status): \(full.stderr)")
            #expect(Self.isDiskFullLine(full.stderr), "\(context): not one line saying the disk is full: \(full.stderr)")
            try verifyAfterFailure(s, env: env, vault: vault, versions: versions, context)
            outcomes.append("\(freeBefore / 1024) KiB free: exit \(full.status)")

            // With the space back, the seal works.
            fs.freeUp()
            let (again, againID) = try seal(s, env: env)
            #expect(again.status == 0, "\(context): seal after freeing space: \(again.stderr)")
            if let againID { versions[againID] = second }
            try verifyAfterFailure(s, env: env, vault: vault, versions: versions, context + ", after freeing space")
            #expect(try s.run(["prune"], environment: env).status == 0)
            _ = try? Scratch.shell(["/bin/rm", "-rf", vault])
            unlink(s.path("tree/big.bin"))
            try? FileManager.default.removeItem(atPath: s.path("tree/more"))
        }
        print("disk full, seal: \(Self.passes) passes (\(outcomes.joined(separator: "; ")))")
    }

    @Test("prune on a full disk (it must write a repacked pack before deleting), at several fill levels")
    func pruneFillsTheDisk() throws {
        let s = try Scratch()
        // v1 holds a and b in one pack; v2 only a; forgetting v1 leaves the pack half used, so
        // prune repacks a into a new pack before it can delete the old one.
        func history(_ env: [String: String]) throws -> (String, [String: TreeNode]) {
            try? FileManager.default.removeItem(atPath: s.path("tree"))
            try s.write("tree/a.bin", pseudoRandomBytes(count: 1_200_000, seed: 11))
            try s.write("tree/b.bin", pseudoRandomBytes(count: 1_200_000, seed: 12))
            #expect(try s.run(["init", "-q"], environment: env).status == 0)
            #expect(try seal(s, env: env).0.status == 0)
            unlink(s.path("tree/b.bin"))
            let (r, id) = try seal(s, env: env)
            #expect(r.status == 0)
            #expect(try s.run(["forget", "--keep-last", "1"], environment: env).status == 0)
            return (id ?? "", TreeNode.snapshot(s.path("tree")))
        }
        let reference = s.path("reference")
        _ = try history(["COFFER_VAULT": reference])
        let before = Set(filesUnder(reference))
        #expect(try s.run(["prune"], environment: ["COFFER_VAULT": reference]).status == 0)
        let needed = pagesUsed(reference, Set(filesUnder(reference)).subtracting(before)) + 4096

        guard let fs = try Tmpfs.mount(bytes: 8 << 20, label: "prune") else { return }
        defer { fs.unmount() }
        var outcomes: [String] = []
        for pass in 0..<Self.passes {
            let vault = fs.path + "/vault-\(pass)"
            let env = ["COFFER_VAULT": vault]
            let (id, tree) = try history(env)
            let leave = needed * pass / Self.passes
            fs.fill(leaving: leave)
            let freeBefore = fs.free
            let context = "pass \(pass): \(freeBefore) bytes free of \(needed) needed"
            let r = try s.run(["prune"], environment: env, timeout: 120)
            #expect(r.status == 1, "\(context): prune exited \(r.status): \(r.stderr)")
            #expect(Self.isDiskFullLine(r.stderr), "\(context): not one line saying the disk is full: \(r.stderr)")
            try verifyAfterFailure(s, env: env, vault: vault, versions: [id: tree], context)
            outcomes.append("\(freeBefore / 1024) KiB free: exit \(r.status)")

            fs.freeUp()
            // --min-age 0: the failed run's new packs are its own leftovers, not another writer's.
            let again = try s.run(["prune", "--min-age", "0"], environment: env, timeout: 120)
            #expect(again.status == 0, "\(context): prune after freeing space: \(again.stderr)")
            let check = try s.run(["check", "--json"], environment: env)
            #expect(((try? check.json() as? [String: Any])?["unreferenced_packs"] as? [Any])?.isEmpty == true, "\(context): prune did not finish")
            try verifyAfterFailure(s, env: env, vault: vault, versions: [id: tree], context + ", after freeing space")
            try s.write("tree/c.txt", "after the disk was full")
            #expect(try seal(s, env: env).0.status == 0, "\(context): seal after freeing space")
            _ = try? Scratch.shell(["/bin/rm", "-rf", vault])
        }
        print("disk full, prune: \(Self.passes) passes (\(outcomes.joined(separator: "; ")))")
    }
}
