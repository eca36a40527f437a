import Foundation
import TOMLKit

/// A named profile of the config file (`--profile NAME`): where the vault is, how to unlock
/// it, what `seal` seals and what `forget` keeps.
///
/// ```toml
/// [profiles.home]
/// vault = "/mnt/usb/vault"
/// passphrase-command = "pass show coffer"   # or passphrase-file = "..."
/// paths = ["/home/ann"]
/// exclude = ["/home/ann/.cache", "*.tmp"]
/// [profiles.home.keep]
/// last = 3
/// daily = 7
/// ```
struct Profile {
    var name: String
    var vault: String?
    var passphraseCommand: String?
    var passphraseFile: String?
    var paths: [String] = []
    var exclude: [String] = []
    /// `forget`'s rules as its options, in a fixed order: (`--keep-last`, "3"), …;
    /// (`--keep-distinct`, nil) for the flag.
    var keep: [(option: String, value: String?)] = []
}

/// A config file that cannot be used: one line, naming the file, the line when known, and the key.
struct ProfileError: Error, CustomStringConvertible {
    var description: String
}

/// The config file: `$XDG_CONFIG_HOME/coffer/config.toml`, else `~/.config/coffer/config.toml`.
enum ProfileConfig {
    static var path: String {
        let env = ProcessInfo.processInfo.environment
        if let x = env["XDG_CONFIG_HOME"], x.hasPrefix("/") { return x + "/coffer/config.toml" }
        let home = env["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.config/coffer/config.toml"
    }

    /// The count rules of `[profiles.NAME.keep]`, with the `forget` option each becomes.
    static let countKeys = ["last", "hourly", "daily", "weekly", "monthly", "yearly"]
    static let profileKeys = ["vault", "passphrase-command", "passphrase-file", "paths", "exclude", "keep"]
    static let keepKeys = countKeys + ["within", "tag", "distinct"]

    /// Profile `name` from the config file at `path`.
    static func load(_ name: String, path: String = ProfileConfig.path) throws -> Profile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ProfileError(description: "no config file \(path) to read profile '\(name)' from")
        }
        try checkOwner(path)
        guard let text = String(data: data, encoding: .utf8) else { throw ProfileError(description: "config \(path) is not UTF-8 text") }
        return try parse(text, profile: name, path: path)
    }

    /// A profile's `passphrase-command` runs as the user: the config must be theirs (or
    /// root's) and writable by no one else, as ssh requires of its config.
    static func checkOwner(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else { return }
        if st.st_uid != getuid() && st.st_uid != 0 {
            throw ProfileError(description: "config \(path) belongs to user \(st.st_uid), not to you: its passphrase-command would run as you; not read")
        }
        if st.st_mode & 0o022 != 0 {
            throw ProfileError(
                description: "config \(path) is writable by others (mode \(String(st.st_mode & 0o777, radix: 8))): its passphrase-command would run as you; "
                    + "'chmod go-w \(path)' to use it")
        }
    }

    /// Profile `name` from the text of a config file (`path` names it in errors). Every key of
    /// every profile is checked, not only the one asked for.
    static func parse(_ text: String, profile name: String, path: String) throws -> Profile {
        let root: TOMLTable
        do { root = try TOMLTable(string: text) } catch let e as TOMLParseError {
            throw ProfileError(description: "config \(path) line \(e.source.begin.line): \(e.description)")
        }
        func fail(_ keyPath: [String], _ problem: String) -> ProfileError {
            let line = lineOf(keyPath, in: text).map { " line \($0)" } ?? ""
            return ProfileError(description: "config \(path)\(line): \(problem)")
        }
        func quoted(_ keyPath: [String]) -> String { "'" + keyPath.joined(separator: ".") + "'" }
        func string(_ v: TOMLValueConvertible, _ k: [String]) throws -> String {
            guard let s = v.string else { throw fail(k, "\(quoted(k)) must be a string") }
            return s
        }
        func strings(_ v: TOMLValueConvertible, _ k: [String]) throws -> [String] {
            guard let a = v.array else { throw fail(k, "\(quoted(k)) must be an array of strings") }
            return try a.map { e in
                guard let s = e.string else { throw fail(k, "\(quoted(k)) must be an array of strings") }
                return s
            }
        }
        var found: Profile?
        for key in root.keys where key != "profiles" {
            throw fail([key], "unknown key \(quoted([key])) (a config holds [profiles.NAME] tables)")
        }
        guard let profiles = root["profiles"] else { throw ProfileError(description: "no profile '\(name)' in config \(path) (it has none)") }
        guard let table = profiles.table else { throw fail(["profiles"], "'profiles' must be a table of [profiles.NAME] tables") }
        for p in table.keys {
            let k = ["profiles", p]
            guard let t = table[p]?.table else { throw fail(k, "\(quoted(k)) must be a table") }
            var profile = Profile(name: p)
            for key in t.keys {
                let kk = k + [key]
                let v = t[key]!
                switch key {
                case "vault": profile.vault = home(try string(v, kk))
                case "passphrase-command": profile.passphraseCommand = try string(v, kk)
                case "passphrase-file": profile.passphraseFile = home(try string(v, kk))
                case "paths": profile.paths = try strings(v, kk).map(home)
                case "exclude": profile.exclude = try strings(v, kk)
                case "keep":
                    guard let keep = v.table else { throw fail(kk, "\(quoted(kk)) must be a table") }
                    for rule in keep.keys {
                        let rk = kk + [rule]
                        guard keepKeys.contains(rule) else {
                            throw fail(rk, "unknown key \(quoted(rk)); known: \(keepKeys.joined(separator: ", "))")
                        }
                    }
                    // In a fixed order, whatever the file's.
                    for rule in keepKeys {
                        guard let r = keep[rule] else { continue }
                        let rk = kk + [rule]
                        switch rule {
                        case "within": profile.keep.append(("--keep-within", try string(r, rk)))
                        case "tag": for s in try strings(r, rk) { profile.keep.append(("--keep-tag", s)) }
                        case "distinct":
                            guard let b = r.bool else { throw fail(rk, "\(quoted(rk)) must be true or false") }
                            if b { profile.keep.append(("--keep-distinct", nil)) }
                        default:
                            if let n = r.int, n >= 0 {
                                profile.keep.append(("--keep-\(rule)", String(n)))
                            } else if r.string == "unlimited" {
                                profile.keep.append(("--keep-\(rule)", "unlimited"))
                            } else {
                                throw fail(rk, "\(quoted(rk)) must be a count (0 or more) or \"unlimited\"")
                            }
                        }
                    }
                default:
                    throw fail(kk, "unknown key \(quoted(kk)); known: \(profileKeys.joined(separator: ", "))")
                }
            }
            if profile.passphraseCommand != nil && profile.passphraseFile != nil {
                throw fail(k + ["passphrase-file"], "profile '\(p)' gives both passphrase-command and passphrase-file; keep one")
            }
            if p == name { found = profile }
        }
        guard let found else {
            let names = table.keys.sorted()
            throw ProfileError(
                description: "no profile '\(name)' in config \(path)" + (names.isEmpty ? " (it has none)" : " (profiles: \(names.joined(separator: ", ")))"))
        }
        return found
    }

    /// `path` with a leading `~/` (or a lone `~`) replaced by `$HOME`.
    static func home(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        let home = ProcessInfo.processInfo.environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + path.dropFirst()
    }

    /// The line (from 1) where `keyPath` is defined in `text`: a `[table]` header naming it, or
    /// a `key = value` line under the table holding it; nil when not found (a key written inside
    /// an inline table, say). A plain line scan: the text has already parsed as TOML.
    static func lineOf(_ keyPath: [String], in text: String) -> Int? {
        func parts(_ s: Substring) -> [String] {
            s.split(separator: ".").map { part in
                var p = part.trimmingCharacters(in: .whitespaces)
                if p.count >= 2, let f = p.first, f == "\"" || f == "'", p.last == f { p = String(p.dropFirst().dropLast()) }
                return p
            }
        }
        var table: [String] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") {
                var body = Substring(line).drop { $0 == "[" }
                if let end = body.firstIndex(of: "]") { body = body[..<end] }
                table = parts(body)
                if table == keyPath { return n + 1 }
            } else if let eq = line.firstIndex(of: "="), !line.hasPrefix("#") {
                if table + parts(line[..<eq]) == keyPath { return n + 1 }
            }
        }
        return nil
    }
}
