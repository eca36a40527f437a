import Foundation
import Testing

/// The everyday commands as a restic or borg user types them: quiet mode, options before the
/// command name, typos, a passphrase command, time forms, one-line usage errors, prune's
/// figures, signals, a copy that is only behind, and errors in JSON.
@Suite("Everyday CLI")
struct EverydayCLITests {
    /// A vault with two versions of `in` (a.txt, then a.txt and b.txt).
    private func twoVersions() throws -> Scratch {
        let s = try Scratch()
        try s.initVault()
        try s.write("in/a.txt", "alpha\n")
        try s.ok(["seal", s.path("in"), "--quiet"])
        try s.write("in/b.txt", "beta\n")
        try s.ok(["seal", s.path("in"), "--quiet"])
        return s
    }

    @Test("-q hides chatter, never the result: list, ls, diff and key list print; seal and init print nothing")
    func quiet() throws {
        let s = try twoVersions()
        let list = try s.ok(["list", "-q"])
        #expect(list.stdout.contains("ID") && list.stdout.contains(" in "), "\(list.stdout)")
        let ls = try s.ok(["ls", "-q", "in@latest"])
        #expect(ls.stdout.contains("in/a.txt") && ls.stdout.contains("in/b.txt"), "\(ls.stdout)")
        let diff = try s.ok(["diff", "-q", "in@-1", "in@latest"])
        #expect(diff.stdout.contains("+ in/b.txt"), "\(diff.stdout)")
        #expect(!diff.stdout.contains("added,"), "the summary line is chatter")
        let keys = try s.ok(["key", "list", "-q"])
        #expect(keys.stdout.contains("CURRENT"))
        let check = try s.ok(["check", "-q"])
        #expect(check.stdout == "no errors found\n")
        try s.write("in/c.txt", "gamma\n")
        let seal = try s.ok(["seal", s.path("in"), "-q"])
        #expect(seal.stdout.isEmpty, "\(seal.stdout)")
        let dry = try s.ok(["prune", "--dry-run", "-q"])
        #expect(dry.stdout.contains("would free"), "a dry run's figures are its result")
    }

    @Test("--vault, --json and -q work before the command name, in both --vault forms")
    func globalOptions() throws {
        let s = try twoVersions()
        let elsewhere = ["COFFER_VAULT": ""]  // unset: only the option names the vault
        let spaced = try s.run(["--vault", s.vault, "list"], environment: elsewhere)
        #expect(spaced.status == 0, "\(spaced.stderr)")
        #expect(spaced.stdout.contains("DATE (UTC)"))
        let joined = try s.run(["--vault=" + s.vault, "--json", "list"], environment: elsewhere)
        #expect(joined.status == 0, "\(joined.stderr)")
        #expect((try joined.json() as? [[String: Any]])?.count == 2)
        let quietLs = try s.run(["-q", "--vault", s.vault, "ls", "in@latest"], environment: elsewhere)
        #expect(quietLs.status == 0 && quietLs.stdout.contains("in/b.txt"), "\(quietLs.stderr)")
        // A command with subcommands: the options go after `key list`.
        let keys = try s.run(["--json", "key", "list"])
        #expect(keys.status == 0, "\(keys.stderr)")
        #expect((try keys.json() as? [[String: Any]])?.count == 1)
        // Nothing is moved past `--`.
        let dashes = try s.run(["--", "--json", "list"])
        #expect(dashes.status == 64)
    }

    @Test("a mistyped command is one line naming the closest command, exit 64")
    func typos() throws {
        let s = try Scratch()
        let r = try s.run(["restor", "--to", "out", "x"])
        #expect(r.status == 64)
        #expect(r.stderr == "coffer: unknown command 'restor' — did you mean 'restore'?\n", "\(r.stderr)")
        let swapped = try s.run(["lsit"])
        #expect(swapped.stderr.contains("did you mean 'list'?"))
        let sub = try s.run(["key", "ad"])
        #expect(sub.status == 64 && sub.stderr.contains("did you mean 'key add'?"), "\(sub.stderr)")
        let far = try s.run(["frobnicate"])
        #expect(far.status == 64)
        #expect(!far.stderr.contains("did you mean") && far.stderr.contains("unknown command 'frobnicate'"))
    }

    @Test("COFFER_PASSPHRASE_COMMAND: first line of its stdout, wins over COFFER_PASSPHRASE, sees no secret; failures are one line")
    func passphraseCommand() throws {
        let s = try twoVersions()
        let dump = s.path("child-env")
        let command = "env > '\(dump)'; printf '%s\\nsecond line\\n' '\(s.passphrase)'"
        // The wrong COFFER_PASSPHRASE is ignored: the command comes first.
        let r = try s.run(["list", "--json"], passphrase: "wrong", environment: ["COFFER_PASSPHRASE_COMMAND": command])
        #expect(r.status == 0, "\(r.stderr)")
        let env = String(decoding: try s.read("child-env"), as: UTF8.self)
        #expect(!env.contains("COFFER_PASSPHRASE"), "a passphrase variable reached the command: \(env)")
        #expect(!env.contains("wrong"))

        let failing = try s.run(["list"], usePassphrase: false, environment: ["COFFER_PASSPHRASE_COMMAND": "exit 7"])
        #expect(failing.status == 1)
        #expect(failing.stderr == "coffer: the passphrase command (COFFER_PASSPHRASE_COMMAND) exited with status 7; no passphrase was read\n", "\(failing.stderr)")

        let chatty = try s.run(["list"], usePassphrase: false, environment: ["COFFER_PASSPHRASE_COMMAND": "yes"])
        #expect(chatty.status == 1)
        #expect(chatty.stderr.contains("printed more than 64 KiB"), "\(chatty.stderr)")

        try s.write("pass.txt", s.passphrase + "\n")
        let both = try s.run(
            ["list"], usePassphrase: false, environment: ["COFFER_PASSPHRASE_COMMAND": "echo x", "COFFER_PASSPHRASE_FILE": s.path("pass.txt")])
        #expect(both.status == 64 && both.stderr.contains("unset one of them"), "\(both.stderr)")
    }

    @Test("--time: date and time with a space or T, seconds optional, local time without an offset, Z and ±HH:MM")
    func timeForms() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("in/a.txt", "alpha\n")
        let kolkata = ["TZ": "Asia/Kolkata"]  // +05:30, no daylight saving time
        let cases: [(String, String)] = [
            ("2026-12-06 10:00", "2026-12-06T04:30:00Z"),
            ("2026-12-06T10:00:15", "2026-12-06T04:30:15Z"),
            ("2026-12-06T10:00:00+01:00", "2026-12-06T09:00:00Z"),
            ("2026-12-06 10:00Z", "2026-12-06T10:00:00Z"),
            ("2026-12-05", "2026-12-05T00:00:00Z"),
        ]
        for (given, _) in cases {
            let r = try s.run(["seal", s.path("in"), "--time", given, "-q"], environment: kolkata)
            #expect(r.status == 0, "--time \(given): \(r.stderr)")
        }
        let list = try #require(try s.ok(["list", "--json"]).json() as? [[String: Any]])
        let times = Set(list.compactMap { $0["time"] as? String })
        #expect(times == Set(cases.map(\.1)), "\(times)")

        for bad in ["yesterday", "2026-02-30 10:00", "2026-12-06 25:00", "2026-12-06T10:00+1:00"] {
            let r = try s.run(["seal", s.path("in"), "--time", bad])
            #expect(r.status == 64, "--time \(bad)")
            #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("2026-12-06T10:00:00"), "\(r.stderr)")
        }
    }

    @Test("help shows each default once; plurals read right; usage errors are one line with a pointer to help")
    func wording() throws {
        let s = try twoVersions()
        let help = try s.ok(["prune", "--help"])
        #expect(!help.stdout.contains("(default 0)") && !help.stdout.contains("(default 20%)"))
        #expect(help.stdout.contains("(default: 20%)"))
        let forget = try s.ok(["forget", "--keep-last", "1", "--dry-run"])
        #expect(forget.stdout.contains("keep the last version."), "\(forget.stdout)")
        #expect(!forget.stdout.contains("1 versions"))
        let usage = try s.run(["ls"])
        #expect(usage.status == 64)
        #expect(usage.stderr == "coffer: Missing expected argument '<version>'. See 'coffer ls --help'.\n", "\(usage.stderr)")
        let invalid = try s.run(["check", "--read-data=150%"])
        #expect(invalid.status == 64)
        #expect(invalid.stderr.split(separator: "\n").count == 1 && invalid.stderr.hasSuffix("See 'coffer check --help'.\n"), "\(invalid.stderr)")
        #expect(!invalid.stderr.contains("Usage:"))
    }

    @Test("prune --dry-run reports the bytes the real run frees, repacking included")
    func pruneFigures() throws {
        let s = try Scratch()
        try s.initVault()
        // One pack holds both files; once the first version is forgotten half of it is unused
        // and is repacked.
        try s.write("in/a.bin", pseudoRandomBytes(count: 400_000, seed: 21))
        try s.write("in/b.bin", pseudoRandomBytes(count: 400_000, seed: 22))
        try s.ok(["seal", s.path("in"), "-q"])
        try FileManager.default.removeItem(atPath: s.path("in/a.bin"))
        try s.ok(["seal", s.path("in"), "-q"])
        try s.ok(["forget", "--keep-last", "1", "-q"])
        let dry = try #require(try s.ok(["prune", "--dry-run", "--json"]).json() as? [String: Any])
        let real = try #require(try s.ok(["prune", "--json"]).json() as? [String: Any])
        #expect((real["packs_repacked"] as? Int ?? 0) >= 1, "the case under test: a pack is repacked")
        #expect(dry["freed_bytes"] as? Int == real["freed_bytes"] as? Int, "dry run \(dry), real run \(real)")
        #expect(dry["bytes_after"] as? Int == real["bytes_after"] as? Int)
        try s.ok(["check", "--read-data"])
    }

    @Test("SIGTERM and SIGHUP stop a seal like Ctrl-C: exit 143 / 129, no lock left, the vault checks clean")
    func signals() throws {
        for (signal, status) in [(SIGTERM, Int32(143)), (SIGHUP, Int32(129))] {
            let s = try Scratch()
            try s.initVault()
            try s.write("big/big.bin", pseudoRandomBytes(count: 48_000_000, seed: 7))
            let seal = try s.start(["seal", s.path("big")])
            seal.waitForInterruptHandler()
            // Sent once the seal holds the lock, so it lands while the vault is being written.
            let locks = s.vault + "/locks"
            let deadline = Date().addingTimeInterval(20)
            while seal.isRunning && Date() < deadline
                && ((try? FileManager.default.contentsOfDirectory(atPath: locks)) ?? []).allSatisfy({ $0.hasPrefix(".") }) {
                usleep(1_000)
            }
            guard seal.isRunning else {
                _ = try seal.finish(timeout: 5)
                print("skipped signal \(signal): the seal finished before it could be sent")
                continue
            }
            kill(seal.process.processIdentifier, signal)
            let r = try seal.finish(timeout: 60)
            if r.status == 0 {
                print("note: signal \(signal) reached the seal after its commit")
            } else {
                #expect(r.status == status, "signal \(signal): \(r.stderr)")
                // Stopped before its commit, or (a signal landing after the last check) finished first.
                #expect(r.stderr.contains("no version was written") || r.stderr.contains("after the command had finished its work"), "\(r.stderr)")
            }
            let left = ((try? FileManager.default.contentsOfDirectory(atPath: locks)) ?? []).filter { !$0.hasPrefix(".") }
            #expect(left.isEmpty, "signal \(signal) left locks: \(left)")
            let check = try s.run(["check"])
            #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
            #expect(!check.stdout.contains("stale"))
        }
    }

    @Test("SIGTERM while prune holds the lock: prune finishes, removes its lock, exits 143; the vault checks clean")
    func signalDuringPrune() throws {
        let s = try Scratch()
        try s.initVault()
        // Two files in shared packs; forgetting the first version leaves half of each pack
        // unused, so prune repacks about 40 MB while it holds the lock.
        try s.write("in/a.bin", pseudoRandomBytes(count: 40_000_000, seed: 31))
        try s.write("in/b.bin", pseudoRandomBytes(count: 40_000_000, seed: 32))
        try s.ok(["seal", s.path("in"), "-q"])
        try FileManager.default.removeItem(atPath: s.path("in/a.bin"))
        try s.ok(["seal", s.path("in"), "-q"])
        try s.ok(["forget", "--keep-last", "1", "-q"])
        let prune = try s.start(["prune", "--repack-threshold", "1%"])
        let locks = s.vault + "/locks"
        let deadline = Date().addingTimeInterval(30)
        while prune.isRunning && Date() < deadline
            && ((try? FileManager.default.contentsOfDirectory(atPath: locks)) ?? []).allSatisfy({ $0.hasPrefix(".") }) {
            usleep(500)
        }
        guard prune.isRunning else {
            _ = try prune.finish(timeout: 5)
            print("skipped: the prune finished before the signal could be sent")
            return
        }
        kill(prune.process.processIdentifier, SIGTERM)
        let r = try prune.finish(timeout: 120)
        let left = ((try? FileManager.default.contentsOfDirectory(atPath: locks)) ?? []).filter { !$0.hasPrefix(".") }
        #expect(left.isEmpty, "the prune left its lock: \(left)")
        if r.status != 0 {
            #expect(r.status == 143, "\(r.stderr)")
            #expect(r.stderr.contains("finishing the locked work first") || r.stderr.contains("finished its work"), "\(r.stderr)")
        }
        let check = try s.run(["check", "--read-data"])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(!check.stdout.contains("stale"))
        try s.ok(["restore", "in@latest", "--to", s.path("out")])
    }

    @Test("check on a copy that is only behind: 'behind by N versions: sync again', exit 14")
    func behindCopy() throws {
        let s = try Scratch()
        try s.vaultWithTwoVersions()
        // This machine then knows the newer copy; the old one comes back in its place.
        try s.rollBackCopy(after: [("c.txt", "third\n"), ("d.txt", "fourth\n")])
        let check = try s.run(["check", "--vault", s.path("copy")])
        #expect(check.status == 14)
        #expect(check.stdout.contains("behind by 2 versions: sync again"), "\(check.stdout)")
        #expect(!check.stdout.contains("restore what you can"))
    }

    @Test("the seal progress line counts entries in both numbers (files, folders and links alike)")
    func progressCounts() throws {
        guard let script = Binaries.tool("script") else {
            print("skipped: no 'script' (util-linux) to give the seal a terminal")
            return
        }
        let s = try Scratch()
        try s.initVault()
        for i in 0..<200 { try s.write("in/sub/f\(i).txt", "\(i)\n") }
        try s.write("in/big.bin", "x")
        #expect(symlink("sub/f1.txt", s.path("in/link")) == 0)
        try s.ok(["seal", s.path("in"), "-q"])
        // The same entries, one of them now large enough for the line to appear (after a second).
        try s.write("in/big.bin", pseudoRandomBytes(count: 100_000_000, seed: 3))
        var env = s.environment
        env["COFFER_VAULT"] = s.vault
        env["COFFER_PASSPHRASE"] = s.passphrase
        let r = try Scratch.shell([script, "-q", "-c", "'\(Binaries.coffer)' seal '\(s.path("in"))'", "/dev/null"], environment: env)
        #expect(r.status == 0, "\(r.stdout)")
        let lines = r.stdout.split(whereSeparator: { $0 == "\r" || $0 == "\n" }).filter { $0.contains("%") }
        guard !lines.isEmpty else {
            print("skipped: the seal finished before its progress line appeared")
            return
        }
        // 200 files, big.bin, the link, sub/ and in/ itself.
        for line in lines {
            #expect(line.contains("/204 entries"), "\(line)")
            #expect(!line.contains(" files"), "\(line)")
        }
    }

    @Test("with --json a failure is also one JSON line on stdout with its exit code")
    func jsonErrors() throws {
        let s = try Scratch()
        let missing = try s.run(["--json", "list", "--vault", s.path("nowhere")])
        #expect(missing.status == 10)
        let line = try #require(try missing.json() as? [String: Any])
        #expect(line["exit_code"] as? Int == 10)
        #expect((line["error"] as? String)?.contains("nowhere") == true)
        #expect(missing.stdout.split(separator: "\n").count == 1)
        #expect(missing.stderr.hasPrefix("coffer: "))
        let usage = try s.run(["ls", "--json"])
        #expect(usage.status == 64)
        #expect((try usage.json() as? [String: Any])?["exit_code"] as? Int == 64)
        // Without --json, stdout stays empty.
        #expect(try s.run(["list", "--vault", s.path("nowhere")]).stdout.isEmpty)
    }
}
