import CofferCrypto
import Foundation

/// `restore --verify`: every restored file read back from disk and checked against the version.
extension RestoreRun {
    /// Walks the selected entries again (as the writing pass did) and reads each regular file
    /// that was restored back from the target, opened relative to the target's descriptor with
    /// `O_NOFOLLOW`; a size or SHA-256 that differs from the version's, or a file that cannot be
    /// read, is a failure. Hard links share their first name's inode, which is checked; a
    /// stand-in's content is checked at the place it was written; archives expanded into
    /// folders are not (their members were checked as they were written).
    func verify(_ selected: SelectedEntries, stack: RestoreStack) throws {
        var stack = stack
        var skipBelow: [UInt8]?
        while let (e, standIn) = try selected.next() {
            if options.isCancelled() { throw CofferError.interrupted }
            if standIn { continue }
            let item = try stack.enter(e).item
            if let skip = skipBelow {
                if ListedEntries.isBelow(e.pathBytes, skip) { continue }
                skipBelow = nil
            }
            if failedPaths.contains(e.pathBytes) {
                if e.type == .directory { skipBelow = e.pathBytes }
                continue
            }
            var content = e
            switch e.type {
            case .file: break
            case .archive where !options.expandArchives: break
            case .hardlink:
                guard let s = standIns[e.hardlinkTargetBytes], s.type == .file || s.type == .archive,
                    standInPlaces[e.hardlinkTargetBytes] == item.place
                else { continue }
                content = s
            default: continue
            }
            if let reason = check(item.place, size: content.size, sha256: content.sha256) {
                result.failures.append(RestoreFailure(path: target.display(item.place), reason: reason))
                failedPaths.insert(e.pathBytes)
            }
        }
    }

    /// Why the file at `place` does not hold the expected content, or nil when it does.
    private func check(_ place: RelativePath, size expected: UInt64, sha256: [UInt8]) -> String? {
        let dir: Int32
        do {
            guard let d = try target.openFolder(place.parentComponents, create: false, for: place) else {
                return "verify: its folder is missing"
            }
            dir = d
        } catch {
            return "verify: \(error)"
        }
        defer { close(dir) }
        let fd = place.name.withCName { openat(dir, $0, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) }
        guard fd >= 0 else { return "verify: cannot open the restored file: \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return "verify: not a regular file on disk" }
        let sha = SHA256()
        var size: UInt64 = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            if options.isCancelled() { return "verify: interrupted" }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return "verify: read failed: \(String(cString: strerror(errno)))"
            }
            if n == 0 { break }
            buffer.withUnsafeBytes { sha.update(UnsafeRawBufferPointer(rebasing: $0.prefix(n))) }
            size += UInt64(n)
        }
        guard size == expected, sha.finalize() == sha256 else {
            return "verify: the file on disk does not match the version (size or SHA-256 differs)"
        }
        return nil
    }
}
