import ArgumentParser
import CMalloc
import CProcessGuard
import CofferCore
import CofferS3
import Foundation

/// The `coffer` command: a thin shell over CofferCore. Each subcommand lives in its own file
/// under Commands/, parses and validates its options, calls one library entry point and
/// formats the result; errors become one line on stderr and an exit status (Support/ExitCodes.swift).
@main
struct Coffer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coffer",
        abstract: "An encrypted, deduplicating, versioned backup vault.",
        discussion: """
            Seal a file, folder or data-export archive into a vault with a passphrase, list its \
            versions, and restore any of them byte for byte.

            VAULT: --vault DIR (a folder, rclone:REMOTE:PATH for any rclone remote, or
            s3:http(s)://HOST[:PORT]/BUCKET[/PREFIX] for an S3 bucket), else $COFFER_VAULT.

            PASSPHRASE (never on the command line), first match wins: --passphrase-command CMD or \
            --passphrase-file FILE; $COFFER_PASSPHRASE_COMMAND or $COFFER_PASSPHRASE_FILE; \
            $COFFER_PASSPHRASE; otherwise a no-echo prompt on the terminal (asked twice by 'coffer \
            init'). A command runs with /bin/sh -c, without the passphrase variables in its \
            environment; the first line it prints is the passphrase.

            GLOBAL OPTIONS: --vault, --passphrase-file, --passphrase-command, --profile, --json and -q/--quiet \
            may also come before the command name (coffer --vault DIR list). -q hides progress and \
            messages, never a command's result (a listing, a diff).

            VERSION: a version id or a unique prefix of one (at least 4 hex digits), NAME@latest, \
            NAME@-N (N versions before the latest), NAME@YYYY-MM-DD (the last version of that day, \
            UTC), or a bare NAME (its latest version).

            EXIT STATUS:
            \(ExitStatus.helpTable)

            Shell completions: coffer --generate-completion-script bash|zsh|fish
            """,
        version: "0.1.0",
        subcommands: [Init.self, Seal.self, List.self, Ls.self, Find.self, Stats.self, Restore.self, Cat.self, Dump.self, Diff.self, Status.self, Check.self, Prune.self, Unlock.self, Forget.self, Tag.self, Key.self, Sync.self, Copy.self, Upgrade.self, UI.self])

    /// Parses, runs, and turns every failure into one line on stderr and its exit status.
    static func main() {
        // No core dumps and not dumpable: a crash must not write keys or plaintext to disk, and
        // another process of the same user may not read this one's memory (ptrace, /proc/PID/mem).
        _ = coffer_guard_process()
        // The passphrase variables leave the environment before anything copies it
        // (Support/SecretEnvironment.swift): no child process inherits them.
        SecretEnvironment.capture()
        // s3: locations (module CofferS3).
        S3Storage.register()
        Interrupt.install()
        // glibc raises its mmap threshold after each large free, after which the 16–20 MiB pack
        // and batch buffers come from per-thread heaps that are not given back: seal's RSS grew
        // to 230 MiB that way. A fixed threshold (which also stops that adjustment) keeps every
        // buffer of 1 MiB or more in its own mapping, returned on free; two arenas suffice for
        // two cores (Sources/CMalloc).
        _ = coffer_tune_malloc(1 << 20, 2)
        var command: ParsableCommand
        // `check --read-data=N%` is spelled like restic's; ArgumentParser has no flag with an
        // optional value, so it becomes --read-data-subset N%.
        var arguments = Array(CommandLine.arguments.dropFirst())
        arguments = arguments.flatMap { a -> [String] in
            a.hasPrefix("--read-data=") ? ["--read-data-subset", String(a.dropFirst("--read-data=".count))] : [a]
        }
        // `coffer --vault V list`: global options before the command name (Support/CommandLine.swift).
        arguments = CommandLineArguments.normalized(arguments)
        json = CommandLineArguments.wantsJSON(arguments)
        if let unknown = CommandLineArguments.unknownCommand(arguments) {
            fail(CommandFailure.usage(unknown))
        }
        // `--profile NAME`: the options the profile stands for (Profile/ProfileArguments.swift).
        do { arguments = try ProfileArguments.expand(arguments) } catch let error as ProfileError {
            fail(CommandFailure.usage(error.description))
        } catch {
            fail(error)
        }
        do {
            command = try parseAsRoot(arguments)
        } catch {
            usageFailure(error, arguments: arguments)
        }
        do {
            try command.run()
            BenchMemory.report()
            // A signal that came while the command held the writer lock (or after the last
            // point where it could stop): the work is complete; the status still says it was stopped.
            if Interrupt.isRequested {
                report(status: Interrupt.exitStatus, message: "stopped by a signal after the command had finished its work")
            }
        } catch let error as CommandFailure {
            fail(error)
        } catch let error as CofferError {
            fail(error)
        } catch where String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
            // Help, version and completion requests, which ArgumentParser runs as commands.
            usageFailure(error, arguments: arguments)
        } catch {
            fail(error)
        }
    }

    /// Whether `--json` was given: failures are then also reported on stdout.
    nonisolated(unsafe) private static var json = false

    /// Help, version and completion requests print as ArgumentParser prints them; a parse or
    /// validation error becomes one line, `coffer: <message>. See 'coffer CMD --help'.`, and
    /// its status (64).
    private static func usageFailure(_ error: Error, arguments: [String]) -> Never {
        let code = exitCode(for: error)
        if code == .success { exit(withError: error) }
        var text = message(for: error).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("Error: ") { text = String(text.dropFirst("Error: ".count)) }
        text = text.split(separator: "\n", omittingEmptySubsequences: true).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        if let last = text.last, !".?!".contains(last) { text += "." }
        let path = CommandLineArguments.commandPath(arguments)
        text += " See 'coffer \(path.isEmpty ? "" : path + " ")--help'."
        let status = ExitStatus(rawValue: code.rawValue) ?? .usage
        report(status: status, message: text)
    }

    /// Prints `coffer: <message>` on stderr and exits with the error's status.
    private static func fail(_ error: Error) -> Never {
        var (status, message) = FailureReport.describe(error)
        // SIGTERM and SIGHUP stop an operation as Ctrl-C does, with their own status.
        if status == .interrupted { status = Interrupt.exitStatus }
        report(status: status, message: message)
    }

    /// The failure on stderr, and with `--json` also as one JSON line on stdout; then exits.
    private static func report(status: ExitStatus, message: String) -> Never {
        // One line, whatever names it holds (a newline in a file name prints as \x0a).
        if !message.isEmpty { Console.err("coffer: " + Console.name(message)) }
        if json { JSONError.print(message: message, status: status) }
        Foundation.exit(status.rawValue)
    }
}
