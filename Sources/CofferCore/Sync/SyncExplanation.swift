import Foundation

/// The text sync prints about a destination it refuses: both sides of a diverged (or ahead)
/// copy, with their versions by name and date.
extension SyncEngine {
    /// `name@YYYY-MM-DD (short id)` for a version read from `backend`, else the short id.
    func label(_ id: ObjectID, on backend: Backend) -> String {
        if backend === source, let v = try? vault.version(id) { return Self.label(v, id) }
        if let body = try? Vault.readMeta(
            backend: backend, file: .version(id), kind: .version, vaultID: vault.vaultID, keys: vault.keys, zstd: vault.zstd),
           let v = try? Version.decode(body) {
            return Self.label(v, id)
        }
        return id.short
    }

    static func label(_ v: Version, _ id: ObjectID) -> String {
        "\(v.name)@\(day(v.time)) (\(id.short))"
    }

    static func day(_ d: Date) -> String {
        ISO8601DateFormatter.string(from: d, timeZone: TimeZone(identifier: "UTC") ?? .current, formatOptions: [.withFullDate])
    }

    static func list(_ labels: [String]) -> String {
        if labels.isEmpty { return "none" }
        let shown = labels.prefix(6).joined(separator: ", ")
        return labels.count > 6 ? shown + " and \(labels.count - 6) more" : shown
    }

    /// Both sides of a diverged (or ahead) destination, in one paragraph.
    func explainDivergence(relation: SyncRelation, dstHeads: [(generation: UInt64, id: ObjectID, path: String)]) throws -> String {
        guard let top = dstHeads.last else { return "the destination has no head" }
        let src = vault.head
        var s: String
        let tied = dstHeads.filter { $0.generation == top.generation }
        if tied.count > 1 {
            return "the destination has \(tied.count) heads of generation \(top.generation) (two writers at once); "
                + "this vault is at generation \(src.generation) (head \(vault.headID.short)). Nothing was copied. "
                + "Pass --force to replace the destination's heads with this vault's"
        }
        let dstHead = try? readDestHead(top.path)
        let when = dstHead.map { " written \(Self.day(Date(timeIntervalSince1970: TimeInterval($0.time))))" } ?? ""
        let srcWhen = " written \(Self.day(Date(timeIntervalSince1970: TimeInterval(src.time))))"
        if case .ahead(let n) = relation {
            s = "the destination is newer than this vault: it is at generation \(top.generation) (head \(top.id.short)\(when)), "
                + "\(n) change\(n == 1 ? "" : "s") past this vault's generation \(src.generation) (head \(vault.headID.short)\(srcWhen))"
        } else {
            s = "the destination's history has diverged from this vault's: the destination is at generation \(top.generation) "
                + "(head \(top.id.short)\(when)), this vault at generation \(src.generation) (head \(vault.headID.short)\(srcWhen))"
        }
        if let dstHead {
            let srcLive = Set(src.live)
            let dstLive = Set(dstHead.live)
            let onlyDst = dstHead.live.filter { !srcLive.contains($0) }.map { label($0, on: dest) }
            let onlySrc = src.live.filter { !dstLive.contains($0) }.map { label($0, on: source) }
            s += "; versions only at the destination: \(Self.list(onlyDst)); versions only in this vault: \(Self.list(onlySrc))"
        } else {
            s += "; the destination's head cannot be read with this vault's keys, so its versions cannot be listed"
        }
        if case .ahead = relation {
            s += ". Nothing was copied. Sync from the destination to this vault instead, or pass --force to take the destination back to this vault's state"
        } else {
            s += ". Someone sealed into the copy, or it was replaced. Nothing was copied. Pass --force to make the destination a copy of this "
                + "vault (its own heads are removed; their files stay until --delete), or seal the destination's versions here first"
        }
        return s
    }
}
