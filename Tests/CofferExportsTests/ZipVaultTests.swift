// ZipVaultTests.swift: zips sealed into a vault member by member, restored byte for byte.

import CofferCore
import CofferCrypto
import Foundation
import Testing

@testable import CofferExports
@testable import ExportGenerator

/// A vault with the test-only Argon2id profile in a temporary folder.
private func makeVault(_ dir: URL) throws -> Vault {
    var o = VaultOptions()
    o.kdf = .insecureTestOnly
    let pass = Array("zip tests".utf8).withUnsafeBytes { SecureBytes(copying: $0) }
    return try Vault.create(at: dir.path + "/vault", passphrase: pass, options: o, state: RollbackState(directory: dir.path + "/state"))
}

private func sealOptions() -> SealOptions {
    var o = SealOptions()
    o.archiveHandler = ZipArchiveHandler()
    o.name = "linkedin"
    return o
}

private func restoreOptions(expand: Bool = false) -> RestoreOptions {
    var o = RestoreOptions()
    o.archiveHandler = ZipArchiveHandler()
    o.expandArchives = expand
    return o
}

private func write(_ bytes: [UInt8], to path: String) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

private func read(_ path: String) -> [UInt8]? { FileManager.default.contents(atPath: path).map { [UInt8]($0) } }

@Suite struct ZipVaultTests {
    @Test func generatedExportsRoundTripAndDeduplicateMemberByMember() throws {
        let dir = try makeTemporaryDirectory("zipvault")
        defer { removeTemporaryDirectory(dir) }
        let vault = try makeVault(dir)
        let series = smallSeries(seed: 21, months: 3, connections: 800, messagesBytes: 120_000)
        var results: [SealResult] = []
        var zips: [[UInt8]] = []
        for export in series {
            let zip = try export.zipArchive()
            zips.append(zip)
            let path = dir.path + "/in/" + export.zipFileName
            try write(zip, to: path)
            results.append(try vault.seal([path], options: sealOptions()))
        }
        for (r, zip) in zip(results, zips) {
            let entry = try #require(try vault.listing(r.id).first)
            #expect(entry.type == .archive)
            #expect(entry.sha256 == SHA256.hash(zip))
            #expect(entry.archive?.members.allSatisfy { $0.data == .content } == true, "every LinkedIn member reproduces")
        }
        // Members unchanged since the previous export cost nothing (same chunks); what a later
        // export adds is bounded by its changed members plus the zip's own headers.
        for k in 1..<results.count {
            let before = Dictionary(uniqueKeysWithValues: series[k - 1].members.map { ($0.path, $0.contents) })
            let prevEntries = Dictionary(uniqueKeysWithValues: try vault.listing(results[k - 1].id, expandArchives: true).map { (String($0.path.split(separator: "/", maxSplits: 1).last ?? ""), $0) })
            let entries = Dictionary(uniqueKeysWithValues: try vault.listing(results[k].id, expandArchives: true).map { (String($0.path.split(separator: "/", maxSplits: 1).last ?? ""), $0) })
            var changedBytes = 0
            var unchanged = 0
            for m in series[k].members {
                if before[m.path] == m.contents {
                    unchanged += 1
                    #expect(entries[m.path]?.chunks == prevEntries[m.path]?.chunks, "\(m.path) unchanged but stored again")
                } else {
                    changedBytes += m.contents.count
                }
            }
            #expect(unchanged >= 10)
            let container = try vault.listing(results[k].id)[0].archive!.parts.filter { $0.kind == .stored }.reduce(0) { $0 + Int($1.contentSize) }
            #expect(results[k].version.stats.addedPlainBytes <= UInt64(changedBytes + container), "export \(k)")
        }
        // Every export comes back byte for byte, through a freshly opened vault.
        let pass = Array("zip tests".utf8).withUnsafeBytes { SecureBytes(copying: $0) }
        let reopened = try Vault.open(at: dir.path + "/vault", passphrase: pass, state: RollbackState(directory: dir.path + "/state"))
        for (k, r) in results.enumerated() {
            let out = dir.path + "/out\(k)"
            try reopened.restore(r.id, to: out, options: restoreOptions())
            #expect(read(out + "/" + series[k].zipFileName) == zips[k])
        }
        #expect(try reopened.check(readDataFraction: 1).isClean)
    }

    @Test func membersExpandAndReadOneByOne() throws {
        let dir = try makeTemporaryDirectory("zipexpand")
        defer { removeTemporaryDirectory(dir) }
        let vault = try makeVault(dir)
        let export = smallSeries(seed: 5, months: 1, connections: 300, messagesBytes: 40_000)[0]
        let path = dir.path + "/in/" + export.zipFileName
        try write(try export.zipArchive(), to: path)
        let r = try vault.seal([path], options: sealOptions())
        let listed = try vault.listing(r.id, expandArchives: true).map(\.path)
        #expect(listed.contains(export.zipFileName + "/Connections.csv"))
        var got: [UInt8] = []
        try vault.readFile(r.id, path: export.zipFileName + "/Connections.csv", archiveHandler: ZipArchiveHandler()) { got += $0 }
        #expect(got == export.member("Connections.csv")?.contents)
        let out = dir.path + "/expanded"
        try vault.restore(r.id, to: out, options: restoreOptions(expand: true))
        for m in export.members {
            #expect(read(out + "/" + export.baseName + "/" + m.path) == m.contents, "\(m.path)")
        }
    }

    @Test func zipsFromOtherToolsComeBackExactly() throws {
        let dir = try makeTemporaryDirectory("zipothers")
        defer { removeTemporaryDirectory(dir) }
        let vault = try makeVault(dir)
        let src = dir.path + "/src"
        try FileManager.default.createDirectory(atPath: src + "/data", withIntermediateDirectories: true)
        var text = ""
        for i in 0..<4_000 { text += "\(i),Name \(i % 97),https://example.com/in/\(i * 7919 % 10007),Company \(i % 13)\n" }
        try Data(text.utf8).write(to: URL(fileURLWithPath: src + "/data/Connections.csv"))
        try Data((0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }).write(to: URL(fileURLWithPath: src + "/data/photo.bin"))
        let py = try runPython("""
            import zipfile, sys, os
            src, out = sys.argv[1], sys.argv[2]
            with zipfile.ZipFile(out + '/python.zip', 'w', zipfile.ZIP_DEFLATED) as z:
                z.write(src + '/data/Connections.csv', 'Connections.csv'); z.write(src + '/data/photo.bin', 'media/photo.bin')
                z.comment = b'exported by a test'
            with zipfile.ZipFile(out + '/stored.zip', 'w', zipfile.ZIP_STORED) as z:
                z.write(src + '/data/Connections.csv', 'Connections.csv')
            with zipfile.ZipFile(out + '/zip64.zip', 'w', zipfile.ZIP_DEFLATED, allowZip64=True) as z:
                with z.open('Connections.csv', 'w', force_zip64=True) as f: f.write(open(src + '/data/Connections.csv', 'rb').read())
            with zipfile.ZipFile(out + '/empty.zip', 'w') as z: pass
            """, [src, src])
        #expect(py.status == 0, "\(py.error)")
        var names = ["python.zip", "stored.zip", "zip64.zip", "empty.zip"]
        if (try? runProgram("zip", ["-v"]))?.status == 0 {
            let z = Process()
            z.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            z.arguments = ["zip", "-q", "-9", "-r", src + "/infozip.zip", "data"]
            z.currentDirectoryURL = URL(fileURLWithPath: src)
            try z.run()
            z.waitUntilExit()
            names.append("infozip.zip")
        }
        var o = sealOptions()
        o.name = "others"
        let r = try vault.seal(names.map { src + "/" + $0 }, options: o)
        for name in names {
            #expect(try vault.listing(r.id).first { $0.path == name }?.type == .archive, "\(name) stored member by member")
        }
        let out = dir.path + "/out"
        try vault.restore(r.id, to: out, options: restoreOptions())
        for name in names {
            #expect(read(out + "/" + name) == read(src + "/" + name), "\(name) byte for byte")
        }
    }

    @Test func aDamagedZipIsSealedAsAnOrdinaryFileWithANote() throws {
        let dir = try makeTemporaryDirectory("zipdamaged")
        defer { removeTemporaryDirectory(dir) }
        let vault = try makeVault(dir)
        let export = smallSeries(seed: 9, months: 1, connections: 200, messagesBytes: 20_000)[0]
        var zip = try export.zipArchive()
        zip.removeLast(10)  // cuts into the end record
        let path = dir.path + "/in/broken.zip"
        try write(zip, to: path)
        let r = try vault.seal([path], options: sealOptions())
        #expect(try vault.listing(r.id).first?.type == .file)
        #expect(r.version.notes.contains { $0.hasPrefix("broken.zip: looks like an archive but could not be read as one") })
        let out = dir.path + "/out"
        try vault.restore(r.id, to: out, options: restoreOptions())
        #expect(read(out + "/broken.zip") == zip)
    }

    @Test func transformBytesRoundTripAndAreChecked() {
        let p = DeflateParameters(level: 9, memLevel: 9, strategy: .filtered, windowBits: -15)
        #expect(ZipArchiveHandler.parameters(ZipArchiveHandler.transform(p)) == p)
        #expect(ZipArchiveHandler.parameters([1, 0, 8, 0, 241]) == nil)
        #expect(ZipArchiveHandler.parameters([2, 6, 8, 0, 241]) == nil)
        #expect(ZipArchiveHandler.unixTime(try! ZipWriter.DOSTimestamp(year: 2023, month: 7, day: 11, hour: 10, minute: 30, second: 4)) == 1_689_071_404)
    }
}
