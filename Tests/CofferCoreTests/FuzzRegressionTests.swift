@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// Inputs the fuzz targets in Fuzz/ found (see Fuzz/README.md, "Findings"), kept as ordinary
/// tests so the fixes stay fixed without running a fuzzer.
@Suite struct FuzzRegressionTests {
    /// A version with one archive entry whose single member has `flags`.
    static func archiveVersion(memberFlags flags: UInt8) -> [UInt8] {
        let layout = ArchiveLayout(
            format: ArchiveLayout.zip,
            parts: [ArchivePart(kind: .stored, transform: [], outputSize: 4, contentSize: 4, contentSHA256: SHA256.hash([1, 2, 3, 4]), chunks: [])],
            members: [ArchiveMember(name: "folder/", isDirectory: true, size: 0, mtimeSeconds: 0, part: nil, data: .content, encoding: [])])
        var e = VersionEntry(type: .archive, path: "a.zip", mode: 0o644, mtimeSeconds: 1, mtimeNanoseconds: 0, size: 4)
        e.archive = layout
        let v = Version(
            name: "n", time: Date(timeIntervalSince1970: 1_700_000_000), host: "h", tags: [], paths: [], parent: nil, stats: VersionStats(),
            notes: [], entries: [e])
        var body = v.encode()
        // The member's flags byte follows its name, the last "folder/" in the body.
        let name = Array("folder/".utf8)
        let at = (0...(body.count - name.count)).last { Array(body[$0..<($0 + name.count)]) == name }! + name.count
        #expect(body[at] == 1)
        body[at] = flags
        return body
    }

    /// fuzz-version: an archive member's flags byte 0x72 decoded as "not a folder" and encoded
    /// back as 0: bits 1–7 were ignored instead of rejected, so two different manifests meant the
    /// same thing and a future flag would be silently dropped by this reader.
    @Test func archiveMemberFlagsBeyondBitZeroAreRejected() throws {
        let folder = try Version.decode(Self.archiveVersion(memberFlags: 1))
        #expect(folder.entries[0].archive?.members[0].isDirectory == true)
        _ = try Version.decode(Self.archiveVersion(memberFlags: 0))
        for flags: UInt8 in [2, 3, 0x72, 0x80, 0xFF] {
            #expect(throws: FormatError.self) { try Version.decode(Self.archiveVersion(memberFlags: flags)) }
        }
    }
}
