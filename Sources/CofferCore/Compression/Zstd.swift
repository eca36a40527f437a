import CZstd
import Foundation

/// zstd compression of chunk payloads; the only file that imports libzstd.
///
/// Contexts are expensive to create, so each thread borrows one from a small pool.
public final class Zstd: @unchecked Sendable {
    public let level: Int32
    private let lock = NSLock()
    private var compressors: [OpaquePointer] = []
    private var decompressors: [OpaquePointer] = []

    public init(level: Int32) { self.level = level }

    deinit {
        for c in compressors { ZSTD_freeCCtx(c) }
        for d in decompressors { ZSTD_freeDCtx(d) }
    }

    /// The most bytes one compressed byte can decompress to: a zstd block takes at least 4 bytes
    /// (a 3-byte header and one byte of content) and yields at most 128 KiB
    /// (`ZSTD_BLOCKSIZE_MAX`), so n bytes of frames never decompress to more than n × 32 Ki bytes.
    static let maximumRatio = (1 << 17) / 4

    /// Upper bound of the compressed size of `n` bytes.
    public static func bound(_ n: Int) -> Int { ZSTD_compressBound(n) }

    /// Compresses `input` into `output`; returns the compressed size, or nil when the result
    /// would not be smaller than the input (the caller stores the chunk raw then).
    public func compress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        guard input.count > 0 else { return nil }
        let ctx = takeCompressor()
        defer { giveBack(compressor: ctx) }
        // Only accept output that is strictly smaller than the input.
        let capacity = min(output.count, input.count - 1)
        guard capacity > 0 else { return nil }
        let n = ZSTD_compressCCtx(ctx, output.baseAddress, capacity, input.baseAddress, input.count, level)
        if ZSTD_isError(n) != 0 { return nil }  // dstSize_tooSmall: incompressible
        return n
    }

    /// Decompresses `input` into exactly `output.count` bytes.
    func decompress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        let ctx = takeDecompressor()
        defer { giveBack(decompressor: ctx) }
        let n = ZSTD_decompressDCtx(ctx, output.baseAddress, output.count, input.baseAddress, input.count)
        if ZSTD_isError(n) != 0 {
            throw FormatError("zstd: \(String(cString: ZSTD_getErrorName(n)))")
        }
        guard n == output.count else { throw FormatError("zstd: decompressed \(n) bytes, expected \(output.count)") }
    }

    private func takeCompressor() -> OpaquePointer {
        lock.lock()
        if let c = compressors.popLast() { lock.unlock(); return c }
        lock.unlock()
        guard let c = ZSTD_createCCtx() else { fatalError("ZSTD_createCCtx failed: out of memory") }
        return c
    }

    private func giveBack(compressor c: OpaquePointer) {
        lock.lock(); compressors.append(c); lock.unlock()
    }

    private func takeDecompressor() -> OpaquePointer {
        lock.lock()
        if let d = decompressors.popLast() { lock.unlock(); return d }
        lock.unlock()
        guard let d = ZSTD_createDCtx() else { fatalError("ZSTD_createDCtx failed: out of memory") }
        return d
    }

    private func giveBack(decompressor d: OpaquePointer) {
        lock.lock(); decompressors.append(d); lock.unlock()
    }
}

