import ArgumentParser
import Foundation

/// `--profile NAME` turned into the options it stands for, before ArgumentParser sees the
/// command line: the profile layer adds command-line options, so a profile can do nothing an
/// option cannot, and an option given on the command line overrides the profile's value:
///
/// - every command: `--vault`, unless given; `--passphrase-command` or `--passphrase-file`,
///   unless either is given;
/// - `seal`: the profile's `paths` when the command line gives none; `--exclude` for each of
///   its `exclude` patterns when the command line gives no `--exclude` (and seal has the option);
/// - `forget`: the `keep` rules as `--keep-*` options when the command line gives no `--keep-*`.
enum ProfileArguments {
    static let option = "--profile"

    /// `arguments` (global options already moved after the command name) with `--profile NAME`
    /// replaced by the options it stands for; unchanged without `--profile`.
    static func expand(_ arguments: [String], load: (String) throws -> Profile = { try ProfileConfig.load($0) }) throws -> [String] {
        let end = arguments.firstIndex(of: "--") ?? arguments.count
        var rest = arguments
        var name: String?
        var i = 0
        while i < min(end, rest.count) {
            if rest[i] == option {
                guard i + 1 < rest.count, i + 1 < end else { throw ProfileError(description: "--profile needs a profile name") }
                name = rest[i + 1]
                rest.removeSubrange(i...(i + 1))
                continue
            }
            if rest[i].hasPrefix(option + "=") {
                name = String(rest[i].dropFirst(option.count + 1))
                rest.remove(at: i)
                continue
            }
            i += 1
        }
        guard let name else { return arguments }
        guard !name.isEmpty else { throw ProfileError(description: "--profile needs a profile name") }
        let profile = try load(name)
        let optionsEnd = rest.firstIndex(of: "--") ?? rest.count
        func given(_ o: String) -> Bool { rest[..<optionsEnd].contains { $0 == o || $0.hasPrefix(o + "=") } }

        let path = CommandLineArguments.commandPath(rest)
        let pathCount = path.isEmpty ? 0 : path.split(separator: " ").count
        var added: [String] = []
        if let v = profile.vault, !given("--vault") { added += ["--vault", v] }
        if !given("--passphrase-command") && !given("--passphrase-file") {
            if let c = profile.passphraseCommand { added += ["--passphrase-command", c] }
            if let f = profile.passphraseFile { added += ["--passphrase-file", f] }
        }
        var trailing: [String] = []
        switch path {
        case "seal":
            if !profile.exclude.isEmpty && !given("--exclude") {
                if sealAcceptsExclude {
                    for p in profile.exclude { added += ["--exclude", p] }
                } else {
                    Console.warn("profile '\(name)': this coffer's seal has no --exclude, so the profile's exclude patterns are not applied")
                }
            }
            if !profile.paths.isEmpty {
                let withoutPaths = Array(rest[pathCount...]) + added
                if (try? Coffer.Seal.parse(withoutPaths)) == nil,
                   (try? Coffer.Seal.parse(withoutPaths + (withoutPaths.contains("--") ? [] : ["--"]) + profile.paths)) != nil {
                    trailing = (rest.contains("--") ? [] : ["--"]) + profile.paths
                }
            }
        case "forget":
            if !profile.keep.isEmpty && !rest[..<optionsEnd].contains(where: { $0.hasPrefix("--keep-") }) {
                for (o, v) in profile.keep { added += [o] + (v.map { [$0] } ?? []) }
            }
        default:
            break
        }
        return Array(rest[..<pathCount]) + added + Array(rest[pathCount...]) + trailing
    }

    /// Whether `seal` takes `--exclude PATTERN` (asked of its parser, so the profile's patterns
    /// are passed on as soon as seal has the option).
    static var sealAcceptsExclude: Bool {
        (try? Coffer.Seal.parse(["--exclude", "x", "--vault", "/", "--passphrase-file", "/", "/"])) != nil
    }
}
