import Foundation
import Testing

/// Faults during sync and prune, through the command.
@Suite("Faults")
struct FaultTests {
    @Test("sync to a full destination fails naming it, leaves the source untouched and the copy valid")
    func syncToFullDestination() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("small.txt", "a first small version")
        try s.ok(["seal", s.path("small.txt")])
        let mountPoint = s.path("usb")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        guard getuid() == 0, let mount = Binaries.tool("mount"), let umount = Binaries.tool("umount"),
              (try Scratch.shell([mount, "-t", "tmpfs", "-o", "size=2m", "tmpfs", mountPoint])).status == 0
        else {
            print("skipped: cannot mount a small tmpfs to fill up")
            return
        }
        defer { _ = try? Scratch.shell([umount, mountPoint]) }
        let copy = mountPoint + "/coffer"
        try s.ok(["sync", copy])
        // A second version that does not fit on the 2 MB disk.
        try s.write("big.bin", pseudoRandomBytes(count: 3 << 20, seed: 5))
        try s.ok(["seal", s.path("big.bin")])
        let before = filesUnder(s.path("vault"))
        let r = try s.run(["sync", copy])
        #expect(r.status != 0)
        #expect(r.stderr.contains("full"), "\(r.stderr)")
        #expect(r.stderr.contains(copy) || r.stderr.contains("usb"), "the message names the destination: \(r.stderr)")
        #expect(filesUnder(s.path("vault")) == before, "the source is untouched")
        // The copy is still a valid vault at its previous state.
        let list = try s.run(["list", "--json", "--vault", copy])
        #expect(list.status == 0 || list.status == 14, "\(list.stderr)")
        #expect((try list.json() as? [Any])?.count == 1)
        let check = try s.run(["check", "--vault", copy])
        #expect(!check.stdout.contains("error:"), "\(check.stdout)")
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
        var kills = 0
        for attempt in 0..<6 {
            _ = try Scratch.shell(["/bin/chmod", "-R", "u+rwX", s.vault])
            _ = try Scratch.shell(["/bin/rm", "-rf", s.vault])
            _ = try Scratch.shell(["/bin/cp", "-a", template, s.vault])
            let prune = try s.start(["prune"])
            usleep(UInt32(10_000 + attempt * 25_000))
            if prune.isRunning { kill(prune.process.processIdentifier, SIGKILL); kills += 1 }
            _ = try prune.finish(timeout: 30)
            let check = try s.run(["check", "--read-data"])
            #expect(check.status == 0, "after a kill at attempt \(attempt): \(check.stdout) \(check.stderr)")
            try s.ok(["restore", "data@latest", "--to", s.path("out\(attempt)")])
            #expect(try s.read("out\(attempt)/data/file.bin") == latest)
            try s.ok(["restore", "data@-1", "--to", s.path("older\(attempt)")])
            let again = try s.ok(["prune", "--json"])
            #expect(again.status == 0)
            let final = try s.ok(["check", "--read-data", "--json"])
            let obj = try #require(try final.json() as? [String: Any])
            #expect((obj["unreferenced_packs"] as? [Any])?.isEmpty == true, "a re-run finished the job")
        }
        print("prune SIGKILLed in \(kills) of 6 attempts")
    }
}
