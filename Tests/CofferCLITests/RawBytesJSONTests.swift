@testable import coffer
import CofferCore
import Foundation
import Testing

/// `ls --json` and `diff --json` are lossless: a name (or link target) that is not UTF-8 is
/// given exactly, in base64, beside its display form. (Format-1 versions hold UTF-8 names only;
/// the entries here are built by hand, as format-2 versions will carry them.)
@Suite("Raw-byte names in JSON")
struct RawBytesJSONTests {
    private static func object(_ value: some Encodable) throws -> [String: Any] {
        let data = try JSONEncoder().encode(value)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    private static func decoded(_ base64: Any?) -> [UInt8]? {
        (base64 as? String).flatMap { Data(base64Encoded: $0) }.map { Array($0) }
    }

    @Test func lsEntriesCarryTheExactBytes() throws {
        let name = Array("docs/caf".utf8) + [0xE9, 0x0A] + Array(".txt".utf8)
        var link = VersionEntry(type: .symlink, pathBytes: name, mode: 0o777, mtimeSeconds: 0, mtimeNanoseconds: 0, size: 3)
        link.linkTargetBytes = [0xFF, 0x2F, 0x61]
        let json = try Self.object(LsJSON.Entry(link))
        #expect(Self.decoded(json["path_bytes"]) == name)
        #expect(json["path"] as? String == "docs/caf\u{FFFD}\n.txt")
        #expect(Self.decoded(json["link_target_bytes"]) == link.linkTargetBytes)
        #expect(json["type"] as? String == "symlink")

        // Valid UTF-8: no bytes field.
        let plain = try Self.object(LsJSON.Entry(VersionEntry(type: .file, path: "docs/é.txt", mode: 0o644, mtimeSeconds: 0, mtimeNanoseconds: 0, size: 1)))
        #expect(plain["path"] as? String == "docs/é.txt")
        #expect(plain["path_bytes"] == nil)

        var hard = VersionEntry(type: .hardlink, pathBytes: [0x61, 0x80], mode: 0o644, mtimeSeconds: 0, mtimeNanoseconds: 0, size: 1)
        hard.hardlinkTargetBytes = [0x62, 0x81]
        let h = try Self.object(LsJSON.Entry(hard))
        #expect(h["type"] as? String == "hardlink")
        #expect(Self.decoded(h["hardlink_target_bytes"]) == [0x62, 0x81])
        #expect(Self.decoded(h["path_bytes"]) == [0x61, 0x80])
    }

    @Test func diffItemsCarryTheExactBytes() throws {
        let name: [UInt8] = [0x64, 0x2F, 0xC3, 0x28]  // "d/" and an invalid two-byte sequence
        let e = VersionEntry(type: .file, pathBytes: name, mode: 0o644, mtimeSeconds: 0, mtimeNanoseconds: 0, size: 4)
        let json = try Self.object(FileDiffJSON.Item(.added(e)))
        #expect(Self.decoded(json["path_bytes"]) == name)
        #expect(json["change"] as? String == "added")
        #expect(json["size_after"] as? Int == 4)
    }

    /// The streamed document is the one `JSONOutput.print` writes for the whole value.
    @Test func theStreamedDocumentParsesAsOne() throws {
        struct Whole: Encodable {
            var compared: [String]
            var files: [[String: Int]]
            var unchanged: Int
        }
        let whole = Whole(compared: ["a", "b"], files: [["x": 1], ["y": 2]], unchanged: 3)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let expected = String(decoding: try encoder.encode(whole), as: UTF8.self)
        var text = ""
        let stream = try JSONArrayStream(key: "files", leading: FileDiffJSON.Leading(compared: ["a", "b"])) { text += $0 + ($1 ? "\n" : "") }
        try stream.append(["x": 1])
        try stream.append(["y": 2])
        try stream.finish(FileDiffJSON.Trailing(unchanged: 3))
        #expect(text == expected + "\n")

        // No leading fields, no elements.
        struct Empty: Encodable {
            var entries: [Int]
            var id: String
        }
        var empty = ""
        let none = try JSONArrayStream(key: "entries") { empty += $0 + ($1 ? "\n" : "") }
        struct Id: Encodable { var id: String }
        try none.finish(Id(id: "x"))
        let parsed = try JSONSerialization.jsonObject(with: Data(empty.utf8)) as? [String: Any]
        #expect((parsed?["entries"] as? [Any])?.isEmpty == true && parsed?["id"] as? String == "x")
    }
}
