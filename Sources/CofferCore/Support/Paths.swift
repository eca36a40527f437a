/// Path string helpers. (`NSString.deletingLastPathComponent` crashes on one-component relative
/// paths such as "v" in this toolchain's Foundation, so the vault code never uses it.)
public enum Paths {
    /// Everything before the last `/`; "" for a single component, "/" for a child of the root.
    public static func parent(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/") else { return "" }
        if slash == p.startIndex { return "/" }
        return String(p[..<slash])
    }

    /// The last component, ignoring trailing slashes.
    public static func lastComponent(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/") else { return String(p) }
        if p == "/" { return "/" }
        return String(p[p.index(after: slash)...])
    }
}
