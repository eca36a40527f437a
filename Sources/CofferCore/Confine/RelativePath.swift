/// A path that stays inside the folder it is relative to, checked byte by byte.
///
/// The rules work on the path's bytes (its UTF-8), exactly as the kernel reads them, never on
/// Swift `Character`s: a `/` followed by a combining mark, or preceded by a prepended
/// character, is one grapheme cluster for Swift but still a separator for the kernel.
///
/// A valid path is not empty, does not start with `/`, holds no NUL byte, and none of its
/// components (the bytes between `/`s) is empty, `.` or `..`. Every other byte, backslash
/// included, is an ordinary part of a POSIX name.
///
/// Zip member names (``zipMember(_:)``) follow the same rules with a backslash also taken as a
/// separator, as `unzip` does: `a\b.txt` is `a/b.txt`, and `..\x` or `C:\..\x` are refused.
public struct RelativePath: Sendable, Hashable, CustomStringConvertible {
    /// The components, each non-empty, not `.` or `..`, without `/` or NUL.
    public let components: [[UInt8]]

    /// Components already checked (or a prefix of a checked path's).
    init(validated components: [[UInt8]]) { self.components = components }

    /// The path checked as a stored version path; nil if it breaks a rule.
    public init?(_ path: String) { self.init(bytes: path.utf8) }

    /// The bytes checked as a stored version path; nil if they break a rule.
    public init?(bytes: some Collection<UInt8>) {
        guard let c = Self.split(bytes, backslashSeparates: false) else { return nil }
        self.init(validated: c)
    }

    /// A zip member's name as `restore --expand` writes it: trailing `/` (a folder's mark)
    /// removed, then split on `/` and `\`; nil if a rule is broken (the member is not written).
    public static func zipMember(_ name: String) -> RelativePath? {
        var bytes = Array(name.utf8)
        while bytes.last == slash { bytes.removeLast() }
        return split(bytes, backslashSeparates: true).map { RelativePath(validated: $0) }
    }

    /// Whether `path` follows the rules (for a stored version path).
    public static func isValid(_ path: String) -> Bool { split(path.utf8, backslashSeparates: false) != nil }

    /// The components joined with `/`.
    public var bytes: [UInt8] { Array(components.joined(separator: [Self.slash])) }

    /// The path as text (valid UTF-8 whenever the input was).
    public var description: String { String(decoding: bytes, as: UTF8.self) }

    /// The folder holding the last component (empty for a one-component path).
    public var parentComponents: ArraySlice<[UInt8]> { components.dropLast() }

    /// The last component.
    public var name: [UInt8] { components[components.count - 1] }

    /// This path followed by `other`.
    public func appending(_ other: RelativePath) -> RelativePath { RelativePath(validated: components + other.components) }

    /// Whether `self` is a proper prefix of `other`, component by component.
    public func isAncestor(of other: RelativePath) -> Bool {
        components.count < other.components.count && other.components.starts(with: components)
    }

    static let slash = UInt8(ascii: "/")
    static let backslash = UInt8(ascii: "\\")
    static let dot = UInt8(ascii: ".")

    /// Splits on `/` (and `\` if asked); nil for an empty or absolute path, a NUL byte, or an
    /// empty, `.` or `..` component.
    static func split(_ bytes: some Collection<UInt8>, backslashSeparates: Bool) -> [[UInt8]]? {
        var components: [[UInt8]] = []
        var current: [UInt8] = []
        func close() -> Bool {
            if current.isEmpty || current == [dot] || current == [dot, dot] { return false }
            components.append(current)
            current = []
            return true
        }
        for b in bytes {
            if b == 0 { return nil }
            if b == slash || (backslashSeparates && b == backslash) {
                guard close() else { return nil }
            } else {
                current.append(b)
            }
        }
        guard close() else { return nil }
        return components
    }
}
