import CofferCore
import Foundation
import Testing

/// `coffer seal`'s options choosing what to seal: excludes, markers, sizes, file systems, path
/// lists, standard input and a command's output, followed links, empty seals.
@Suite struct SealSelectionCLITests {
    /// The paths version `version` holds, as `ls --json` gives them.
    static func paths(_ s: Scratch, _ version: String) throws -> [String] {
        let r = try s.ok(["ls", "--json", version])
        let entries = (try r.json() as? [String: Any])?["entries"] as? [[String: Any]] ?? []
        return entries.compactMap { $0["path"] as? String }
    }

    static func tree(_ s: Scratch) throws {
        try s.write("data/a.txt", "a")
        try s.write("data/b.log", "b")
        try s.write("data/Sub/c.TXT", "c")
        try s.write("data/sub2/d.log", "d")
        try s.write("data/big.bin", [UInt8](repeating: 7, count: 3000))
    }

    @Test func excludePatternsMatchTheAbsolutePath() throws {
        let s = try Scratch()
        try s.initVault()
        try Self.tree(s)
        // Unanchored, `!` takes back, anchored at / on the absolute path (an excluded folder is not entered).
        let r = try s.ok(["seal", s.path("data"), "--name", "e1", "--exclude", "*.log", "--exclude", "!d.log", "--exclude", s.path("data/Sub")])
        #expect(try Self.paths(s, "e1") == ["data", "data/a.txt", "data/big.bin", "data/sub2", "data/sub2/d.log"])
        #expect(r.stdout.contains(", 2 excluded,"), "\(r.stdout)")

        // --iexclude ignores case; a pattern file (comment, blank line); --json counts.
        try s.write("ex.txt", "# leave out\n\n  big.*\n")
        let j = try s.ok(["seal", s.path("data"), "--name", "e2", "--json", "--iexclude", "SUB", "--exclude-file", s.path("ex.txt")])
        #expect(try Self.paths(s, "e2") == ["data", "data/a.txt", "data/b.log", "data/sub2", "data/sub2/d.log"])
        #expect((try j.json() as? [String: Any])?["excluded"] as? Int == 2)
        try s.write("iex.txt", "*.LOG\n")
        try s.ok(["seal", s.path("data"), "--name", "e3", "--iexclude-file", s.path("iex.txt")])
        #expect(try Self.paths(s, "e3") == ["data", "data/Sub", "data/Sub/c.TXT", "data/a.txt", "data/big.bin", "data/sub2"])

        // A malformed pattern is a usage error before anything is written.
        let bad = try s.run(["seal", s.path("data"), "--exclude", "[a"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("'[' without ']'"))
    }

    @Test func rawByteNamesAreMatchedAsBytes() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("data/keep.txt", "k")
        let raw = Array(s.path("data/").utf8) + Array("caf".utf8) + [0xE9]
        let fd = (raw + [0]).withUnsafeBufferPointer { p in p.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY, 0o644) } }
        #expect(fd >= 0)
        close(fd)
        try s.write("ex.txt", Array("caf?\n".utf8))
        let r = try s.ok(["seal", s.path("data"), "--exclude-file", s.path("ex.txt")])
        #expect(try Self.paths(s, "data") == ["data", "data/keep.txt"])
        #expect(r.stdout.contains("1 excluded"))
    }

    @Test func markersSizesAndCaches() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("data/a.txt", "a")
        try s.write("data/skip/.nobackup", "")
        try s.write("data/skip/x", "x")
        try s.write("data/skip/deep/y", "y")
        try s.write("data/wrongtag/.nobackup", "other")
        try s.write("data/wrongtag/z", "z")
        try s.write("data/cache/CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n# a cache")
        try s.write("data/cache/blob", "c")
        try s.write("data/notcache/CACHEDIR.TAG", "no signature")
        try s.write("data/notcache/n", "n")
        try s.write("data/large", [UInt8](repeating: 1, count: 2049))
        try s.write("data/small", [UInt8](repeating: 1, count: 2048))
        try s.ok(["seal", s.path("data"), "--exclude-if-present", ".nobackup"])
        let p1 = try Self.paths(s, "data")
        #expect(p1.contains("data/skip") && p1.contains("data/skip/.nobackup"))
        #expect(!p1.contains("data/skip/x") && !p1.contains("data/skip/deep"))
        #expect(!p1.contains("data/wrongtag/z") && p1.contains("data/cache/blob"))

        // NAME:CONTENT needs the content to match; --exclude-caches needs the signature.
        try s.ok(["seal", s.path("data"), "--name", "m2", "--exclude-if-present", ".nobackup:oth", "--exclude-caches", "--exclude-larger-than", "2k"])
        let p2 = try Self.paths(s, "m2")
        #expect(!p2.contains("data/wrongtag/z") && p2.contains("data/wrongtag/.nobackup"))
        #expect(p2.contains("data/skip/x"))
        #expect(!p2.contains("data/cache/blob") && p2.contains("data/cache/CACHEDIR.TAG"))
        #expect(p2.contains("data/notcache/n"))
        #expect(!p2.contains("data/large") && p2.contains("data/small"))

        let bad = try s.run(["seal", s.path("data"), "--exclude-larger-than", "2x"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("is not a size"))
    }

    @Test func oneFileSystemKeepsTheMountFolderEmpty() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("data/a", "a")
        try FileManager.default.createDirectory(atPath: s.path("data/mnt"), withIntermediateDirectories: true)
        guard getuid() == 0, let mount = Binaries.tool("mount"), let umount = Binaries.tool("umount"),
              try Scratch.shell([mount, "-t", "tmpfs", "-o", "size=1m", "tmpfs", s.path("data/mnt")]).status == 0
        else {
            print("skipped: --one-file-system needs root and a tmpfs mount")
            return
        }
        defer { _ = try? Scratch.shell([umount, "-l", s.path("data/mnt")]) }
        try s.write("data/mnt/inside", "i")
        try s.ok(["seal", s.path("data"), "--name", "all"])
        #expect(try Self.paths(s, "all").contains("data/mnt/inside"))
        let r = try s.ok(["seal", s.path("data"), "--name", "one", "--one-file-system"])
        #expect(try Self.paths(s, "one") == ["data", "data/a", "data/mnt"])
        #expect(r.stdout.contains("1 excluded"))
    }

    @Test func filesFromListsExpandAndReadBytes() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("in/one.txt", "1")
        try s.write("in/two.txt", "2")
        try s.write("in/three.dat", "3")
        try s.write("in/star*name", "*")
        try s.write("list.txt", "# the text files\n\n  \(s.path("in"))/*.txt  \n\(s.path("in"))/nothing-*.x\n")
        let r = try s.ok(["seal", "--name", "l1", "--files-from", s.path("list.txt")])
        #expect(try Self.paths(s, "l1") == ["one.txt", "two.txt"])
        #expect(r.stderr.contains("matches nothing"))

        try s.write("verbatim.txt", "\(s.path("in/star*name"))\r\n\n\(s.path("in/three.dat"))\n")
        try s.ok(["seal", "--name", "l2", "--files-from-verbatim", s.path("verbatim.txt")])
        #expect(try Self.paths(s, "l2") == ["star*name", "three.dat"])

        try s.write("raw.bin", Array(s.path("in/one.txt").utf8) + [0] + Array(s.path("in/star*name").utf8) + [0])
        try s.ok(["seal", "--name", "l3", "--files-from-raw", s.path("raw.bin"), s.path("in/three.dat")])
        #expect(try Self.paths(s, "l3") == ["one.txt", "star*name", "three.dat"])

        try s.write("empty.txt", "# nothing\n")
        let none = try s.run(["seal", "--files-from", s.path("empty.txt")])
        #expect(none.status == 64)
    }

    /// Listed paths are bytes: a file named `raw\xff.bin` (and a folder `d\xfe`) listed in a
    /// NUL-separated list and in a verbatim list is sealed under that exact name and restores.
    @Test func listedPathsThatAreNotUTF8AreSealed() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("in/plain.txt", "plain")
        let file = Array(s.path("in/raw").utf8) + [0xFF] + Array(".bin".utf8)
        let folder = Array(s.path("in/d").utf8) + [0xFE]
        let fd = (file + [0]).withUnsafeBytes { open($0.baseAddress!.assumingMemoryBound(to: CChar.self), O_CREAT | O_WRONLY, 0o644) }
        #expect(fd >= 0)
        #expect(write(fd, "not utf-8", 9) == 9)
        close(fd)
        #expect((folder + [0]).withUnsafeBytes { mkdir($0.baseAddress!.assumingMemoryBound(to: CChar.self), 0o755) } == 0)
        try s.write("raw.list", file + [0] + Array(s.path("in/plain.txt").utf8) + [0])
        try s.ok(["seal", "--name", "raw", "--files-from-raw", s.path("raw.list")])
        try s.write("verbatim.list", folder + [0x0A] + file + [0x0A])
        try s.ok(["seal", "--name", "verbatim", "--files-from-verbatim", s.path("verbatim.list")])
        func names(_ version: String) throws -> [[UInt8]] {
            let r = try s.ok(["ls", "--json", version + "@latest"])
            let entries = (try r.json() as? [String: Any])?["entries"] as? [[String: Any]] ?? []
            return entries.map { e in
                (e["path_bytes"] as? String).flatMap { Data(base64Encoded: $0) }.map { Array($0) } ?? Array((e["path"] as? String ?? "").utf8)
            }
        }
        let rawName = Array("raw".utf8) + [0xFF] + Array(".bin".utf8)
        #expect(try names("raw") == [Array("plain.txt".utf8), rawName])
        #expect(try names("verbatim") == [[0x64, 0xFE], rawName])
        // The version records the paths as given, bytes; it restores the file under its name.
        let list = try s.ok(["list", "--json"])
        let versions = (try list.json() as? [[String: Any]]) ?? []
        #expect(versions.count == 2)
        try s.ok(["restore", "raw@latest", "--to", s.path("out")])
        let restored = Array(s.path("out/raw").utf8) + [0xFF] + Array(".bin".utf8)
        var st = stat()
        #expect((restored + [0]).withUnsafeBytes { lstat($0.baseAddress!.assumingMemoryBound(to: CChar.self), &st) } == 0)
        #expect(st.st_size == 9)
    }

    @Test func standardInputAndACommandsOutput() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("payload", "from standard input\n")
        let sh = Binaries.tool("sh")!
        let r = try Scratch.shell(
            [sh, "-c", "exec \"$0\" seal --stdin --stdin-filename db.sql < \"$1\"", Binaries.coffer, s.path("payload")],
            environment: s.environment.merging(["COFFER_VAULT": s.vault, "COFFER_PASSPHRASE": s.passphrase]) { $1 })
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try Self.paths(s, "db.sql") == ["db.sql"])
        #expect(try s.ok(["dump", "db.sql", "db.sql"]).stdout == "from standard input\n")

        // The command's output, without the passphrase in its environment.
        try s.ok(["seal", "--name", "cmd", "--stdin-from-command", "--", sh, "-c", "echo out; env | grep -c COFFER_PASSPHRASE; true"])
        #expect(try Self.paths(s, "cmd") == ["stdin"])
        #expect(try s.ok(["dump", "cmd", "stdin"]).stdout == "out\n0\n")

        // A failing command: nothing committed, its status reported.
        let before = try s.ok(["list"]).stdout
        let f = try s.run(["seal", "--name", "fail", "--stdin-from-command", "--", sh, "-c", "echo partial; exit 7"])
        #expect(f.status == 1)
        #expect(f.stderr.contains("exited with status 7") && f.stderr.contains("no version was written"))
        #expect(try s.ok(["list"]).stdout == before)

        let bad = try s.run(["seal", "--stdin", s.path("payload")])
        #expect(bad.status == 64)
    }

    @Test func aLinkWithATrailingSlashIsFollowed() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("docs/a.md", "a")
        #expect(symlink(s.path("docs"), s.path("docs-link")) == 0)
        try s.ok(["seal", s.path("docs-link") + "/"])
        #expect(try Self.paths(s, "docs-link") == ["docs-link", "docs-link/a.md"])
        // Without the slash the link itself is sealed: no file, so exit 3 unless --allow-empty.
        let link = try s.run(["seal", "--name", "link", s.path("docs-link")])
        #expect(link.status == 3)
        #expect(link.stderr.contains("nothing to seal"))
        #expect(try s.run(["ls", "link"]).status != 0)
        try s.ok(["seal", "--name", "link", "--allow-empty", s.path("docs-link")])
        #expect(try Self.paths(s, "link") == ["docs-link"])
    }

    @Test func everythingExcludedWritesNothing() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("data/a", "a")
        let r = try s.run(["seal", s.path("data"), "--exclude", "a"])
        #expect(r.status == 3)
        #expect(r.stderr.contains("(1 excluded)"))
        #expect(try s.ok(["list", "--json"]).stdout.contains("\"name\"") == false)
    }
}
