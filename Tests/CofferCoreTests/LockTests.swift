@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

@Suite struct LockTests {
    func plantLock(_ v: Vault, host: String, pid: Int64, refreshedAgo: Int64) throws -> String {
        let now = Int64(Date().timeIntervalSince1970)
        let name = Hex.encode(Sodium.randomBytes(count: 16))
        try v.writeLock(LockInfo(host: host, pid: pid, created: now - refreshedAgo, refreshed: now - refreshedAgo, name: name))
        return name
    }

    func deadPID() -> Int64 {
        // A pid that is not running: fork-free search downwards from a high value.
        var p: Int32 = 4_000_000
        while kill(p, 0) == 0 || errno != ESRCH { p -= 1 }
        return Int64(p)
    }

    @Test func aLockOfAGoneProcessIsTakenOverWithANote() throws {
        let f = try T.vault()
        let name = try plantLock(f.vault, host: Vault.hostName, pid: deadPID(), refreshedAgo: 10)
        let dir = T.scratch("in") + "/d"
        T.write(dir + "/a.txt", [1, 2, 3])
        _ = try f.vault.seal([dir])
        #expect(f.vault.lockNotes.contains { $0.contains("is gone") })
        #expect(try f.vault.backend.size("locks/" + name) == nil)
        #expect(try f.vault.locks().isEmpty, "the seal released its own lock")
    }

    @Test func aLiveLockMakesAWriterWaitThenFailNamingTheHolder() throws {
        let f = try T.vault()
        let name = try plantLock(f.vault, host: "other-host", pid: 42, refreshedAgo: 60)
        let dir = T.scratch("in") + "/d"
        T.write(dir + "/a.txt", [1])
        do {
            _ = try f.vault.seal([dir])
            Issue.record("sealed through a live lock")
        } catch CofferError.locked(_, let holder) {
            #expect(holder.contains("process 42 on other-host"))
        }
        #expect(try f.vault.removeStaleLocks().isEmpty, "a live lock is never removed")
        // With --lock-wait, the writer proceeds once the holder lets go.
        let path = f.path + "/locks/" + name
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.7) { chmod(path, 0o600); unlink(path) }
        var o = SealOptions()
        o.lockWait = 10
        let r = try f.vault.seal([dir], options: o)
        #expect(try f.reopen().head.live == [r.id])
    }

    @Test func aLockNotRefreshedForThirtyMinutesIsStale() throws {
        let f = try T.vault()
        _ = try plantLock(f.vault, host: "other-host", pid: 42, refreshedAgo: 31 * 60)
        _ = try plantLock(f.vault, host: "other-host", pid: 43, refreshedAgo: 29 * 60)
        let removed = try f.vault.removeStaleLocks()
        #expect(removed.count == 1)
        #expect(removed[0].contains("process 42"))
        #expect(try f.vault.locks().compactMap(\.info?.pid) == [43])
    }

    /// A lock file that does not open (torn by a power cut, or garbage) blocks writers until it is
    /// older than the stale time; then it is removed like a stale lock.
    @Test func anUnreadableLockIsRemovedOnceOlderThanTheStaleTime() throws {
        let f = try T.vault()
        let old = Hex.encode(Sodium.randomBytes(count: 16)), fresh = Hex.encode(Sodium.randomBytes(count: 16))
        try f.vault.backend.write("locks/" + old, [UInt8](repeating: 0, count: 40))
        try f.vault.backend.write("locks/" + fresh, [UInt8](repeating: 0, count: 40))
        let longAgo = Date().timeIntervalSince1970 - Double(31 * 60)
        var times = [timespec(tv_sec: Int(longAgo), tv_nsec: 0), timespec(tv_sec: Int(longAgo), tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, f.path + "/locks/" + old, &times, 0) == 0)
        let removed = try f.vault.removeStaleLocks()
        #expect(removed.count == 1 && removed[0].contains("unreadable lock file locks/" + old), "\(removed)")
        #expect(try f.vault.locks().map(\.name) == [fresh], "a fresh unreadable lock stays: its writer may be mid-write")
        #expect(try f.vault.locks().allSatisfy { $0.info == nil })
    }

    @Test func twoConcurrentSealsBothLandWithoutCorruption() throws {
        let f = try T.vault()
        let a = T.scratch("a") + "/one", b = T.scratch("b") + "/two"
        T.write(a + "/x.bin", T.bytes(3 << 20, seed: 1))
        T.write(b + "/y.bin", T.bytes(3 << 20, seed: 2))
        let va = try f.reopen(), vb = try f.reopen()
        var o = SealOptions()
        o.lockWait = 30
        let options = o
        final class Outcomes: @unchecked Sendable {
            let lock = NSLock()
            var ids: [ObjectID] = []
            var errors: [String] = []
        }
        let out = Outcomes()
        let group = DispatchGroup()
        for (v, p) in [(va, a), (vb, b)] {
            let vault = UncheckedSendable(value: v)
            DispatchQueue.global().async(group: group) {
                do {
                    let r = try vault.value.seal([p], options: options)
                    out.lock.withLock { out.ids.append(r.id) }
                } catch {
                    out.lock.withLock { out.errors.append("\(error)") }
                }
            }
        }
        group.wait()
        // The second writer waits for the lock, catches up with the first one's head, and lands.
        #expect(out.errors.isEmpty, "\(out.errors)")
        let v = try f.reopen()
        #expect(Set(v.head.live) == Set(out.ids))
        #expect(v.head.live.count == 2)
        #expect(try v.check(readDataFraction: 1).isClean)
    }
}

