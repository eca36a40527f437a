import CofferCrypto
import Foundation

/// The external sort of an archive's members (``ArchiveMembers``): sorted runs written one after
/// the other to one temporary file, then merged.
///
/// The file is made with `mkstemp` (mode 0600) in the system's temporary folder (`TMPDIR`, else
/// `/tmp`) and unlinked at once: it has no name while it is used and is gone when the process
/// ends, however it ends. Its records (a member's path below the archive, type, mode, time,
/// size, SHA-256, chunk ids, storage) are written in blocks of about 16 KiB, each encrypted
/// with XChaCha20-Poly1305 under a random key held only in this process's memory (the block's
/// number is its associated data), so what reaches the disk cannot be read, reordered or
/// altered unnoticed. A merge holds one decrypted block and one member per run.
final class MemberRuns {
    /// The file (unlinked; for tests).
    let fd: Int32
    private let folder: String
    private let key = SecureBytes.random(count: AEAD.keyBytes)
    private let object: String
    private let prefix: [UInt8]
    /// Each run's byte range in the file and the number of its first block.
    private var runs: [(start: Int64, end: Int64, firstBlock: UInt64)] = []
    private var fileEnd: Int64 = 0
    private var blocks: UInt64 = 0

    /// Plain bytes gathered into one encrypted block.
    static let blockTarget = 16 << 10

    /// A new, empty run file for the members of the archive at `prefix` (shown as `object`).
    init(object: String, prefix: [UInt8]) throws {
        self.object = object
        self.prefix = prefix
        var dir = FileManager.default.temporaryDirectory.path
        while dir.count > 1, dir.hasSuffix("/") { dir.removeLast() }
        folder = dir
        var template = Array((dir + "/coffer-members-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw CofferError.io(path: dir, operation: "create a temporary file", errno: errno) }
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        unlink(path)
        self.fd = fd
    }

    deinit { close(fd) }

    /// How many runs were written.
    var runCount: Int { runs.count }

    /// Appends one run: `members`, sorted, each with its index in the layout.
    func write(_ members: [(index: Int, member: ArchiveMembers.Member)]) throws {
        let start = fileEnd, firstBlock = blocks
        var w = ByteWriter(capacity: Self.blockTarget + 4096)
        for m in members {
            encode(m, into: &w)
            if w.bytes.count >= Self.blockTarget {
                try writeBlock(w.bytes)
                w = ByteWriter(capacity: Self.blockTarget + 4096)
            }
        }
        if !w.bytes.isEmpty { try writeBlock(w.bytes) }
        runs.append((start, fileEnd, firstBlock))
    }

    /// The merge of the runs written: members in walk order, equal paths in layout order.
    func merge() throws -> Merge { try Merge(self) }

    private func encode(_ m: (index: Int, member: ArchiveMembers.Member), into w: inout ByteWriter) {
        let e = m.member.entry
        w.u64(UInt64(m.index))
        w.u8(e.type == .directory ? 1 : 0)
        w.u8(Self.storageCode(m.member.storage))
        w.u32(e.mode)
        w.i64(e.mtimeSeconds)
        w.u64(e.size)
        w.blob(e.sha256)
        w.u32(UInt32(e.chunks.count))
        for c in e.chunks { w.id(c) }
        w.blob(Array(e.pathBytes[(prefix.count + 1)...]))
    }

    private func decode(_ r: inout ByteReader) throws -> (index: Int, member: ArchiveMembers.Member) {
        let index = Int(try r.u64())
        let isDirectory = try r.u8() == 1
        let storage = try Self.storage(r.u8())
        let mode = try r.u32()
        let mtime = try r.i64()
        let size = try r.u64()
        let sha = try r.blob(max: 64)
        let n = try r.count(minimumElementSize: 32)
        var chunks: [ObjectID] = []
        chunks.reserveCapacity(n)
        for _ in 0..<n { chunks.append(try r.id()) }
        let name = try r.blob(max: r.remaining)
        var v = VersionEntry(
            type: isDirectory ? .directory : .file, pathBytes: prefix + [UInt8(ascii: "/")] + name, mode: mode, mtimeSeconds: mtime,
            mtimeNanoseconds: 0, size: size)
        v.chunks = chunks
        if !sha.isEmpty { v.sha256 = sha }
        return (index, (v, storage))
    }

    private static func storageCode(_ s: ArchiveMemberStorage?) -> UInt8 {
        switch s {
        case nil: return 0
        case .stored: return 1
        case .reproduced: return 2
        case .keptCompressed: return 3
        }
    }

    private static func storage(_ code: UInt8) throws -> ArchiveMemberStorage? {
        switch code {
        case 0: return nil
        case 1: return .stored
        case 2: return .reproduced
        case 3: return .keptCompressed
        default: throw FormatError("unknown storage \(code)")
        }
    }

    private func ad(_ block: UInt64) -> [UInt8] {
        var w = ByteWriter(capacity: 8)
        w.u64(block)
        return w.bytes
    }

    /// Encrypts `plain` as block number `blocks` and appends it: `u32le length || envelope`.
    private func writeBlock(_ plain: [UInt8]) throws {
        let envelope = AEAD.seal(plain, ad: ad(blocks), key: key)
        var w = ByteWriter(capacity: envelope.count + 4)
        w.u32(UInt32(envelope.count))
        w.raw(envelope)
        let bytes = w.bytes
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, bytes.count - done, off_t(fileEnd) + off_t(done)) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == ENOSPC || errno == EDQUOT { throw CofferError.diskFull(path: folder) }
                throw CofferError.io(path: folder, operation: "write a temporary file", errno: errno)
            }
            done += n
        }
        fileEnd += Int64(bytes.count)
        blocks += 1
    }

    /// Reads `count` bytes at `offset`, all of them or an error.
    private func read(_ count: Int, at offset: Int64) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                if n < 0 { throw CofferError.io(path: folder, operation: "read a temporary file", errno: errno) }
                throw CofferError.integrity(object: object, reason: "temporary member file truncated")
            }
            done += n
        }
        return out
    }

    /// One run being read: its next block and the records left in the current one.
    fileprivate struct RunReader {
        var offset: Int64
        let end: Int64
        var block: UInt64
        var records = ByteReader([])

        mutating func next(_ runs: MemberRuns) throws -> (index: Int, member: ArchiveMembers.Member)? {
            if records.isAtEnd {
                guard offset < end else { return nil }
                var header = ByteReader(try runs.read(4, at: offset))
                let length = Int(try header.u32())
                // The length is checked against the run before it bounds a read.
                guard length >= AEAD.overhead, Int64(length) <= end - offset - 4 else {
                    throw CofferError.integrity(object: runs.object, reason: "temporary member file damaged")
                }
                let envelope = try runs.read(length, at: offset + 4)
                let plain: [UInt8]
                do { plain = try AEAD.open(envelope, ad: runs.ad(block), key: runs.key) } catch {
                    throw CofferError.integrity(object: runs.object, reason: "temporary member file altered")
                }
                offset += 4 + Int64(length)
                block += 1
                records = ByteReader(plain)
            }
            do { return try runs.decode(&records) } catch let e as FormatError {
                throw CofferError.integrity(object: runs.object, reason: "temporary member file: \(e)")
            }
        }
    }

    /// The runs merged: a binary heap holding each run's next member.
    final class Merge {
        private let runs: MemberRuns
        private var readers: [RunReader]
        private var heap: [(run: Int, item: (index: Int, member: ArchiveMembers.Member))] = []

        fileprivate init(_ runs: MemberRuns) throws {
            self.runs = runs
            readers = runs.runs.map { RunReader(offset: $0.start, end: $0.end, block: $0.firstBlock) }
            for r in readers.indices {
                if let item = try readers[r].next(runs) { push((r, item)) }
            }
        }

        /// The next member in walk order, or nil after the last.
        func next() throws -> ArchiveMembers.Member? {
            guard let top = heap.first else { return nil }
            if let item = try readers[top.run].next(runs) {
                heap[0] = (top.run, item)
                down(0)
            } else {
                heap[0] = heap[heap.count - 1]
                heap.removeLast()
                if !heap.isEmpty { down(0) }
            }
            return top.item.member
        }

        private func less(_ a: Int, _ b: Int) -> Bool {
            let x = heap[a].item, y = heap[b].item
            let c = VersionWalker.compare(x.member.entry.pathBytes, y.member.entry.pathBytes)
            return c != 0 ? c < 0 : x.index < y.index
        }

        private func push(_ e: (run: Int, item: (index: Int, member: ArchiveMembers.Member))) {
            heap.append(e)
            var i = heap.count - 1
            while i > 0 {
                let p = (i - 1) / 2
                guard less(i, p) else { break }
                heap.swapAt(i, p)
                i = p
            }
        }

        private func down(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count, less(l, m) { m = l }
                if r < heap.count, less(r, m) { m = r }
                guard m != i else { return }
                heap.swapAt(i, m)
                i = m
            }
        }
    }
}
