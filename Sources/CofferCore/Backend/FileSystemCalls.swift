import Foundation

/// The calls that change a local folder, as ``LocalBackend`` and ``RollbackState`` make them.
///
/// Every write of a vault file, every removal and every folder creation goes through one of
/// these functions, so tests can put a recording or fault-injecting layer under the real
/// operations: a power cut that keeps only what was fsynced, or ENOSPC/EIO returned by any one
/// call. Each function behaves as the libc call it is named after: it returns what libc returns
/// and leaves the error in `errno`. Reads do not go through here.
///
/// The default, ``POSIXCalls``, calls libc directly; only tests use another.
protocol FileSystemCalls: Sendable {
    /// `open(path, flags, mode)` for a file to be written (`flags` include `O_CREAT`).
    func openFile(_ path: String, flags: Int32, mode: mode_t) -> Int32
    /// `open(path, O_RDONLY | O_DIRECTORY)`, to fsync a folder.
    func openDirectory(_ path: String) -> Int32
    /// `write(fd, buffer, count)`.
    func write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int
    /// `fsync(fd)` of a file or a folder opened with one of the functions above.
    func fsync(_ fd: Int32) -> Int32
    /// `close(fd)`.
    func close(_ fd: Int32) -> Int32
    /// `chmod(path, mode)`.
    func chmod(_ path: String, _ mode: mode_t) -> Int32
    /// `rename(from, to)`.
    func rename(_ from: String, _ to: String) -> Int32
    /// `unlink(path)`.
    func unlink(_ path: String) -> Int32
    /// `mkdir(path, mode)`.
    func mkdir(_ path: String, _ mode: mode_t) -> Int32
}

/// The real calls.
struct POSIXCalls: FileSystemCalls {
    @inline(__always) func openFile(_ path: String, flags: Int32, mode: mode_t) -> Int32 { Glibc.open(path, flags, mode) }
    @inline(__always) func openDirectory(_ path: String) -> Int32 { Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
    @inline(__always) func write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { Glibc.write(fd, buffer, count) }
    @inline(__always) func fsync(_ fd: Int32) -> Int32 { Glibc.fsync(fd) }
    @inline(__always) func close(_ fd: Int32) -> Int32 { Glibc.close(fd) }
    @inline(__always) func chmod(_ path: String, _ mode: mode_t) -> Int32 { Glibc.chmod(path, mode) }
    @inline(__always) func rename(_ from: String, _ to: String) -> Int32 { Glibc.rename(from, to) }
    @inline(__always) func unlink(_ path: String) -> Int32 { Glibc.unlink(path) }
    @inline(__always) func mkdir(_ path: String, _ mode: mode_t) -> Int32 { Glibc.mkdir(path, mode) }
}
