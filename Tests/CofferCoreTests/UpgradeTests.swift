@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// `upgrade`: a format-1 vault converted to format 2 in place, and the states an interrupted
/// upgrade leaves (Docs/FORMAT.md, "Upgrading from format 1").
@Suite struct UpgradeTests {
    /// A format-1 vault with three versions of one folder (files, a duplicate, folders, an empty
    /// folder, links, a toy archive), and each version's restore, made before any upgrade.
    struct Sample {
        var f: T.Fixture
        var ids: [ObjectID]
        /// Version id → the restored tree (``T/tree(_:)`` of a restore made in format 1).
        var expected: [ObjectID: [String: String]]
    }

    static func restoreOptions() -> RestoreOptions {
        var o = RestoreOptions()
        o.archiveHandler = ToyArchiveHandler()
        return o
    }

    static func sample() throws -> Sample {
        let f = try T.vault(T.cheap, format: 1)
        let dir = T.scratch("upgrade-in") + "/Docs"
        T.write(dir + "/a.csv", T.csv(rows: 400, seed: 1))
        T.write(dir + "/sub/deeper/b.bin", T.bytes(70_000, seed: 2))
        T.write(dir + "/sub/copy.bin", T.bytes(70_000, seed: 2))
        T.write(dir + "/export.toy", ToyArchiveHandler.magic + T.csv(rows: 100, seed: 3))
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        symlink("a.csv", dir + "/link")
        symlink("../../nowhere", dir + "/sub/dangling")
        var ids: [ObjectID] = []
        var expected: [ObjectID: [String: String]] = [:]
        for month in 0..<3 {
            if month > 0 {
                T.write(dir + "/a.csv", T.csv(rows: 400 + 30 * month, seed: 1))
                T.write(dir + "/new-\(month).txt", Array("month \(month)\n".utf8))
                T.write(dir + "/export.toy", ToyArchiveHandler.magic + T.csv(rows: 100 + month, seed: 3))
            }
            var s = SealOptions()
            s.archiveHandler = ToyArchiveHandler()
            s.time = Date(timeIntervalSince1970: 1_767_225_600 + Double(month) * 86_400)
            s.tags = ["t\(month)"]
            let r = try f.vault.seal([dir], options: s)
            ids.append(r.id)
            let out = T.scratch("upgrade-expected")
            try f.vault.restore(r.id, to: out, options: restoreOptions())
            expected[r.id] = T.tree(out)
        }
        return Sample(f: f, ids: ids, expected: expected)
    }

    /// Every live version of `v` restores to the tree expected for the format-1 version it came from.
    static func expectRestores(_ v: Vault, _ sample: Sample, mapping: [ObjectID: ObjectID] = [:], _ context: String) throws {
        let live = try v.versions()
        #expect(live.count == sample.ids.count, "\(context)")
        for (id, _) in live {
            let old = mapping.first { $0.value == id }?.key ?? id
            let out = T.scratch("upgrade-out")
            try v.restore(id, to: out, options: restoreOptions())
            #expect(T.tree(out) == sample.expected[old], "\(context): version \(id.short) (from \(old.short))")
        }
    }

    @Test("upgrade converts every version: same header, parent mapped, a note, trees and layout pieces; restores byte for byte; check clean")
    func upgrades() throws {
        let sample = try Self.sample()
        let v = sample.f.vault
        let oldVersions = try sample.ids.map { try v.version($0) }
        let r = try v.upgrade()
        #expect(!r.alreadyFormat2 && !r.resumed)
        #expect(r.mapping.map(\.old) == sample.ids)
        #expect(r.addedPieces > 0 && r.packsWritten >= 1)
        #expect(v.format == 2 && !v.upgradeInProgress)
        #expect(v.head.live == r.mapping.map(\.new))
        #expect(Set(v.head.removed) == Set(sample.ids))
        #expect(v.head.indexFiles.map(Set.init) == Set(try v.backend.ids(in: .index)))

        let reopened = try sample.f.reopen()
        #expect(reopened.rollback == nil)
        #expect(reopened.format == 2 && reopened.config.format == 2)
        let mapping = Dictionary(uniqueKeysWithValues: r.mapping.map { ($0.old, $0.new) })
        for (k, (old, new)) in r.mapping.enumerated() {
            let o = oldVersions[k]
            let n = try reopened.version(new)
            #expect(n.rootTree != nil)
            #expect(n.name == o.name && n.time == o.time && n.host == o.host && n.tags == o.tags && n.paths == o.paths)
            #expect(n.parent == o.parent.map { mapping[$0]! })
            #expect(n.notes == o.notes + ["upgraded from format-1 version \(old.hex)"])
            #expect(n.stats.files == o.stats.files && n.stats.bytes == o.stats.bytes && n.stats.addedChunks == o.stats.addedChunks)
            // The same entries, walked in the same order, archives with layout pieces.
            let a = try v.walker(for: old), b = try reopened.walker(for: new)
            while let x = try a.next() {
                let y = try #require(try b.next())
                #expect(x.pathBytes == y.pathBytes && x.type == y.type && x.chunks == y.chunks && x.sha256 == y.sha256 && x.mode == y.mode)
                if x.type == .archive {
                    #expect(!y.layoutIDs.isEmpty)
                    #expect(try reopened.archiveLayout(of: y) == x.archive)
                }
            }
            #expect(try b.next() == nil)
        }
        // The first version has no parent; each later one the version before it.
        #expect(try reopened.version(r.mapping[0].new).parent == nil)
        #expect(try reopened.version(r.mapping[2].new).parent == r.mapping[1].new)
        let report = try reopened.check(readDataFraction: 1)
        #expect(report.isClean, "\(report.errors)")
        #expect(report.unreferencedPacks.isEmpty && report.unreferencedVersions.isEmpty && report.unlistedIndexFiles.isEmpty)
        try Self.expectRestores(reopened, sample, mapping: mapping, "after the upgrade")

        // Again: nothing to do. A seal of the same folder after it writes a format-2 version whose
        // parent is the upgraded one (the parent has the same name, host and paths).
        #expect(try reopened.upgrade().alreadyFormat2)
        let dir = try reopened.version(r.mapping[2].new).paths[0]
        T.write(dir + "/a.csv", T.csv(rows: 10, seed: 9))
        let s = try reopened.seal([dir])
        #expect(s.version.rootTree != nil && s.version.parent == r.mapping[2].new)

        // Prune deletes the old version files (tombstoned) and keeps every new version restorable.
        _ = try reopened.prune()
        for old in sample.ids { #expect(!FileManager.default.fileExists(atPath: sample.f.path + "/versions/" + old.hex)) }
        #expect(try reopened.check(readDataFraction: 1).isClean)
    }

    /// The state after a switch that was not finished: config format 2, the format-1 head still current.
    static func switchOnly(_ v: Vault) throws {
        var c = v.config
        c.format = 2
        try v.backend.write(.config, c.encode(macKey: v.keys.config))
    }

    @Test("switched, not finished: readers accept it, writers other than upgrade refuse in one line, check notes it, upgrade finishes it")
    func switchedNotFinished() throws {
        let sample = try Self.sample()
        try Self.switchOnly(sample.f.vault)
        let v = try sample.f.reopen()
        #expect(v.format == 2 && v.upgradeInProgress && v.head.indexFiles == nil)
        try Self.expectRestores(v, sample, "switched")
        let report = try v.check(readDataFraction: 1)
        #expect(report.isClean, "\(report.errors)")
        #expect(report.unlistedIndexFiles.isEmpty)
        #expect(report.notes.contains { $0.contains("run 'coffer upgrade' to finish it") })

        let refused: @Sendable (any Error) -> Bool = { e in
            guard case CofferError.upgradeUnfinished = e else { return false }
            return "\(e)".contains("run 'coffer upgrade' to finish it") && !"\(e)".contains("\n")
        }
        let dir = T.scratch("upgrade-more") + "/More"
        T.write(dir + "/x.txt", Array("x".utf8))
        func expectRefused(_ what: String, _ body: () throws -> Void) {
            do {
                try body()
                Issue.record("\(what) was not refused")
            } catch { #expect(refused(error), "\(what): \(error)") }
        }
        expectRefused("seal") { _ = try v.seal([dir]) }
        expectRefused("forget") { try v.forget([sample.ids[0]]) }
        expectRefused("prune") { _ = try v.prune() }
        #expect(try sample.f.reopen().head == v.head)

        let r = try v.upgrade()
        #expect(r.resumed && r.mapping.count == 3)
        #expect(!v.upgradeInProgress)
        let done = try sample.f.reopen()
        #expect(done.rollback == nil && !done.upgradeInProgress)
        try Self.expectRestores(done, sample, mapping: Dictionary(uniqueKeysWithValues: r.mapping.map { ($0.old, $0.new) }), "finished")
        #expect(try done.check(readDataFraction: 1).isClean)
    }

    @Test("killed before the switch: a format-1 vault with the upgrade's packs, index and versions reads, checks, seals and prunes as format 1; upgrade then finishes")
    func killedBeforeTheSwitch() throws {
        let sample = try Self.sample()
        // The upgrade's files (packs, index, versions) without its config and head: run it on a copy.
        let copy = sample.f.root + "/copy"
        try FileManager.default.copyItem(atPath: sample.f.path, toPath: copy)
        _ = try Vault.open(at: copy, passphrase: T.secret("pw"), state: nil).upgrade()
        for folder in ["index", "versions"] + ((try? FileManager.default.contentsOfDirectory(atPath: copy + "/packs")) ?? []).map({ "packs/" + $0 }) {
            for name in try FileManager.default.contentsOfDirectory(atPath: copy + "/" + folder)
            where !FileManager.default.fileExists(atPath: sample.f.path + "/" + folder + "/" + name) {
                try FileManager.default.createDirectory(atPath: sample.f.path + "/" + folder, withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: copy + "/" + folder + "/" + name, toPath: sample.f.path + "/" + folder + "/" + name)
            }
        }
        let v = try sample.f.reopen()
        #expect(v.format == 1 && !v.upgradeInProgress)
        try Self.expectRestores(v, sample, "before the switch")
        let report = try v.check(readDataFraction: 1)
        #expect(report.isClean, "\(report.errors)")
        #expect(report.unreferencedVersions.count == 3)

        let r = try v.upgrade()
        #expect(!r.resumed)
        #expect(r.addedPieces == 0, "the pieces of the interrupted run are in the index already")
        let done = try sample.f.reopen()
        try Self.expectRestores(done, sample, mapping: Dictionary(uniqueKeysWithValues: r.mapping.map { ($0.old, $0.new) }), "finished")
        let after = try done.check(readDataFraction: 1)
        #expect(after.isClean, "\(after.errors)")
        #expect(after.unreferencedVersions.count == 3, "the interrupted run's versions")
    }

    @Test("a format-1 prune after an interrupted upgrade drops its pieces; upgrade afterwards stores them again")
    func formatOnePruneAfterAnInterruptedUpgrade() throws {
        let sample = try Self.sample()
        let copy = sample.f.root + "/copy"
        try FileManager.default.copyItem(atPath: sample.f.path, toPath: copy)
        _ = try Vault.open(at: copy, passphrase: T.secret("pw"), state: nil).upgrade()
        for folder in ["index"] + ((try? FileManager.default.contentsOfDirectory(atPath: copy + "/packs")) ?? []).map({ "packs/" + $0 }) {
            for name in try FileManager.default.contentsOfDirectory(atPath: copy + "/" + folder)
            where !FileManager.default.fileExists(atPath: sample.f.path + "/" + folder + "/" + name) {
                try FileManager.default.createDirectory(atPath: sample.f.path + "/" + folder, withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: copy + "/" + folder + "/" + name, toPath: sample.f.path + "/" + folder + "/" + name)
            }
        }
        let v = try sample.f.reopen()
        _ = try v.prune()
        #expect(try v.check(readDataFraction: 1).isClean)
        let r = try v.upgrade()
        #expect(r.addedPieces > 0)
        let done = try sample.f.reopen()
        try Self.expectRestores(done, sample, mapping: Dictionary(uniqueKeysWithValues: r.mapping.map { ($0.old, $0.new) }), "after prune and upgrade")
        #expect(try done.check(readDataFraction: 1).isClean)
    }

    @Test("upgrade refuses on a rollback finding unless forced; forgotten versions stay tombstones")
    func rollbackAndTombstones() throws {
        let sample = try Self.sample()
        try sample.f.vault.forget([sample.ids[0]])
        // A machine that saw a newer head: the vault's head looks rolled back.
        let state = sample.f.state
        let newest = try #require(state.remembered(vaultID: sample.f.vault.vaultID))
        state.remember(vaultID: sample.f.vault.vaultID, generation: newest.generation + 5, head: newest.head)
        let v = try sample.f.reopen()
        #expect(v.rollback != nil)
        #expect(throws: Error.self) { try v.upgrade() }
        #expect(v.format == 1)
        var o = UpgradeOptions()
        o.force = true
        let r = try v.upgrade(options: o)
        #expect(r.mapping.map(\.old) == Array(sample.ids.dropFirst()))
        #expect(Set(v.head.removed) == Set(sample.ids))
        #expect(v.head.live.count == 2)
    }

    @Test("the golden format-1 vaults upgrade to format 2 and still restore byte for byte")
    func goldenVaultsUpgrade() throws {
        for (name, pass) in [("v1", GoldenVaultTests.passphrase), ("v1-archive", GoldenArchiveVaultTests.passphrase)] {
            let golden = try #require(Bundle.module.resourcePath).appending("/Golden/" + name)
            let root = T.scratch("golden-upgrade")
            try FileManager.default.copyItem(atPath: golden, toPath: root + "/vault")
            _ = try Vault.open(at: root + "/vault", passphrase: T.secret(pass), state: nil).upgrade()
            let v = try Vault.open(at: root + "/vault", passphrase: T.secret(pass), state: RollbackState(directory: root + "/state"))
            #expect(v.format == 2 && !v.upgradeInProgress)
            #expect(try v.check(readDataFraction: 1).isClean)
            let versions = try v.versions()
            #expect(versions.count == 2)
            for (month, (id, version)) in versions.enumerated() {
                #expect(version.rootTree != nil)
                #expect(version.time == Date(timeIntervalSince1970: 1_767_225_600 + Double(month) * 2_592_000))
                let out = T.scratch("golden-upgrade-out")
                if name == "v1" {
                    try v.restore(id, to: out)
                    let dir = GoldenVaultTests.input(T.scratch("golden-upgrade-expected"), month: month)
                    for rel in ["Connections.csv", "media/photo.bin", "notes/ünïcödé name.txt"] {
                        #expect(T.read(out + "/Basic_LinkedInDataExport/" + rel) == T.read(dir + "/" + rel), "\(rel) of month \(month)")
                    }
                    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: out + "/Basic_LinkedInDataExport/latest.csv") == "Connections.csv")
                } else {
                    try v.restore(id, to: out, options: Self.restoreOptions())
                    #expect(T.read(out + "/exports/export.toy") == ToyArchiveHandler.magic + GoldenArchiveVaultTests.payload(month))
                }
            }
        }
    }
}
