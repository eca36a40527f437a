/// A list of patterns, compiled once (restic's `List`): a path matches when a pattern without
/// `!` matches it and no later `!` pattern does. Patterns are applied in order, so a `!pattern`
/// takes back what the patterns before it matched, and a later pattern can match it again.
public struct PatternSet: Sendable {
    public let patterns: [GlobPattern]
    public let isCaseInsensitive: Bool
    private let hasNegated: Bool

    /// - Throws: ``PatternError`` for the first malformed pattern.
    public init(_ patterns: [[UInt8]], caseInsensitive: Bool = false) throws {
        self.patterns = try patterns.map { try GlobPattern($0, caseInsensitive: caseInsensitive) }
        isCaseInsensitive = caseInsensitive
        hasNegated = self.patterns.contains { $0.isNegated }
    }

    public var isEmpty: Bool { patterns.isEmpty }

    /// Whether the set matches `path`.
    public func matches(_ path: [UInt8]) -> Bool {
        matches(PatternPath(path, folded: isCaseInsensitive))
    }

    /// Whether the set matches a prepared path (prepared ``PatternPath/init(_:folded:)`` with
    /// `folded` equal to ``isCaseInsensitive``).
    public func matches(_ path: PatternPath) -> Bool {
        var steps = 0
        return evaluate(path, children: false, steps: &steps).matched
    }

    /// Whether the set matches `path`, and whether it may match something below it (restic's
    /// `ListWithChild`): a folder for which both are false can be skipped whole.
    public func matchesWithChildren(_ path: [UInt8]) -> (matched: Bool, childMayMatch: Bool) {
        matchesWithChildren(PatternPath(path, folded: isCaseInsensitive))
    }

    public func matchesWithChildren(_ path: PatternPath) -> (matched: Bool, childMayMatch: Bool) {
        var steps = 0
        return evaluate(path, children: true, steps: &steps)
    }

    func evaluate(_ path: PatternPath, children: Bool, steps: inout Int) -> (matched: Bool, childMayMatch: Bool) {
        var matched = false, child = false
        for p in patterns {
            let m = p.matches(path, steps: &steps)
            if p.isNegated {
                matched = matched && !m
                child = child && !m
            } else {
                matched = matched || m
                child = child || (!children || p.childMayMatch(path, steps: &steps))
                // Without a `!` pattern nothing can take the answer back.
                if matched && child && !hasNegated { break }
            }
        }
        return (matched, child)
    }

    /// The patterns of a pattern file: one per line (LF, a CR before it dropped), ASCII spaces
    /// and tabs around it removed; blank lines and lines starting with `#` ignored.
    public static func lines(of file: [UInt8]) -> [[UInt8]] {
        let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t"), cr = UInt8(ascii: "\r")
        var out: [[UInt8]] = []
        for line in file.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            var l = line[...]
            while let f = l.first, f == space || f == tab || f == cr { l = l.dropFirst() }
            while let b = l.last, b == space || b == tab || b == cr { l = l.dropLast() }
            if l.isEmpty || l.first == UInt8(ascii: "#") { continue }
            out.append(Array(l))
        }
        return out
    }
}
