// UIServer.swift: `coffer ui`'s web server: routes, binding, start and stop.

import CofferCore
import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// Where and how the server listens.
public struct UIConfiguration: Sendable {
    /// The address to listen on: 127.0.0.1 unless --listen with --allow-remote.
    public var host: String
    /// 0: a free port chosen by the system.
    public var port: Int
    /// A series whose latest version is older than this gets a reminder (as `coffer status`).
    public var remindAfterMonths: Int

    public init(host: String = "127.0.0.1", port: Int = 0, remindAfterMonths: Int = 6) {
        self.host = host
        self.port = port
        self.remindAfterMonths = remindAfterMonths
    }

    /// Whether `host` is a loopback address (127.0.0.0/8, ::1, localhost).
    public static func isLoopback(_ host: String) -> Bool {
        let h = host.lowercased()
        if h == "localhost" || h == "::1" || h == "[::1]" { return true }
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}

/// The server of one `coffer ui` run.
public final class UIServer: Sendable {
    public let secrets: UISecrets
    public let configuration: UIConfiguration
    let model: VaultModel
    let location: String
    let rollback: String?
    private let boundPort = PortBox()

    public init(vault: Vault, configuration: UIConfiguration, secrets: UISecrets = .random()) {
        self.secrets = secrets
        self.configuration = configuration
        model = VaultModel(vault: vault)
        location = vault.location
        rollback = vault.rollback?.description
    }

    /// The address to open: `http://HOST:PORT/?token=…`.
    public func url(port: Int) -> String {
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        return "http://\(host):\(port)/?token=\(secrets.token)"
    }

    /// Serves until the task is cancelled. `onReady` gets the bound port once the server listens.
    public func run(onReady: @escaping @Sendable (Int) -> Void) async throws {
        let pages = Pages(
            model: model, secrets: secrets, location: location, rollback: rollback, remindAfterMonths: configuration.remindAfterMonths,
            now: { Date() })
        let router = Self.router(pages: pages, secrets: secrets, hosts: { [boundPort, configuration] in
            // The listen address is accepted too (--listen 127.0.0.2, or another with --allow-remote).
            HostCheck(port: boundPort.port, extraHost: configuration.host)
        })
        var logger = Logger(label: "coffer-ui")
        logger.logLevel = .critical
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { [boundPort] channel in
                let port = channel.localAddress?.port ?? 0
                boundPort.set(port)
                onReady(port)
            },
            logger: logger)
        try await app.runService(gracefulShutdownSignals: [])
    }

    static func router(pages: Pages, secrets: UISecrets, hosts: @escaping @Sendable () -> HostCheck) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: GuardMiddleware(secrets: secrets, hosts: hosts))
        router.get("/") { _, _ in try await pages.overview() }
        router.get("/series") { request, _ in
            guard let name = request.uri.queryParameters.get("name") else { throw HTTPError(.badRequest, message: "No series name given.") }
            return try await pages.series(name: name)
        }
        router.get("/version/:id") { request, context in
            let id = try await pages.resolve(context.parameters.get("id"))
            return try await pages.version(id: id, path: try Pages.pathParameter(request))
        }
        router.get("/file/:id") { request, context in
            let id = try await pages.resolve(context.parameters.get("id"))
            return try await pages.file(id: id, path: try Pages.pathParameter(request))
        }
        router.post("/zip/:id") { request, context in
            let id = try await pages.resolve(context.parameters.get("id"))
            var request = request
            let form = Form(String(buffer: try await request.collectBody(upTo: 64 * 1024)))
            guard let path = HTML.unhex(form["p"] ?? "") else { throw HTTPError(.badRequest, message: "The path is not hex.") }
            return try await pages.zip(id: id, path: path)
        }
        router.get("/diff") { request, _ in
            try await pages.diff(a: request.uri.queryParameters.get("a"), b: request.uri.queryParameters.get("b"))
        }
        router.get("/assets/:name") { _, context in
            guard let name = context.parameters.get("name"), let file = Assets.files[name] else { throw HTTPError(.notFound) }
            var headers = HTTPFields()
            headers[.contentType] = file.type
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: file.body)))
        }
        return router
    }
}

/// The port the server is bound to (known once it runs).
final class PortBox: Sendable {
    private let value = Mutex<Int>(0)
    var port: Int { value.withLock { $0 } }
    func set(_ p: Int) { value.withLock { $0 = p } }
}

