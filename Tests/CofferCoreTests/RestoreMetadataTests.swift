@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// Restore gives back owners by name or number, long names either way a new file is made, and
/// goes on past an entry that fails.
@Suite struct RestoreMetadataTests {
    static func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    static func cpath(_ bytes: [UInt8]) -> [CChar] { bytes.map { CChar(bitPattern: $0) } + [0] }

    /// Entries below `root` other than folders whose names start with `.coffer-` (temporary names left behind).
    static func leftovers(_ root: String) -> [String] {
        (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).filter { ($0 as NSString).lastPathComponent.hasPrefix(".coffer-") }
    }

    @Test func ownerIsTakenByNameWhereItResolvesElseByNumber() throws {
        let daemon = try #require(getpwnam("daemon")?.pointee.pw_uid)
        let root = RestoreMetadata(formatTwo: true, numericOwner: false, isRoot: true)
        var e = VersionEntry(type: .file, path: "f", mode: 0o644, mtimeSeconds: 0, mtimeNanoseconds: 0, size: 0)
        e.uid = 4321
        e.gid = 8765
        e.user = Self.b("daemon")
        e.group = Self.b("no-such-group-here")
        #expect(root.owner(e)?.uid == daemon)
        #expect(root.owner(e)?.gid == 8765)
        #expect(RestoreMetadata(formatTwo: true, numericOwner: true, isRoot: true).owner(e).map { [$0.uid, $0.gid] } == [4321, 8765])
        // Format 1 stores no owner; a user other than root gives none back, with one note.
        #expect(RestoreMetadata(formatTwo: false, numericOwner: false, isRoot: true).owner(e) == nil)
        let user = RestoreMetadata(formatTwo: true, numericOwner: false, isRoot: false)
        #expect(user.owner(e) == nil && user.owner(e) == nil)
        #expect(user.takeNotes().count == 1)
    }

    @Test(arguments: [true, false])
    func longNamesRestoreWithAndWithoutUnnamedFiles(unnamed: Bool) throws {
        let f = try TreeTests.vault2()
        let dir = T.scratch("long") + "/top"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let n255 = [UInt8](repeating: 0x78, count: 255), n240 = [UInt8](repeating: 0x79, count: 240)
        TreeTests.writeRaw(dir, n255, Self.b("255"))
        TreeTests.writeRaw(dir, n240, Self.b("240"))
        let r = try f.vault.seal([dir])
        let out = T.scratch("long-out")
        var options = RestoreOptions()
        options.unnamedFiles = unnamed
        options.verify = true
        let result = try f.vault.restore(r.id, to: out, options: options)
        #expect(result.failures.isEmpty, "\(result.failures)")
        #expect(result.files == 2)
        var st = stat()
        #expect(lstat(Self.cpath(Self.b(out + "/top/") + n255), &st) == 0 && st.st_size == 3)
        #expect(lstat(Self.cpath(Self.b(out + "/top/") + n240), &st) == 0 && st.st_size == 3)
        #expect(Self.leftovers(out).isEmpty)
        // Replacing existing files keeps working both ways (rename onto the name).
        var force = options
        force.force = true
        #expect(try f.vault.restore(r.id, to: out, options: force).files == 2)
        #expect(Self.leftovers(out).isEmpty)
    }

    @Test func oneCorruptFileDoesNotStopTheOthers() throws {
        let f = try TreeTests.vault2()
        let dir = T.scratch("corrupt") + "/top"
        T.write(dir + "/bad.bin", T.bytes(200_000, seed: 71))
        T.write(dir + "/good.txt", Self.b("good"))
        T.write(dir + "/sub/also.txt", Self.b("also good"))
        let r = try f.vault.seal([dir])
        let bad = try #require(try TreeTests.entries(f.vault, r.id).first { $0.path == "top/bad.bin" })
        let loc = try #require(f.vault.index.location(of: bad.chunks[0]))
        // Flip one byte inside that chunk's blob in its pack (the AEAD then refuses it).
        let pack = f.path + "/" + VaultFile.pack(loc.pack).path
        #expect(chmod(pack, 0o644) == 0)
        let fd = open(pack, O_RDWR)
        var byte: UInt8 = 0
        #expect(pread(fd, &byte, 1, off_t(loc.offset + 40)) == 1)
        byte ^= 0xFF
        #expect(pwrite(fd, &byte, 1, off_t(loc.offset + 40)) == 1)
        close(fd)

        let out = T.scratch("corrupt-out")
        let result = try f.reopen().restore(r.id, to: out)
        #expect(result.failures.count == 1)
        #expect(result.failures.first?.path.hasSuffix("/top/bad.bin") == true, "\(result.failures)")
        #expect(result.files == 2)
        #expect(T.read(out + "/top/good.txt") == Self.b("good"))
        #expect(T.read(out + "/top/sub/also.txt") == Self.b("also good"))
        #expect(access(out + "/top/bad.bin", F_OK) != 0, "no partial file under the real name")
        #expect(Self.leftovers(out).isEmpty)
    }

    @Test func aFolderThatCannotBeMadeFailsWithWhatIsBelowIt() throws {
        let f = try TreeTests.vault2()
        let dir = T.scratch("locked") + "/top"
        T.write(dir + "/keep/x.txt", Self.b("x"))
        T.write(dir + "/locked/inner/a.txt", Self.b("a"))
        T.write(dir + "/locked/inner/b.txt", Self.b("b"))
        T.write(dir + "/locked/inner/deeper/c.txt", Self.b("c"))
        let r = try f.vault.seal([dir])
        let out = T.scratch("locked-out")
        try FileManager.default.createDirectory(atPath: out + "/top/locked", withIntermediateDirectories: true)
        // Nothing can be made in top/locked: immutable as root (root ignores modes), read-only otherwise.
        if geteuid() == 0 {
            guard (try? ScanFS.run("/usr/bin/chattr", ["+i", out + "/top/locked"])) != nil else { return }  // no chattr on this file system
        } else {
            #expect(chmod(out + "/top/locked", 0o555) == 0)
        }
        defer {
            if geteuid() == 0 { _ = try? ScanFS.run("/usr/bin/chattr", ["-i", out + "/top/locked"]) }
        }
        let result = try f.vault.restore(r.id, to: out)
        #expect(result.failures.count == 1, "\(result.failures)")
        let failure = try #require(result.failures.first)
        #expect(failure.path.hasSuffix("/top/locked/inner"))
        #expect(failure.entriesBelow == 4)  // a.txt, b.txt, deeper, deeper/c.txt
        #expect(T.read(out + "/top/keep/x.txt") == Self.b("x"))
    }

    @Test func verifyReportsAFileChangedAfterItWasWritten() throws {
        let f = try TreeTests.vault2()
        let dir = T.scratch("verify") + "/top"
        T.write(dir + "/a.txt", Self.b("original"))
        T.write(dir + "/b.txt", Self.b("untouched"))
        let r = try f.vault.seal([dir])
        let out = T.scratch("verify-out")
        var options = RestoreOptions()
        options.verify = true
        // Once the files are written (the last progress report), one of them is changed on disk.
        options.progress = { done, total in
            if done == total { T.write(out + "/top/a.txt", Self.b("changed!")) }
        }
        let result = try f.vault.restore(r.id, to: out, options: options)
        #expect(result.failures.count == 1, "\(result.failures)")
        #expect(result.failures.first?.path.hasSuffix("/top/a.txt") == true)
        #expect(result.failures.first?.reason.contains("does not match") == true)
        // Without --verify the change is not seen.
        options.verify = false
        options.force = true
        options.progress = nil
        #expect(try f.vault.restore(r.id, to: out, options: options).failures.isEmpty)
    }
}
