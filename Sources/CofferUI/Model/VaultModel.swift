// VaultModel.swift: what the pages show, read from an open vault.
//
// A `Vault` is not safe to use from several threads at once (it caches versions and index
// files), so every read goes through one serial queue, off Swift's cooperative threads. Numbers
// that take reading files (records per version) are cached by version id: a version never changes.

import CofferCore
import CofferExports
import Dispatch
import Foundation
import Synchronization

/// One version as the pages list it.
public struct VersionSummary: Sendable {
    public let id: ObjectID
    public let name: String
    public let time: Date
    public let host: String
    public let tags: [String]
    public let files: UInt64
    public let bytes: UInt64
    /// Storage the version added (after deduplication and compression).
    public let addedBytes: UInt64
}

/// A series (the versions of one name), oldest first.
public struct SeriesSummary: Sendable {
    public let name: String
    public let versions: [VersionSummary]
    public var latest: VersionSummary { versions[versions.count - 1] }
}

/// One measure of one version: its count, and what changed from the previous version that has
/// the file (nil for the first).
public struct MeasureValue: Sendable, Equatable {
    public let versionID: ObjectID
    public let time: Date
    public let count: Int
    public let gained: Int?
    public let lost: Int?
}

/// An entry of a folder listing.
public struct ListedEntry: Sendable {
    public let entry: VersionEntry
    /// True for a zip sealed member by member, or a folder inside one: it can be opened.
    public let isBrowsable: Bool
}

public final class VaultModel: @unchecked Sendable {
    private let vault: Vault
    private let queue = DispatchQueue(label: "coffer.ui.vault")
    private let measureCache = Mutex<[String: [MeasureValue]]>([:])

    public init(vault: Vault) {
        self.vault = vault
    }

    /// Runs `body` with the vault on the model's serial queue.
    public func read<T: Sendable>(_ body: @escaping @Sendable (Vault) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result(catching: { try body(self.vault) }))
            }
        }
    }

    /// Runs `body` on the serial queue without waiting (streamed downloads).
    func enqueue(_ body: @escaping @Sendable (Vault) -> Void) {
        queue.async { body(self.vault) }
    }

    /// Every series, by name.
    public func series() async throws -> [SeriesSummary] {
        try await read { vault in try Self.series(vault) }
    }

    static func series(_ vault: Vault) throws -> [SeriesSummary] {
        var byName: [String: [VersionSummary]] = [:]
        for (id, v) in try vault.versions() {
            byName[v.name, default: []].append(
                VersionSummary(
                    id: id, name: v.name, time: v.time, host: v.host, tags: v.tags, files: v.stats.files, bytes: v.stats.bytes,
                    addedBytes: v.stats.addedBytes))
        }
        return byName.keys.sorted().map { name in
            SeriesSummary(name: name, versions: (byName[name] ?? []).sorted { ($0.time, $0.id) < ($1.time, $1.id) })
        }
    }

    /// Storage in use now.
    public func storage() async throws -> (files: Int, bytes: UInt64, packs: Int) {
        try await read { vault in try vault.storageUsage() }
    }

    /// The vault's size over time: after each version (all series, by time), the storage the
    /// versions up to it added. Versions forgotten and pruned since are not counted.
    public static func sizeOverTime(_ series: [SeriesSummary]) -> [(time: Date, bytes: UInt64, id: ObjectID)] {
        let all = series.flatMap(\.versions).sorted { ($0.time, $0.id) < ($1.time, $1.id) }
        var total: UInt64 = 0
        return all.map { v in
            total += v.addedBytes
            return (v.time, total, v.id)
        }
    }

    /// A measure's value for each version of a series that has its file, oldest first, each
    /// with the records gained and lost since the previous such version.
    public func measure(_ measure: RecordMeasure, kind: ExportRecordKind, of series: SeriesSummary) async throws -> [MeasureValue] {
        let key = kind.id + "/" + measure.id + "/" + series.versions.map(\.id.hex).joined(separator: ",")
        if let cached = measureCache.withLock({ $0[key] }) { return cached }
        let values = try await read { vault in try Self.measure(measure, of: series, vault: vault) }
        measureCache.withLock { $0[key] = values }
        return values
    }

    static func measure(_ measure: RecordMeasure, of series: SeriesSummary, vault: Vault) throws -> [MeasureValue] {
        let handler = ZipArchiveHandler()
        var values: [MeasureValue] = []
        var previous: [UInt8]?
        for v in series.versions {
            guard let path = try findFile(in: v.id, vault: vault, where: measure.matches) else { continue }
            var bytes: [UInt8] = []
            try vault.readFile(v.id, pathBytes: path, archiveHandler: handler) { bytes += $0 }
            let count = try measure.count(bytes)
            var gained: Int?, lost: Int?
            if let previous { (gained, lost) = try measure.compare(previous, bytes) }
            values.append(MeasureValue(versionID: v.id, time: v.time, count: count, gained: gained, lost: lost))
            previous = bytes
        }
        return values
    }

    /// The first path of a version (zip members included) that `matches` accepts.
    static func findFile(in id: ObjectID, vault: Vault, where matches: ([UInt8]) -> Bool) throws -> [UInt8]? {
        let walker = try vault.walker(for: id, expandArchives: true)
        while let e = try walker.next() {
            if e.type == .file && matches(e.pathBytes) { return e.pathBytes }
        }
        return nil
    }

    /// The entries directly inside `folder` of a version (empty: the top level), zip members
    /// included (a sealed zip lists as a folder of its members).
    public func list(_ id: ObjectID, folder: [UInt8]) async throws -> [ListedEntry]? {
        try await read { vault in
            let slash = UInt8(ascii: "/")
            let depth = folder.isEmpty ? 0 : folder.split(separator: slash).count
            let walker = try vault.walker(for: id, expandArchives: true)
            var found = folder.isEmpty
            var out: [ListedEntry] = []
            while let e = try walker.next() {
                let components = e.pathBytes.split(separator: slash).count
                if e.pathBytes == folder {
                    found = true
                    continue
                }
                let below = folder.isEmpty || Self.isBelow(e.pathBytes, folder)
                if !below {
                    // Not on the way to the folder: skip what is under it.
                    if !Self.isBelow(folder, e.pathBytes) { walker.skipChildren() }
                    continue
                }
                if components == depth + 1 {
                    out.append(ListedEntry(entry: e, isBrowsable: e.type == .directory || e.type == .archive))
                    walker.skipChildren()
                }
            }
            return found ? out : nil
        }
    }

    /// Whether `path` lies below `folder` (bytes, component-wise).
    static func isBelow(_ path: [UInt8], _ folder: [UInt8]) -> Bool {
        path.count > folder.count + 1 && path[folder.count] == UInt8(ascii: "/") && Array(path[..<folder.count]) == folder
    }
}
