import Foundation
import Testing

/// check, prune and unlock through the command.
@Suite("Maintenance")
struct MaintenanceTests {
    func sealedVault() throws -> Scratch {
        let s = try Scratch()
        try s.initVault()
        try s.write("in/data.bin", pseudoRandomBytes(count: 300_000, seed: 7))
        try s.write("in/notes.txt", String(repeating: "a line of notes\n", count: 2_000))
        try s.ok(["seal", s.path("in"), "--name", "data"])
        return s
    }

    func onlyPack(_ s: Scratch) throws -> String {
        let packs = filesUnder(s.path("vault/packs")).filter { $0.count > 40 }
        #expect(packs.count == 1)
        let p = s.path("vault/packs/" + (try #require(packs.first)))
        #expect(chmod(p, 0o600) == 0)
        return p
    }

    @Test("check is clean on a fresh vault and exits 13 naming what a flipped byte damaged")
    func checkFindsFlippedByte() throws {
        let s = try sealedVault()
        let clean = try s.ok(["check", "--read-data"])
        #expect(clean.stdout.contains("no errors found"))
        let json = try s.ok(["check", "--json"])
        let obj = try #require(try JSONSerialization.jsonObject(with: json.stdoutData) as? [String: Any])
        #expect(obj["clean"] as? Bool == true)

        let pack = try onlyPack(s)
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: pack)))
        bytes[bytes.count / 3] ^= 0x10
        try Data(bytes).write(to: URL(fileURLWithPath: pack))
        let r = try s.run(["check", "--read-data"])
        #expect(r.status == 13)
        #expect(r.stdout.contains("error: integrity error in packs/"))
        #expect(r.stdout.contains("cannot be fully restored"))
        let subset = try s.run(["check", "--read-data=100%", "--seed", "1"])
        #expect(subset.status == 13)
        #expect(try s.run(["check", "--read-data=150%"]).status == 64)
    }

    @Test("check names a deleted pack, a truncated index and a missing version")
    func checkFindsMissingFiles() throws {
        let s = try sealedVault()
        let pack = try onlyPack(s)
        let saved = try Data(contentsOf: URL(fileURLWithPath: pack))
        unlink(pack)
        // The only pack also holds the version's listing (format 2: its tree pieces).
        let r = try s.run(["check"])
        #expect(r.status == 13)
        #expect(r.stdout.contains("missing"))
        #expect(r.stdout.contains("cannot be fully restored"))
        try saved.write(to: URL(fileURLWithPath: pack))
        // A second seal whose listing and changed notes go to a new pack: without the first
        // pack, check names the file of the second version whose chunks were in it.
        try s.write("in/notes.txt", String(repeating: "another line of notes\n", count: 2_000))
        try s.ok(["seal", s.path("in"), "--name", "data"])
        unlink(pack)
        let second = try s.run(["check"])
        #expect(second.status == 13)
        #expect(second.stdout.contains("missing"))
        #expect(second.stdout.contains("cannot be fully restored: in/data.bin"), "\(second.stdout)")
        try saved.write(to: URL(fileURLWithPath: pack))

        let index = s.path("vault/index/" + (try #require(filesUnder(s.path("vault/index")).first)))
        chmod(index, 0o600)
        let indexBytes = try Data(contentsOf: URL(fileURLWithPath: index))
        try indexBytes.prefix(indexBytes.count / 2).write(to: URL(fileURLWithPath: index))
        let t = try s.run(["check"])
        #expect(t.status == 13)
        #expect(t.stderr.contains("index/"))
        try indexBytes.write(to: URL(fileURLWithPath: index))

        let version = s.path("vault/versions/" + (try #require(filesUnder(s.path("vault/versions")).first)))
        chmod(version, 0o600)
        unlink(version)
        let v = try s.run(["check"])
        #expect(v.status == 13)
        #expect(v.stdout.contains("versions/"))
    }

    @Test("prune --dry-run changes nothing; prune on a clean vault has nothing to do")
    func pruneDryRun() throws {
        let s = try sealedVault()
        let before = filesUnder(s.path("vault"))
        let r = try s.ok(["prune", "--dry-run", "--json"])
        let obj = try #require(try JSONSerialization.jsonObject(with: r.stdoutData) as? [String: Any])
        #expect(obj["packs_deleted"] as? Int == 0)
        #expect(filesUnder(s.path("vault")) == before)
        let real = try s.ok(["prune"])
        #expect(real.stdout.contains("freed 0 B"))
        try s.ok(["check", "--read-data"])
    }

    @Test("a killed seal leaves a stale lock that unlock removes and the next seal takes over")
    func staleLockAfterKill() throws {
        let s = try sealedVault()
        try s.write("big/a.bin", pseudoRandomBytes(count: 120 << 20, seed: 9))
        let seal = try s.start(["seal", s.path("big")])
        let deadline = Date().addingTimeInterval(20)
        let lockFiles = { filesUnder(s.path("vault/locks")).filter { !$0.hasPrefix(".") } }
        while lockFiles().isEmpty && Date() < deadline { usleep(2_000) }
        usleep(50_000)
        kill(seal.process.processIdentifier, SIGKILL)
        _ = try seal.finish(timeout: 20)
        guard !lockFiles().isEmpty else {
            print("skipped: the seal finished before it could be killed")
            return
        }
        let r = try s.ok(["unlock"])
        #expect(r.stdout.contains("removed the stale lock of process \(seal.process.processIdentifier)"))
        #expect(lockFiles().isEmpty)
        try s.ok(["seal", s.path("in"), "--name", "data"])
        let check = try s.ok(["check"])
        #expect(check.stdout.contains("no errors found"))
    }
}
