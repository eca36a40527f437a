@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// Scratch folders, vaults with the test-only Argon2id profile, and deterministic data.
enum T {
    /// A new folder under this test process's run folder.
    static func scratch(_ label: String = "t") -> String {
        var template = Array((runFolder + "/\(label)-XXXXXX").utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }!
        return String(cString: p)
    }

    /// `coffer-tests/run-<pid>` in the temporary folder: this process's scratch folders. The
    /// first use removes the run folders of test processes that have ended (and folders of older
    /// layouts), so a failed run's files stay for inspection until the next run and scratch space
    /// does not pile up from run to run.
    static let runFolder: String = {
        let base = FileManager.default.temporaryDirectory.path + "/coffer-tests"
        try? FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [] {
            if name.hasPrefix("run-"), let pid = Int32(name.dropFirst(4)), kill(pid, 0) == 0 || errno == EPERM { continue }
            removeTree(base + "/" + name)
        }
        let run = base + "/run-\(getpid())"
        removeTree(run)  // a folder left by an ended process whose pid this one got
        try? FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        return run
    }()

    /// Removes a folder whatever the modes inside (tests make folders and vault files read-only).
    static func removeTree(_ path: String) {
        guard access(path, F_OK) == 0 else { return }
        let chmod = Process()
        chmod.executableURL = URL(fileURLWithPath: "/bin/chmod")
        chmod.arguments = ["-R", "u+rwX", path]
        if (try? chmod.run()) != nil { chmod.waitUntilExit() }
        try? FileManager.default.removeItem(atPath: path)
    }

    static func secret(_ s: String) -> SecureBytes { Array(s.utf8).withUnsafeBytes { SecureBytes(copying: $0) } }

    static var cheap: VaultOptions {
        var o = VaultOptions()
        o.kdf = .insecureTestOnly
        return o
    }

    struct Fixture {
        var vault: Vault
        var path: String
        var state: RollbackState
        var root: String

        func reopen(_ pass: String = "pw") throws -> Vault {
            try Vault.open(at: path, passphrase: T.secret(pass), state: state)
        }
    }

    static func vault(_ options: VaultOptions = T.cheap, passphrase: String = "pw", format: Int = VaultConfig.currentFormat) throws -> Fixture {
        let root = scratch("vault")
        let state = RollbackState(directory: root + "/state")
        let v = try Vault.create(at: root + "/vault", passphrase: secret(passphrase), options: options, state: state, format: format)
        return Fixture(vault: v, path: root + "/vault", state: state, root: root)
    }

    /// Deterministic pseudo-random bytes (SplitMix64).
    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        var out = [UInt8](repeating: 0, count: count)
        var i = 0
        while i < count {
            var w = rng.next()
            for _ in 0..<8 where i < count { out[i] = UInt8(truncatingIfNeeded: w); w >>= 8; i += 1 }
        }
        return out
    }

    /// Text-like content: CSV rows.
    static func csv(rows: Int, seed: UInt64) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        // Given names and surnames combined at random (no real person's record). Frozen: the
        // golden vaults hold rows made from these lists, and their tests compare with them.
        let first = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Dennis", "Margaret", "Linus", "Frances"]
        let last = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Ritchie", "Hamilton", "Torvalds", "Allen"]
        let corp = ["Acme", "Initech", "Globex", "Umbrella", "Hooli", "Stark", "Wayne", "Wonka"]
        var s = "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
        for i in 0..<rows {
            let f = first[Int(rng.next() % 10)], l = last[Int(rng.next() % 10)]
            s += "\(f),\(l),https://www.linkedin.com/in/\(f.lowercased())-\(l.lowercased())-\(i)-\(rng.next() % 100000),,"
            s += "\(corp[Int(rng.next() % 8)]),Engineer \(rng.next() % 40),\(1 + rng.next() % 28) Mar 2024\n"
        }
        return Array(s.utf8)
    }

    static func write(_ path: String, _ bytes: [UInt8], mode: Int = 0o644) {
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: mode])
    }

    static func read(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { [UInt8]($0) }
    }

    /// Every file, folder and link under `root`, with content, link target, mode and mtime.
    static func tree(_ root: String) -> [String: String] {
        var out: [String: String] = [:]
        let fm = FileManager.default
        guard let e = fm.enumerator(atPath: root) else { return out }
        while let rel = e.nextObject() as? String {
            let p = root + "/" + rel
            var st = stat()
            lstat(p, &st)
            let mode = String(st.st_mode & 0o7777, radix: 8)
            switch st.st_mode & S_IFMT {
            case S_IFLNK: out[rel] = "link:" + ((try? fm.destinationOfSymbolicLink(atPath: p)) ?? "?")
            case S_IFDIR: out[rel] = "dir:\(mode):\(st.st_mtim.tv_sec)"
            default:
                out[rel] = "file:\(mode):\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec):" + Hex.encode(SHA256.hash(read(p) ?? []))
            }
        }
        return out
    }

    /// Flips one bit of a vault file (which is stored read-only).
    static func flip(_ path: String, at offset: Int) {
        chmod(path, 0o600)
        var b = read(path)!
        b[offset] ^= 0x01
        FileManager.default.createFile(atPath: path, contents: Data(b))
    }

    static func files(in vault: String) -> [String] {
        let fm = FileManager.default
        var out: [String] = []
        let e = fm.enumerator(atPath: vault)!
        while let rel = e.nextObject() as? String {
            var isDir: ObjCBool = false
            fm.fileExists(atPath: vault + "/" + rel, isDirectory: &isDir)
            if !isDir.boolValue && !(rel as NSString).lastPathComponent.hasPrefix(".") { out.append(rel) }
        }
        return out.sorted()
    }

    static func isIntegrity(_ e: Error) -> Bool {
        if case CofferError.integrity = e { return true }
        return false
    }
}
