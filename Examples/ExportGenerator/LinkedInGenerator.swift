// LinkedInGenerator.swift: the generator's public face: configuration, exports, output.

import CofferExports
import Foundation

/// How to write each export.
public enum OutputFormat: String, Sendable, CaseIterable {
    /// `Basic_LinkedInDataExport_MM-DD-YYYY.zip`, zipped the way LinkedIn zips.
    case zip
    /// `Basic_LinkedInDataExport_MM-DD-YYYY/` with the same members unzipped.
    case folder
    /// Both.
    case both
}

/// Which platform's exports to write.
public enum GeneratorPlatform: String, Sendable, CaseIterable {
    /// LinkedIn Basic exports (`Basic_LinkedInDataExport_MM-DD-YYYY.zip`).
    case linkedin
    /// X archives (`twitter-YYYY-MM-DD-<hex>.zip`, `data/*.js`).
    case x
}

/// What changes between two exports.
public enum ChurnModel: String, Sendable, CaseIterable {
    /// Everything the simulation models: rows added at the top of Connections.csv and
    /// messages.csv, and in-place changes (job changes, hidden accounts, e-mail toggles,
    /// removed connections, replies moving an old conversation to the top).
    case full
    /// Rows added at the top only: new connections and new conversations, no in-place change
    /// to earlier rows of Connections.csv or messages.csv (the owner's small files change as in
    /// `full`). The least a month can change; a lower bound for what the next export costs.
    case top
}

/// The generator's settings (the command-line flags).
public struct GeneratorConfig: Sendable, Equatable {
    /// Where exports are written.
    public var outputDirectory: String
    /// How many exports (one per interval).
    public var months = 12
    /// Seed of every random choice; the same config gives byte-identical output.
    public var seed: UInt64 = 1
    /// Connections at the first export.
    public var connections = 3000
    /// Approximate size of messages.csv at the first export.
    public var messagesBytes = 1_000_000
    /// Date of the first export.
    public var start = CivilDate(year: 2025, month: 1, day: 15)
    /// Days between exports.
    public var intervalDays = 30
    /// Zip, folder, or both.
    public var format = OutputFormat.zip
    /// No progress output.
    public var quiet = false
    /// LinkedIn or X.
    public var platform = GeneratorPlatform.linkedin
    /// Write Connections.csv with the pre-2023 header (no URL column):
    /// `First Name,Last Name,Email Address,Company,Position,Connected On`.
    public var connectionsWithoutURL = false
    /// What changes between exports (`--churn`); `full` keeps the series as it always was.
    public var churn = ChurnModel.full

    public init(outputDirectory: String) {
        self.outputDirectory = outputDirectory
    }
}

/// One file of an export.
public struct ExportMember: Sendable {
    /// Path inside the export, e.g. `Jobs/Saved Jobs.csv`.
    public let path: String
    /// The file's bytes.
    public let contents: [UInt8]
    /// When LinkedIn wrote it (UTC; the zip's DOS time).
    public let modified: Moment

    /// The MS-DOS timestamp stored in the zip.
    public var dosTimestamp: ZipWriter.DOSTimestamp {
        let date = modified.date
        // Export dates are validated to 1980–2107 by the argument parser, so this cannot fail;
        // fall back to the DOS epoch rather than trap.
        return (try? ZipWriter.DOSTimestamp(
            year: date.year, month: date.month, day: date.day, hour: modified.hour, minute: modified.minute,
            second: modified.second)) ?? ZipWriter.DOSTimestamp(date: 0x21, time: 0)
    }
}

/// Figures about one export, for the progress line and for tests.
public struct ExportStatistics: Sendable, Equatable {
    /// Rows of Connections.csv.
    public let connections: Int
    /// Blank (hidden or closed account) rows.
    public let hiddenConnections: Int
    /// Rows with an e-mail address.
    public let connectionsWithEmail: Int
    /// Rows of messages.csv.
    public let messages: Int
    /// Conversation blocks in messages.csv.
    public let conversations: Int
    /// Days of history Invitations.csv holds in this export.
    public let invitationWindowDays: Int
    /// Connections added, removed, changed since the previous export.
    let changes: NetworkChanges
    /// Messages added since the previous export.
    public let newMessages: Int
}

/// One Basic export, in memory.
public struct LinkedInExport: Sendable {
    /// 0 for the first export.
    public let index: Int
    /// The export date (in the archive name).
    public let date: CivilDate
    /// When the export was generated (the first member's time).
    public let generatedAt: Moment
    /// Members in LinkedIn's (unsorted) order.
    public let members: [ExportMember]
    /// Figures about this export.
    public let statistics: ExportStatistics

    /// `Basic_LinkedInDataExport_MM-DD-YYYY`.
    public var baseName: String { "Basic_LinkedInDataExport_" + Format.archiveDate(date) }
    /// `Basic_LinkedInDataExport_MM-DD-YYYY.zip`.
    public var zipFileName: String { baseName + ".zip" }

    /// The member at `path`, if the export has one.
    public func member(_ path: String) -> ExportMember? {
        members.first { $0.path == path }
    }

    /// Total uncompressed bytes.
    public var uncompressedSize: Int { members.reduce(0) { $0 + $1.contents.count } }

    /// The zip LinkedIn would serve: deflate level 6, data descriptors with signature,
    /// UTF-8 flag, no extra fields, no directory entries, members in export order.
    public func zipArchive() throws(ZipError) -> [UInt8] {
        var writer = ZipWriter(options: .linkedIn)
        for member in members {
            try writer.addFile(member.path, contents: member.contents, modified: member.dosTimestamp)
        }
        return try writer.finish()
    }
}

/// An error that stops the generator.
public enum GeneratorError: Error, CustomStringConvertible, Equatable {
    /// A flag was not understood; the message says which and why.
    case usage(String)
    /// Writing a file or folder failed.
    case io(path: String, message: String)
    /// Building a zip failed.
    case zip(ZipError)

    public var description: String {
        switch self {
        case .usage(let message): message
        case .io(let path, let message): "cannot write \(path): \(message)"
        case .zip(let error): "cannot build the zip: \(error)"
        }
    }
}

/// Generates a series of exports, one per call, in date order.
public final class LinkedInGenerator {
    public let config: GeneratorConfig
    private let simulation: LinkedInSimulation

    /// Builds the account's history up to the first export.
    public init(config: GeneratorConfig) {
        self.config = config
        simulation = LinkedInSimulation(config: config)
    }

    /// The next export of the series (the first one on the first call).
    public func nextExport() -> LinkedInExport {
        simulation.nextExport()
    }

    /// What `write` produced for one export.
    public struct Written: Sendable {
        public let export: LinkedInExport
        public let zipPath: String?
        public let zipSize: Int?
        public let folderPath: String?
    }

    /// Writes `export` under `config.outputDirectory` as zip, folder or both.
    ///
    /// Folder output overwrites member files of the same name and sets their modification
    /// time to the member's time; it does not delete anything.
    public func write(_ export: LinkedInExport) throws(GeneratorError) -> Written {
        let directory = URL(fileURLWithPath: config.outputDirectory, isDirectory: true)
        try Self.makeDirectory(directory)
        var zipPath: String?
        var zipSize: Int?
        var folderPath: String?
        if config.format == .zip || config.format == .both {
            let bytes: [UInt8]
            do { bytes = try export.zipArchive() } catch { throw .zip(error) }
            let url = directory.appendingPathComponent(export.zipFileName)
            try Self.writeFile(url, bytes)
            zipPath = url.path
            zipSize = bytes.count
        }
        if config.format == .folder || config.format == .both {
            let folder = directory.appendingPathComponent(export.baseName, isDirectory: true)
            for member in export.members {
                let url = folder.appendingPathComponent(member.path)
                try Self.makeDirectory(url.deletingLastPathComponent())
                try Self.writeFile(url, member.contents)
                let stamp = Date(timeIntervalSince1970: TimeInterval(member.modified.seconds))
                try? FileManager.default.setAttributes([.modificationDate: stamp], ofItemAtPath: url.path)
            }
            folderPath = folder.path
        }
        return Written(export: export, zipPath: zipPath, zipSize: zipSize, folderPath: folderPath)
    }

    private static func makeDirectory(_ url: URL) throws(GeneratorError) {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw .io(path: url.path, message: "\(error)")
        }
    }

    private static func writeFile(_ url: URL, _ bytes: [UInt8]) throws(GeneratorError) {
        do {
            try Data(bytes).write(to: url, options: .atomic)
        } catch {
            throw .io(path: url.path, message: "\(error)")
        }
    }
}
