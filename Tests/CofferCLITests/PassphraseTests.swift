import Foundation
import Testing

/// Every passphrase source, their precedence, and the wrong-passphrase status.
@Suite("Passphrase sources")
struct PassphraseTests {
    @Test("environment, file, environment file and command all unlock the vault")
    func everySource() throws {
        let s = try Scratch()
        try s.initVault()
        let pw = s.passphrase
        try s.write("pass.txt", pw + "\nsecond line is ignored\n")
        try s.write("pass-crlf.txt", pw + "\r\n")

        #expect(try s.run(["list"]).status == 0)  // COFFER_PASSPHRASE
        #expect(try s.run(["list", "--passphrase-file", s.path("pass.txt")], usePassphrase: false).status == 0)
        #expect(try s.run(["list", "--passphrase-file", s.path("pass-crlf.txt")], usePassphrase: false).status == 0)
        #expect(try s.run(["list"], usePassphrase: false, environment: ["COFFER_PASSPHRASE_FILE": s.path("pass.txt")]).status == 0)
        #expect(try s.run(["list", "--passphrase-command", "cat '\(s.path("pass.txt"))'"], usePassphrase: false).status == 0)
        #expect(try s.run(["list", "--passphrase-command", "printf '%s' '\(pw)'"], usePassphrase: false).status == 0)
    }

    @Test("explicit options win over the environment; a file wins over COFFER_PASSPHRASE")
    func precedence() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("pass.txt", s.passphrase + "\n")
        try s.write("wrong.txt", "wrong\n")
        // --passphrase-file beats a wrong COFFER_PASSPHRASE and a wrong COFFER_PASSPHRASE_FILE.
        let r1 = try s.run(
            ["list", "--passphrase-file", s.path("pass.txt")], passphrase: "wrong",
            environment: ["COFFER_PASSPHRASE_FILE": s.path("wrong.txt")])
        #expect(r1.status == 0, "\(r1.stderr)")
        // COFFER_PASSPHRASE_FILE beats COFFER_PASSPHRASE.
        let r2 = try s.run(["list"], passphrase: "wrong", environment: ["COFFER_PASSPHRASE_FILE": s.path("pass.txt")])
        #expect(r2.status == 0, "\(r2.stderr)")
        // --passphrase-command beats COFFER_PASSPHRASE_FILE.
        let r3 = try s.run(
            ["list", "--passphrase-command", "cat '\(s.path("pass.txt"))'"], environment: ["COFFER_PASSPHRASE_FILE": s.path("wrong.txt")])
        #expect(r3.status == 0, "\(r3.stderr)")
    }

    @Test("a wrong passphrase exits 12 and names the source")
    func wrongPassphrase() throws {
        let s = try Scratch()
        try s.initVault()
        let r = try s.run(["list"], passphrase: "not it")
        #expect(r.status == 12)
        #expect(r.stderr.hasPrefix("coffer: wrong passphrase"))
        #expect(r.stderr.contains("COFFER_PASSPHRASE"))
        #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)")
        try s.write("wrong.txt", "nope\n")
        let f = try s.run(["ls", "x", "--passphrase-file", s.path("wrong.txt")], usePassphrase: false)
        #expect(f.status == 12)
        #expect(f.stderr.contains("--passphrase-file"))
    }

    @Test("bad passphrase sources are clear errors")
    func badSources() throws {
        let s = try Scratch()
        try s.initVault()
        let both = try s.run(["list", "--passphrase-file", "f", "--passphrase-command", "c"])
        #expect(both.status == 64)
        let missing = try s.run(["list", "--passphrase-file", s.path("nope")], usePassphrase: false)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("cannot read the passphrase file"))
        try s.write("empty.txt", "\n")
        let empty = try s.run(["list", "--passphrase-file", s.path("empty.txt")], usePassphrase: false)
        #expect(empty.status == 1)
        #expect(empty.stderr.contains("is empty"))
        let failing = try s.run(["list", "--passphrase-command", "exit 3"], usePassphrase: false)
        #expect(failing.status == 1)
        #expect(failing.stderr.contains("exited with status 3"))
    }

    @Test("with no source and no terminal, the command says how to give one (64)")
    func noSourceNoTerminal() throws {
        let s = try Scratch()
        try s.initVault()
        // setsid: no controlling terminal even when the tests run from one.
        let wrapper = Binaries.tool("setsid").map { [$0, "-w"] } ?? []
        let r = try s.run(["list"], usePassphrase: false, wrapper: wrapper)
        #expect(r.status == 64)
        #expect(r.stderr.contains("no terminal"))
        #expect(r.stderr.contains("COFFER_PASSPHRASE_FILE"))
    }

    @Test("the terminal prompt reads without echo and asks twice at init")
    func terminalPrompt() throws {
        guard let script = Binaries.tool("script") else {
            print("skipped: util-linux 'script' is not installed; the terminal prompt needs a pseudo-terminal")
            return
        }
        let s = try Scratch()
        let secret = "tty-only-secret"
        // Feed the pseudo-terminal slowly, after each prompt has turned echo off.
        func viaTerminal(_ args: String, answers: [String]) throws -> RunResult {
            var feed = ""
            for a in answers { feed += a == "^C" ? "sleep 0.4; printf '\\003'; " : "sleep 0.4; printf '%s\\n' '\(a)'; " }
            let inner = "COFFER_VAULT='\(s.vault)' '\(Binaries.coffer)' \(args)"
            let sh = "(\(feed) sleep 1) | '\(script)' -qec \"\(inner)\" /dev/null"
            var env = s.environment
            env["COFFER_PASSPHRASE"] = nil
            return try Scratch.shell(["/bin/sh", "-c", sh], environment: env)
        }
        let created = try viaTerminal("init", answers: [secret, secret])
        #expect(created.status == 0, "\(created.stdout)\(created.stderr)")
        #expect(created.stdout.contains("New passphrase"))
        #expect(created.stdout.contains("Repeat the passphrase"))
        #expect(!created.stdout.contains(secret), "the passphrase was echoed")
        let listed = try viaTerminal("list", answers: [secret])
        #expect(listed.status == 0, "\(listed.stdout)")
        let wrong = try viaTerminal("list", answers: ["other"])
        #expect(wrong.status == 12)
        let mismatch = try viaTerminal("init --vault '\(s.path("v2"))'", answers: ["one", "two"])
        #expect(mismatch.status == 1)
        #expect(mismatch.stdout.contains("differ"))
        #expect(!s.exists("v2/config"))
        // Ctrl-C at the prompt: status 130, and nothing created.
        let interrupted = try viaTerminal("init --vault '\(s.path("v3"))'", answers: ["^C"])
        #expect(interrupted.status == 130)
        #expect(!s.exists("v3"))
    }
}
