import Foundation

/// Where a vault lives, as a user writes it in `--vault`, `COFFER_VAULT` or `coffer sync DEST`:
/// a folder path, `rclone:REMOTE:PATH` for any rclone remote, or
/// `s3:http(s)://HOST[:PORT]/BUCKET[/PREFIX]` for an S3 bucket (``ObjectStorage``).
///
/// `rclone:` is followed by what rclone itself takes as a path: `b2:backups/coffer`,
/// `mynas:/srv/coffer`, or a connection string such as `:local:/mnt/usb/coffer`. A folder whose
/// name really starts with `rclone:` is written `./rclone:...`.
public enum VaultLocation: Sendable, Equatable, CustomStringConvertible {
    /// A folder on this machine (a disk, a USB stick, a mounted NAS or cloud-synced folder).
    case folder(String)
    /// An rclone remote path, `REMOTE:PATH` as rclone takes it.
    case rclone(remote: String)
    /// An S3 location, `s3:http(s)://HOST[:PORT]/BUCKET[/PREFIX]` as written.
    case s3(url: String)

    /// The prefix that selects rclone.
    public static let rclonePrefix = "rclone:"

    /// Parses a location.
    /// - Throws: ``CofferError/invalidArgument(_:)`` for an empty location or an `rclone:` form
    ///   without `REMOTE:`.
    public init(parsing text: String) throws {
        guard !text.isEmpty else { throw CofferError.invalidArgument("the vault location is empty") }
        if text.hasPrefix(Self.rclonePrefix) {
            let rest = String(text.dropFirst(Self.rclonePrefix.count))
            guard let colon = rest.firstIndex(of: ":"), colon != rest.startIndex || rest.count > 1 else {
                throw CofferError.invalidArgument(
                    "'\(text)' is not an rclone location; write rclone:REMOTE:PATH, for example rclone:b2:backups/coffer "
                        + "(see 'rclone listremotes' for the remote names)")
            }
            self = .rclone(remote: rest)
        } else if text.hasPrefix("s3:") {
            try ObjectStorage.s3().validate(text)
            self = .s3(url: text)
        } else {
            self = .folder(text)
        }
    }

    /// The location as the user writes it.
    public var description: String {
        switch self {
        case .folder(let p): return p
        case .rclone(let r): return Self.rclonePrefix + r
        case .s3(let u): return u
        }
    }

    /// True for a folder on this machine.
    public var isFolder: Bool {
        if case .folder = self { return true }
        return false
    }

    /// A backend for this location (nothing is read or checked yet). An rclone location gives
    /// the same backend (and so the same rclone process) each time within a process.
    public func backend() -> Backend {
        switch self {
        case .folder(let p): return LocalBackend(root: p)
        case .rclone(let r): return RcloneBackend.shared(remote: r)
        case .s3(let u):
            // Parsing checked that a provider is registered (providers are never unregistered).
            guard let provider = try? ObjectStorage.s3() else { fatalError("s3: location parsed without an S3 provider") }
            return provider.makeBackend(u)
        }
    }
}
