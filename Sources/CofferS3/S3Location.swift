import CofferCore

/// An S3 vault location, `s3:http(s)://HOST[:PORT]/BUCKET[/PREFIX]` (restic's form).
///
/// The vault's objects are the vault's files under `PREFIX/` in `BUCKET` (no prefix: at the top of
/// the bucket). Requests are path-style (`http://HOST:PORT/BUCKET/KEY`) unless
/// `COFFER_S3_BUCKET_LOOKUP=dns` asks for virtual-host style (`http://BUCKET.HOST:PORT/KEY`).
public struct S3Location: Sendable, Equatable, CustomStringConvertible {
    public var secure: Bool
    /// The host name or address, without the port (IPv6 without brackets).
    public var host: String
    public var port: Int
    public var bucket: String
    /// The key prefix without leading or trailing `/`; empty for the whole bucket.
    public var prefix: String

    public static let scheme = "s3:"

    /// Parses `s3:http(s)://HOST[:PORT]/BUCKET[/PREFIX]`.
    /// - Throws: ``CofferError/invalidArgument(_:)`` with a one-line message saying what is wrong.
    public init(parsing text: String) throws {
        func bad(_ why: String) -> CofferError {
            .invalidArgument("'\(text)' is not an S3 location: \(why); write s3:https://HOST[:PORT]/BUCKET[/PREFIX], for example s3:https://s3.amazonaws.com/my-bucket/coffer")
        }
        guard text.hasPrefix(Self.scheme) else { throw bad("it does not start with s3:") }
        var rest = Substring(text.dropFirst(Self.scheme.count))
        if rest.hasPrefix("https://") {
            secure = true; rest = rest.dropFirst(8)
        } else if rest.hasPrefix("http://") {
            secure = false; rest = rest.dropFirst(7)
        } else {
            throw bad("the endpoint must start with http:// or https://")
        }
        let slash = rest.firstIndex(of: "/")
        let authority = slash.map { rest[..<$0] } ?? rest
        let path = slash.map { rest[rest.index(after: $0)...] } ?? ""
        guard !authority.isEmpty else { throw bad("no host") }
        guard !authority.contains("@") else { throw bad("credentials do not go in the location (use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)") }
        var hostPart = authority
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw bad("an IPv6 address without its closing ]") }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw bad("unexpected text after the IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        }
        guard !hostPart.isEmpty else { throw bad("no host") }
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p), portText.allSatisfy(\.isASCII) else {
                throw bad("the port '\(portText)' is not a number from 1 to 65535")
            }
            port = p
        } else {
            port = secure ? 443 : 80
        }
        host = String(hostPart)
        guard !path.contains("?"), !path.contains("#") else { throw bad("a query or fragment is not part of a location") }
        // Split on bytes, never as Swift Characters (a combining mark can hide a `/`).
        let parts = Array(path.utf8).split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true)
            .map { String(decoding: $0, as: UTF8.self) }
        guard let first = parts.first else { throw bad("no bucket") }
        bucket = first
        guard Self.isValidBucket(bucket) else {
            throw bad("'\(bucket)' is not a bucket name (3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit)")
        }
        for p in parts.dropFirst() where p == "." || p == ".." { throw bad("'.' and '..' are not allowed in the prefix") }
        prefix = parts.dropFirst().joined(separator: "/")
    }

    /// S3's bucket naming rules (the strict, DNS-compatible ones).
    static func isValidBucket(_ name: String) -> Bool {
        let u = Array(name.utf8)
        guard (3...63).contains(u.count) else { return false }
        func alnum(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) }
        guard alnum(u.first!), alnum(u.last!) else { return false }
        return u.allSatisfy { alnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
    }

    /// `host` or `host:port` as the Host header carries it (the port only when not the scheme's default).
    public var hostHeader: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return port == (secure ? 443 : 80) ? h : "\(h):\(port)"
    }

    /// The object key of a vault file.
    public func key(_ path: String) -> String {
        prefix.isEmpty ? path : (path.isEmpty ? prefix : prefix + "/" + path)
    }

    public var description: String {
        "s3:\(secure ? "https" : "http")://\(hostHeader)/\(bucket)\(prefix.isEmpty ? "" : "/" + prefix)"
    }
}
