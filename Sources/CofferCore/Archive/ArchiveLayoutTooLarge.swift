/// Thrown by an ``ArchiveHandler``'s `analyse` when, before any member is analysed, the
/// archive's layout is sure to exceed `limit` (``Vault/maximumArchiveLayoutBytes`` unless the
/// handler is told less): `atLeast` is a lower bound of its encoded size. The seal stores the file as an ordinary one at once, with the
/// note it gives a layout found too long after the analysis.
public struct ArchiveLayoutTooLarge: Error, Sendable {
    public var atLeast: Int
    public var limit: Int

    public init(atLeast: Int, limit: Int) {
        self.atLeast = atLeast
        self.limit = limit
    }
}

extension Vault {
    /// The longest encoded layout an archive may have (layout pieces; see Docs/FORMAT.md).
    public static var maximumArchiveLayoutBytes: Int { maximumLayoutBytes }
}
