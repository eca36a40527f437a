# A fake `rclone rcd` for the tests of hostile remotes (Tests/CofferCLITests/Secrets and
# Tests/CofferCoreTests/Secrets): it answers like rclone's remote control on 127.0.0.1.
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
                if h in (b"\r\n", b"\n", b""):
                    break
                if h.lower().startswith(b"content-length:"):
                    length = int(h.split(b":")[1])
            body = f.read(length) if length else b""
            if method == b"GET":
                if BODY < 0:
                    send_all(c, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                    chunk = b"%x\r\n" % 65536 + b"\0" * 65536 + b"\r\n"
                    while True:
                        send_all(c, chunk)
                send_all(c, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % BODY)
                left = BODY
                while left > 0:
                    n = min(left, 1 << 20)
                    send_all(c, b"\0" * n)
                    left -= n
                continue
            if target == b"/operations/list" and LISTING is None:
                send_all(c, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                send_all(c, b"1\r\n{\r\n")
                item = json.dumps({"Path": "x", "Name": "x", "Size": 1, "IsDir": False}).encode() + b","
                piece = item * 1000
                chunk = b"%x\r\n" % len(piece) + piece + b"\r\n"
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
                send_all(c, b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: %d\r\n\r\n" % len(out) + out)
                continue
            send_all(c, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(out) + out)
    except Exception:
        pass
    finally:
        c.close()

s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
sys.stderr.write("NOTICE: Serving remote control on http://127.0.0.1:%d/\n" % s.getsockname()[1])
sys.stderr.flush()
while True:
    c, _ = s.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()

