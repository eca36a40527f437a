import Foundation
import Testing

/// Ctrl-C during seal and restore: exit 130, the vault unchanged, no partial file.
@Suite("Interrupts")
struct InterruptTests {
    @Test("Ctrl-C during seal exits 130 and writes no version; during restore leaves no partial file")
    func interrupt() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("small.txt", "small")
        try s.ok(["seal", s.path("small.txt")])
        let before = try s.ok(["list", "--json"]).stdout

        // A few hundred milliseconds of sealing in a debug build. Ctrl-C comes as soon as the seal
        // holds the vault's lock, so it lands while the file is being read and stored (not at
        // start-up, where it would stop the process before it touched the vault). A seal that still
        // got to its commit first must then have finished cleanly instead.
        let big = pseudoRandomBytes(count: 48_000_000, seed: 5)
        try s.write("big/big.bin", big)
        let seal = try s.start(["seal", s.path("big")])
        seal.waitForInterruptHandler()
        let deadline = Date().addingTimeInterval(20)
        while seal.isRunning && Date() < deadline
            && ((try? FileManager.default.contentsOfDirectory(atPath: s.vault + "/locks")) ?? []).allSatisfy({ $0.hasPrefix(".") }) {
            usleep(1_000)
        }
        guard seal.isRunning else {
            _ = try seal.finish(timeout: 5)
            print("skipped: the seal finished before Ctrl-C could be sent")
            return
        }
        seal.interrupt()
        let sealed = try seal.finish(timeout: 60)
        if sealed.status == 0 {
            print("note: Ctrl-C reached the seal after its commit; checking that it completed")
            #expect(try s.ok(["list", "--json"]).stdout != before)
            try s.ok(["check", "--read-data"])
        } else {
            #expect(sealed.status == 130, "\(sealed.stderr)")
            #expect(sealed.stderr.contains("interrupted"))
            #expect(sealed.stderr.contains("vault is unchanged"))
            #expect(try s.ok(["list", "--json"]).stdout == before)
            try s.ok(["seal", s.path("big")])
        }

        // Restore: the file is either complete under its real name or absent.
        let restore = try s.start(["restore", "big", "--to", s.path("out")])
        restore.waitForInterruptHandler()
        usleep(50_000)
        guard restore.isRunning else {
            _ = try restore.finish(timeout: 5)
            print("skipped: the restore finished before Ctrl-C could be sent")
            return
        }
        restore.interrupt()
        let restored = try restore.finish(timeout: 60)
        if restored.status == 130 {
            #expect(restored.stderr.contains("interrupted"))
            let left = filesUnder(s.path("out"))
            #expect(!left.contains { $0.contains(".coffer-restore-") }, "temporary files left: \(left)")
            if s.exists("out/big/big.bin") { #expect(try s.read("out/big/big.bin") == big) }
        } else {
            #expect(restored.status == 0)
        }
    }
}
