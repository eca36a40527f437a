@testable import CofferCore
import Foundation
import Testing

/// RcloneBackend reads no more than a remote lists (or a range asks for), and a listing no more
/// than ``RcloneBackend/listingLimit``, whatever the rclone process sends.
@Suite("Bounded rclone reads")
struct BoundedRcloneReadTests {
    /// A fake rclone program: `rclone rcd` answering like rclone's remote control, whose
    /// `operations/list` gives `listing` (a JSON list, or "endless": a listing that never ends)
    /// and whose every GET sends `body` bytes (-1: without end), whatever was asked. Needs python3.
    static func fake(listing: String, body: Int) throws -> String {
        let dir = T.scratch("fake-rclone")
        let server = Self.fakeServer
        let path = dir + "/rclone"
        let quoted = "'" + listing.replacingOccurrences(of: "'", with: "'\\''") + "'"
        let script = "#!/bin/sh\nexec python3 '\(server)' \(quoted) \(body)\n"
        try Data(script.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o755)
        return path
    }

    static let listing = "[{\"Path\":\"config\",\"Name\":\"config\",\"Size\":100,\"IsDir\":false}]"

    /// The fake server (python3: a socket server on 127.0.0.1, port printed as rclone prints it),
    /// shared with the other hostile-remote tests: Tests/Support/fake-rclone-rcd.py.
    static let fakeServer = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path + "/Support/fake-rclone-rcd.py"

    @Test("a GET sending more than the listed size: a remote error naming the path, after 101 bytes")
    func moreThanListed() throws {
        let b = RcloneBackend(remote: "fake:vault", executable: try Self.fake(listing: Self.listing, body: 400_000_000))
        _ = try b.listTree()
        #expect {
            try b.read("config")
        } throws: { error in
            guard case CofferError.remote(let location, let reason) = error else { return false }
            return location == "rclone:fake:vault" && reason.hasPrefix("reading fake:vault/config failed: the remote sent more than its listed size (100 bytes)")
        }
    }

    @Test("a GET sending fewer bytes than listed: a truncated file; exactly the listed size reads")
    func fewerThanListed() throws {
        let short = RcloneBackend(remote: "fake:vault", executable: try Self.fake(listing: Self.listing, body: 10))
        #expect {
            try short.read("config")
        } throws: { error in
            guard case CofferError.integrity(let object, let reason) = error else { return false }
            return object == "config" && reason == "truncated: 10 of the 100 bytes the remote lists"
        }
        let exact = RcloneBackend(remote: "fake:vault", executable: try Self.fake(listing: Self.listing, body: 100))
        #expect(try exact.read("config") == [UInt8](repeating: 0, count: 100))
    }

    @Test("a ranged read that gets more than the range: a remote error")
    func moreThanRange() throws {
        let b = RcloneBackend(remote: "fake:vault", executable: try Self.fake(listing: Self.listing, body: 50_000_000))
        #expect {
            try b.read("packs/ab/x", offset: 0, length: 4096)
        } throws: { error in
            guard case CofferError.remote(_, let reason) = error else { return false }
            return reason.contains("the remote sent more than the range asked for (4096 bytes)")
        }
    }

    @Test("a listing that never ends is cut off at 64 MiB")
    func endlessListing() throws {
        let b = RcloneBackend(
            remote: "fake:vault",
            executable: try Self.fake(listing: "endless", body: 0))
        #expect {
            try b.list("keys")
        } throws: { error in
            guard case CofferError.remote(_, let reason) = error else { return false }
            return reason.hasPrefix("listing keys/ failed: rclone's output went on past 64 MiB")
        }
    }
}
