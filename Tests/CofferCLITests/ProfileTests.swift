import Foundation
import Testing

/// `--profile NAME`: the config file's vault, passphrase source, seal paths and excludes, and
/// forget rules; command-line options override them; a bad config is one line naming the key
/// and the line.
@Suite("Profiles")
struct ProfileTests {
    /// A scratch folder whose config (under `$HOME/.config`) has profile `home` on its vault,
    /// with the passphrase read by a command; the runs get neither COFFER_VAULT nor a passphrase variable.
    private func setUp(extra: String = "") throws -> Scratch {
        let s = try Scratch()
        try s.initVault()
        try s.write("secret", s.passphrase + "\n")
        try s.write("in/a.txt", "alpha\n")
        try s.write("in/b.tmp", "scratch\n")
        try s.write("home/.config/coffer/config.toml", """
            # Ann's backups
            [profiles.home]
            vault = "\(s.vault)"
            passphrase-command = "cat '\(s.path("secret"))'"
            paths = ["\(s.path("in"))"]
            exclude = ["*.tmp"]

            [profiles.home.keep]
            last = 1
            \(extra)
            """)
        chmod(s.path("home/.config/coffer/config.toml"), 0o644)
        return s
    }

    private let bare = ["COFFER_VAULT": ""]

    @Test("seal --profile seals the profile's paths into its vault; list and forget --prune use it too")
    func sealAndForget() throws {
        let s = try setUp()
        for i in 0..<3 {
            try s.write("in/a.txt", "alpha \(i)\n")
            let r = try s.run(["seal", "--profile", "home", "--quiet"], usePassphrase: false, environment: bare)
            #expect(r.status == 0, "\(r.stderr)")
        }
        let list = try s.run(["--profile", "home", "list", "--json"], usePassphrase: false, environment: bare)
        #expect(list.status == 0, "\(list.stderr)")
        #expect((try list.json() as? [[String: Any]])?.count == 3)
        let ls = try s.run(["ls", "--profile=home", "in@latest"], usePassphrase: false, environment: bare)
        #expect(ls.stdout.contains("in/a.txt"), "\(ls.stderr)")
        // seal has --exclude: the profile's patterns apply; otherwise a warning says they do not.
        let sealHelp = try s.run(["seal", "--help"])
        if sealHelp.stdout.contains("--exclude") {
            #expect(!ls.stdout.contains("b.tmp"), "\(ls.stdout)")
        } else {
            let warned = try s.run(["seal", "--profile", "home", "--quiet"], usePassphrase: false, environment: bare)
            #expect(warned.stderr.contains("exclude patterns are not applied"), "\(warned.stderr)")
        }
        let forget = try s.run(["forget", "--profile", "home", "--prune", "--json"], usePassphrase: false, environment: bare)
        #expect(forget.status == 0, "\(forget.stderr)")
        let doc = try #require(try forget.json() as? [String: Any])
        #expect(doc["kept"] as? Int == 1, "\(doc)")
        #expect(doc["prune"] is [String: Any], "--prune ran")
    }

    @Test("command-line options override the profile: --vault, a passphrase option, paths and --keep rules")
    func overrides() throws {
        let s = try setUp()
        try s.write("elsewhere/x.txt", "x\n")
        // Paths on the command line replace the profile's.
        let r = try s.run(["seal", "--profile", "home", s.path("elsewhere"), "--json"], usePassphrase: false, environment: bare)
        #expect(r.status == 0, "\(r.stderr)")
        #expect((try r.json() as? [String: Any])?["name"] as? String == "elsewhere")
        // Another vault on the command line: the profile's is not touched.
        let other = s.path("other-vault")
        let initOther = try s.run(["init", "--vault", other, "--quiet"])
        #expect(initOther.status == 0, "\(initOther.stderr)")
        let sealOther = try s.run(["seal", "--profile", "home", "--vault", other, "--passphrase-file", s.path("secret"), "--quiet"],
                                  usePassphrase: false, environment: bare)
        #expect(sealOther.status == 0, "\(sealOther.stderr)")
        let listOther = try s.run(["list", "--vault", other, "--json"])
        #expect((try listOther.json() as? [[String: Any]])?.count == 1)
        let listHome = try s.run(["list", "--profile", "home", "--json"], usePassphrase: false, environment: bare)
        #expect((try listHome.json() as? [[String: Any]])?.count == 1)
        // A --keep rule on the command line replaces the profile's rules (keep-last 1 would remove one).
        try s.ok(["seal", s.path("elsewhere"), "--quiet"])
        let forget = try s.run(["forget", "--profile", "home", "--keep-last", "5", "--dry-run", "--json"], usePassphrase: false, environment: bare)
        #expect(forget.status == 0, "\(forget.stderr)")
        #expect((try forget.json() as? [String: Any])?["removed"] as? Int == 0)
    }

    @Test("every keep rule becomes forget's option, an untagged '' and the distinct flag included; ~/ is the home folder")
    func keepRules() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("home/secret", s.passphrase + "\n")
        try s.write("home/docs/a.txt", "alpha\n")
        try s.write("home/.config/coffer/config.toml", """
            [profiles.all]
            vault = "\(s.vault)"
            passphrase-file = "~/secret"
            paths = ["~/docs"]
            [profiles.all.keep]
            last = "unlimited"
            monthly = 2
            within = "6mo"
            tag = ["a,b", ""]
            distinct = true
            """)
        chmod(s.path("home/.config/coffer/config.toml"), 0o644)
        let seal = try s.run(["seal", "--profile", "all", "--json"], usePassphrase: false, environment: bare)
        #expect(seal.status == 0, "\(seal.stderr)")
        #expect((try seal.json() as? [String: Any])?["name"] as? String == "docs")
        let r = try s.run(["forget", "--profile", "all", "--dry-run", "--json"], usePassphrase: false, environment: bare)
        #expect(r.status == 0, "\(r.stderr)")
        let policy = try #require((try r.json() as? [String: Any])?["policy"] as? String)
        for part in ["the last all", "2 monthly", "within 6mo", "tagged a,b", "'' (untagged)", "differs"] {
            #expect(policy.contains(part), "\(part): \(policy)")
        }
    }

    @Test("a config that others may write is refused: its passphrase-command would run as the user")
    func permissions() throws {
        let s = try setUp()
        let config = s.path("home/.config/coffer/config.toml")
        chmod(config, 0o666)
        let r = try s.run(["list", "--profile", "home"], usePassphrase: false, environment: bare)
        #expect(r.status == 64 && r.stderr.contains("writable by others (mode 666)"), "\(r.stderr)")
        chmod(config, 0o644)
        let ok = try s.run(["list", "--profile", "home"], usePassphrase: false, environment: bare)
        #expect(ok.status == 0, "\(ok.stderr)")
    }

    @Test("XDG_CONFIG_HOME is honoured")
    func xdg() throws {
        let s = try setUp()
        let config = try String(contentsOfFile: s.path("home/.config/coffer/config.toml"), encoding: .utf8)
        try s.write("xdg/coffer/config.toml", config.replacingOccurrences(of: "[profiles.home", with: "[profiles.xdg"))
        chmod(s.path("xdg/coffer/config.toml"), 0o644)
        let r = try s.run(["list", "--profile", "xdg"], usePassphrase: false, environment: ["COFFER_VAULT": "", "XDG_CONFIG_HOME": s.path("xdg")])
        #expect(r.status == 0, "\(r.stderr)")
        let home = try s.run(["list", "--profile", "home"], usePassphrase: false, environment: ["COFFER_VAULT": "", "XDG_CONFIG_HOME": s.path("xdg")])
        #expect(home.status == 64 && home.stderr.contains("no profile 'home'") && home.stderr.contains("profiles: xdg"), "\(home.stderr)")
    }

    @Test("a bad config is one line naming the file, the line and the key", arguments: [
        ("[profiles.work]\nvaul = \"/x\"", "line 11: unknown key 'profiles.work.vaul'"),
        ("[profiles.home.keep.x]", "line 10: unknown key 'profiles.home.keep.x'"),
        ("[profiles.work]\npaths = \"/home\"", "line 11: 'profiles.work.paths' must be an array of strings"),
        ("lastt = 3", "line 10: unknown key 'profiles.home.keep.lastt'"),
        ("daily = -1", "line 10: 'profiles.home.keep.daily' must be a count"),
        ("weekly = [", "line 10"),
    ])
    func badConfig(_ extra: String, _ expected: String) throws {
        // `extra` starts at line 10, in [profiles.home.keep].
        let s = try setUp(extra: extra)
        let r = try s.run(["list", "--profile", "home"], usePassphrase: false, environment: bare)
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(r.stderr.contains("config.toml " + expected), "\(r.stderr)")
    }

    @Test("--profile without a config file, or naming no profile, is a usage error")
    func missing() throws {
        let s = try Scratch()
        let r = try s.run(["list", "--profile", "home"], usePassphrase: false, environment: bare)
        #expect(r.status == 64 && r.stderr.contains("no config file"), "\(r.stderr)")
        let help = try s.run(["list", "--help"])
        #expect(help.stdout.contains("--profile"))
    }
}
