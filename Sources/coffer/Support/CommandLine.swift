import ArgumentParser
import Foundation

/// The command line before ArgumentParser sees it: options given before the command name, and
/// mistyped command names.
///
/// ArgumentParser gives a subcommand only the options written after its name. `coffer --vault V
/// list`, `coffer --json list` and `coffer -q ls …` are common habits (restic, borg), so the
/// options every vault command takes (``globalFlags``, ``globalOptions``) are moved from before
/// the command name to just after it (after `key list`, for a command with subcommands).
enum CommandLineArguments {
    /// Flags that may come before the command name.
    static let globalFlags: Set<String> = ["--json", "-q", "--quiet"]
    /// Options with a value (`--vault V` or `--vault=V`) that may come before the command name.
    static let globalOptions: Set<String> = ["--vault", "--passphrase-file", "--passphrase-command", "--profile"]

    /// The command names: `(name, its subcommand names)`.
    static var commands: [(name: String, subcommands: [String])] {
        Coffer.configuration.subcommands.map { c in
            (c._commandName, c.configuration.subcommands.map { $0._commandName })
        }
    }

    /// `arguments` with the global options that precede the command name moved after it.
    ///
    /// Scanning stops at `--`, at the first other option (`--help`, `--version`, …: the
    /// arguments are then returned unchanged) and at the command name. A value-taking option at
    /// the very end (no value) is left for ArgumentParser to report.
    static func normalized(_ arguments: [String]) -> [String] {
        var moved: [String] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if a == "--" { return arguments }
            if globalFlags.contains(a) {
                moved.append(a)
                i += 1
            } else if globalOptions.contains(a) {
                guard i + 1 < arguments.count else { return arguments }
                moved += [a, arguments[i + 1]]
                i += 2
            } else if let eq = a.firstIndex(of: "="), globalOptions.contains(String(a[..<eq])) {
                moved.append(a)
                i += 1
            } else if a.hasPrefix("-") {
                return arguments
            } else {
                break
            }
        }
        guard i < arguments.count, !moved.isEmpty else { return arguments }
        // The command, and its subcommand when it has subcommands and one follows.
        var end = i + 1
        if let command = commands.first(where: { $0.name == arguments[i] }), !command.subcommands.isEmpty,
           end < arguments.count, command.subcommands.contains(arguments[end]) {
            end += 1
        }
        return Array(arguments[i..<end]) + moved + Array(arguments[end...])
    }

    /// The command path named in `arguments` (`list`, `key add`), for "See 'coffer CMD --help'";
    /// empty when none is named.
    static func commandPath(_ arguments: [String]) -> String {
        guard let first = arguments.first, let command = commands.first(where: { $0.name == first }) else { return "" }
        if arguments.count > 1, command.subcommands.contains(arguments[1]) { return first + " " + arguments[1] }
        return first
    }

    /// When the first argument is meant as a command name and names none (nor a subcommand of
    /// the command it names), the one-line message saying so, with the closest name when one is
    /// close enough; nil otherwise.
    static func unknownCommand(_ arguments: [String]) -> String? {
        guard let first = arguments.first, !first.hasPrefix("-") else { return nil }
        let names = commands.map(\.name) + ["help"]
        guard let command = commands.first(where: { $0.name == first }) else {
            guard !names.contains(first) else { return nil }
            return message(first, suggestion: closest(to: first, in: names))
        }
        // `key lst`: a word where a subcommand is expected.
        guard !command.subcommands.isEmpty, arguments.count > 1 else { return nil }
        let second = arguments[1]
        guard !second.hasPrefix("-"), !command.subcommands.contains(second), second != "help" else { return nil }
        return message(first + " " + second, suggestion: closest(to: second, in: command.subcommands).map { first + " " + $0 })
    }

    private static func message(_ given: String, suggestion: String?) -> String {
        if let suggestion { return "unknown command '\(given)' — did you mean '\(suggestion)'?" }
        return "unknown command '\(given)'; see 'coffer --help' for the commands"
    }

    /// The name nearest to `word` by edit distance (optimal string alignment: insertions,
    /// deletions, substitutions and swaps of neighbours), when it is at most 2 edits away and
    /// fewer edits than the word is long; ties go to the first name.
    static func closest(to word: String, in names: [String]) -> String? {
        let w = Array(word.lowercased().unicodeScalars)
        var best: (name: String, distance: Int)?
        for name in names {
            let d = editDistance(w, Array(name.unicodeScalars))
            if best == nil || d < best!.distance { best = (name, d) }
        }
        guard let best, best.distance <= 2, best.distance < w.count else { return nil }
        return best.name
    }

    static func editDistance<T: Equatable>(_ a: [T], _ b: [T]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }

    /// Whether `--json` was given (before any `--`).
    static func wantsJSON(_ arguments: [String]) -> Bool {
        arguments.prefix { $0 != "--" }.contains("--json")
    }
}
