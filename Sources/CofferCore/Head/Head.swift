import Foundation

/// The head: which versions are live. A new head is written (never overwritten) after every
/// change, with a generation one higher and the id of the head it replaces, forming a chain.
///
/// ```
/// body = u8 body_version(1 or 2) || u64le generation || previous_head_id(32, zeros at generation 1)
///     || i64le time_unix || u32le n || version_id(32)* (live) || u32le n || version_id(32)* (removed)
///     || [u32le n || index_id(32)*]                (body_version 2 only: the current index files, unique)
/// ```
/// (in the MetaObject envelope, kind 3, stored at heads/<generation as 16 hex digits>-<name>)
///
/// Format-1 vaults write body_version 1 (readers load every index file); format-2 vaults write
/// body_version 2, and readers load exactly the index files it lists.
public struct Head: Sendable, Equatable {
    public var generation: UInt64
    public var previous: ObjectID
    public var time: Int64
    /// Live versions, oldest first.
    public var live: [ObjectID]
    /// Versions removed by forget (tombstones), so a version that vanished without one is noticed.
    public var removed: [ObjectID]
    /// The index files that are current (body_version 2, format-2 vaults); nil in a body_version 1
    /// head, whose readers load every file in `index/`.
    public var indexFiles: [ObjectID]? = nil

    func encode() -> [UInt8] {
        var w = ByteWriter(capacity: 68 + 32 * (live.count + removed.count + (indexFiles?.count ?? 0)))
        w.u8(indexFiles == nil ? 1 : 2); w.u64(generation); w.id(previous); w.i64(time)
        w.u32(UInt32(live.count)); live.forEach { w.id($0) }
        w.u32(UInt32(removed.count)); removed.forEach { w.id($0) }
        if let indexFiles { w.u32(UInt32(indexFiles.count)); indexFiles.forEach { w.id($0) } }
        return w.bytes
    }

    static func decode(_ body: [UInt8]) throws -> Head {
        var r = ByteReader(body)
        let bv = try r.u8()
        guard bv == 1 || bv == 2 else { throw bv > 2 ? FormatError.newer("head body", bv) : FormatError("unknown head body version") }
        let g = try r.u64()
        let prev = try r.id()
        let t = try r.i64()
        var live: [ObjectID] = []
        for _ in 0..<(try r.count(minimumElementSize: 32)) { live.append(try r.id()) }
        var removed: [ObjectID] = []
        for _ in 0..<(try r.count(minimumElementSize: 32)) { removed.append(try r.id()) }
        var indexFiles: [ObjectID]?
        if bv == 2 {
            var list: [ObjectID] = []
            for _ in 0..<(try r.count(minimumElementSize: 32)) { list.append(try r.id()) }
            guard Set(list).count == list.count else { throw FormatError("an index file is listed twice") }
            indexFiles = list
        }
        try r.expectEnd()
        guard g >= 1 else { throw FormatError("generation 0") }
        guard (g == 1) == (prev == .zero) else { throw FormatError("previous head does not fit generation \(g)") }
        return Head(generation: g, previous: prev, time: t, live: live, removed: removed, indexFiles: indexFiles)
    }

    static func fileName(generation: UInt64, id: ObjectID) -> String {
        let g = String(generation, radix: 16)
        return String(repeating: "0", count: max(0, 16 - g.count)) + g + "-" + id.hex
    }

    /// The generation and id of a head file name, which must be exactly `fileName(generation:id:)`
    /// (lowercase hex, no sign): another spelling of the same head is not a head file.
    static func parseFileName(_ name: String) -> (generation: UInt64, id: ObjectID)? {
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].utf8.count == 16, parts[1].utf8.count == 64,
              name.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || Hex.isLowercaseDigit($0) }),
              let g = UInt64(parts[0], radix: 16), let id = ObjectID(hex: parts[1]) else { return nil }
        return (g, id)
    }
}
