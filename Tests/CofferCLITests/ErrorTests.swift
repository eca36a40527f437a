import Foundation
import Testing

/// Exit statuses and one-line messages for bad input and damaged vaults.
@Suite("Errors and exit statuses")
struct ErrorTests {
    @Test("a missing vault exits 10; a folder that is not a vault exits 10; no vault given exits 64")
    func noVault() throws {
        let s = try Scratch()
        let missing = try s.run(["list"])
        #expect(missing.status == 10)
        #expect(missing.stderr.contains("no vault at"))
        #expect(missing.stderr.contains("coffer init"))

        try s.write("plain/readme.txt", "hello")
        let plain = try s.run(["list", "--vault", s.path("plain")])
        #expect(plain.status == 10)
        #expect(plain.stderr.contains("is not a Coffer vault"))

        let file = try s.run(["list", "--vault", s.path("plain/readme.txt")])
        #expect(file.status == 10)

        let none = try s.run(["list"], environment: ["COFFER_VAULT": ""])
        #expect(none.status == 64)
        #expect(none.stderr.contains("--vault"))
    }

    @Test("init refuses a folder that is not empty")
    func initNonEmpty() throws {
        let s = try Scratch()
        try s.write("vault/something", "x")
        let r = try s.run(["init"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("already exists and is not empty"))
    }

    @Test("a missing path at seal is one clear line and writes nothing")
    func missingInput() throws {
        let s = try Scratch()
        try s.initVault()
        let r = try s.run(["seal", s.path("does-not-exist")])
        #expect(r.status == 1)
        #expect(r.stderr == "coffer: \(s.path("does-not-exist")): no such file or folder; check the path and seal again\n")
        #expect((try s.ok(["list", "--json"]).json() as? [Any])?.isEmpty == true)
    }

    @Test("usage errors exit 64")
    func usage() throws {
        let s = try Scratch()
        #expect(try s.run(["seal"]).status == 64)
        #expect(try s.run(["frobnicate"]).status == 64)
        #expect(try s.run(["seal", "x", "--time", "yesterday"]).status == 64)
        #expect(try s.run(["seal", "x", "--name", "a@b"]).status == 64)
        #expect(try s.run(["status", "--remind-after", "soon"]).status == 64)
        #expect(try s.run(["restore", "x"]).status == 64)  // --to is required
        #expect(try s.run(["list", "--passphrase", "secret"]).status == 64)  // never on the command line
    }

    @Test("a flipped byte in a pack: restore lists the file it could not restore (exit 3) and writes no file")
    func flippedByte() throws {
        let s = try Scratch()
        try s.initVault()
        let original = pseudoRandomBytes(count: 400_000, seed: 42)
        try s.write("in/data.bin", original)
        try s.ok(["seal", s.path("in/data.bin")])
        let packs = filesUnder(s.path("vault/packs")).filter { $0.count > 40 }
        let pack = s.path("vault/packs/" + (try #require(packs.first)))
        #expect(packs.count == 1)
        #expect(chmod(pack, 0o600) == 0)
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: pack)))
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: pack))

        // The one file does not verify: it is listed as not restored (exit 3), nothing else stops.
        let r = try s.run(["restore", "data.bin", "--to", s.path("out")])
        #expect(r.status == 3)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 2 && lines.first == "1 entry could not be restored:", "\(r.stderr)")
        #expect(lines.last?.hasPrefix("  " + s.path("out") + "/data.bin: integrity error") == true, "\(r.stderr)")
        #expect(!s.exists("out/data.bin"), "a wrong file was written under the real name")
        #expect(filesUnder(s.path("out")).isEmpty, "leftovers: \(filesUnder(s.path("out")))")

        let cat = try s.run(["cat", "data.bin", "data.bin"])
        #expect(cat.status == 13)
    }

    @Test("restore refuses to overwrite without --overwrite (or --force)")
    func noOverwrite() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("doc.txt", "sealed content")
        try s.ok(["seal", s.path("doc.txt")])
        try s.write("out/doc.txt", "local edits")
        let r = try s.run(["restore", "doc.txt", "--to", s.path("out")])
        #expect(r.status == 1)
        #expect(r.stderr.contains("already exists"))
        #expect(r.stderr.contains("--overwrite"))
        #expect(try s.read("out/doc.txt") == Array("local edits".utf8))
        try s.ok(["restore", "doc.txt", "--to", s.path("out"), "--force"])
        #expect(try s.read("out/doc.txt") == Array("sealed content".utf8))
    }

    @Test("an unreadable file inside a sealed folder is left out, reported, exit 3")
    func unreadableInput() throws {
        // As root every file is readable: run coffer as 'nobody' with setpriv.
        guard getuid() == 0, let setpriv = Binaries.tool("setpriv") else {
            if getuid() != 0 {
                // Not root: chmod 000 is enough.
                try unreadable(wrapper: [])
            } else {
                print("skipped: running as root without setpriv; cannot make a file unreadable")
            }
            return
        }
        try unreadable(wrapper: [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"])
    }

    private func unreadable(wrapper: [String]) throws {
        let s = try Scratch()
        #expect(chmod(s.root, 0o777) == 0)
        #expect(chmod(s.path("home"), 0o777) == 0)
        try s.write("in/good.txt", "readable")
        try s.write("in/secret.txt", "not readable")
        #expect(chmod(s.path("in"), 0o777) == 0)
        #expect(chmod(s.path("in/secret.txt"), 0o000) == 0)
        #expect(try s.run(["init", "-q"], wrapper: wrapper).status == 0)
        let r = try s.run(["seal", s.path("in")], wrapper: wrapper)
        #expect(r.status == 3, "\(r.stderr)")
        #expect(r.stdout.contains("Sealed "), "the version is still written")
        #expect(r.stderr.contains("could not be read"))
        #expect(r.stderr.contains("secret.txt"))
        // The cause comes from the errno: permission denied, not a vanished file or an I/O error.
        #expect(r.stderr.contains("permission denied: check the permissions"), "\(r.stderr)")
        #expect(!r.stderr.contains("vanished") && !r.stderr.contains("I/O error"))
        let ls = try s.run(["ls", "in@latest"], wrapper: wrapper)
        #expect(ls.stdout.contains("in/good.txt"))
        #expect(!ls.stdout.contains("secret.txt"))
        let list = try #require(try s.run(["list", "--json"], wrapper: wrapper).json() as? [[String: Any]])
        #expect((list.first?["notes"] as? [String])?.contains { $0.contains("secret.txt") } == true)
    }

    @Test("a full disk is one clear line: stdout of cat, and a restore into a full file system")
    func diskFull() throws {
        let s = try Scratch()
        try s.initVault()
        let big = pseudoRandomBytes(count: 3_000_000, seed: 9)
        try s.write("big.bin", big)
        try s.ok(["seal", s.path("big.bin")])

        // stdout on /dev/full.
        let sh = "'\(Binaries.coffer)' cat big.bin big.bin > /dev/full"
        var env = s.environment
        env["COFFER_VAULT"] = s.vault
        env["COFFER_PASSPHRASE"] = s.passphrase
        let cat = try Scratch.shell(["/bin/sh", "-c", sh], environment: env)
        #expect(cat.status == 1)
        #expect(cat.stderr == "coffer: standard output: the disk is full; free some space and run the command again\n")

        // A restore into a 1 MB tmpfs (needs the right to mount; skipped otherwise).
        let mountPoint = s.path("small")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        guard getuid() == 0, let mount = Binaries.tool("mount"), let umount = Binaries.tool("umount"),
              (try Scratch.shell([mount, "-t", "tmpfs", "-o", "size=1m", "tmpfs", mountPoint])).status == 0
        else {
            print("skipped: cannot mount a small tmpfs to fill up")
            return
        }
        defer { _ = try? Scratch.shell([umount, mountPoint]) }
        let r = try s.run(["restore", "big.bin", "--to", mountPoint])
        #expect(r.status == 3)  // the one file that does not fit is listed as not restored
        #expect(r.stderr.contains("the disk is full"), "\(r.stderr)")
        #expect(!s.exists("small/big.bin"))
        #expect(filesUnder(mountPoint).isEmpty, "leftovers: \(filesUnder(mountPoint))")

        // A seal into a vault on a full file system leaves its versions as they were.
        let vaultOnTmpfs = mountPoint + "/vault"
        #expect(try s.run(["init", "-q", "--vault", vaultOnTmpfs]).status == 0)
        let seal = try s.run(["seal", s.path("big.bin"), "--vault", vaultOnTmpfs])
        #expect(seal.status == 1)
        #expect(seal.stderr.contains("the disk is full"), "\(seal.stderr)")
        let list = try s.run(["list", "--json", "--vault", vaultOnTmpfs])
        #expect((try list.json() as? [Any])?.isEmpty == true)
    }

    @Test("rollback: read commands warn, seal exits 14 unless --force")
    func rollback() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("a.txt", "one")
        try s.ok(["seal", s.path("a.txt")])
        #expect(try Scratch.shell(["/bin/cp", "-a", s.vault, s.path("old-copy")]).status == 0)
        try s.write("a.txt", "two")
        try s.ok(["seal", s.path("a.txt")])
        // Put the older copy in place: this machine has seen a newer head.
        _ = try Scratch.shell(["/bin/chmod", "-R", "u+rwX", s.vault])
        try FileManager.default.removeItem(atPath: s.vault)
        try FileManager.default.moveItem(atPath: s.path("old-copy"), toPath: s.vault)

        let list = try s.run(["list"])
        #expect(list.status == 0)
        #expect(list.stderr.contains("warning: rollback detected"))
        let seal = try s.run(["seal", s.path("a.txt")])
        #expect(seal.status == 14)
        #expect(seal.stderr.contains("--force"))
        let status = try s.run(["status", "--check"])
        #expect(status.status == 14)
        let forced = try s.run(["seal", s.path("a.txt"), "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
    }

    @Test("a fork served with one of its heads deleted: list warns and names the lost version, check and seal exit 14")
    func forkWithDeletedHead() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("a.txt", "base")
        try s.ok(["seal", s.path("a.txt")])
        #expect(try Scratch.shell(["/bin/cp", "-a", s.vault, s.path("fork")]).status == 0)
        try s.write("a.txt", "this machine's")
        let mine = try s.ok(["seal", s.path("a.txt"), "--json"])
        let mineID = try #require((try mine.json() as? [String: Any])?["short_id"] as? String)
        // Another machine (its own state) seals twice into the older copy.
        let other = ["XDG_STATE_HOME": s.path("other-state")]
        for text in ["theirs 1", "theirs 2"] {
            try s.write("a.txt", text)
            #expect(try s.run(["seal", s.path("a.txt"), "--vault", s.path("fork")], environment: other).status == 0)
        }
        // Storage deletes the other machine's first new head and serves its copy here.
        let heads = filesUnder(s.path("fork/heads")).sorted()
        _ = try Scratch.shell(["/bin/chmod", "-R", "u+rwX", s.path("fork")])
        try FileManager.default.removeItem(atPath: s.path("fork/heads/" + heads[heads.count - 2]))
        _ = try Scratch.shell(["/bin/chmod", "-R", "u+rwX", s.vault])
        try FileManager.default.removeItem(atPath: s.vault)
        try FileManager.default.moveItem(atPath: s.path("fork"), toPath: s.vault)

        let list = try s.run(["list"])
        #expect(list.status == 0)
        #expect(list.stderr.contains("warning: rollback detected"))
        #expect(list.stderr.contains(mineID))
        #expect(try s.run(["check"]).status == 14)
        #expect(try s.run(["seal", s.path("a.txt")]).status == 14)
    }
}
