import Foundation

/// Backends implemented outside CofferCore (so that CofferCore needs no HTTP stack): the program
/// registers them at start, and ``VaultLocation`` hands `s3:` locations to them.
public enum ObjectStorage {
    /// What an object-storage module provides for its location prefix.
    public struct Provider: Sendable {
        /// Checks a location's syntax; throws ``CofferError/invalidArgument(_:)`` with a one-line message.
        public var validate: @Sendable (String) throws -> Void
        /// A backend for a valid location (nothing is contacted yet).
        public var makeBackend: @Sendable (String) -> Backend
        /// Prepares a location for a new vault (creates the bucket when it is missing).
        public var prepareForCreate: @Sendable (Backend) throws -> Void

        public init(
            validate: @escaping @Sendable (String) throws -> Void, makeBackend: @escaping @Sendable (String) -> Backend,
            prepareForCreate: @escaping @Sendable (Backend) throws -> Void
        ) {
            self.validate = validate
            self.makeBackend = makeBackend
            self.prepareForCreate = prepareForCreate
        }
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var s3Provider: Provider?

    /// Registers the provider of `s3:` locations.
    public static func registerS3(_ provider: Provider) { lock.withLock { s3Provider = provider } }

    /// The provider of `s3:` locations.
    /// - Throws: ``CofferError/invalidArgument(_:)`` when this program has none.
    public static func s3() throws -> Provider {
        guard let p = lock.withLock({ s3Provider }) else {
            throw CofferError.invalidArgument("s3: locations are not supported by this program")
        }
        return p
    }
}
