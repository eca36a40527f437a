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

    /// The last component, ignoring trailing slashes.
    public static func lastComponent(_ path: String) -> String {
        let p = trimmed(path)
        guard let slashIndex = p.lastIndex(of: slash) else { return String(decoding: p, as: UTF8.self) }
        if p.count == 1 { return "/" }
        return String(decoding: p[(slashIndex + 1)...], as: UTF8.self)
    }
}
