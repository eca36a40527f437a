import Foundation

/// `list --host/--path/--tag`: which versions to show, as restic's snapshot filters.
///
/// - hosts: a version matches when its host is one of them (none given: any host);
/// - paths: a version matches when the paths it sealed contain every one given (compared as
///   bytes, after making a relative path absolute and dropping a trailing `/`);
/// - tag lists: a version matches when it has every tag of at least one list (`--tag a,b`
///   means both; `--tag a --tag b` means either).
public struct VersionFilter: Sendable {
    public var hosts: [String] = []
    public var paths: [[UInt8]] = []
    public var tagLists: [[String]] = []

    public init(hosts: [String] = [], paths: [String] = [], tagLists: [[String]] = [], workingDirectory: String = FileManager.default.currentDirectoryPath) {
        self.hosts = hosts
        self.paths = paths.map { VersionFilter.absolute(Array($0.utf8), in: Array(workingDirectory.utf8)) }
        self.tagLists = tagLists.map { $0.filter { !$0.isEmpty } }.filter { !$0.isEmpty }
    }

    /// `p` made absolute against `cwd`, without a trailing `/` (except the root).
    static func absolute(_ p: [UInt8], in cwd: [UInt8]) -> [UInt8] {
        var out = p.first == UInt8(ascii: "/") ? p : (cwd.last == UInt8(ascii: "/") ? cwd : cwd + [UInt8(ascii: "/")]) + p
        while out.count > 1, out.last == UInt8(ascii: "/") { out.removeLast() }
        return out
    }

    public var isEmpty: Bool { hosts.isEmpty && paths.isEmpty && tagLists.isEmpty }

    public func matches(_ v: Version) -> Bool {
        if !hosts.isEmpty, !hosts.contains(where: { Array($0.utf8) == v.hostBytes }) { return false }
        if !paths.isEmpty {
            let have = v.pathSet
            if !paths.allSatisfy(have.contains) { return false }
        }
        if !tagLists.isEmpty, !tagLists.contains(where: { $0.allSatisfy(v.tags.contains) }) { return false }
        return true
    }
}

/// `list --group-by host,paths,tags`: the key of a version's group, as restic's `--group-by`.
public struct VersionGroupKey: Hashable, Sendable {
    public var host: [UInt8]?
    /// Sorted by bytes.
    public var paths: [[UInt8]]?
    /// Sorted.
    public var tags: [String]?

    /// Which fields group; parsed from `host,paths,tags` (any subset, any order).
    public struct Fields: Sendable, Equatable {
        public var host = false
        public var paths = false
        public var tags = false

        public init() {}

        /// Nil for an unknown field or an empty list.
        public init?(parsing text: String) {
            let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard !parts.isEmpty else { return nil }
            for p in parts {
                switch p {
                case "host", "hosts": host = true
                case "path", "paths": paths = true
                case "tag", "tags": tags = true
                default: return nil
                }
            }
        }
    }

    public init(_ v: Version, by fields: Fields) {
        host = fields.host ? v.hostBytes : nil
        paths = fields.paths ? v.pathBytes.sorted { $0.lexicographicallyPrecedes($1) } : nil
        tags = fields.tags ? v.tags.sorted() : nil
    }

    /// `host laptop, paths /a/src, tags daily` (bytes shown escaped).
    public var description: String {
        var parts: [String] = []
        if let host { parts.append("host \(TerminalText.escape(bytes: host))") }
        if let paths { parts.append("paths " + (paths.isEmpty ? "(none)" : paths.map { TerminalText.escape(bytes: $0) }.joined(separator: ", "))) }
        if let tags { parts.append("tags " + (tags.isEmpty ? "(none)" : tags.map { TerminalText.escape($0) }.joined(separator: ","))) }
        return parts.joined(separator: ", ")
    }
}
