// GoldenV2VaultTests.swift: the golden format-2 vault (Tests/CofferCoreTests/Golden/v2).

@testable @_spi(Fuzzing) import CofferCore
import CofferCrypto
import Foundation
import Testing

@testable import CofferExports
@testable import ExportGenerator

/// The golden vault for format 2, next to the format-1 ones: written once by `writeGoldenV2Vault`
/// (run with COFFER_WRITE_GOLDEN_V2=<folder>; the vault goes to `<folder>/v2` and its listing to
/// `<folder>/v2-listing.txt`) and committed under Tests/CofferCoreTests/Golden. Any change that
/// current code can no longer read, or reads differently, fails here.
///
/// Versions 1 and 2 are sealed from a folder holding every kind the seal stores and a test can
/// make unprivileged: a name and a link target that are not UTF-8, setuid and sticky modes, a
/// named pipe, an empty folder, a symbolic link, a zip export (an archive with layout pieces).
/// Version 3 holds what this seal does not capture yet, written through the same tree builder and
/// sealer: hard links, extended attributes, owner names, a sparse file.
@Suite struct GoldenV2VaultTests {
    static let passphrase = "golden v2 passphrase"
    static let time: Double = 1_767_225_600  // 2026-01-01

    static var folder: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path + "/CofferCoreTests/Golden"
    }

    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var x = seed | 1
        return (0..<count).map { _ in
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            return UInt8(truncatingIfNeeded: x)
        }
    }

    static func text(_ month: Int) -> [UInt8] {
        Array((0..<(400 + 25 * month)).map { "\($0),row \($0 * 7919 % 1000),month \(month >= $0 % 9 ? month : 0)\n" }.joined().utf8)
    }

    /// Writes `bytes` at the raw-byte path `path` (which need not be UTF-8).
    static func writeRaw(_ path: [UInt8], _ bytes: [UInt8], mode: mode_t = 0o644) {
        let fd = path.withNulTerminated { open($0, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode) }
        precondition(fd >= 0, "open \(String(decoding: path, as: UTF8.self)): \(errno)")
        bytes.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
        close(fd)
        _ = path.withNulTerminated { chmod($0, mode) }
    }

    /// The sealed input of month 0 or 1 (deterministic).
    static func input(_ root: String, month: Int) throws -> String {
        let dir = root + "/Golden2"
        let d = Array(dir.utf8) + [0x2F]
        try FileManager.default.createDirectory(atPath: dir + "/bin", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/shared", withIntermediateDirectories: true)
        writeRaw(d + Array("Connections.csv".utf8), text(month))
        writeRaw(d + [0x6E, 0x61, 0xEF, 0x76, 0x65, 0x2D, 0xFF, 0x2E, 0x74, 0x78, 0x74], Array("latin-1 name, month \(month)\n".utf8))
        writeRaw(d + Array("bin/tool".utf8), bytes(30_000 + month, seed: 11), mode: 0o4755)
        writeRaw(d + Array("shared/note.txt".utf8), Array("sticky folder\n".utf8), mode: 0o600)
        chmod(dir + "/shared", 0o1777)
        mkfifo(dir + "/pipe", 0o640)
        symlink("Connections.csv", dir + "/latest")
        _ = (d + Array("odd-link".utf8)).withNulTerminated { l in [0x74, 0xFF, 0x2F, 0x78].withNulTerminated { symlink($0, l) } }
        let zip = try smallSeries(seed: 5, months: 2, connections: 200, messagesBytes: 20_000)[month].zipArchive()
        writeRaw(d + Array("export.zip".utf8), zip)
        return dir
    }

    /// Version 3's entries and the content of each file (holes included).
    static func crafted() -> [(entry: VersionEntry, content: [UInt8]?)] {
        func entry(_ type: EntryType, _ path: String, mode: UInt32, size: UInt64 = 0) -> VersionEntry {
            var e = VersionEntry(type: type, path: path, mode: mode, mtimeSeconds: 1_767_225_600, mtimeNanoseconds: 123_456_789, size: size)
            e.uid = 1000
            e.gid = 50
            e.user = Array("alice".utf8)
            e.group = Array("staff".utf8)
            return e
        }
        let a = bytes(10_000, seed: 21)
        var fa = entry(.file, "Crafted/a.bin", mode: 0o640, size: UInt64(a.count))
        fa.inode = 77
        fa.device = 3
        fa.xattrs = [ExtendedAttribute(name: Array("user.comment".utf8), value: Array("golden".utf8)), ExtendedAttribute(name: Array("user.empty".utf8), value: [])]
        var link = fa
        link.type = .hardlink
        link.path = "Crafted/b-hardlink"
        link.hardlinkTargetBytes = Array("Crafted/a.bin".utf8)
        var sparse = [UInt8](repeating: 0, count: 1 << 20)
        sparse.replaceSubrange(262_144..<524_288, with: bytes(262_144, seed: 22))
        sparse.replaceSubrange((1 << 20) - 4096..<(1 << 20), with: bytes(4096, seed: 23))
        var fs = entry(.file, "Crafted/sparse.img", mode: 0o600, size: UInt64(sparse.count))
        fs.holes = [Hole(offset: 0, length: 262_144), Hole(offset: 524_288, length: (1 << 20) - 4096 - 524_288)]
        return [(entry(.directory, "Crafted", mode: 0o750), nil), (fa, a), (link, nil), (fs, sparse)]
    }

    /// The vault's listing: every version's header and every entry with every field, one line each.
    static func listing(_ v: Vault) throws -> String {
        var lines: [String] = []
        for (id, version) in try v.versions() {
            lines.append("version \(id.hex) name=\(version.name) time=\(version.time.timeIntervalSince1970) host=\(version.host) tags=\(version.tags) "
                + "parent=\(version.parent?.hex ?? "-") files=\(version.stats.files) bytes=\(version.stats.bytes) root=\((version.rootTree ?? []).map(\.hex))")
            let w = try v.walker(for: id, expandArchives: true)
            while let e = try w.next() {
                var f = ["  \(e.type.rawValue)", T2.hex(e.pathBytes), String(e.mode, radix: 8), "\(e.uid):\(e.gid)", T2.hex(e.user), T2.hex(e.group),
                         "size=\(e.size)", "mtime=\(e.mtimeSeconds).\(e.mtimeNanoseconds)", "sha256=\(e.sha256Hex)", "chunks=\(e.chunks.map(\.hex))"]
                if !e.linkTargetBytes.isEmpty { f.append("target=\(T2.hex(e.linkTargetBytes))") }
                if !e.hardlinkTargetBytes.isEmpty { f.append("first=\(T2.hex(e.hardlinkTargetBytes))") }
                if !e.xattrs.isEmpty { f.append("xattrs=\(e.xattrs.map { T2.hex($0.name) + "=" + T2.hex($0.value) })") }
                if !e.holes.isEmpty { f.append("holes=\(e.holes.map { "\($0.offset)+\($0.length)" })") }
                if !e.subtree.isEmpty { f.append("subtree=\(e.subtree.map(\.hex))") }
                if !e.layoutIDs.isEmpty { f.append("layout=\(e.layoutIDs.map(\.hex))") }
                lines.append(f.joined(separator: " "))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["COFFER_WRITE_GOLDEN_V2"] != nil))
    func writeGoldenV2Vault() throws {
        let out = ProcessInfo.processInfo.environment["COFFER_WRITE_GOLDEN_V2"]!
        var o = VaultOptions()
        o.kdf = .insecureTestOnly
        o.packTargetSize = 64 << 10
        let v = try Vault.create(at: out + "/v2", passphrase: T2.secret(Self.passphrase), options: o, host: "golden-host", state: nil, format: 2)
        for month in 0..<2 {
            let src = try makeTemporaryDirectory("golden-v2").path
            var s = SealOptions()
            s.archiveHandler = ZipArchiveHandler()
            s.time = Date(timeIntervalSince1970: Self.time + Double(month) * 2_592_000)
            s.host = "golden-host"
            s.tags = ["golden"]
            _ = try v.seal([try Self.input(src, month: month)], options: s)
        }
        _ = try v.commitHandBuilt(Self.crafted(), name: "Crafted", time: Date(timeIntervalSince1970: Self.time + 2 * 2_592_000), host: "golden-host")
        try Self.listing(v).write(toFile: out + "/v2-listing.txt", atomically: true, encoding: .utf8)
    }

    /// Version 4 (appended to the vault above without touching its files): a generated export
    /// zipped by Info-ZIP (`zip -X`, fixed times), whose large members no zlib setting
    /// reproduces, so they are stored as content with a deflate recipe (transform version 2).
    /// Run with COFFER_APPEND_GOLDEN_V2_RECIPE=1 (needs `zip`); it rewrites v2-listing.txt.
    static let recipeTime = time + 3 * 2_592_000

    /// The Info-ZIP export of version 4, written to `<root>/Recipe/export-infozip.zip`; returns the folder.
    static func recipeInput(_ root: String) throws -> String {
        try infoZipInput(root, folder: "Recipe", seed: 9, zips: ["export-infozip.zip": "-r"])
    }

    /// Writes a generated export's members under `<root>/tree` with fixed times and zips them with
    /// Info-ZIP (`zip -q -X <flags>`, UTC) into `<root>/<folder>/<name>` per zip; returns that folder.
    static func infoZipInput(_ root: String, folder: String, seed: UInt64, zips: KeyValuePairs<String, String>) throws -> String {
        let tree = root + "/tree"
        for member in smallSeries(seed: seed, months: 1, connections: 1500, messagesBytes: 150_000)[0].members {
            let url = URL(fileURLWithPath: tree + "/" + member.path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(member.contents).write(to: url)
        }
        try FileManager.default.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true)
        var script = "cd '\(tree)' && find . -exec touch -h -d '2026-01-15 00:00:00' {} +"
        for (name, flags) in zips { script += " && zip -q -X \(flags) '\(root)/\(folder)/\(name)' ." }
        let result = try runProgram("env", ["TZ=UTC", "sh", "-c", script])
        try #require(result.status == 0, "\(result.error)")
        return root + "/" + folder
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["COFFER_APPEND_GOLDEN_V2_RECIPE"] != nil))
    func appendRecipeVersion() throws {
        let v = try Vault.open(at: Self.folder + "/v2", passphrase: T2.secret(Self.passphrase), state: nil)
        try #require(try v.versions().count == 3)
        let input = try Self.recipeInput(try makeTemporaryDirectory("golden-v2-recipe").path)
        let path = input + "/export-infozip.zip"
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! UInt64
        let plan = try #require(try ZipArchiveHandler().analyse(path: path, size: size))
        try #require(plan.parts.contains { $0.transform.first == DeflateRecipe.version }, "no member needs a recipe")
        var s = SealOptions()
        s.archiveHandler = ZipArchiveHandler()
        s.time = Date(timeIntervalSince1970: Self.recipeTime)
        s.host = "golden-host"
        s.tags = ["golden", "recipe"]
        _ = try v.seal([input], options: s)
        try Self.listing(v).write(toFile: Self.folder + "/v2-listing.txt", atomically: true, encoding: .utf8)
    }

    /// Version 5 (appended like version 4): a zlib-made export sealed with layout format 2, its
    /// local headers and its central directory with the end record kept as inline parts.
    /// Run with COFFER_APPEND_GOLDEN_V2_INLINE=1; it rewrites v2-listing.txt.
    static let inlineTime = time + 4 * 2_592_000

    /// The zip of version 5, written to `<root>/Inline/export.zip`; returns the folder.
    static func inlineInput(_ root: String) throws -> String {
        try FileManager.default.createDirectory(atPath: root + "/Inline", withIntermediateDirectories: true)
        let zip = try smallSeries(seed: 11, months: 1, connections: 300, messagesBytes: 30_000)[0].zipArchive()
        writeRaw(Array((root + "/Inline/export.zip").utf8), zip)
        return root + "/Inline"
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["COFFER_APPEND_GOLDEN_V2_INLINE"] != nil))
    func appendInlineVersion() throws {
        let v = try Vault.open(at: Self.folder + "/v2", passphrase: T2.secret(Self.passphrase), state: nil)
        try #require(try v.versions().count == 4)
        var s = SealOptions()
        s.archiveHandler = ZipArchiveHandler()
        s.time = Date(timeIntervalSince1970: Self.inlineTime)
        s.host = "golden-host"
        s.tags = ["golden", "inline"]
        _ = try v.seal([try Self.inlineInput(try makeTemporaryDirectory("golden-v2-inline").path)], options: s)
        try Self.listing(v).write(toFile: Self.folder + "/v2-listing.txt", atomically: true, encoding: .utf8)
    }

    /// Version 6 (appended like version 4): the same kind of export zipped by Info-ZIP at its
    /// fastest level (`zip -1`) and at its default (`zip -6`), whose large members are stored as
    /// content with 4-byte recipes: encoder 2, Info-ZIP's own block ends, at levels 1 and 6.
    /// Run with COFFER_APPEND_GOLDEN_V2_OWNRULE=1 (needs `zip`); it rewrites v2-listing.txt.
    static let ownRuleTime = time + 5 * 2_592_000

    /// The zips of version 6, written to `<root>/OwnRule/export-zip1.zip` and `export-zip6.zip`;
    /// returns the folder.
    static func ownRuleInput(_ root: String) throws -> String {
        try infoZipInput(root, folder: "OwnRule", seed: 13, zips: ["export-zip1.zip": "-1 -r", "export-zip6.zip": "-6 -r"])
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["COFFER_APPEND_GOLDEN_V2_OWNRULE"] != nil))
    func appendOwnRuleVersion() throws {
        let v = try Vault.open(at: Self.folder + "/v2", passphrase: T2.secret(Self.passphrase), state: nil)
        try #require(try v.versions().count == 5)
        let input = try Self.ownRuleInput(try makeTemporaryDirectory("golden-v2-ownrule").path)
        var s = SealOptions()
        s.archiveHandler = ZipArchiveHandler()
        s.time = Date(timeIntervalSince1970: Self.ownRuleTime)
        s.host = "golden-host"
        s.tags = ["golden", "own-rule"]
        _ = try v.seal([input], options: s)
        try Self.listing(v).write(toFile: Self.folder + "/v2-listing.txt", atomically: true, encoding: .utf8)
    }

    /// Every node under `root` (raw-byte relative paths): type, permission bits, content or link target.
    static func snapshot(_ root: String) -> [[UInt8]: String] {
        var out: [[UInt8]: String] = [:]
        func walk(_ dir: [UInt8], _ rel: [UInt8]) {
            guard let d = dir.withNulTerminated({ opendir($0) }) else { return }
            var names: [[UInt8]] = []
            while let de = readdir(d) {
                let n = withUnsafeBytes(of: de.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
                if n != [0x2E] && n != [0x2E, 0x2E] { names.append(n) }
            }
            closedir(d)
            for n in names {
                let p = dir + [0x2F] + n, r = rel.isEmpty ? n : rel + [0x2F] + n
                var st = stat()
                guard p.withNulTerminated({ lstat($0, &st) }) == 0 else { continue }
                let mode = String(st.st_mode & 0o7777, radix: 8)
                switch st.st_mode & S_IFMT {
                case S_IFDIR:
                    out[r] = "dir \(mode)"
                    walk(p, r)
                case S_IFLNK:
                    var buf = [UInt8](repeating: 0, count: 4096)
                    let k = p.withNulTerminated { pp in buf.withUnsafeMutableBytes { readlink(pp, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) } }
                    out[r] = "link " + T2.hex(Array(buf[0..<max(0, k)]))
                case S_IFIFO:
                    out[r] = "fifo \(mode)"
                default:
                    let fd = p.withNulTerminated { open($0, O_RDONLY | O_CLOEXEC) }
                    var bytes: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 65_536)
                    while fd >= 0 {
                        let k = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                        if k <= 0 { break }
                        bytes += chunk[0..<k]
                    }
                    if fd >= 0 { close(fd) }
                    out[r] = "file \(mode) \(T2.hex(SHA256.hash(bytes))) nlink=\(st.st_nlink)"
                }
            }
        }
        walk(Array(root.utf8), [])
        return out
    }

    @Test func currentCodeReadsTheGoldenV2Vault() throws {
        let root = try makeTemporaryDirectory("golden-v2-copy").path
        try FileManager.default.copyItem(atPath: Self.folder + "/v2", toPath: root + "/vault")
        let v = try Vault.open(at: root + "/vault", passphrase: T2.secret(Self.passphrase), state: RollbackState(directory: root + "/state"))
        #expect(v.format == 2 && !v.upgradeInProgress)
        let report = try v.check(readDataFraction: 1)
        #expect(report.isClean, "\(report.errors)")
        #expect(report.unreferencedPacks.isEmpty && report.unreferencedVersions.isEmpty && report.unlistedIndexFiles.isEmpty)
        // The listing, every field of every entry, is frozen.
        let frozen = try String(contentsOfFile: Self.folder + "/v2-listing.txt", encoding: .utf8)
        let now = try Self.listing(v)
        #expect(now == frozen, "the listing differs from Golden/v2-listing.txt")

        let versions = try v.versions()
        try #require(versions.count == 6)
        var ro = RestoreOptions()
        ro.archiveHandler = ZipArchiveHandler()
        for month in 0..<2 {
            let (id, version) = versions[month]
            #expect(version.rootTree != nil && version.time == Date(timeIntervalSince1970: Self.time + Double(month) * 2_592_000))
            let want = Self.snapshot(try Self.input(try makeTemporaryDirectory("golden-v2-expected").path, month: month))
            let out = try makeTemporaryDirectory("golden-v2-out").path
            try v.restore(id, to: out, options: ro)
            let got = Self.snapshot(out + "/Golden2")
            #expect(got == want, "version \(month + 1): \(Set(got.keys).symmetricDifference(want.keys).map { String(decoding: $0, as: UTF8.self) })")
            #expect(want.count == 11, "the input holds 11 nodes")
        }
        // The hand-built version: a hard link restored as one (two names, one inode), the sparse
        // file with its zeros, the file bytes.
        let out = try makeTemporaryDirectory("golden-v2-crafted").path
        try v.restore(versions[2].id, to: out, options: ro)
        for (e, content) in Self.crafted() where e.type == .file {
            #expect(T2.read(out + "/" + e.path) == content!, "\(e.path)")
        }
        var a = stat(), b = stat()
        #expect(stat(out + "/Crafted/a.bin", &a) == 0 && stat(out + "/Crafted/b-hardlink", &b) == 0)
        #expect(a.st_ino == b.st_ino && a.st_nlink == 2)
        #expect(T2.read(out + "/Crafted/b-hardlink") == Self.crafted()[1].content)

        // Version 4: an Info-ZIP export whose members are kept as content plus deflate recipes
        // (transform version 2) comes back byte for byte (restore checks the zip's SHA-256 too).
        let recipeOut = try makeTemporaryDirectory("golden-v2-recipe-out").path
        try v.restore(versions[3].id, to: recipeOut, options: ro)
        let w = try v.walker(for: versions[3].id, expandArchives: false)
        var zipEntry: VersionEntry?
        let zipName = Array("export-infozip.zip".utf8)
        while let e = try w.next() {
            if e.pathBytes.count >= zipName.count && Array(e.pathBytes.suffix(zipName.count)) == zipName { zipEntry = e }
        }
        let restored = try #require(T2.read(recipeOut + "/Recipe/export-infozip.zip"))
        #expect(T2.hex(SHA256.hash(restored)) == zipEntry?.sha256Hex)
        let plan = try #require(try ZipArchiveHandler().analyse(path: recipeOut + "/Recipe/export-infozip.zip", size: UInt64(restored.count)))
        #expect(plan.parts.contains { $0.transform.first == DeflateRecipe.version })

        // Version 5: layout format 2, the zip's headers, directory and end record inline parts;
        // restore, `cat` of the zip and of a member give the bytes back.
        let inlineOut = try makeTemporaryDirectory("golden-v2-inline-out").path
        try v.restore(versions[4].id, to: inlineOut, options: ro)
        let wantZip = try #require(T2.read(try Self.inlineInput(try makeTemporaryDirectory("golden-v2-inline-in").path) + "/export.zip"))
        #expect(T2.read(inlineOut + "/Inline/export.zip") == wantZip)
        let inlineEntry = try #require(try v.listing(versions[4].id).first { $0.path == "Inline/export.zip" })
        let layout = try v.layoutFromPieces(of: inlineEntry)
        #expect(layout.format == ArchiveLayout.zipInline)
        #expect(layout.parts.filter { $0.kind == .inline }.count >= 2 && layout.parts.last?.kind == .inline)
        #expect(layout.members.allSatisfy { m in m.part.map { layout.parts[$0].kind != .inline } ?? true })
        var cat: [UInt8] = []
        try v.readFile(versions[4].id, path: "Inline/export.zip", archiveHandler: ZipArchiveHandler()) { cat += $0 }
        #expect(cat == wantZip)

        // Version 6: Info-ZIP zips at levels 1 and 6 whose large members are content plus 4-byte
        // recipes with Info-ZIP's own block ends (encoder 2); both come back byte for byte.
        let ownRuleOut = try makeTemporaryDirectory("golden-v2-ownrule-out").path
        try v.restore(versions[5].id, to: ownRuleOut, options: ro)
        let listed = try v.listing(versions[5].id)
        for (name, level) in [("export-zip1.zip", UInt8(1)), ("export-zip6.zip", UInt8(6))] {
            let entry = try #require(listed.first { $0.path == "OwnRule/" + name })
            let restored = try #require(T2.read(ownRuleOut + "/OwnRule/" + name))
            #expect(T2.hex(SHA256.hash(restored)) == entry.sha256Hex, "\(name)")
            let layout = try v.layoutFromPieces(of: entry)
            let recipes = layout.parts.filter { $0.transform.first == DeflateRecipe.version }.map(\.transform)
            #expect(!recipes.isEmpty && recipes.allSatisfy { $0 == [2, 2, level, 0] }, "\(name): \(recipes)")
        }
    }

    /// The golden v2 vault's plaintext fuzz seeds (what `make fuzz-corpus` writes for it):
    /// index, version and head bodies, head names, tree pieces; COFFER_WRITE_FUZZ_V2=<Fuzz/Corpus>.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["COFFER_WRITE_FUZZ_V2"] != nil))
    func writeFuzzSeeds() throws {
        let out = ProcessInfo.processInfo.environment["COFFER_WRITE_FUZZ_V2"]!
        let v = try Vault.open(at: Self.folder + "/v2", passphrase: T2.secret(Self.passphrase), state: nil)
        func put(_ target: String, _ name: String, _ bytes: [UInt8]) throws {
            try FileManager.default.createDirectory(atPath: out + "/" + target, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: out + "/" + target + "/" + name))
        }
        for (folder, kind, target) in [("index", UInt8(1), "index"), ("versions", 2, "version"), ("heads", 3, "head")] {
            for name in try FileManager.default.contentsOfDirectory(atPath: Self.folder + "/v2/" + folder) where !name.hasPrefix(".") {
                let short = String(name.suffix(64).prefix(8))
                try put(target, "golden-v2-\(short)", try v.fuzzingBody(path: folder + "/" + name, kind: kind))
                if kind == 3 { try put("head", "golden-v2-name-\(short)", Array(name.utf8)) }
            }
        }
        for (id, piece) in try v.fuzzingTreePieces() { try put("tree", "golden-v2-\(id.hex.prefix(8))", piece) }
        for (id, layout) in try v.fuzzingLayouts() { try put("layout", "golden-v2-\(id.hex.prefix(8))", layout) }
    }

    @Test("the golden v2 fuzz seeds decode in their targets: tree pieces, index and head bodies encode back to themselves, versions are body_version 3")
    func fuzzSeedsDecode() throws {
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path + "/Fuzz/Corpus"
        var seen: [String: Int] = [:]
        for target in ["tree", "index", "head", "version", "layout"] {
            for name in try FileManager.default.contentsOfDirectory(atPath: corpus + "/" + target)
            where name.hasPrefix("golden-v2-") && !name.hasPrefix("golden-v2-name-") {
                let bytes = try #require(T2.read(corpus + "/" + target + "/" + name))
                switch target {
                case "tree": #expect(try FuzzingEntryPoints.treeRoundTrip(bytes) == bytes, "\(name)")
                case "index": #expect(try FuzzingEntryPoints.indexRoundTrip(bytes) == bytes, "\(name)")
                case "head": #expect(try FuzzingEntryPoints.headRoundTrip(bytes) == bytes, "\(name)")
                case "layout":
                    #expect(try FuzzingEntryPoints.layoutRoundTrip(bytes) == bytes, "\(name)")
                    if bytes.first == ArchiveLayout.zipInline { seen["layout format 2", default: 0] += 1 }
                default:
                    #expect(bytes.first == 3, "\(name)")
                    #expect(try FuzzingEntryPoints.versionRoundTrip(bytes).version.rootTree != nil, "\(name)")
                }
                seen[target, default: 0] += 1
            }
        }
        #expect(seen == ["tree": 14, "index": 5, "head": 6, "version": 5, "layout": 4, "layout format 2": 1])
    }

    @Test("the golden v2 vault's head lists every index file, and upgrade has nothing to do")
    func goldenHeadsAreBodyVersion2() throws {
        let root = try makeTemporaryDirectory("golden-v2-heads").path
        try FileManager.default.copyItem(atPath: Self.folder + "/v2", toPath: root + "/vault")
        let v = try Vault.open(at: root + "/vault", passphrase: T2.secret(Self.passphrase), state: nil)
        #expect(v.head.indexFiles.map(Set.init) == Set(try v.backend.ids(in: .index)))
        #expect(try v.upgrade().alreadyFormat2)
    }
}

/// Small helpers of this file (the CofferCore test helpers are in another test target).
enum T2 {
    static func secret(_ s: String) -> SecureBytes { Array(s.utf8).withUnsafeBytes { SecureBytes(copying: $0) } }
    static func read(_ path: String) -> [UInt8]? { FileManager.default.contents(atPath: path).map { [UInt8]($0) } }
    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }
}

extension Vault {
    /// Commits a format-2 version of `items` (in walk order) through the seal's sealer and tree
    /// builder: each file's content, outside its holes, is stored as chunks; its SHA-256 is that
    /// of the whole content. For entries the file-system seal does not capture yet.
    func commitHandBuilt(_ items: [(entry: VersionEntry, content: [UInt8]?)], name: String, time: Date, host: String) throws -> ObjectID {
        try withWriterLock {
            let sealer = Sealer(vault: self, options: SealOptions(), totalFiles: 0, totalBytes: 0)
            let builder = TreeBuilder(sink: sealer, keys: keys)
            var stats = VersionStats()
            for (entry, content) in items {
                var e = entry
                if e.type == .file, let content {
                    var stored: [UInt8] = []
                    var at = 0
                    for h in e.holes {
                        stored += content[at..<Int(h.offset)]
                        at = Int(h.offset + h.length)
                    }
                    stored += content[at...]
                    var probe = e
                    probe.size = UInt64(stored.count)
                    let r = try sealer.seal(files: [(.bytes(stored), probe)])[0].get()
                    e.chunks = r.chunks
                    e.sha256 = SHA256.hash(content)
                    stats.files += 1
                    stats.bytes += e.size
                }
                switch e.type {
                case .directory: stats.directories += 1
                case .hardlink: stats.hardlinks += 1
                default: break
                }
                try builder.add(e)
            }
            let root = try builder.finish()
            let added = try sealer.finish()
            var newIndex: [ObjectID] = []
            if !added.packs.isEmpty {
                for file in IndexFile.bodyVersion2Files(added.packs) { newIndex.append(try writeMeta(file.encode(), kind: .index)) }
                var batch = ChunkIndex.Batch()
                for p in added.packs { batch.append(pack: p.pack, entries: p.entries) }
                index.add(batch)
            }
            // Every header field set on a copy of the last sealed (format-2) version's header.
            var v = try version(head.live.last!)
            v.name = name
            v.time = time
            v.host = host
            v.tags = ["golden"]
            v.paths = []
            v.parent = nil
            v.stats = stats
            v.notes = []
            v.rawText = nil
            v.rawCounters = nil
            v.rootTree = root
            let id = try writeMeta(v.encode(), kind: .version)
            try commitHead(live: head.live + [id], removed: head.removed, indexFiles: (head.indexFiles ?? []) + newIndex)
            return id
        }
    }
}
