import Foundation
import Testing

/// A remote that lies about sizes, or never stops talking, cannot make coffer read without bound.
@Suite("Hostile remotes")
struct HostileRemoteTests {
    static let slot = String(repeating: "ab", count: 32)

    /// A fake `rclone` (selected with COFFER_RCLONE): `rclone rcd` answering like rclone's remote
    /// control for a vault whose listing shows `config` and one key slot of 100 bytes each (or,
    /// with `endlessListing`, a listing that never ends), and whose every GET sends `body` bytes.
    static func fakeRclone(_ s: Scratch, body: Int, endlessListing: Bool = false) throws -> String {
        let listing = "[{\"Path\":\"config\",\"Name\":\"config\",\"Size\":100,\"IsDir\":false},"
            + "{\"Path\":\"keys/\(slot)\",\"Name\":\"\(slot)\",\"Size\":100,\"IsDir\":false}]"
        let server = Self.fakeServer
        let path = try s.write("bin/rclone-fake", "#!/bin/sh\nexec python3 '\(server)' '\(endlessListing ? "endless" : listing)' \(body)\n")
        chmod(path, 0o755)
        return path
    }

    /// The fake server (python3: a socket server on 127.0.0.1, port printed as rclone prints it),
    /// shared with the other hostile-remote tests: Tests/Support/fake-rclone-rcd.py.
    static let fakeServer = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path + "/Support/fake-rclone-rcd.py"

    /// Runs `coffer list --vault rclone:fake:vault` under GNU time; returns the result and the
    /// peak RSS in KiB.
    static func listWithPeak(_ s: Scratch, rclone: String) throws -> (RunResult, Int) {
        let time = try #require(Binaries.tool("time"), "GNU time (/usr/bin/time) measures the peak RSS")
        var r = try s.run(
            ["list", "--vault", "rclone:fake:vault"], environment: ["COFFER_RCLONE": rclone],
            wrapper: [time, "-f", "coffer-peak-rss-kib %M"], timeout: 120)
        let lines = r.stderr.split(separator: "\n")
        let peak = lines.last { $0.hasPrefix("coffer-peak-rss-kib ") }.flatMap { Int($0.dropFirst("coffer-peak-rss-kib ".count)) }
        r.stderr = lines.filter { !$0.hasPrefix("coffer-peak-rss-kib ") && !$0.hasPrefix("Command exited") }
            .map { $0 + "\n" }.joined()
        return (r, try #require(peak, "GNU time printed the peak: \(r.stderr)"))
    }

    @Test("a remote that lists config as 100 bytes and streams 400 MB: list fails in one line naming the path, peak RSS stays small")
    func oversizedRead() throws {
        let s = try Scratch()
        let fake = try Self.fakeRclone(s, body: 400_000_000)
        let started = Date()
        let (r, peakKiB) = try Self.listWithPeak(s, rclone: fake)
        let seconds = Date().timeIntervalSince(started)
        #expect(r.status != 0)
        #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)")
        #expect(r.stderr.hasPrefix("coffer: rclone:fake:vault: reading fake:vault/config failed: the remote sent more than"), "\(r.stderr)")
        #expect(peakKiB < 100 << 10, "peak RSS \(peakKiB) KiB")
        #expect(seconds < 30, "took \(seconds) s: rclone was not stopped")
        print("oversized read: exit \(r.status), peak RSS \(peakKiB) KiB, \(String(format: "%.2f", seconds)) s")
    }

    @Test("a listing that never ends is cut off at the listing limit, with a one-line error")
    func endlessListing() throws {
        let s = try Scratch()
        let fake = try Self.fakeRclone(s, body: 0, endlessListing: true)
        let started = Date()
        let (r, peakKiB) = try Self.listWithPeak(s, rclone: fake)
        let seconds = Date().timeIntervalSince(started)
        #expect(r.status != 0)
        #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)")
        #expect(r.stderr.hasPrefix("coffer: rclone:fake:vault: listing failed: rclone's output went on past 64 MiB"), "\(r.stderr)")
        #expect(peakKiB < 300 << 10, "peak RSS \(peakKiB) KiB")
        #expect(seconds < 60, "took \(seconds) s")
        print("endless listing: exit \(r.status), peak RSS \(peakKiB) KiB, \(String(format: "%.2f", seconds)) s")
    }
}
