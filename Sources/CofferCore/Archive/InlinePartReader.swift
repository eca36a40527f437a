import Foundation

/// Which parts of an archive plan a format-2 seal keeps inline in the layout (Docs/FORMAT.md,
/// "Inline parts"): stored parts of 1 to ``ArchiveLayout/inlineLimit`` bytes that no member
/// names, i.e. container bytes (for zip: local headers, the central directory, the end record).
/// Members keep kinds 1 and 2, so their contents still go through the chunker and deduplicate.
func inlinePartFlags(of plan: ArchivePlan) -> [Bool] {
    var memberParts = Set<Int>()
    for m in plan.members { if let p = m.part { memberParts.insert(p) } }
    return plan.parts.indices.map { k in
        let p = plan.parts[k]
        return p.kind == .stored && p.contentSize > 0 && p.contentSize <= UInt64(ArchiveLayout.inlineLimit) && !memberParts.contains(k)
    }
}

/// Reads the bytes of a plan's inline parts from the handler's content reader, which streams
/// every part (with `content` nil) in order, each to its end: the sealer reads the other parts
/// through this reader, and before a part is passed on, the inline parts before it are read
/// into memory here. ``drain(upTo:)`` reads those after the last stored part. Used from the
/// sealer's read stage and, once the sealer is done, from the seal's thread; the bytes are
/// taken from the store stage (a lock between them).
final class InlinePartReader: ArchiveContentReader, @unchecked Sendable {
    private let base: ArchiveContentReader?
    private let plan: ArchivePlan
    private let isInline: [Bool]
    private let lock = NSLock()
    /// The next part not yet drained or passed on.
    private var next = 0
    private var bytes: [Int: [UInt8]] = [:]

    init(base: ArchiveContentReader?, plan: ArchivePlan, isInline: [Bool]) {
        self.base = base
        self.plan = plan
        self.isInline = isInline
    }

    func read(part: Int, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if part >= next {
            try drain(upTo: part)
            next = part + 1
        }
        guard let base else { throw ArchiveStoreFailure(reason: "part \(part) has no reader") }
        return try base.read(part: part, into: buffer)
    }

    /// Reads the inline parts before `end` not yet read.
    func drain(upTo end: Int) throws {
        while next < end {
            let k = next
            next += 1
            guard isInline[k] else { continue }  // a part with its bytes in the plan
            let p = plan.parts[k]
            var out: [UInt8]
            if let content = p.content {
                out = content
            } else {
                guard let base else { throw ArchiveStoreFailure(reason: "part \(k) has no reader") }
                let want = Int(p.contentSize)
                out = [UInt8](repeating: 0, count: want + 1)
                var have = 0
                while true {
                    let n = try out.withUnsafeMutableBytes { all in
                        try base.read(part: k, into: UnsafeMutableRawBufferPointer(rebasing: all[have...]))
                    }
                    if n == 0 { break }
                    have += n
                    // One byte of room past the expected size tells a longer part apart.
                    if have > want { throw ArchiveStoreFailure(reason: "part \(k) has more than \(want) bytes") }
                }
                guard have == want else { throw ArchiveStoreFailure(reason: "part \(k) has \(have) bytes, expected \(want)") }
                out.removeLast()
            }
            guard out.count == Int(p.contentSize) else { throw ArchiveStoreFailure(reason: "part \(k) has \(out.count) bytes, expected \(p.contentSize)") }
            lock.withLock { bytes[k] = out }
        }
    }

    /// The bytes of inline part `k` once read (taken: asked for once).
    func take(_ k: Int) -> [UInt8]? {
        lock.withLock { bytes.removeValue(forKey: k) }
    }

    func finish() throws {
        try drain(upTo: plan.parts.count)
        try base?.finish()
    }
}
