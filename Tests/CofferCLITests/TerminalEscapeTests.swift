import Foundation
import Testing

/// Names that carry terminal control sequences are printed escaped by every human-readable
/// output, and exactly by JSON.
@Suite("Terminal escapes in names")
struct TerminalEscapeTests {
    /// Bytes that must never reach a terminal from a name: ESC, BEL, and the one-byte CSI (U+009B).
    static func hasControl(_ data: Data) -> Bool {
        let bytes = [UInt8](data)
        if bytes.contains(0x1B) || bytes.contains(0x07) { return true }
        return zip(bytes, bytes.dropFirst()).contains { $0 == 0xC2 && $1 == 0x9B }
    }

    @Test("ls, diff, list, restore conflicts and seal print ESC, BEL, CSI and newlines in names escaped; --json keeps them exact")
    func namesAreEscaped() throws {
        let s = try Scratch()
        try s.initVault()
        let evil = "title\u{1B}]0;pwned\u{07}.txt"
        let clear = "\u{1B}[2J\u{9B}31mred\nnext.csv"
        try s.write("docs/plain.txt", "one")
        try s.ok(["seal", s.path("docs"), "--name", "docs"])
        try s.write("docs/" + evil, "two")
        try s.write("docs/" + clear, "three")
        let sealed = try s.run(["seal", s.path("docs"), "--name", "docs", "--tag", "t\u{1B}[5m"])
        #expect(sealed.status == 0)
        #expect(!Self.hasControl(sealed.stdoutData) && !Self.hasControl(Data(sealed.stderr.utf8)))

        let ls = try s.ok(["ls", "docs@latest"])
        #expect(!Self.hasControl(ls.stdoutData))
        #expect(ls.stdout.contains("title\\x1b]0;pwned\\x07.txt"))
        #expect(ls.stdout.contains("\\x1b[2J\\xc2\\x9b31mred\\x0anext.csv"))

        let diff = try s.ok(["diff", "docs@-1", "docs@latest"])
        #expect(!Self.hasControl(diff.stdoutData))
        #expect(diff.stdout.contains("+ docs/title\\x1b]0;pwned\\x07.txt"))
        // One line per change: the newline in the name does not start a line of its own.
        #expect(!diff.stdout.split(separator: "\n").contains { $0.hasPrefix("next.csv") })

        let list = try s.ok(["list"])
        #expect(!Self.hasControl(list.stdoutData))
        #expect(list.stdout.contains("t\\x1b[5m"))

        // An error naming the file: a restore into a folder that already holds it.
        try s.ok(["restore", "docs@latest", "--to", s.path("out")])
        let again = try s.run(["restore", "docs@latest", "--to", s.path("out")])
        #expect(again.status != 0)
        #expect(!Self.hasControl(Data(again.stderr.utf8)))
        #expect(again.stderr.split(separator: "\n").count == 1)

        // A name that starts with a combining mark is under its folder: `ls VERSION docs` lists
        // it (a character-wise prefix test saw `/` + U+0301 as no separator).
        try s.write("docs/\u{301}mark.txt", "four")
        try s.ok(["seal", s.path("docs"), "--name", "docs"])
        let under = try s.ok(["ls", "docs@latest", "docs", "--json"])
        let underDoc = try #require(try under.json() as? [String: Any])
        let underPaths = (underDoc["entries"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
        #expect(underPaths.contains { Array($0.utf8) == Array("docs/\u{301}mark.txt".utf8) })

        // JSON is exact: the encoder escapes control characters itself.
        let json = try s.ok(["ls", "docs@latest", "--json"])
        #expect(!Self.hasControl(json.stdoutData))
        let doc = try #require(try json.json() as? [String: Any])
        let paths = (doc["entries"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
        #expect(paths.contains("docs/" + evil))
        #expect(paths.contains("docs/" + clear))
    }
}
