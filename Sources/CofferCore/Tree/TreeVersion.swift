import Foundation

/// Format 2's version body (body_version 3): the header and the root tree, no entries.
///
/// ```
/// body  = u8 body_version(3) || str name || i64le time_unix || u32le time_ns || bytes host
///      || u32le n || str* tags || u32le n || bytes* paths_given || u8 has_parent || [parent_id(32)]
///      || u32le n || u64le* stats || u32le n || bytes* notes || u32le n || tree_id(32)* root
/// ```
/// Host, paths and notes are bytes (they may come from the file system and need not be UTF-8);
/// the stats are extensible: a reader takes the counters it knows and ignores the rest.
extension Version {
    /// The most stats counters a reader accepts.
    static let maximumCounters = 256

    func encodeTreeVersion(_ root: [ObjectID]) -> [UInt8] {
        var w = ByteWriter(capacity: 512 + notes.reduce(0) { $0 + 4 + $1.utf8.count } + root.count * 32)
        w.u8(3)
        w.string(name)
        let t = time.timeIntervalSince1970
        let secs = Int64(t.rounded(.down))
        w.i64(secs)
        w.u32(UInt32(max(0, min(999_999_999, ((t - Double(secs)) * 1e9).rounded()))))
        let raw = rawText ?? (Array(host.utf8), paths.map { Array($0.utf8) }, notes.map { Array($0.utf8) })
        w.blob(raw.host)
        w.u32(UInt32(tags.count)); tags.forEach { w.string($0) }
        w.u32(UInt32(raw.paths.count)); raw.paths.forEach { w.blob($0) }
        if let parent { w.u8(1); w.id(parent) } else { w.u8(0) }
        let counters = rawCounters.flatMap { VersionStats(counters: $0) == stats ? $0 : nil } ?? stats.allCounters
        w.u32(UInt32(counters.count)); counters.forEach { w.u64($0) }
        w.u32(UInt32(raw.notes.count)); raw.notes.forEach { w.blob($0) }
        w.u32(UInt32(root.count)); root.forEach { w.id($0) }
        return w.bytes
    }

    static func decodeTreeVersion(_ r: inout ByteReader) throws -> Version {
        func lenient(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }
        let name = try r.string()
        let secs = try r.i64()
        let ns = try r.u32()
        guard ns < 1_000_000_000 else { throw FormatError("bad nanoseconds") }
        let hostBytes = try r.blob(max: 1 << 20)
        var tags: [String] = []
        for _ in 0..<(try r.count(minimumElementSize: 4)) { tags.append(try r.string()) }
        var paths: [[UInt8]] = []
        for _ in 0..<(try r.count(minimumElementSize: 4)) { paths.append(try r.blob(max: 1 << 20)) }
        var parent: ObjectID?
        switch try r.u8() {
        case 0: parent = nil
        case 1: parent = try r.id()
        default: throw FormatError("bad parent flag")
        }
        let nc = try r.count(minimumElementSize: 8)
        guard nc <= maximumCounters else { throw FormatError("\(nc) stats counters, more than \(maximumCounters)") }
        var counters: [UInt64] = []
        for _ in 0..<nc { counters.append(try r.u64()) }
        var notes: [[UInt8]] = []
        for _ in 0..<(try r.count(minimumElementSize: 4)) { notes.append(try r.blob(max: 1 << 20)) }
        let nr = try r.count(minimumElementSize: 32)
        var root: [ObjectID] = []
        root.reserveCapacity(nr)
        for _ in 0..<nr { root.append(try r.id()) }
        try r.expectEnd()
        var v = Version(
            name: name, time: Date(timeIntervalSince1970: Double(secs) + Double(ns) / 1e9), host: lenient(hostBytes), tags: tags,
            paths: paths.map(lenient), parent: parent, stats: VersionStats(counters: counters), notes: notes.map(lenient), v1Entries: [])
        v.rootTree = root
        v.rawText = (hostBytes, paths, notes)
        v.rawCounters = counters
        return v
    }
}
