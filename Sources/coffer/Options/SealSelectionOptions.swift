import ArgumentParser
import CofferCore
import Foundation

/// `coffer seal`'s options choosing what to seal (restic's backup options of the same names).
struct SealSelectionOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Leave out what matches this pattern, matched on the absolute path on disk; an excluded folder is not entered (repeatable; * ? [a-z] \\ within a name, ** across folders, leading / anchors at /, leading ! takes back).",
            valueName: "pattern"))
    var exclude: [String] = []

    @Option(help: ArgumentHelp("Like --exclude, ignoring case (repeatable).", valueName: "pattern"))
    var iexclude: [String] = []

    @Option(help: ArgumentHelp("Exclude patterns from a file, one per line; blank lines and lines starting with # are ignored (repeatable).", valueName: "file"), completion: .file())
    var excludeFile: [String] = []

    @Option(help: ArgumentHelp("Like --exclude-file, ignoring case (repeatable).", valueName: "file"), completion: .file())
    var iexcludeFile: [String] = []

    @Option(help: ArgumentHelp("Leave out the contents of folders holding a file NAME (whose content starts with CONTENT, if given), except that file (repeatable).", valueName: "name[:content]"))
    var excludeIfPresent: [String] = []

    @Flag(help: "Leave out the contents of folders holding a CACHEDIR.TAG with the standard signature, except that file.")
    var excludeCaches = false

    @Option(help: ArgumentHelp("Leave out files larger than this (bytes, or with k, M, G or T: 500k, 2G).", valueName: "size"))
    var excludeLargerThan: String?

    @Flag(help: "Do not enter other file systems mounted below a given path (their mount folders are kept, empty).")
    var oneFileSystem = false

    @Option(help: ArgumentHelp("Seal the paths listed in a file, one per line; lines starting with # are comments, blank lines are skipped, patterns (* ? [..]) are expanded (repeatable).", valueName: "file"), completion: .file())
    var filesFrom: [String] = []

    @Option(help: ArgumentHelp("Seal the paths listed in a file, one per line, taken as they are (repeatable).", valueName: "file"), completion: .file())
    var filesFromVerbatim: [String] = []

    @Option(help: ArgumentHelp("Seal the paths listed in a file, separated by NUL bytes (find -print0) (repeatable).", valueName: "file"), completion: .file())
    var filesFromRaw: [String] = []

    @Flag(help: "Seal standard input as one file (named by --stdin-filename).")
    var stdin = false

    @Option(help: ArgumentHelp("The file name standard input or the command's output is stored under (default: stdin).", valueName: "name"))
    var stdinFilename: String?

    @Flag(help: "Run the command given after -- and seal its output as one file; if it fails, nothing is written.")
    var stdinFromCommand = false

    @Flag(help: "Write a version even when nothing was selected (otherwise such a seal writes nothing and exits 3).")
    var allowEmpty = false

    /// The selection, patterns and sizes checked; files are read here (before the vault opens).
    func selection() throws -> SealSelection {
        func file(_ path: String) throws -> [[UInt8]] {
            PatternSet.lines(of: try Self.read(path, what: "pattern file"))
        }
        var s = SealSelection()
        do {
            let ex = exclude.map { Array($0.utf8) } + (try excludeFile.flatMap(file))
            let iex = iexclude.map { Array($0.utf8) } + (try iexcludeFile.flatMap(file))
            if !ex.isEmpty { s.exclude = try PatternSet(ex) }
            if !iex.isEmpty { s.iexclude = try PatternSet(iex, caseInsensitive: true) }
            s.markers = try excludeIfPresent.map { try SealSelection.Marker(argument: Array($0.utf8)) }
        } catch let e as PatternError {
            throw CommandFailure.usage(e.description)
        } catch CofferError.invalidArgument(let message) {
            throw CommandFailure.usage(message)
        }
        if excludeCaches { s.markers.append(.cacheDirectoryTag) }
        if let excludeLargerThan {
            guard let n = SealSelection.parseSize(excludeLargerThan) else {
                throw CommandFailure.usage("--exclude-larger-than '\(TerminalText.escape(excludeLargerThan))' is not a size (write 500k, 20M, 2G)")
            }
            s.largerThan = n
        }
        s.oneFileSystem = oneFileSystem
        return s
    }

    /// The paths of the --files-from options, in order, as bytes (a listed name need not be UTF-8).
    func listedPaths() throws -> [[UInt8]] {
        var bytes: [[UInt8]] = []
        for f in filesFrom {
            for pattern in SealInputs.patternLines(try Self.read(f, what: "--files-from file")) {
                let found = SealInputs.expand(pattern)
                if found.isEmpty { Console.warn("\(TerminalText.escape(bytes: pattern)) (in \(TerminalText.escape(f))) matches nothing; skipped") }
                bytes += found
            }
        }
        for f in filesFromVerbatim { bytes += SealInputs.verbatimLines(try Self.read(f, what: "--files-from-verbatim file")) }
        for f in filesFromRaw { bytes += SealInputs.rawPaths(try Self.read(f, what: "--files-from-raw file")) }
        return bytes
    }

    var readsPathLists: Bool { !filesFrom.isEmpty || !filesFromVerbatim.isEmpty || !filesFromRaw.isEmpty }

    /// The stored name of standard input or the command's output.
    var streamName: [UInt8] { Array((stdinFilename ?? "stdin").utf8) }

    static func read(_ path: String, what: String) throws -> [UInt8] {
        guard let data = path == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: path) else {
            throw CommandFailure.usage("cannot read \(what) \(TerminalText.escape(path))")
        }
        return Array(data)
    }
}
