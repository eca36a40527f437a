@testable import CofferCore
import Foundation
import Testing

/// RcloneBackend reads no more than a remote lists (or a range asks for), and a listing no more
/// than ``RcloneBackend/listingLimit``, whatever the rclone program prints.
@Suite("Bounded rclone reads")
struct BoundedRcloneReadTests {
    /// A fake rclone program: `lsjson` prints `listing`, `cat` runs `cat`; anything else fails.
    static func fake(listing: String, cat: String) throws -> String {
        let dir = T.scratch("fake-rclone")
        let path = dir + "/rclone"
        let script = """
            #!/bin/sh
            for a in "$@"; do
              case "$a" in lsjson|cat|copy|copyto) cmd=$a; break ;; esac
            done
            case "$cmd" in
              lsjson) \(listing) ;;
              cat) \(cat) ;;
              *) echo "ERROR : refused" >&2; exit 1 ;;
            esac

            """
        try Data(script.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o755)
        return path
    }

    static let listing = "printf '%s\\n' '[{\"Path\":\"config\",\"Name\":\"config\",\"Size\":100,\"IsDir\":false}]'"

    @Test("cat sending more than the listed size: a remote error naming the path, after 101 bytes")
    func moreThanListed() throws {
        let b = RcloneBackend(remote: "fake:vault", executable: try Self.fake(listing: Self.listing, cat: "head -c 400000000 /dev/zero"))
        _ = try b.listTree()
        #expect {
            try b.read("config")
        } throws: { error in
            guard case CofferError.remote(let location, let reason) = error else { return false }
            return location == "rclone:fake:vault" && reason.hasPrefix("reading fake:vault/config failed: the remote sent more than its listed size (100 bytes)")
        }
    }

    @Test("cat sending fewer bytes than listed: a truncated file; exactly the listed size reads")
    func fewerThanListed() throws {
        let short = RcloneBackend(remote: "fake:vault", executable: try Self.fake(listing: Self.listing, cat: "head -c 10 /dev/zero"))
        #expect {
            try short.read("config")
        } throws: { error in
            guard case CofferError.integrity(let object, let reason) = error else { return false }
            return object == "config" && reason == "truncated: 10 of the 100 bytes the remote lists"
        }
        let exact = RcloneBackend(remote: "fake:vault", executable: try Self.fake(listing: Self.listing, cat: "head -c 100 /dev/zero"))
        #expect(try exact.read("config") == [UInt8](repeating: 0, count: 100))
    }

    @Test("a ranged read that gets more than the range: a remote error")
    func moreThanRange() throws {
        let b = RcloneBackend(remote: "fake:vault", executable: try Self.fake(listing: Self.listing, cat: "head -c 50000000 /dev/zero"))
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
            executable: try Self.fake(listing: "printf '['; yes '{\"Path\":\"x\",\"Name\":\"x\",\"Size\":1,\"IsDir\":false},'", cat: "exit 1"))
        #expect {
            try b.list("keys")
        } throws: { error in
            guard case CofferError.remote(_, let reason) = error else { return false }
            return reason.hasPrefix("listing keys/ failed: rclone's output went on past 64 MiB")
        }
    }
}
