import CofferCrypto
import Dispatch
import Foundation
import Synchronization

/// A writer's lock: who holds it, since when, last refreshed when.
///
/// ```
/// locks/<random 32 hex>   MetaObject kind 4 (encrypted like every other metadata file)
/// body = u8 body_version(1) || str host || i64le pid || i64le created || i64le refreshed
/// ```
/// Lock files are not content-addressed: their names are random, and a refresh writes a new file
/// and removes the old one.
public struct LockInfo: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var pid: Int64
    public var created: Int64
    public var refreshed: Int64
    /// The file under `locks/`.
    public var name: String

    /// A lock not refreshed for this long is stale, whatever its host.
    public static let staleAfter: Int64 = 30 * 60
    /// How often a holder refreshes its lock.
    public static let refreshEvery: Double = 5 * 60
    /// The largest lock file a reader looks at: a lock body (host name of at most 1,024 bytes)
    /// in the metadata envelope is about 1.1 KiB.
    static let maximumFileSize = 4096

    func encode() -> [UInt8] {
        var w = ByteWriter()
        w.u8(1); w.string(host); w.i64(pid); w.i64(created); w.i64(refreshed)
        return w.bytes
    }

    static func decode(_ body: [UInt8], name: String) throws -> LockInfo {
        var r = ByteReader(body)
        let bv = try r.u8()
        guard bv == 1 else { throw bv > 1 ? FormatError.newer("lock body", bv) : FormatError("unknown lock body version") }
        let info = LockInfo(host: try r.string(max: 1024), pid: try r.i64(), created: try r.i64(), refreshed: try r.i64(), name: name)
        try r.expectEnd()
        return info
    }

    /// Why the lock is stale, or nil if it may still be held: its process is gone on this host,
    /// or it has not been refreshed for 30 minutes.
    public func staleReason(now: Int64, host thisHost: String) -> String? {
        if host == thisHost && pid != Int64(getpid()) && kill(pid_t(pid), 0) != 0 && errno == ESRCH {
            return "process \(pid) on \(host) is gone"
        }
        if now - refreshed > LockInfo.staleAfter { return "not refreshed for \((now - refreshed) / 60) minutes" }
        return nil
    }

    public var description: String {
        let f = ISO8601DateFormatter()
        return "process \(pid) on \(host), since \(f.string(from: Date(timeIntervalSince1970: TimeInterval(created))))"
    }
}

/// A held lock; refreshed in the background until released.
final class HeldLock: @unchecked Sendable {
    private let vault: Vault
    /// Where the lock file is: the vault's own backend, or a copy's (sync's destination).
    private let backend: Backend
    private let lock = NSLock()
    private var info: LockInfo
    private var timer: DispatchSourceTimer?

    init(vault: Vault, info: LockInfo, backend: Backend? = nil) {
        self.vault = vault
        self.backend = backend ?? vault.backend
        self.info = info
        let t = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "coffer.lock-refresh"))
        t.schedule(deadline: .now() + LockInfo.refreshEvery, repeating: LockInfo.refreshEvery)
        t.setEventHandler { [weak self] in self?.refresh() }
        t.resume()
        timer = t
    }

    /// Writes a fresh lock file, then removes the previous one.
    private func refresh() {
        lock.lock()
        defer { lock.unlock() }
        var next = info
        next.refreshed = Int64(Date().timeIntervalSince1970)
        next.name = Hex.encode(Sodium.randomBytes(count: 16))
        guard (try? vault.writeLock(next, to: backend)) != nil else { return }
        try? backend.remove(.lock(info.name))
        info = next
    }

    /// Throws if this lock's file is gone: another process took it over as stale (this one was
    /// suspended, say). A writer checks before writing an index or a head, so it never commits on
    /// top of a prune that believed it had stopped.
    func verify() throws {
        let name = lock.withLock { info.name }
        guard try backend.size(.lock(name)) != nil else {
            throw CofferError.locked(vault: vault.location, holder: "another process: this process's lock was removed as stale while it worked; nothing was committed")
        }
    }

    func release() {
        timer?.cancel()
        timer = nil
        lock.lock()
        defer { lock.unlock() }
        try? backend.remove(.lock(info.name))
    }
}

/// How many writer locks this process holds now (readable from a signal handler).
private let writerLocksHeld = Atomic<Int>(0)

/// Whether this process holds a vault's writer lock at this moment. A signal handler reads it
/// to let locked work finish (and the lock be removed) instead of ending the process mid-way.
public enum WriterLockActivity {
    public static var isHeld: Bool { writerLocksHeld.load(ordering: .relaxed) > 0 }
}

extension Vault {
    /// Runs `body` holding the vault's exclusive writer lock.
    ///
    /// A lock whose process is gone (same host) or that was not refreshed for 30 minutes is stale
    /// and taken over (and reported in ``lockNotes``). Otherwise this waits up to `wait` seconds for
    /// the holder, then throws ``CofferError/locked(vault:holder:)``. Readers take no lock.
    public func withWriterLock<T>(wait: Double = 0, _ body: () throws -> T) throws -> T {
        try withWriterLock(wait: wait, upgrading: false, body)
    }

    /// As above; a vault whose upgrade to format 2 is unfinished (``upgradeInProgress``) is
    /// refused unless `upgrading` (only `upgrade` itself writes into it).
    func withWriterLock<T>(wait: Double, upgrading: Bool, _ body: () throws -> T) throws -> T {
        if upgradeInProgress && !upgrading { throw CofferError.upgradeUnfinished(vault: location) }
        let held = try acquireLock(wait: wait)
        heldLock = held
        defer {
            heldLock = nil
            held.release()
            writerLocksHeld.subtract(1, ordering: .relaxed)
        }
        try catchUp()
        if upgradeInProgress && !upgrading { throw CofferError.upgradeUnfinished(vault: location) }
        return try body()
    }

    /// Runs `body` holding the writer lock of a copy of this vault at `backend` (sync's
    /// destination: the same vault id and keys, so its writers and this one see each other's
    /// locks), taken and refreshed as ``withWriterLock(wait:_:)`` takes this vault's.
    func withWriterLock<T>(on backend: Backend, wait: Double, _ body: () throws -> T) throws -> T {
        let held = try acquireLock(wait: wait, on: backend)
        defer {
            held.release()
            writerLocksHeld.subtract(1, ordering: .relaxed)
        }
        return try body()
    }

    /// The locks present, decoded; unreadable lock files are reported by name with a nil info.
    public func locks() throws -> [(name: String, info: LockInfo?)] { try locks(on: backend) }

    /// The locks at `backend` (this vault's, or a copy's).
    func locks(on backend: Backend) throws -> [(name: String, info: LockInfo?)] {
        try backend.files(in: .locks).compactMap { file in
            guard case .lock(let name) = file else { return nil }
            // A lock file is about 1 KiB; a larger one is not read (a planted huge file must not be allocated).
            let size = (try? backend.size(file)) ?? nil
            let bytes = size.map { $0 <= LockInfo.maximumFileSize } == true ? (try? backend.read(file)) ?? [] : []
            let body = try? MetaObject.open(bytes, kind: .lock, vaultID: vaultID, key: keys.meta, zstd: zstd)
            return (name, body.flatMap { try? LockInfo.decode($0, name: name) })
        }
    }

    /// Removes stale locks (never a live one) and returns what was removed, one line each.
    @discardableResult
    public func removeStaleLocks() throws -> [String] { try removeStaleLocks(on: backend) }

    @discardableResult
    func removeStaleLocks(on backend: Backend) throws -> [String] {
        let now = Int64(Date().timeIntervalSince1970)
        var removed: [String] = []
        var unreadable: [String] = []
        for (name, info) in try locks(on: backend) {
            guard let info else {
                unreadable.append(name)
                continue
            }
            guard let why = info.staleReason(now: now, host: Vault.hostName) else { continue }
            try backend.remove(.lock(name))
            removed.append("removed the stale lock of \(info) (\(why))")
        }
        // A lock that does not open with this vault's key is torn (a power cut with the file's
        // data not yet on disk) or planted: no live writer holds it, since writers write locks
        // whole and refresh them. It is removed once it is older than the stale time, by its
        // modification time; one whose age the storage cannot tell is left for the user.
        if !unreadable.isEmpty {
            let listed = try backend.listDetailed("locks")
            for name in unreadable {
                guard let modified = listed[name]?.modified else { continue }
                let age = now - Int64(modified.timeIntervalSince1970)
                guard age > LockInfo.staleAfter else { continue }
                try backend.remove(.lock(name))
                removed.append("removed the unreadable lock file locks/\(name) (last written \(age / 60) minutes ago)")
            }
        }
        return removed
    }

    func writeLock(_ info: LockInfo, to target: Backend? = nil) throws {
        let file = MetaObject.seal(info.encode(), kind: .lock, vaultID: vaultID, key: keys.meta, zstd: zstd)
        try (target ?? backend).write(.lock(info.name), file)
    }

    private func acquireLock(wait: Double, on target: Backend? = nil) throws -> HeldLock {
        let backend = target ?? self.backend
        let location = target?.location ?? self.location
        let deadline = Date().addingTimeInterval(max(0, wait))
        while true {
            lockNotes += try removeStaleLocks(on: backend)
            let present = try locks(on: backend)
            if present.isEmpty {
                let now = Int64(Date().timeIntervalSince1970)
                let mine = LockInfo(
                    host: Vault.hostName, pid: Int64(getpid()), created: now, refreshed: now, name: Hex.encode(Sodium.randomBytes(count: 16)))
                // Counted from before the lock file exists: a signal from then on lets the
                // work finish and the file be removed (``WriterLockActivity``).
                writerLocksHeld.add(1, ordering: .relaxed)
                var acquired = false
                defer { if !acquired { writerLocksHeld.subtract(1, ordering: .relaxed) } }
                try writeLock(mine, to: backend)
                if try locks(on: backend).allSatisfy({ $0.name == mine.name }) {
                    acquired = true
                    return HeldLock(vault: self, info: mine, backend: backend)
                }
                // Another writer locked at the same moment: both back off and try again.
                try backend.remove(.lock(mine.name))
            }
            if Date() >= deadline {
                let holder = present.first.map { $0.info?.description ?? "an unreadable lock file (\(VaultFile.lock($0.name).path))" }
                    ?? "another writer that locked at the same moment"
                throw CofferError.locked(vault: location, holder: holder)
            }
            Thread.sleep(forTimeInterval: min(Double.random(in: 0.2...1.0), max(0.01, deadline.timeIntervalSinceNow)))
        }
    }
}
