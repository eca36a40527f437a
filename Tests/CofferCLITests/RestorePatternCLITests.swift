import CofferCore
import Foundation
import Testing

/// `coffer restore --include/--exclude/--iinclude/--iexclude/--include-file/--exclude-file` on a
/// sealed tree holding a name that is not UTF-8.
@Suite struct RestorePatternCLITests {
    static let cafe: [UInt8] = Array("caf".utf8) + [0xE9] + Array(".txt".utf8)

    static func exists(_ path: [UInt8]) -> Bool {
        (path + [0]).withUnsafeBufferPointer { p in p.withMemoryRebound(to: CChar.self) { access($0.baseAddress!, F_OK) == 0 } }
    }

    /// The regular files under `dir`, relative, sorted; the raw-byte name shown as `caf\xe9.txt`.
    static func files(_ s: Scratch, _ dir: String) -> [String] {
        var out: [String] = []
        let root = s.path(dir)
        if exists(Array((root + "/data/").utf8) + cafe) { out.append("data/caf\\xe9.txt") }
        let e = FileManager.default.enumerator(atPath: root)
        while let rel = e?.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + rel, isDirectory: &isDir), !isDir.boolValue { out.append(rel) }
        }
        return out.sorted()
    }

    @Test func patternsSelectWhatRestoreWrites() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("data/a.csv", "a")
        try s.write("data/keep.csv", "k")
        try s.write("data/Notes/x.TXT", "x")
        try s.write("data/sub/y.txt", "y")
        let raw = Array(s.path("data/").utf8) + Self.cafe
        let fd = (raw + [0]).withUnsafeBufferPointer { p in p.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY, 0o644) } }
        #expect(fd >= 0)
        close(fd)
        try s.ok(["seal", s.path("data")])

        try s.ok(["restore", "data", "--to", s.path("o1"), "--include", "*.csv", "--exclude", "keep.csv"])
        #expect(Self.files(s, "o1") == ["data/a.csv"])

        try s.ok(["restore", "data", "--to", s.path("o2"), "--iinclude", "NOTES", "--iinclude", "/DATA/SUB"])
        #expect(Self.files(s, "o2") == ["data/Notes/x.TXT", "data/sub/y.txt"])

        // A pattern file (comment, blank line, spaces), a `?` on the byte 0xE9, and --iexclude.
        _ = try s.write("ex.txt", "# what to leave out\n\n  caf?.txt\n/data/sub\n")
        try s.ok(["restore", "data", "--to", s.path("o3"), "--exclude-file", s.path("ex.txt"), "--iexclude", "X.txt"])
        #expect(Self.files(s, "o3") == ["data/a.csv", "data/keep.csv"])

        // An include file holding the raw byte in a class.
        _ = try s.write("in.txt", Array("data/caf[".utf8) + [0xE9] + Array("].txt\n".utf8))
        try s.ok(["restore", "data", "--to", s.path("o4"), "--include-file", s.path("in.txt")])
        #expect(Self.files(s, "o4") == ["data/caf\\xe9.txt"])

        // `**` and a `!` include.
        try s.ok(["restore", "data", "--to", s.path("o5"), "--include", "/data/**/*.txt", "--include", "!sub"])
        #expect(Self.files(s, "o5") == ["data/caf\\xe9.txt"])

        // Nothing included: an error, nothing written.
        let none = try s.run(["restore", "data", "--to", s.path("o6"), "--include", "*.pdf"])
        #expect(none.status != 0)
        #expect(none.stderr.contains("*.pdf is not in version"))
        #expect(!s.exists("o6/data"))

        // A malformed pattern: a usage error naming it, before the vault is opened.
        let bad = try s.run(["restore", "data", "--to", s.path("o7"), "--exclude", "a/[bc"])
        #expect(bad.status == 64, "\(bad.stderr)")
        #expect(bad.stderr.contains("bad pattern 'a/[bc': '[' without ']'"))
        let missing = try s.run(["restore", "data", "--to", s.path("o7"), "--exclude-file", s.path("nope")])
        #expect(missing.status == 64 && missing.stderr.contains("cannot read pattern file"))
        #expect(!s.exists("o7"))
    }

    @Test func helpListsThePatternOptions() throws {
        let s = try Scratch()
        let help = try s.run(["restore", "--help"])
        for option in ["--include <pattern>", "--exclude <pattern>", "--iinclude <pattern>", "--iexclude <pattern>", "--include-file <file>", "--exclude-file <file>"] {
            #expect(help.stdout.contains(option), "\(option)")
        }
    }
}
