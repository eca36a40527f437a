import CofferCrypto
import Foundation
import Synchronization

/// The one rclone process a command uses for a remote: `rclone rcd` on a loopback port, serving
/// every listing, read, write and delete over HTTP.
///
/// - It listens on `127.0.0.1:0` (a port the kernel picks, read back from rclone's
///   "Serving remote control on http://127.0.0.1:PORT/" line).
/// - Every request needs a user and password drawn at random for this process. They are never
///   in rclone's argv (world-readable in /proc) nor its environment: rclone reads the password's
///   `{SHA}` verifier from an htpasswd file (mode 0600) in a private folder (mode 0700), which
///   also holds the local files that writes upload (`operations/copyfile` from that folder).
/// - Reads are `GET /[REMOTE:PATH]/file` (`--rc-serve`, with `Range` for ranged reads); the rest
///   are `POST /operations/...` calls with a JSON body.
/// - rclone runs with Coffer's environment less the passphrase variables (``ChildEnvironment``).
/// - It is stopped by its pid when the backend goes away, when the process exits normally
///   (`atexit`), and from Coffer's signal handler (``stopAllForExit()``, async-signal-safe).
final class RcloneServer: @unchecked Sendable {
    let process: Process
    let client: LoopbackHTTPClient
    /// The private folder: the htpasswd file, and `upload/` for files being written.
    let scratch: LocalScratch
    private let stderrTail: StderrTail
    private let stopped = Mutex(false)

    /// How many rclone servers this process started (a test hook: one per command).
    static let startedCount = Atomic<Int>(0)
    /// Pids of running servers, for the signal handler (0: free slot).
    /// Read without a lock by the signal handler (aligned 32-bit stores and loads).
    nonisolated(unsafe) private static let slots: UnsafeMutablePointer<Int32> = {
        let p = UnsafeMutablePointer<Int32>.allocate(capacity: slotCount)
        p.initialize(repeating: 0, count: slotCount)
        return p
    }()
    private static let slotCount = 32
    private static let slotLock = Mutex(())
    private static let atexitInstalled = Atomic<Bool>(false)
    /// The servers running now, stopped (and their folders removed) at a normal exit.
    private static let running = Mutex<[ObjectIdentifier: RcloneServer]>([:])

    private init(process: Process, client: LoopbackHTTPClient, scratch: LocalScratch, stderrTail: StderrTail) {
        self.process = process
        self.client = client
        self.scratch = scratch
        self.stderrTail = stderrTail
    }

    deinit { stop() }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    /// rclone's last lines on stderr.
    var stderr: String { stderrTail.text }

    /// Starts `rclone rcd` and waits for it to listen (at most 30 s).
    static func start(executable: String, options: [String]) throws -> RcloneServer {
        let scratch = try LocalScratch.make()
        do {
            let user = "coffer"
            let password = Hex.encode(Sodium.randomBytes(count: 24))
            let htpasswd = scratch.folder + "/htpasswd"
            try LocalScratch.writeFile(htpasswd, Array("\(user):{SHA}\(Data(SHA1.hash(Array(password.utf8))).base64EncodedString())\n".utf8))
            guard mkdir(scratch.folder + "/upload", 0o700) == 0 else {
                throw CofferError.io(path: scratch.folder + "/upload", operation: "create a folder", errno: errno)
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["rcd", "--rc-addr", "127.0.0.1:0", "--rc-htpasswd", htpasswd, "--rc-serve"] + options
            process.environment = ChildEnvironment.filtered()
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            let err = Pipe()
            process.standardError = err
            let tail = StderrTail()
            try process.run()
            startedCount.add(1, ordering: .relaxed)
            register(process.processIdentifier)
            let handle = err.fileHandleForReading
            Thread.detachNewThread { tail.drain(handle.fileDescriptor, keeping: RcloneBackend.stderrLimit) }
            guard let port = tail.waitForPort(seconds: 30, process: process) else {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                unregister(process.processIdentifier)
                throw StartFailure(stderr: tail.text)
            }
            let server = RcloneServer(
                process: process, client: LoopbackHTTPClient(port: port, user: user, password: password), scratch: scratch, stderrTail: tail)
            running.withLock { $0[ObjectIdentifier(server)] = server }
            return server
        } catch {
            scratch.remove()
            throw error
        }
    }

    /// rclone did not start listening; `stderr` says why.
    struct StartFailure: Error {
        var stderr: String
    }

    /// Stops rclone (SIGTERM, then SIGKILL after 5 s), waits for it, removes the private folder.
    func stop() {
        let already = stopped.withLock { s -> Bool in
            defer { s = true }
            return s
        }
        if already { return }
        _ = Self.running.withLock { $0.removeValue(forKey: ObjectIdentifier(self)) }
        client.closeAll()
        let pid = process.processIdentifier
        if process.isRunning {
            kill(pid, SIGTERM)
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(pid, SIGKILL) }
        }
        process.waitUntilExit()
        Self.unregister(pid)
        scratch.remove()
    }

    private static func register(_ pid: Int32) {
        if !atexitInstalled.exchange(true, ordering: .relaxed) {
            atexit { RcloneServer.stopAll() }
        }
        slotLock.withLock { _ in
            if let i = (0..<slotCount).first(where: { slots[$0] == 0 }) { slots[i] = pid }
        }
    }

    private static func unregister(_ pid: Int32) {
        slotLock.withLock { _ in
            if let i = (0..<slotCount).first(where: { slots[$0] == pid }) { slots[i] = 0 }
        }
    }

    /// Stops every running server (at a normal exit).
    static func stopAll() {
        let all = running.withLock { Array($0.values) }
        for s in all { s.stop() }
        stopAllForExit()
    }

    /// Ends every rclone server this process started and that still runs: SIGTERM to each pid.
    /// Only async-signal-safe calls, for a signal handler about to `_exit`.
    static func stopAllForExit() {
        for i in 0..<slotCount {
            let pid = slots[i]
            if pid > 0 { kill(pid, SIGTERM) }
        }
    }
}

/// rclone's stderr, drained on a thread: its last bytes, and the port from its "Serving" line.
final class StderrTail: @unchecked Sendable {
    private let lock = NSCondition()
    private var kept: [UInt8] = []
    private var port: UInt16?
    private var ended = false

    var text: String { lock.withLock { String(decoding: kept, as: UTF8.self) } }

    func drain(_ fd: Int32, keeping: Int) {
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            lock.withLock {
                kept.append(contentsOf: chunk[0..<n])
                if port == nil { port = Self.port(in: kept) }
                if kept.count > 2 * keeping { kept = Array(kept.suffix(keeping)) }
                lock.broadcast()
            }
        }
        lock.withLock {
            ended = true
            lock.broadcast()
        }
    }

    /// "Serving remote control on http://127.0.0.1:PORT/".
    static func port(in bytes: [UInt8]) -> UInt16? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let r = text.range(of: "Serving remote control on http://127.0.0.1:") else { return nil }
        let digits = text[r.upperBound...].prefix { $0.isNumber }
        guard text[r.upperBound...].dropFirst(digits.count).first == "/" else { return nil }
        return UInt16(digits)
    }

    func waitForPort(seconds: Double, process: Process) -> UInt16? {
        let deadline = Date().addingTimeInterval(seconds)
        return lock.withLock {
            while port == nil && !ended && Date() < deadline {
                _ = lock.wait(until: min(deadline, Date().addingTimeInterval(0.05)))
            }
            return port
        }
    }
}

/// SHA-1, only for the `{SHA}` password verifier in the htpasswd file rclone reads (the
/// password is 24 random bytes, so SHA-1's weaknesses do not matter there).
enum SHA1 {
    static func hash(_ message: [UInt8]) -> [UInt8] {
        var h: [UInt32] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0]
        var m = message
        let bitLength = UInt64(message.count) * 8
        m.append(0x80)
        while m.count % 64 != 56 { m.append(0) }
        for i in (0..<8).reversed() { m.append(UInt8(truncatingIfNeeded: bitLength >> (UInt64(i) * 8))) }
        var w = [UInt32](repeating: 0, count: 80)
        for block in stride(from: 0, to: m.count, by: 64) {
            for t in 0..<16 {
                let j = block + t * 4
                w[t] = UInt32(m[j]) << 24 | UInt32(m[j + 1]) << 16 | UInt32(m[j + 2]) << 8 | UInt32(m[j + 3])
            }
            for t in 16..<80 {
                let x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]
                w[t] = x << 1 | x >> 31
            }
            var (a, b, c, d, e) = (h[0], h[1], h[2], h[3], h[4])
            for t in 0..<80 {
                let f: UInt32
                let k: UInt32
                switch t {
                case 0..<20: f = (b & c) | (~b & d); k = 0x5A82_7999
                case 20..<40: f = b ^ c ^ d; k = 0x6ED9_EBA1
                case 40..<60: f = (b & c) | (b & d) | (c & d); k = 0x8F1B_BCDC
                default: f = b ^ c ^ d; k = 0xCA62_C1D6
                }
                let temp = (a << 5 | a >> 27) &+ f &+ e &+ k &+ w[t]
                e = d
                d = c
                c = b << 30 | b >> 2
                b = a
                a = temp
            }
            h[0] = h[0] &+ a
            h[1] = h[1] &+ b
            h[2] = h[2] &+ c
            h[3] = h[3] &+ d
            h[4] = h[4] &+ e
        }
        return h.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * UInt32($0))) } }
    }
}

/// Ends every rclone process this process started (SIGTERM by pid); async-signal-safe, for a
/// signal handler about to `_exit`.
public func stopRcloneServersForExit() {
    RcloneServer.stopAllForExit()
}
