import CofferCrypto
import Foundation

/// AWS Signature Version 4 (header form), written from AWS's description of the algorithm:
/// canonical request, string to sign, signing key derived by HMAC-SHA256 chain, signature.
public struct SigV4: Sendable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    public var region: String
    public var service: String

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, region: String, service: String = "s3") {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.region = region
        self.service = service
    }

    /// The SHA-256 of an empty payload, hex.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// `YYYYMMDDTHHMMSSZ` in UTC.
    public static func amzDate(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(
            format: "%04d%02d%02dT%02d%02d%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    /// Percent-encodes every byte but the unreserved ones (`A-Z a-z 0-9 - . _ ~`); `/` too unless `keepSlash`.
    public static func uriEncode(_ s: String, keepSlash: Bool) -> String {
        var out = ""
        for b in s.utf8 {
            if isUnreserved(b) || (keepSlash && b == 0x2f) {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                out += String(format: "%%%02X", b)
            }
        }
        return out
    }

    private static func isUnreserved(_ b: UInt8) -> Bool {
        switch b {
        case 0x41...0x5a, 0x61...0x7a, 0x30...0x39, 0x2d, 0x2e, 0x5f, 0x7e: return true
        default: return false
        }
    }

    /// The canonical query string: each name and value URI-encoded, sorted by name then value.
    public static func canonicalQuery(_ query: [(String, String)]) -> String {
        var pairs: [(name: String, value: String)] = []
        for (n, v) in query { pairs.append((uriEncode(n, keepSlash: false), uriEncode(v, keepSlash: false))) }
        // Encoded names and values are ASCII: byte order.
        pairs.sort { a, b in a.name == b.name ? Array(a.value.utf8).lexicographicallyPrecedes(b.value.utf8) : Array(a.name.utf8).lexicographicallyPrecedes(b.name.utf8) }
        var parts: [String] = []
        for p in pairs { parts.append(p.name + "=" + p.value) }
        return parts.joined(separator: "&")
    }

    /// What was signed, for tests and for messages.
    public struct Signed: Sendable {
        public var canonicalRequest: String
        public var stringToSign: String
        public var signature: String
        public var authorization: String
        public var signedHeaders: String
    }

    /// Signs a request.
    /// - Parameters:
    ///   - encodedPath: the request path as sent, already URI-encoded (S3 encodes it once).
    ///   - query: name/value pairs, not encoded.
    ///   - headers: every header to sign (`host` and `x-amz-date` among them), any case.
    ///   - payloadHash: hex SHA-256 of the body (or `UNSIGNED-PAYLOAD`).
    public func sign(method: String, encodedPath: String, query: [(String, String)], headers: [(String, String)], payloadHash: String, amzDate: String)
        -> Signed
    {
        var canonical: [String: String] = [:]
        for (name, value) in headers {
            let n = name.lowercased()
            // Sequential spaces become one; leading and trailing spaces go.
            let v = value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            canonical[n] = canonical[n].map { $0 + "," + v } ?? v
        }
        let names = canonical.keys.sorted()
        let signedHeaders = names.joined(separator: ";")
        let canonicalHeaders = names.map { "\($0):\(canonical[$0]!)\n" }.joined()
        let canonicalRequest = [
            method, encodedPath.isEmpty ? "/" : encodedPath, Self.canonicalQuery(query), canonicalHeaders, signedHeaders, payloadHash,
        ].joined(separator: "\n")
        let day = String(amzDate.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, Self.hex(SHA256.hash(Array(canonicalRequest.utf8)))].joined(separator: "\n")
        var key = HMACSHA256.mac(key: Array(("AWS4" + secretAccessKey).utf8), message: Array(day.utf8))
        key = HMACSHA256.mac(key: key, message: Array(region.utf8))
        key = HMACSHA256.mac(key: key, message: Array(service.utf8))
        key = HMACSHA256.mac(key: key, message: Array("aws4_request".utf8))
        let signature = Self.hex(HMACSHA256.mac(key: key, message: Array(stringToSign.utf8)))
        let authorization = "AWS4-HMAC-SHA256 Credential=\(accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return Signed(
            canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature, authorization: authorization,
            signedHeaders: signedHeaders)
    }

    static func hex(_ b: [UInt8]) -> String {
        let d = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(b.count * 2)
        for x in b { out.append(d[Int(x >> 4)]); out.append(d[Int(x & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
