// Support.swift: a vault of generated LinkedIn exports served by a real UIServer on a free
// loopback port, and a raw HTTP/1.1 client (any Host header, any cookie) that does its blocking
// socket work on its own thread.

import CofferCore
import CofferCrypto
import CofferExports
import Foundation
import Synchronization
import Testing

@testable import CofferUI
@testable import ExportGenerator

/// One vault with three monthly exports, and a server on it.
struct UIFixture: Sendable {
    let root: String
    let port: Int
    let secrets: UISecrets
    let exports: [LinkedInExport]
    let ids: [ObjectID]
    let seriesName: String
    let stop: @Sendable () -> Void

    var cookie: String { "coffer_ui_session=\(secrets.token)" }
    var host: String { "127.0.0.1:\(port)" }
}

/// Builds the fixture once for all the tests of the module.
actor SharedFixture {
    static let shared = SharedFixture()
    private var fixture: UIFixture?

    func get() async throws -> UIFixture {
        if let fixture { return fixture }
        let made = try await Self.make()
        fixture = made
        return made
    }

    private static func make() async throws -> UIFixture {
        let root = FileManager.default.temporaryDirectory.path + "/coffer-ui-test-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: root + "/in", withIntermediateDirectories: true)
        var options = VaultOptions()
        options.kdf = .insecureTestOnly
        let pass = Array("ui tests".utf8).withUnsafeBytes { SecureBytes(copying: $0) }
        let vault = try Vault.create(at: root + "/vault", passphrase: pass, options: options, state: RollbackState(directory: root + "/state"))
        var config = GeneratorConfig(outputDirectory: root + "/in")
        config.months = 3
        config.seed = 77
        config.connections = 400
        config.messagesBytes = 40_000
        config.quiet = true
        let generator = LinkedInGenerator(config: config)
        var exports: [LinkedInExport] = []
        var ids: [ObjectID] = []
        for _ in 0..<3 {
            let export = generator.nextExport()
            let path = root + "/in/" + export.zipFileName
            try Data(try export.zipArchive()).write(to: URL(fileURLWithPath: path))
            var o = SealOptions()
            o.archiveHandler = ZipArchiveHandler()
            o.name = "Basic_LinkedInDataExport"
            o.time = Date(timeIntervalSince1970: TimeInterval(export.generatedAt.seconds))
            ids.append(try vault.seal([path], options: o).id)
            exports.append(export)
        }
        // A file whose name is not UTF-8 and holds markup, in a folder version of its own.
        let odd = root + "/odd"
        try FileManager.default.createDirectory(atPath: odd, withIntermediateDirectories: true)
        let name: [UInt8] = Array((odd + "/bad").utf8) + [0xFF, 0x3C, 0x62, 0x3E]
        let fd = name.withUnsafeBufferPointer { buf -> Int32 in
            var c = Array(buf) + [0]
            return c.withUnsafeMutableBufferPointer { p in p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) { open($0, O_CREAT | O_WRONLY, 0o644) } }
        }
        #expect(fd >= 0)
        _ = "odd file".withCString { write(fd, $0, 8) }
        close(fd)
        var o = SealOptions()
        o.name = "odd"
        ids.append(try vault.seal([odd], options: o).id)

        let secrets = UISecrets.random()
        let server = UIServer(vault: vault, configuration: UIConfiguration(port: 0), secrets: secrets)
        let ready = PortWaiter()
        let task = Task { try await server.run { ready.set($0) } }
        let port = try await ready.wait()
        return UIFixture(
            root: root, port: port, secrets: secrets, exports: exports, ids: ids, seriesName: "Basic_LinkedInDataExport",
            stop: { task.cancel() })
    }
}

final class PortWaiter: Sendable {
    private let port = Mutex<Int?>(nil)
    func set(_ p: Int) { port.withLock { $0 = p } }
    func wait() async throws -> Int {
        for _ in 0..<3000 {
            if let p = port.withLock({ $0 }) { return p }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw HTTPTestError.timeout
    }
}

enum HTTPTestError: Error { case timeout, connect(Int32), malformed }

/// One HTTP response.
struct RawResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// A raw HTTP/1.1 request over a new connection (Connection: close).
enum RawHTTP {
    static func request(
        port: Int, method: String = "GET", path: String, host: String?, cookie: String? = nil, extraHeaders: [String] = [], body: [UInt8] = []
    ) async throws -> RawResponse {
        var head = "\(method) \(path) HTTP/1.1\r\n"
        if let host { head += "Host: \(host)\r\n" }
        if let cookie { head += "Cookie: \(cookie)\r\n" }
        for h in extraHeaders { head += h + "\r\n" }
        if method == "POST" { head += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.count)\r\n" }
        head += "Connection: close\r\n\r\n"
        let bytes = Array(head.utf8) + body
        return try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try exchange(port: port, bytes: bytes) })
            }
            thread.start()
        }
    }

    private static func exchange(port: Int, bytes: [UInt8]) throws -> RawResponse {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HTTPTestError.connect(errno) }
        defer { close(fd) }
        var tv = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { throw HTTPTestError.connect(errno) }
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw HTTPTestError.connect(errno) }
            sent += n
        }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            data += buffer[0..<n]
        }
        return try parse(data)
    }

    static func parse(_ data: [UInt8]) throws -> RawResponse {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0..<max(0, data.count - 3)).first(where: { Array(data[$0..<($0 + 4)]) == separator }) else { throw HTTPTestError.malformed }
        let headText = String(decoding: data[..<end], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw HTTPTestError.malformed }
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var body = Array(data[(end + 4)...])
        if headers.contains(where: { $0.0.lowercased() == "transfer-encoding" && $0.1.lowercased().contains("chunked") }) {
            body = try dechunk(body)
        }
        return RawResponse(status: status, headers: headers, body: body)
    }

    private static func dechunk(_ data: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < data.count {
            guard let lineEnd = (i..<(data.count - 1)).first(where: { data[$0] == 13 && data[$0 + 1] == 10 }) else { throw HTTPTestError.malformed }
            let sizeText = String(decoding: data[i..<lineEnd], as: UTF8.self).split(separator: ";").first.map(String.init) ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { throw HTTPTestError.malformed }
            if size == 0 { break }
            let start = lineEnd + 2
            guard start + size <= data.count else { throw HTTPTestError.malformed }
            out += data[start..<(start + size)]
            i = start + size + 2
        }
        return out
    }
}

/// How many times `needle` occurs in `text`.
func occurrences(of needle: String, in text: String) -> Int {
    text.components(separatedBy: needle).count - 1
}

/// The markup of the element with `id` up to its end tag (`svg`, `ul`, `table`): enough to count
/// what it holds, as the pages never nest an element of the same name in these.
func element(_ tag: String, id: String, in html: String) -> String? {
    guard let start = html.range(of: "<\(tag) id=\"\(id)\"") ?? html.range(of: "id=\"\(id)\"") else { return nil }
    guard let end = html.range(of: "</\(tag)>", range: start.upperBound..<html.endIndex) else { return nil }
    return String(html[start.lowerBound..<end.upperBound])
}
