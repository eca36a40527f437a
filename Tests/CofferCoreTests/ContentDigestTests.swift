@testable import CofferCore
import Foundation
import Testing

/// `forget --keep-distinct` reads each version's content digest from the walker.
@Suite struct ContentDigestTests {
    /// On a format-1 vault the digest is the one the version's own entries give (unchanged).
    @Test func formatOneDigestIsUnchanged() throws {
        let f = try T.vault(format: 1)
        let dir = T.scratch("in") + "/d"
        T.write(dir + "/a.txt", Array("a".utf8))
        T.write(dir + "/b-c/d.txt", Array("d".utf8))  // '-' sorts before '/': byte order differs from walk order
        let id = try f.vault.seal([dir]).id
        #expect(try f.vault.contentDigest(of: id) == RetentionPolicy.contentDigest(of: try f.vault.version(id)))
    }

    /// The streamed digest (format 2) sees what a restore produces, raw bytes included, and
    /// ignores times and chunking.
    @Test func streamedDigestSeesContentNotTimes() throws {
        func file(_ path: [UInt8], _ sha: UInt8, mtime: Int64 = 1) -> VersionEntry {
            var e = VersionEntry.raw(.file, path, size: 4)
            e.sha256 = [UInt8](repeating: sha, count: 32)
            e.mtimeSeconds = mtime
            e.chunks = [ObjectID.hashing([sha, UInt8(mtime)])]
            return e
        }
        func digest(_ entries: [VersionEntry]) throws -> ObjectID { try Vault.streamedContentDigest(.handBuilt(ListSource(entries))) }
        let dir = VersionEntry.raw(.directory, Array("d".utf8), mode: 0o755)
        var link = VersionEntry.raw(.hardlink, Array("d/h".utf8))
        link.hardlinkTargetBytes = [0x64, 0x2F, 0xFF]
        let base = try digest([dir, file([0x64, 0x2F, 0xFF], 1), link])
        #expect(try digest([dir, file([0x64, 0x2F, 0xFF], 1, mtime: 99), link]) == base)
        #expect(try digest([dir, file([0x64, 0x2F, 0xFE], 1), link]) != base, "one byte of a name")
        #expect(try digest([dir, file([0x64, 0x2F, 0xFF], 2), link]) != base)
        #expect(try digest([dir, file([0x64, 0x2F, 0xFF], 1)]) != base)
        // Many entries: blocks of about 1 MiB, the same digest however the walk is pulled.
        let big = GeneratedSource(folders: 30, files: 1000)
        let once = try Vault.streamedContentDigest(.handBuilt(big))
        #expect(try Vault.streamedContentDigest(.handBuilt(GeneratedSource(folders: 30, files: 1000))) == once)
        #expect(try Vault.streamedContentDigest(.handBuilt(GeneratedSource(folders: 30, files: 999))) != once)
    }
}
