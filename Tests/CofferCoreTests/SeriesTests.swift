@testable import CofferCore
import Foundation
import Testing

/// Parent choice by name, host and paths; list filters and groups on versions.
@Suite("Series")
struct SeriesTests {
    @Test func anotherHostIsNotAParent() throws {
        let f = try T.vault()
        let dir = T.scratch("in") + "/src"
        T.write(dir + "/a.txt", Array("one".utf8))
        var o = SealOptions()
        o.host = "laptop"
        let first = try f.vault.seal([dir], options: o)
        #expect(first.warnings.isEmpty)
        let same = try f.vault.seal([dir], options: o)
        #expect(same.version.parent == first.id)
        #expect(same.version.stats.unchangedFiles == 1)

        o.host = "desktop"
        let other = try f.vault.seal([dir], options: o)
        #expect(other.version.parent == nil)
        #expect(other.version.name == "src")
        #expect(other.version.stats.unchangedFiles == 0)
        #expect(other.warnings.count == 1)
        #expect(other.warnings.first?.contains("host laptop") == true)

        // Forced: any live version.
        o.parent = first.id
        let forced = try f.vault.seal([dir], options: o)
        #expect(forced.version.parent == first.id)
        #expect(forced.warnings.isEmpty)
    }

    /// The path set is a set: the order given to seal does not matter.
    @Test func pathOrderDoesNotMatter() throws {
        let f = try T.vault()
        let root = T.scratch("in")
        T.write(root + "/a/x.txt", Array("x".utf8))
        T.write(root + "/b/y.txt", Array("y".utf8))
        var o = SealOptions()
        o.name = "both"
        let first = try f.vault.seal([root + "/a", root + "/b"], options: o)
        let second = try f.vault.seal([root + "/b", root + "/a"], options: o)
        #expect(second.version.parent == first.id)
        #expect(second.warnings.isEmpty)
    }

    @Test func filtersAndGroups() {
        func v(_ host: String, _ paths: [[UInt8]], _ tags: [String]) -> Version {
            var v = Version(
                name: "n", time: Date(), host: host, tags: tags, paths: paths.map { String(decoding: $0, as: UTF8.self) }, parent: nil,
                stats: VersionStats(), notes: [], v1Entries: [])
            v.rawText = (Array(host.utf8), paths, [])
            return v
        }
        let odd: [UInt8] = Array("/data/caf".utf8) + [0xE9]  // Latin-1, not UTF-8
        let a = v("h1", [Array("/data/a".utf8), odd], ["x", "y"])
        let b = v("h2", [Array("/data/a".utf8)], ["y"])
        #expect(VersionFilter(hosts: ["h1"]).matches(a) && !VersionFilter(hosts: ["h1"]).matches(b))
        #expect(VersionFilter(hosts: ["h1", "h2"]).matches(b))
        #expect(VersionFilter(paths: ["/data/a/"]).matches(b))
        #expect(VersionFilter(paths: ["a"], workingDirectory: "/data").matches(b))
        #expect(!VersionFilter(paths: ["/data/a", "/data/b"]).matches(a))
        var bytes = VersionFilter()
        bytes.paths = [odd]
        #expect(bytes.matches(a) && !bytes.matches(b))
        #expect(VersionFilter(tagLists: [["x", "y"]]).matches(a) && !VersionFilter(tagLists: [["x", "y"]]).matches(b))
        #expect(VersionFilter(tagLists: [["x"], ["y"]]).matches(b))

        var fields = VersionGroupKey.Fields(parsing: "paths,host")!
        #expect(fields.host && fields.paths && !fields.tags)
        #expect(VersionGroupKey.Fields(parsing: "colour") == nil)
        #expect(VersionGroupKey(a, by: fields) != VersionGroupKey(b, by: fields))
        fields = VersionGroupKey.Fields(parsing: "tags")!
        #expect(VersionGroupKey(a, by: fields).description == "tags x,y")
        fields.paths = true
        #expect(VersionGroupKey(a, by: fields).description.contains("\\xe9"))
    }
}
