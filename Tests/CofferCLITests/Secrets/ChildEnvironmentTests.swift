import Foundation
import Testing

/// No passphrase reaches a child process (rclone, the passphrase command) or stays in the
/// process's own environment; the process cannot be dumped.
@Suite("Secrets in child processes")
struct ChildEnvironmentTests {
    /// A marker passphrase: distinct from the scratch one so it can be searched for.
    static let marker = "marker-SECRET-7f3a9c-passphrase"

    /// A fake `rclone` that appends its environment (NUL-separated) to `dump` and then runs the
    /// real rclone with the same arguments.
    static func envDumpingRclone(_ s: Scratch, dump: String) throws -> String {
        let real = try #require(SyncSupport.rclone, "rclone is installed")
        let script = try s.write("bin/rclone-dump", "#!/bin/sh\nenv -0 >> '\(dump)'\nprintf 'END\\0' >> '\(dump)'\nexec '\(real)' \"$@\"\n")
        chmod(script, 0o755)
        return script
    }

    @Test("sync and --vault rclone:... with COFFER_PASSPHRASE set: rclone's environment holds no passphrase; RCLONE_* is kept")
    func rcloneEnvironment() throws {
        guard SyncSupport.requireRclone() else { return }
        let s = try Scratch()
        try s.vaultWithTwoVersions()
        let dump = s.path("rclone-env")
        let fake = try Self.envDumpingRclone(s, dump: dump)
        let env = [
            "RCLONE_CONFIG_MYLOCAL_TYPE": "local", "COFFER_RCLONE": fake,
            "COFFER_FROM_PASSPHRASE": Self.marker + "-from", "COFFER_PASSPHRASE_EXTRA": Self.marker + "-extra",
        ]
        let dest = "rclone:mylocal:" + s.path("remote")
        let sync = try s.run(["sync", dest, "--quiet"], environment: env)
        #expect(sync.status == 0, "\(sync.stderr)")
        // Reading through the remote, with the passphrase in COFFER_PASSPHRASE.
        let list = try s.run(["list", "--vault", dest], passphrase: s.passphrase, environment: env)
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains("a.bin"))
        let text = String(decoding: try s.read("rclone-env"), as: UTF8.self)
        let runs = text.components(separatedBy: "END\0").filter { !$0.isEmpty }
        // One long-lived rclone per command: one for the sync, one for the list.
        #expect(runs.count == 2, "rclone ran \(runs.count) times")
        for run in runs {
            let vars = run.split(separator: "\0")
            #expect(vars.contains("RCLONE_CONFIG_MYLOCAL_TYPE=local"), "RCLONE_* reaches rclone")
            #expect(!vars.contains { $0.hasPrefix("COFFER_PASSPHRASE") || $0.hasPrefix("COFFER_FROM_PASSPHRASE") }, "\(vars)")
        }
        #expect(!text.contains(s.passphrase), "the vault passphrase reached rclone")
        #expect(!text.contains(Self.marker), "a COFFER_*PASSPHRASE* variable reached rclone")
    }

    @Test("the passphrase command sees no passphrase variable; coffer's own /proc environ no longer holds it; RLIMIT_CORE is 0")
    func passphraseCommandEnvironment() throws {
        let s = try Scratch()
        try s.initVault()
        try FileManager.default.createDirectory(atPath: s.path("probe"), withIntermediateDirectories: true)
        chmod(s.path("probe"), 0o777)
        // The command inspects its parent, the coffer process, while coffer waits for it.
        let command = "env -0 > '\(s.path("probe/env"))'; cat /proc/$PPID/environ > '\(s.path("probe/parent-environ"))'; "
            + "cat /proc/$PPID/limits > '\(s.path("probe/limits"))'; printf '%s\\n' '\(s.passphrase)'"
        let r = try s.run(
            ["list", "--passphrase-command", command], passphrase: Self.marker,
            environment: ["COFFER_PASSPHRASE_FILE": "", "COFFER_FROM_PASSPHRASE": Self.marker])
        #expect(r.status == 0, "\(r.stderr)")
        let childEnv = String(decoding: try s.read("probe/env"), as: UTF8.self)
        #expect(childEnv.contains("COFFER_VAULT="), "the rest of the environment is passed on")
        #expect(!childEnv.contains(Self.marker), "the passphrase command saw a passphrase variable")
        #expect(!childEnv.contains("COFFER_PASSPHRASE"))
        // The value was wiped in place and the variable removed: /proc/PID/environ (the
        // environment as the process started) no longer shows it.
        let parentEnv = String(decoding: try s.read("probe/parent-environ"), as: UTF8.self)
        #expect(parentEnv.contains("COFFER_VAULT="), "the probe read coffer's environ")
        #expect(!parentEnv.contains(Self.marker), "coffer's /proc/PID/environ still shows the passphrase")
        let limits = String(decoding: try s.read("probe/limits"), as: UTF8.self)
        let core = limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") }.map(String.init) ?? ""
        #expect(core.split(separator: " ", omittingEmptySubsequences: true).dropFirst(4).prefix(2) == ["0", "0"], "\(core)")
    }

    @Test("coffer is not dumpable: its /proc/PID files belong to root even when it runs as another user")
    func notDumpable() throws {
        let s = try Scratch()
        try FileManager.default.createDirectory(atPath: s.path("probe"), withIntermediateDirectories: true)
        chmod(s.path("probe"), 0o777)
        chmod(s.root, 0o755)
        // A non-dumpable process's /proc/PID files (environ, mem, ...) belong to root. Run coffer as a user that is not
        // root (ourselves when we are not root; nobody through setpriv when we are).
        var wrapper: [String] = []
        if getuid() == 0 {
            let setpriv = try #require(Binaries.tool("setpriv"), "setpriv (util-linux) runs coffer as another user")
            wrapper = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
        }
        let command = "stat -c %u /proc/$PPID/environ > '\(s.path("probe/owner"))'; id -u > '\(s.path("probe/uid"))'; "
            + "cat /proc/$PPID/environ > '\(s.path("probe/environ"))' 2>/dev/null; printf 'x\\n'"
        _ = try s.run(
            ["init", "--vault", s.path("probe/vault"), "--passphrase-command", command], usePassphrase: false,
            environment: ["HOME": s.path("probe"), "XDG_STATE_HOME": s.path("probe/state")], wrapper: wrapper)
        let uid = String(decoding: try s.read("probe/uid"), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let owner = String(decoding: try s.read("probe/owner"), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(uid != "0", "coffer ran as another user than root")
        #expect(owner == "0", "/proc/<coffer>/environ belongs to uid \(owner), so coffer is dumpable")
        // And so the same user cannot read coffer's environment (or its memory).
        #expect(try s.read("probe/environ").isEmpty)
    }
}
