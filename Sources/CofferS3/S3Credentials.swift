import CofferCore
import Foundation

/// The key an S3 request is signed with, and the region.
///
/// From the environment: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`
/// (optional), `AWS_DEFAULT_REGION` (default `us-east-1`; `AWS_REGION` is read too). Without the
/// two key variables: the profile `AWS_PROFILE` (default `default`) of the shared credentials file
/// `AWS_SHARED_CREDENTIALS_FILE` (default `~/.aws/credentials`).
public struct S3Credentials: Sendable, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    public var region: String

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, region: String = "us-east-1") {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.region = region
    }

    /// The credentials from `environment`, else from the shared credentials file.
    /// - Throws: ``CofferError/invalidArgument(_:)`` naming what is missing.
    public static func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> S3Credentials {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let region = value("AWS_DEFAULT_REGION") ?? value("AWS_REGION") ?? "us-east-1"
        if let id = value("AWS_ACCESS_KEY_ID"), let secret = value("AWS_SECRET_ACCESS_KEY") {
            return S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: value("AWS_SESSION_TOKEN"), region: region)
        }
        if value("AWS_ACCESS_KEY_ID") != nil || value("AWS_SECRET_ACCESS_KEY") != nil {
            throw CofferError.invalidArgument("S3: set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither (to use ~/.aws/credentials)")
        }
        let profile = value("AWS_PROFILE") ?? "default"
        let file = value("AWS_SHARED_CREDENTIALS_FILE") ?? ((value("HOME") ?? NSHomeDirectory()) + "/.aws/credentials")
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CofferError.invalidArgument(
                "S3: no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or put a [\(profile)] profile in \(file)")
        }
        guard data.count <= 1 << 20 else { throw CofferError.invalidArgument("S3: \(file) is larger than 1 MiB, not a credentials file") }
        let profiles = parseCredentialsFile(String(decoding: data, as: UTF8.self))
        guard let p = profiles[profile] else {
            throw CofferError.invalidArgument("S3: no profile [\(profile)] in \(file) (AWS_PROFILE chooses the profile)")
        }
        guard let id = p["aws_access_key_id"], let secret = p["aws_secret_access_key"] else {
            throw CofferError.invalidArgument("S3: profile [\(profile)] in \(file) lacks aws_access_key_id or aws_secret_access_key")
        }
        return S3Credentials(
            accessKeyID: id, secretAccessKey: secret, sessionToken: p["aws_session_token"],
            region: value("AWS_DEFAULT_REGION") ?? value("AWS_REGION") ?? p["region"] ?? "us-east-1")
    }

    /// The profiles of an AWS shared credentials file (INI): `[name]` sections of `key = value`
    /// lines; `#` and `;` start comment lines; keys are lower-cased; a `profile ` prefix on a
    /// section name (the config file's form) is dropped.
    public static func parseCredentialsFile(_ text: String) -> [String: [String: String]] {
        var out: [String: [String: String]] = [:]
        var current: String?
        for raw in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                var name = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                if name.hasPrefix("profile ") { name = String(name.dropFirst(8)).trimmingCharacters(in: .whitespaces) }
                current = name
                if out[name] == nil { out[name] = [:] }
                continue
            }
            guard let section = current, let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            out[section]?[key] = value
        }
        return out
    }
}
