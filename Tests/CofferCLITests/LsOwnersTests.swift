import CScan
import Foundation
import Testing

/// `ls --long` and `ls --json` show owners (names and ids) and extended-attribute counts of a
/// format-2 version.
@Suite("ls owners")
struct LsOwnersTests {
    static func name(_ p: UnsafeMutablePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "" }

    @Test("ls --long has an OWNER column; --json has uid, gid, user, group and xattrs")
    func ownersAndAttributes() throws {
        let s = try Scratch()
        try s.initVault()
        let file = try s.write("a/one.txt", "one")
        let attribute = Array("user.note".utf8CString)
        #expect(setxattr(file, attribute, "v", 1, 0) == 0, "setxattr: \(String(cString: strerror(errno)))")
        // Another owner when root, so the names are not just the caller's.
        let (uid, gid) = getuid() == 0 ? (uid_t(65534), gid_t(65534)) : (getuid(), getgid())
        if getuid() == 0 { #expect(chown(file, uid, gid) == 0) }
        let user = Self.name(getpwuid(uid)?.pointee.pw_name)
        let group = Self.name(getgrgid(gid)?.pointee.gr_name)
        try #require(!user.isEmpty && !group.isEmpty)
        try s.ok(["seal", s.path("a")])

        let long = try s.ok(["ls", "a@latest", "--long"])
        let lines = long.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("MODE        OWNER") == true, "\(long.stdout)")
        let row = try #require(lines.first { $0.hasSuffix("a/one.txt") })
        #expect(row.contains(" \(user):\(group) "), "\(row)")
        #expect(!(try s.ok(["ls", "a@latest"])).stdout.contains("OWNER"))

        let ls = try #require(try s.ok(["ls", "--json", "a@latest"]).json() as? [String: Any])
        let entries = try #require(ls["entries"] as? [[String: Any]])
        let one = try #require(entries.first { $0["path"] as? String == "a/one.txt" })
        #expect(one["uid"] as? Int == Int(uid))
        #expect(one["gid"] as? Int == Int(gid))
        #expect(one["user"] as? String == user)
        #expect(one["group"] as? String == group)
        #expect(one["xattrs"] as? Int == 1)
        #expect(entries.first { $0["path"] as? String == "a" }?["xattrs"] as? Int == 0)
    }
}
