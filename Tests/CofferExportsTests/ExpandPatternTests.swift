// ExpandPatternTests.swift: restore patterns select an archive as one entry, expanded or not;
// a member path (`Export.zip/ok.txt`) selects nothing, as before patterns had this syntax.

import CofferCore
import CofferCrypto
import Foundation
import Testing

@testable import CofferExports

@Suite struct ExpandPatternTests {
    @Test func archivesAreSelectedWhole() throws {
        let dir = try makeTemporaryDirectory("expandpatterns")
        defer { removeTemporaryDirectory(dir) }
        let input = dir.path + "/in"
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        var w = ZipWriter(options: ZipWriter.Options())
        let time = try ZipWriter.DOSTimestamp(year: 2024, month: 3, day: 1)
        try w.addFile("ok.txt", contents: Array("fine".utf8), modified: time)
        try Data(try w.finish()).write(to: URL(fileURLWithPath: input + "/Export.zip"))
        try Data("other".utf8).write(to: URL(fileURLWithPath: input + "/other.txt"))
        var vo = VaultOptions()
        vo.kdf = .insecureTestOnly
        let pass = Array("zip tests".utf8).withUnsafeBytes { SecureBytes(copying: $0) }
        let vault = try Vault.create(at: dir.path + "/vault", passphrase: pass, options: vo, state: RollbackState(directory: dir.path + "/state"))
        var so = SealOptions()
        so.archiveHandler = ZipArchiveHandler()
        let id = try vault.seal([input], options: so).id

        func restore(_ to: String, expand: Bool, _ edit: (inout RestorePatternLists) -> Void) throws -> [String] {
            var ro = RestoreOptions()
            ro.archiveHandler = ZipArchiveHandler()
            ro.expandArchives = expand
            edit(&ro.patterns)
            try vault.restore(id, to: dir.path + "/" + to, options: ro)
            var out: [String] = []
            let e = FileManager.default.enumerator(atPath: dir.path + "/" + to)
            while let rel = e?.nextObject() as? String { out.append(rel) }
            return out.sorted()
        }
        #expect(throws: CofferError.self, "case counts") { try restore("a", expand: true) { $0.include = [Array("*.ZIP".utf8)] } }
        #expect(throws: CofferError.self) { try restore("b", expand: true) { $0.include = [Array("Export.zip/ok.txt".utf8)] } }
        #expect(try restore("c", expand: true) { $0.iinclude = [Array("*.ZIP".utf8)] } == ["in", "in/Export", "in/Export/ok.txt"])
        #expect(try restore("d", expand: false) { $0.include = [Array("/in/Export.zip".utf8)] } == ["in", "in/Export.zip"])
        #expect(try restore("e", expand: true) { $0.exclude = [Array("Export.zip".utf8)] } == ["in", "in/other.txt"])
    }
}
