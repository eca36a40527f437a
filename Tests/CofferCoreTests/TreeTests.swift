@_spi(Fuzzing) @testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// Format 2: tree pieces, their codec and split rule, the builder, the walker over trees, and the
/// streaming seal.
@Suite struct TreeTests {
    // MARK: Helpers

    static func vault2() throws -> T.Fixture {
        let root = T.scratch("vault2")
        let state = RollbackState(directory: root + "/state")
        let v = try Vault.create(at: root + "/vault", passphrase: T.secret("pw"), options: T.cheap, state: state, format: 2)
        return T.Fixture(vault: v, path: root + "/vault", state: state, root: root)
    }

    /// Creates `name` (raw bytes) in folder `dir` with `content`.
    static func writeRaw(_ dir: String, _ name: [UInt8], _ content: [UInt8]) {
        let path = Array(dir.utf8) + [0x2F] + name
        let fd = path.withNulTerminated { open($0, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        precondition(fd >= 0)
        content.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    static func entries(_ v: Vault, _ id: ObjectID) throws -> [VersionEntry] {
        var out: [VersionEntry] = []
        try v.walker(for: id).forEach { out.append($0) }
        return out
    }

    /// The content of a file entry, read chunk by chunk (holes as zeros).
    static func content(_ v: Vault, _ e: VersionEntry) throws -> [UInt8] {
        let readers = PackReaders(vault: v)
        var out: [UInt8] = []
        for c in e.chunks { out += try v.readChunk(c, readers: readers, context: e.path) }
        return out
    }

    /// Bytes of every file in the vault folder.
    static func usage(_ path: String) -> (bytes: Int, files: Set<String>) {
        let files = T.files(in: path)
        return (files.reduce(0) { $0 + (T.read(path + "/" + $1)?.count ?? 0) }, Set(files))
    }

    /// The blob types in the given packs' headers.
    static func blobTypes(_ v: Vault, packs: [String]) throws -> [BlobType: Int] {
        var out: [BlobType: Int] = [:]
        for p in packs {
            let name = (p as NSString).lastPathComponent
            let bytes = T.read(v.location + "/" + p)!
            let entries = try PackFormat.readHeader(packSize: bytes.count, object: p, vaultID: v.vaultID, keys: v.keys) { o, l in Array(bytes[o..<o + l]) }
            _ = name
            for e in entries { out[e.type, default: 0] += 1 }
        }
        return out
    }

    final class MemorySink: TreeBlobSink {
        let keys: VaultKeys
        var stored: [ObjectID: [UInt8]] = [:]
        var writes = 0
        init(keys: VaultKeys) { self.keys = keys }
        func storePiece(_ plaintext: [UInt8], type: BlobType) throws -> ObjectID {
            let id = keys.treeID(of: plaintext)
            writes += 1
            stored[id] = plaintext
            return id
        }
    }

    static let testKeys: VaultKeys = {
        let master = [UInt8](repeating: 0x42, count: 32)
        return VaultKeys(master: master.withUnsafeBytes { SecureBytes(copying: $0) })
    }()

    static func fileEntry(_ path: String, size: UInt64 = 10, seed: UInt8 = 0) -> VersionEntry {
        var e = VersionEntry(type: .file, path: path, mode: 0o644, mtimeSeconds: 1_700_000_000, mtimeNanoseconds: 5, size: size)
        e.sha256 = [UInt8](repeating: seed, count: 32)
        e.chunks = size == 0 ? [] : [ObjectID(bytes: [UInt8](repeating: seed, count: 32))]
        return e
    }

    // MARK: Codec

    @Test func everyNodeKindRoundTrips() throws {
        var nodes: [(name: [UInt8], entry: VersionEntry)] = []
        var f = Self.fileEntry("a", size: 100, seed: 1)
        f.uid = 1000; f.gid = 100; f.user = Array("ada".utf8); f.group = Array("staff".utf8); f.mode = 0o4755
        f.xattrs = [ExtendedAttribute(name: Array("user.a".utf8), value: [1, 2]), ExtendedAttribute(name: Array("user.b".utf8), value: [])]
        f.size = 4196
        f.holes = [Hole(offset: 0, length: 4096)]
        nodes.append(([0x61], f))
        var d = VersionEntry(type: .directory, path: "b", mode: 0o1777, mtimeSeconds: -5, mtimeNanoseconds: 0, size: 0)
        d.subtree = [ObjectID(bytes: [UInt8](repeating: 9, count: 32))]
        nodes.append(([0x62], d))
        var l = VersionEntry(type: .symlink, pathBytes: [0xFF, 0xFE], mode: 0o777, mtimeSeconds: 0, mtimeNanoseconds: 0, size: 3)
        l.linkTargetBytes = [0x80, 0x2F, 0x81]
        nodes.append(([0xFF, 0xFE], l))
        var a = VersionEntry(type: .archive, path: "c.zip", mode: 0o2644, mtimeSeconds: 0, mtimeNanoseconds: 0, size: 50)
        a.sha256 = [UInt8](repeating: 3, count: 32)
        a.layoutIDs = [ObjectID(bytes: [UInt8](repeating: 4, count: 32))]
        nodes.append((Array("c.zip".utf8), a))
        nodes.append((Array("d".utf8), VersionEntry(type: .fifo, path: "d", mode: 0o600, mtimeSeconds: 0, mtimeNanoseconds: 0, size: 0)))
        var c = VersionEntry(type: .charDevice, path: "e", mode: 0o666, mtimeSeconds: 0, mtimeNanoseconds: 0, size: 0)
        c.rdev = 0x0103
        nodes.append((Array("e".utf8), c))
        var b = VersionEntry(type: .blockDevice, path: "f", mode: 0o660, mtimeSeconds: 0, mtimeNanoseconds: 0, size: 0)
        b.rdev = 0x0801
        nodes.append((Array("f".utf8), b))
        var h = VersionEntry(type: .hardlink, path: "g", mode: 0o644, mtimeSeconds: 0, mtimeNanoseconds: 0, size: 4196)
        h.hardlinkTargetBytes = Array("top/a".utf8)
        nodes.append((Array("g".utf8), h))
        nodes.sort { TreeCodec.precedes($0.name, $1.name) }
        var w = ByteWriter()
        for n in nodes { TreeCodec.encodeNode(n.entry, name: n.name, into: &w) }
        #expect(w.bytes.count == nodes.reduce(0) { $0 + TreeCodec.nodeSize($1.entry, name: $1.name) })
        let piece = TreeCodec.piece(count: nodes.count, nodes: w.bytes)
        let back = try TreeCodec.decode(piece)
        #expect(back.map(\.name) == nodes.map(\.name))
        for (x, y) in zip(back, nodes) {
            var expected = y.entry
            expected.pathBytes = y.name
            #expect(x.entry == expected)
        }
    }

    /// A piece of the given nodes, each a one-file node named as given.
    static func crafted(_ names: [[UInt8]], count: Int? = nil, tail: [UInt8] = []) -> [UInt8] {
        var w = ByteWriter()
        for n in names { TreeCodec.encodeNode(fileEntry("x"), name: n, into: &w) }
        return TreeCodec.piece(count: count ?? names.count, nodes: w.bytes + tail)
    }

    @Test func craftedPiecesAreRefused() throws {
        #expect(throws: Never.self) { try TreeCodec.decode(Self.crafted([[0x61], [0x62]])) }
        let refused: [(String, [UInt8])] = [
            ("unsorted", Self.crafted([[0x62], [0x61]])),
            ("duplicate", Self.crafted([[0x61], [0x61]])),
            ("dot-dot", Self.crafted([[0x2E, 0x2E]])),
            ("dot", Self.crafted([[0x2E]])),
            ("slash", Self.crafted([[0x61, 0x2F, 0x62]])),
            ("nul", Self.crafted([[0x61, 0x00]])),
            ("empty name", Self.crafted([[]])),
            ("long name", Self.crafted([[UInt8](repeating: 0x61, count: 256)])),
            ("count too high", Self.crafted([[0x61]], count: 2)),
            ("count too low", Self.crafted([[0x61], [0x62]], count: 1)),
            ("huge count", Self.crafted([[0x61]], count: Int(UInt32.max))),
            ("no nodes", Self.crafted([])),
            ("trailing", Self.crafted([[0x61]], tail: [0])),
            ("newer", [2] + Self.crafted([[0x61]]).dropFirst()),
        ]
        for (what, bytes) in refused {
            #expect(throws: FormatError.self, "\(what)") { try TreeCodec.decode(bytes) }
        }
        // Type-specific checks: holes outside the file, chunks that cannot hold the size, a bad hard link.
        func one(_ e: VersionEntry) -> [UInt8] {
            var w = ByteWriter()
            TreeCodec.encodeNode(e, name: [0x61], into: &w)
            return TreeCodec.piece(count: 1, nodes: w.bytes)
        }
        var f = Self.fileEntry("a", size: 10)
        f.holes = [Hole(offset: 5, length: 10)]
        #expect(throws: FormatError.self) { try TreeCodec.decode(one(f)) }
        f.holes = [Hole(offset: 4, length: 2), Hole(offset: 5, length: 2)]
        #expect(throws: FormatError.self) { try TreeCodec.decode(one(f)) }
        f = Self.fileEntry("a", size: UInt64(ChunkSizes.formatMaximum) + 1)
        #expect(throws: FormatError.self) { try TreeCodec.decode(one(f)) }
        var h = VersionEntry(type: .hardlink, path: "a", mode: 0, mtimeSeconds: 0, mtimeNanoseconds: 0, size: 0)
        h.hardlinkTargetBytes = Array("../etc/passwd".utf8)
        #expect(throws: FormatError.self) { try TreeCodec.decode(one(h)) }
        var d = VersionEntry(type: .directory, path: "a", mode: 0o755, mtimeSeconds: 0, mtimeNanoseconds: 0, size: 1)
        #expect(throws: FormatError.self) { try TreeCodec.decode(one(d)) }
        d.size = 0
        d.mode = 0o10000
        #expect(throws: FormatError.self) { try TreeCodec.decode(one(d)) }
        var x = Self.fileEntry("a")
        x.xattrs = [ExtendedAttribute(name: [0x62], value: []), ExtendedAttribute(name: [0x61], value: [])]
        #expect(throws: FormatError.self) { try TreeCodec.decode(one(x)) }
    }

    // MARK: Split rule and builder

    /// Builds a flat folder `dir` of `names`, returning its pieces and the sink.
    static func build(_ names: [String], change: String? = nil) throws -> (pieces: [ObjectID], sink: MemorySink) {
        let sink = MemorySink(keys: testKeys)
        let b = TreeBuilder(sink: sink, keys: testKeys)
        try b.add(VersionEntry(type: .directory, path: "dir", mode: 0o755, mtimeSeconds: 0, mtimeNanoseconds: 0, size: 0))
        for n in names { try b.add(fileEntry("dir/" + n, seed: n == change ? 7 : 1)) }
        let root = try b.finish()
        #expect(root.count == 1)
        let rootNodes = try TreeCodec.decode(sink.stored[root[0]]!)
        return (rootNodes[0].entry.subtree, sink)
    }

    @Test func oneChangeInALargeFolderRewritesOneOrTwoPieces() throws {
        let names = (0..<100_000).map { String(format: "file-%06d.csv", $0 * 2) }.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        let (before, sink) = try Self.build(names)
        // Nodes of 164 bytes: about 56 to a piece (FORMAT.md, "Splitting a listing").
        #expect(before.count > 1_500 && before.count < 2_200, "\(before.count) pieces")
        var sizes: [Int] = []
        for id in before {
            sizes.append(sink.stored[id]!.count)
            #expect(sink.stored[id]!.count <= TreeSplitter.maximumSize)
        }
        #expect(sizes.dropLast().allSatisfy { $0 >= TreeSplitter.minimumSize })
        // Insert one name in the middle.
        var inserted = names
        inserted.insert("file-050001.csv", at: 25_001)
        let (afterInsert, _) = try Self.build(inserted)
        let newInsert = Set(afterInsert).subtracting(before)
        #expect(newInsert.count >= 1 && newInsert.count <= 2, "insert rewrote \(newInsert.count) pieces")
        // Change one entry.
        let (afterChange, _) = try Self.build(names, change: names[77_777])
        let newChange = Set(afterChange).subtracting(before)
        #expect(newChange.count >= 1 && newChange.count <= 2, "change rewrote \(newChange.count) pieces")
        // Remove one entry.
        var removed = names
        removed.remove(at: 12_345)
        let (afterRemove, _) = try Self.build(removed)
        #expect(Set(afterRemove).subtracting(before).count <= 2)
    }

    @Test func builderRefusesEntriesOutOfOrder() throws {
        let sink = MemorySink(keys: Self.testKeys)
        let b = TreeBuilder(sink: sink, keys: Self.testKeys)
        try b.add(Self.fileEntry("b"))
        #expect(throws: CofferError.self) { try b.add(Self.fileEntry("a")) }
        #expect(throws: CofferError.self) { try b.add(Self.fileEntry("b")) }
        #expect(throws: CofferError.self) { try b.add(Self.fileEntry("x/y")) }  // no folder x
    }

    // MARK: Seal and walk

    @Test func sealAndWalkEveryKind() throws {
        let f = try Self.vault2()
        let dir = T.scratch("kinds") + "/top"
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        T.write(dir + "/plain.txt", T.csv(rows: 50, seed: 1))
        T.write(dir + "/setuid", Array("x".utf8), mode: 0o4755)
        T.write(dir + "/setgid", Array("y".utf8), mode: 0o2755)
        try FileManager.default.createDirectory(atPath: dir + "/sticky", withIntermediateDirectories: true)
        chmod(dir + "/sticky", 0o1777)
        chmod(dir + "/setuid", 0o4755)
        chmod(dir + "/setgid", 0o2755)
        let latin1: [UInt8] = Array("caf".utf8) + [0xE9, 0x2E, 0x74, 0x78, 0x74]  // "café.txt" in Latin-1
        Self.writeRaw(dir, latin1, Array("latin-1 name".utf8))
        #expect(symlink("target-\u{e9}", dir + "/utf8link") == 0)
        let rawTarget: [UInt8] = [0x2E, 0x2E, 0x2F, 0xFF, 0xFE, 0x01]
        let linkPath = Array((dir + "/rawlink").utf8)
        #expect(rawTarget.withNulTerminated { t in linkPath.withNulTerminated { symlink(t, $0) } } == 0)
        #expect(mkfifo(dir + "/pipe", 0o640) == 0)
        var deep = dir
        for i in 0..<40 { deep += "/d\(i)" }
        try FileManager.default.createDirectory(atPath: deep, withIntermediateDirectories: true)
        T.write(deep + "/bottom.txt", Array("deep".utf8))
        for i in 0..<20_000 { T.write(dir + "/many/f\(i)", Array("\(i)".utf8)) }

        let r = try f.vault.seal([dir])
        #expect(r.version.rootTree != nil)
        #expect(r.version.v1Entries.isEmpty)
        let v = try f.reopen()
        let all = try Self.entries(v, r.id)
        // Walk order: component order, every path once.
        for (a, b) in zip(all, all.dropFirst()) { #expect(VersionWalker.precedes(a.pathBytes, b.pathBytes)) }
        func find(_ p: [UInt8]) -> VersionEntry? { all.first { $0.pathBytes == p } }
        func find(_ p: String) -> VersionEntry? { find(Array(p.utf8)) }
        #expect(all.count == 1 + 1 + 3 + 1 + 1 + 2 + 1 + 40 + 1 + 1 + 20_000)
        #expect(find("top/empty")?.type == .directory)
        #expect(find("top/empty")?.subtree == [])
        #expect(find("top/setuid")?.mode == 0o4755)
        #expect(find("top/setgid")?.mode == 0o2755)
        #expect(find("top/sticky")?.mode == 0o1777)
        #expect(find("top/pipe")?.type == .fifo)
        #expect(find("top/pipe")?.mode == 0o640)
        #expect(find(Array("top/".utf8) + latin1)?.type == .file)
        #expect(try find(Array("top/".utf8) + latin1).map { try Self.content(v, $0) } == Array("latin-1 name".utf8))
        #expect(find("top/rawlink")?.linkTargetBytes == rawTarget)
        #expect(find("top/utf8link")?.linkTarget == "target-\u{e9}")
        let plain = find("top/plain.txt")!
        #expect(try Self.content(v, plain) == T.csv(rows: 50, seed: 1))
        #expect(plain.sha256 == SHA256.hash(T.csv(rows: 50, seed: 1)))
        #expect(plain.uid == getuid())
        #expect(try find(deep.dropFirst(dir.count - 3).description + "/bottom.txt").map { try Self.content(v, $0) } == Array("deep".utf8))
        #expect(try Self.content(v, find("top/many/f19999")!) == Array("19999".utf8))
        #expect(r.version.stats.files == 5 + 20_000)
        #expect(r.version.stats.specialFiles == 1)
        #expect(r.version.stats.symlinks == 2)
        #expect(r.version.stats.addedTreePieces > 1)

        // skipChildren: skipping "top/many" leaves out its 20,000 entries and reads none of its pieces.
        let w = try v.walker(for: r.id)
        var seen = 0
        while let e = try w.next() {
            seen += 1
            if e.pathBytes == Array("top/many".utf8) { w.skipChildren() }
            #expect(!ListedEntries.isBelow(e.pathBytes, Array("top/many".utf8)))
        }
        #expect(seen == all.count - 20_000)
    }

    @Test func unchangedResealAddsNoPieceAndNoIndexFile() throws {
        let f = try Self.vault2()
        let dir = T.scratch("same") + "/data"
        for i in 0..<20_000 { T.write(dir + "/d\(i % 20)/f\(i).txt", Array("content \(i)".utf8)) }
        let first = try f.vault.seal([dir])
        let before = Self.usage(f.path)
        let second = try f.vault.seal([dir])
        let after = Self.usage(f.path)
        let added = after.files.subtracting(before.files)
        #expect(added.allSatisfy { $0.hasPrefix("versions/") || $0.hasPrefix("heads/") }, "\(added)")
        #expect(added.count == 2)
        #expect(after.bytes - before.bytes < 4096, "grew by \(after.bytes - before.bytes) bytes")
        #expect(second.version.stats.unchangedFiles == 20_000)
        #expect(second.version.stats.addedTreePieces == 0)
        #expect(second.version.rootTree == first.version.rootTree)
        #expect(second.version.parent == first.id)
    }

    @Test func oneChangedFileInALargeTreeAddsLittle() throws {
        let f = try Self.vault2()
        let dir = T.scratch("one") + "/data"
        for i in 0..<20_000 { T.write(dir + "/big/f\(i).txt", Array("content \(i)".utf8)) }
        _ = try f.vault.seal([dir])
        let before = Self.usage(f.path)
        let changed = T.bytes(300, seed: 9)
        T.write(dir + "/big/f12345.txt", changed)
        let r = try f.vault.seal([dir])
        let after = Self.usage(f.path)
        let newPacks = after.files.subtracting(before.files).filter { $0.hasPrefix("packs/") }
        let packBytes = newPacks.reduce(0) { $0 + T.read(f.path + "/" + $1)!.count }
        #expect(r.version.stats.addedChunks == 1)
        #expect(r.version.stats.addedTreePlainBytes <= 64 << 10, "\(r.version.stats.addedTreePlainBytes) bytes of tree pieces")
        #expect(packBytes <= (64 << 10) + changed.count, "packs grew by \(packBytes)")
        #expect(try Self.blobTypes(f.vault, packs: Array(newPacks))[.layout] == nil)
        let v = try f.reopen()
        let e = try Self.entries(v, r.id).first { $0.path == "data/big/f12345.txt" }!
        #expect(try Self.content(v, e) == changed)
    }

    @Test func identicalArchiveAddsNoLayoutPieces() throws {
        let f = try Self.vault2()
        var o = SealOptions()
        o.archiveHandler = ToyArchiveHandler()
        let dir = T.scratch("arc") + "/e"
        let payload = T.csv(rows: 400, seed: 3)
        T.write(dir + "/a.toy", ToyArchiveHandler.magic + payload)
        let first = try f.vault.seal([dir], options: o)
        let a = try Self.entries(f.vault, first.id).first { $0.path == "e/a.toy" }!
        #expect(a.type == .archive)
        #expect(!a.layoutIDs.isEmpty)
        let layout = try f.vault.archiveLayout(of: a)
        #expect(layout?.members.count == 4)
        let before = Self.usage(f.path)
        T.write(dir + "/b.toy", ToyArchiveHandler.magic + payload)  // same bytes, another inode: read again
        let second = try f.vault.seal([dir], options: o)
        let after = Self.usage(f.path)
        let newPacks = after.files.subtracting(before.files).filter { $0.hasPrefix("packs/") }
        #expect(try Self.blobTypes(f.vault, packs: Array(newPacks))[.layout] == nil)
        let b = try Self.entries(f.vault, second.id).first { $0.path == "e/b.toy" }!
        #expect(b.layoutIDs == a.layoutIDs)
        // Expanded, the walker lists its members.
        let expanded = try f.vault.walker(for: second.id, expandArchives: true)
        var members: [String] = []
        try expanded.forEach { if $0.path.hasPrefix("e/b.toy/") { members.append($0.path) } }
        #expect(members.contains("e/b.toy/inner.txt"))
    }

    @Test func pieceOfAnotherTypeDoesNotOpen() throws {
        let f = try Self.vault2()
        let dir = T.scratch("type") + "/d"
        T.write(dir + "/x", Array("x".utf8))
        let r = try f.vault.seal([dir])
        let root = r.version.rootTree!
        #expect(throws: Never.self) { try f.vault.readPiece(root[0], type: .tree, readers: PackReaders(vault: f.vault), context: "t") }
        #expect(throws: CofferError.self) { try f.vault.readPiece(root[0], type: .layout, readers: PackReaders(vault: f.vault), context: "t") }
        #expect(throws: CofferError.self) { try f.vault.readPiece(root[0], type: .data, readers: PackReaders(vault: f.vault), context: "t") }
    }

    @Test func versionBody3RoundTrips() throws {
        var v = Version(
            name: "n", time: Date(timeIntervalSince1970: 1_700_000_000.25), host: "h", tags: ["t"], paths: ["/p"], parent: nil,
            stats: VersionStats(), notes: ["note"], v1Entries: [])
        v.stats.files = 3
        v.stats.hardlinks = 2
        v.stats.addedTreePieces = 7
        v.rootTree = [ObjectID(bytes: [UInt8](repeating: 1, count: 32))]
        let body = v.encode()
        #expect(body[0] == 3)
        let back = try Version.decode(body)
        #expect(back.rootTree == v.rootTree)
        #expect(back.stats == v.stats)
        #expect(back.notes == ["note"])
        #expect(back.paths == ["/p"])
        #expect(throws: FormatError.self) { try Version.decode(body + [0]) }
    }

    @Test func formatOneVaultStillSealsFormatOneVersions() throws {
        let f = try T.vault(format: 1)
        #expect(f.vault.format == 1)
        let dir = T.scratch("f1") + "/d"
        T.write(dir + "/ok.txt", Array("ok".utf8))
        Self.writeRaw(dir, [0x61, 0xFF], Array("bad".utf8))
        #expect(mkfifo(dir + "/pipe", 0o600) == 0)
        let r = try f.vault.seal([dir])
        #expect(r.version.rootTree == nil)
        #expect(r.version.v1Entries.map(\.path).sorted() == ["d", "d/ok.txt"])
        #expect(r.version.notes.contains { $0.contains("not UTF-8") })
        #expect(r.version.notes.contains { $0.contains("pipe") })
        let v = try f.reopen()
        #expect(try v.version(r.id).v1Entries.count == 2)
    }
}

/// The fuzz-tree target's invariant on its seed and on crafted variants: what decodes encodes
/// back to the same bytes, and every refusal is a FormatError the readers report.
@Suite struct TreeFuzzRegressionTests {
    @Test func seedRoundTripsAndMutationsAreHandled() throws {
        let seed = FuzzingEntryPoints.treeSeed()
        #expect(try FuzzingEntryPoints.treeRoundTrip(seed) == seed)
        // Every single-byte change either decodes to itself or is refused as damage.
        for i in stride(from: 0, to: seed.count, by: 3) {
            var m = seed
            m[i] ^= 0x80
            do { #expect(try FuzzingEntryPoints.treeRoundTrip(m) == m) } catch { #expect(error is CofferError) }
        }
        // Every truncation is refused.
        for n in stride(from: 0, to: seed.count, by: 7) {
            #expect(throws: CofferError.self) { try FuzzingEntryPoints.treeRoundTrip(Array(seed.prefix(n))) }
        }
    }
}

extension TreeFuzzRegressionTests {
    /// A body_version 3 with a host and a note that are not UTF-8 and counters this build does
    /// not know decodes, and encodes back to the same bytes (the fuzz-version invariant).
    @Test func versionBody3KeepsRawBytesAndUnknownCounters() throws {
        var w = ByteWriter()
        w.u8(3); w.string("n"); w.i64(1_700_000_000); w.u32(0)
        w.blob([0x68, 0xFF])  // host
        w.u32(0)  // tags
        w.u32(1); w.blob([0x2F, 0xFE])  // paths
        w.u8(0)
        w.u32(15); for i in 0..<15 { w.u64(UInt64(i)) }
        w.u32(1); w.blob([0x80])  // notes
        w.u32(1); w.id(ObjectID(bytes: [UInt8](repeating: 5, count: 32)))
        let body = w.bytes
        let (v, again) = try FuzzingEntryPoints.versionRoundTrip(body)
        #expect(again == body)
        #expect(v.stats.files == 0 && v.stats.directories == 1 && v.stats.addedTreePlainBytes == 12)
        #expect(v.rootTree?.count == 1)
    }
}

extension TreeFuzzRegressionTests {
    /// The seed in Fuzz/Corpus/tree is the entry point's seed (what `make fuzz-corpus` writes).
    @Test func corpusSeedIsCurrent() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let seed = T.read(repo.path + "/Fuzz/Corpus/tree/every-kind")
        #expect(seed == FuzzingEntryPoints.treeSeed())
    }
}
