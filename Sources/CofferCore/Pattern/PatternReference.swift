import Foundation

/// Slow, plain versions of the two matching algorithms, for the `pattern` fuzz target and the
/// tests to compare the fast ones with: a full table for one component, and restic's
/// expansion of each `**` into zero or more `*` components tried at every offset.
extension ComponentGlob {
    /// Whether `s` matches, by a table over every (token, unit) pair.
    func referenceMatches(_ s: [UInt32]) -> Bool {
        // can[t][i]: tokens[t...] match s[i...].
        var can = [[Bool]](repeating: [Bool](repeating: false, count: s.count + 1), count: tokens.count + 1)
        can[tokens.count][s.count] = true
        for t in stride(from: tokens.count - 1, through: 0, by: -1) {
            for i in stride(from: s.count, through: 0, by: -1) {
                if case .star = tokens[t] {
                    can[t][i] = can[t + 1][i] || (i < s.count && can[t][i + 1])
                } else {
                    can[t][i] = i < s.count && tokens[t].matches(s[i]) && can[t + 1][i + 1]
                }
            }
        }
        return can[0][0]
    }
}

extension GlobPattern {
    /// restic's `match`: the first `**` becomes 0, 1, … `*` components in turn (up to the
    /// path's length), recursively; without `**`, the parts are tried against the path's
    /// components at every offset (only 0 when anchored). Exponential in the number of `**`.
    func referenceMatches(_ path: PatternPath) -> Bool {
        let s = path.components
        guard !s.isEmpty else { return false }
        func globs(_ parts: [Part]) -> Bool {
            if let k = parts.firstIndex(where: { if case .any = $0 { return true } else { return false } }) {
                let star = Part.glob(try! ComponentGlob([ComponentGlob.unit("*")], whole: []))
                var n = 0
                // restic stops at len(path) - len(pattern) + 1 stars, counting the other `**`
                // as one component each, so several `**` fail on a short path; here each may
                // take any number of components, zero included, as documented.
                while n <= s.count {
                    if globs(Array(parts[..<k]) + Array(repeating: star, count: n) + Array(parts[(k + 1)...])) { return true }
                    n += 1
                }
                return false
            }
            // No part left: restic's `/` alone matches any path; an empty relative pattern none.
            if parts.isEmpty { return isAnchored }
            guard parts.count <= s.count else { return false }
            let last = isAnchored ? 0 : s.count - parts.count
            for offset in 0...last {
                var all = true
                for (i, p) in parts.enumerated() {
                    guard case .glob(let g) = p, g.referenceMatches(s[offset + i]) else {
                        all = false
                        break
                    }
                }
                if all { return true }
            }
            return false
        }
        return globs(parts)
    }

    /// How many `**` components the pattern has.
    var doubleStars: Int { parts.filter { if case .any = $0 { return true } else { return false } }.count }
}

@_spi(Fuzzing)
extension FuzzingEntryPoints {
    /// What the `pattern` target checks for one pattern and one path: the answers of the fast
    /// matcher, its step count, the references' answers (nil when the pattern has more than
    /// three `**`, or the expansion would take too long), and whether every component match agreed with its table reference.
    public struct PatternOutcome {
        public var matches: Bool
        public var childMayMatch: Bool
        public var steps: Int
        public var reference: Bool?
        public var componentsAgree: Bool
        public var setMatches: Bool
    }

    /// About how many component comparisons ``GlobPattern/referenceMatches(_:)`` makes.
    static func referenceWork(_ components: Int, _ p: GlobPattern) -> Double {
        guard p.doubleStars <= 3 else { return .infinity }
        return pow(Double(components + 1), Double(p.doubleStars + 1)) * Double(p.parts.count + 1)
    }

    /// Compiles `pattern` (throws ``PatternError``) and matches `path` every way.
    public static func pattern(_ pattern: [UInt8], caseInsensitive: Bool, path: [UInt8]) throws -> PatternOutcome {
        let p = try GlobPattern(pattern, caseInsensitive: caseInsensitive)
        let prepared = PatternPath(path, folded: caseInsensitive)
        var steps = 0
        let m = p.matches(prepared, steps: &steps)
        let c = p.childMayMatch(prepared, steps: &steps)
        var agree = true
        // The references are slow: only where their work stays small.
        let n = prepared.components.count
        for part in p.parts where p.parts.count * n <= 1024 {
            guard case .glob(let g) = part else { continue }
            for comp in prepared.components {
                var ignored = 0
                if g.matches(comp, steps: &ignored) != g.referenceMatches(comp) { agree = false }
            }
        }
        let set = try PatternSet([pattern], caseInsensitive: caseInsensitive)
        return PatternOutcome(
            matches: m, childMayMatch: c, steps: steps, reference: referenceWork(n, p) <= 100_000 ? p.referenceMatches(prepared) : nil,
            componentsAgree: agree, setMatches: set.matches(path))
    }
}
