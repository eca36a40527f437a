/// A fault of the original archive in one member, found while decoding the member: a CRC-32
/// that does not match its content, bytes after the end of its compressed stream, data that
/// does not decompress to its recorded size.
///
/// The member's stored bytes were authenticated by the vault (each chunk's AEAD) before the
/// handler saw them, so the fault is the original archive's own, not damage to the vault: the
/// archive itself still restores byte for byte. A handler throws it after emitting all the
/// content it could decode, the bytes `unzip` writes for such a member; `restore --expand`
/// keeps the member so written and notes the fault, `cat` writes it and warns.
public struct ArchiveMemberFault: Error, CustomStringConvertible, Sendable, Equatable {
    /// What is wrong, in a few words (for example "its CRC-32 is 0x1234abcd in the zip, 0x89ab0123 for its content").
    public var reason: String

    public init(_ reason: String) { self.reason = reason }

    public var description: String { "the original archive's own fault: \(reason)" }
}
