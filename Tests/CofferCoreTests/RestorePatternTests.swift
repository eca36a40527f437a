@testable import CofferCore
import Foundation
import Testing

/// `restore` with include and exclude patterns (``RestorePatterns``, ``SelectedEntries``).
@Suite struct RestorePatternTests {
    static func b(_ s: String) -> [UInt8] { Array(s.utf8) }
    static let cafe: [UInt8] = Array("caf".utf8) + [0xE9] + Array(".txt".utf8)

    /// Writes a file whose path is raw bytes.
    static func write(_ path: [UInt8], _ content: [UInt8]) {
        let fd = (path + [0]).withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY | O_TRUNC, 0o644) }
        }
        precondition(fd >= 0)
        _ = content.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    static func exists(_ path: [UInt8]) -> Bool {
        (path + [0]).withUnsafeBufferPointer { p in p.withMemoryRebound(to: CChar.self) { access($0.baseAddress!, F_OK) == 0 } }
    }

    /// Every file under `root`, relative, sorted (names as raw bytes shown by `TerminalText`).
    static func files(_ root: String) -> [String] {
        var out: [String] = []
        func walk(_ dir: [UInt8], _ rel: [UInt8]) {
            guard let d = (dir + [0]).withUnsafeBufferPointer({ p in p.withMemoryRebound(to: CChar.self) { opendir($0.baseAddress!) } }) else { return }
            defer { closedir(d) }
            while let ent = readdir(d) {
                let name = withUnsafeBytes(of: ent.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
                if name == [0x2E] || name == [0x2E, 0x2E] { continue }
                let path = dir + [0x2F] + name, r = rel.isEmpty ? name : rel + [0x2F] + name
                if Int32(ent.pointee.d_type) == Int32(DT_DIR) { walk(path, r) } else { out.append(TerminalText.escape(bytes: r)) }
            }
        }
        walk(b(root), [])
        return out.sorted()
    }

    static func sealed() throws -> (T.Fixture, ObjectID) {
        let f = try T.vault()
        let d = f.root + "/data"
        T.write(d + "/a.csv", b("a"))
        T.write(d + "/keep.csv", b("k"))
        T.write(d + "/Notes/x.TXT", b("x"))
        T.write(d + "/sub/deep/y.txt", b("y"))
        T.write(d + "/skip/z.txt", b("z"))
        write(b(d + "/") + cafe, b("cafe"))
        return (f, try f.vault.seal([d]).id)
    }

    static func restore(_ f: T.Fixture, _ id: ObjectID, _ label: String, _ edit: (inout RestorePatternLists) -> Void) throws -> [String] {
        var o = RestoreOptions()
        edit(&o.patterns)
        let out = f.root + "/" + label
        try f.vault.restore(id, to: out, options: o)
        return files(out)
    }

    @Test func includeExcludeAndTheirCaseInsensitiveForms() throws {
        let (f, id) = try Self.sealed()
        #expect(Self.files(f.root + "/data").count == 6)
        #expect(try Self.restore(f, id, "o1") { $0.include = [Self.b("*.csv")]; $0.exclude = [Self.b("keep.csv")] } == ["data/a.csv"])
        #expect(try Self.restore(f, id, "o2") { $0.exclude = [Self.b("/data/skip"), Self.b("caf?.txt")] }
            == ["data/Notes/x.TXT", "data/a.csv", "data/keep.csv", "data/sub/deep/y.txt"])
        #expect(try Self.restore(f, id, "o3") { $0.iinclude = [Self.b("notes/*.txt")] } == ["data/Notes/x.TXT"])
        #expect(try Self.restore(f, id, "o4") { $0.include = [Self.b("/data")]; $0.iexclude = [Self.b("*.TXT")] }
            == ["data/a.csv", "data/keep.csv"])
        // Raw bytes: a class holding the byte 0xE9, and `?` on it.
        #expect(try Self.restore(f, id, "o5") { $0.include = [Self.b("caf[") + [0xE9] + Self.b("].txt")] } == ["data/caf\\xe9.txt"])
        #expect(try Self.restore(f, id, "o6") { $0.include = [Self.b("/data/caf?.txt"), Self.b("deep")] } == ["data/caf\\xe9.txt", "data/sub/deep/y.txt"])
        // `**`, and a `!` that takes back part of an include.
        #expect(try Self.restore(f, id, "o7") { $0.include = [Self.b("data/**/*.txt"), Self.b("!skip")] }
            == ["data/caf\\xe9.txt", "data/sub/deep/y.txt"])
        // The folder of an excluded folder's entry is restored without it.
        #expect(try Self.restore(f, id, "o8") { $0.include = [Self.b("sub")]; $0.exclude = [Self.b("y.txt")] } == [])
        #expect(Self.exists(Self.b(f.root + "/o8/data/sub/deep")))
    }

    @Test func anIncludeThatSelectsNothingOrABadPatternFails() throws {
        let (f, id) = try Self.sealed()
        var o = RestoreOptions()
        o.patterns.include = [Self.b("nothing*")]
        o.patterns.exclude = [Self.b("*")]
        let none = #expect(throws: CofferError.self) { try f.vault.restore(id, to: f.root + "/n", options: o) }
        #expect(none.map { "\($0)" } == "nothing* is not in version \(id.short) (see 'coffer ls \(id.short)')")
        // Included and excluded: nothing is selected, which fails as well; the string
        // includes come before the byte ones.
        o.include = ["a.csv"]
        o.patterns.include = [Self.b("b.csv")]
        o.patterns.exclude = [Self.b("a.csv")]
        let both = #expect(throws: CofferError.self) { try f.vault.restore(id, to: f.root + "/m", options: o) }
        #expect(both.map { "\($0)" }?.hasPrefix("a.csv, b.csv is not in version") == true)
        o.patterns.exclude = [Self.b("[a")]
        let bad = #expect(throws: CofferError.self) { try f.vault.restore(id, to: f.root + "/e", options: o) }
        #expect(bad.map { "\($0)" }?.contains("bad pattern '[a': '[' without ']'") == true)
        #expect(access(f.root + "/e", F_OK) != 0, "nothing was made")
    }

    /// The walk does not enter folders no pattern can select; an excluded folder's entries stay
    /// out even when a `!` exclude matches them, but a stand-in in it still feeds a hard link.
    @Test func ruledOutFoldersAreSkippedButStandInsAreFound() throws {
        final class Counting: VersionWalker.Source {
            let inner: ListSource
            var pulled: [String] = []
            init(_ entries: [VersionEntry]) { inner = ListSource(entries) }
            func next() throws -> VersionEntry? {
                let e = try inner.next()
                if let e { pulled.append(e.displayPath) }
                return e
            }
            func skipChildren() { inner.skipChildren() }
        }
        let dir = { (p: String) in VersionEntry.raw(.directory, Self.b(p), mode: 0o755) }
        let file = { (p: String) in VersionEntry.raw(.file, Self.b(p)) }
        let entries = [dir("x"), file("x/1"), dir("x/in"), file("x/in/2"), dir("y"), file("y/1")]
        func pulled(_ lists: RestorePatternLists) throws -> (pulled: [String], selected: [String]) {
            let source = Counting(entries)
            let walker = VersionWalker(source: source, expandArchives: false) { _ in nil }
            let selected = SelectedEntries(walker, patterns: try RestorePatterns(lists))
            var out: [String] = []
            while let (e, _) = try selected.next() { out.append(e.displayPath) }
            return (source.pulled, out)
        }
        var l = RestorePatternLists()
        l.include = [Self.b("/y")]
        #expect(try pulled(l).pulled == ["x", "y", "y/1"])
        #expect(try pulled(l).selected == ["y", "y/1"])
        l.include = [Self.b("y")]  // not anchored: anything may match inside x
        #expect(try pulled(l).pulled.count == 6)
        l = RestorePatternLists()
        l.exclude = [Self.b("x"), Self.b("!x/in")]
        #expect(try pulled(l).pulled == ["x", "y", "y/1"])
        #expect(try pulled(l).selected == ["y", "y/1"])
        l.exclude = [Self.b("x/*"), Self.b("!x/in")]
        #expect(try pulled(l).selected == ["x", "x/in", "x/in/2", "y", "y/1"])

        // A hard link selected, its first name in an excluded folder: the content is found there.
        let (f, payload) = try Self.payloadEntry()
        var a = payload
        a.path = "t/a"
        var c = VersionEntry.raw(.hardlink, Self.b("u/c"), size: payload.size)
        c.hardlinkTargetBytes = Self.b("t/a")
        let walk = [dir("t"), a, VersionEntry.raw(.directory, Self.b("t/w"), mode: 0o755), dir("u"), c]
        var o = RestoreOptions()
        o.patterns.exclude = [Self.b("t"), Self.b("!t/w")]
        let out = f.root + "/links"
        let id = ObjectID.hashing(Self.b("patterns"))
        try f.vault.restore(id, to: out, options: o) { .handBuilt(ListSource(walk)) }
        #expect(T.read(out + "/u/c") == Self.b("payload"))
        #expect(access(out + "/t", F_OK) != 0, "the excluded folder is not made")
    }

    static func payloadEntry() throws -> (T.Fixture, VersionEntry) {
        let f = try T.vault()
        T.write(f.root + "/src/payload", b("payload"))
        let id = try f.vault.seal([f.root + "/src"]).id
        let w = try f.vault.walker(for: id)
        while let e = try w.next() { if e.type == .file { return (f, e) } }
        throw CofferError.pathNotInVersion(path: "src/payload", version: id.short)
    }
}
