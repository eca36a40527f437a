import Foundation
import Testing

/// Faults during sync and prune, through the command.
@Suite("Faults")
struct FaultTests {
    @Test("sync to a full destination fails naming it, leaves the source untouched and the copy valid, at several fill levels")
    func syncToFullDestination() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("small.txt", "a first small version")
        try s.ok(["seal", s.path("small.txt")])
        guard let fs = try Tmpfs.mount(bytes: 8 << 20, label: "sync") else { return }
        defer { fs.unmount() }
        let copy = fs.path + "/coffer"
        // The copy's own rollback memory: between syncs it is rightly behind the source's.
        let copyEnv = ["XDG_STATE_HOME": s.path("copy-state")]
        try s.ok(["sync", copy])
        var outcomes: [String] = []
        for pass in 0..<DiskFullTests.passes {
            // A new version that does not fit in what is left.
            // (pseudoRandomBytes ignores the seed's lowest bit: odd seeds only.)
            let big = pseudoRandomBytes(count: 3 << 20, seed: UInt64(101 + 2 * pass))
            try s.write("big.bin", big)
            try s.ok(["seal", s.path("big.bin")])
            let missing = Set(filesUnder(s.vault)).subtracting(filesUnder(copy))
            let needed = pagesUsed(s.vault, missing) + 4096
            fs.fill(leaving: needed * pass / DiskFullTests.passes)
            let freeBefore = fs.free
            let context = "pass \(pass): \(freeBefore) bytes free of \(needed) needed"
            let before = filesUnder(s.vault)
            let copyVersions = try s.run(["list", "--json", "--vault", copy], environment: copyEnv)
            let r = try s.run(["sync", copy])
            outcomes.append("\(freeBefore / 1024) KiB free: exit \(r.status)")
            #expect(r.status == 1, "\(context): \(r.stderr)")
            #expect(DiskFullTests.isDiskFullLine(r.stderr), "\(context): not one line saying the disk is full: \(r.stderr)")
            #expect(r.stderr.contains(copy), "\(context): the message names the destination: \(r.stderr)")
            #expect(filesUnder(s.vault) == before, "\(context): the source is untouched")
            // The copy is still a valid vault at its previous state, with no partial file.
            #expect(!filesUnder(copy).contains { $0.contains(".tmp-") }, "\(context): temporary files left in the copy")
            let list = try s.run(["list", "--json", "--vault", copy], environment: copyEnv)
            #expect(list.status == 0, "\(context): \(list.stderr)")
            #expect(list.stdout == copyVersions.stdout, "\(context): the copy's versions changed")
            let check = try s.run(["check", "--read-data", "--json", "--vault", copy], environment: copyEnv)
            #expect(check.status == 0 && ((try? check.json() as? [String: Any])?["errors"] as? [Any])?.isEmpty == true, "\(context): \(check.stdout)")

            // With space again, the sync completes and the new version comes back from the copy.
            fs.freeUp()
            try s.ok(["sync", copy, "--delete"])
            let again = try s.run(["check", "--read-data", "--json", "--vault", copy], environment: copyEnv)
            #expect(again.status == 0, "\(context): after freeing space: \(again.stdout)")
            let out = s.path("out-\(pass)")
            let restored = try s.run(["restore", "big.bin@latest", "--vault", copy, "--to", out], environment: copyEnv)
            #expect(restored.status == 0, "\(restored.stderr)")
            #expect(try s.read("out-\(pass)/big.bin") == big, "\(context): the copy's new version restores wrong")
            // Keep the copy small for the next pass.
            try s.ok(["forget", "big.bin", "--keep-last", "1", "--prune"])
            try s.ok(["sync", copy, "--delete"])
        }
        print("disk full, sync: \(DiskFullTests.passes) passes (\(outcomes.joined(separator: "; ")))")
    }

    @Test("prune killed with SIGKILL at random moments loses nothing and a re-run finishes")
    func pruneKilled() throws {
        let s = try Scratch()
        try s.initVault()
        // Many versions of a changing file: many packs, most of them unused after forget.
        for k in 0..<12 {
            try s.write("data/file.bin", pseudoRandomBytes(count: 600_000, seed: UInt64(k)))
            try s.ok(["seal", s.path("data"), "--name", "data"])
        }
        try s.ok(["forget", "--keep-last", "2"])
        let latest = try s.read("data/file.bin")
        let template = s.path("vault-before-prune")
        _ = try Scratch.shell(["/bin/cp", "-a", s.vault, template])
        // A format-2 prune commits a head: the machine's rollback state is put back with the vault.
        let stateTemplate = s.path("state-before-prune")
        _ = try Scratch.shell(["/bin/cp", "-a", s.path("state"), stateTemplate])
        var kills = 0
        for attempt in 0..<6 {
            _ = try Scratch.shell(["/bin/chmod", "-R", "u+rwX", s.vault])
            _ = try Scratch.shell(["/bin/rm", "-rf", s.vault])
            _ = try Scratch.shell(["/bin/cp", "-a", template, s.vault])
            _ = try Scratch.shell(["/bin/rm", "-rf", s.path("state")])
            _ = try Scratch.shell(["/bin/cp", "-a", stateTemplate, s.path("state")])
            let prune = try s.start(["prune"])
            usleep(UInt32(10_000 + attempt * 25_000))
            if prune.isRunning { kill(prune.process.processIdentifier, SIGKILL); kills += 1 }
            _ = try prune.finish(timeout: 30)
            let check = try s.run(["check", "--read-data"])
            #expect(check.status == 0, "after a kill at attempt \(attempt): \(check.stdout) \(check.stderr)")
            try s.ok(["restore", "data@latest", "--to", s.path("out\(attempt)")])
            #expect(try s.read("out\(attempt)/data/file.bin") == latest)
            try s.ok(["restore", "data@-1", "--to", s.path("older\(attempt)")])
            // --min-age 0: the killed run's new packs are its own leftovers, not another writer's.
            let again = try s.ok(["prune", "--min-age", "0", "--json"])
            #expect(again.status == 0)
            let final = try s.ok(["check", "--read-data", "--json"])
            let obj = try #require(try final.json() as? [String: Any])
            #expect((obj["unreferenced_packs"] as? [Any])?.isEmpty == true, "a re-run finished the job")
        }
        print("prune SIGKILLed in \(kills) of 6 attempts")
    }
}
