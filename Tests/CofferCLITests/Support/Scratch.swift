import CofferCore
import Foundation
import Testing

/// What one run of the `coffer` binary did.
struct RunResult {
    /// The exit status, or 128 + the signal number if a signal ended the process.
    var status: Int32
    var stdoutData: Data
    var stderr: String

    var stdout: String { String(decoding: stdoutData, as: UTF8.self) }

    /// Parses stdout as JSON.
    func json() throws -> Any { try JSONSerialization.jsonObject(with: stdoutData) }
}

/// Finds the built executables of this package: the test bundle is built into the same
/// folder as `coffer` (the test target depends on it).
enum Binaries {
    /// The folder holding the built products.
    static let buildFolder: String = {
        if let override = ProcessInfo.processInfo.environment["COFFER_TEST_BUILD_DIR"] { return override }
        var candidates: [String] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append((exe as NSString).deletingLastPathComponent)
        }
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().path)
        candidates.append(Bundle.main.bundleURL.path)
        for arg in CommandLine.arguments.prefix(1) { candidates.append((arg as NSString).deletingLastPathComponent) }
        // Walk up from each candidate, so a bundle nested under the build folder is found too.
        for start in candidates {
            var dir = start
            for _ in 0..<6 {
                if FileManager.default.isExecutableFile(atPath: dir + "/coffer") { return dir }
                let parent = (dir as NSString).deletingLastPathComponent
                if parent == dir { break }
                dir = parent
            }
        }
        // Fall back to the package's default build folder.
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
        return package + "/.build/debug"
    }()

    static var coffer: String { buildFolder + "/coffer" }

    /// The synthetic export generator, if it was built next to `coffer`.
    static var exportGenerator: String? {
        for name in ["export-generator", "ExportGenerator"] {
            let p = buildFolder + "/" + name
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// A system tool by absolute path, if installed.
    static func tool(_ name: String) -> String? {
        for dir in ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"] {
            let p = dir + "/" + name
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }
}

/// A scratch folder with its own HOME and rollback-state folder, and a clean environment, so a
/// test never touches a real vault: nothing of the caller's COFFER_* variables is passed on.
final class Scratch: @unchecked Sendable {
    let root: String
    /// The environment every run starts from.
    var environment: [String: String]
    /// The passphrase used by ``run(_:passphrase:environment:)`` unless told otherwise.
    let passphrase = "correct horse battery staple"

    init() throws {
        let base = FileManager.default.temporaryDirectory.path
        root = base + "/coffer-cli-test-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/home", withIntermediateDirectories: true)
        environment = [
            "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
            "HOME": root + "/home",
            "XDG_STATE_HOME": root + "/state",
            "LANG": "C.UTF-8",
            "COFFER_TESTONLY_WEAK_KDF": "1",
        ]
        // Sanitizer settings reach the coffer processes too (make test-asan turns leak detection off).
        for key in ["ASAN_OPTIONS", "TSAN_OPTIONS", "LSAN_OPTIONS"] {
            if let value = ProcessInfo.processInfo.environment[key] { environment[key] = value }
        }
    }

    deinit {
        // Packs are read-only; make everything writable so the folder can be removed.
        _ = try? Self.shell(["/bin/chmod", "-R", "u+rwX", root])
        try? FileManager.default.removeItem(atPath: root)
    }

    /// The default vault of this scratch folder.
    var vault: String { root + "/vault" }

    /// `root/relative`.
    func path(_ relative: String) -> String { root + "/" + relative }

    /// Writes a file (creating folders).
    @discardableResult
    func write(_ relative: String, _ bytes: [UInt8]) throws -> String {
        let p = path(relative)
        try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String { try write(relative, Array(text.utf8)) }

    func read(_ relative: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path(relative)))) }

    func exists(_ relative: String) -> Bool {
        var st = stat()
        return lstat(path(relative), &st) == 0
    }

    /// Runs `coffer args` with the vault in `COFFER_VAULT` and the passphrase in
    /// `COFFER_PASSPHRASE` (unless `passphrase` is nil), plus `environment` overrides.
    func run(
        _ args: [String], passphrase: String? = nil, usePassphrase: Bool = true, environment extra: [String: String] = [:],
        wrapper: [String] = [], timeout: TimeInterval = 60
    ) throws -> RunResult {
        let process = try start(args, passphrase: passphrase, usePassphrase: usePassphrase, environment: extra, wrapper: wrapper)
        return try process.finish(timeout: timeout)
    }

    /// Starts `coffer args` without waiting for it.
    func start(
        _ args: [String], passphrase: String? = nil, usePassphrase: Bool = true, environment extra: [String: String] = [:],
        wrapper: [String] = []
    ) throws -> RunningCoffer {
        var env = environment
        env["COFFER_VAULT"] = vault
        if usePassphrase { env["COFFER_PASSPHRASE"] = passphrase ?? self.passphrase }
        for (k, v) in extra { env[k] = v.isEmpty ? nil : v }
        let command = wrapper.isEmpty ? [Binaries.coffer] + args : wrapper + [Binaries.coffer] + args
        return try RunningCoffer(command: command, environment: env, directory: root)
    }

    /// Runs `coffer args` and requires exit status 0.
    @discardableResult
    func ok(_ args: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> RunResult {
        let r = try run(args)
        #expect(r.status == 0, "coffer \(args.joined(separator: " ")) failed: \(r.stderr)", sourceLocation: sourceLocation)
        return r
    }

    /// `coffer init` on the default vault.
    func initVault() throws {
        try ok(["init", "--quiet"])
    }

    /// Runs a helper program (not coffer); returns its status and output.
    @discardableResult
    static func shell(_ command: [String], environment: [String: String]? = nil) throws -> RunResult {
        try RunningCoffer(command: command, environment: environment ?? ProcessInfo.processInfo.environment, directory: "/").finish(timeout: 60)
    }
}

/// A started process whose stdout and stderr go to files (no pipe can fill up and block it).
final class RunningCoffer: @unchecked Sendable {
    let process = Process()
    private let outPath: String
    /// Where stdout goes while the process runs (read it to see what it printed so far).
    var stdoutPath: String { outPath }
    private let errPath: String

    init(command: [String], environment: [String: String], directory: String) throws {
        let id = UUID().uuidString
        outPath = NSTemporaryDirectory() + "/coffer-out-" + id
        errPath = NSTemporaryDirectory() + "/coffer-err-" + id
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: errPath)
        try process.run()
    }

    /// Sends SIGINT, as Ctrl-C does.
    func interrupt() { process.interrupt() }

    var isRunning: Bool { process.isRunning }

    /// Waits until the process has installed its SIGINT handler (Linux: `SigCgt` in
    /// /proc/PID/status), so a Ctrl-C sent afterwards reaches coffer's own handling.
    func waitForInterruptHandler(timeout: TimeInterval = 20) {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline {
            if let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
               let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigCgt:") }),
               let mask = UInt64(line.dropFirst("SigCgt:".count).trimmingCharacters(in: .whitespaces), radix: 16),
               mask & (1 << (UInt64(SIGINT) - 1)) != 0 {
                return
            }
            usleep(2_000)
        }
    }

    /// Waits (killing the process after `timeout` seconds) and collects the output.
    func finish(timeout: TimeInterval) throws -> RunResult {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            Issue.record("timed out after \(timeout) s: \(process.arguments ?? [])")
        }
        process.waitUntilExit()
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        let out = (try? Data(contentsOf: URL(fileURLWithPath: outPath))) ?? Data()
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: outPath)
        try? FileManager.default.removeItem(atPath: errPath)
        return RunResult(status: status, stdoutData: out, stderr: err)
    }
}

/// Deterministic pseudo-random bytes (xorshift), so inputs do not compress and do not repeat.
func pseudoRandomBytes(count: Int, seed: UInt64) -> [UInt8] {
    var x = seed | 1
    var out = [UInt8](repeating: 0, count: count)
    var i = 0
    while i < count {
        x ^= x << 13
        x ^= x >> 7
        x ^= x << 17
        var w = x
        for _ in 0..<8 where i < count {
            out[i] = UInt8(truncatingIfNeeded: w)
            w >>= 8
            i += 1
        }
    }
    return out
}

/// The files under `dir` (relative paths), recursively, including hidden ones.
func filesUnder(_ dir: String) -> [String] {
    guard let e = FileManager.default.enumerator(atPath: dir) else { return [] }
    return (e.allObjects as? [String] ?? []).sorted()
}

extension Vault {
    /// The entries of version `id`, collected from its walk, archive layouts loaded (tests
    /// only: commands stream).
    func listing(_ id: ObjectID, expandArchives: Bool = false) throws -> [VersionEntry] {
        var out: [VersionEntry] = []
        try walker(for: id, expandArchives: expandArchives).forEach { e in
            var e = e
            if e.type == .archive { e.archive = try archiveLayout(of: e) }
            out.append(e)
        }
        return out
    }
}
