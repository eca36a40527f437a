@testable import CofferCore
import Foundation
import Testing

/// RcloneBackend reads no more than a remote lists (or a range asks for), and a listing no more
/// than ``RcloneBackend/listingLimit``, whatever the rclone process sends.
@Suite("Bounded rclone reads")
struct BoundedRcloneReadTests {
    /// A fake rclone program: `rclone rcd` answering like rclone's remote control, whose
    /// `operations/list` gives `listing` (a JSON list, or "endless": a listing that never ends)
    /// and whose every GET sends `body` bytes (-1: without end), whatever was asked. Needs python3.
    static func fake(listing: String, body: Int) throws -> String {
        let dir = T.scratch("fake-rclone")
        let server = dir + "/fake-rcd.py"
        try Data(Self.fakeServer.utf8).write(to: URL(fileURLWithPath: server))
        let path = dir + "/rclone"
        let quoted = "'" + listing.replacingOccurrences(of: "'", with: "'\\''") + "'"
        let script = "#!/bin/sh\nexec python3 '\(server)' \(quoted) \(body)\n"
        try Data(script.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o755)
        return path
    }

    static let listing = "[{\"Path\":\"config\",\"Name\":\"config\",\"Size\":100,\"IsDir\":false}]"

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

    @Test("a GET sending more than the listed size: a remote error naming the path, after 101 bytes")
    func moreThanListed() throws {
        let b = RcloneBackend(remote: "fake:vault", executable: try Self.fake(listing: Self.listing, body: 400_000_000))
        _ = try b.listTree()
        #expect {
            try b.read("config")
        } throws: { error in
            guard case CofferError.remote(let location, let reason) = error else { return false }
            return location == "rclone:fake:vault" && reason.hasPrefix("reading fake:vault/config failed: the remote sent more than its listed size (100 bytes)")
        }
    }

    @Test("a GET sending fewer bytes than listed: a truncated file; exactly the listed size reads")
    func fewerThanListed() throws {
        let short = RcloneBackend(remote: "fake:vault", executable: try Self.fake(listing: Self.listing, body: 10))
        #expect {
            try short.read("config")
        } throws: { error in
            guard case CofferError.integrity(let object, let reason) = error else { return false }
            return object == "config" && reason == "truncated: 10 of the 100 bytes the remote lists"
        }
        let exact = RcloneBackend(remote: "fake:vault", executable: try Self.fake(listing: Self.listing, body: 100))
        #expect(try exact.read("config") == [UInt8](repeating: 0, count: 100))
    }

    @Test("a ranged read that gets more than the range: a remote error")
    func moreThanRange() throws {
        let b = RcloneBackend(remote: "fake:vault", executable: try Self.fake(listing: Self.listing, body: 50_000_000))
        #expect {
            try b.read("packs/ab/x", offset: 0, length: 4096)
        } throws: { error in
            guard case CofferError.remote(_, let reason) = error else { return false }
            return reason.contains("the remote sent more than the range asked for (4096 bytes)")
        }
    }

    @Test("a listing that never ends is cut off at 64 MiB")
    func endlessListing() throws {
        let b = RcloneBackend(
            remote: "fake:vault",
            executable: try Self.fake(listing: "endless", body: 0))
        #expect {
            try b.list("keys")
        } throws: { error in
            guard case CofferError.remote(_, let reason) = error else { return false }
            return reason.hasPrefix("listing keys/ failed: rclone's output went on past 64 MiB")
        }
    }
}
