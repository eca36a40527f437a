@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// A small vault with two versions, several packs, and the original input trees to compare with.
private func smallVault(format: Int = VaultConfig.currentFormat) throws -> (T.Fixture, [(ObjectID, [String: String])]) {
    var o = T.cheap
    o.packTargetSize = 256 << 10
    let f = try T.vault(o, format: format)
    let dir = T.scratch("in") + "/export"
    T.write(dir + "/Connections.csv", T.csv(rows: 3_000, seed: 1))
    T.write(dir + "/media.bin", T.bytes(400 << 10, seed: 2))
    try FileManager.default.createSymbolicLink(atPath: dir + "/latest", withDestinationPath: "Connections.csv")
    let v1 = try f.vault.seal([dir])
    let t1 = T.tree(dir)
    T.write(dir + "/Connections.csv", T.csv(rows: 3_100, seed: 1))
    let v2 = try f.vault.seal([dir])
    return (f, [(v1.id, t1), (v2.id, T.tree(dir))])
}

/// Opens, checks every byte and restores every version; true when something reported an
/// integrity problem. Fails the test if a restore "succeeds" with a wrong byte.
private func damageIsDetected(_ f: T.Fixture, _ versions: [(ObjectID, [String: String])]) -> Bool {
    let vault: Vault
    do { vault = try f.reopen() } catch { return true }
    var detected = false
    do {
        let report = try vault.check(readDataFraction: 1)
        if !report.isClean { detected = true }
    } catch { detected = true }
    for (id, tree) in versions {
        let out = T.scratch("r")
        do {
            // A file whose data does not verify is a failure of that file; the others come back.
            let result = try vault.restore(id, to: out)
            if result.failures.isEmpty {
                #expect(T.tree(out + "/export") == tree, "restore returned wrong bytes without an error")
                continue
            }
            throw CofferError.integrity(object: "test", reason: result.failures.map(\.description).joined(separator: "; "))
        } catch {
            detected = true
            // Nothing may be left under a real name that differs from the original.
            let got = T.tree(out + "/export")
            for (path, value) in got where value.hasPrefix("file:") {
                #expect(tree[path] == value, "\(path) restored with wrong content")
            }
        }
    }
    return detected
}

private func snapshot(_ path: String) -> [String: [UInt8]] {
    var out: [String: [UInt8]] = [:]
    for f in T.files(in: path) { out[f] = T.read(path + "/" + f) }
    return out
}

/// A copy of a vault as it was at `snap`, opened by another machine (a rollback state of its own).
private func anotherMachinesCopy(of snap: [String: [UInt8]]) throws -> (path: String, vault: Vault) {
    let other = T.scratch("other")
    let copy = other + "/vault"
    try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
    putBack(copy, snap)
    return (copy, try Vault.open(at: copy, passphrase: T.secret("pw"), state: RollbackState(directory: other + "/state")))
}

private func putBack(_ path: String, _ snap: [String: [UInt8]]) {
    for f in T.files(in: path) where snap[f] == nil { chmod(path + "/" + f, 0o600); unlink(path + "/" + f) }
    for (f, b) in snap {
        chmod(path + "/" + f, 0o600)
        T.write(path + "/" + f, b, mode: 0o400)
    }
}

@Suite(.serialized) struct IntegrityTests {
    @Test func everyFlippedByteInEveryFileIsDetected() throws {
        let (f, versions) = try smallVault()
        let original = snapshot(f.path)
        var tried = 0
        for file in T.files(in: f.path) {
            let size = original[file]!.count
            var offsets = Set([0, 1, size / 3, size / 2, size - 41, size - 5, size - 1].filter { $0 >= 0 && $0 < size })
            var rng = SplitMix64(seed: UInt64(size))
            for _ in 0..<3 { offsets.insert(Int(rng.next() % UInt64(size))) }
            for off in offsets.sorted() {
                T.flip(f.path + "/" + file, at: off)
                #expect(damageIsDetected(f, versions), "flip at \(off) of \(file) went unnoticed")
                putBack(f.path, original)
                tried += 1
            }
        }
        #expect(tried > 60)
        // The untouched vault is clean again.
        #expect(try f.reopen().check(readDataFraction: 1).isClean)
    }

    @Test func truncatedPackIsDetected() throws {
        let (f, versions) = try smallVault()
        for pack in try f.vault.backend.list("packs") {
            let original = snapshot(f.path)
            let p = f.path + "/packs/" + pack
            chmod(p, 0o600)
            truncate(p, off_t(T.read(p)!.count / 2))
            #expect(damageIsDetected(f, versions))
            putBack(f.path, original)
        }
    }

    @Test func deletedFilesAreDetected() throws {
        let (f, versions) = try smallVault()
        let original = snapshot(f.path)
        for file in T.files(in: f.path) where !file.hasPrefix("heads/") {
            unlink(f.path + "/" + file)
            #expect(damageIsDetected(f, versions), "deleting \(file) went unnoticed")
            putBack(f.path, original)
        }
    }

    @Test func swappedPacksAreDetected() throws {
        let (f, versions) = try smallVault()
        let packs = try f.vault.backend.list("packs")
        #expect(packs.count >= 2)
        let a = f.path + "/packs/" + packs[0], b = f.path + "/packs/" + packs[1]
        rename(a, a + ".x"); rename(b, a); rename(a + ".x", b)
        #expect(damageIsDetected(f, versions))
        let report = try f.reopen().check()
        #expect(report.errors.contains { $0.contains("disagrees") || $0.contains("authenticate") })
    }

    @Test(arguments: [1, 2]) func swappedMetadataKindsAreRejected(format: Int) throws {
        let (f, versions) = try smallVault(format: format)
        // A version file stored under the index folder (with a matching name) must not be taken for an index.
        let vname = try f.vault.backend.list("versions")[0]
        let bytes = T.read(f.path + "/versions/" + vname)!
        T.write(f.path + "/index/" + vname, bytes, mode: 0o400)
        if format == 1 {
            #expect(throws: CofferError.self) { try f.reopen() }  // every index file is loaded
        } else {
            // Only listed index files are loaded; check reads the others and reports this one.
            let report = try f.reopen().check()
            #expect(report.errors.contains { $0.contains("index/" + vname) && $0.contains("kind") })
            #expect(report.unlistedIndexFiles.isEmpty)
        }
        unlink(f.path + "/index/" + vname)
        #expect(!damageIsDetected(f, versions))
    }

    @Test func anOldHeadPutBackIsNoticed() throws {
        let f = try T.vault()
        let dir = T.scratch("in") + "/d"
        T.write(dir + "/a.txt", Array("v1".utf8))
        let v1 = try f.vault.seal([dir])
        let old = snapshot(f.path)
        T.write(dir + "/a.txt", Array("v2".utf8))
        _ = try f.vault.seal([dir])
        // Storage hands back the vault as it was after the first seal.
        putBack(f.path, old)
        let v = try f.reopen()
        let finding = try #require(v.rollback)
        #expect(finding.vaultGeneration == 2)
        #expect(finding.rememberedGeneration == 3)
        #expect(!finding.diverged)
        #expect(finding.description.contains("1 version behind"))
        #expect(try !v.check().isClean)
        #expect(throws: CofferError.self) { try v.seal([dir]) }
        // Reading still works, and --force lets a writer continue deliberately.
        let out = T.scratch("o")
        try v.restore(v1.id, to: out)
        #expect(T.read(out + "/d/a.txt") == Array("v1".utf8))
        var o = SealOptions()
        o.force = true
        _ = try v.seal([dir], options: o)
    }

    @Test func aDivergedHistoryIsNoticed() throws {
        let f = try T.vault()
        let dir = T.scratch("in") + "/d"
        T.write(dir + "/a.txt", Array("v1".utf8))
        _ = try f.vault.seal([dir])
        let fork = snapshot(f.path)
        T.write(dir + "/a.txt", Array("ours".utf8))
        _ = try f.vault.seal([dir])
        // Someone else sealed into an older copy, which now comes back with the same generation.
        let (copy, theirs) = try anotherMachinesCopy(of: fork)
        T.write(dir + "/a.txt", Array("theirs".utf8))
        _ = try theirs.seal([dir])
        let mine = try Vault.open(at: copy, passphrase: T.secret("pw"), state: f.state)
        #expect(mine.rollback?.diverged == true)
    }

    /// Machine A seals; storage gives machine B an older copy and B seals twice; storage deletes
    /// B's first new head and serves B's branch to A. A must notice: its chain back to the head
    /// it saw is broken, and its version is neither live nor forgotten.
    @Test func aForkWithADeletedHeadIsNoticed() throws {
        let f = try T.vault()
        let dir = T.scratch("in") + "/d"
        T.write(dir + "/a.txt", Array("base".utf8))
        _ = try f.vault.seal([dir])
        let fork = snapshot(f.path)
        T.write(dir + "/a.txt", Array("A's".utf8))
        let mine = try f.vault.seal([dir])

        let (copy, theirs) = try anotherMachinesCopy(of: fork)
        T.write(dir + "/a.txt", Array("B's first".utf8))
        _ = try theirs.seal([dir])
        let firstHead = Head.fileName(generation: theirs.head.generation, id: theirs.headID)
        T.write(dir + "/a.txt", Array("B's second".utf8))
        _ = try theirs.seal([dir])
        unlink(copy + "/heads/" + firstHead)

        let a = try Vault.open(at: copy, passphrase: T.secret("pw"), state: f.state)
        let finding = try #require(a.rollback)
        #expect(finding.brokenLink?.generation == 3)
        #expect(finding.vanished == [mine.id])
        #expect(finding.description.contains("cannot be followed back"))
        #expect(finding.description.contains(mine.id.short))
        #expect(try a.check().rollback != nil)
        #expect(throws: CofferError.self) { try a.seal([dir]) }
        // The remembered state did not move to the forked copy: opening again still reports it.
        #expect(try Vault.open(at: copy, passphrase: T.secret("pw"), state: f.state).rollback != nil)
    }

    /// A head that follows the one this machine saw but drops a version without a tombstone (a
    /// writer holding a key, misbehaving) is reported even though the chain is intact.
    @Test func aVersionDroppedWithoutForgetIsNoticed() throws {
        let f = try T.vault()
        let dir = T.scratch("in") + "/d"
        T.write(dir + "/a.txt", Array("one".utf8))
        let one = try f.vault.seal([dir])
        T.write(dir + "/a.txt", Array("two".utf8))
        let two = try f.vault.seal([dir])
        // Another machine (its own state) writes a head without `one` and without a tombstone.
        let rogue = try Vault.open(at: f.path, passphrase: T.secret("pw"), state: RollbackState(directory: T.scratch("rogue")))
        try rogue.commitHead(live: [two.id], removed: [])
        let v = try f.reopen()
        let finding = try #require(v.rollback)
        #expect(!finding.diverged)
        #expect(finding.brokenLink == nil)
        #expect(finding.vanished == [one.id])
        #expect(finding.description.contains("dropped versions without forgetting them"))
        // A forget records a tombstone: that is not a finding.
        let g = try T.vault()
        T.write(dir + "/a.txt", Array("three".utf8))
        let three = try g.vault.seal([dir])
        _ = try g.vault.seal([dir + "/a.txt"])
        try g.vault.forget([three.id])
        #expect(try g.reopen().rollback == nil)
    }

    /// The state is written after a seal too, not only when a vault is opened: the versions seen
    /// live include the one just sealed, and the live list is that of the new head.
    @Test func sealRecordsTheNewHeadInTheState() throws {
        let f = try T.vault()
        let dir = T.scratch("in") + "/d"
        T.write(dir + "/a.txt", Array("x".utf8))
        let v = try f.vault.seal([dir])
        #expect(f.state.seen(vaultID: f.vault.vaultID)?.contains(v.id) == true)
        let live = try #require(f.state.rememberedLive(vaultID: f.vault.vaultID))
        #expect(live.generation == f.vault.head.generation)
        #expect(live.live == [v.id])
    }

    /// An old index file put back after prune names packs that no longer exist. A seal must not
    /// deduplicate against it: the version it commits restores, and the seal says what it saw.
    /// (Format 1, which loads every index file; format 2 does not load it: IndexHeadTests.)
    @Test func aReplayedIndexDoesNotLeadASealToMissingPacks() throws {
        let f = try T.vault(format: 1)
        let dir = T.scratch("in") + "/d"
        let content = T.bytes(300_000, seed: 8)
        T.write(dir + "/a.bin", content)
        let first = try f.vault.seal([dir])
        let oldIndex = snapshot(f.path).filter { $0.key.hasPrefix("index/") }
        try f.vault.forget([first.id])
        _ = try f.vault.prune()
        #expect(try f.vault.backend.list("packs").isEmpty)
        for (name, bytes) in oldIndex { T.write(f.path + "/" + name, bytes, mode: 0o400) }

        let v = try f.reopen()
        let again = try v.seal([dir])
        #expect(again.version.notes.contains { $0.contains("storage does not hold") })
        #expect(again.version.stats.addedChunks > 0)
        let out = T.scratch("o")
        try v.restore(again.id, to: out)
        #expect(T.read(out + "/d/a.bin") == content)
        // The next seal reuses the chunks stored anew without a word.
        T.write(dir + "/b.bin", Array("b".utf8))
        let third = try v.seal([dir])
        #expect(!third.version.notes.contains { $0.contains("storage does not hold") })
        #expect(third.version.stats.addedChunks == 1)
    }

    @Test func twoWritersCannotForkTheHead() throws {
        let f = try T.vault()
        let dir = T.scratch("in") + "/d"
        T.write(dir + "/a.txt", Array("x".utf8))
        let a = try f.reopen()
        let b = try f.reopen()
        _ = try a.seal([dir])
        // b opened before a's seal: after taking the lock it catches up with a's head, so its
        // version follows a's in one linear chain.
        _ = try b.seal([dir])
        let v = try f.reopen()
        #expect(v.head.live.count == 2)
        #expect(v.head.generation == 3)
        #expect(try v.check().isClean)
        // A head commit that did not catch up is refused, never written beside the other.
        let c = try f.reopen()
        _ = try a.seal([dir])
        #expect(throws: CofferError.self) { try c.commitHead(live: c.head.live, removed: []) }
        #expect(try f.reopen().check().isClean)
    }
}
