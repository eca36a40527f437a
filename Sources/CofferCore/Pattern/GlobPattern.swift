/// A malformed pattern, with the pattern's bytes.
public struct PatternError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Reason: Equatable, Sendable {
        /// The pattern (or what follows its `!`) is empty.
        case empty
        /// The pattern holds a NUL byte.
        case nul
        /// A `[` without its `]`.
        case unclosedClass
        /// A `\` with nothing after it (at the end of the pattern or of a component).
        case trailingBackslash
        /// An unescaped `]` or `-` where a class needs a member (`[]`, `[-a]`, `[a-]`).
        case badClass
    }

    public let pattern: [UInt8]
    public let reason: Reason

    public var description: String {
        let why: String
        switch reason {
        case .empty: why = "it is empty"
        case .nul: why = "it holds a NUL byte"
        case .unclosedClass: why = "'[' without ']'"
        case .trailingBackslash: why = "'\\' with nothing after it"
        case .badClass: why = "unescaped ']' or '-' in a character class (write \\] or \\-)"
        }
        return "bad pattern '\(TerminalText.escape(bytes: pattern))': \(why)"
    }
}

/// One component of a pattern (between two `/`), compiled: literal units, `?`, classes and `*`.
struct ComponentGlob: Sendable {
    enum Token: Sendable {
        case unit(UInt32)
        /// `?`: any one unit.
        case any
        /// `*`: any run of units (consecutive stars are one).
        case star
        /// `[…]`: closed ranges of units, negated by a leading `!` or `^`.
        case set(ranges: [ClosedRange<UInt32>], negated: Bool)

        func matches(_ u: UInt32) -> Bool {
            switch self {
            case .unit(let v): return v == u
            case .any: return true
            case .star: return false
            case .set(let ranges, let negated): return ranges.contains { $0.contains(u) } != negated
            }
        }
    }

    static func unit(_ c: Unicode.Scalar) -> UInt32 { c.value }

    let tokens: [Token]
    /// The units to compare with when the component has no wildcard, class or escape.
    let literal: [UInt32]?

    /// Compiles the units of one component; `whole` is the pattern, for errors.
    init(_ p: [UInt32], whole: [UInt8]) throws {
        func fail(_ r: PatternError.Reason) -> PatternError { PatternError(pattern: whole, reason: r) }
        let backslash = Self.unit("\\"), open = Self.unit("["), close = Self.unit("]"), dash = Self.unit("-")
        let star = Self.unit("*"), question = Self.unit("?"), bang = Self.unit("!"), caret = Self.unit("^")
        var tokens: [Token] = []
        var plain = true
        var i = 0
        while i < p.count {
            let u = p[i]
            switch u {
            case star:
                plain = false
                if case .star? = tokens.last {} else { tokens.append(.star) }
                i += 1
            case question:
                plain = false
                tokens.append(.any)
                i += 1
            case backslash:
                plain = false
                guard i + 1 < p.count else { throw fail(.trailingBackslash) }
                tokens.append(.unit(p[i + 1]))
                i += 2
            case open:
                plain = false
                i += 1
                var negated = false
                if i < p.count && (p[i] == bang || p[i] == caret) {
                    negated = true
                    i += 1
                }
                // A class member: a unit, `\` and a unit; never an unescaped `]` or `-`.
                func member() throws -> UInt32 {
                    guard i < p.count else { throw fail(.unclosedClass) }
                    let m = p[i]
                    if m == close || m == dash { throw fail(.badClass) }
                    if m == backslash {
                        guard i + 1 < p.count else { throw fail(.trailingBackslash) }
                        i += 2
                        return p[i - 1]
                    }
                    i += 1
                    return m
                }
                var ranges: [ClosedRange<UInt32>] = []
                var members = 0
                while true {
                    guard i < p.count else { throw fail(.unclosedClass) }
                    if p[i] == close && members > 0 {
                        i += 1
                        break
                    }
                    let lo = try member()
                    var hi = lo
                    if i < p.count && p[i] == dash {
                        i += 1
                        hi = try member()
                    }
                    members += 1
                    // A reversed range matches nothing (as in Go's filepath.Match).
                    if lo <= hi { ranges.append(lo...hi) }
                }
                tokens.append(.set(ranges: ranges, negated: negated))
            default:
                tokens.append(.unit(u))
                i += 1
            }
        }
        self.tokens = tokens
        literal = plain ? p : nil
    }

    /// Whether the units of a name match, counting each comparison in `steps`. Greedy, going
    /// back only to the last `*`: at most (units + 1) × (tokens + 1) comparisons, never
    /// exponential.
    func matches(_ s: [UInt32], steps: inout Int) -> Bool {
        if let literal {
            steps += 1
            return literal == s
        }
        var t = 0, i = 0
        var starT = -1, starI = 0
        while i < s.count {
            steps += 1
            if t < tokens.count {
                if case .star = tokens[t] {
                    starT = t
                    starI = i
                    t += 1
                    continue
                }
                if tokens[t].matches(s[i]) {
                    t += 1
                    i += 1
                    continue
                }
            }
            guard starT >= 0 else { return false }
            t = starT + 1
            starI += 1
            i = starI
        }
        while t < tokens.count, case .star = tokens[t] { t += 1 }
        return t == tokens.count
    }
}

/// A compiled path pattern (restic's rules, on bytes): components separated by `/`, each a glob
/// (`*`, `?`, `[…]`, `\`), or `**` for any number of components (zero included). A leading `/`
/// anchors the pattern at the start of the path; otherwise it may start at any component. The
/// pattern matches a path when it matches a run of the path's components starting there, so a
/// pattern that matches a folder matches everything below it too. A leading `!` negates it (see
/// ``PatternSet``). Units are compared as ``PatternUnits`` describes; case-insensitive patterns
/// fold both sides with ``PatternUnits/fold(_:)``.
public struct GlobPattern: Sendable {
    enum Part: Sendable {
        case glob(ComponentGlob)
        /// `**`.
        case any
    }

    /// The pattern as given (its `!` included).
    public let bytes: [UInt8]
    /// A leading `!`.
    public let isNegated: Bool
    /// A leading `/` (after the `!`).
    public let isAnchored: Bool
    public let isCaseInsensitive: Bool
    let parts: [Part]

    /// Compiles `bytes`. Empty components and `.` are dropped and `..` removes the component
    /// before it (as Go's `filepath.Clean`, which restic applies); `..` at the start of an
    /// anchored pattern is dropped.
    /// - Throws: ``PatternError`` naming the pattern.
    public init(_ bytes: [UInt8], caseInsensitive: Bool = false) throws {
        self.bytes = bytes
        isCaseInsensitive = caseInsensitive
        guard !bytes.contains(0) else { throw PatternError(pattern: bytes, reason: .nul) }
        var body = bytes[...]
        isNegated = body.first == UInt8(ascii: "!")
        if isNegated { body = body.dropFirst() }
        guard !body.isEmpty else { throw PatternError(pattern: bytes, reason: .empty) }
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
        isAnchored = body.first == slash
        var components: [ArraySlice<UInt8>] = []
        for c in body.split(separator: slash, omittingEmptySubsequences: true) {
            if c.elementsEqual([dot]) { continue }
            if c.elementsEqual([dot, dot]) {
                if let last = components.last, !last.elementsEqual([dot, dot]) {
                    components.removeLast()
                    continue
                }
                if isAnchored { continue }
            }
            components.append(c)
        }
        // A relative pattern that cleans to nothing is `.`, which names no entry.
        if components.isEmpty && !isAnchored { components = [[dot][...]] }
        let star = UInt8(ascii: "*")
        parts = try components.map { c in
            if c.elementsEqual([star, star]) { return .any }
            return .glob(try ComponentGlob(PatternUnits.decode(c, fold: caseInsensitive), whole: bytes))
        }
    }

    /// ``init(_:caseInsensitive:)`` on the UTF-8 bytes of `text`.
    public init(_ text: String, caseInsensitive: Bool = false) throws {
        try self.init(Array(text.utf8), caseInsensitive: caseInsensitive)
    }

    /// Whether the pattern (ignoring its `!`) matches `path`.
    public func matches(_ path: [UInt8]) -> Bool {
        var steps = 0
        return matches(PatternPath(path, folded: isCaseInsensitive), steps: &steps)
    }

    /// Whether something below `path` may match (restic's `ChildMatch`): always for a pattern
    /// that is not anchored; for an anchored one, whether the path's components match the
    /// pattern's first ones, up to the first `**`.
    public func childMayMatch(_ path: [UInt8]) -> Bool {
        var steps = 0
        return childMayMatch(PatternPath(path, folded: isCaseInsensitive), steps: &steps)
    }

    /// Matching as a set of states (pattern positions) moved over the path's components once:
    /// at most components × (parts + 1) component comparisons.
    func matches(_ path: PatternPath, steps: inout Int) -> Bool {
        let s = path.components
        let m = parts.count
        var active = [Bool](repeating: false, count: m + 1)
        var next = active
        active[0] = true
        func close(_ a: inout [Bool]) {
            for j in 0..<m where a[j] {
                if case .any = parts[j] { a[j + 1] = true }
            }
        }
        close(&active)
        if active[m] { return !s.isEmpty }
        for i in s.indices {
            for j in 0...m { next[j] = false }
            if !isAnchored { next[0] = true }
            var any = false
            for j in 0..<m where active[j] {
                steps += 1
                switch parts[j] {
                case .any:
                    next[j] = true
                    any = true
                case .glob(let g):
                    if g.matches(s[i], steps: &steps) {
                        next[j + 1] = true
                        any = true
                    }
                }
            }
            close(&next)
            if next[m] { return true }
            if !any && isAnchored { return false }
            swap(&active, &next)
        }
        return false
    }

    func childMayMatch(_ path: PatternPath, steps: inout Int) -> Bool {
        guard isAnchored else { return true }
        let s = path.components
        var cut = parts.count
        if let k = parts.firstIndex(where: { if case .any = $0 { return true } else { return false } }) { cut = k }
        for i in 0..<min(s.count, cut) {
            guard case .glob(let g) = parts[i], g.matches(s[i], steps: &steps) else { return false }
        }
        return true
    }
}

/// A path prepared for matching: split on the byte `/` (empty components dropped, so a leading
/// `/` changes nothing), each component cut into ``PatternUnits``, folded or not.
public struct PatternPath: Sendable {
    let components: [[UInt32]]

    public init(_ path: [UInt8], folded: Bool) {
        components = path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).map {
            PatternUnits.decode($0, fold: folded)
        }
    }
}
