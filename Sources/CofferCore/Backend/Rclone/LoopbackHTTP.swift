import Foundation

/// A small blocking HTTP/1.1 client for a server on 127.0.0.1 (the rclone process a command
/// starts): keep-alive connections, `Content-Length` and chunked bodies, HTTP basic
/// authentication. It reads no more of a body than its caller allows: a body that goes on past
/// the limit fails the request (the connection is then closed, never reused), whatever the
/// server's `Content-Length` said.
final class LoopbackHTTPClient: @unchecked Sendable {
    /// The server's port on 127.0.0.1.
    let port: UInt16
    /// The `Authorization` header's value.
    private let authorization: String
    private let lock = NSLock()
    private var idle: [LoopbackConnection] = []
    /// Seconds a read or write may wait before the request fails: an upload of a large pack to
    /// a slow remote is one request answered only at its end. A dead rclone is noticed at once
    /// (its sockets close), whatever this is.
    static let ioTimeout = 3600

    init(port: UInt16, user: String, password: String) {
        self.port = port
        self.authorization = "Basic " + Data((user + ":" + password).utf8).base64EncodedString()
    }

    /// A response: its status, headers (names lower-cased) and body.
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
    }

    /// Why a request failed below HTTP: the server is gone or sent something that is not HTTP.
    struct TransportError: Error, CustomStringConvertible {
        var description: String
    }

    /// Sends one request and reads the response. A body longer than `bodyLimit` bytes throws
    /// `overflow` after reading `bodyLimit + 1` bytes of it. A request on a kept-alive connection
    /// that the server had closed meanwhile (nothing of a response read) is sent once more on a
    /// new connection.
    func send(
        method: String, target: String, headers: [(String, String)] = [], body: [UInt8] = [], bodyLimit: Int, overflow: @autoclosure () -> Error
    ) throws -> Response {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAuthorization: \(authorization)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        let request = Array(head.utf8) + body
        for attempt in 0..<2 {
            let (connection, reused) = try takeConnection()
            do {
                try connection.write(request)
                let response = try connection.readResponse(bodyLimit: bodyLimit, overflow: overflow)
                if response.keepAlive { give(connection) } else { connection.close() }
                return response.response
            } catch let e as LoopbackConnection.StaleConnection {
                connection.close()
                if !reused || attempt == 1 { throw TransportError(description: e.description) }
            } catch {
                connection.close()
                throw error
            }
        }
        throw TransportError(description: "no response")
    }

    private func takeConnection() throws -> (LoopbackConnection, reused: Bool) {
        if let c = lock.withLock({ idle.popLast() }) { return (c, true) }
        return (try LoopbackConnection(port: port, timeoutSeconds: Self.ioTimeout), false)
    }

    private func give(_ connection: LoopbackConnection) {
        lock.withLock { idle.append(connection) }
    }

    /// Closes every idle connection.
    func closeAll() {
        let all = lock.withLock { () -> [LoopbackConnection] in
            defer { idle = [] }
            return idle
        }
        for c in all { c.close() }
    }

    /// `s` percent-encoded for a URL path: everything but unreserved characters, `/` and `:`.
    static func percentEncoded(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "/"), UInt8(ascii: ":"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                out += String(format: "%%%02X", b)
            }
        }
        return out
    }
}

/// One TCP connection to 127.0.0.1.
final class LoopbackConnection {
    private var fd: Int32
    /// Bytes read past the previous response.
    private var buffer: [UInt8] = []
    private var start = 0
    /// Response headers longer than this are not HTTP from rclone.
    static let headerLimit = 64 << 10

    /// The connection ended before any byte of a response arrived.
    struct StaleConnection: Error, CustomStringConvertible {
        var description: String
    }

    init(port: UInt16, timeoutSeconds: Int) throws {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { throw LoopbackHTTPClient.TransportError(description: "cannot open a socket: \(String(cString: strerror(errno)))") }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(s, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let e = errno
            Glibc.close(s)
            throw LoopbackHTTPClient.TransportError(description: "cannot connect to 127.0.0.1:\(port): \(String(cString: strerror(e)))")
        }
        fd = s
    }

    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    func write(_ bytes: [UInt8]) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + done, $0.count - done, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw StaleConnection(description: "sending to the rclone server failed: \(String(cString: strerror(errno)))")
            }
            done += n
        }
    }

    /// Reads more bytes into the buffer; false at the end of the stream.
    private func fill() throws -> Bool {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n > 0 {
                buffer.append(contentsOf: chunk[0..<n])
                return true
            }
            if n == 0 { return false }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK {
                throw LoopbackHTTPClient.TransportError(description: "the rclone server sent nothing for \(LoopbackHTTPClient.ioTimeout) s")
            }
            if errno == ECONNRESET { return false }
            throw LoopbackHTTPClient.TransportError(description: "reading from the rclone server failed: \(String(cString: strerror(errno)))")
        }
    }

    /// A line ending in CRLF (without it), at most `limit` bytes.
    private func readLine(limit: Int, first: Bool = false) throws -> String {
        // Bytes after `start` already scanned (``fill()`` may move the buffer's contents).
        var scanned = 0
        while true {
            if let i = buffer[(start + scanned)...].firstIndex(of: UInt8(ascii: "\n")) {
                var end = i
                if end > start && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                let line = String(decoding: buffer[start..<end], as: UTF8.self)
                start = i + 1
                return line
            }
            scanned = buffer.count - start
            guard buffer.count - start <= limit else { throw LoopbackHTTPClient.TransportError(description: "the rclone server sent a header line longer than \(limit) bytes") }
            if try !fill() {
                if first && buffer.count == start { throw StaleConnection(description: "the rclone server closed the connection") }
                throw LoopbackHTTPClient.TransportError(description: "the rclone server closed the connection in the middle of a response")
            }
        }
    }

    /// Takes up to `count` bytes (fewer only at the end of the stream).
    private func take(_ count: Int, into out: inout [UInt8]) throws -> Int {
        var got = 0
        while got < count {
            if start == buffer.count, try !fill() { break }
            let n = min(count - got, buffer.count - start)
            out.append(contentsOf: buffer[start..<(start + n)])
            start += n
            got += n
        }
        return got
    }

    func readResponse(bodyLimit: Int, overflow: () -> Error) throws -> (response: LoopbackHTTPClient.Response, keepAlive: Bool) {
        let statusLine = try readLine(limit: LoopbackConnection.headerLimit, first: true)
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw LoopbackHTTPClient.TransportError(description: "the rclone server sent a response that is not HTTP/1.1")
        }
        var headers: [String: String] = [:]
        var headerBytes = statusLine.utf8.count
        while true {
            let line = try readLine(limit: LoopbackConnection.headerLimit)
            if line.isEmpty { break }
            headerBytes += line.utf8.count
            guard headerBytes <= LoopbackConnection.headerLimit else {
                throw LoopbackHTTPClient.TransportError(description: "the rclone server sent more than 64 KiB of headers")
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[name] = value
        }
        var keepAlive = parts[0] == "HTTP/1.1" && headers["connection"]?.lowercased() != "close"
        var body: [UInt8] = []
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            while true {
                let sizeLine = try readLine(limit: 1024)
                let hex = sizeLine.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
                guard let size = Int(hex, radix: 16), size >= 0 else {
                    throw LoopbackHTTPClient.TransportError(description: "the rclone server sent a bad chunk size")
                }
                if size == 0 {
                    while try !readLine(limit: LoopbackConnection.headerLimit).isEmpty {}
                    break
                }
                let want = min(size, bodyLimit + 1 - body.count)
                let got = try take(want, into: &body)
                if body.count > bodyLimit { throw overflow() }
                guard got == size else { throw LoopbackHTTPClient.TransportError(description: "the rclone server closed the connection in the middle of a response") }
                _ = try readLine(limit: 16)
            }
        } else if let lengthText = headers["content-length"] {
            // A claim: it bounds nothing until the bytes have been read.
            guard let length = Int(lengthText), length >= 0 else {
                throw LoopbackHTTPClient.TransportError(description: "the rclone server sent a bad Content-Length")
            }
            let got = try take(min(length, bodyLimit + 1), into: &body)
            if body.count > bodyLimit { throw overflow() }
            if got < length { keepAlive = false }
        } else if status == 204 || status == 304 || (100..<200).contains(status) {
            // no body
        } else {
            // Until the server closes the connection.
            while try take(min(64 << 10, bodyLimit + 1 - body.count), into: &body) > 0 {
                if body.count > bodyLimit { throw overflow() }
            }
            keepAlive = false
        }
        return (.init(status: status, headers: headers, body: body), keepAlive)
    }
}
