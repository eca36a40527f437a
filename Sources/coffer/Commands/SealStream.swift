import ArgumentParser
import CofferCore
import Foundation

extension Coffer.Seal {
    /// The combinations of the selection options that make sense (restic's rules).
    func validateSelection() throws {
        let s = selection
        if s.stdin && s.stdinFromCommand { throw ValidationError("--stdin and --stdin-from-command cannot be combined") }
        if s.stdin && (!paths.isEmpty || s.readsPathLists) { throw ValidationError("--stdin seals standard input only: give no paths and no --files-from") }
        if s.stdinFromCommand && paths.isEmpty { throw ValidationError("--stdin-from-command needs a command after --") }
        if s.stdinFromCommand && s.readsPathLists { throw ValidationError("--stdin-from-command cannot be combined with --files-from") }
        if s.stdinFilename != nil && !s.stdin && !s.stdinFromCommand { throw ValidationError("--stdin-filename needs --stdin or --stdin-from-command") }
        if let n = s.stdinFilename, n.isEmpty || n.utf8.contains(UInt8(ascii: "/")) || n == "." || n == ".." {
            throw ValidationError("--stdin-filename must be one file name")
        }
        if paths.isEmpty && !s.readsPathLists && !s.stdin { throw ValidationError("give at least one path to seal (or --files-from, --stdin)") }
    }

    /// The paths to seal: the arguments, then those of the --files-from options (none for a stream).
    func inputPaths() throws -> [[UInt8]] {
        if selection.stdin || selection.stdinFromCommand { return [] }
        let listed = try selection.listedPaths()
        if paths.isEmpty && listed.isEmpty { throw CommandFailure.usage("the --files-from lists name nothing to seal") }
        return paths.map { Array($0.utf8) } + listed
    }

    /// Sets up standard input or the command's output as the stream to seal; the command, if one
    /// was started, is waited for before the version is committed.
    func startStream(_ options: inout SealOptions) throws -> SealCommand? {
        let name = selection.streamName
        if selection.stdin {
            options.stream = SealStream(descriptor: 0, name: name)
            return nil
        }
        guard selection.stdinFromCommand else { return nil }
        let command = try SealCommand(paths)
        options.stream = SealStream(descriptor: command.output, name: name)
        options.beforeCommit = { try command.finish() }
        return command
    }
}

/// A command whose standard output is sealed (`seal --stdin-from-command`). It runs with Coffer's
/// environment minus the passphrase variables, standard input and error inherited.
final class SealCommand: @unchecked Sendable {
    private let process = Process()
    private let pipe = Pipe()
    private let argv: [String]

    init(_ argv: [String]) throws {
        self.argv = argv
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["--"] + argv
        process.environment = ChildEnvironment.filtered()
        process.standardOutput = pipe
        do {
            try process.run()
        } catch {
            throw CommandFailure(.failure, "cannot run \(TerminalText.escape(argv[0])): \(error.localizedDescription); no version was written")
        }
        try? pipe.fileHandleForWriting.close()
    }

    /// The descriptor its output is read from.
    var output: Int32 { pipe.fileHandleForReading.fileDescriptor }

    /// Waits for the command (its output has been read to the end); a failure commits nothing.
    func finish() throws {
        process.waitUntilExit()
        let status = process.terminationStatus
        if process.terminationReason == .uncaughtSignal {
            throw CommandFailure(.failure, "the command \(TerminalText.escape(argv[0])) was killed by signal \(status); no version was written")
        }
        guard status == 0 else {
            let why = status == 127 ? " (command not found?)" : ""
            throw CommandFailure(.failure, "the command \(TerminalText.escape(argv[0])) exited with status \(status)\(why); no version was written")
        }
    }

    /// Ends the command when the seal stops early.
    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}
