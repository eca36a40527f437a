import CScan
import Foundation

/// Where a file's data is, found with `lseek(SEEK_DATA/SEEK_HOLE)`: everything else up to the
/// end is holes, which read as zeros and need not be read or stored. A file system without hole
/// support reports the whole file as data; holes are never smaller than its block size (the last
/// one may end at the end of the file).
public struct SparseMap: Sendable, Equatable {
    /// The data ranges, sorted, not touching, inside `0..<size`.
    public var data: [Range<UInt64>]
    /// The file's size when it was mapped.
    public var size: UInt64

    static let seekData = coffer_seek_data()
    static let seekHole = coffer_seek_hole()

    public init(data: [Range<UInt64>], size: UInt64) {
        self.data = data
        self.size = size
    }

    /// The holes: the ranges between and after the data ranges.
    public var holes: [Hole] {
        var out: [Hole] = []
        var at: UInt64 = 0
        for d in data {
            if d.lowerBound > at { out.append(Hole(offset: at, length: d.lowerBound - at)) }
            at = d.upperBound
        }
        if size > at { out.append(Hole(offset: at, length: size - at)) }
        return out
    }

    /// Whether the file has holes: at most one `lseek(SEEK_HOLE)`, whose result is returned (the
    /// first hole's offset; `size` or more: none). It moves the file offset: read with `pread`.
    /// nil when the file system cannot tell (the whole file is data) or the file is empty.
    public static func firstHole(_ fd: Int32, size: UInt64) -> UInt64? {
        guard size > 0 else { return nil }
        let h = lseek(fd, 0, seekHole)
        return h < 0 ? nil : UInt64(h)
    }

    /// Maps the file open as `fd` (its offset moves) from 0 to its current end.
    public static func map(_ fd: Int32) throws(SparseMapError) -> SparseMap {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SparseMapError(errno: errno) }
        let size = UInt64(max(0, st.st_size))
        var data: [Range<UInt64>] = []
        var at: UInt64 = 0
        while at < size {
            let d = lseek(fd, off_t(at), seekData)
            if d < 0 {
                if errno == ENXIO { break }  // only a hole to the end
                if errno == EINVAL { return SparseMap(data: [0..<size], size: size) }  // no hole support
                throw SparseMapError(errno: errno)
            }
            let start = UInt64(d)
            guard start < size else { break }
            var end = size
            let h = lseek(fd, d, seekHole)
            if h < 0 {
                if errno != ENXIO { throw SparseMapError(errno: errno) }
            } else {
                end = min(size, UInt64(h))
            }
            guard end > start else { break }
            data.append(start..<end)
            at = end
        }
        return SparseMap(data: data, size: size)
    }
}

/// An `lseek`/`fstat` failure while mapping a file's holes.
public struct SparseMapError: Error, CustomStringConvertible {
    public var errno: Int32
    public var description: String { String(cString: strerror(errno)) }
}
