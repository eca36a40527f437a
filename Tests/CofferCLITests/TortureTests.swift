import ExportGenerator
import Foundation
import Testing

/// One file-system node of a source tree, as a restore must give it back.
enum TreeNode: Equatable, CustomStringConvertible {
    case dir(mode: mode_t)
    case file(mode: mode_t, content: Data)
    case link(target: String)

    var description: String {
        switch self {
        case .dir(let m): return "dir \(String(m, radix: 8))"
        case .file(let m, let c): return "file \(String(m, radix: 8)) \(c.count) bytes"
        case .link(let t): return "link -> \(t)"
        }
    }

    /// Everything under `root` (relative paths), contents included.
    static func snapshot(_ root: String) -> [String: TreeNode] {
        var out: [String: TreeNode] = [:]
        guard let e = FileManager.default.enumerator(atPath: root) else { return out }
        while let rel = e.nextObject() as? String {
            let p = root + "/" + rel
            var st = stat()
            guard lstat(p, &st) == 0 else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR: out[rel] = .dir(mode: st.st_mode & 0o7777)
            case S_IFLNK: out[rel] = .link(target: (try? FileManager.default.destinationOfSymbolicLink(atPath: p)) ?? "?")
            default: out[rel] = .file(mode: st.st_mode & 0o7777, content: (try? Data(contentsOf: URL(fileURLWithPath: p))) ?? Data())
            }
        }
        return out
    }

    /// The paths whose node differs, for a readable failure.
    static func differences(_ a: [String: TreeNode], _ b: [String: TreeNode]) -> [String] {
        Set(a.keys).union(b.keys).filter { a[$0] != b[$0] }.sorted().prefix(8).map { "\($0): \(a[$0]?.description ?? "absent") vs \(b[$0]?.description ?? "absent")" }
    }
}

/// Where a killed operation had got to, judged from the files it left.
struct KillTally {
    /// Phase reached → count, per operation.
    private(set) var phases: [String: [String: Int]] = [:]
    mutating func add(_ op: String, _ phase: String) { phases[op, default: [:]][phase, default: 0] += 1 }
    func kills(_ op: String) -> Int { (phases[op] ?? [:]).filter { $0.key != "finished before the kill" }.values.reduce(0, +) }
    func line(_ op: String) -> String {
        let p = phases[op] ?? [:]
        return "\(op) killed \(kills(op))x [" + p.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "]"
    }
}

/// Crash torture through the command: seal, prune and sync killed with SIGKILL at random
/// instants over a mixed tree, with `check`, restores of every committed version and a re-run
/// after every kill (reliability matrix rows 1 and 2).
///
/// `COFFER_TORTURE_ITERATIONS` sets the number of iterations (default 2, a few seconds);
/// `make torture N=200` runs more and prints the summary line.
@Suite("Crash torture", .serialized)
struct TortureTests {
    static var iterations: Int {
        ProcessInfo.processInfo.environment["COFFER_TORTURE_ITERATIONS"].flatMap { Int($0) }.map { max(1, $0) } ?? 2
    }

    /// The state of a torture run.
    final class Run {
        let s: Scratch
        let tree: String
        let dest: String
        var rng: SeededRandom
        /// The tree each live version must restore to, by version id.
        var expected: [String: [String: TreeNode]] = [:]
        /// Duration of the last complete run of each operation, and of its writing phase, to
        /// place the kills.
        var durations: [String: Double] = [:]
        var phases: [String: [Double]] = [:]
        /// Each kill: the operation, and how it was placed (0 from the start, 1 from the lock,
        /// 2 from the first write).
        var kills: [(String, Int)] = []
        var tally = KillTally()
        var checks = 0
        var restores = 0
        var reruns = 0
        var addedAfterKill: [Int] = []
        var mutatedBytes = 0
        var changedFiles = 0
        var fileCounter = 0

        init(seed: UInt64) throws {
            s = try Scratch()
            tree = s.path("tree")
            dest = s.path("copy")
            rng = SeededRandom(seed: seed)
        }

        // MARK: The tree

        func put(_ rel: String, _ bytes: [UInt8]) throws {
            try s.write("tree/" + rel, bytes)
            mutatedBytes += bytes.count
            changedFiles += 1
        }

        func text(lines: Int) -> [UInt8] {
            let words = ["ledger", "invoice", "photo", "contract", "backup", "vault", "seal", "linen", "harbour", "quartz", "amber", "orbit"]
            var out = ""
            for i in 0..<lines {
                out += "\(i),"
                for _ in 0..<6 { out += words[Int(rng.next() % UInt64(words.count))] + " " }
                out += "\(rng.next() % 100_000)\n"
            }
            return Array(out.utf8)
        }

        /// The first tree: text, random data, duplicates, a zip, empty files and folders, symlinks.
        func build() throws {
            try put("docs/notes.txt", text(lines: 3_000))
            try put("docs/contacts.csv", text(lines: 6_000))
            try put("docs/empty.txt", [])
            let random = pseudoRandomBytes(count: 900_000, seed: rng.next())
            try put("data/random.bin", random)
            try put("data/copies/random-copy.bin", random)
            try put("data/copies/random-copy-2.bin", random)
            try put("data/small.bin", pseudoRandomBytes(count: 5_000, seed: rng.next()))
            try FileManager.default.createDirectory(atPath: tree + "/empty-folder", withIntermediateDirectories: true)
            symlink("docs/notes.txt", tree + "/notes-link")
            symlink("../nowhere/at/all", tree + "/data/dangling-link")
            try makeZip()
        }

        /// `archive.zip` from two text members (deflated) and a random one, with `zip` when installed.
        func makeZip() throws {
            guard let zip = Binaries.tool("zip") else { return }
            let work = s.path("zipwork")
            try? FileManager.default.removeItem(atPath: work)
            try s.write("zipwork/members/readme.txt", text(lines: 400))
            try s.write("zipwork/members/table.csv", text(lines: 1_500))
            try s.write("zipwork/members/photo.bin", pseudoRandomBytes(count: 60_000, seed: rng.next()))
            unlink(tree + "/archive.zip")
            let r = try Scratch.shell([zip, "-q", "-X", "-j", tree + "/archive.zip", work + "/members/readme.txt", work + "/members/table.csv", work + "/members/photo.bin"])
            #expect(r.status == 0, "zip: \(r.stderr)")
            mutatedBytes += (try? s.read("tree/archive.zip").count) ?? 0
            changedFiles += 1
        }

        /// A few changes, so the next seal makes a new version with some new data.
        func mutate() throws {
            mutatedBytes = 0
            changedFiles = 0
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                switch rng.next() % 7 {
                case 0:  // append to a text file
                    let old = (try? s.read("tree/docs/notes.txt")) ?? []
                    try put("docs/notes.txt", old + text(lines: 50))
                    mutatedBytes -= old.count
                case 1:  // new random file
                    fileCounter += 1
                    try put("data/new-\(fileCounter).bin", pseudoRandomBytes(count: 50_000 + Int(rng.next() % 300_000), seed: rng.next()))
                case 2:  // a duplicate of an existing file
                    fileCounter += 1
                    let src = (try? s.read("tree/data/random.bin")) ?? []
                    try s.write("tree/data/copies/dup-\(fileCounter).bin", src)
                    changedFiles += 1
                case 3:  // remove a file added earlier
                    if let victim = ((try? FileManager.default.contentsOfDirectory(atPath: tree + "/data")) ?? []).filter({ $0.hasPrefix("new-") }).sorted().first {
                        unlink(tree + "/data/" + victim)
                    }
                case 4:  // the zip changes one member
                    try makeZip()
                case 5:  // a new empty file and a moved symlink
                    fileCounter += 1
                    try put("docs/empty-\(fileCounter).txt", [])
                    unlink(tree + "/notes-link")
                    symlink(fileCounter % 2 == 0 ? "docs/contacts.csv" : "docs/notes.txt", tree + "/notes-link")
                default:  // rewrite the middle of the big random file
                    var b = (try? s.read("tree/data/random.bin")) ?? []
                    if b.count > 200_000 {
                        let fresh = pseudoRandomBytes(count: 20_000, seed: rng.next())
                        b.replaceSubrange(100_000..<120_000, with: fresh)
                        try s.write("tree/data/random.bin", b)
                        // Random data is cut with the large tier (1 MiB on average; Vault.chunkSizes):
                        // the change may rewrite the whole 900 KB file.
                        mutatedBytes += b.count
                        changedFiles += 1
                    }
                }
            }
        }

        // MARK: Running coffer

        /// Starts `coffer args` and SIGKILLs it at a random instant, placed one of three ways
        /// (equally often): uniform over 1.3 times the operation's last complete run, start-up
        /// included; uniform over 1.2 times the phase after it took its lock (`anchors[0]`);
        /// uniform over 1.2 times the phase after its first file write (`anchors[1]`: a
        /// temporary or new file in packs, index, versions or heads), where the commit sequence is.
        func killed(_ op: String, _ args: [String], anchors: [() -> Bool]) throws -> (result: RunResult, killed: Bool) {
            let way = Int(rng.next() % UInt64(anchors.count + 1))
            let fraction = Double(rng.next() % 10_000) / 10_000
            let p = try s.start(args)
            let started = Date()
            var deadline = way == 0 ? started.addingTimeInterval(fraction * 1.3 * (durations[op] ?? 0.5)) : Date.distantFuture
            while p.isRunning && Date() < deadline {
                if way > 0 && deadline == .distantFuture && anchors[way - 1]() {
                    deadline = Date().addingTimeInterval(fraction * 1.2 * (phases[op]?[way - 1] ?? 0.2))
                }
                usleep(1_000)
            }
            var wasKilled = false
            if p.isRunning {
                kill(p.process.processIdentifier, SIGKILL)
                wasKilled = true
            }
            let r = try p.finish(timeout: 120)
            if wasKilled && r.status == 0 { wasKilled = false }  // it finished in the same instant
            if wasKilled { kills.append((op, way)) }
            return (r, wasKilled)
        }

        /// Runs `coffer args` to completion, timing it and the phases after each anchor as `op`;
        /// requires success.
        @discardableResult
        func complete(_ op: String, _ args: [String], environment: [String: String] = [:], anchors: [() -> Bool] = [], _ why: String) throws -> RunResult {
            let started = Date()
            let p = try s.start(args, environment: environment)
            var seen = [Date?](repeating: nil, count: anchors.count)
            while p.isRunning {
                for (k, anchor) in anchors.enumerated() where seen[k] == nil && anchor() { seen[k] = Date() }
                usleep(1_000)
            }
            let r = try p.finish(timeout: 300)
            #expect(r.status == 0, "\(why): coffer \(args.joined(separator: " ")) exited \(r.status): \(r.stderr)")
            durations[op] = Date().timeIntervalSince(started)
            for (k, at) in seen.enumerated() {
                guard let at else { continue }
                var ph = phases[op] ?? [Double](repeating: 0.2, count: anchors.count)
                ph[k] = Date().timeIntervalSince(at)
                phases[op] = ph
            }
            return r
        }

        /// The number of entries (hidden ones included) in the folders of `vault` that writes
        /// add to: packs/*, index, versions, heads.
        static func written(_ vault: String) -> Int {
            var n = entries(vault + "/index") + entries(vault + "/versions") + entries(vault + "/heads")
            if let d = opendir(vault + "/packs") {
                var subs: [String] = []
                while let e = readdir(d) {
                    let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
                    if name.count == 2 { subs.append(name) }
                }
                closedir(d)
                n += subs.count
                for sub in subs { n += entries(vault + "/packs/" + sub) }
            }
            return n
        }

        /// Whether a folder has an entry (hidden ones included).
        static func hasEntry(_ dir: String) -> Bool {
            guard let d = opendir(dir) else { return false }
            defer { closedir(d) }
            while let e = readdir(d) {
                let first = withUnsafeBytes(of: e.pointee.d_name) { ($0[0], $0[1], $0[2]) }
                if first.0 == UInt8(ascii: ".") && (first.1 == 0 || (first.1 == UInt8(ascii: ".") && first.2 == 0)) { continue }
                return true
            }
            return false
        }

        /// The number of entries in a folder (hidden ones included).
        static func entries(_ dir: String) -> Int {
            guard let d = opendir(dir) else { return 0 }
            defer { closedir(d) }
            var n = -2  // . and ..
            while readdir(d) != nil { n += 1 }
            return max(0, n)
        }

        /// The live versions of a vault (`list --json`), by id.
        func versions(vault: String? = nil, environment: [String: String] = [:]) throws -> [String] {
            var args = ["list", "--json"]
            if let vault { args += ["--vault", vault] }
            let r = try s.run(args, environment: environment)
            #expect(r.status == 0, "list: \(r.stderr)")
            return ((try? r.json() as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
        }

        /// `check --read-data` is clean apart from reclaimable leftovers, and every file under a
        /// content-addressed name hashes to it (nothing torn or empty is there).
        ///
        /// With `interruptedSync`, the copy of a sync killed after it wrote the newest head and
        /// before the older ones may also show a broken head chain to a machine that saw it
        /// older (exit 14, no error, the message saying to run the sync again): the chain cannot
        /// be shown to lead back to what that machine saw until the re-run fills the gap.
        func checkClean(vault: String? = nil, environment: [String: String] = [:], interruptedSync: Bool = false, _ context: String) throws {
            var args = ["check", "--read-data", "--json"]
            if let vault { args += ["--vault", vault] }
            let r = try s.run(args, environment: environment, timeout: 300)
            checks += 1
            let obj = (try? r.json() as? [String: Any]) ?? [:]
            let noErrors = (obj["errors"] as? [Any])?.isEmpty == true
            if interruptedSync && r.status == 14 && noErrors,
               let rollback = obj["rollback"] as? String, rollback.contains("If a sync into this copy was interrupted, run it again") {
                tally.add("sync", "copy showed a broken chain until the re-run")
            } else {
                #expect(r.status == 0 && noErrors, "\(context): check exited \(r.status): \(r.stdout) \(r.stderr)")
            }
            try namesMatchContent(vault ?? s.vault, context)
        }

        func namesMatchContent(_ vault: String, _ context: String) throws {
            guard let b2sum = Binaries.tool("b2sum") else { return }
            var files: [String] = []
            for dir in ["keys", "index", "versions", "heads"] {
                files += ((try? FileManager.default.contentsOfDirectory(atPath: vault + "/" + dir)) ?? []).filter { !$0.hasPrefix(".") }.map { dir + "/" + $0 }
            }
            for sub in (try? FileManager.default.contentsOfDirectory(atPath: vault + "/packs")) ?? [] where sub.count == 2 {
                files += ((try? FileManager.default.contentsOfDirectory(atPath: vault + "/packs/" + sub)) ?? []).filter { !$0.hasPrefix(".") }.map { "packs/\(sub)/" + $0 }
            }
            guard !files.isEmpty else { return }
            let r = try RunningCoffer(command: [b2sum, "-l", "256"] + files, environment: ["PATH": "/usr/bin:/bin"], directory: vault).finish(timeout: 120)
            #expect(r.status == 0, "\(context): b2sum: \(r.stderr)")
            for line in r.stdout.split(separator: "\n") {
                let parts = line.split(separator: " ", maxSplits: 1)
                guard parts.count == 2 else { continue }
                let hash = String(parts[0]), path = parts[1].trimmingCharacters(in: .whitespaces)
                let name = path.split(separator: "/").last.map(String.init) ?? ""
                let expectedHash = path.hasPrefix("heads/") ? String(name.split(separator: "-").last ?? "") : name
                #expect(hash == expectedHash, "\(context): \(path) does not match its name (torn or empty file under a vault name)")
            }
        }

        /// Restores each live version of `vault` and compares it with the tree it was sealed from.
        func restoreAll(vault: String? = nil, environment: [String: String] = [:], _ context: String) throws {
            for id in try versions(vault: vault, environment: environment) {
                guard let want = expected[id] else {
                    Issue.record("\(context): version \(id.prefix(8)) is live but was never sealed by this test")
                    continue
                }
                let out = s.path("restore-out")
                _ = try? Scratch.shell(["/bin/rm", "-rf", out])
                var args = ["restore", id, "--to", out]
                if let vault { args += ["--vault", vault] }
                let r = try s.run(args, environment: environment, timeout: 300)
                restores += 1
                #expect(r.status == 0, "\(context): restore \(id.prefix(8)): \(r.stderr)")
                let got = TreeNode.snapshot(out + "/tree")
                #expect(got == want, "\(context): version \(id.prefix(8)) restores wrong: \(TreeNode.differences(got, want))")
            }
        }

        /// The vault's file names (for telling how far a killed operation got).
        func files(_ vault: String) -> Set<String> {
            Set(filesUnder(vault).filter { !isHiddenPath($0) && !$0.hasPrefix("locks") })
        }
    }

    @Test("seal, prune and sync killed at random instants; check, restore and re-run after each kill")
    func torture() throws {
        let n = Self.iterations
        let seed = ProcessInfo.processInfo.environment["COFFER_TORTURE_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1...UInt64.max)
        let run = try Run(seed: seed)
        let s = run.s
        try s.initVault()
        try run.build()
        // Separate rollback memory for looking at the copy: it is behind the source between
        // syncs, which the source's memory would (rightly) report.
        let copyEnv = ["XDG_STATE_HOME": s.path("copy-state")]

        // A first complete version, copy, and timings.
        let locked = { Run.hasEntry(s.vault + "/locks") }
        // Something was written when the packs, index, versions or heads folders grew.
        var vaultCount = 0, copyCount = 0
        let vaultGrows = { Run.written(s.vault) != vaultCount }
        let copyGrows = { Run.written(run.dest) != copyCount }
        func count() {
            vaultCount = Run.written(s.vault)
            copyCount = Run.written(run.dest)
        }
        count()
        var sealed = try run.complete("seal", ["seal", run.tree, "--json"], anchors: [locked, vaultGrows], "first seal")
        if let id = (try? sealed.json() as? [String: Any])?["id"] as? String { run.expected[id] = TreeNode.snapshot(run.tree) }
        count()
        try run.complete("sync", ["sync", run.dest, "--delete"], anchors: [copyGrows], "first sync")
        run.durations["prune"] = run.durations["seal"]
        run.phases["prune"] = run.phases["seal"]

        for i in 0..<n {
            let context = "iteration \(i) (seed \(seed))"
            try run.mutate()
            let tree = TreeNode.snapshot(run.tree)

            // 1. Seal, killed.
            let before = try run.versions()
            let filesBefore = run.files(s.vault)
            count()
            let (r, killed) = try run.killed("seal", ["seal", run.tree, "--json"], anchors: [locked, vaultGrows])
            let after = try run.versions()
            #expect(Set(after).isSuperset(of: before), "\(context): a committed version disappeared after a killed seal")
            let new = Set(after).subtracting(before)
            #expect(new.count <= 1)
            for id in new { run.expected[id] = tree }
            if !killed {
                #expect(r.status == 0, "\(context): seal exited \(r.status): \(r.stderr)")
                run.tally.add("seal", "finished before the kill")
            } else if !new.isEmpty {
                run.tally.add("seal", "after commit")
            } else {
                let added = run.files(s.vault).subtracting(filesBefore)
                let phase = added.contains { $0.hasPrefix("versions/") } ? "before commit: version written"
                    : added.contains { $0.hasPrefix("index/") } ? "before commit: index written"
                    : added.contains { $0.hasPrefix("packs/") } ? "before commit: packs written" : "before commit: nothing written"
                run.tally.add("seal", phase)
            }
            try run.checkClean(context + ", after seal")
            try run.restoreAll(context + ", after seal")
            // The re-run succeeds and deduplicates.
            count()
            sealed = try run.complete("seal", ["seal", run.tree, "--json"], anchors: [locked, vaultGrows], context + ", seal re-run")
            run.reruns += 1
            let obj = (try? sealed.json() as? [String: Any]) ?? [:]
            if let id = obj["id"] as? String { run.expected[id] = tree }
            let addedPlain = obj["added_plain_bytes"] as? Int ?? -1
            // Nothing new when the version was committed; otherwise no more than what changed
            // (plus the chunks around each change).
            let allowance = new.isEmpty ? run.mutatedBytes + run.changedFiles * (128 << 10) + (256 << 10) : 0
            #expect(addedPlain >= 0 && addedPlain <= allowance, "\(context): the re-run added \(addedPlain) bytes, more than the changes (\(allowance))")
            run.addedAfterKill.append(addedPlain)

            // 2. Forget, then prune killed.
            try run.complete("forget", ["forget", "--keep-last", "3"], context + ", forget")
            let live = try run.versions()
            let filesBeforePrune = run.files(s.vault)
            count()
            let (pr, pruneKilled) = try run.killed("prune", ["prune"], anchors: [locked, vaultGrows])
            #expect(Set(try run.versions()) == Set(live), "\(context): prune changed the live versions")
            if !pruneKilled {
                #expect(pr.status == 0, "\(context): prune exited \(pr.status): \(pr.stderr)")
                run.tally.add("prune", "finished before the kill")
            } else {
                let now = run.files(s.vault)
                let added = now.subtracting(filesBeforePrune), removed = filesBeforePrune.subtracting(now)
                let phase = removed.contains { $0.hasPrefix("versions/") } ? "after commit: deleting version files"
                    : removed.contains { $0.hasPrefix("packs/") } ? "after commit: deleting packs"
                    : removed.contains { $0.hasPrefix("index/") } ? "after commit: old index files going"
                    : added.contains { $0.hasPrefix("index/") } ? "before commit: new index written"
                    : added.contains { $0.hasPrefix("packs/") } ? "before commit: repacking" : "before commit: nothing written"
                run.tally.add("prune", phase)
            }
            try run.checkClean(context + ", after prune")
            try run.restoreAll(context + ", after prune")
            count()
            // --min-age 0: the killed run's new packs are its own leftovers, not another writer's.
            try run.complete("prune", ["prune", "--min-age", "0"], anchors: [locked, vaultGrows], context + ", prune re-run")
            run.reruns += 1
            let final = try s.run(["check", "--json"])
            run.checks += 1
            let finalObj = (try? final.json() as? [String: Any]) ?? [:]
            #expect((finalObj["unreferenced_packs"] as? [Any])?.isEmpty == true, "\(context): the prune re-run left unreferenced packs")

            // 3. Sync, killed; the copy is a valid vault at its old state or the new one.
            let copyBefore = try run.versions(vault: run.dest, environment: copyEnv)
            let copyFilesBefore = run.files(run.dest)
            count()
            let (sr, syncKilled) = try run.killed("sync", ["sync", run.dest, "--delete"], anchors: [copyGrows])
            let copyNow = try run.versions(vault: run.dest, environment: copyEnv)
            let source = try run.versions()
            #expect(Set(copyNow) == Set(copyBefore) || Set(copyNow) == Set(source), "\(context): the copy is neither its old state nor the new one")
            if !syncKilled {
                #expect(sr.status == 0, "\(context): sync exited \(sr.status): \(sr.stderr)")
                run.tally.add("sync", "finished before the kill")
            } else {
                let now = run.files(run.dest)
                let phase = Set(copyNow) == Set(source) && Set(source) != Set(copyBefore)
                    ? (copyFilesBefore.subtracting(now).isEmpty ? "after commit: head copied" : "after commit: deleting extras")
                    : (now.subtracting(copyFilesBefore).isEmpty ? "before commit: nothing copied" : "before commit: files copied")
                run.tally.add("sync", phase)
            }
            try run.checkClean(vault: run.dest, environment: copyEnv, interruptedSync: syncKilled, context + ", the copy after sync")
            try run.restoreAll(vault: run.dest, environment: copyEnv, context + ", the copy after sync")
            count()
            try run.complete("sync", ["sync", run.dest, "--delete"], anchors: [copyGrows], context + ", sync re-run")
            run.reruns += 1
            #expect(Set(try run.versions(vault: run.dest, environment: copyEnv)) == Set(source), "\(context): the sync re-run did not complete the copy")
            // Forgotten versions are gone from both sides now: their trees are no longer needed.
            for id in Set(run.expected.keys).subtracting(source) { run.expected[id] = nil }
        }
        try run.checkClean("end")
        try run.checkClean(vault: run.dest, environment: copyEnv, "end, the copy")
        let dedup = run.addedAfterKill.isEmpty ? "" : ", re-run seals added \(run.addedAfterKill.reduce(0, +) / run.addedAfterKill.count) bytes on average"
        let placed = (0..<3).map { w in run.kills.filter { $0.1 == w }.count }
        print(
            "torture summary: \(n) iterations (seed \(seed)); \(run.tally.line("seal")); \(run.tally.line("prune")); \(run.tally.line("sync")); "
                + "\(run.kills.count) kills (placed from the start \(placed[0]), from the lock or first copy write \(placed[1]), from the first vault write \(placed[2])); "
                + "\(run.restores) versions restored; \(run.checks) checks; \(run.reruns) re-runs\(dedup)")
    }
}

/// True when any component of a relative path starts with a dot (temporary files).
func isHiddenPath(_ rel: String) -> Bool { rel.split(separator: "/").contains { $0.hasPrefix(".") } }
