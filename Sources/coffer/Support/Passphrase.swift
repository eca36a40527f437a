import CofferCore
import CofferCrypto
import Foundation

/// Where a passphrase comes from. A passphrase is never taken from a command-line value.
///
/// Precedence, first match wins:
/// 1. `--passphrase-command CMD` or `--passphrase-file F` (giving both is a usage error);
/// 2. `COFFER_PASSPHRASE_COMMAND` or `COFFER_PASSPHRASE_FILE` (setting both is a usage error);
/// 3. `COFFER_PASSPHRASE`;
/// 4. a no-echo prompt on the terminal (`/dev/tty`), asked twice by `init`.
enum PassphraseSource: Equatable {
    case command(String, fromEnvironment: Bool)
    case file(String, fromEnvironment: Bool)
    case environment
    case prompt
    /// `copy`'s source vault: `COFFER_FROM_PASSPHRASE`.
    case fromEnvironment

    /// Chooses the source from the options and the passphrase variables captured at start
    /// (``SecretEnvironment``).
    static func choose(file: String?, command: String?) -> PassphraseSource {
        if let command { return .command(command, fromEnvironment: false) }
        if let file { return .file(file, fromEnvironment: false) }
        if let c = SecretEnvironment.passphraseCommand { return .command(c, fromEnvironment: true) }
        if let f = SecretEnvironment.passphraseFile { return .file(f, fromEnvironment: true) }
        if case .unset = SecretEnvironment.passphrase { return .prompt }
        return .environment
    }

    /// `copy`'s source vault: `--from-passphrase-command` or `--from-passphrase-file`; then
    /// `COFFER_FROM_PASSPHRASE_COMMAND` or `COFFER_FROM_PASSPHRASE_FILE`; then
    /// `COFFER_FROM_PASSPHRASE`; then the prompt. The target's variables are never used for the
    /// source (two vaults, two keys).
    static func chooseFrom(file: String?, command: String?) -> PassphraseSource {
        if let command { return .command(command, fromEnvironment: false) }
        if let file { return .file(file, fromEnvironment: false) }
        if let c = SecretEnvironment.fromPassphraseCommand { return .command(c, fromEnvironment: true) }
        if let f = SecretEnvironment.fromPassphraseFile { return .file(f, fromEnvironment: true) }
        if case .unset = SecretEnvironment.fromPassphrase { return .prompt }
        return .fromEnvironment
    }

    /// Names the source in messages.
    var label: String {
        switch self {
        case .command(_, let env): return env ? "COFFER_PASSPHRASE_COMMAND" : "--passphrase-command"
        case .file(let f, let env): return env ? "COFFER_PASSPHRASE_FILE (\(f))" : "--passphrase-file \(f)"
        case .environment: return "COFFER_PASSPHRASE"
        case .prompt: return "the terminal prompt"
        case .fromEnvironment: return "COFFER_FROM_PASSPHRASE"
        }
    }
}

/// Reads a passphrase straight into secure memory (`SecureBytes`): never into a Swift `String`
/// or `Array`, never echoed.
enum PassphraseReader {
    /// Longest passphrase accepted, in bytes.
    static let maximumLength = 4096

    /// Reads the passphrase from `source`.
    /// - Parameters:
    ///   - prompt: shown on the terminal when `source` is `.prompt`.
    ///   - confirm: ask twice on the terminal and require the same answer (`init`).
    static func read(from source: PassphraseSource, prompt: String, confirm: Bool) throws -> SecureBytes {
        switch source {
        case .environment:
            return try fromEnvironment()
        case .fromEnvironment:
            switch SecretEnvironment.fromPassphrase {
            case .unset: throw CommandFailure(.failure, "COFFER_FROM_PASSPHRASE is not set")
            case .tooLong: throw tooLong("COFFER_FROM_PASSPHRASE")
            case .value(let secret): return secret
            }
        case .file(let path, _):
            return try fromFile(path, label: source.label)
        case .command(let command, _):
            return try fromCommand(command, label: source.label)
        case .prompt:
            let first = try fromTerminal(prompt: prompt)
            guard confirm else { return first }
            let second = try fromTerminal(prompt: "Repeat the passphrase: ")
            guard first.constantTimeEquals(second) else {
                throw CommandFailure(.failure, "the two passphrases differ; nothing was created — run the command again")
            }
            return first
        }
    }

    // MARK: Sources

    /// The value ``SecretEnvironment`` took out of the environment at start.
    private static func fromEnvironment() throws -> SecureBytes {
        switch SecretEnvironment.passphrase {
        case .unset: throw CommandFailure(.failure, "COFFER_PASSPHRASE is not set")
        case .tooLong: throw tooLong("COFFER_PASSPHRASE")
        case .value(let secret): return secret
        }
    }

    private static func fromFile(_ path: String, label: String) throws -> SecureBytes {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw CommandFailure(.failure, "cannot read the passphrase file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var line = LineBuffer()
        try line.readFirstLine(from: fd, source: label)
        return try line.finish(source: label)
    }

    /// Most bytes read from a passphrase command's stdout; beyond that it is stopped.
    static let commandOutputLimit = 64 * 1024

    /// Runs `command` with `/bin/sh -c` in an environment without any passphrase variable
    /// (``ChildEnvironment``); the first line it prints is the passphrase. Its stderr is the
    /// user's; its stdout is read to the end, at most ``commandOutputLimit`` bytes.
    private static func fromCommand(_ command: String, label: String) throws -> SecureBytes {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        // No passphrase variable reaches the command (nor what it runs).
        process.environment = ChildEnvironment.filtered()
        let pipe = Pipe()
        process.standardOutput = pipe
        do { try process.run() } catch {
            throw CommandFailure(.failure, "cannot run the passphrase command (\(label)): \(error)")
        }
        try? pipe.fileHandleForWriting.close()
        var line = LineBuffer()
        let readError: Error?
        do { try line.readFirstLine(from: pipe.fileHandleForReading.fileDescriptor, source: label, drain: true, limit: commandOutputLimit); readError = nil }
        catch { readError = error }
        // Closing the read end stops a command that would print on and on (SIGPIPE).
        try? pipe.fileHandleForReading.close()
        process.waitUntilExit()
        if let readError { throw readError }
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let how = process.terminationReason == .exit ? "exited with status \(process.terminationStatus)" : "was killed by signal \(process.terminationStatus)"
            throw CommandFailure(.failure, "the passphrase command (\(label)) \(how); no passphrase was read")
        }
        return try line.finish(source: label)
    }

    private static func fromTerminal(prompt: String) throws -> SecureBytes {
        let fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else {
            throw CommandFailure.usage(
                "no passphrase given and no terminal to ask on: set COFFER_PASSPHRASE_FILE or COFFER_PASSPHRASE, "
                    + "or pass --passphrase-file FILE or --passphrase-command CMD")
        }
        defer { close(fd) }
        // Ctrl-C must end the blocking read and let the terminal be restored, not kill us with
        // echo off.
        return try Interrupt.whileReadingTerminal {
            var saved = termios()
            let isTerminal = tcgetattr(fd, &saved) == 0
            if isTerminal {
                var quiet = saved
                quiet.c_lflag &= ~tcflag_t(ECHO | ECHONL)
                quiet.c_lflag |= tcflag_t(ICANON)
                _ = tcsetattr(fd, TCSAFLUSH, &quiet)
            }
            defer {
                if isTerminal { _ = tcsetattr(fd, TCSAFLUSH, &saved) }
                _ = "\n".withCString { Glibc.write(fd, $0, 1) }
            }
            _ = prompt.withCString { Glibc.write(fd, $0, strlen($0)) }
            var line = LineBuffer()
            try line.readFirstLine(from: fd, source: "the terminal prompt")
            return try line.finish(source: "the terminal prompt")
        }
    }

    // MARK: Errors

    static func empty(_ source: String) -> CommandFailure {
        CommandFailure(.failure, "the passphrase from \(source) is empty")
    }

    static func tooLong(_ source: String) -> CommandFailure {
        CommandFailure(.failure, "the passphrase from \(source) is longer than \(maximumLength) bytes")
    }
}

/// One line of input collected byte by byte in secure memory.
private struct LineBuffer {
    let storage = SecureBytes(count: PassphraseReader.maximumLength + 1)
    var count = 0
    var overflow = false

    /// Reads from `fd` up to the first newline (or end of input). With `drain`, keeps reading to
    /// the end so a writer on the other side of a pipe is not blocked.
    /// With `limit`, reading more than `limit` bytes in all is an error.
    mutating func readFirstLine(from fd: Int32, source: String, drain: Bool = false, limit: Int? = nil) throws {
        var lineDone = false
        var total = 0
        var discard: UInt8 = 0
        // The bytes after the first line pass through `discard`; none stays behind.
        defer { withUnsafeMutableBytes(of: &discard) { Sodium.wipe($0) } }
        while true {
            if lineDone && !drain { return }
            let n: Int
            if lineDone || overflow {
                n = Glibc.read(fd, &discard, 1)
            } else {
                let at = count
                n = storage.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + at, 1) }
                if n == 1 {
                    let byte = storage.withUnsafeBytes { $0[at] }
                    if byte == UInt8(ascii: "\n") {
                        lineDone = true
                    } else {
                        count += 1
                        if count > PassphraseReader.maximumLength { overflow = true }
                    }
                }
            }
            if n == 0 { return }
            if n > 0, let limit {
                total += n
                if total > limit {
                    throw CommandFailure(.failure, "\(source) printed more than \(limit / 1024) KiB; a passphrase is one line")
                }
            }
            if n < 0 {
                if errno == EINTR {
                    if Interrupt.isRequested { throw CofferError.interrupted }
                    continue
                }
                throw CommandFailure(.failure, "cannot read the passphrase from \(source): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// The line without its newline (and without a carriage return before it), in its own
    /// exactly-sized secure buffer; the scratch buffer is wiped when released.
    func finish(source: String) throws -> SecureBytes {
        guard !overflow else { throw PassphraseReader.tooLong(source) }
        var n = count
        if n > 0, storage.withUnsafeBytes({ $0[n - 1] }) == UInt8(ascii: "\r") { n -= 1 }
        guard n > 0 else { throw PassphraseReader.empty(source) }
        return storage.withUnsafeBytes { SecureBytes(copying: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
    }
}

// MARK: New passphrases for key slots

extension PassphraseReader {
    /// Reads a new passphrase for a key slot (`key add`, `key passwd`): the first line of `file`
    /// when given (`--new-passphrase-file`), otherwise the terminal prompt, asked twice. Never
    /// from the environment or a command-line value.
    static func readNew(file: String?, prompt: String) throws -> SecureBytes {
        if let file { return try fromFile(file, label: "--new-passphrase-file \(file)") }
        do {
            return try read(from: .prompt, prompt: prompt, confirm: true)
        } catch let failure as CommandFailure where failure.status == .usage {
            throw CommandFailure.usage("no new passphrase given and no terminal to ask on: pass --new-passphrase-file FILE")
        }
    }

    /// Reads another passphrase of the vault (`key remove --force`): the first line of `file`
    /// when given (`--other-passphrase-file`), otherwise the terminal prompt, asked once.
    static func readOther(file: String?, prompt: String) throws -> SecureBytes {
        if let file { return try fromFile(file, label: "--other-passphrase-file \(file)") }
        do {
            return try read(from: .prompt, prompt: prompt, confirm: false)
        } catch let failure as CommandFailure where failure.status == .usage {
            throw CommandFailure.usage(
                "removing the key slot in use needs another passphrase of the vault and there is no terminal to ask on: "
                    + "pass --other-passphrase-file FILE")
        }
    }

    /// The Argon2id cost of a new key slot: `parameters`, or, in a debug build with
    /// `COFFER_TESTONLY_WEAK_KDF=1`, the test-only minimum (announced on stderr), as `init` does.
    static func newSlotParameters(_ parameters: KDFParameters) -> KDFParameters {
        #if DEBUG
        if ProcessInfo.processInfo.environment["COFFER_TESTONLY_WEAK_KDF"] == "1" {
            Console.err("coffer: debug build with COFFER_TESTONLY_WEAK_KDF=1: minimum Argon2id cost, for tests only")
            return .insecureTestOnly
        }
        #endif
        return parameters
    }
}
