/// Path string helpers. They split on the byte `/` (0x2F) of the path's UTF-8, as the kernel
/// does, never on Swift `Character`s (a `/` followed by a combining mark is one `Character`).
/// (`NSString.deletingLastPathComponent` crashes on one-component relative paths such as "v" in
/// this toolchain's Foundation, so the vault code never uses it.)
public enum Paths {
    private static let slash = UInt8(ascii: "/")

    /// The bytes without trailing slashes (a lone "/" stays).
    private static func trimmed(_ path: String) -> ArraySlice<UInt8> {
        var p = Array(path.utf8)[...]
        while p.count > 1 && p.last == slash { p = p.dropLast() }
        return p
    }

    /// Everything before the last `/`; "" for a single component, "/" for a child of the root.
    public static func parent(_ path: String) -> String {
        let p = trimmed(path)
        guard let slashIndex = p.lastIndex(of: slash) else { return "" }
        if slashIndex == p.startIndex { return "/" }
        return String(decoding: p[..<slashIndex], as: UTF8.self)
    }

    /// The components between `/` bytes, empty ones left out (`a//b/` is `a`, `b`).
    public static func components(_ path: String) -> [Substring] {
        path.utf8.split(separator: slash).map { Substring($0) }
    }

    /// The path with empty components dropped: `/a//b/` is `a/b`.
    public static func normalized(_ path: String) -> String { components(path).joined(separator: "/") }

    /// The first component ("" for an empty path).
    public static func firstComponent(_ path: String) -> String { components(path).first.map(String.init) ?? "" }

    /// Whether `path` is `ancestor` or lies below it, comparing bytes (not Unicode-equivalent
    /// spellings: `é` and `e` + U+0301 are different names to the kernel).
    public static func isSelfOrDescendant(_ path: String, of ancestor: String) -> Bool {
        path.utf8.elementsEqual(ancestor.utf8) || path.utf8.starts(with: Array(ancestor.utf8) + [slash])
    }

    /// Whether `path` is `suffix` or ends with `/` followed by it, comparing bytes.
    public static func endsWithComponents(_ path: String, _ suffix: String) -> Bool {
        path.utf8.elementsEqual(suffix.utf8) || path.utf8.reversed().starts(with: ([slash] + Array(suffix.utf8)).reversed())
    }

    /// `path` with its leading `ancestor` (which ``isSelfOrDescendant(_:of:)`` holds for)
    /// replaced by `replacement`.
    public static func replacingAncestor(_ ancestor: String, with replacement: String, in path: String) -> String {
        replacement + String(decoding: path.utf8.dropFirst(ancestor.utf8.count), as: UTF8.self)
    }

    /// The last component, ignoring trailing slashes.
    public static func lastComponent(_ path: String) -> String {
        let p = trimmed(path)
        guard let slashIndex = p.lastIndex(of: slash) else { return String(decoding: p, as: UTF8.self) }
        if p.count == 1 { return "/" }
        return String(decoding: p[(slashIndex + 1)...], as: UTF8.self)
    }
}
