import Foundation
import Testing

/// Servers and helpers for the sync tests: rclone, free loopback ports, started processes.
enum SyncSupport {
    /// The rclone program, or nil (then the rclone tests record why they did not run).
    static let rclone: String? = Binaries.tool("rclone")

    static func requireRclone() -> Bool {
        if rclone == nil { Issue.record("rclone is not installed (apt-get install rclone, or make deps); rclone sync tests not run") }
        return rclone != nil
    }

    /// A TCP port on 127.0.0.1 that nothing listens on right now.
    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return UInt16(bigEndian: addr.sin_port)
    }

    /// Whether something accepts connections on 127.0.0.1:`port`.
    static func accepts(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// `rclone obscure`, for passwords in RCLONE_CONFIG_*_PASS.
    static func obscure(_ password: String) throws -> String {
        let r = try Scratch.shell([rclone ?? "rclone", "obscure", password])
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The process ids of `pid`'s children (Linux /proc).
    static func children(of pid: Int32) -> [Int32] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        var out: [Int32] = []
        for t in tasks {
            let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(t)/children", encoding: .utf8)) ?? ""
            out += text.split(separator: " ").compactMap { Int32($0) }
        }
        return out
    }

    /// Waits until process `pid` (not our child) is gone.
    static func waitGone(_ pid: Int32, timeout: TimeInterval = 30) {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            // Gone, or a zombie waiting for init to reap it.
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return }
            if stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z") { return }
            usleep(10_000)
        }
    }
}

/// An rclone server on a loopback port, started by a test and stopped by its pid.
final class RcloneServer: @unchecked Sendable {
    let port: UInt16
    let root: String
    private let running: RunningCoffer

    /// `rclone serve <kind> --addr 127.0.0.1:<port> --user u --pass p <root>`.
    init(_ kind: String, root: String, scratch: Scratch, extra: [String] = []) throws {
        self.root = root
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        var lastError: Error?
        for _ in 0..<3 {
            let port = try SyncSupport.freePort()
            let r = try RunningCoffer(
                command: [SyncSupport.rclone ?? "rclone", "serve", kind, "--addr", "127.0.0.1:\(port)", "--user", "u", "--pass", "p"] + extra + [root],
                environment: scratch.environment, directory: scratch.root)
            let deadline = Date().addingTimeInterval(20)
            while r.isRunning && !SyncSupport.accepts(port) && Date() < deadline { usleep(20_000) }
            if r.isRunning && SyncSupport.accepts(port) {
                self.port = port
                self.running = r
                return
            }
            r.process.terminate()
            lastError = POSIXError(.EADDRINUSE)
            _ = try? r.finish(timeout: 5)
        }
        throw lastError ?? POSIXError(.EADDRINUSE)
    }

    /// Stops the server (SIGTERM to its pid) and waits for it.
    func stop() {
        if running.isRunning { kill(running.process.processIdentifier, SIGTERM) }
        _ = try? running.finish(timeout: 10)
    }

    deinit { stop() }
}

extension Scratch {
    /// Whether this coffer has `check` (added alongside sync).
    var hasCheck: Bool { (try? run(["--help"]).stdout.contains("check")) == true }

    /// The live version ids of the vault at `vault` (`list --json`), or nil when it does not open.
    func versions(_ vault: String, environment extra: [String: String] = [:]) -> [String]? {
        guard let r = try? run(["list", "--json", "--vault", vault], environment: extra), r.status == 0,
              let array = try? r.json() as? [[String: Any]] else { return nil }
        return array.compactMap { $0["id"] as? String }.sorted()
    }

    /// `sync --json` as a dictionary.
    func syncJSON(_ args: [String], environment extra: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let r = try run(["sync", "--json"] + args, environment: extra)
        #expect(r.status == 0, "sync \(args) failed: \(r.stderr)", sourceLocation: sourceLocation)
        return (try? r.json() as? [String: Any]) ?? [:]
    }

    /// A vault with two versions (a.bin and a folder).
    func vaultWithTwoVersions() throws {
        try initVault()
        try write("in/a.bin", pseudoRandomBytes(count: 300_000, seed: 1))
        try write("in/docs/notes.txt", "notes\n")
        try write("in/docs/more.bin", pseudoRandomBytes(count: 50_000, seed: 2))
        try ok(["seal", path("in/a.bin"), "--quiet"])
        try ok(["seal", path("in/docs"), "--quiet"])
    }

    /// Syncs the vault to `copy`, keeps that copy aside, seals `newer` more versions and syncs
    /// them (so this machine knows the newer copy), then puts the older copy back in its place.
    func rollBackCopy(after newer: [(file: String, text: String)]) throws {
        try ok(["sync", path("copy"), "--quiet"])
        _ = try Scratch.shell(["/bin/cp", "-a", path("copy"), path("old")])
        for (file, text) in newer {
            try write("in/\(file)", text)
            try ok(["seal", path("in/\(file)"), "--quiet"])
        }
        try ok(["sync", path("copy"), "--quiet"])
        _ = try Scratch.shell(["/bin/chmod", "-R", "u+rwX", path("copy")])
        _ = try Scratch.shell(["/bin/rm", "-rf", path("copy")])
        _ = try Scratch.shell(["/bin/mv", path("old"), path("copy")])
    }
}

@Suite("Sync (CLI)")
struct SyncCLITests {
    @Test("sync to a folder: the copy lists and restores through --vault; a second sync copies nothing; --json keys")
    func folder() throws {
        let s = try Scratch()
        try s.vaultWithTwoVersions()
        let dry = try s.run(["sync", s.path("copy"), "--dry-run"])
        #expect(dry.status == 0)
        #expect(dry.stdout.contains("Dry run: would copy"))
        #expect(!s.exists("copy"))

        let first = try s.syncJSON([s.path("copy")])
        for key in ["copied_files", "copied_bytes", "total_files", "verified_files", "repaired_files"] { #expect(first[key] != nil, "\(key)") }
        #expect(first["copied_files"] as? Int == first["total_files"] as? Int)
        #expect(first["verified_files"] as? Int == first["total_files"] as? Int)
        #expect(s.versions(s.path("copy")) == s.versions(s.vault))
        try s.ok(["restore", "a.bin", "--vault", s.path("copy"), "--to", s.path("out")])
        #expect(try s.read("out/a.bin") == pseudoRandomBytes(count: 300_000, seed: 1))

        let second = try s.syncJSON([s.path("copy")])
        #expect(second["copied_files"] as? Int == 0)
        let human = try s.run(["sync", s.path("copy")])
        #expect(human.stdout.contains("is up to date"))
    }

    @Test("rclone: a local remote from RCLONE_CONFIG_* variables, used as DEST and as --vault / COFFER_VAULT")
    func rcloneLocal() throws {
        guard SyncSupport.requireRclone() else { return }
        let s = try Scratch()
        try s.vaultWithTwoVersions()
        let env = ["RCLONE_CONFIG_MYLOCAL_TYPE": "local"]
        let dest = "rclone:mylocal:" + s.path("remote/coffer")
        let first = try s.syncJSON([dest], environment: env)
        #expect(first["copied_files"] as? Int == first["total_files"] as? Int)
        #expect(s.versions(dest, environment: env) == s.versions(s.vault))
        let r = try s.run(["restore", "a.bin", "--to", s.path("out")], environment: env.merging(["COFFER_VAULT": dest]) { $1 })
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try s.read("out/a.bin") == pseudoRandomBytes(count: 300_000, seed: 1))
        #expect(try s.syncJSON([dest], environment: env)["copied_files"] as? Int == 0)
        // The copy on the remote is a plain vault folder too.
        #expect(s.versions(s.path("remote/coffer")) == s.versions(s.vault))
    }

    @Test("rclone: a WebDAV server on 127.0.0.1 (rclone serve webdav); wrong credentials and a stopped server are clear errors")
    func webdav() throws {
        guard SyncSupport.requireRclone() else { return }
        let s = try Scratch()
        try s.vaultWithTwoVersions()
        let server = try RcloneServer("webdav", root: s.path("dav"), scratch: s)
        defer { server.stop() }
        var env = [
            "RCLONE_CONFIG_DAV_TYPE": "webdav", "RCLONE_CONFIG_DAV_URL": "http://127.0.0.1:\(server.port)",
            "RCLONE_CONFIG_DAV_VENDOR": "other", "RCLONE_CONFIG_DAV_USER": "u", "RCLONE_CONFIG_DAV_PASS": try SyncSupport.obscure("p"),
        ]
        let dest = "rclone:dav:coffer"
        let started = Date()
        let first = try s.syncJSON([dest], environment: env)
        let seconds = Date().timeIntervalSince(started)
        print("webdav: first sync of \(first["copied_bytes"] ?? 0) bytes in \(first["copied_files"] ?? 0) files took \(String(format: "%.2f", seconds)) s")
        #expect(first["copied_files"] as? Int == first["total_files"] as? Int)
        #expect(s.versions(dest, environment: env) == s.versions(s.vault))
        #expect(s.versions(s.path("dav/coffer")) == s.versions(s.vault))
        #expect(try s.syncJSON([dest], environment: env)["copied_files"] as? Int == 0)

        let before = filesUnder(s.vault)
        env["RCLONE_CONFIG_DAV_PASS"] = try SyncSupport.obscure("wrong")
        let denied = try s.run(["sync", dest], environment: env)
        #expect(denied.status == 1)
        #expect(denied.stderr.hasPrefix("coffer: rclone:dav:coffer: "), "\(denied.stderr)")
        #expect(denied.stderr.contains("credentials"), "\(denied.stderr)")

        server.stop()
        env["RCLONE_CONFIG_DAV_PASS"] = try SyncSupport.obscure("p")
        let down = try s.run(["sync", dest], environment: env)
        #expect(down.status == 1)
        #expect(down.stderr.hasPrefix("coffer: rclone:dav:coffer: "), "\(down.stderr)")
        #expect(down.stderr.contains("cannot be reached"), "\(down.stderr)")
        #expect(down.stderr.split(separator: "\n").count == 1)
        #expect(filesUnder(s.vault) == before, "the source changed")
        #expect(s.versions(s.path("dav/coffer")) == s.versions(s.vault), "the destination is no longer valid")
    }

    @Test("rclone: an SFTP server on 127.0.0.1 (rclone serve sftp) as DEST and as --vault")
    func sftp() throws {
        guard SyncSupport.requireRclone() else { return }
        let s = try Scratch()
        try s.vaultWithTwoVersions()
        let server = try RcloneServer("sftp", root: s.path("sftp"), scratch: s)
        defer { server.stop() }
        let env = [
            "RCLONE_CONFIG_SF_TYPE": "sftp", "RCLONE_CONFIG_SF_HOST": "127.0.0.1", "RCLONE_CONFIG_SF_PORT": "\(server.port)",
            "RCLONE_CONFIG_SF_USER": "u", "RCLONE_CONFIG_SF_PASS": try SyncSupport.obscure("p"), "RCLONE_CONFIG_SF_SHELL_TYPE": "none",
            "RCLONE_CONFIG_SF_DISABLE_HASHCHECK": "true",
        ]
        let dest = "rclone:sf:coffer"
        let started = Date()
        let first = try s.syncJSON([dest], environment: env)
        let seconds = Date().timeIntervalSince(started)
        print("sftp: first sync of \(first["copied_bytes"] ?? 0) bytes in \(first["copied_files"] ?? 0) files took \(String(format: "%.2f", seconds)) s")
        #expect(first["copied_files"] as? Int == first["total_files"] as? Int)
        #expect(s.versions(dest, environment: env) == s.versions(s.vault))
        try s.write("in/c.txt", "third\n")
        try s.ok(["seal", s.path("in/c.txt"), "--quiet"])
        let second = try s.syncJSON([dest], environment: env)
        #expect((second["copied_files"] as? Int ?? 0) >= 3)
        #expect(second["relation"] as? String == "behind")
        #expect(s.versions(s.path("sftp/coffer")) == s.versions(s.vault))
    }

    @Test("a sync killed with SIGKILL at random points: the destination is valid at every point and a re-run completes it")
    func sigkill() throws {
        let s = try Scratch()
        try s.initVault()
        try s.write("in/a.bin", pseudoRandomBytes(count: 100_000, seed: 3))
        try s.ok(["seal", s.path("in/a.bin"), "--quiet"])
        try s.ok(["sync", s.path("base"), "--quiet"])
        let old = s.versions(s.path("base"))
        for i in 0..<4 {
            try s.write("in/big\(i)/data.bin", pseudoRandomBytes(count: 3_000_000, seed: 10 + UInt64(i)))
            try s.ok(["seal", s.path("in/big\(i)"), "--quiet"])
        }
        let new = s.versions(s.vault)
        #expect(new != old)

        // How long a full sync takes, to spread the kills over it.
        _ = try Scratch.shell(["/bin/cp", "-a", s.path("base"), s.path("timing")])
        let t0 = Date()
        try s.ok(["sync", s.path("timing"), "--quiet"])
        let full = max(Date().timeIntervalSince(t0), 0.05)

        var rng = SystemRandomNumberGenerator()
        var sawOld = false
        var sawNew = false
        for i in 0..<6 {
            let dest = s.path("cut\(i)")
            _ = try Scratch.shell(["/bin/cp", "-a", s.path("base"), dest])
            let running = try s.start(["sync", dest, "--quiet"])
            usleep(useconds_t(Double.random(in: 0.02...1.3, using: &rng) * full * 1_000_000))
            kill(running.process.processIdentifier, SIGKILL)
            _ = try running.finish(timeout: 30)
            let seen = s.versions(dest)
            #expect(seen == old || seen == new, "after a kill the destination lists \(seen ?? []) (old \(old ?? []), new \(new ?? []))")
            if seen == old { sawOld = true } else if seen == new { sawNew = true }
            try s.ok(["sync", dest, "--quiet"])
            #expect(s.versions(dest) == new)
        }
        print("sigkill: full sync \(String(format: "%.2f", full)) s; kills left the old state: \(sawOld), the new state: \(sawNew)")
        if s.hasCheck { #expect(try s.run(["check", "--read-data", "--vault", s.path("cut0")]).status == 0) }
    }

    @Test("rclone: a sync killed with SIGKILL, its rclone child let finish, then re-run")
    func sigkillRclone() throws {
        guard SyncSupport.requireRclone() else { return }
        let s = try Scratch()
        try s.vaultWithTwoVersions()
        let env = ["RCLONE_CONFIG_MYLOCAL_TYPE": "local"]
        let dest = "rclone:mylocal:" + s.path("remote")
        try s.write("in/c.bin", pseudoRandomBytes(count: 200_000, seed: 4))
        for (i, delay) in [300_000, 900_000].enumerated() {
            if i == 1 { try s.ok(["seal", s.path("in/c.bin"), "--quiet"]) }
            let before = s.versions(s.path("remote"))
            let running = try s.start(["sync", dest, "--quiet"], environment: env)
            usleep(useconds_t(delay))
            let kids = SyncSupport.children(of: running.process.processIdentifier)
            kill(running.process.processIdentifier, SIGKILL)
            _ = try running.finish(timeout: 30)
            for k in kids { SyncSupport.waitGone(k) }
            let seen = s.versions(s.path("remote"))
            #expect(seen == nil && before == nil || seen == before || seen == s.versions(s.vault), "after a kill: \(seen ?? [])")
            let rerun = try s.run(["sync", dest, "--quiet"], environment: env)
            #expect(rerun.status == 0, "\(rerun.stderr)")
            #expect(s.versions(s.path("remote")) == s.versions(s.vault))
        }
    }

    @Test("a flipped byte and a deleted pack at the destination: check --read-data exits 13, sync --verify repairs")
    func damagedDestination() throws {
        let s = try Scratch()
        try s.vaultWithTwoVersions()
        try s.ok(["sync", s.path("copy"), "--quiet"])
        let packs = filesUnder(s.path("copy/packs")).filter { $0.count > 60 }
        #expect(packs.count >= 2)
        let flipped = s.path("copy/packs/" + packs[0])
        chmod(flipped, 0o600)
        var bytes = try s.read("copy/packs/" + packs[0])
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: flipped))
        unlink(s.path("copy/packs/" + packs[1]))

        if s.hasCheck {
            #expect(try s.run(["check", "--read-data", "--vault", s.path("copy")]).status == 13)
        }
        let r = try s.syncJSON([s.path("copy"), "--verify"])
        #expect(r["repaired_files"] as? Int == 1)
        #expect(r["copied_files"] as? Int == 2)
        if s.hasCheck {
            let check = try s.run(["check", "--read-data", "--vault", s.path("copy")])
            #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        }
        try s.ok(["restore", "a.bin", "--vault", s.path("copy"), "--to", s.path("out")])
    }

    @Test("a destination rolled back to an older copy: a warning naming what is missing, check exits 14, sync brings it forward")
    func rolledBack() throws {
        let s = try Scratch()
        try s.vaultWithTwoVersions()
        try s.rollBackCopy(after: [("c.txt", "third\n")])

        let list = try s.run(["list", "--vault", s.path("copy")])
        #expect(list.status == 0)
        #expect(list.stderr.contains("this copy is 1 version behind"), "\(list.stderr)")
        #expect(list.stderr.contains("run coffer sync"))
        if s.hasCheck {
            #expect(try s.run(["check", "--vault", s.path("copy")]).status == 14)
        } else {
            #expect(try s.run(["status", "--check", "--vault", s.path("copy")]).status == 14)
        }
        #expect(try s.run(["seal", s.path("in/c.txt"), "--vault", s.path("copy")]).status == 14)
        let r = try s.syncJSON([s.path("copy")])
        #expect(r["relation"] as? String == "behind")
        let after = try s.run(["list", "--vault", s.path("copy")])
        #expect(after.status == 0 && !after.stderr.contains("rollback"))
    }

    @Test("a diverged destination is refused with both sides explained (exit 14); --force replaces it")
    func diverged() throws {
        let s = try Scratch()
        try s.vaultWithTwoVersions()
        try s.ok(["sync", s.path("copy"), "--quiet"])
        try s.write("in/theirs.txt", "theirs\n")
        try s.write("in/ours.txt", "ours\n")
        // Sealed into the copy on another machine (its own rollback state).
        let elsewhere = try s.run(["seal", s.path("in/theirs.txt"), "--vault", s.path("copy"), "--quiet"], environment: ["XDG_STATE_HOME": s.path("state2")])
        #expect(elsewhere.status == 0, "\(elsewhere.stderr)")
        try s.ok(["seal", s.path("in/ours.txt"), "--quiet"])
        let before = filesUnder(s.path("copy"))
        let r = try s.run(["sync", s.path("copy")])
        #expect(r.status == 14)
        #expect(r.stderr.contains("diverged"))
        #expect(r.stderr.contains("theirs.txt@") && r.stderr.contains("ours.txt@"), "\(r.stderr)")
        #expect(r.stderr.contains("--force"))
        #expect(filesUnder(s.path("copy")) == before)
        try s.ok(["sync", s.path("copy"), "--force", "--quiet"])
        #expect(s.versions(s.path("copy")) == s.versions(s.vault))
    }

    @Test("bad destinations: another vault, unrelated files, a file, a bad rclone form, no rclone program")
    func badDestinations() throws {
        let s = try Scratch()
        try s.vaultWithTwoVersions()
        try s.ok(["init", "--vault", s.path("other"), "--quiet"])
        let other = try s.run(["sync", s.path("other")])
        #expect(other.status == 1)
        #expect(other.stderr.contains("holds another vault"))

        try s.write("junk/notes.txt", "hi")
        let junk = try s.run(["sync", s.path("junk")])
        #expect(junk.status == 1)
        #expect(junk.stderr.contains("not a copy of this vault"))
        #expect(filesUnder(s.path("junk")) == ["notes.txt"])

        let file = try s.run(["sync", s.path("junk/notes.txt")])
        #expect(file.status == 1)
        #expect(file.stderr.contains("not a folder"))

        #expect(try s.run(["sync", "rclone:nocolon"]).status == 64)

        let missing = try s.run(["sync", "rclone:b2:backups/coffer"], environment: ["PATH": "/nonexistent", "COFFER_RCLONE": ""])
        #expect(missing.status == 1)
        #expect(missing.stderr == "coffer: rclone:b2:backups/coffer: rclone is not installed; install it with 'apt-get install rclone' or 'make deps'\n")
        let listing = try s.run(["list", "--vault", "rclone:b2:backups/coffer"], environment: ["PATH": "/nonexistent"])
        #expect(listing.status == 1)
        #expect(listing.stderr.contains("rclone is not installed"))
    }
}
