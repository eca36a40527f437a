@testable import CofferCore
import CofferCrypto
import Foundation

/// One call that changed a folder, as ``SimulatedCalls`` saw it succeed.
enum FSOp: CustomStringConvertible {
    /// `open(O_CREAT)`: a new file, or an existing one truncated (`O_TRUNC`). `handle` names
    /// this opening in the writes and fsyncs that follow.
    case create(path: String, handle: Int)
    case write(handle: Int, bytes: [UInt8])
    case fsyncFile(handle: Int)
    case fsyncDir(path: String)
    case chmod(path: String)
    case rename(from: String, to: String)
    case unlink(path: String)
    case mkdir(path: String)

    var description: String {
        switch self {
        case .create(let p, let h): return "create \(Self.short(p)) #\(h)"
        case .write(let h, let b): return "write #\(h) \(b.count) bytes"
        case .fsyncFile(let h): return "fsync #\(h)"
        case .fsyncDir(let p): return "fsync folder \(Self.short(p))"
        case .chmod(let p): return "chmod \(Self.short(p))"
        case .rename(let a, let b): return "rename \(Self.short(a)) -> \(Self.short(b))"
        case .unlink(let p): return "unlink \(Self.short(p))"
        case .mkdir(let p): return "mkdir \(Self.short(p))"
        }
    }

    static func short(_ p: String) -> String { p.split(separator: "/").suffix(3).joined(separator: "/") }
}

/// The kinds of call, for fault injection.
enum FSCallKind: String, CaseIterable, Sendable {
    case create, openDirectory, write, fsync, close, chmod, rename, unlink, mkdir
}

/// A ``FileSystemCalls`` that makes the real calls on a real folder and records every one that
/// changed something (for the power-cut model), and can make one call fail with a given errno
/// (for fault injection). A failing write first writes half of its bytes, as a disk that fills
/// up mid-write does, and the next write on that file fails.
final class SimulatedCalls: FileSystemCalls, @unchecked Sendable {
    private let lock = NSLock()
    private var _ops: [FSOp] = []
    private var files: [Int32: Int] = [:]
    private var filePaths: [Int32: String] = [:]
    private var folders: [Int32: String] = [:]
    private var nextHandle = 0
    private var callCount = 0
    private var pendingWriteFailure: Int32?
    private var _callLog: [(kind: FSCallKind, path: String)] = []

    /// Fail the call with this index (counting every call of the kinds in `failKinds`, from 0).
    let failAt: Int?
    let failErrno: Int32
    let failKinds: Set<FSCallKind>
    /// The call that was made to fail, once it happened.
    private(set) var failedCall: (kind: FSCallKind, path: String)?

    /// Alternatively: fail the first call for which this returns true.
    let failWhere: (@Sendable (FSCallKind, String) -> Bool)?
    /// Microseconds to wait before a call (a slow disk), outside the lock.
    let delay: (@Sendable (FSCallKind, String) -> useconds_t)?

    init(
        failAt: Int? = nil, errno: Int32 = EIO, kinds: Set<FSCallKind> = Set(FSCallKind.allCases),
        failWhere: (@Sendable (FSCallKind, String) -> Bool)? = nil, delay: (@Sendable (FSCallKind, String) -> useconds_t)? = nil
    ) {
        self.failAt = failAt
        self.failErrno = errno
        self.failKinds = kinds
        self.failWhere = failWhere
        self.delay = delay
    }

    var ops: [FSOp] { lock.withLock { _ops } }
    /// Calls of the injectable kinds made so far.
    var calls: Int { lock.withLock { callCount } }
    var didFail: Bool { lock.withLock { failedCall != nil } }
    /// Every call of the injectable kinds, in order (the one made to fail included).
    var callLog: [(kind: FSCallKind, path: String)] { lock.withLock { _callLog } }

    /// What makes two calls the same call site: the kind, and the path with its hex names and
    /// random suffixes blanked (`create packs/*/.tmp-*-*`, `fsync folder heads`).
    static func site(_ kind: FSCallKind, _ path: String, under root: String) -> String {
        var p = path.hasPrefix(root + "/") ? String(path.dropFirst(root.count + 1)) : path
        p = p.replacingOccurrences(of: "[0-9a-f]{6,}", with: "*", options: .regularExpression)
        p = p.replacingOccurrences(of: "packs/[0-9a-f]{2}", with: "packs/*", options: .regularExpression)
        p = p.replacingOccurrences(of: "fd [0-9]+", with: "fd", options: .regularExpression)
        return kind.rawValue + " " + p
    }

    /// Counts the call; true when it is the one to fail.
    private func shouldFail(_ kind: FSCallKind, _ path: String) -> Bool {
        guard failKinds.contains(kind) else { return false }
        defer {
            callCount += 1
            _callLog.append((kind, path))
        }
        if failedCall == nil, let failWhere, failWhere(kind, path) {
            failedCall = (kind, path)
            return true
        }
        guard let failAt, callCount == failAt else { return false }
        failedCall = (kind, path)
        return true
    }

    /// The path a descriptor was opened with.
    private func pathOf(_ fd: Int32) -> String { lock.withLock { folders[fd] ?? filePaths[fd] ?? "fd \(fd)" } }

    private func wait(_ kind: FSCallKind, _ path: @autoclosure () -> String) {
        if let delay {
            let us = delay(kind, path())
            if us > 0 { usleep(us) }
        }
    }

    /// Runs `body` under the lock; it returns the result and the errno to leave behind, which is
    /// set only after the lock is released.
    private func locked<R>(_ body: () -> (R, Int32)) -> R {
        let (r, e) = lock.withLock(body)
        errno = e
        return r
    }

    func openFile(_ path: String, flags: Int32, mode: mode_t) -> Int32 {
        wait(.create, path)
        return locked {
            if shouldFail(.create, path) { return (-1, failErrno) }
            let fd = Glibc.open(path, flags, mode)
            let e = errno
            if fd >= 0 {
                nextHandle += 1
                files[fd] = nextHandle
                filePaths[fd] = path
                _ops.append(.create(path: path, handle: nextHandle))
            }
            return (fd, e)
        }
    }

    func openDirectory(_ path: String) -> Int32 {
        wait(.openDirectory, path)
        return locked {
            if shouldFail(.openDirectory, path) { return (-1, failErrno) }
            let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            let e = errno
            if fd >= 0 { folders[fd] = path }
            return (fd, e)
        }
    }

    func write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
        wait(.write, pathOf(fd))
        return locked {
            if let e = pendingWriteFailure {
                pendingWriteFailure = nil
                return (-1, e)
            }
            var count = count
            if shouldFail(.write, filePaths[fd] ?? "fd \(fd)") {
                guard count > 1 else { return (-1, failErrno) }
                count /= 2
                pendingWriteFailure = failErrno
            }
            let n = Glibc.write(fd, buffer, count)
            let e = errno
            if n > 0, let h = files[fd] {
                _ops.append(.write(handle: h, bytes: Array(UnsafeRawBufferPointer(start: buffer, count: n))))
            }
            return (n, e)
        }
    }

    func fsync(_ fd: Int32) -> Int32 {
        wait(.fsync, pathOf(fd))
        return locked {
            if shouldFail(.fsync, folders[fd] ?? filePaths[fd] ?? "fd \(fd)") { return (-1, failErrno) }
            let r = Glibc.fsync(fd)
            let e = errno
            if r == 0 {
                if let h = files[fd] { _ops.append(.fsyncFile(handle: h)) }
                if let p = folders[fd] { _ops.append(.fsyncDir(path: p)) }
            }
            return (r, e)
        }
    }

    func close(_ fd: Int32) -> Int32 {
        wait(.close, pathOf(fd))
        return locked {
            let isFile = files[fd] != nil
            let path = filePaths[fd] ?? "fd \(fd)"
            files[fd] = nil
            filePaths[fd] = nil
            folders[fd] = nil
            pendingWriteFailure = nil
            // A failing close still closes the descriptor (as Linux does).
            if isFile && shouldFail(.close, path) { Glibc.close(fd); return (-1, failErrno) }
            let r = Glibc.close(fd)
            return (r, errno)
        }
    }

    func chmod(_ path: String, _ mode: mode_t) -> Int32 {
        wait(.chmod, path)
        return locked {
            if shouldFail(.chmod, path) { return (-1, failErrno) }
            let r = Glibc.chmod(path, mode)
            let e = errno
            if r == 0 { _ops.append(.chmod(path: path)) }
            return (r, e)
        }
    }

    func rename(_ from: String, _ to: String) -> Int32 {
        wait(.rename, to)
        return locked {
            if shouldFail(.rename, to) { return (-1, failErrno) }
            let r = Glibc.rename(from, to)
            let e = errno
            if r == 0 { _ops.append(.rename(from: from, to: to)) }
            return (r, e)
        }
    }

    func unlink(_ path: String) -> Int32 {
        wait(.unlink, path)
        return locked {
            if shouldFail(.unlink, path) { return (-1, failErrno) }
            let r = Glibc.unlink(path)
            let e = errno
            if r == 0 { _ops.append(.unlink(path: path)) }
            return (r, e)
        }
    }

    func mkdir(_ path: String, _ mode: mode_t) -> Int32 {
        wait(.mkdir, path)
        return locked {
            if shouldFail(.mkdir, path) { return (-1, failErrno) }
            let r = Glibc.mkdir(path, mode)
            let e = errno
            if r == 0 { _ops.append(.mkdir(path: path)) }
            return (r, e)
        }
    }
}

/// What survives a crash, for ``CrashModel/view(_:)``.
enum CrashVariant: String, CaseIterable, Sendable {
    /// A power cut on a file system that keeps exactly what was made durable: a folder's
    /// entries (create, rename, unlink, mkdir) as of that folder's last fsync, a file's data as
    /// of its last fsync. Everything else is lost.
    case strict
    /// Every name change survives (metadata is journaled ahead), but data that was not fsynced
    /// is lost: such files are empty (or keep only their fsynced part).
    case namesSurviveDataLost
    /// As above, but un-fsynced data is torn: half of it made it.
    case namesSurviveDataTorn
    /// Everything done survives: a process killed (SIGKILL) at that point, no power cut.
    case processKilled
    /// A disk that acknowledges flushes it does not do (or a file system where fsync is not
    /// supported): every name change survives, and of the data written during the operation
    /// only half of each file made it. Coffer cannot stay consistent here; what must hold is
    /// that nothing wrong is ever returned as right.
    case fsyncIgnoredTorn
    /// As above, with the data of every file written during the operation lost (empty files).
    case fsyncIgnoredEmpty

    /// True for the variants where the write protocol promises consistency.
    var durabilityHonoured: Bool { self != .fsyncIgnoredTorn && self != .fsyncIgnoredEmpty }
}

/// A model of a folder tree under a sequence of ``FSOp``s that knows what is durable, from which
/// the state after a crash at any point can be built.
struct CrashModel {
    enum Node: Equatable { case file(Int), dir }
    struct Inode {
        var current: [UInt8]
        var durable: [UInt8]
        var baseline: [UInt8]
    }

    let root: String
    private(set) var inodes: [Inode] = []
    private(set) var current: [String: [String: Node]] = [:]
    private(set) var durable: [String: [String: Node]] = [:]
    private var handles: [Int: Int] = [:]

    /// Starts from the tree under `root` as it is now, all of it durable.
    init(scanning root: String) {
        self.root = root
        scan(root)
    }

    private mutating func scan(_ dir: String) {
        var entries: [String: Node] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            let p = dir + "/" + name
            var st = stat()
            guard lstat(p, &st) == 0 else { continue }
            if st.st_mode & S_IFMT == S_IFDIR {
                entries[name] = .dir
                scan(p)
            } else if st.st_mode & S_IFMT == S_IFREG {
                let bytes = T.read(p) ?? []
                inodes.append(Inode(current: bytes, durable: bytes, baseline: bytes))
                entries[name] = .file(inodes.count - 1)
            }
        }
        current[dir] = entries
        durable[dir] = entries
    }

    private static func split(_ path: String) -> (String, String) {
        let i = path.lastIndex(of: "/")!
        return (String(path[..<i]), String(path[path.index(after: i)...]))
    }

    mutating func apply(_ op: FSOp) {
        switch op {
        case .create(let path, let handle):
            let (dir, name) = Self.split(path)
            if case .file(let ino)? = current[dir]?[name] {
                inodes[ino].current = []  // O_TRUNC
                handles[handle] = ino
            } else {
                inodes.append(Inode(current: [], durable: [], baseline: []))
                current[dir, default: [:]][name] = .file(inodes.count - 1)
                handles[handle] = inodes.count - 1
            }
        case .write(let handle, let bytes):
            inodes[handles[handle]!].current += bytes
        case .fsyncFile(let handle):
            let ino = handles[handle]!
            inodes[ino].durable = inodes[ino].current
        case .fsyncDir(let path):
            durable[path] = current[path] ?? [:]
        case .chmod:
            break
        case .rename(let from, let to):
            let (fd, fn) = Self.split(from)
            let (td, tn) = Self.split(to)
            if let node = current[fd]?.removeValue(forKey: fn) { current[td, default: [:]][tn] = node }
        case .unlink(let path):
            let (dir, name) = Self.split(path)
            current[dir]?[name] = nil
        case .mkdir(let path):
            let (dir, name) = Self.split(path)
            current[dir, default: [:]][name] = .dir
            current[path] = [:]
            durable[path] = [:]
        }
    }

    /// The files (relative path → content) and folders (relative path → nil) after a crash now.
    func view(_ variant: CrashVariant) -> [String: [UInt8]?] {
        let names = variant == .strict ? durable : current
        var out: [String: [UInt8]?] = [:]
        func torn(_ now: [UInt8], _ kept: [UInt8]) -> [UInt8] {
            if now == kept { return kept }
            if now.starts(with: kept) { return kept + now[kept.count..<(kept.count + (now.count - kept.count) / 2)] }
            return Array(now.prefix(now.count / 2))
        }
        func content(_ ino: Int) -> [UInt8] {
            let i = inodes[ino]
            switch variant {
            case .strict, .namesSurviveDataLost: return i.durable
            case .namesSurviveDataTorn: return torn(i.current, i.durable)
            case .processKilled: return i.current
            case .fsyncIgnoredEmpty: return i.baseline
            case .fsyncIgnoredTorn: return torn(i.current, i.baseline)
            }
        }
        func walk(_ dir: String, _ rel: String) {
            for (name, node) in names[dir] ?? [:] {
                let r = rel.isEmpty ? name : rel + "/" + name
                switch node {
                case .dir:
                    out[r] = .some(nil)
                    walk(dir + "/" + name, r)
                case .file(let ino):
                    out[r] = content(ino)
                }
            }
        }
        walk(root, "")
        return out
    }

    /// A digest of a view, to try each distinct crash state once. Files whose name starts with
    /// a dot (temporary files, which no reader lists) do not count: states that differ only in
    /// how far a temporary file got are the same state to the vault.
    static func fingerprint(_ view: [String: [UInt8]?]) -> ObjectID {
        var all: [UInt8] = []
        for (path, content) in view.sorted(by: { $0.key < $1.key }) where !Paths.lastComponent(path).hasPrefix(".") {
            all += Array(path.utf8) + [0]
            if let c = content { all += Array(ObjectID.hashing(c).hex.utf8) } else { all += [1] }
        }
        return ObjectID.hashing(all)
    }

    /// Writes a view into `target` (which must not exist).
    static func materialize(_ view: [String: [UInt8]?], at target: String) {
        try? FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        for (path, content) in view.sorted(by: { $0.key < $1.key }) where content == nil {
            try? FileManager.default.createDirectory(atPath: target + "/" + path, withIntermediateDirectories: true)
        }
        for (path, content) in view {
            guard let content else { continue }
            let p = target + "/" + path
            let fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            precondition(fd >= 0, "cannot create \(p)")
            _ = content.withUnsafeBytes { LocalBackend.writeAll(fd, $0) }
            close(fd)
        }
    }
}

/// Removes a scratch folder (read-only files included) with plain system calls: Foundation's
/// enumerator is slow enough in debug builds to dominate a run over hundreds of crash states.
func removeTree(_ path: String) {
    var st = stat()
    guard lstat(path, &st) == 0 else { return }
    if st.st_mode & S_IFMT != S_IFDIR {
        unlink(path)
        return
    }
    chmod(path, 0o700)
    if let d = opendir(path) {
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(d)
        for name in names { removeTree(path + "/" + name) }
    }
    rmdir(path)
}

/// Copies a folder tree (files, folders, symlinks), as plain files with their permissions.
func copyTree(_ from: String, _ to: String) {
    var st = stat()
    guard lstat(from, &st) == 0 else { return }
    switch st.st_mode & S_IFMT {
    case S_IFDIR:
        mkdir(to, 0o700)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: from)) ?? [] { copyTree(from + "/" + name, to + "/" + name) }
        chmod(to, st.st_mode & 0o7777)
    case S_IFLNK:
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: from) { symlink(target, to) }
    default:
        let bytes = T.read(from) ?? []
        let fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        _ = bytes.withUnsafeBytes { LocalBackend.writeAll(fd, $0) }
        close(fd)
        chmod(to, st.st_mode & 0o7777)
    }
}

/// Names under `root` (hidden ones included) left by an interrupted write: `.tmp-…` (vault
/// files) and `.….tmp` (rollback state).
func temporaryLeftovers(_ root: String) -> [String] {
    guard let e = FileManager.default.enumerator(atPath: root) else { return [] }
    return (e.allObjects as? [String] ?? []).filter {
        let name = Paths.lastComponent($0)
        return name.hasPrefix(".tmp-") || (name.hasPrefix(".") && name.hasSuffix(".tmp"))
    }.sorted()
}
