// ExportGeneratorMain.swift: the `export-generator` entry point.
//
// The logic lives in the other files of this target, so tests can
// `@testable import ExportGenerator` and drive `LinkedInGenerator` directly.

import Foundation

@main
struct ExportGeneratorMain {
    static func main() {
        let command: Command
        do {
            command = try Arguments.parse(Array(CommandLine.arguments.dropFirst()))
        } catch {
            FileHandle.standardError.write(Data("export-generator: \(error)\n\n\(Arguments.usage)\n".utf8))
            exit(2)
        }
        switch command {
        case .help:
            print(Arguments.usage)
        case .generate(let config):
            do {
                try run(config)
            } catch {
                FileHandle.standardError.write(Data("export-generator: \(error)\n".utf8))
                exit(1)
            }
        }
    }

    /// Generates and writes the whole series, printing one line per export.
    static func run(_ config: GeneratorConfig) throws(GeneratorError) {
        if config.platform == .x { return try runX(config) }
        let started = Date()
        let generator = LinkedInGenerator(config: config)
        var totalZip = 0
        for _ in 0..<config.months {
            let export = generator.nextExport()
            let written = try generator.write(export)
            totalZip += written.zipSize ?? 0
            if !config.quiet {
                let s = export.statistics
                var line = "\(written.zipPath.map { ($0 as NSString).lastPathComponent } ?? export.baseName + "/")"
                line += "  \(export.members.count) members, \(export.uncompressedSize) B"
                if let size = written.zipSize { line += " -> \(size) B zipped" }
                line += "; connections \(s.connections) (+\(s.changes.added) -\(s.changes.removed) ~\(s.changes.jobChanges) jobs,"
                line += " \(s.hiddenConnections) blank, \(s.connectionsWithEmail) e-mails)"
                line += "; messages \(s.messages) in \(s.conversations) conversations (+\(s.newMessages))"
                print(line)
            }
        }
        if !config.quiet {
            let seconds = Date().timeIntervalSince(started)
            let rounded = (seconds * 100).rounded() / 100
            print("\(config.months) export(s) in \(config.outputDirectory), \(totalZip) B of zips, \(rounded) s")
        }
    }

    /// Generates and writes a series of X archives, one line per archive.
    static func runX(_ config: GeneratorConfig) throws(GeneratorError) {
        let generator = XArchiveGenerator(config: config)
        for _ in 0..<config.months {
            let archive = generator.nextArchive()
            let written = try generator.write(archive)
            if !config.quiet {
                print("\(archive.zipFileName)  \(archive.members.count) members -> \(written.size) B zipped; \(archive.tweetIDs.count) tweets")
            }
        }
    }
}
