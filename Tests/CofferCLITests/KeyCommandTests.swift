import Foundation
import Testing

/// `coffer key list/add/passwd/remove` end to end.
@Suite("KeyCommand")
struct KeyCommandTests {
    static func slots(_ s: Scratch, passphrase: String? = nil) throws -> [[String: Any]] {
        let r = try s.run(["key", "list", "--json"], passphrase: passphrase)
        #expect(r.status == 0, "\(r.stderr)")
        return try #require(try r.json() as? [[String: Any]])
    }

    @Test("list shows the slot in use; add makes a second passphrase work (cheap KDF under COFFER_TESTONLY_WEAK_KDF)")
    func listAndAdd() throws {
        let s = try Scratch()
        try s.initVault()
        let one = try Self.slots(s)
        #expect(one.count == 1)
        #expect(one[0]["current"] as? Bool == true)
        #expect((one[0]["id"] as? String)?.count == 64)
        #expect(one[0]["created"] is String)
        #expect(one[0]["host"] is String)

        try s.write("new.txt", "second passphrase\n")
        let add = try s.run(["key", "add", "--new-passphrase-file", s.path("new.txt")])
        #expect(add.status == 0, "\(add.stderr)")
        #expect(add.stdout.contains("Added key slot"))

        // Either passphrase opens the vault; the slot list marks the one in use.
        let two = try Self.slots(s, passphrase: "second passphrase")
        #expect(two.count == 2)
        let current = two.filter { $0["current"] as? Bool == true }
        #expect(current.count == 1)
        #expect(current[0]["id"] as? String != one[0]["id"] as? String)
        #expect(current[0]["kdf"] as? String == "test-only minimum")
        #expect(try s.run(["list"]).status == 0)

        let table = try s.run(["key", "list"])
        #expect(table.stdout.contains("CURRENT"))
        #expect(table.stdout.contains(String((one[0]["id"] as! String).prefix(8))))
    }

    @Test("passwd replaces the passphrase in use; the old one fails with status 12; the data is intact")
    func passwd() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("in/a.txt", "hello\n")
        try s.ok(["seal", s.path("in/a.txt"), "--name", "notes"])
        let before = try Self.slots(s)
        try s.write("new.txt", "brand new\n")
        let r = try s.run(["key", "passwd", "--new-passphrase-file", s.path("new.txt"), "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try r.json() as? [String: Any])
        #expect(json["removed"] as? String == before[0]["id"] as? String)

        #expect(try s.run(["list"]).status == 12)
        let cat = try s.run(["cat", "notes", "a.txt"], passphrase: "brand new")
        #expect(cat.status == 0, "\(cat.stderr)")
        #expect(cat.stdout == "hello\n")
        let after = try Self.slots(s, passphrase: "brand new")
        #expect(after.count == 1)
        #expect(after[0]["current"] as? Bool == true)
    }

    @Test("remove refuses the last key and, without --force, the key in use; accepts a prefix")
    func removeRefusals() throws {
        let s = try Scratch()
        try s.initVault()
        let first = try #require(try Self.slots(s).first?["id"] as? String)

        let last = try s.run(["key", "remove", first, "--force"])
        #expect(last.status == 1)
        #expect(last.stderr.contains("last key slot"))
        #expect(last.stderr.split(separator: "\n").count == 1, "\(last.stderr)")

        try s.write("new.txt", "second\n")
        try s.ok(["key", "add", "--new-passphrase-file", s.path("new.txt")])
        let inUse = try s.run(["key", "remove", String(first.prefix(8))])
        #expect(inUse.status == 1)
        #expect(inUse.stderr.contains("in use"))
        #expect(try Self.slots(s).count == 2)

        // With the other passphrase, the first slot is not the one in use.
        let removed = try s.run(["key", "remove", String(first.prefix(8)), "--json"], passphrase: "second")
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect((try removed.json() as? [String: Any])?["removed"] as? String == first)
        #expect(try s.run(["list"]).status == 12)
        #expect(try s.run(["list"], passphrase: "second").status == 0)

        let missing = try s.run(["key", "remove", "zz"], passphrase: "second")
        #expect(missing.status == 1)
    }

    @Test("remove --force removes the key in use when another exists")
    func removeCurrentWithForce() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("new.txt", "second\n")
        try s.ok(["key", "add", "--new-passphrase-file", s.path("new.txt")])
        let first = try #require(try Self.slots(s).first { $0["current"] as? Bool == true }?["id"] as? String)
        // No terminal and no --other-passphrase-file: a usage error, nothing removed.
        let noOther = try s.run(["key", "remove", first, "--force"])
        #expect(noOther.status == 64, "\(noOther.stderr)")
        #expect(noOther.stderr.contains("--other-passphrase-file"))
        #expect(try Self.slots(s).count == 2)
        let r = try s.run(["key", "remove", first, "--force", "--other-passphrase-file", s.path("new.txt")])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try s.run(["list"]).status == 12)
        #expect(try s.run(["list"], passphrase: "second").status == 0)
    }

    @Test("a planted key slot that decodes does not let key remove --force take the only real slot")
    func plantedSlot() throws {
        let s = try Scratch()
        try s.initVault()
        let real = try #require(try Self.slots(s).first?["id"] as? String)
        // Another vault's slot, copied in: it decodes (its name is its hash), so key list shows it intact.
        let other = try Scratch()
        try other.initVault()
        let copied = try #require(try Self.slots(other).first?["id"] as? String)
        try s.write("vault/keys/" + copied, try other.read("vault/keys/" + copied))
        let listed = try Self.slots(s)
        #expect(listed.count == 2)
        #expect(listed.allSatisfy { $0["damage"] == nil })

        let plain = try s.run(["key", "remove", real])
        #expect(plain.status == 1)
        #expect(plain.stderr.contains("in use"))
        // The copied slot's own passphrase (both scratch vaults use the same one) opens it in its
        // own vault only: here its associated data names another vault.
        let forcedNoOther = try s.run(["key", "remove", real, "--force"])
        #expect(forcedNoOther.status == 64, "\(forcedNoOther.stderr)")
        try s.write("other.txt", other.passphrase + "\n")
        let forced = try s.run(["key", "remove", String(real.prefix(8)), "--force", "--other-passphrase-file", s.path("other.txt")])
        #expect(forced.status == 1, "\(forced.stderr)")
        #expect(forced.stderr.contains("opens none of the vault's other 1 key slot"), "\(forced.stderr)")
        #expect(forced.stderr.split(separator: "\n").count == 1)
        #expect(s.exists("vault/keys/" + real))
        #expect(try s.run(["list"]).status == 0)
    }

    @Test("an empty or unreadable new-passphrase file changes nothing")
    func badNewPassphraseFile() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("empty.txt", "\n")
        let empty = try s.run(["key", "add", "--new-passphrase-file", s.path("empty.txt")])
        #expect(empty.status == 1)
        #expect(empty.stderr.contains("--new-passphrase-file"))
        let missing = try s.run(["key", "passwd", "--new-passphrase-file", s.path("nope.txt")])
        #expect(missing.status == 1)
        #expect(try Self.slots(s).count == 1)
        #expect(try s.run(["list"]).status == 0)
    }
}
