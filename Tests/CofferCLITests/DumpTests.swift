import CScan
import Foundation
import Testing

/// `coffer dump`: a file's bytes; a folder or a whole version as a pax tar stream (read back
/// with GNU tar) or a zip stream (read back with unzip, zipinfo and Python's zipfile).
@Suite("dump")
struct DumpTests {
    static let isRoot = getuid() == 0
    /// A 200-byte name, in a folder four levels down.
    static let longName = String(repeating: "n", count: 196) + ".txt"
    static let deep = "data/d1/d2/d3/d4/"
    /// Device 1,3 (/dev/null), as Linux encodes small major and minor numbers.
    static let nullDevice = dev_t(1 << 8 | 3)

    /// A vault holding one version `data` of a folder with every kind of entry: files, a zip
    /// sealed member by member, a long name in a deep folder, a name that is not UTF-8, a
    /// symbolic link, a hard link, a named pipe, an extended attribute with binary bytes, a
    /// nanosecond mtime, another owner and a character device (root only).
    func sealed() throws -> Scratch? {
        guard let generator = Binaries.exportGenerator else {
            Issue.record("export-generator is not built next to coffer")
            return nil
        }
        let s = try Scratch()
        try s.write("data/a.txt", "hello\n")
        try s.write("data/sub/big.bin", pseudoRandomBytes(count: 300_000, seed: 7))
        try s.write(Self.deep + Self.longName, "long\n")
        // A name that is not UTF-8 ("caf\xE9.txt").
        let latin1 = Array(s.path("data/caf").utf8) + [0xE9] + Array(".txt".utf8)
        let raw = latin1.withUnsafeBufferPointer { p -> Int32 in
            var name = Array(p) + [0]
            return name.withUnsafeMutableBufferPointer { open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_WRONLY | O_CREAT, 0o640) }
        }
        try #require(raw >= 0)
        _ = write(raw, "latin1", 6)
        close(raw)
        try #require(symlink("../a.txt", s.path("data/sub/link")) == 0)
        try #require(link(s.path("data/a.txt"), s.path("data/sub/hard.txt")) == 0)
        try #require(mkfifo(s.path("data/fifo"), 0o600) == 0)
        let value: [UInt8] = [0x76, 0x00, 0xFF, 0x0A]
        try #require(setxattr(s.path("data/a.txt"), "user.dump", value, value.count, 0) == 0, "setxattr: \(String(cString: strerror(errno)))")
        var times = [timespec(tv_sec: 1_614_834_367, tv_nsec: 123_456_789), timespec(tv_sec: 1_614_834_367, tv_nsec: 123_456_789)]
        try #require(utimensat(AT_FDCWD, s.path("data/sub/big.bin"), &times, 0) == 0)
        if Self.isRoot {
            try #require(chown(s.path("data/sub/big.bin"), 1234, 5678) == 0)
            try #require(mknod(s.path("data/null"), S_IFCHR | 0o644, Self.nullDevice) == 0)
        }
        let gen = try Scratch.shell([generator, "--out", s.path("gen"), "--months", "1", "--seed", "3", "--quiet"])
        try #require(gen.status == 0, "\(gen.stderr)")
        let zip = try #require(try FileManager.default.contentsOfDirectory(atPath: s.path("gen")).first { $0.hasSuffix(".zip") })
        try FileManager.default.moveItem(atPath: s.path("gen/" + zip), toPath: s.path("data/Export.zip"))
        // Folder times last: making their contents changed them.
        var old = [timespec(tv_sec: 1_600_000_000, tv_nsec: 5), timespec(tv_sec: 1_600_000_000, tv_nsec: 5)]
        for dir in ["data/sub", Self.deep, "data"] { try #require(utimensat(AT_FDCWD, s.path(dir), &old, 0) == 0) }
        try s.initVault()
        try s.ok(["seal", "--name", "data", s.path("data")])
        let ls = try s.ok(["ls", "data@latest"])
        try #require(ls.stdout.contains("data/Export.zip/Connections.csv"), "the zip is sealed member by member: \(ls.stdout)")
        return s
    }

    /// Compares two trees entry by entry (Python, on raw-byte names): names, types, modes,
    /// owners, mtimes (ns), sizes and contents, link targets, extended attributes, and which
    /// names share an inode. Returns the differences, one a line.
    static func compareTrees(_ a: String, _ b: String, mtimes: Bool = true, xattrs: Bool = true) throws -> String {
        let script = """
            import os, stat, sys
            a, b, mtimes, xattrs = os.fsencode(sys.argv[1]), os.fsencode(sys.argv[2]), sys.argv[3] == "1", sys.argv[4] == "1"
            def walk(root):
                out = {b".": root}
                for d, dirs, files in os.walk(root):
                    for n in dirs + files:
                        p = os.path.join(d, n)
                        out[os.path.relpath(p, root)] = p
                return out
            A, B = walk(a), walk(b)
            errs = []
            if set(A) != set(B): errs.append("names differ: %r" % sorted(set(A) ^ set(B)))
            ia, ib = {}, {}
            for rel in sorted(set(A) & set(B)):
                sa, sb = os.lstat(A[rel]), os.lstat(B[rel])
                for f in ("st_mode", "st_uid", "st_gid", "st_rdev"):
                    if getattr(sa, f) != getattr(sb, f): errs.append("%r %s %o != %o" % (rel, f, getattr(sa, f), getattr(sb, f)))
                if mtimes and not stat.S_ISLNK(sa.st_mode) and sa.st_mtime_ns != sb.st_mtime_ns:
                    errs.append("%r mtime %d != %d" % (rel, sa.st_mtime_ns, sb.st_mtime_ns))
                if stat.S_ISREG(sa.st_mode):
                    if open(A[rel], "rb").read() != open(B[rel], "rb").read(): errs.append("%r content differs" % rel)
                    ia.setdefault(sa.st_ino, set()).add(rel); ib.setdefault(sb.st_ino, set()).add(rel)
                if stat.S_ISLNK(sa.st_mode) and os.readlink(A[rel]) != os.readlink(B[rel]): errs.append("%r link target differs" % rel)
                if xattrs and not stat.S_ISLNK(sa.st_mode):
                    xa = {k: os.getxattr(A[rel], k) for k in os.listxattr(A[rel])}
                    xb = {k: os.getxattr(B[rel], k) for k in os.listxattr(B[rel])}
                    if xa != xb: errs.append("%r xattrs %r != %r" % (rel, xa, xb))
            if sorted(map(sorted, ia.values())) != sorted(map(sorted, ib.values())):
                errs.append("hard links differ: %r != %r" % (sorted(map(sorted, ia.values())), sorted(map(sorted, ib.values()))))
            print("\\n".join(errs))
            """
        let r = try Scratch.shell(["/usr/bin/python3", "-c", script, a, b, mtimes ? "1" : "0", xattrs ? "1" : "0"])
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("a file, a hard link and a zip member come out as their bytes; the zip as its original bytes")
    func files() throws {
        guard let s = try sealed() else { return }
        #expect(try s.ok(["dump", "data@latest", "data/sub/big.bin"]).stdoutData == Data(try s.read("data/sub/big.bin")))
        #expect(try s.ok(["dump", "data@latest", "data/sub/hard.txt"]).stdout == "hello\n")
        #expect(try s.ok(["dump", "data@latest", "data/Export.zip"]).stdoutData == Data(try s.read("data/Export.zip")))
        let member = try s.ok(["dump", "data@latest", "data/Export.zip/Connections.csv"]).stdoutData
        let unzip = try Scratch.shell(["/usr/bin/unzip", "-p", s.path("data/Export.zip"), "Connections.csv"])
        #expect(!member.isEmpty && member == unzip.stdoutData)
        // A version sealed from one file dumps as that file, unless a stream format is asked for.
        try s.ok(["seal", "--name", "one", s.path("data/Export.zip")])
        #expect(try s.ok(["dump", "one@latest"]).stdoutData == Data(try s.read("data/Export.zip")))
        try s.ok(["dump", "one@latest", "--archive", "tar", "--target", s.path("one.tar")])
        #expect(try Scratch.shell(["/usr/bin/tar", "-tf", s.path("one.tar")]).stdout == "Export.zip\n")
    }

    @Test("a folder as tar: GNU tar extracts names, links, modes, times, owners, xattrs, hard links and a named pipe")
    func tarReadBack() throws {
        guard let s = try sealed() else { return }
        let tar = try s.ok(["dump", "data@latest", "data", "--target", s.path("data.tar")])
        #expect(tar.stdout.isEmpty)
        try FileManager.default.createDirectory(atPath: s.path("x"), withIntermediateDirectories: true)
        let x = try Scratch.shell([
            "/usr/bin/tar", "-x", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-p", "-f", s.path("data.tar"), "-C", s.path("x"),
        ])
        #expect(x.status == 0, "\(x.stderr)")
        let differences = try Self.compareTrees(s.path("data"), s.path("x/data"))
        #expect(differences == "", "\(differences)")
        #expect(s.exists("x/" + Self.deep + Self.longName))
        var st = stat()
        #expect(lstat(s.path("x/data/fifo"), &st) == 0 && st.st_mode & S_IFMT == S_IFIFO)
        if Self.isRoot {
            #expect(lstat(s.path("x/data/sub/big.bin"), &st) == 0 && st.st_uid == 1234 && st.st_gid == 5678)
            #expect(lstat(s.path("x/data/null"), &st) == 0 && st.st_mode & S_IFMT == S_IFCHR && st.st_rdev == Self.nullDevice)
        }
        // Not root: the other owner and the device were not made, so they are not checked.
        // A subfolder has its own name as the top component; the hard link to a file outside it
        // comes as a file.
        let sub = try s.ok(["dump", "data@latest", "data/sub/"]).stdoutData
        try sub.write(to: URL(fileURLWithPath: s.path("sub.tar")))
        let list = try Scratch.shell(["/usr/bin/tar", "-tvf", s.path("sub.tar")])
        let lines = list.stdout.split(separator: "\n")
        #expect(lines.count == 4 && lines.allSatisfy { $0.contains(" sub/") }, "\(list.stdout)")
        #expect(lines.contains { $0.hasPrefix("-") && $0.hasSuffix(" sub/hard.txt") }, "\(list.stdout)")
    }

    @Test("the whole version as tar: the sealed folder is the top component")
    func wholeVersion() throws {
        guard let s = try sealed() else { return }
        let out = try s.ok(["dump", "data@latest"]).stdoutData
        try out.write(to: URL(fileURLWithPath: s.path("all.tar")))
        let list = try Scratch.shell(["/usr/bin/tar", "-tf", s.path("all.tar")])
        #expect(list.status == 0, "\(list.stderr)")
        let names = list.stdout.split(separator: "\n")
        #expect(names.first == "data/")
        #expect(names.contains("data/sub/hard.txt") && names.contains("data/Export.zip"))
        #expect(names.allSatisfy { $0.hasPrefix("data/") })
    }

    @Test("a folder as zip: unzip, zipinfo and Python read names, modes, times, links and contents")
    func zipReadBack() throws {
        guard let s = try sealed() else { return }
        let r = try s.ok(["dump", "data@latest", "data", "--archive", "zip", "--target", s.path("data.zip")])
        #expect(r.stderr.contains("left out of the zip"), "one note for the named pipe and device: \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").filter { $0.contains("left out") }.count == 1)
        let test = try Scratch.shell(["/usr/bin/unzip", "-t", s.path("data.zip")])
        #expect(test.status == 0 && test.stdout.contains("No errors detected"), "\(test.stdout)\(test.stderr)")
        let info = try Scratch.shell(["/usr/bin/zipinfo", s.path("data.zip")])
        #expect(info.stdout.contains("lrwxrwxrwx") && info.stdout.contains("unx"), "\(info.stdout)")
        #expect(info.stdout.contains("drwxr-xr-x"), "\(info.stdout)")
        let py = try Scratch.shell(["/usr/bin/python3", "-c", """
            import zipfile, sys, os, stat, datetime
            src = os.fsencode(sys.argv[2])
            z = zipfile.ZipFile(sys.argv[1])
            errs = []
            for i in z.infolist():
                raw = i.filename.encode("utf-8") if i.flag_bits & 0x800 else i.filename.encode("cp437")
                p = os.path.join(os.path.dirname(src), raw.rstrip(b"/"))
                st = os.lstat(p)
                if i.external_attr >> 16 != st.st_mode: errs.append("%r mode %o != %o" % (raw, i.external_attr >> 16, st.st_mode))
                if i.create_system != 3: errs.append("%r made by %d" % (raw, i.create_system))
                data = z.read(i)
                if stat.S_ISREG(st.st_mode) and data != open(p, "rb").read(): errs.append("%r content" % raw)
                if stat.S_ISLNK(st.st_mode) and data != os.readlink(p): errs.append("%r link" % raw)
                ut = [i.extra[k+5:k+9] for k in range(len(i.extra)) if i.extra[k:k+2] == b"UT"]
                if not ut or int.from_bytes(ut[0], "little") != int(st.st_mtime): errs.append("%r UT mtime" % raw)
                if (i.flag_bits & 0x800 != 0) != (b"\\xe9" not in raw): errs.append("%r UTF-8 flag" % raw)
            print(len(z.infolist()), errs)
            """, s.path("data.zip"), s.path("data")])
        #expect(py.status == 0, "\(py.stderr)")
        #expect(py.stdout.hasSuffix(" []\n"), "\(py.stdout)")
        #expect(!py.stdout.hasPrefix("0 "))
    }

    @Test("Zip64 fields and end record past the limit (lowered for the test), read by unzip and Python")
    func zip64() throws {
        guard let s = try sealed() else { return }
        let r = try s.run(
            ["dump", "data@latest", "data", "--archive", "zip", "--target", s.path("z64.zip")],
            environment: ["COFFER_TESTONLY_ZIP64_LIMIT": "1000"])
        #expect(r.status == 0, "\(r.stderr)")
        let bytes = try s.read("z64.zip")
        let eocd64: [UInt8] = [0x50, 0x4B, 0x06, 0x06]
        #expect(bytes.count > 98 && Array(bytes[(bytes.count - 98)..<(bytes.count - 94)]) == eocd64, "a Zip64 end record before the locator")
        let test = try Scratch.shell(["/usr/bin/unzip", "-t", s.path("z64.zip")])
        #expect(test.status == 0 && test.stdout.contains("No errors detected"), "\(test.stdout)\(test.stderr)")
        let info = try Scratch.shell(["/usr/bin/zipinfo", "-v", s.path("z64.zip")])
        #expect(info.stdout.contains("PKWARE 64-bit sizes"), "Zip64 extra fields")
        let py = try Scratch.shell(["/usr/bin/python3", "-c", """
            import zipfile, sys
            z = zipfile.ZipFile(sys.argv[1])
            print(z.testzip(), z.read("data/sub/big.bin") == open(sys.argv[2], "rb").read())
            """, s.path("z64.zip"), s.path("data/sub/big.bin")])
        #expect(py.stdout == "None True\n", "\(py.stdout)\(py.stderr)")
    }

    @Test("refusals: a path not in the version, an existing --target, restore --to -")
    func refusals() throws {
        guard let s = try sealed() else { return }
        let missing = try s.run(["dump", "data@latest", "data/nothere"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("data/nothere") && missing.stderr.contains("is not in version "), "\(missing.stderr)")
        let id = try #require(missing.stderr.components(separatedBy: "is not in version ").last?.prefix(8))
        #expect(id.count == 8 && id.allSatisfy(\.isHexDigit), "the version id: \(missing.stderr)")
        #expect(try s.ok(["list"]).stdout.contains(String(id)))
        #expect(missing.stdoutData.isEmpty)
        try s.write("exists.tar", "keep")
        let exists = try s.run(["dump", "data@latest", "--target", s.path("exists.tar")])
        #expect(exists.status == 1 && exists.stderr.contains("already exists"), "\(exists.stderr)")
        #expect(try s.read("exists.tar") == Array("keep".utf8))
        try s.ok(["dump", "data@latest", "data/a.txt", "--target", s.path("exists.tar"), "--force"])
        #expect(try s.read("exists.tar") == Array("hello\n".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.root).allSatisfy { !$0.hasPrefix(".coffer-dump-") })
        let restore = try s.run(["restore", "data@latest", "--to", "-"])
        #expect(restore.status == 64 && restore.stderr.contains("coffer dump"), "\(restore.stderr)")
        #expect(!s.exists("-"))
    }

    @Test("a tar or zip stream is refused on a terminal without --force; a file's bytes are not")
    func terminal() throws {
        guard let s = try sealed(), let script = Binaries.tool("script") else { return }
        var env = s.environment
        env["COFFER_VAULT"] = s.vault
        env["COFFER_PASSPHRASE"] = s.passphrase
        func onTerminal(_ args: String) throws -> RunResult {
            try Scratch.shell([script, "-qec", Binaries.coffer + " " + args, s.path("typescript")], environment: env)
        }
        let refused = try onTerminal("dump data@latest data/sub")
        #expect(refused.status == 64 && refused.stdout.contains("refusing to write a tar stream to a terminal"), "\(refused.stdout)")
        #expect(try onTerminal("dump data@latest data/sub --archive zip").status == 64)
        let file = try onTerminal("dump data@latest data/a.txt")
        #expect(file.status == 0 && file.stdout.contains("hello"), "\(file.stdout)")
    }

    @Test("a damaged chunk: exit 13, stderr says the bytes written are unverified; --target leaves no file")
    func integrity() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("in/a.txt", "first\n")
        try s.write("in/data.bin", pseudoRandomBytes(count: 400_000, seed: 42))
        try s.ok(["seal", s.path("in")])
        let packs = filesUnder(s.path("vault/packs")).filter { $0.count > 40 }
        try #require(packs.count == 1)
        let pack = s.path("vault/packs/" + packs[0])
        #expect(chmod(pack, 0o600) == 0)
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: pack)))
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: pack))

        let r = try s.run(["dump", "in@latest"])
        #expect(r.status == 13)
        #expect(r.stderr.hasPrefix("coffer: integrity error") && r.stderr.contains("unverified: discard them"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
        let t = try s.run(["dump", "in@latest", "--archive", "zip", "--target", s.path("out.zip")])
        #expect(t.status == 13 && t.stderr.contains("no file was written"), "\(t.stderr)")
        #expect(!s.exists("out.zip"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.root).allSatisfy { !$0.hasPrefix(".coffer-dump-") })
    }
}
