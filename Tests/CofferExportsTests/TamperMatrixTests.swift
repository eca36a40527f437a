// TamperMatrixTests.swift: every file of a small vault damaged in every way.
//
// For each mutation, `check --read-data` (library: Vault.open + check(readDataFraction: 1), with
// the exit status the command would give) must detect it (13 or 14), or the mutation must be one
// of the few listed below whose outcome is stated and explained; and `restore` of every version
// must never leave a wrong byte under a real name (checked on disk after each restore).
//
// `make test` runs a sample (COFFER_TAMPER_FULL unset); `make tamper` sets COFFER_TAMPER_FULL=1:
// every byte of every file flipped, 20 truncation lengths per file, every pair swapped. The
// summary table is printed and, with COFFER_TAMPER_REPORT=<path>, written there.

@testable import CofferCore
import CofferCrypto
import Dispatch
import Foundation
import Testing

@testable import CofferExports

/// Why the mutations that are not errors are not errors.
enum TamperWhy {
    static let otherSlotDeleted =
        "deleting the slot of another passphrase loses that passphrase's access, not data; "
        + "the vault keeps no authenticated list of its slots, so nothing can tell (as 'coffer key remove')"
    static let usedSlotDeleted =
        "with the passphrase's slot gone, no slot opens: without an authenticated list of slots a deleted slot "
        + "cannot be told from a wrong passphrase; the vault does not open, so nothing is restored"
    static let olderHeadDeleted =
        "an older head is only a link of the chain: no version's bytes depend on it; check notes the gap "
        + "(interrupted syncs leave such gaps), and rollback detection cannot follow the chain across it"
    static let lockDeleted = "a lock is advisory: deleting a stale lock is what 'coffer unlock' does"
    static let unreferenced =
        "a file with a valid name that nothing refers to is never read; check lists it as reclaimable and prune deletes it"
    static let unlistedIndex =
        "a format-2 head lists the current index files: an index file it does not list is never read by other commands; "
        + "check reads it, lists it as reclaimable, and prune deletes it"
    static let forgottenVersion =
        "the head lists the version as removed (a tombstone): nothing reads it, list does not show it, prune deletes it again"
    static let removedSlot =
        "a removed slot wraps the same master key under its own passphrase: whoever knows that passphrase and kept the file "
        + "can unwrap the key from their copy anyway (removing a slot never revoked the master key, SECURITY.md); "
        + "it is a valid slot of this vault and cannot be told from a current one"
}

/// The mutations of the matrix.
enum TamperPlan {
    /// Folder of a vault path, for "same kind" and "other kind".
    static func folder(_ p: String) -> String { p.contains("/") ? String(p.prefix { $0 != "/" }) : p }

    static func mutations(_ lab: TamperLab, full: Bool) -> [TamperMutation] {
        var out: [TamperMutation] = []
        let files = lab.files
        func add(_ p: String, _ kind: TamperMutationKind, _ action: TamperMutation.Action, _ e: TamperExpectation, region: String? = nil, _ label: String) {
            out.append(TamperMutation(fileKind: lab.kind(of: p), kind: kind, action: action, expectation: e, region: region, label: label))
        }
        /// One file of each folder (for the sampled mode): the largest one.
        var representative: [String: String] = [:]
        for p in files {
            let f = folder(p)
            if let r = representative[f], lab.pristine[r]!.count >= lab.pristine[p]!.count { continue }
            representative[f] = p
        }
        // The used slot, the current head and an older head are each worth their own row.
        representative["keys"] = lab.usedSlot
        let reps = Set(representative.values).union([lab.otherSlot, lab.headGenerations.first!.path])

        // Bit flips: one bit per byte, its position turning with the offset.
        for p in files {
            let n = lab.pristine[p]!.count
            var offsets = Set<Int>()
            if full || n <= 160 {
                offsets = Set(0..<n)
            } else if let regions = lab.packRegions[p] {
                // Packs: both ends and a stride through every region (nonces, ciphertexts, tags,
                // padding, header, trailer).
                for (_, r) in regions {
                    offsets.formUnion([r.lowerBound, r.upperBound - 1])
                    let step = max(1, r.count / (r.count > 64 ? 5 : 2))
                    offsets.formUnion(stride(from: r.lowerBound, to: r.upperBound, by: step))
                }
            } else {
                offsets.formUnion(0..<min(n, 12))
                offsets.formUnion(max(0, n - 20)..<n)
                offsets.formUnion(stride(from: 0, to: n, by: max(1, n / 12)))
            }
            for off in offsets.sorted() {
                let region = lab.packRegions[p]?.first { $0.range.contains(off) }?.name
                add(p, .flip, .flip(p, offset: off, mask: 1 << UInt8(off % 8)), .detected, region: region, "flip bit \(off % 8) of byte \(off) of \(p)")
            }
        }

        // Truncation and extension.
        for p in files where full || reps.contains(p) {
            let n = lab.pristine[p]!.count
            let lengths = full
                ? [0, 1, 2, 8, 24, 32, 41, 64, n / 4, n / 3, n / 2, 2 * n / 3, n - 41, n - 20, n - 17, n - 16, n - 5, n - 4, n - 2, n - 1]
                : [0, 1, n / 2, n - 16, n - 4, n - 1]
            for len in Set(lengths.filter { $0 >= 0 && $0 < n }).sorted() {
                add(p, .truncate, .truncate(p, length: len), .detected, "truncate \(p) to \(len) of \(n) bytes")
            }
            add(p, .extend, .extend(p), .detected, "append a zero byte to \(p)")
        }

        // Deletion of every file.
        for p in files {
            let e: TamperExpectation
            switch lab.kind(of: p) {
            case .slotUsed: e = .wrongPassphrase(TamperWhy.usedSlotDeleted)
            case .slotOther: e = .harmless(TamperWhy.otherSlotDeleted)
            case .headOlder: e = .noted(TamperWhy.olderHeadDeleted)
            case .lock: e = .harmless(TamperWhy.lockDeleted)
            default: e = .detected
            }
            add(p, .delete, .delete(p), e, "delete \(p)")
        }

        // Swaps: two files exchange their contents (names kept). The sample: the first two files
        // of each folder, the current head with an older one, and the representatives across folders.
        var firstPairs = Set<[String]>()
        for f in Set(files.map(folder)) {
            let inFolder = files.filter { folder($0) == f }
            if inFolder.count >= 2 { firstPairs.insert([inFolder[0], inFolder[1]]) }
        }
        firstPairs.insert([lab.headGenerations.first!.path, lab.headGenerations.last!.path])
        for (i, a) in files.enumerated() {
            for b in files[(i + 1)...] {
                let same = folder(a) == folder(b)
                guard full || (same ? firstPairs.contains([a, b]) : reps.contains(a) && reps.contains(b)) else { continue }
                add(a, same ? .swapSame : .swapOther, .swap(a, b), .detected, "swap \(a) and \(b)")
            }
        }

        // Copies into another kind's folder, under a name that folder accepts (the hash, or for
        // heads the next generation), so the name check passes and the kind checks must act.
        let nextGeneration = lab.headGenerations.last!.generation + 1
        for p in files where full || reps.contains(p) {
            let bytes = lab.pristine[p]!
            let hash = ObjectID.hashing(bytes)
            let targets: [(String, String, TamperExpectation)] = [
                ("index", "index/" + hash.hex, .detected),
                ("versions", "versions/" + hash.hex, .reclaimable(TamperWhy.unreferenced)),
                ("packs", VaultFile.pack(hash).path, .reclaimable(TamperWhy.unreferenced)),
                ("heads", "heads/" + Head.fileName(generation: nextGeneration, id: hash), .detected),
                ("keys", "keys/" + hash.hex, .detected),
                ("locks", "locks/" + String(hash.hex.prefix(32)), .detected),
            ] + (lab.format >= 2 ? [("dicts", "dicts/" + hash.hex, .detected)] : [])
            for (f, to, e) in targets where f != folder(p) {
                add(p, .copyInto, .copy(p, to: to), e, "copy \(p) to \(to)")
            }
        }

        // Older files put back.
        let heads = lab.headGenerations
        for (g, path) in heads.dropLast() {
            let newer = heads.filter { $0.generation > g }.map(\.path)
            out.append(TamperMutation(
                fileKind: .headCurrent, kind: .putBack, action: .replace(put: [:], remove: newer), expectation: .detected,
                label: "older head: generation \(g) (\(path)) current again, \(newer.count) newer head(s) gone"))
        }
        // Format 1 loads every index file, and the old ones name packs prune deleted; format 2 loads
        // only those its head lists, so old index files beside them are never read.
        out.append(TamperMutation(
            fileKind: .index, kind: .putBack, action: .replace(put: lab.prunedIndexFiles, remove: []),
            expectation: lab.format >= 2 ? .reclaimable(TamperWhy.unlistedIndex) : .detected,
            label: "older index: the \(lab.prunedIndexFiles.count) index files prune replaced, back beside the new one"))
        out.append(TamperMutation(
            fileKind: .index, kind: .putBack, action: .replace(put: lab.prunedIndexFiles, remove: [lab.pruneIndex]), expectation: .detected,
            label: "older index: the index files prune replaced, back instead of \(lab.pruneIndex)"))
        for (p, b) in lab.prunedPacks {
            out.append(TamperMutation(
                fileKind: .pack, kind: .putBack, action: .replace(put: [p: b], remove: []), expectation: .reclaimable(TamperWhy.unreferenced),
                label: "older pack: \(p), deleted by prune, back"))
        }
        out.append(TamperMutation(
            fileKind: .version, kind: .putBack, action: .replace(put: [lab.forgottenVersion.path: lab.forgottenVersion.bytes], remove: []),
            expectation: .harmless(TamperWhy.forgottenVersion), label: "older version: \(lab.forgottenVersion.path), forgotten and pruned, back"))
        out.append(TamperMutation(
            fileKind: .slotOther, kind: .putBack, action: .replace(put: [lab.removedSlot.path: lab.removedSlot.bytes], remove: []),
            expectation: .harmless(TamperWhy.removedSlot), label: "older key slot: \(lab.removedSlot.path), removed with 'key remove', back"))
        for (label, files) in lab.olderStates {
            let remove = lab.files.filter { files[$0] == nil }
            let put = files.filter { lab.pristine[$0.key] != $0.value }
            out.append(TamperMutation(
                fileKind: .wholeVault, kind: .putBack, action: .replace(put: put, remove: remove), expectation: .detected,
                label: "the whole vault as it was \(label)"))
        }
        // Format 2: blobs moved inside packs, the dictionary, forged heads (TamperFormat2.swift).
        out += lab.format2Rows
        return out
    }
}

/// Counts per file kind and mutation kind, and per pack region for flips.
struct TamperTally {
    struct Cell {
        var tried = 0
        var exit13 = 0, exit14 = 0, exit12 = 0, reclaimable = 0, noted = 0, harmless = 0, unexpected = 0
        var exact = 0, refused = 0, partial = 0, wrong = 0

        mutating func add(_ o: TamperOutcome, ok: Bool) {
            tried += 1
            if !ok { unexpected += 1 }
            switch o.exit {
            case 13: exit13 += 1
            case 14: exit14 += 1
            case 12: exit12 += 1
            case 0:
                if o.reclaimable > 0 { reclaimable += 1 } else if o.notes > 0 { noted += 1 } else { harmless += 1 }
            default: break
            }
            exact += o.exact
            refused += o.refused
            partial += o.partial
            wrong += o.wrong.count
        }

        static func + (a: Cell, b: Cell) -> Cell {
            var c = a
            c.tried += b.tried; c.exit13 += b.exit13; c.exit14 += b.exit14; c.exit12 += b.exit12
            c.reclaimable += b.reclaimable; c.noted += b.noted; c.harmless += b.harmless; c.unexpected += b.unexpected
            c.exact += b.exact; c.refused += b.refused; c.partial += b.partial; c.wrong += b.wrong
            return c
        }
    }

    var cells: [String: Cell] = [:]
    var regions: [String: Cell] = [:]
    var problems: [String] = []
    var reasons: [String: String] = [:]

    static func key(_ f: TamperFileKind, _ m: TamperMutationKind) -> String { f.rawValue + "|" + m.rawValue }

    mutating func add(_ m: TamperMutation, _ o: TamperOutcome, versions: Int) {
        var why: [String] = []
        if !o.wrong.isEmpty { why.append("WRONG BYTES under a real name: \(o.wrong)") }
        if !o.missing.isEmpty { why.append("restore reported success but left out \(o.missing)") }
        if !o.leftovers.isEmpty { why.append("temporary files left: \(o.leftovers)") }
        switch m.expectation {
        case .detected:
            if o.exit != 13 && o.exit != 14 { why.append("check exit \(o.exit), not 13 or 14 (\(o.message))") }
        case .wrongPassphrase(let r):
            reasons["exit 12 (" + m.kind.rawValue + ", " + m.fileKind.rawValue + ")"] = r
            if o.exit != 12 { why.append("exit \(o.exit), expected 12 (\(o.message))") }
        case .reclaimable(let r):
            reasons["exit 0, reclaimable (" + m.kind.rawValue + ")"] = r
            if o.exit != 0 || o.reclaimable == 0 || o.exact != versions { why.append("exit \(o.exit), reclaimable \(o.reclaimable), exact \(o.exact) (\(o.message))") }
        case .noted(let r):
            reasons["exit 0, noted (" + m.kind.rawValue + ", " + m.fileKind.rawValue + ")"] = r
            if o.exit != 0 || o.notes == 0 || o.exact != versions { why.append("exit \(o.exit), notes \(o.notes), exact \(o.exact) (\(o.message))") }
        case .harmless(let r):
            reasons["exit 0, harmless (" + m.kind.rawValue + ", " + m.fileKind.rawValue + ")"] = r
            if o.exit != 0 || o.exact != versions { why.append("exit \(o.exit), exact \(o.exact) (\(o.message))") }
        }
        if !why.isEmpty { problems.append(m.label + ": " + why.joined(separator: "; ")) }
        cells[Self.key(m.fileKind, m.kind), default: Cell()].add(o, ok: why.isEmpty)
        if let r = m.region { regions[r, default: Cell()].add(o, ok: why.isEmpty) }
    }

    var total: Cell { cells.values.reduce(Cell(), +) }

    func table(header: String) -> String {
        var lines = [header, ""]
        func row(_ cols: [String]) -> String {
            let widths = [18, 26, 7, 7, 7, 7, 11, 6, 8, 7, 8, 7, 7, 5]
            return cols.enumerated().map { i, c in
                let w = i < widths.count ? widths[i] : 8
                return i < 2 ? c.padding(toLength: w, withPad: " ", startingAt: 0) : String(repeating: " ", count: max(0, w - c.count)) + c
            }.joined(separator: " ")
        }
        let head = ["file kind", "mutation", "tried", "exit13", "exit14", "exit12", "0:reclaim", "0:note", "0:harml", "unexp", "restore=", "refused", "partial", "WRONG"]
        func cols(_ a: String, _ b: String, _ c: Cell) -> [String] {
            [a, b, "\(c.tried)", "\(c.exit13)", "\(c.exit14)", "\(c.exit12)", "\(c.reclaimable)", "\(c.noted)", "\(c.harmless)", "\(c.unexpected)",
             "\(c.exact)", "\(c.refused)", "\(c.partial)", "\(c.wrong)"]
        }
        lines.append(row(head))
        for f in TamperFileKind.allCases {
            for m in TamperMutationKind.allCases {
                guard let c = cells[Self.key(f, m)] else { continue }
                lines.append(row(cols(f.rawValue, m.rawValue, c)))
            }
        }
        lines.append(row(cols("all", "all", total)))
        lines.append("")
        lines.append("By mutation kind:")
        for m in TamperMutationKind.allCases {
            let c = cells.filter { $0.key.hasSuffix("|" + m.rawValue) }.values.reduce(Cell(), +)
            if c.tried > 0 { lines.append(row(cols("all", m.rawValue, c))) }
        }
        lines.append("")
        lines.append("By file kind:")
        for f in TamperFileKind.allCases {
            let c = cells.filter { $0.key.hasPrefix(f.rawValue + "|") }.values.reduce(Cell(), +)
            if c.tried > 0 { lines.append(row(cols(f.rawValue, "all", c))) }
        }
        lines.append("")
        lines.append("Bit flips in packs, by region:")
        for r in regions.keys.sorted() { lines.append(row(cols("pack", r, regions[r]!))) }
        lines.append("")
        lines.append("Columns: tried = mutations; exitNN = the status 'coffer check --read-data' gives (13 integrity, 14 rollback,")
        lines.append("12 wrong passphrase); 0:reclaim / 0:note / 0:harml = exit 0 with the file listed as reclaimable / with a note /")
        lines.append("with nothing to report; unexp = outcome not the one the test requires; restore= / refused / partial = restores")
        lines.append("of the versions per mutation that gave every file exactly / wrote no file / wrote some exact files and")
        lines.append("failed; WRONG = files under a real name with wrong bytes after a restore.")
        if !reasons.isEmpty {
            lines.append("")
            lines.append("Why the outcomes other than 13/14 are what they are:")
            for (k, v) in reasons.sorted(by: { $0.key < $1.key }) { lines.append("- \(k): \(v)") }
        }
        return lines.joined(separator: "\n")
    }
}

@Suite(.serialized) struct TamperMatrixTests {
    static var full: Bool { ProcessInfo.processInfo.environment["COFFER_TAMPER_FULL"] == "1" }

    @Test func everyFileDamagedEveryWay() throws {
        let started = Date()
        let lab = try TamperLab.build()
        defer { lab.remove() }
        let built = Date()
        let plan = TamperPlan.mutations(lab, full: Self.full)
        final class Results: @unchecked Sendable {
            var outcomes: [TamperOutcome?]
            init(_ n: Int) { outcomes = [TamperOutcome?](repeating: nil, count: n) }
        }
        let results = Results(plan.count)
        // Two workers on two copies of the vault in the full run; one in `make test`.
        let workers = Self.full ? 2 : 1
        let labs = [lab] + (try (1..<workers).map { _ in try lab.clone() })
        defer { labs.dropFirst().forEach { $0.remove() } }
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            var i = w
            while i < plan.count {
                let o = labs[w].run(plan[i])
                lock.withLock { results.outcomes[i] = o }
                i += workers
            }
        }
        var tally = TamperTally()
        for (m, o) in zip(plan, results.outcomes) { tally.add(m, o!, versions: lab.versions.count) }
        let finished = Date()

        let bytes = lab.pristine.values.reduce(0) { $0 + $1.count }
        let header = """
            Tamper matrix (\(Self.full ? "full: every byte of every file" : "sample; make tamper runs every byte")): \
            \(lab.pristine.count) files, \(bytes) bytes, \(lab.versions.count) versions (2 of a folder, 2 of a zip member by member), \
            \(lab.files.filter { $0.hasPrefix("packs/") }.count) packs, 2 key slots, a stale lock.
            \(plan.count) mutations in \(String(format: "%.1f", finished.timeIntervalSince(built))) s \
            (\(workers) worker\(workers == 1 ? "" : "s"); vault built in \(String(format: "%.1f", built.timeIntervalSince(started))) s). \
            Problems: \(tally.problems.count). Files with wrong bytes after restore: \(tally.total.wrong).
            """
        let table = tally.table(header: header)
        print(table)
        if let path = ProcessInfo.processInfo.environment["COFFER_TAMPER_REPORT"], !path.isEmpty {
            try (table + "\n" + (tally.problems.isEmpty ? "" : "\nProblems:\n" + tally.problems.joined(separator: "\n") + "\n"))
                .write(toFile: path, atomically: true, encoding: .utf8)
        }
        for p in tally.problems.prefix(50) { Issue.record(Comment(rawValue: p)) }
        #expect(tally.problems.isEmpty, "\(tally.problems.count) mutations had an unexpected outcome")
        #expect(tally.total.wrong == 0)
        #expect(tally.total.tried == plan.count)
        // The count follows the vault's size, which moves by a few hundred bytes from vault to vault
        // (each vault's keyed chunker cuts differently): 19,975 to 20,087 were seen.
        #expect(plan.count >= (Self.full ? 19_000 : 500))
    }
}
