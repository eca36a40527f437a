/// The byte stream a dump is written to (stdout, or a file): buffered, written forward only
/// (never seeked), counting what went through.
public final class DumpOutput {
    private let sink: (UnsafeRawBufferPointer) throws -> Void
    private let buffer: UnsafeMutableRawBufferPointer
    private var used = 0
    /// Bytes written so far (flushed or buffered).
    public private(set) var offset: UInt64 = 0

    /// Output through `sink`, in writes of up to `bufferSize` bytes.
    public init(bufferSize: Int = 1 << 20, sink: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        self.sink = sink
        buffer = .allocate(byteCount: max(bufferSize, 512), alignment: 16)
    }

    deinit { buffer.deallocate() }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        offset += UInt64(bytes.count)
        if bytes.count >= buffer.count {
            try flush()
            try sink(bytes)
            return
        }
        if used + bytes.count > buffer.count { try flush() }
        if let base = bytes.baseAddress {
            (buffer.baseAddress! + used).copyMemory(from: base, byteCount: bytes.count)
        }
        used += bytes.count
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Writes `count` zero bytes.
    public func zeros(_ count: Int) throws {
        try write([UInt8](repeating: 0, count: count))
    }

    /// Hands the buffered bytes to the sink.
    public func flush() throws {
        guard used > 0 else { return }
        let n = used
        used = 0
        try sink(UnsafeRawBufferPointer(rebasing: buffer[..<n]))
    }
}
