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
        let server = try s.write("bin/fake-rcd.py", Self.fakeServer)
        let path = try s.write("bin/rclone-fake", "#!/bin/sh\nexec python3 '\(server)' '\(endlessListing ? "endless" : listing)' \(body)\n")
        chmod(path, 0o755)
        return path
    }

    /// The fake server (python3: a socket server on 127.0.0.1, port printed as rclone prints it).
    static let fakeServer = """
        import sys, socket, json, threading
        # argv: LISTING (a JSON list of entries, or "endless": a listing that never ends) and BODY
        # (bytes every GET sends whatever was asked, -1: without end).
        LISTING = None if sys.argv[1] == "endless" else json.loads(sys.argv[1])
        BODY = int(sys.argv[2])

        def send_all(c, b):
            c.sendall(b)

        def handle(c):
            f = c.makefile("rb")
            try:
                while True:
                    line = f.readline()
                    if not line:
                        return
                    method, target = line.split(b" ")[:2]
                    length = 0
                    while True:
                        h = f.readline()
                        if h in (b"\\r\\n", b"\\n", b""):
                            break
                        if h.lower().startswith(b"content-length:"):
                            length = int(h.split(b":")[1])
                    body = f.read(length) if length else b""
                    if method == b"GET":
                        if BODY < 0:
                            send_all(c, b"HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n")
                            chunk = b"%x\\r\\n" % 65536 + b"\\0" * 65536 + b"\\r\\n"
                            while True:
                                send_all(c, chunk)
                        send_all(c, b"HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n" % BODY)
                        left = BODY
                        while left > 0:
                            n = min(left, 1 << 20)
                            send_all(c, b"\\0" * n)
                            left -= n
                        continue
                    if target == b"/operations/list" and LISTING is None:
                        send_all(c, b"HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n")
                        send_all(c, b"1\\r\\n{\\r\\n")
                        item = json.dumps({"Path": "x", "Name": "x", "Size": 1, "IsDir": False}).encode() + b","
                        piece = item * 1000
                        chunk = b"%x\\r\\n" % len(piece) + piece + b"\\r\\n"
                        while True:
                            send_all(c, chunk)
                    if target == b"/operations/list":
                        out = json.dumps({"list": LISTING}).encode()
                    elif target == b"/operations/stat":
                        want = json.loads(body or b"{}").get("remote", "")
                        item = next((e for e in (LISTING or []) if e["Path"] == want), None)
                        out = json.dumps({"item": item}).encode()
                    else:
                        out = json.dumps({"error": "fake remote: refused", "status": 500}).encode()
                        send_all(c, b"HTTP/1.1 500 Internal Server Error\\r\\nContent-Length: %d\\r\\n\\r\\n" % len(out) + out)
                        continue
                    send_all(c, b"HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n" % len(out) + out)
            except Exception:
                pass
            finally:
                c.close()

        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        sys.stderr.write("NOTICE: Serving remote control on http://127.0.0.1:%d/\\n" % s.getsockname()[1])
        sys.stderr.flush()
        while True:
            c, _ = s.accept()
            threading.Thread(target=handle, args=(c,), daemon=True).start()

        """

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
