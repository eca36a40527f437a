@testable import CofferCore
import Foundation
import Testing

/// `GlobPattern` and `PatternSet`: restic's matching rules, on bytes.
@Suite struct PatternTests {
    static func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// (pattern, path, matches): restic's rules for `Match`.
    static let table: [(String, String, Bool)] = [
        // One component: at any depth, and a matching folder matches what is below it.
        ("*.go", "/src/lib/main.go", true),
        ("*.go", "src/lib/main.go", true),
        ("*.c", "src/lib/main.go", false),
        ("*", "src/lib/main.go", true),
        ("**", "src/lib/main.go", true),
        ("lib", "src/lib/main.go", true),
        ("li*", "src/lib/main.go", true),
        ("lib", "src/library/main.go", false),
        ("main", "src/lib/main.go", false),
        ("Main.go", "src/lib/main.go", false),
        // Several components: a run of the path's components, anywhere.
        ("lib/*", "src/lib/main.go", true),
        ("lib/*.go", "src/lib/main.go", true),
        ("l?b/*.go", "src/lib/main.go", true),
        ("src/main.go", "src/lib/main.go", false),
        ("lib/main.go/x", "src/lib/main.go", false),
        ("src/lib", "a/src/lib/b/c", true),
        // Anchored.
        ("/src", "src/lib/main.go", true),
        ("/lib", "src/lib/main.go", false),
        ("/src/lib/", "src/lib/main.go", true),
        ("/src//lib", "src/lib/main.go", true),
        ("/src/*", "src", false),
        ("/src/*", "src/lib", true),
        ("/src/*.go", "src/lib/main.go", false),
        ("/src/*/main.*", "src/lib/main.go", true),
        ("/*/*/lib/main.*", "src/lib/main.go", false),
        ("/x/../src", "src/lib", true),
        ("/x/../src", "x/src", false),
        ("/../src", "src", true),
        ("/", "anything/at/all", true),
        ("./src/./lib", "src/lib", true),
        // `**`: any number of components, zero included.
        ("a/**/z/*.txt", "home/a/b/c/d/z/f.txt", true),
        ("a/**/z/*.txt", "a/z/f.txt", true),
        ("a/**/z/*.txt", "a/z/y/z/f.txt", true),
        ("a/**/z/*.txt", "a/f.txt", false),
        ("a/**/z/*.txt", "z/a/f.txt", false),
        ("a/**/z", "a/b/c/z/inside", true),
        ("a/**/z/**/q", "x/a/z/q", true),
        ("a/**/z/**/q", "x/a/1/2/z/3/4/q", true),
        ("/**/q", "a/b/q", true),
        ("/**", "a", true),
        ("/a/**", "a", true),
        ("/a/**", "b/a", false),
        ("u/**/keep*", "u/x/y/other/z", false),
        // Classes and escapes.
        ("[abc].txt", "d/b.txt", true),
        ("[abc].txt", "d/d.txt", false),
        ("[a-c].txt", "c.txt", true),
        ("[!a-c].txt", "c.txt", false),
        ("[!a-c].txt", "x.txt", true),
        ("[^a-c].txt", "x.txt", true),
        ("[z-a].txt", "m.txt", false),
        ("[\\]].txt", "].txt", true),
        ("[\\-].txt", "-.txt", true),
        ("\\*.txt", "*.txt", true),
        ("\\*.txt", "a.txt", false),
        ("\\[a].txt", "[a].txt", true),
        ("a\\?", "a?", true),
        ("a\\?", "ab", false),
        ("]", "]", true),
        // `?` is one character of a UTF-8 name.
        ("caf?.txt", "café.txt", true),
        ("caf??.txt", "café.txt", false),
        ("[é]", "é", true),
        ("[à-ï]x", "éx", true),
        ("*é*", "résumé", true),
        // `*` and `?` never cross a `/`.
        ("a*b", "a/b", false),
        ("a?b", "a/b", false),
    ]

    @Test func matchTable() throws {
        for (pattern, path, expected) in Self.table {
            let p = try GlobPattern(pattern)
            #expect(p.matches(Self.b(path)) == expected, "\(pattern) on \(path)")
        }
    }

    /// Names that are not UTF-8: a lone byte is one unit, for `?`, classes and literals.
    @Test func rawBytes() throws {
        let cafe: [UInt8] = Self.b("dir/caf") + [0xE9] + Self.b(".txt")
        #expect(try GlobPattern("caf?.txt").matches(cafe))
        #expect(try GlobPattern(Self.b("caf[") + [0xE9] + Self.b("].txt")).matches(cafe))
        #expect(try GlobPattern(Self.b("caf[") + [0x80] + Self.b("-") + [0xFF] + Self.b("].txt")).matches(cafe))
        #expect(try !GlobPattern(Self.b("caf[a-z].txt")).matches(cafe))
        #expect(try GlobPattern(Self.b("caf") + [0xE9] + Self.b("*")).matches(cafe))
        // The raw byte 0xE9 is not the character é (whose UTF-8 is C3 A9), and the reverse.
        #expect(try !GlobPattern("café.txt").matches(cafe))
        #expect(try !GlobPattern(Self.b("caf") + [0xE9] + Self.b(".txt")).matches(Self.b("café.txt")))
        // A truncated sequence is two raw bytes, so `?` takes one of them.
        let cut: [UInt8] = [0x61, 0xC3, 0x28]
        #expect(try GlobPattern("a??").matches(cut))
        #expect(try !GlobPattern("a?").matches(cut))
        // A `/` between the two bytes of what would be é: two components, never one character.
        let split: [UInt8] = [0x78, 0xC3, 0x2F, 0xA9, 0x79]
        #expect(try GlobPattern("x?/?y").matches(split))
        #expect(try GlobPattern(Self.b("/x") + [0xC3]).matches(split))
        #expect(try !GlobPattern("x?y").matches(split))
        #expect(try !GlobPattern("x*y").matches(split))
        #expect(try !GlobPattern("xéy").matches(split))
        #expect(try GlobPattern(Self.b("*/") + [0xA9] + Self.b("y")).matches(split))
    }

    @Test func caseInsensitive() throws {
        let cases: [(String, String, Bool)] = [
            ("*.JPG", "a/photo.jpg", true),
            ("/DOCS/Notes", "docs/notes/a.txt", true),
            ("[A-C]x", "bX", true),
            ("ÉTÉ", "été", true),
            ("été", "ÉTÉ", true),
            ("Σ*", "σigma", true),
            ("straße", "STRASSE", false),
        ]
        for (pattern, path, expected) in cases {
            #expect(try GlobPattern(pattern, caseInsensitive: true).matches(Self.b(path)) == expected, "\(pattern) on \(path)")
            #expect(try !GlobPattern(pattern).matches(Self.b(path)), "\(pattern) on \(path) without folding")
        }
        // Raw bytes are not folded.
        #expect(try !GlobPattern(Self.b("X") + [0xC9], caseInsensitive: true).matches(Self.b("x") + [0xE9]))
        #expect(try GlobPattern(Self.b("X") + [0xE9], caseInsensitive: true).matches(Self.b("x") + [0xE9]))
    }

    /// restic's `ChildMatch`: whether something below a folder may match.
    @Test func childMatch() throws {
        let cases: [(String, String, Bool)] = [
            ("a/b", "x", true),
            ("a", "x/y", true),
            ("*", "x", true),
            ("/a/b", "a", true),
            ("/a/b/c", "a/b", true),
            ("/a/b/c", "a/c", false),
            ("/a", "a/b", true),
            ("/b/a", "a", false),
            ("/a/**/q", "a/b/c", true),
            ("/a/**/q", "b/c", false),
            ("/a/**", "a/b/c", true),
            ("/a/*/q", "a/b", true),
            ("/a/*/q", "a/b/c", false),
            ("/a/*/q", "a/b/c/d", false),
            ("/*/b", "z", true),
            ("/b/*", "a", false),
            ("/**/x", "a/b", true),
        ]
        for (pattern, path, expected) in cases {
            #expect(try GlobPattern(pattern).childMayMatch(Self.b(path)) == expected, "\(pattern) below \(path)")
        }
    }

    /// restic's `List`/`ListWithChild`: a pattern set, `!` taking back what came before.
    @Test func setsAndNegation() throws {
        func set(_ p: [String], _ ci: Bool = false) throws -> PatternSet { try PatternSet(p.map(Self.b), caseInsensitive: ci) }
        func both(_ s: PatternSet, _ path: String) -> [Bool] {
            let r = s.matchesWithChildren(Self.b(path))
            return [r.matched, r.childMayMatch]
        }
        #expect(both(try set([]), "a/b") == [false, false])
        #expect(both(try set(["*.go"]), "a/t.go") == [true, true])
        #expect(both(try set(["*.c"]), "a/t.go") == [false, true])
        #expect(both(try set(["/*/*/b/t.*"]), "a/b/t.go") == [false, false])
        #expect(both(try set(["/*/*/b/t.*", "*.go"]), "a/b/t.go") == [true, true])
        #expect(try set(["?", "x"]).matches(Self.b("a/x")))

        let csv = try set(["*.csv", "!keep.csv"])
        #expect(csv.matches(Self.b("d/a.csv")))
        #expect(!csv.matches(Self.b("d/keep.csv")))
        #expect(!csv.matches(Self.b("d/a.txt")))
        // A later pattern matches again what a `!` took back.
        let again = try set(["*.csv", "!keep.csv", "/d/keep.csv"])
        #expect(again.matches(Self.b("d/keep.csv")))
        #expect(!again.matches(Self.b("e/keep.csv")))
        // A `!` before any pattern takes back nothing.
        #expect(try !set(["!a", "b"]).matches(Self.b("a")))
        // Child match: a `!` that matches the folder rules out what is below it.
        let home = try set(["/home/*/docs", "!/home/guest"])
        #expect(both(home, "home/guest") == [false, false])
        #expect(both(home, "home/ann") == [false, true])
        #expect(both(try set(["!A"], true), "a") == [false, false])
        #expect(try set(["*.CSV", "!KEEP*"], true).matches(Self.b("d/Data.csv")))
        #expect(try !set(["*.CSV", "!KEEP*"], true).matches(Self.b("d/keep.CSV")))
    }

    @Test func malformedPatternsAreTypedErrors() throws {
        let bad: [([UInt8], PatternError.Reason)] = [
            (Self.b("a/[bc"), .unclosedClass),
            (Self.b("a/[!"), .unclosedClass),
            (Self.b("a\\"), .trailingBackslash),
            (Self.b("a\\/b"), .trailingBackslash),
            (Self.b("[a\\"), .trailingBackslash),
            (Self.b("[]"), .badClass),
            (Self.b("[]a]"), .badClass),
            (Self.b("[-a]"), .badClass),
            (Self.b("[a-]"), .badClass),
            (Self.b(""), .empty),
            (Self.b("!"), .empty),
            ([0x61, 0x00, 0x62], .nul),
        ]
        for (pattern, reason) in bad {
            #expect(throws: PatternError(pattern: pattern, reason: reason)) { try GlobPattern(pattern) }
        }
        let e = PatternError(pattern: Self.b("x/[ab"), reason: .unclosedClass)
        #expect(e.description == "bad pattern 'x/[ab': '[' without ']'")
        #expect(throws: PatternError.self) { try PatternSet([Self.b("ok"), Self.b("**/[")]) }
    }

    /// `*a*a*a…b` on a long run of `a`: bounded work, counted, never exponential.
    @Test func hostilePatternIsBounded() throws {
        let k = 40
        let pattern = String(repeating: "*a", count: k) + "*b"
        let p = try GlobPattern(pattern)
        let name = [UInt8](repeating: UInt8(ascii: "a"), count: 5000)
        var steps = 0
        #expect(!p.matches(PatternPath(name, folded: false), steps: &steps))
        let tokens = 2 * k + 2
        #expect(steps <= (name.count + 1) * (tokens + 1) + 4, "\(steps) steps")
        #expect(steps > 0)

        // Many `**` over many components: components × parts glob calls at most.
        let deep = String(repeating: "**/a/", count: 20) + "b"
        let q = try GlobPattern(deep)
        let path = Array(repeating: "a", count: 400).joined(separator: "/")
        var s2 = 0
        #expect(!q.matches(PatternPath(Self.b(path), folded: false), steps: &s2))
        #expect(s2 <= 400 * 2 * (41 + 1) + 10, "\(s2) steps")
    }

    /// The fast matchers agree with the slow references (a table per component; restic's `**`
    /// expansion) on random patterns and paths over a small alphabet.
    @Test func fastMatchersAgreeWithTheReferences() throws {
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            return Int(x % UInt64(n))
        }
        let pieces = ["a", "b", "*", "?", "[ab]", "[!a]", "/", "**/", "/**", "\\*"]
        let pathPieces: [[UInt8]] = [[0x61], [0x62], [0x2A], [0x2F], [0xC3, 0xA9], [0xE9]]
        var checked = 0, matched = 0, components = 0
        for _ in 0..<3000 {
            let text = (0..<(1 + next(6))).map { _ in pieces[next(pieces.count)] }.joined()
            guard let p = try? GlobPattern(text) else { continue }
            let path = (0..<(1 + next(8))).flatMap { _ in pathPieces[next(pathPieces.count)] }
            let prepared = PatternPath(path, folded: false)
            var steps = 0
            let fast = p.matches(prepared, steps: &steps)
            #expect(fast == p.referenceMatches(prepared), "\(text) on \(TerminalText.escape(bytes: path))")
            for case .glob(let g) in p.parts {
                for c in prepared.components {
                    #expect(g.matches(c, steps: &steps) == g.referenceMatches(c), "\(text) component")
                    components += 1
                }
            }
            checked += 1
            if fast { matched += 1 }
        }
        #expect(checked > 2000 && matched > 200 && matched < checked - 200, "\(checked) checked, \(matched) matched")
        #expect(components > 2000)
    }

    @Test func patternFileLines() {
        let file = Self.b("# comment\n\n  *.csv  \r\n!keep.csv\n\t\n#x\n/a b\n")
        #expect(PatternSet.lines(of: file) == [Self.b("*.csv"), Self.b("!keep.csv"), Self.b("/a b")])
    }
}
