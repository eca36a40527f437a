import Foundation

/// Reads a pack in aligned windows instead of exact blob ranges.
///
/// A blob's offset and length are secret: packs are padded and their headers encrypted so that
/// storage cannot tell chunk sizes (which leak the chunker's secret and the content). A reader
/// that asked storage for exactly `offset ..< offset + length` of each blob would hand those
/// sizes to anyone watching the reads (a network mount, an object store's access log). So every
/// read of storage covers whole windows of ``size`` bytes, aligned to multiples of it (the last
/// window of a pack ends at the pack's end, whose size storage knows anyway), and blobs are cut
/// out of the windows in memory. Windows stay in a small shared cache, so the blobs of one
/// window cost one read.
final class WindowedReader: RandomAccessFile, @unchecked Sendable {
    /// Bytes per window. 256 KiB: the largest chunk of the small-file tier is 128 KiB, so a small
    /// chunk touches at most two windows.
    static let size = 256 << 10

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
        let first = offset / w
        let last = (end - 1) / w
        // Windows not cached are read together: one aligned read for a run of missing windows.
        var windows = [[UInt8]?](repeating: nil, count: last - first + 1)
        for k in first...last { windows[k - first] = cache.window(pack: pack, index: k) }
        var k = first
        while k <= last {
            guard windows[k - first] == nil else { k += 1; continue }
            var runEnd = k
            while runEnd < last && windows[runEnd + 1 - first] == nil { runEnd += 1 }
            let start = k * w
            let stop = min((runEnd + 1) * w, size)
            var bytes = [UInt8](repeating: 0, count: stop - start)
            try bytes.withUnsafeMutableBytes { try base.read(into: $0, at: start) }
            for j in k...runEnd {
                let window = Array(bytes[(j * w - start)..<(min((j + 1) * w, size) - start)])
                windows[j - first] = window
                cache.store(window, pack: pack, index: j)
            }
            k = runEnd + 1
        }
        var done = 0
        for j in first...last {
            let window = windows[j - first]!
            let from = j == first ? offset - j * w : 0
            let count = min(window.count - from, buffer.count - done)
            window.withUnsafeBytes { src in
                (buffer.baseAddress! + done).copyMemory(from: src.baseAddress! + from, byteCount: count)
            }
            done += count
        }
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

    /// - Parameter capacity: windows kept (32 × 256 KiB = 8 MiB by default).
    init(capacity: Int = 32) { self.capacity = capacity }

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
