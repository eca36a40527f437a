import ArgumentParser
import CMalloc
import CProcessGuard
import CofferCore
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

            VAULT: --vault DIR (a folder, or rclone:REMOTE:PATH for any rclone remote), else $COFFER_VAULT.

            PASSPHRASE (never on the command line), first match wins: --passphrase-command CMD or \
            --passphrase-file FILE; $COFFER_PASSPHRASE_FILE; $COFFER_PASSPHRASE; otherwise a no-echo \
            prompt on the terminal (asked twice by 'coffer init').

            VERSION: a version id or a unique prefix of one (at least 4 hex digits), NAME@latest, \
            NAME@-N (N versions before the latest), NAME@YYYY-MM-DD (the last version of that day, \
            UTC), or a bare NAME (its latest version).

            EXIT STATUS:
            \(ExitStatus.helpTable)

            Shell completions: coffer --generate-completion-script bash|zsh|fish
            """,
        version: "0.1.0",
        subcommands: [Init.self, Seal.self, List.self, Ls.self, Restore.self, Cat.self, Dump.self, Diff.self, Status.self, Check.self, Prune.self, Unlock.self, Forget.self, Key.self, Sync.self, Upgrade.self])

    /// Parses, runs, and turns every failure into one line on stderr and its exit status.
    static func main() {
        // No core dumps and not dumpable: a crash must not write keys or plaintext to disk, and
        // another process of the same user may not read this one's memory (ptrace, /proc/PID/mem).
        _ = coffer_guard_process()
        // The passphrase variables leave the environment before anything copies it
        // (Support/SecretEnvironment.swift): no child process inherits them.
        SecretEnvironment.capture()
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
        do {
            command = try parseAsRoot(arguments)
        } catch {
            // Help, version, completion scripts and parse errors (status 64).
            exit(withError: error)
        }
        do {
            try command.run()
            BenchMemory.report()
        } catch let error as CommandFailure {
            fail(error)
        } catch let error as CofferError {
            fail(error)
        } catch where String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
            // Help, version and completion requests, which ArgumentParser runs as commands.
            exit(withError: error)
        } catch {
            fail(error)
        }
    }

    /// Prints `coffer: <message>` on stderr and exits with the error's status.
    private static func fail(_ error: Error) -> Never {
        let (status, message) = FailureReport.describe(error)
        // One line, whatever names it holds (a newline in a file name prints as \x0a).
        if !message.isEmpty { Console.err("coffer: " + Console.name(message)) }
        Foundation.exit(status.rawValue)
    }
}
