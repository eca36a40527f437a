import AsyncHTTPClient
import CofferCore
import CofferCrypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// Signed S3 requests, made synchronously for the synchronous ``Backend`` protocol.
///
/// Bridge: each request runs on AsyncHTTPClient's event loops; the calling thread (a Coffer
/// worker thread, never an event-loop thread) waits for its future. At most ``maxConcurrent``
/// requests are in flight per client (a counting semaphore taken before, released after each).
/// Failed attempts are retried by ``S3RetryPolicy`` (5xx, 429, connection failures, time-outs).
final class S3Client: @unchecked Sendable {
    let location: S3Location
    let signer: SigV4
    let retry: S3RetryPolicy
    let virtualHost: Bool
    private let http: HTTPClient
    private let slots: DispatchSemaphore
    static let maxConcurrent = 8

    /// A response with its body (at most what the request allowed).
    struct Response {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
    }

    /// - Throws: ``CofferError/invalidArgument(_:)`` for a CA bundle that cannot be used on an https endpoint.
    init(location: S3Location, credentials: S3Credentials, environment: [String: String], retry: S3RetryPolicy = S3RetryPolicy()) throws {
        self.location = location
        self.signer = SigV4(
            accessKeyID: credentials.accessKeyID, secretAccessKey: credentials.secretAccessKey, sessionToken: credentials.sessionToken,
            region: credentials.region)
        self.retry = retry
        self.virtualHost = environment["COFFER_S3_BUCKET_LOOKUP"]?.lowercased() == "dns"
        var tls: TLSConfiguration?
        if location.secure {
            var t = TLSConfiguration.makeClientConfiguration()
            // The system trust store, plus AWS_CA_BUNDLE when set. An http endpoint never reads it.
            if let bundle = environment["AWS_CA_BUNDLE"], !bundle.isEmpty {
                guard FileManager.default.isReadableFile(atPath: bundle) else {
                    throw CofferError.invalidArgument("S3: AWS_CA_BUNDLE names \(bundle), which cannot be read")
                }
                t.additionalTrustRoots = [.file(bundle)]
            }
            tls = t
        }
        var config = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(10), read: .seconds(120)))
        config.decompression = .disabled
        config.httpVersion = .http1Only
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
        slots = DispatchSemaphore(value: Self.maxConcurrent)
    }

    deinit { try? http.syncShutdown() }

    /// The URL path and host of `key` in the bucket (nil: the bucket itself).
    func target(_ key: String?) -> (host: String, path: String) {
        let encodedKey = key.map { SigV4.uriEncode($0, keepSlash: true) }
        if virtualHost {
            let host = location.bucket + "." + location.hostHeader
            return (host, "/" + (encodedKey ?? ""))
        }
        return (location.hostHeader, "/" + location.bucket + (encodedKey.map { "/" + $0 } ?? ""))
    }

    /// Makes one request, with retries. The body read is at most `maxBody` bytes: more fails the
    /// request (it is not retried).
    func send(
        _ method: HTTPMethod, key: String?, query: [(String, String)] = [], headers extra: [(String, String)] = [],
        body: [UInt8]? = nil, maxBody: Int = 1 << 20, what: String
    ) throws -> Response {
        let payloadHash = body.map { SigV4.hex(SHA256.hash($0)) } ?? SigV4.emptyPayloadHash
        let (host, path) = target(key)
        let queryString = SigV4.canonicalQuery(query)
        let url = "\(location.secure ? "https" : "http")://\(host)\(path)\(queryString.isEmpty ? "" : "?" + queryString)"
        var attempt = 0
        while true {
            attempt += 1
            var headers: [(String, String)] = [("host", host), ("x-amz-content-sha256", payloadHash), ("x-amz-date", SigV4.amzDate(Date()))]
            if let token = signer.sessionToken { headers.append(("x-amz-security-token", token)) }
            headers += extra
            let signed = signer.sign(
                method: method.rawValue, encodedPath: path, query: query, headers: headers, payloadHash: payloadHash,
                amzDate: headers[2].1)
            var request: HTTPClient.Request
            do { request = try HTTPClient.Request(url: url, method: method) } catch {
                throw CofferError.remote(location: location.description, reason: "\(what) failed: the URL \(url) is not valid")
            }
            for (n, v) in headers where n != "host" { request.headers.add(name: n, value: v) }
            request.headers.replaceOrAdd(name: "Host", value: host)
            request.headers.add(name: "Authorization", value: signed.authorization)
            if let body {
                request.body = .bytes(body)
            } else if method == .PUT || method == .POST {
                request.headers.add(name: "Content-Length", value: "0")
            }
            let outcome: Result<Response, Error>
            slots.wait()
            do {
                let delegate = ResponseAccumulator(request: request, maxBodySize: maxBody)
                let r = try http.execute(request: request, delegate: delegate).futureResult.wait()
                var bytes: [UInt8] = []
                if var b = r.body { bytes = b.readBytes(length: b.readableBytes) ?? [] }
                outcome = .success(Response(status: Int(r.status.code), headers: r.headers, body: bytes))
            } catch {
                outcome = .failure(error)
            }
            slots.signal()
            switch outcome {
            case .success(let r):
                if S3RetryPolicy.isRetryable(status: r.status) && attempt < retry.attempts {
                    pause(before: attempt)
                    continue
                }
                return r
            case .failure(let error):
                if error is ResponseAccumulator.ResponseTooBigError {
                    throw CofferError.remote(
                        location: location.description, reason: "\(what) failed: the store sent more than the \(maxBody) bytes expected; stopped reading")
                }
                // A connection that cannot be made costs up to the connect time-out each time
                // (AsyncHTTPClient keeps trying until then): at most 3 attempts for those.
                let limit = Self.isConnectFailure(error) ? min(3, retry.attempts) : retry.attempts
                if attempt < limit && Self.isTransient(error) {
                    pause(before: attempt)
                    continue
                }
                throw CofferError.remote(location: location.description, reason: "\(what) failed: \(Self.describe(error))\(Self.hint(error))")
            }
        }
    }

    private func pause(before attempt: Int) {
        Thread.sleep(forTimeInterval: retry.delay(retry: attempt, unit: Double.random(in: 0..<1)))
    }

    /// Connection failures and time-outs are retried; TLS certificate failures and bad requests are not.
    static func isTransient(_ error: Error) -> Bool {
        if error is NIOSSLError || error is BoringSSLError { return false }
        if let e = error as? HTTPClientError {
            let transient: [HTTPClientError] = [
                .connectTimeout, .readTimeout, .remoteConnectionClosed, .deadlineExceeded, .getConnectionFromPoolTimeout,
            ]
            return transient.contains(e) || e.description.contains("Timeout")
        }
        return true  // a socket error (connection refused, reset)
    }

    static func isConnectFailure(_ error: Error) -> Bool {
        if let e = error as? HTTPClientError { return e == .connectTimeout }
        let d = String(describing: error).lowercased()
        return d.contains("refused") || d.contains("connect")
    }

    static func describe(_ error: Error) -> String {
        if let e = error as? HTTPClientError { return e.description }
        return String(describing: error)
    }

    static func hint(_ error: Error) -> String {
        let d = String(describing: error).lowercased()
        if d.contains("certificate") || error is NIOSSLError || error is BoringSSLError {
            return " (the server's TLS certificate is not trusted: set AWS_CA_BUNDLE to its CA file)"
        }
        if d.contains("refused") || d.contains("timeout") || d.contains("unreachable") {
            return " (the endpoint cannot be reached — check its address and port)"
        }
        return ""
    }

    /// The error for an unexpected status: S3's error code and message, with a hint.
    func failure(_ r: Response, what: String) -> CofferError {
        let xml = S3XML(r.body)
        let code = xml?.first("Code") ?? ""
        let message = xml?.first("Message") ?? ""
        var reason = "\(what) failed: HTTP \(r.status)" + (code.isEmpty ? "" : " \(code)") + (message.isEmpty ? "" : ": \(message)")
        if r.status == 403 || code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" {
            reason += " (the store refused the credentials: check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the region)"
        } else if code == "NoSuchBucket" {
            reason += " (the bucket \(location.bucket) does not exist; 'coffer init' creates it)"
        } else if r.status == 301 || code == "PermanentRedirect" {
            reason += " (the bucket is in another region: set AWS_DEFAULT_REGION)"
        }
        return .remote(location: location.description, reason: reason)
    }
}
