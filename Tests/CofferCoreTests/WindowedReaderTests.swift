@testable import CofferCore
import Foundation
import Testing

/// A pack file in memory that records every read storage is asked for.
private final class RecordingFile: RandomAccessFile, @unchecked Sendable {
    let bytes: [UInt8]
    private let lock = NSLock()
    private var _reads: [(offset: Int, length: Int)] = []
    var reads: [(offset: Int, length: Int)] { lock.withLock { _reads } }

    init(_ bytes: [UInt8]) { self.bytes = bytes }
    var size: Int { bytes.count }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
        lock.withLock { _reads.append((offset, buffer.count)) }
        guard offset + buffer.count <= bytes.count else { throw CofferError.integrity(object: "f", reason: "truncated") }
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: buffer.count) }
    }
}

/// A local vault whose pack reads are recorded.
private final class RecordingBackend: Backend, @unchecked Sendable {
    let inner: LocalBackend
    let lock = NSLock()
    var packReads: [(offset: Int, length: Int, size: Int)] = []

    init(root: String) { inner = LocalBackend(root: root) }
    var location: String { inner.location }
    func read(_ path: String) throws -> [UInt8] { try inner.read(path) }
    func read(_ path: String, offset: Int, length: Int) throws -> [UInt8] { try inner.read(path, offset: offset, length: length) }
    func write(_ path: String, _ bytes: [UInt8]) throws { try inner.write(path, bytes) }
    func list(_ directory: String) throws -> [String] { try inner.list(directory) }
    func size(_ path: String) throws -> Int? { try inner.size(path) }
    func remove(_ path: String) throws { try inner.remove(path) }
    func openRandomAccess(_ path: String) throws -> RandomAccessFile {
        Recorder(inner: try inner.openRandomAccess(path), backend: self)
    }

    final class Recorder: RandomAccessFile, @unchecked Sendable {
        let inner: RandomAccessFile
        unowned let backend: RecordingBackend
        init(inner: RandomAccessFile, backend: RecordingBackend) { self.inner = inner; self.backend = backend }
        var size: Int { inner.size }
        func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
            backend.lock.withLock { backend.packReads.append((offset, buffer.count, inner.size)) }
            try inner.read(into: buffer, at: offset)
        }
    }
}

@Suite struct WindowedReaderTests {
    static let w = WindowedReader.size

    /// Every read storage sees starts on a window boundary and covers whole windows (the last
    /// one ends at the end of the file).
    static func aligned(_ offset: Int, _ length: Int, size: Int) -> Bool {
        offset % w == 0 && (length % w == 0 || offset + length == size)
    }

    @Test func blobsAreCutFromAlignedWindows() throws {
        let data = T.bytes(3 * WindowedReaderTests.w + 12_345, seed: 4)
        let file = RecordingFile(data)
        let reader = WindowedReader(base: file, pack: ObjectID(bytes: [UInt8](repeating: 7, count: 32)), cache: WindowCache(capacity: 8))
        let w = WindowedReaderTests.w
        func read(_ offset: Int, _ length: Int) throws {
            var out = [UInt8](repeating: 0, count: length)
            try out.withUnsafeMutableBytes { try reader.read(into: $0, at: offset) }
            #expect(out == Array(data[offset..<offset + length]))
        }
        try read(5, 17)
        #expect(file.reads.map(\.offset) == [0])
        // The first window is cached: a blob across its end reads only the second one.
        try read(w - 3, 10)
        #expect(file.reads.map(\.offset) == [0, w])
        // A blob covering a whole window reads it straight into its buffer, plus the partial ones.
        try read(2 * w + 1, w + 100)
        try read(0, data.count)
        try read(3 * w + 5, 12_000)
        for r in file.reads { #expect(WindowedReaderTests.aligned(r.offset, r.length, size: data.count), "read \(r.offset)+\(r.length)") }
        var past = [UInt8](repeating: 0, count: 2)
        #expect(throws: CofferError.self) { try past.withUnsafeMutableBytes { try reader.read(into: $0, at: data.count - 1) } }
    }

    /// A restore asks storage only for aligned windows of packs, never a blob's exact range.
    @Test func restoreReadsNoExactBlobRange() throws {
        let f = try T.vault()
        let dir = T.scratch("in") + "/d"
        for i in 0..<12 { T.write(dir + "/f\(i).csv", T.csv(rows: 200 + 150 * i, seed: UInt64(i))) }
        T.write(dir + "/big.bin", T.bytes(900_000, seed: 99))
        let v = try f.vault.seal([dir])
        let backend = RecordingBackend(root: f.path)
        let vault = try Vault.open(backend: backend, passphrase: T.secret("pw"), state: nil)
        let out = T.scratch("o")
        try vault.restore(v.id, to: out)
        #expect(T.tree(out + "/d").count == 13)
        #expect(T.read(out + "/d/big.bin") == T.bytes(900_000, seed: 99))
        #expect(!backend.packReads.isEmpty)
        for r in backend.packReads {
            #expect(WindowedReaderTests.aligned(r.offset, r.length, size: r.size), "read \(r.offset)+\(r.length) of \(r.size)")
        }
    }
}
