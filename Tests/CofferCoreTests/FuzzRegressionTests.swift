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
            parts: [ArchivePart(kind: .stored, transform: [], outputSize: 4, contentSize: 4, contentSHA256: SHA256.hash([1, 2, 3, 4]), chunks: [ObjectID.hashing([9])])],
            members: [ArchiveMember(name: "folder/", isDirectory: true, size: 0, mtimeSeconds: 0, part: nil, data: .content, encoding: [])])
        var e = VersionEntry(type: .archive, path: "a.zip", mode: 0o644, mtimeSeconds: 1, mtimeNanoseconds: 0, size: 4)
        e.archive = layout
        let v = Version(
            name: "n", time: Date(timeIntervalSince1970: 1_700_000_000), host: "h", tags: [], paths: [], parent: nil, stats: VersionStats(),
            notes: [], v1Entries: [e])
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
        #expect(folder.v1Entries[0].archive?.members[0].isDirectory == true)
        _ = try Version.decode(Self.archiveVersion(memberFlags: 0))
        for flags: UInt8 in [2, 3, 0x72, 0x80, 0xFF] {
            #expect(throws: FormatError.self) { try Version.decode(Self.archiveVersion(memberFlags: flags)) }
        }
    }

    /// fuzz-meta-envelope: a metadata plaintext of flags 1, body_len 512 MiB and a few
    /// stored bytes made `MetaObject.open` allocate the whole body before zstd failed. A
    /// compressed body is now refused when it claims more than 32 KiB per stored byte, more than
    /// any zstd frame can yield; real bodies, however compressible, still open.
    @Test func compressedMetadataCannotClaimMoreThanZstdCanYield() throws {
        let key = SecureBytes.random(count: 32)
        let vaultID = ObjectID.hashing([7])
        var w = ByteWriter()
        w.u8(1); w.u32(512 << 20); w.u32(16)
        w.raw([0x28, 0xB5, 0x2F, 0xFD] + [UInt8](repeating: 0xAB, count: 12))  // a zstd magic and garbage
        var plain = w.bytes
        plain += [UInt8](repeating: 0, count: Int(Padme.padded(UInt64(plain.count))) - plain.count)
        let file = [MetaKind.version.rawValue, MetaObject.envelopeVersion]
            + AEAD.seal(plain, ad: Array("coffer.meta.v1".utf8) + [MetaKind.version.rawValue] + vaultID.bytes, key: key)
        let error = #expect(throws: FormatError.self) {
            try MetaObject.open(file, kind: .version, vaultID: vaultID, key: key, zstd: Zstd(level: 3))
        }
        #expect(error?.description.contains("impossible for 16 compressed bytes") == true)

        let zeros = [UInt8](repeating: 0, count: 16 << 20)
        let sealed = MetaObject.seal(zeros, kind: .version, vaultID: vaultID, key: key, zstd: Zstd(level: 3))
        #expect(sealed.count < zeros.count / 1000)
        #expect(try MetaObject.open(sealed, kind: .version, vaultID: vaultID, key: key, zstd: Zstd(level: 3)) == zeros)
    }

    /// fuzz-head: `Head.parseFileName` accepted another spelling of a head's name (uppercase hex
    /// in the id; a `+` sign in the generation also parsed), so one head could appear under
    /// several names. Only the name `fileName` writes parses now.
    @Test func onlyCanonicalHeadNamesParse() {
        let id = ObjectID.hashing([1, 2, 3])
        let name = Head.fileName(generation: 0x1000000001, id: id)
        #expect(Head.parseFileName(name)?.generation == 0x1000000001)
        #expect(Head.parseFileName(name)?.id == id)
        let (gen, hex) = (String(name.prefix(16)), id.hex)
        let bad: [String] = [
            "0000001000000001-2563d9dd738a5b61A40cf984dd5ede3dca583140cf984dd5f6740c1267786e86",  // the fuzzer's input
            gen + "-" + hex.uppercased(),
            Head.fileName(generation: 0xab, id: id).uppercased(),
            "+" + String(gen.dropFirst()) + "-" + hex,
            String(gen.dropFirst()) + "-" + hex,
            gen + "-" + String(hex.dropLast()),
            gen + "-" + hex + "-",
            "-" + gen + "-" + hex,
            gen + "--" + hex,
            gen + "-" + hex + "0",
        ]
        for name in bad {
            #expect(Head.parseFileName(name) == nil, "\(name)")
        }
    }

    /// fuzz-version: an archive part's `content_size` was taken as it was, and restore reserves
    /// that many bytes before reading the part's chunks (`Int(content_size)` even traps above
    /// 2^63). A part's content is its chunks, each at most 8 MiB, so a larger claim is refused.
    @Test func archivePartCannotClaimMoreThanItsChunksHold() throws {
        func version(contentSize: UInt64, chunks: Int) -> [UInt8] {
            let part = ArchivePart(
                kind: .transformed, transform: [1, 6, 8, 0, 0xF1], outputSize: 10, contentSize: contentSize, contentSHA256: [UInt8](repeating: 0, count: 32),
                chunks: (0..<chunks).map { ObjectID.hashing([UInt8($0)]) })
            var e = VersionEntry(type: .archive, path: "a.zip", mode: 0o644, mtimeSeconds: 1, mtimeNanoseconds: 0, size: 10)
            e.archive = ArchiveLayout(format: ArchiveLayout.zip, parts: [part], members: [])
            return Version(
                name: "n", time: Date(timeIntervalSince1970: 1_700_000_000), host: "h", tags: [], paths: [], parent: nil,
                stats: VersionStats(), notes: [], v1Entries: [e]).encode()
        }
        let max = UInt64(ChunkSizes.formatMaximum)
        _ = try Version.decode(version(contentSize: 2 * max, chunks: 2))
        _ = try Version.decode(version(contentSize: 0, chunks: 0))
        for (size, chunks) in [(2 * max + 1, 2), (1, 0), (UInt64.max, 1), (1 << 63, 3)] {
            #expect(throws: FormatError.self) { try Version.decode(version(contentSize: size, chunks: chunks)) }
        }
    }
}
