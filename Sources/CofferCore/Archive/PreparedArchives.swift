import Foundation

/// Archive analysis done ahead of time, while the vault unlocks.
///
/// Analysing an export zip (parsing it, finding each member's deflate settings and checking that
/// they rebuild it) needs no key, and the Argon2id unlock uses one core for about half a
/// second; `coffer seal` runs the two side by side. A prepared plan is used only if the file
/// still has the size, mtime, ctime, inode and device it had before *and* after the analysis;
/// otherwise the file is analysed again when the seal reaches it. A plan holds no member's bytes
/// (they are streamed from the file when stored), so keeping plans costs little memory.
public final class PreparedArchiveHandler: ArchiveHandler, @unchecked Sendable {
    private struct Signature: Equatable {
        var size: Int64, mtime: timespec, ctime: timespec, inode: UInt64, device: UInt64

        init?(_ path: String) {
            var st = stat()
            guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
            size = Int64(st.st_size); mtime = st.st_mtim; ctime = st.st_ctim
            inode = UInt64(st.st_ino); device = UInt64(st.st_dev)
        }

        static func == (a: Signature, b: Signature) -> Bool {
            a.size == b.size && a.inode == b.inode && a.device == b.device
                && a.mtime.tv_sec == b.mtime.tv_sec && a.mtime.tv_nsec == b.mtime.tv_nsec
                && a.ctime.tv_sec == b.ctime.tv_sec && a.ctime.tv_nsec == b.ctime.tv_nsec
        }
    }

    private let inner: ArchiveHandler
    private let lock = NSLock()
    private var plans: [String: (signature: Signature, outcome: Result<ArchivePlan?, Error>)] = [:]
    /// How many prepared analyses a seal used (for tests).
    public private(set) var hits = 0

    public init(_ inner: ArchiveHandler) { self.inner = inner }

    /// Analyses each of `paths` that is a regular file of at least 22 bytes (the smallest zip).
    /// Folders are not searched: their archives are analysed during the seal as before.
    public func prepare(_ paths: [String]) {
        for p in paths {
            let abs = Walker.absolute(p)
            guard let before = Signature(abs), before.size >= 22 else { continue }
            let outcome = Result { try inner.analyse(path: abs, size: UInt64(before.size)) }
            guard Signature(abs) == before else { continue }  // changed while read: analyse again later
            lock.withLock { plans[abs] = (before, outcome) }
        }
    }

    public func analyse(path: String, size: UInt64) throws -> ArchivePlan? {
        if let prepared = lock.withLock({ plans.removeValue(forKey: path) }),
           prepared.signature.size == Int64(size), Signature(path) == prepared.signature {
            lock.withLock { hits += 1 }
            return try prepared.outcome.get()
        }
        return try inner.analyse(path: path, size: size)
    }

    public func openContent(of plan: ArchivePlan, path: String) throws -> ArchiveContentReader {
        try inner.openContent(of: plan, path: path)
    }

    public func encode(transform: [UInt8], content: ArchiveByteStream, into emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        try inner.encode(transform: transform, content: content, into: emit)
    }

    public func whyOpaque(_ member: ArchiveMember) -> String { inner.whyOpaque(member) }

    public func decode(member: ArchiveMember, stored: ArchiveByteStream, into emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        try inner.decode(member: member, stored: stored, into: emit)
    }
}
