import Foundation

/// Reads a pack in aligned windows instead of exact blob ranges.
///
/// A blob's offset and length are secret: packs are padded and their headers encrypted so that
/// storage cannot tell chunk sizes (which leak the chunker's secret and the content). A reader
/// that asked storage for exactly `offset ..< offset + length` of each blob would hand those
/// sizes to anyone watching the reads (a network mount, an object store's access log). So every
/// read of storage covers whole windows of ``size`` bytes, aligned to multiples of it (the last
/// window of a pack ends at the pack's end, whose size storage knows anyway), and blobs are cut
/// out of the windows in memory. Windows a blob covers only in part stay in a small shared
/// cache, so the blobs of one window cost one read.
final class WindowedReader: RandomAccessFile, @unchecked Sendable {
    /// Bytes per window. 64 KiB: a read shows a blob's place and length only to within 64 KiB,
    /// while a chunk of the small-file tier (16 KiB on average) costs about four times its size
    /// in reads where its windows are not cached (measured: 256 KiB windows made restore's
    /// system time half again as large as exact reads).
    static let size = 64 << 10

    let base: RandomAccessFile
    let pack: ObjectID
    let cache: WindowCache
    let size: Int

    init(base: RandomAccessFile, pack: ObjectID, cache: WindowCache) {
        self.base = base
        self.pack = pack
        self.cache = cache
        self.size = base.size
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
        guard buffer.count > 0 else { return }
        let end = offset + buffer.count
        guard offset >= 0, end <= size else {
            throw CofferError.integrity(object: VaultFile.pack(pack).path, reason: "truncated: no data at offset \(min(max(offset, 0), size))")
        }
        let w = WindowedReader.size
        // Windows the range covers whole are read straight into the buffer, in one read; no other
        // blob lies in them. The window the range starts in and the one it ends in, when it
        // covers them only in part, come through the cache: their other bytes belong to
        // neighbouring blobs, likely read next.
        let first = offset / w
        let last = (end - 1) / w
        let covered = (first...last).filter { k in k * w >= offset && min((k + 1) * w, size) <= end }
        if let from = covered.first, let to = covered.last {
            let start = from * w, stop = min((to + 1) * w, size)
            try base.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[(start - offset)..<(stop - offset)]), at: start)
        }
        for k in Set([first, last]) where !covered.contains(k) {
            let window = try self.window(k)
            let from = max(offset, k * w), to = min(end, k * w + window.count)
            window.withUnsafeBytes { src in
                (buffer.baseAddress! + (from - offset)).copyMemory(from: src.baseAddress! + (from - k * w), byteCount: to - from)
            }
        }
    }

    /// Window `k` of the pack, from the cache or read whole.
    private func window(_ k: Int) throws -> [UInt8] {
        if let cached = cache.window(pack: pack, index: k) { return cached }
        let w = WindowedReader.size
        var bytes = [UInt8](repeating: 0, count: min((k + 1) * w, size) - k * w)
        try bytes.withUnsafeMutableBytes { try base.read(into: $0, at: k * w) }
        cache.store(bytes, pack: pack, index: k)
        return bytes
    }
}

/// The most recently read pack windows, shared by the readers of one restore (a few MiB).
final class WindowCache: @unchecked Sendable {
    private struct Key: Hashable {
        var pack: ObjectID
        var index: Int
    }

    private let lock = NSLock()
    private var windows: [Key: (bytes: [UInt8], used: UInt64)] = [:]
    private var clock: UInt64 = 0
    let capacity: Int

    /// - Parameter capacity: windows kept (256 × 64 KiB = 16 MiB by default).
    init(capacity: Int = 256) { self.capacity = capacity }

    func window(pack: ObjectID, index: Int) -> [UInt8]? {
        lock.withLock {
            let key = Key(pack: pack, index: index)
            guard let w = windows[key] else { return nil }
            clock += 1
            windows[key] = (w.bytes, clock)
            return w.bytes
        }
    }

    func store(_ bytes: [UInt8], pack: ObjectID, index: Int) {
        lock.withLock {
            clock += 1
            windows[Key(pack: pack, index: index)] = (bytes, clock)
            if windows.count > capacity, let oldest = windows.min(by: { $0.value.used < $1.value.used })?.key {
                windows[oldest] = nil
            }
        }
    }
}
