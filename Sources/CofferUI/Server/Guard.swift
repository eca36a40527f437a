// Guard.swift: what every request goes through before a page is made (Docs/SECURITY.md, "coffer ui").
//
// 1. The Host header must name this server by a loopback name (127.0.0.1, localhost, [::1]) with
//    its port, or the address given with --listen: a page of another site that a DNS name was
//    pointed at 127.0.0.1 for (DNS rebinding) gets 403.
// 2. The session token (256 random bits, printed in the URL) is compared in constant time. The
//    first visit with `?token=` sets it as an HttpOnly, SameSite=Strict cookie and redirects to
//    the same address without it (so it leaves the address bar and the history); every other
//    request must carry the cookie. Missing or wrong: 403.
// 3. A POST must carry the CSRF token (a second random value, in a hidden form field) and, when
//    the browser sends one, an Origin of this server.
// 4. Every response, 403s included, gets the security headers: a strict Content-Security-Policy
//    (nothing but this server's own files; no inline script or style), nosniff, no framing, no
//    referrer, no caching. No CORS header is ever sent.

import CofferCore
import CofferCrypto
import Foundation
import Hummingbird
import NIOCore

/// The two random values of one server run.
public struct UISecrets: Sendable {
    /// The session token: 64 hex digits (256 bits).
    public let token: String
    /// The CSRF token of the forms: 64 hex digits.
    public let csrf: String

    public init(token: String, csrf: String) {
        self.token = token
        self.csrf = csrf
    }

    /// Fresh values from libsodium's generator.
    public static func random() -> UISecrets {
        UISecrets(token: HTML.hex(Sodium.randomBytes(count: 32)), csrf: HTML.hex(Sodium.randomBytes(count: 32)))
    }

    /// Compares in time that depends only on the lengths.
    public static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) {
            diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return diff == 0
    }
}

/// Which Host headers name this server.
public struct HostCheck: Sendable {
    public let port: Int
    /// The --listen address (accepted besides the loopback names).
    public let extraHost: String?

    public init(port: Int, extraHost: String? = nil) {
        self.port = port
        self.extraHost = extraHost
    }

    /// True for `127.0.0.1:PORT`, `localhost:PORT`, `[::1]:PORT` (any case), or the listen address with the port.
    public func allows(_ host: String?) -> Bool {
        guard let host else { return false }
        let h = host.lowercased()
        var names = ["127.0.0.1", "localhost", "[::1]"]
        if let extraHost { names.append(extraHost.contains(":") && !extraHost.hasPrefix("[") ? "[\(extraHost.lowercased())]" : extraHost.lowercased()) }
        return names.contains { h == "\($0):\(port)" }
    }
}

/// The cookie's name.
let sessionCookie = "coffer_ui_session"

/// Security headers on every response.
enum SecurityHeaders {
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; "
        + "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

    static func apply(_ headers: inout HTTPFields) {
        let fields: [(String, String)] = [
            ("Content-Security-Policy", contentSecurityPolicy), ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "no-referrer"), ("Cross-Origin-Opener-Policy", "same-origin"),
            ("Cross-Origin-Resource-Policy", "same-origin"), ("Cache-Control", "no-store"),
        ]
        for (name, value) in fields { headers[.init(name)!] = value }
        // Never a CORS header, whatever a handler set.
        for name in ["Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers"] {
            headers[.init(name)!] = nil
        }
    }
}

struct GuardMiddleware<Context: RequestContext>: RouterMiddleware {
    let secrets: UISecrets
    let hosts: @Sendable () -> HostCheck

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await check(request, context: context, next: next)
        } catch let error as HTTPError {
            response = Pages.errorResponse(status: error.status, message: error.body ?? error.status.reasonPhrase)
        } catch let error as CofferError {
            response = Pages.errorResponse(status: .internalServerError, message: "\(error)")
        } catch {
            response = Pages.errorResponse(status: .internalServerError, message: "\(error)")
        }
        SecurityHeaders.apply(&response.headers)
        return response
    }

    private func check(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // One Host header, naming this server.
        let extraHostFields = request.headers[values: .init("Host")!].count
        guard extraHostFields == 0, hosts().allows(request.head.authority) else {
            return Pages.errorResponse(status: .forbidden, message: "This address is not this server's (Host header); open the URL coffer ui printed.")
        }
        // The token in the URL: checked, set as a cookie, and taken out of the address.
        if let token = request.uri.queryParameters.get("token") {
            guard UISecrets.equal(token, secrets.token) else { return forbidden() }
            var headers = HTTPFields()
            headers[.location] = Self.withoutToken(path: request.uri.path, query: request.uri.query)
            headers[.setCookie] = "\(sessionCookie)=\(secrets.token); Path=/; HttpOnly; SameSite=Strict"
            return Response(status: .seeOther, headers: headers)
        }
        guard let cookie = request.cookies[sessionCookie]?.value, UISecrets.equal(cookie, secrets.token) else { return forbidden() }
        guard request.method == .get || request.method == .head || request.method == .post else {
            return Pages.errorResponse(status: .methodNotAllowed, message: "Only GET and POST are used here.")
        }
        if request.method == .post {
            if let origin = request.headers[.origin], !hosts().allows(Self.hostOf(origin: origin)) {
                return Pages.errorResponse(status: .forbidden, message: "The form came from another site (Origin).")
            }
            var request = request
            let body = try await request.collectBody(upTo: 64 * 1024)
            let form = Form(String(buffer: body))
            guard let csrf = form["csrf"], UISecrets.equal(csrf, secrets.csrf) else {
                return Pages.errorResponse(status: .forbidden, message: "The form's CSRF token is missing or wrong; reload the page and try again.")
            }
            return try await next(request, context)
        }
        return try await next(request, context)
    }

    private func forbidden() -> Response {
        Pages.errorResponse(status: .forbidden, message: "Missing or wrong token: open the URL that coffer ui printed (it ends with ?token=…).")
    }

    /// The request's path and query without the `token` parameter.
    static func withoutToken(path: String, query: String?) -> String {
        let kept = (query ?? "").split(separator: "&").filter { !$0.hasPrefix("token=") && $0 != "token" }
        return path + (kept.isEmpty ? "" : "?" + kept.joined(separator: "&"))
    }

    /// `http://127.0.0.1:8080` → `127.0.0.1:8080`.
    static func hostOf(origin: String) -> String? {
        guard origin.hasPrefix("http://") else { return nil }
        return String(origin.dropFirst("http://".count))
    }
}

/// An `application/x-www-form-urlencoded` body.
struct Form {
    private var values: [String: String] = [:]

    init(_ text: String) {
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = parts.first.flatMap({ Self.decode($0) }) else { continue }
            let value = parts.count > 1 ? Self.decode(parts[1]) ?? "" : ""
            if values[name] == nil { values[name] = value }
        }
    }

    subscript(name: String) -> String? { values[name] }

    static func decode(_ s: Substring) -> String? {
        s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
