import Foundation
import Testing

/// A small tmpfs mounted for one test at a new folder under /tmp (root only), to fill up.
final class Tmpfs: @unchecked Sendable {
    let path: String
    private let umountTool: String
    private var mounted = true

    private init(path: String, umount: String) {
        self.path = path
        self.umountTool = umount
    }

    /// Mounts a tmpfs of `bytes` bytes, or returns nil and prints why (not root, no mount tool,
    /// mount refused: in a container without the right, say).
    static func mount(bytes: Int, label: String) throws -> Tmpfs? {
        guard getuid() == 0 else {
            print("skipped: \(label): mounting a small tmpfs to fill up needs root")
            return nil
        }
        guard let mount = Binaries.tool("mount"), let umount = Binaries.tool("umount") else {
            print("skipped: \(label): no mount/umount tool")
            return nil
        }
        let path = "/tmp/coffer-tmpfs-\(label)-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let r = try Scratch.shell([mount, "-t", "tmpfs", "-o", "size=\(bytes),mode=0700", "tmpfs", path])
        guard r.status == 0 else {
            rmdir(path)
            print("skipped: \(label): cannot mount a tmpfs (\(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines)))")
            return nil
        }
        return Tmpfs(path: path, umount: umount)
    }

    /// Unmounts (lazily if something still has it open) and removes the mount point.
    func unmount() {
        guard mounted else { return }
        mounted = false
        if (try? Scratch.shell([umountTool, path]))?.status != 0 { _ = try? Scratch.shell([umountTool, "-l", path]) }
        rmdir(path)
    }

    deinit { unmount() }

    /// Bytes free for files.
    var free: Int {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return 0 }
        return Int(s.f_bavail) * Int(s.f_frsize)
    }

    /// Fills the file system with a file `.filler` until about `leaving` bytes are free.
    func fill(leaving: Int) {
        let filler = path + "/.filler"
        let fd = open(filler, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let block = [UInt8](repeating: 0, count: 64 << 10)
        while free > leaving {
            let n = min(block.count, max(4096, (free - leaving) / 4096 * 4096))
            if block.withUnsafeBytes({ write(fd, $0.baseAddress!, n) }) <= 0 { break }
        }
    }

    /// Removes the filler: the space is free again.
    func freeUp() { unlink(path + "/.filler") }
}

/// The bytes a file system gives `files` (relative to `root`), in 4 KiB pages as tmpfs counts them.
func pagesUsed(_ root: String, _ files: some Sequence<String>) -> Int {
    files.reduce(0) { sum, rel in
        var st = stat()
        guard lstat(root + "/" + rel, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return sum }
        return sum + (Int(st.st_size) + 4095) / 4096 * 4096
    }
}
