// ZipMemoryTests.swift: zip bombs and large members cost bounded memory and time.
//
// - Large members (zeros from Python's zipfile, zip64 included; a random member made by
//   Info-ZIP): `coffer seal`, `restore`, `restore --expand` and `cat` run as the real binary
//   under /usr/bin/time, and each peak RSS must stay within 64 MiB of the same command on a
//   small zip. Members are streamed through inflate and deflate, never held whole.
// - Many tiny members (a Takeout-like zip of 131,072 small JSON files written by ZipWriter, four
//   times the former member cap): the same four commands stay within 64 MiB of the small zip,
//   and the zip is still stored member by member (`ls` and `ls --json` say archive); so do the
//   commands that walk the members on that vault, without sealing again: `ls`, `ls --json`,
//   `find --members`, `diff` (the small zip's version against it, member by member) and `copy`
//   into a second vault. The names are not in walk order: the walks sort them externally.
// - The inflate budget: a zip whose members inflate past it is sealed as an ordinary file, with
//   a note naming it and the reason, and comes back byte for byte.
// - A zip that changes between its analysis and its storing is never recorded as analysed.

import CofferCore
import CofferCrypto
import Foundation
import Testing

@testable import CofferExports

/// A vault with the test-only Argon2id profile, driven through the `coffer` binary.
private final class MemoryLab: @unchecked Sendable {
    static let passphrase = "zip memory passphrase"
    let root: String
    var vault: String { root + "/vault" }
    var home: String { root + "/home" }

    init() throws {
        root = try makeTemporaryDirectory("zipmem").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        var o = VaultOptions()
        o.kdf = .insecureTestOnly
        let pass = Array(Self.passphrase.utf8).withUnsafeBytes { SecureBytes(copying: $0) }
        _ = try Vault.create(at: vault, passphrase: pass, options: o, state: RollbackState(directory: home + "/state"))
    }

    deinit { removeTemporaryDirectory(URL(fileURLWithPath: root)) }

    struct Run {
        var status: Int32
        var stderr: String
        var peakKiB: Int
    }

    /// A second vault (same passphrase), the target of `copy`.
    var target: String { root + "/target" }

    /// `coffer args` on the lab's vault (or `vault`), stdout to `stdout` (or discarded), with
    /// its peak RSS from GNU time.
    func coffer(_ args: [String], stdout: String? = nil, vault: String? = nil) throws -> Run {
        let coffer = try #require(CofferRun.binary, "the coffer binary is built next to the tests")
        let time = try #require(CofferRun.time, "/usr/bin/time measures the peak RSS")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: time)
        p.arguments = ["-f", "coffer-peak-rss-kib %M", coffer] + args
        p.environment = [
            "PATH": "/usr/bin:/bin", "HOME": home, "XDG_STATE_HOME": home + "/state", "LANG": "C.UTF-8",
            "COFFER_VAULT": vault ?? self.vault, "COFFER_PASSPHRASE": Self.passphrase, "COFFER_FROM_PASSPHRASE": Self.passphrase,
        ]
        let out = stdout ?? "/dev/null", err = home + "/err"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        p.standardOutput = FileHandle(forWritingAtPath: out)
        p.standardError = FileHandle(forWritingAtPath: err)
        p.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try p.run()
        p.waitUntilExit()
        let text = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").last { $0.hasPrefix("coffer-peak-rss-kib ") }
        let peak = try #require(line.flatMap { Int($0.dropFirst("coffer-peak-rss-kib ".count)) }, "no peak RSS in: \(text)")
        return Run(status: p.terminationStatus, stderr: text, peakKiB: peak)
    }

    /// Seals `zip` as version `name`, restores it whole and expanded, and cats `member`: the
    /// peak RSS of each step (KiB), after checking every output byte for byte.
    func cycle(name: String, zip: String, member: String, memberBytes: (String) throws -> Bool) throws -> [String: Int] {
        var peaks: [String: Int] = [:]
        let base = (zip as NSString).lastPathComponent
        let seal = try coffer(["seal", "--name", name, zip])
        #expect(seal.status == 0, "\(seal.stderr)")
        peaks["seal"] = seal.peakKiB
        let list = try coffer(["ls", "\(name)@latest"], stdout: root + "/ls")
        #expect(list.status == 0)
        peaks["ls"] = list.peakKiB
        let out = root + "/out-" + name
        let restore = try coffer(["restore", "\(name)@latest", "--to", out])
        #expect(restore.status == 0, "\(restore.stderr)")
        peaks["restore"] = restore.peakKiB
        #expect(try sameFile(out + "/" + base, zip), "\(base) restores byte for byte")
        try FileManager.default.removeItem(atPath: out)
        let expand = try coffer(["restore", "\(name)@latest", "--to", out, "--expand"])
        #expect(expand.status == 0, "\(expand.stderr)")
        peaks["expand"] = expand.peakKiB
        let folder = out + "/" + String(base.dropLast(4))
        #expect(try memberBytes(folder + "/" + member), "\(member) expands byte for byte")
        try FileManager.default.removeItem(atPath: out)
        let catOut = root + "/cat-" + name
        let cat = try coffer(["cat", "\(name)@latest", base + "/" + member], stdout: catOut)
        #expect(cat.status == 0, "\(cat.stderr)")
        peaks["cat"] = cat.peakKiB
        #expect(try memberBytes(catOut), "cat \(member) gives its bytes")
        unlink(catOut)
        return peaks
    }

    /// The commands that walk an archive's members, on version `name` (holding `base`): `ls
    /// --json` of the archive, `find --members` of `member`'s base name, `diff` from version
    /// `from`, and `copy` of the version into the target vault. Their peak RSS (KiB), after
    /// checking what each finds: `members` member rows, the member found, `added` members
    /// added, the copy's listing the same as the source's (the `ls` output ``cycle(name:zip:member:memberBytes:)``
    /// left for the same version: one listing of the source fewer).
    func readers(name: String, base: String, member: String, from: String, members: Int, added: Int) throws -> [String: Int] {
        var peaks: [String: Int] = [:]
        let json = try coffer(["ls", "--json", "\(name)@latest", base], stdout: root + "/ls.json")
        #expect(json.status == 0, "\(json.stderr)")
        peaks["ls --json"] = json.peakKiB
        let text = try String(contentsOfFile: root + "/ls.json", encoding: .utf8)
        #expect(text.contains(#""type":"archive""#) || text.contains(#""type" : "archive""#), "ls --json gives \(base) the type archive")
        #expect(text.components(separatedBy: "\"path\"").count - 1 == members + 1, "ls --json lists the archive and its \(members) members")
        let leaf = String(member.split(separator: "/").last!)
        let find = try coffer(["find", "--members", "--name", name, leaf], stdout: root + "/find")
        #expect(find.status == 0, "\(find.stderr)")
        peaks["find"] = find.peakKiB
        let found = try String(contentsOfFile: root + "/find", encoding: .utf8)
        #expect(found.contains(base + "/" + member), "find --members finds \(member): \(found.prefix(2000))")
        let diff = try coffer(["diff", "\(from)@latest", "\(name)@latest"], stdout: root + "/diff")
        #expect(diff.status == 0, "\(diff.stderr)")
        peaks["diff"] = diff.peakKiB
        let changes = try String(contentsOfFile: root + "/diff", encoding: .utf8).split(separator: "\n")
        #expect(changes.filter { $0.hasPrefix("+ ") }.count == added, "diff \(from) → \(name): \(added) members added")
        if !FileManager.default.fileExists(atPath: target) {
            var o = VaultOptions()
            o.kdf = .insecureTestOnly
            let pass = Array(Self.passphrase.utf8).withUnsafeBytes { SecureBytes(copying: $0) }
            _ = try Vault.create(at: target, passphrase: pass, options: o, state: RollbackState(directory: home + "/state"))
        }
        let copy = try coffer(["copy", "--from-vault", vault, "\(name)@latest"], vault: target)
        #expect(copy.status == 0, "\(copy.stderr)")
        peaks["copy"] = copy.peakKiB
        let copied = try coffer(["ls", "\(name)@latest"], stdout: root + "/ls-copied", vault: target)
        #expect(copied.status == 0, "\(copied.stderr)")
        // The source's listing is the one ``cycle(name:zip:member:memberBytes:)`` wrote for this version.
        let listed = try #require(FileManager.default.contents(atPath: root + "/ls"))
        #expect(!listed.isEmpty)
        #expect(FileManager.default.contents(atPath: root + "/ls-copied") == listed, "the copy lists as the source does")
        return peaks
    }
}

/// Whether two files hold the same bytes (read 1 MiB at a time).
private func sameFile(_ a: String, _ b: String) throws -> Bool {
    guard let fa = FileHandle(forReadingAtPath: a), let fb = FileHandle(forReadingAtPath: b) else { return false }
    defer { try? fa.close(); try? fb.close() }
    while true {
        let x = try fa.read(upToCount: 1 << 20) ?? Data(), y = try fb.read(upToCount: 1 << 20) ?? Data()
        guard x == y else { return false }
        if x.isEmpty { return true }
    }
}

/// Whether the file at `path` is `count` zero bytes.
private func isZeros(_ path: String, count: Int) throws -> Bool {
    guard let f = FileHandle(forReadingAtPath: path) else { return false }
    defer { try? f.close() }
    var total = 0
    while let d = try f.read(upToCount: 1 << 20), !d.isEmpty {
        guard d.allSatisfy({ $0 == 0 }) else { return false }
        total += d.count
    }
    return total == count
}

/// Writes zips with Python's zipfile: `members` of `size` zero bytes each, deflated, written
/// 1 MiB at a time (zip64 when asked).
private func zerosZip(_ path: String, members: [String], size: Int, zip64: Bool = false) throws {
    let script = """
        import sys, zipfile
        path, size, zip64 = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for name in sys.argv[4:]:
                with z.open(name, "w", force_zip64=zip64) as f:
                    block = bytes(1 << 20)
                    for _ in range(size >> 20): f.write(block)
        """
    let r = try runPython(script, [path, String(size), zip64 ? "1" : "0"] + members)
    #expect(r.status == 0, "\(r.error)")
}

private let allowanceKiB = 64 * 1024
/// A seal that stores enough small chunks trains the vault's zstd dictionary once: up to 1 MiB of
/// samples and the trainer's tables, a fixed cost the small zip's seal does not pay (it stores too
/// little to train), not a per-member one.
private let dictionaryTrainingKiB = 8 * 1024

/// Fails unless each step's peak is within 64 MiB of the small zip's (plus the dictionary
/// training's fixed cost for the seal).
private func expectBounded(_ peaks: [String: Int], baseline: [String: Int], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    for (step, peak) in peaks.sorted(by: { $0.key < $1.key }) {
        let base = baseline[step] ?? 0
        print("zip memory: \(what): \(step) peak \(peak / 1024) MiB (small zip: \(base / 1024) MiB)")
        let allowance = allowanceKiB + (step == "seal" ? dictionaryTrainingKiB : 0)
        #expect(peak <= base + allowance, "\(what): \(step) peaked at \(peak) KiB, the small zip at \(base) KiB", sourceLocation: sourceLocation)
    }
}

@Suite(.serialized) struct ZipMemoryTests {
    @Test func manyTinyMembersCostLittleMemoryEach() throws {
        let lab = try MemoryLab()
        try FileManager.default.createDirectory(atPath: lab.root + "/in", withIntermediateDirectories: true)
        let small = lab.root + "/in/small.zip", many = lab.root + "/in/many.zip"
        let count = 131_072
        #expect(UInt64(count) <= ZipArchiveHandler().parseLimits.maxMembers)
        // A Takeout-like zip: every member a small JSON file under a deep folder, deflated.
        func name(_ i: Int) -> String { "Takeout/Google Photos/Album \(i / 500)/IMG_\(String(format: "%06d", i)).jpg.json" }
        func content(_ i: Int) -> Data { Data(String(repeating: "{\"title\": \"IMG_\(String(format: "%06d", i)).jpg\", \"n\": \(i)}\n", count: 3).utf8) }
        func write(_ path: String, members: Int) throws {
            var w = ZipWriter(options: .plain)
            let time = try ZipWriter.DOSTimestamp(year: 2024, month: 5, day: 1, hour: 12)
            for i in 0..<members { try w.addFile(name(i), contents: content(i), modified: time) }
            #expect(FileManager.default.createFile(atPath: path, contents: Data(try w.finish())))
        }
        try write(small, members: 1)
        try write(many, members: count)
        var baseline = try lab.cycle(name: "small", zip: small, member: name(0)) { FileManager.default.contents(atPath: $0) == content(0) }
        baseline.merge(try lab.readers(name: "small", base: "small.zip", member: name(0), from: "small", members: 1, added: 0)) { $1 }
        let last = count - 1
        var peaks = try lab.cycle(name: "many", zip: many, member: name(last)) { FileManager.default.contents(atPath: $0) == content(last) }
        // The member walks, on the sealed vault (no second seal): ls --json, find, diff (from the
        // small zip's version: the one zip compared with the other, member by member) and copy.
        // The generator's names are not in walk order (`Album 10/` comes before `Album 2/`): the
        // members are sorted externally.
        let readers = try lab.readers(name: "many", base: "many.zip", member: name(last), from: "small", members: count, added: count - 1)
        peaks.merge(readers) { $1 }
        // Stored member by member: `ls` shows the zip as an archive and lists every member.
        let listing = try String(contentsOfFile: lab.root + "/ls", encoding: .utf8).split(separator: "\n")
        #expect(listing.contains { $0.hasPrefix("z") && $0.hasSuffix("  many.zip") }, "many.zip is stored as an archive")
        #expect(listing.filter { $0.contains("  many.zip/Takeout/") }.count == count)
        expectBounded(peaks.filter { $0.key != "seal" }, baseline: baseline, "\(count) tiny members")
        // The zip side of the seal holds the central directory and 20 bytes a member (about 16
        // MiB here); the core's sealer keeps per stored chunk (one a member, 131,072 here) only
        // the chunk's id in a compact set: packs take at most 16,383 blobs and their index files
        // are written during the seal (Docs/FORMAT.md, "Index").
        expectBounded(peaks.filter { $0.key == "seal" }, baseline: baseline, "\(count) tiny members")
    }

    @Test func largeZeroMembersCostFixedMemory() throws {
        let lab = try MemoryLab()
        let small = lab.root + "/in/small.zip"
        try FileManager.default.createDirectory(atPath: lab.root + "/in", withIntermediateDirectories: true)
        let smallScript = """
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z: z.writestr("a.txt", b"a small member\\n" * 100)
            """
        #expect(try runPython(smallScript, [small]).status == 0)
        let baseline = try lab.cycle(name: "small", zip: small, member: "a.txt") { path in
            FileManager.default.contents(atPath: path) == Data(String(repeating: "a small member\n", count: 100).utf8)
        }
        // One 256 MiB member of zeros, zip64 (a 256 KiB zip): the old code held it whole at each step.
        let one = lab.root + "/in/one.zip"
        try zerosZip(one, members: ["zeros.bin"], size: 256 << 20, zip64: true)
        let peaks = try lab.cycle(name: "one", zip: one, member: "zeros.bin") { try isZeros($0, count: 256 << 20) }
        expectBounded(peaks, baseline: baseline, "one 256 MiB zero member (zip64)")
        unlink(one)
        // Four 128 MiB members of zeros (a 522 kB zip): the old seal held all four at once.
        let four = lab.root + "/in/four.zip"
        try zerosZip(four, members: (0..<4).map { "m\($0).bin" }, size: 128 << 20)
        let seal = try lab.coffer(["seal", "--name", "four", four])
        #expect(seal.status == 0, "\(seal.stderr)")
        let cat = try lab.coffer(["cat", "four@latest", "four.zip/m3.bin"], stdout: lab.root + "/m3")
        #expect(cat.status == 0)
        #expect(try isZeros(lab.root + "/m3", count: 128 << 20))
        expectBounded(["seal": seal.peakKiB, "cat": cat.peakKiB], baseline: baseline, "four 128 MiB zero members")
    }

    @Test func anInfoZipRandomMemberCostsFixedMemory() throws {
        let zipTool = try #require(infoZip, "Info-ZIP's zip is installed (make deps)")
        let lab = try MemoryLab()
        let dir = lab.root + "/in"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let make = """
            import random, sys
            r = random.Random(7)
            with open(sys.argv[1], "wb") as f:
                for _ in range(int(sys.argv[2])): f.write(r.randbytes(1 << 20))
            """
        #expect(try runPython(make, [dir + "/random.bin", "128"]).status == 0)
        #expect(try runProgram(zipTool, ["-q", "-j", dir + "/random.zip", dir + "/random.bin"]).status == 0)
        // The same bytes sealed as a plain file: what the storing pipeline itself costs for
        // 128 MiB of new, incompressible chunks (packs being filled and written).
        let plain = try lab.coffer(["seal", "--name", "plain", dir + "/random.bin"])
        #expect(plain.status == 0)
        let small = dir + "/small.zip"
        _ = FileManager.default.createFile(atPath: dir + "/a.txt", contents: Data(repeating: 65, count: 1000))
        #expect(try runProgram(zipTool, ["-q", "-j", small, dir + "/a.txt"]).status == 0)
        var baseline = try lab.cycle(name: "small", zip: small, member: "a.txt") { FileManager.default.contents(atPath: $0) == Data(repeating: 65, count: 1000) }
        baseline["seal"] = max(baseline["seal"]!, plain.peakKiB)
        let random = dir + "/random.bin"
        let peaks = try lab.cycle(name: "random", zip: dir + "/random.zip", member: "random.bin") { try sameFile($0, random) }
        expectBounded(peaks, baseline: baseline, "Info-ZIP, one 128 MiB random member")
    }
}

/// Info-ZIP's `zip`, when installed.
private let infoZip: String? = ["/usr/bin/zip", "/bin/zip"].first { FileManager.default.isExecutableFile(atPath: $0) }

@Suite struct ZipInflateBudgetTests {
    private func vault(_ dir: URL) throws -> Vault {
        var o = VaultOptions()
        o.kdf = .insecureTestOnly
        let pass = Array("budget".utf8).withUnsafeBytes { SecureBytes(copying: $0) }
        return try Vault.create(at: dir.path + "/vault", passphrase: pass, options: o, state: RollbackState(directory: dir.path + "/state"))
    }

    @Test func aZipPastTheInflateBudgetIsSealedAsAnOrdinaryFileWithANote() throws {
        let dir = try makeTemporaryDirectory("budget")
        defer { removeTemporaryDirectory(dir) }
        let zip = dir.path + "/in/bomb.zip"
        try FileManager.default.createDirectory(atPath: dir.path + "/in", withIntermediateDirectories: true)
        try zerosZip(zip, members: ["a.bin", "b.bin", "c.bin"], size: 1 << 20)
        let v = try vault(dir)
        var handler = ZipArchiveHandler()
        handler.inflateBudget = 2 << 20  // the members declare 3 MiB
        var o = SealOptions()
        o.archiveHandler = handler
        let r = try v.seal([zip], options: o)
        let entry = try #require(try v.listing(r.id).first { $0.path == "bomb.zip" })
        #expect(entry.type == .file)
        #expect(r.version.notes.contains { $0.hasPrefix("bomb.zip: ") && $0.contains("over the 2097152-byte budget") && $0.contains("ordinary file") },
                "\(r.version.notes)")
        var ro = RestoreOptions()
        ro.archiveHandler = handler
        try v.restore(r.id, to: dir.path + "/out", options: ro)
        #expect(try sameFile(dir.path + "/out/bomb.zip", zip))
        // Within the budget, the same zip is stored member by member.
        handler.inflateBudget = 3 << 20
        o.archiveHandler = handler
        o.name = "within"
        let within = try v.seal([zip], options: o)
        #expect(try v.listing(within.id).first { $0.path == "bomb.zip" }?.type == .archive)
    }

    @Test func aSearchThatRunsPastTheBudgetStops() throws {
        // Declared sizes fit, but the candidates tried before the right one inflate too: a
        // budget just above the declared size leaves no room for them.
        let dir = try makeTemporaryDirectory("budget-search")
        defer { removeTemporaryDirectory(dir) }
        let zip = dir.path + "/level1.zip"
        let script = """
            import sys, zipfile, random
            r = random.Random(3)
            data = bytes(r.choice(b"abcdefgh ") for _ in range(400000))
            with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z: z.writestr("t.txt", data)
            """
        #expect(try runPython(script, [zip]).status == 0)
        var handler = ZipArchiveHandler()
        handler.inflateBudget = 400_000
        handler.inflateBudgetPerZipByte = 0
        #expect {
            _ = try handler.analyse(path: zip, size: UInt64(try FileManager.default.attributesOfItem(atPath: zip)[.size] as! Int))
        } throws: { error in
            guard case ZipHandlerError.inflateBudgetExceeded(nil, 400_000) = error else { return false }
            return true
        }
        handler.inflateBudget = 8 << 20
        let plan = try #require(try handler.analyse(path: zip, size: UInt64(try FileManager.default.attributesOfItem(atPath: zip)[.size] as! Int)))
        #expect(plan.parts.contains { $0.kind == .transformed })
    }

    @Test func aStreamThatDiffersOnlyAtItsEndCostsOneFullTrial() throws {
        // 4 MiB of random bytes deflated by zlib at level 6, memLevel 9, with an extra sync
        // flush before the end: every level of memLevel 9 agrees with it until the last bytes
        // (as with Info-ZIP's own encoder on incompressible data), and none reproduces it.
        let dir = try makeTemporaryDirectory("late")
        defer { removeTemporaryDirectory(dir) }
        let zip = dir.path + "/late.zip"
        let script = """
            import sys, zipfile, zlib, random, struct
            data = random.Random(5).randbytes(4 << 20)
            c = zlib.compressobj(6, zlib.DEFLATED, -15, 9)
            stream = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH) + c.flush()
            name = b"late.bin"
            crc = zlib.crc32(data)
            local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(stream), len(data), len(name), 0) + name
            central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(stream), len(data), len(name), 0, 0, 0, 0, 0, 0) + name
            end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local) + len(stream), 0)
            open(sys.argv[1], "wb").write(local + stream + central + end)
            """
        let made = try runPython(script, [zip])
        #expect(made.status == 0, "\(made.error)")
        let source = try ZipFileSource(path: zip)
        let analysis = try StreamedZip(source)
        #expect(analysis.encodings == [.raw(.noMatchingParameters)])
        // memLevel 8 candidates stop at once; the first memLevel 9 one runs to the end, and ends the
        // zlib search. The recipe search then scans the blocks once (4 MiB) and stops: the sync
        // flush left an empty block, which Info-ZIP never writes.
        #expect(analysis.inflatedBytes < 9 << 20, "inflated \(analysis.inflatedBytes) bytes")
        #expect(analysis.deflateAttempts == 10)
    }

    @Test func aZipThatChangesAfterItsAnalysisIsNotStoredAsAnalysed() throws {
        let dir = try makeTemporaryDirectory("changed")
        defer { removeTemporaryDirectory(dir) }
        let zip = dir.path + "/z.zip"
        try zerosZip(zip, members: ["a.bin", "b.bin"], size: 1 << 20)
        let handler = ZipArchiveHandler()
        let size = UInt64(try FileManager.default.attributesOfItem(atPath: zip)[.size] as! Int)
        let plan = try #require(try handler.analyse(path: zip, size: size))
        /// Reads every part through a reader; returns the bytes per part, then finishes.
        func readAll() throws -> [[UInt8]] {
            let reader = try handler.openContent(of: plan, path: zip)
            var parts: [[UInt8]] = []
            var buffer = [UInt8](repeating: 0, count: 100_000)
            for k in plan.parts.indices {
                var part: [UInt8] = []
                while true {
                    let n = try buffer.withUnsafeMutableBytes { try reader.read(part: k, into: $0) }
                    if n == 0 { break }
                    part += buffer[..<n]
                }
                #expect(UInt64(part.count) == plan.parts[k].contentSize)
                parts.append(part)
            }
            try reader.finish()
            return parts
        }
        let parts = try readAll()
        #expect(parts.filter { $0.count == 1 << 20 && $0.allSatisfy { $0 == 0 } }.count == 2)
        // Flip a byte of the second member's compressed data: same size, new SHA-256.
        var bytes = try #require(FileManager.default.contents(atPath: zip)).map { $0 }
        let layout = try ZipLayout.parse(ZipMemorySource(bytes))
        let last = layout.members[1].dataRange.upperBound - 1
        bytes[last] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: zip))
        #expect(throws: (any Error).self) { _ = try readAll() }
    }

    @Test func aZipOverTheParseLimitsIsSealedAsAnOrdinaryFileWithANote() throws {
        let dir = try makeTemporaryDirectory("parse-limits")
        defer { removeTemporaryDirectory(dir) }
        try FileManager.default.createDirectory(atPath: dir.path + "/in", withIntermediateDirectories: true)
        let many = dir.path + "/in/many.zip", big = dir.path + "/in/big.zip", stub = dir.path + "/in/stub.zip"
        let script = """
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
                for i in range(12): z.writestr(f"m{i}.txt", f"member {i}\\n".encode() * 50)
            # Two members with 60,000-byte comments: a central directory of about 120 kB.
            with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as z:
                for i in range(2):
                    info = zipfile.ZipInfo(f"m{i}.txt")
                    info.comment = bytes([65 + i]) * 60000
                    z.writestr(info, f"member {i}\\n".encode() * 50)
            # A 3 MB "self-extractor stub" before a two-member zip: unclaimed bytes, which the
            # seal's parse neither reads nor holds (they are read from the file when stored).
            with zipfile.ZipFile(sys.argv[3] + ".tmp", "w", zipfile.ZIP_DEFLATED) as z:
                for i in range(2): z.writestr(f"m{i}.txt", f"member {i}\\n".encode() * 50)
            with open(sys.argv[3], "wb") as f:
                f.write(bytes(range(256)) * (3 * 4096))
                f.write(open(sys.argv[3] + ".tmp", "rb").read())
            """
        #expect(try runPython(script, [many, big, stub]).status == 0)
        unlink(stub + ".tmp")
        let v = try vault(dir)
        var handler = ZipArchiveHandler()
        handler.parseLimits = ZipParseLimits(maxMembers: 10, maxContainerBytes: 100_000)
        var o = SealOptions()
        o.archiveHandler = handler
        let r = try v.seal([dir.path + "/in"], options: o)
        #expect(try v.listing(r.id).first { $0.path == "in/many.zip" }?.type == .file)
        #expect(try v.listing(r.id).first { $0.path == "in/big.zip" }?.type == .file)
        #expect(try v.listing(r.id).first { $0.path == "in/stub.zip" }?.type == .archive)
        #expect(r.version.notes.contains { $0.hasPrefix("in/many.zip: ") && $0.contains("12 members, more than 10") }, "\(r.version.notes)")
        #expect(r.version.notes.contains { $0.hasPrefix("in/big.zip: ") && $0.contains("more than 100000 bytes of headers") }, "\(r.version.notes)")
        var ro = RestoreOptions()
        ro.archiveHandler = handler
        try v.restore(r.id, to: dir.path + "/out", options: ro)
        #expect(try sameFile(dir.path + "/out/in/many.zip", many))
        #expect(try sameFile(dir.path + "/out/in/big.zip", big))
        #expect(try sameFile(dir.path + "/out/in/stub.zip", stub))
        // With the default limits all are stored member by member.
        o.archiveHandler = ZipArchiveHandler()
        o.name = "defaults"
        let d = try v.seal([dir.path + "/in"], options: o)
        #expect(try v.listing(d.id).filter { $0.type == .archive }.count == 3)
    }

    /// Analyses with the zip handler, then changes the file before it is stored.
    struct ChangingHandler: ArchiveHandler {
        let inner = ZipArchiveHandler()
        func analyse(path: String, size: UInt64) throws -> ArchivePlan? {
            let plan = try inner.analyse(path: path, size: size)
            var bytes = FileManager.default.contents(atPath: path)!.map { $0 }
            let layout = try ZipLayout.parse(ZipMemorySource(bytes))
            bytes[layout.members[0].dataRange.lowerBound + 3] ^= 0x10
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return plan
        }
        func openContent(of plan: ArchivePlan, path: String) throws -> ArchiveContentReader { try inner.openContent(of: plan, path: path) }
        func encode(transform: [UInt8], content: ArchiveByteStream, into emit: (UnsafeRawBufferPointer) throws -> Void) throws {
            try inner.encode(transform: transform, content: content, into: emit)
        }
        func decode(member: ArchiveMember, stored: ArchiveByteStream, into emit: (UnsafeRawBufferPointer) throws -> Void) throws {
            try inner.decode(member: member, stored: stored, into: emit)
        }
    }

    @Test func aZipChangedBetweenAnalysisAndStoringIsSealedAsAnOrdinaryFile() throws {
        let dir = try makeTemporaryDirectory("changed-seal")
        defer { removeTemporaryDirectory(dir) }
        let zip = dir.path + "/in/z.zip"
        try FileManager.default.createDirectory(atPath: dir.path + "/in", withIntermediateDirectories: true)
        let script = """
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_STORED) as z:
                z.writestr("a.txt", b"stored member bytes " * 500)
                z.writestr("b.txt", b"another one " * 500)
            """
        #expect(try runPython(script, [zip]).status == 0)
        let v = try vault(dir)
        var o = SealOptions()
        o.archiveHandler = ChangingHandler()
        let r = try v.seal([zip], options: o)
        #expect(try v.listing(r.id).first { $0.path == "z.zip" }?.type == .file)
        #expect(r.version.notes.contains { $0.hasPrefix("z.zip: could not be stored as an archive") && $0.contains("ordinary file") }, "\(r.version.notes)")
        var ro = RestoreOptions()
        ro.archiveHandler = ZipArchiveHandler()
        try v.restore(r.id, to: dir.path + "/out", options: ro)
        #expect(try sameFile(dir.path + "/out/z.zip", zip))
        #expect(try v.check(readDataFraction: 1).isClean)
    }
}
