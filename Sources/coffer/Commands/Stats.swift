import ArgumentParser
import CofferCore
import Foundation

extension Coffer {
    /// `coffer stats`: how much versions hold and how much they take.
    struct Stats: ParsableCommand {
        enum Mode: String, ExpressibleByArgument, CaseIterable {
            case restoreSize = "restore-size"
            case rawData = "raw-data"
        }

        static let configuration = CommandConfiguration(
            abstract: "Show how much versions would restore, or the unique data they refer to.",
            discussion: """
                restore-size (the default): the files (regular files and archives; not the second \
                names of hard links) and bytes the selected versions would restore, counted in \
                every version that holds them. raw-data: the unique chunks the versions refer to, \
                each counted once however many files and versions share it: their plaintext \
                (UNIQUE), what they take in packs compressed and encrypted (STORED), the \
                deduplication ratio (restore size / unique plaintext) and the compression ratio \
                (unique plaintext / stored). Folder listings and archive layouts (format 2) are \
                shown apart as METADATA, stored size. One row per name, and the whole selection \
                (TOTAL), whose unique data is counted once across names.

                Select with names (every version of the name) or versions (id prefix, NAME@latest, \
                NAME@-N, NAME@YYYY-MM-DD); default: every version.
                """)

        @OptionGroup var vaultArguments: VaultArguments
        @OptionGroup var output: OutputOptions

        @Argument(help: ArgumentHelp("Names or versions to count. Default: every version.", valueName: "name|version"))
        var selection: [String] = []

        @Option(help: ArgumentHelp("restore-size or raw-data.", valueName: "mode"))
        var mode: Mode = .restoreSize

        func run() throws {
            let vault = try vaultArguments.open()
            let all = try vault.versions()
            var chosen: [(id: ObjectID, version: Version)] = []
            var seen = Set<ObjectID>()
            if selection.isEmpty { chosen = all }
            for s in selection {
                let named = all.filter { $0.version.name == s }
                var picked = named
                if named.isEmpty {
                    let id = try vault.resolve(s)
                    picked = [(id, try vault.version(id))]
                }
                for p in picked where seen.insert(p.id).inserted { chosen.append(p) }
            }
            let names = Array(Set(chosen.map(\.version.name))).sorted()
            let counter = RestoreSizeCounter(vault: vault)
            var sizes: [String: RestoreSize] = [:]
            var total = RestoreSize()
            for (id, v) in chosen {
                let s = try counter.size(of: id)
                sizes[v.name, default: RestoreSize()] += s
                total += s
            }
            var rows: [StatsJSON.Row] = []
            for name in names {
                let ids = chosen.filter { $0.version.name == name }.map(\.id)
                let raw = mode == .rawData ? try vault.rawData(of: ids) : nil
                rows.append(StatsJSON.Row(name: name, versions: ids.count, restore: sizes[name]!, raw: raw))
            }
            let totalRaw = mode == .rawData ? try vault.rawData(of: chosen.map(\.id)) : nil
            let totalRow = StatsJSON.Row(name: nil, versions: chosen.count, restore: total, raw: totalRaw)
            if let missing = totalRaw?.missing, missing > 0 {
                Console.warn("\(missing) blob\(missing == 1 ? "" : "s") the versions refer to \(missing == 1 ? "is" : "are") not in the index: not counted ('coffer check' says more)")
            }
            if output.json {
                try JSONOutput.print(StatsJSON(mode: mode.rawValue, names: rows, total: totalRow))
                return
            }
            // The table is the result: printed with --quiet too.
            let table: String
            switch mode {
            case .restoreSize:
                let cells = { (r: StatsJSON.Row) in [r.name ?? "TOTAL", String(r.versions), String(r.files), Format.bytes(r.restoreBytes)] }
                table = Format.table(["NAME", "VERSIONS", "FILES", "RESTORE SIZE"], rows.map(cells) + [cells(totalRow)], rightAligned: [1, 2, 3])
            case .rawData:
                let cells = { (r: StatsJSON.Row) in
                    [
                        r.name ?? "TOTAL", String(r.versions), Format.bytes(r.restoreBytes), String(r.chunks ?? 0), Format.bytes(r.uniqueBytes ?? 0),
                        Format.bytes(r.storedBytes ?? 0), Format.bytes(r.metadataStoredBytes ?? 0), Self.ratio(r.deduplicationRatio),
                        Self.ratio(r.compressionRatio),
                    ]
                }
                table = Format.table(
                    ["NAME", "VERSIONS", "RESTORE SIZE", "CHUNKS", "UNIQUE", "STORED", "METADATA", "DEDUP", "COMPRESSION"],
                    rows.map(cells) + [cells(totalRow)], rightAligned: [1, 2, 3, 4, 5, 6, 7, 8])
            }
            Console.out(table)
        }

        static func ratio(_ r: Double?) -> String {
            guard let r else { return "-" }
            return String(format: "%.2fx", r)
        }
    }
}

/// `stats --json`: `{"mode": ..., "names": [row...], "total": row}`. A row has `name` (absent
/// in the total), `versions`, `files`, `restore_bytes`, and in raw-data mode `chunks`,
/// `unique_bytes`, `stored_bytes`, `metadata_pieces`, `metadata_stored_bytes`,
/// `deduplication_ratio` and `compression_ratio` (null when undefined: nothing stored).
struct StatsJSON: Encodable {
    struct Row: Encodable {
        var name: String?
        var versions: Int
        var files: UInt64
        var restoreBytes: UInt64
        var chunks: UInt64?
        var uniqueBytes: UInt64?
        var storedBytes: UInt64?
        var metadataPieces: UInt64?
        var metadataStoredBytes: UInt64?
        var deduplicationRatio: Double?
        var compressionRatio: Double?
        var rawData: Bool

        enum CodingKeys: String, CodingKey {
            case name, versions, files, chunks
            case restoreBytes = "restore_bytes"
            case uniqueBytes = "unique_bytes"
            case storedBytes = "stored_bytes"
            case metadataPieces = "metadata_pieces"
            case metadataStoredBytes = "metadata_stored_bytes"
            case deduplicationRatio = "deduplication_ratio"
            case compressionRatio = "compression_ratio"
        }

        init(name: String?, versions: Int, restore: RestoreSize, raw: RawData?) {
            self.name = name
            self.versions = versions
            files = restore.files
            restoreBytes = restore.bytes
            rawData = raw != nil
            guard let raw else { return }
            chunks = raw.chunks
            uniqueBytes = raw.chunkPlainBytes
            storedBytes = raw.chunkStoredBytes
            metadataPieces = raw.pieces
            metadataStoredBytes = raw.pieceStoredBytes
            deduplicationRatio = raw.chunkPlainBytes > 0 ? Double(restore.bytes) / Double(raw.chunkPlainBytes) : nil
            compressionRatio = raw.chunkStoredBytes > 0 ? Double(raw.chunkPlainBytes) / Double(raw.chunkStoredBytes) : nil
        }

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encodeIfPresent(name, forKey: .name)
            try c.encode(versions, forKey: .versions)
            try c.encode(files, forKey: .files)
            try c.encode(restoreBytes, forKey: .restoreBytes)
            guard rawData else { return }
            try c.encode(chunks, forKey: .chunks)
            try c.encode(uniqueBytes, forKey: .uniqueBytes)
            try c.encode(storedBytes, forKey: .storedBytes)
            try c.encode(metadataPieces, forKey: .metadataPieces)
            try c.encode(metadataStoredBytes, forKey: .metadataStoredBytes)
            try c.encode(deduplicationRatio.map { ($0 * 1000).rounded() / 1000 }, forKey: .deduplicationRatio)
            try c.encode(compressionRatio.map { ($0 * 1000).rounded() / 1000 }, forKey: .compressionRatio)
        }
    }

    var mode: String
    var names: [Row]
    var total: Row
}
