@testable import CofferCore
import Foundation
import Testing

/// `diff` merges two walks: raw-byte names, identical subtrees skipped by their pieces, the
/// renamed root, and nothing held but the current entry of each side.
@Suite struct StreamingDiffTests {
    private static func file(_ path: [UInt8], _ sha: UInt8, size: UInt64 = 1) -> VersionEntry {
        var e = VersionEntry.raw(.file, path, size: size)
        e.sha256 = [UInt8](repeating: sha, count: 32)
        return e
    }

    private static func diff(_ a: [VersionEntry], _ b: [VersionEntry], rename: ([UInt8], [UInt8])? = nil) throws -> ([VersionDiff.Change], VersionDiff.Summary) {
        var changes: [VersionDiff.Change] = []
        let summary = try VersionDiff.compare(
            .handBuilt(ListSource(a)), .handBuilt(ListSource(b)), renamedRoot: rename.map { (before: $0.0, after: $0.1) }) { changes.append($0) }
        return (changes, summary)
    }

    /// Names that are not UTF-8, and names that differ only in bytes that decode alike, are
    /// reported with their exact bytes.
    @Test func rawByteNamesAreComparedAndReportedExactly() throws {
        let dir = VersionEntry.raw(.directory, Array("d".utf8), mode: 0o755)
        let latin1 = Array("d/caf".utf8) + [0xE9]  // "café" in Latin-1
        let broken = Array("d/x".utf8) + [0xFF]
        let alsoBroken = Array("d/x".utf8) + [0xFE]  // decodes to the same U+FFFD as 0xFF
        let before = [dir, Self.file(latin1, 1), Self.file(broken, 2)]
        let after = [dir, Self.file(latin1, 9), Self.file(alsoBroken, 2)]
        let (changes, summary) = try Self.diff(before, after)
        #expect(changes.map(\.pathBytes) == [latin1, alsoBroken, broken])
        #expect(changes.map { c -> String in
            switch c {
            case .added: return "+"
            case .removed: return "-"
            case .changed: return "M"
            }
        } == ["M", "+", "-"])
        #expect(summary.unchanged == 1)
    }

    /// Folders with the same tree pieces are one unchanged entry: what is below is not read
    /// (here it differs, which a real version could not, to show it is skipped). Folders with
    /// different pieces are walked.
    @Test func identicalSubtreesAreSkippedByTheirPieces() throws {
        var same = VersionEntry.raw(.directory, Array("same".utf8), mode: 0o755)
        same.subtree = [ObjectID.hashing([1]), ObjectID.hashing([2])]
        var other = VersionEntry.raw(.directory, Array("walked".utf8), mode: 0o755)
        other.subtree = [ObjectID.hashing([3])]
        var otherAfter = other
        otherAfter.subtree = [ObjectID.hashing([4])]
        let before = [same, Self.file(Array("same/a".utf8), 1), other, Self.file(Array("walked/b".utf8), 1)]
        let after = [same, Self.file(Array("same/a".utf8), 2), otherAfter, Self.file(Array("walked/b".utf8), 2)]
        let (changes, summary) = try Self.diff(before, after)
        #expect(changes.map(\.path) == ["walked/b"])
        #expect(summary.identicalSubtrees == 1)
        #expect(summary.unchanged == 2)  // "same" (its subtree counted once) and "walked"
    }

    /// One top-level item on each side with different names: compared with each other, reported
    /// under the newer name.
    @Test func aRenamedRootIsComparedUnderTheNewerName() throws {
        let old = Array("Export_01.zip".utf8), new = Array("Export_02.zip".utf8)
        let before = [VersionEntry.raw(.directory, old), Self.file(old + Array("/a.csv".utf8), 1), Self.file(old + Array("/b.csv".utf8), 1)]
        let after = [VersionEntry.raw(.directory, new), Self.file(new + Array("/a.csv".utf8), 2), Self.file(new + Array("/b.csv".utf8), 1)]
        let (changes, summary) = try Self.diff(before, after, rename: (old, new))
        #expect(changes.map(\.path) == ["Export_02.zip/a.csv"])
        #expect(summary.unchanged == 2)
    }

    /// Two walks of 200,000 entries each are pulled in lockstep: at no point is one side more
    /// than one entry ahead, so nothing of either listing is held.
    @Test func twoLargeWalksArePulledInLockstep() throws {
        let a = GeneratedSource(folders: 200, files: 999), b = GeneratedSource(folders: 200, files: 999)
        var maxLead = 0
        a.onPull = { n, _ in maxLead = max(maxLead, abs(n - b.pulled)) }
        b.onPull = { n, _ in maxLead = max(maxLead, abs(n - a.pulled)) }
        var changes = 0
        let summary = try VersionDiff.compare(.handBuilt(a), .handBuilt(b)) { _ in changes += 1 }
        #expect(a.pulled == 200_001 && b.pulled == 200_001)
        #expect(changes == 0 && summary.unchanged == 200_001)
        #expect(maxLead <= 1)
    }
}
