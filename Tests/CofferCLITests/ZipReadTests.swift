// ZipReadTests.swift: zips read the way other tools read them (odd zips written byte by byte
// in OddZip.swift), and what restore --expand and cat report about them.

import CofferExports
import Foundation
import Testing

@Suite("Zip reading")
struct ZipReadTests {
    /// A scratch vault holding `zip` sealed as `name`, and the version's name.
    func sealed(_ zip: [UInt8], name: String = "odd.zip") throws -> Scratch {
        let s = try Scratch()
        try s.initVault()
        try s.write("in/" + name, zip)
        try s.ok(["seal", s.path("in/" + name)])
        return s
    }

    static let text = Array(String(repeating: "the quick brown fox jumps over the lazy dog\n", count: 40).utf8)

    @Test("faults in the original zip are its own: written as unzip writes them, with the member's name, not vault damage")
    func originalFaults() throws {
        var trailing2 = OddMember.deflatedBlock("trail2.txt", Self.text)
        trailing2.data += [0, 0]
        var trailing16 = OddMember.deflatedBlock("trail16.txt", Self.text)
        trailing16.data += [UInt8](repeating: 7, count: 16)
        var badStored = OddMember.stored("badcrc-stored.txt", Array("stored content\n".utf8))
        badStored.crc32 ^= 0xFFFF
        var badDeflated = try OddMember.deflated("badcrc-deflated.txt", Self.text)
        badDeflated.crc32 ^= 1
        let zip = OddZip.build([trailing2, trailing16, badStored, badDeflated, .stored("fine.txt", Array("fine\n".utf8))])
        let s = try sealed(zip)
        // The zip itself comes back byte for byte.
        try s.ok(["restore", "odd.zip@latest", "--to", s.path("whole")])
        #expect(try s.read("whole/odd.zip") == zip)

        let r = try s.run(["restore", "odd.zip@latest", "--to", s.path("out"), "--expand"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stderr.contains("damaged"))
        #expect(r.stdout.contains("5 files"), "\(r.stdout)")
        #expect(try s.read("out/odd/trail2.txt") == Self.text)
        #expect(try s.read("out/odd/trail16.txt") == Self.text)
        #expect(try s.read("out/odd/badcrc-stored.txt") == Array("stored content\n".utf8))
        #expect(try s.read("out/odd/badcrc-deflated.txt") == Self.text)
        for (member, what) in [
            ("trail2.txt", "2 bytes follow the end of its deflate stream"), ("trail16.txt", "16 bytes follow the end of its deflate stream"),
            ("badcrc-stored.txt", "CRC-32"), ("badcrc-deflated.txt", "CRC-32"),
        ] {
            let line = r.stderr.split(separator: "\n").first { $0.contains("'\(member)'") }
            #expect(line?.contains(what) == true, "\(member): \(r.stderr)")
            #expect(line?.contains("original archive's own fault") == true)
        }
        #expect(!r.stderr.contains("fine.txt"))
        #expect(!r.stderr.contains("encrypted"), "a stored member with a wrong CRC-32 is not called encrypted")

        // cat writes the member as unzip does, says why on stderr, exits 3.
        let cat = try s.run(["cat", "odd.zip@latest", "odd.zip/badcrc-stored.txt"])
        #expect(cat.status == 3)
        #expect(Array(cat.stdoutData) == Array("stored content\n".utf8))
        #expect(cat.stderr.contains("CRC-32"))
        let clean = try s.run(["cat", "odd.zip@latest", "odd.zip/fine.txt"])
        #expect(clean.status == 0 && clean.stdout == "fine\n")
    }

    @Test("a stored member whose sizes differ is written as its stored bytes and said to be what it is")
    func storedSizeMismatch() throws {
        var m = OddMember.stored("short.txt", Array("0123456789".utf8))
        m.uncompressedSize = 4
        var bz = OddMember.stored("packed.bz2", Array("BZh9".utf8))
        bz.method = 12
        let s = try sealed(OddZip.build([m, bz]))
        let r = try s.run(["restore", "odd.zip@latest", "--to", s.path("out"), "--expand"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try s.read("out/odd/short.txt") == Array("0123456789".utf8))
        #expect(r.stderr.contains("uncompressed size is 4 bytes"), "\(r.stderr)")
        #expect(r.stderr.contains("'packed.bz2' not written: compressed with bzip2 (method 12)"), "\(r.stderr)")
    }

    @Test("expand goes on past a member it cannot write, lists the failures at the end and exits 3")
    func expandKeepsGoing() throws {
        let long = String(repeating: "n", count: 300)
        let zip = OddZip.build([
            .stored("x", Array("file x\n".utf8)), .stored("x/y", Array("below a file\n".utf8)), .stored(long, Array("long\n".utf8)),
            .stored("z.txt", Array("last\n".utf8)),
        ])
        let s = try sealed(zip)
        let r = try s.run(["restore", "odd.zip@latest", "--to", s.path("out"), "--expand"])
        #expect(r.status == 3, "\(r.stdout)\(r.stderr)")
        #expect(try s.read("out/odd/x") == Array("file x\n".utf8))
        #expect(try s.read("out/odd/z.txt") == Array("last\n".utf8))
        #expect(r.stdout.contains("2 files"), "\(r.stdout)")
        #expect(r.stderr.contains("2 entries could not be restored"), "\(r.stderr)")
        #expect(r.stderr.contains("odd/x/y"))
        #expect(r.stderr.contains(long))
    }

    @Test("member names follow the central directory and its Unicode path field; WinZip backslashes are separators")
    func names() throws {
        let rawFolder = Array("a/".utf8), rawFile = Array("a\\b.txt".utf8)
        var folder = OddMember.stored("a/", [])
        folder.name = rawFolder
        folder.versionMadeBy = 0x003F  // MS-DOS host, WinZip
        folder.centralExtra = OddZip.unicodePath("ä\\", raw: rawFolder)
        var file = OddMember.stored("x", Array("in ä\n".utf8))
        file.name = rawFile
        file.versionMadeBy = 0x003F
        file.centralExtra = OddZip.unicodePath("ä\\b.txt", raw: rawFile)
        var dos = OddMember.stored("dir\\c.txt", Array("dos\n".utf8))
        dos.versionMadeBy = 0x0014
        // A Unicode path only in the local header: the central directory's name wins.
        var localOnly = OddMember.stored("plain.txt", Array("plain\n".utf8))
        localOnly.localExtra = OddZip.unicodePath("other.txt", raw: Array("plain.txt".utf8))
        let zip = OddZip.build([folder, file, dos, localOnly])
        let layout = try ZipLayout.parse(zip)
        #expect(layout.members.map(\.name) == ["ä/", "ä/b.txt", "dir/c.txt", "plain.txt"])

        let s = try sealed(zip)
        try s.ok(["restore", "odd.zip@latest", "--to", s.path("out"), "--expand"])
        #expect(try s.read("out/odd/ä/b.txt") == Array("in ä\n".utf8))
        #expect(try s.read("out/odd/dir/c.txt") == Array("dos\n".utf8))
        #expect(try s.read("out/odd/plain.txt") == Array("plain\n".utf8))
        #expect(!s.exists("out/odd/ä\\"))
    }

    @Test("a cut-short comment does not lead to an end record it hides")
    func truncatedComment() throws {
        let real = OddZip.build([.stored("real.txt", Array("real\n".utf8))])
        // The real end record says its comment has 200 bytes; the file ends 30 bytes into it,
        // and those bytes hold an end record (of an empty zip) whose comment ends at the end.
        var hidden: [UInt8] = []
        hidden.le32(0x0605_4B50)
        hidden += [UInt8](repeating: 0, count: 16)
        hidden.le16(8)
        let zip = Array(real.dropLast(2)) + [200, 0] + hidden + [UInt8](repeating: 0x20, count: 8)
        let layout = try ZipLayout.parse(zip)
        #expect(layout.members.map(\.name) == ["real.txt"])
        #expect(layout.comment == hidden + [UInt8](repeating: 0x20, count: 8))

        let s = try sealed(zip)
        try s.ok(["restore", "odd.zip@latest", "--to", s.path("whole")])
        #expect(try s.read("whole/odd.zip") == zip)
        try s.ok(["restore", "odd.zip@latest", "--to", s.path("out"), "--expand"])
        #expect(try s.read("out/odd/real.txt") == Array("real\n".utf8))
    }

    @Test("member times: the UT field (UTC) when present, else the DOS time as local time (a zone behind UTC); Unix modes survive --expand")
    func timesAndModes() throws {
        var ut = OddMember.stored("ut.sh", Array("#!/bin/sh\n".utf8))
        ut.centralExtra = OddZip.extendedTimestamp(1_600_000_000)
        ut.externalAttributes = 0o100755 << 16
        var dos = OddMember.stored("dos.txt", Array("dos\n".utf8))
        dos.externalAttributes = 0o100640 << 16
        var windows = OddMember.stored("win.txt", Array("win\n".utf8))
        windows.versionMadeBy = 0x0014
        windows.externalAttributes = 0o100777 << 16  // not Unix: ignored
        // Sealed where local time is five hours behind UTC (a POSIX zone: no tz database needed),
        // so reading the DOS time as UTC would be caught.
        let s = try Scratch()
        try s.initVault()
        try s.write("in/odd.zip", OddZip.build([ut, dos, windows]))
        let seal = try s.run(["seal", s.path("in/odd.zip")], environment: ["TZ": "EST5"])
        #expect(seal.status == 0, "\(seal.stderr)")
        // The DOS time 2021-03-04 05:06:08 as local time there: 10:06:08 UTC.
        let local = 1_614_852_368
        try s.ok(["restore", "odd.zip@latest", "--to", s.path("out"), "--expand"])
        func info(_ p: String) -> stat {
            var st = stat()
            _ = lstat(s.path(p), &st)
            return st
        }
        #expect(info("out/odd/ut.sh").st_mtim.tv_sec == 1_600_000_000)
        #expect(info("out/odd/ut.sh").st_mode & 0o7777 == 0o755)
        #expect(info("out/odd/dos.txt").st_mtim.tv_sec == local)
        #expect(info("out/odd/dos.txt").st_mode & 0o7777 == 0o640)
        #expect(info("out/odd/win.txt").st_mode & 0o7777 == 0o644)
    }
}

@Suite("Zip reporting")
struct ZipReportingTests {
    /// The bytes of every regular file in the vault folder.
    static func vaultBytes(_ s: Scratch) throws -> UInt64 {
        var total: UInt64 = 0
        let e = FileManager.default.enumerator(atPath: s.vault)
        while let relative = e?.nextObject() as? String {
            var st = stat()
            if lstat(s.vault + "/" + relative, &st) == 0, st.st_mode & S_IFMT == S_IFREG { total += UInt64(st.st_size) }
        }
        return total
    }

    static func addedBytes(_ json: Any) -> UInt64? {
        if let d = json as? [String: Any] {
            if let n = d["added_bytes"] as? NSNumber { return n.uint64Value }
            for v in d.values { if let n = addedBytes(v) { return n } }
        }
        return nil
    }

    @Test("ADDED counts every byte a seal writes: a second seal of the same zip reports exactly what the vault grew by")
    func addedIsTheVaultsGrowth() throws {
        let members = try (0..<300).map { i in try OddMember.deflated("m\(i).txt", Array("member \(i)\n".utf8) + ZipReadTests.text) }
        let s = try Scratch()
        try s.initVault()
        try s.write("in/same.zip", OddZip.build(members))
        for round in 0..<2 {
            let before = try Self.vaultBytes(s)
            let r = try s.ok(["seal", "--json", s.path("in/same.zip")])
            let grown = try Self.vaultBytes(s) - before
            let reported = Self.addedBytes(try r.json())
            #expect(reported == grown, "round \(round): reported \(String(describing: reported)), the vault grew by \(grown)")
            if round == 1 { #expect(grown > 0, "a version and a head are written even when nothing else is") }
        }
        let list = try s.ok(["list"])
        #expect(!list.stdout.contains(" 0 B "), "\(list.stdout)")
    }

    @Test("the seal's reported time is the command's wall time (a slow passphrase command counts)")
    func sealTimeIsWallTime() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("in/a.zip", OddZip.build([.stored("a.txt", Array("a\n".utf8))]))
        let command = "sleep 1.5; printf '%s\\n' '\(s.passphrase)'"
        let r = try s.run(["seal", "--json", "--passphrase-command", command, s.path("in/a.zip")], usePassphrase: false)
        #expect(r.status == 0, "\(r.stderr)")
        let seconds = (try r.json() as? [String: Any])?["duration_seconds"] as? Double
        #expect((seconds ?? 0) >= 1.5, "\(String(describing: seconds))")
    }

    @Test("restore --expand reports the member files it wrote")
    func expandCountsMembers() throws {
        let members = (0..<26).map { OddMember.stored("f\($0).txt", Array("\($0)\n".utf8)) } + [OddMember.stored("folder/", [])]
        let s = try Scratch()
        try s.initVault()
        try s.write("in/many.zip", OddZip.build(members))
        try s.ok(["seal", s.path("in/many.zip")])
        let r = try s.ok(["restore", "many.zip@latest", "--to", s.path("out"), "--expand"])
        #expect(r.stdout.contains(": 26 files,"), "\(r.stdout)")
        let j = try s.ok(["restore", "many.zip@latest", "--to", s.path("out2"), "--expand", "--json"])
        #expect((try j.json() as? [String: Any])?["files"] as? Int == 26)
    }

    @Test("ls marks a zip as an archive and says how each member is stored")
    func lsShowsStorage() throws {
        let s = try Scratch()
        try s.initVault()
        let zip = OddZip.build([
            try .deflated("reproduced.txt", ZipReadTests.text), .deflatedBlock("kept.txt", ZipReadTests.text), .stored("stored.txt", Array("s\n".utf8)),
            .stored("dir/", []),
        ])
        try s.write("in/kinds.zip", zip)
        try s.ok(["seal", s.path("in/kinds.zip")])
        let r = try s.ok(["ls", "--json", "kinds.zip@latest"])
        let entries = try #require((try r.json() as? [String: Any])?["entries"] as? [[String: Any]])
        func entry(_ path: String) -> [String: Any]? { entries.first { $0["path"] as? String == path } }
        #expect(entry("kinds.zip")?["type"] as? String == "archive")
        #expect(entry("kinds.zip/reproduced.txt")?["storage"] as? String == "reproduced")
        #expect(entry("kinds.zip/kept.txt")?["storage"] as? String == "kept-compressed")
        #expect(entry("kinds.zip/stored.txt")?["storage"] as? String == "stored")
        #expect(entry("kinds.zip/dir")?["storage"] == nil)
        let long = try s.ok(["ls", "--long", "kinds.zip@latest"])
        let lines = long.stdout.split(separator: "\n")
        #expect(lines.first?.contains("STORAGE") == true)
        #expect(lines.contains { $0.contains(" archive ") && $0.hasSuffix("kinds.zip") })
        #expect(lines.contains { $0.contains(" reproduced ") && $0.hasSuffix("reproduced.txt") })
        #expect(lines.contains { $0.contains(" kept-compressed ") && $0.hasSuffix("kept.txt") })
        #expect(lines.contains { $0.contains(" stored ") && $0.hasSuffix("stored.txt") })
    }
}

@Suite("Zip64")
struct Zip64Tests {
    @Test("a zip64 zip (every size and offset in zip64 fields) is stored member by member and comes back byte for byte")
    func smallZip64() throws {
        let zip = Zip64Zip.bytes([
            .init(name: "a.txt", size: 6, content: Array("hello\n".utf8)), .init(name: "zeros.bin", size: 100_000, content: nil),
            .init(name: "b.txt", size: 3, content: Array("b!\n".utf8)),
        ])
        let layout = try ZipLayout.parse(zip)
        #expect(layout.isZip64 && layout.members.map(\.name) == ["a.txt", "zeros.bin", "b.txt"])
        let s = try Scratch()
        try s.initVault()
        try s.write("in/z64.zip", zip)
        try s.ok(["seal", s.path("in/z64.zip")])
        let ls = try s.ok(["ls", "--json", "z64.zip@latest"])
        let entries = try #require((try ls.json() as? [String: Any])?["entries"] as? [[String: Any]])
        #expect(entries.first { $0["path"] as? String == "z64.zip" }?["type"] as? String == "archive")
        try s.ok(["restore", "z64.zip@latest", "--to", s.path("out")])
        #expect(try s.read("out/z64.zip") == zip)
        let cat = try s.ok(["cat", "z64.zip@latest", "z64.zip/b.txt"])
        #expect(cat.stdout == "b!\n")
    }

    /// Over 4 GiB, written sparsely: about two minutes to seal in a debug build, so it runs only
    /// with COFFER_TEST_BIG_ZIP=1 (`make test-bigzip`).
    @Test(
        "a zip64 zip over 4 GiB is stored member by member with bounded memory",
        .enabled(if: ProcessInfo.processInfo.environment["COFFER_TEST_BIG_ZIP"] == "1"))
    func zip64OverFourGiB() throws {
        let s = try Scratch()
        try s.initVault()
        try FileManager.default.createDirectory(atPath: s.path("in"), withIntermediateDirectories: true)
        let members: [Zip64Zip.Member] = [
            .init(name: "first.txt", size: 6, content: Array("first\n".utf8)), .init(name: "zeros-a.bin", size: 5 << 29, content: nil),
            .init(name: "zeros-b.bin", size: 4 << 29, content: nil), .init(name: "last.txt", size: 5, content: Array("last\n".utf8)),
        ]
        try Zip64Zip.writeSparse(members, to: s.path("in/big.zip"))
        let r = try s.run(
            ["seal", "--json", s.path("in/big.zip")], wrapper: ["/usr/bin/time", "-f", "coffer-peak-rss-kib %M"], timeout: 1800)
        #expect(r.status == 0, "\(r.stderr)")
        let peak = r.stderr.split(separator: "\n").compactMap { $0.hasPrefix("coffer-peak-rss-kib ") ? Int($0.split(separator: " ")[1]) : nil }.last
        #expect((peak ?? .max) < 256 * 1024, "peak RSS \(String(describing: peak)) KiB")
        let ls = try s.ok(["ls", "--json", "big.zip@latest"])
        let entries = try #require((try ls.json() as? [String: Any])?["entries"] as? [[String: Any]])
        #expect(entries.first { $0["path"] as? String == "big.zip" }?["type"] as? String == "archive")
        #expect(entries.first { $0["path"] as? String == "big.zip/zeros-b.bin" }?["storage"] as? String == "stored")
        let cat = try s.ok(["cat", "big.zip@latest", "big.zip/last.txt"])
        #expect(cat.stdout == "last\n")
    }
}
