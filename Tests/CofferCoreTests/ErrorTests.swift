@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

@Suite struct OpenErrorTests {
    @Test func wrongPassphraseIsItsOwnError() throws {
        let f = try T.vault()
        do {
            _ = try f.reopen("not the passphrase")
            Issue.record("opened with a wrong passphrase")
        } catch CofferError.wrongPassphrase(let v) {
            #expect(v == f.path)
        }
    }

    @Test func missingFolderEmptyFolderAndOtherFolders() throws {
        let root = T.scratch("nv")
        let state = RollbackState(directory: root + "/state")
        do { _ = try Vault.open(at: root + "/nothing", passphrase: T.secret("pw"), state: state); Issue.record("opened") }
        catch CofferError.noVault {}
        try FileManager.default.createDirectory(atPath: root + "/empty", withIntermediateDirectories: true)
        do { _ = try Vault.open(at: root + "/empty", passphrase: T.secret("pw"), state: state); Issue.record("opened") }
        catch CofferError.noVault {}
        T.write(root + "/photos/cat.jpg", [1, 2, 3])
        do { _ = try Vault.open(at: root + "/photos", passphrase: T.secret("pw"), state: state); Issue.record("opened") }
        catch CofferError.notAVault {}
        T.write(root + "/file", [1])
        do { _ = try Vault.open(at: root + "/file", passphrase: T.secret("pw"), state: state); Issue.record("opened") }
        catch CofferError.notAVault {}
        T.write(root + "/fake/config", Array("not a config at all".utf8))
        do { _ = try Vault.open(at: root + "/fake", passphrase: T.secret("pw"), state: state); Issue.record("opened") }
        catch CofferError.notAVault {}
    }

    @Test func createRefusesANonEmptyFolder() throws {
        let root = T.scratch("c")
        T.write(root + "/v/keep.txt", [1])
        #expect(throws: CofferError.self) { try Vault.create(at: root + "/v", passphrase: T.secret("pw"), options: T.cheap, state: nil) }
        #expect(T.read(root + "/v/keep.txt") == [1])
    }

    @Test func aNewerFormatIsRefusedByName() throws {
        let f = try T.vault()
        var c = f.vault.config
        c.format = VaultConfig.currentFormat + 1
        let path = f.path + "/config"
        chmod(path, 0o600)
        T.write(path, c.encode(macKey: f.vault.keys.config), mode: 0o400)
        do { _ = try f.reopen(); Issue.record("opened") } catch CofferError.unsupportedFormat(_, let found, let supported) {
            #expect(found == VaultConfig.currentFormat + 1)
            #expect(supported == VaultConfig.currentFormat)
        }
        // The same number without a valid MAC is damage, not a newer vault.
        var bytes = T.read(path)!
        bytes[bytes.count - 1] ^= 1
        chmod(path, 0o600)
        T.write(path, bytes, mode: 0o400)
        do { _ = try f.reopen(); Issue.record("opened") } catch CofferError.integrity(let object, _) {
            #expect(object == "config")
        }
    }

    @Test func aKeySlotDemandingHugeMemoryIsRefusedBeforeAllocating() throws {
        let f = try T.vault()
        let name = try f.vault.backend.list("keys")[0]
        var slot = try KeySlot.decode(T.read(f.path + "/keys/" + name)!)
        slot.parameters.memLimit = 64 << 30
        let bytes = slot.encode()
        chmod(f.path + "/keys/" + name, 0o600)
        unlink(f.path + "/keys/" + name)
        T.write(f.path + "/keys/" + ObjectID.hashing(bytes).hex, bytes, mode: 0o400)
        let started = Date()
        do { _ = try f.reopen(); Issue.record("opened") } catch CofferError.keySlotRefused(_, let reason) {
            #expect(reason.contains("65536 MiB"))
        }
        #expect(Date().timeIntervalSince(started) < 2)
    }

    @Test func aSecondKeySlotForAnotherVaultDoesNotOpenThisOne() throws {
        let a = try T.vault(), b = try T.vault()
        // Copy b's slot (same passphrase) into a: its AD names b's vault id, so it cannot unwrap a's key.
        let bName = try b.vault.backend.list("keys")[0]
        let aName = try a.vault.backend.list("keys")[0]
        T.write(a.path + "/keys/" + bName, T.read(b.path + "/keys/" + bName)!, mode: 0o400)
        chmod(a.path + "/keys/" + aName, 0o600)
        unlink(a.path + "/keys/" + aName)
        #expect(throws: CofferError.self) { try a.reopen() }
    }
}

@Suite struct SealErrorTests {
    @Test func aMissingInputWritesNothing() throws {
        let f = try T.vault()
        let before = T.files(in: f.path)
        let dir = T.scratch("in")
        T.write(dir + "/real.txt", [1])
        do { _ = try f.vault.seal([dir + "/real.txt", dir + "/missing.txt"]); Issue.record("sealed") }
        catch CofferError.inputNotFound(let p) { #expect(p.hasSuffix("missing.txt")) }
        #expect(T.files(in: f.path) == before)
    }

    @Test(arguments: [1, 2]) func aFileThatVanishesIsReportedAndTheRestIsSealed(format: Int) throws {
        let f = try T.vault(format: format)
        let dir = T.scratch("in") + "/d"
        T.write(dir + "/a.csv", T.csv(rows: 100, seed: 1))
        T.write(dir + "/b.csv", T.csv(rows: 100, seed: 2))
        T.write(dir + "/c.csv", T.csv(rows: 100, seed: 3))
        var o = SealOptions()
        let target = dir + "/b.csv"
        o.progress = { _ in unlink(target) }
        let r = try f.vault.seal([dir], options: o)
        #expect(r.unreadable == [target])
        #expect(r.version.notes.contains { $0.hasPrefix("d/b.csv: not sealed") })
        #expect(Set(try f.vault.listing(r.id).map(\.path)) == ["d", "d/a.csv", "d/c.csv"])
        #expect(try f.reopen().check(readDataFraction: 1).isClean)
    }

    @Test func duplicateBaseNamesAreRefused() throws {
        let f = try T.vault()
        let a = T.scratch("a"), b = T.scratch("b")
        T.write(a + "/x/1.txt", [1])
        T.write(b + "/x/2.txt", [2])
        #expect(throws: CofferError.self) { try f.vault.seal([a + "/x", b + "/x"]) }
    }

    @Test func anInterruptedSealLeavesTheVaultAsItWas() throws {
        let f = try T.vault()
        let dir = T.scratch("in") + "/d"
        T.write(dir + "/first.txt", Array("kept".utf8))
        let v1 = try f.vault.seal([dir])
        T.write(dir + "/big.bin", T.bytes(24 << 20, seed: 7))
        let calls = Counter()
        var o = SealOptions()
        o.isCancelled = { calls.next() > 2 }
        #expect(throws: CofferError.self) { try f.vault.seal([dir], options: o) }
        let v = try f.reopen()
        #expect(v.head.live == [v1.id])
        let report = try v.check(readDataFraction: 1)
        #expect(report.errors.isEmpty)
        _ = try v.seal([dir])
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func next() -> Int { lock.lock(); defer { lock.unlock() }; n += 1; return n }
}

/// A backend whose writes start failing after `allowedWrites` successful ones, like a process
/// killed (or a disk filling up) at that point.
final class FailingBackend: Backend, @unchecked Sendable {
    let inner: LocalBackend
    let allowedWrites: Int
    let error: CofferError
    private(set) var writes = 0

    /// Also count removals (for prune, whose deletions are part of its commit sequence).
    var countRemoves = false

    init(_ inner: LocalBackend, allowedWrites: Int, error: CofferError, countRemoves: Bool = false) {
        self.inner = inner
        self.allowedWrites = allowedWrites
        self.error = error
        self.countRemoves = countRemoves
    }

    var location: String { inner.location }
    func read(_ path: String) throws -> [UInt8] { try inner.read(path) }
    func read(_ path: String, offset: Int, length: Int) throws -> [UInt8] { try inner.read(path, offset: offset, length: length) }
    func write(_ path: String, _ bytes: [UInt8]) throws {
        if path.hasPrefix("locks/") { try inner.write(path, bytes); return }
        writes += 1
        if writes > allowedWrites { throw error }
        try inner.write(path, bytes)
    }
    func list(_ directory: String) throws -> [String] { try inner.list(directory) }
    func size(_ path: String) throws -> Int? { try inner.size(path) }
    func remove(_ path: String) throws {
        if countRemoves && !path.hasPrefix("locks/") {
            writes += 1
            if writes > allowedWrites { throw error }
        }
        try inner.remove(path)
    }
    func openRandomAccess(_ path: String) throws -> RandomAccessFile { try inner.openRandomAccess(path) }
}

@Suite struct CrashSafetyTests {
    /// A seal that stops at every possible write leaves a vault that opens, checks clean apart from
    /// reclaimable leftovers, restores every earlier version, and takes the next seal.
    @Test(arguments: [CofferError.diskFull(path: "/vault"), CofferError.io(path: "/vault", operation: "write", errno: EIO)])
    func sealStoppedAtEveryWrite(error: CofferError) throws {
        var o = T.cheap
        o.packTargetSize = 128 << 10
        let f = try T.vault(o)
        let dir = T.scratch("in") + "/d"
        T.write(dir + "/a.csv", T.csv(rows: 2_000, seed: 1))
        let v1 = try f.vault.seal([dir])
        let t1 = T.tree(dir)
        T.write(dir + "/b.bin", T.bytes(700 << 10, seed: 2))
        T.write(dir + "/a.csv", T.csv(rows: 2_100, seed: 1))
        var n = 0
        while true {
            let failing = FailingBackend(LocalBackend(root: f.path), allowedWrites: n, error: error)
            let v = try Vault.open(backend: failing, passphrase: T.secret("pw"), state: f.state)
            do {
                _ = try v.seal([dir])
                break  // n writes were enough: the seal completed
            } catch let e as CofferError {
                #expect("\(e)" == "\(error)")
            }
            let reopened = try f.reopen()
            #expect(reopened.head.live == [v1.id], "after \(n) writes")
            let report = try reopened.check(readDataFraction: 1)
            #expect(report.errors.isEmpty, "after \(n) writes: \(report.errors)")
            let out = T.scratch("r")
            try reopened.restore(v1.id, to: out)
            #expect(T.tree(out + "/d") == t1)
            n += 1
        }
        #expect(n >= 4)
        let v = try f.reopen()
        #expect(v.head.live.count == 2)
        #expect(try v.check(readDataFraction: 1).errors.isEmpty)
    }
}
