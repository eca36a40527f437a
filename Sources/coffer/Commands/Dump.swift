import ArgumentParser
import CofferCore
import CofferExports
import Foundation

extension Coffer {
    /// `coffer dump`: a file's bytes, or a folder (or the whole version) as a tar or zip stream.
    struct Dump: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a file, a folder or a whole version to stdout (a folder as a tar or zip stream).",
            discussion: """
                A PATH naming a file (a member of a sealed zip, Export.zip/Connections.csv, or a \
                hard link) gives its bytes. A PATH naming a folder, or no PATH (the whole \
                version), gives a tar stream (POSIX pax: long and raw-byte names, owners, \
                nanosecond times, extended attributes, hard links, named pipes, devices) or, with \
                --archive zip, a zip stream (Zip64 where needed; no named pipes or devices). Paths \
                in the stream start with the folder's own name. Sealed zips come out as their \
                original bytes. A version sealed from one file (an export zip) gives that file's \
                bytes unless --archive is given. Docs/DUMP.md lists what each format keeps and loses.

                The output is streamed: each file is checked as it goes and its SHA-256 at its \
                end. On an integrity failure the exit status is 13 and what was written up to \
                that point is unverified and must be discarded (with --target, no file is left).

                A tar or zip stream is not written to a terminal without --force: redirect \
                stdout, pipe it (coffer dump home@latest | tar -x) or use --target FILE.
                """)

        @OptionGroup var vaultArguments: VaultArguments

        @Argument(help: "The version: an id prefix, NAME@latest, NAME@-N or NAME@YYYY-MM-DD.")
        var version: String

        @Argument(help: "A file or folder of the version (see 'coffer ls'); default: the whole version.")
        var path: String?

        @Option(help: ArgumentHelp("The stream format for a folder: tar (default) or zip.", valueName: "tar|zip"))
        var archive: DumpFormat?

        @Option(
            name: .customLong("target"),
            help: ArgumentHelp("Write to FILE instead of stdout (a temporary file, synced, then renamed).", valueName: "file"),
            completion: .file())
        var target: String?

        @Flag(help: "Write a tar or zip stream to a terminal; replace an existing --target file.")
        var force = false

        func run() throws {
            let vault = try vaultArguments.open()
            let id = try vault.resolve(version)
            var pathBytes = Array((path ?? "").utf8)
            let isFolder: Bool
            if pathBytes.allSatisfy({ $0 == UInt8(ascii: "/") }) {
                // A version sealed from one file (an export zip) dumps as that file, unless a
                // stream format is asked for.
                let walker = try vault.walker(for: id)
                if archive == nil, let only = try walker.next(), only.type == .file || only.type == .archive, try walker.next() == nil {
                    pathBytes = only.pathBytes
                    isFolder = false
                } else {
                    isFolder = true
                }
            } else {
                isFolder = try vault.entry(at: pathBytes, in: id)?.type == .directory
            }
            let archive = self.archive ?? .tar
            let handler = ZipArchiveHandler()
            if target == nil, isFolder, isatty(1) == 1, !force {
                throw CommandFailure.usage(
                    "refusing to write a \(archive.rawValue) stream to a terminal: redirect stdout to a file or a pipe, use --target FILE, or pass --force")
            }
            let destination = try DumpDestination(target: target, force: force)
            if destination.isFile { Interrupt.beginCooperative() }
            do {
                if isFolder {
                    let output = DumpOutput { try destination.write($0) }
                    let writer: DumpWriter
                    switch archive {
                    case .tar: writer = TarWriter(output: output)
                    case .zip: writer = try ZipStreamWriter(output: output, zip64Limit: Self.zip64Limit)
                    }
                    try vault.dump(id, folder: pathBytes, archiveHandler: handler, isCancelled: Interrupt.check, to: writer)
                    if let zip = writer as? ZipStreamWriter, zip.skippedSpecial > 0 {
                        Console.warn(
                            "\(zip.skippedSpecial) named pipe\(zip.skippedSpecial == 1 ? "" : "s") or device\(zip.skippedSpecial == 1 ? "" : "s") left out of the zip "
                                + "(zip has no such entries), first \(TerminalText.escape(bytes: zip.firstSkipped)); use --archive tar to keep them")
                    }
                } else {
                    try vault.readFile(id, pathBytes: pathBytes, archiveHandler: handler) { bytes in
                        try bytes.withUnsafeBytes { try destination.write($0) }
                    }
                }
                try destination.commit()
            } catch CofferError.integrity(let object, let reason) {
                destination.abandon()
                let e = CofferError.integrity(object: object, reason: reason)
                throw CommandFailure(
                    .integrity,
                    FailureReport.message(for: e)
                        + (destination.isFile ? "; no file was written" : "; the bytes written to stdout up to this point are unverified: discard them"))
            } catch {
                destination.abandon()
                throw error
            }
        }

        /// Sizes and offsets from which zip entries get Zip64 fields; a debug build takes a
        /// smaller limit from `COFFER_TESTONLY_ZIP64_LIMIT` (tests).
        static var zip64Limit: UInt64 {
            #if DEBUG
            if let v = ProcessInfo.processInfo.environment["COFFER_TESTONLY_ZIP64_LIMIT"], let n = UInt64(v) { return n }
            #endif
            return 0xFFFF_FFFF
        }
    }
}

/// `--archive`.
enum DumpFormat: String, ExpressibleByArgument, CaseIterable {
    case tar
    case zip
}

/// Where `dump` writes: stdout, or a file written under a temporary name in its folder, synced,
/// and renamed over FILE once complete (never left half-written under its name).
final class DumpDestination {
    private let fd: Int32
    private let path: String?
    private let temporary: String?
    private var done = false

    var isFile: Bool { path != nil }

    init(target: String?, force: Bool) throws {
        guard let target else {
            fd = 1
            path = nil
            temporary = nil
            return
        }
        var st = stat()
        if lstat(target, &st) == 0 {
            guard force else { throw CommandFailure(.failure, "\(Console.name(target)) already exists; pass --force to replace it") }
            guard st.st_mode & S_IFMT == S_IFREG else { throw CommandFailure(.failure, "\(Console.name(target)) exists and is not a file") }
        }
        let dir = (target as NSString).deletingLastPathComponent
        var template = Array(((dir.isEmpty ? "." : dir) + "/.coffer-dump-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw CofferError.io(path: Console.name(target), operation: "create", errno: errno) }
        self.fd = fd
        path = target
        temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        _ = fchmod(fd, 0o644 & ~Self.umask)
    }

    deinit { abandon() }

    private static var umask: mode_t {
        let m = Glibc.umask(0o022)
        _ = Glibc.umask(m)
        return m
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try Console.write(fd, bytes, name: path.map { Console.name($0) } ?? "standard output")
    }

    /// Syncs and renames the file into place (stdout: nothing to do).
    func commit() throws {
        guard let path, let temporary, !done else { return }
        let shown = Console.name(path)
        guard fsync(fd) == 0 else { throw CofferError.io(path: shown, operation: "fsync", errno: errno) }
        guard close(fd) == 0 else { throw CofferError.io(path: shown, operation: "close", errno: errno) }
        done = true
        guard rename(temporary, path) == 0 else {
            let e = errno
            unlink(temporary)
            throw CofferError.io(path: shown, operation: "rename", errno: e)
        }
        let dir = (path as NSString).deletingLastPathComponent
        let dfd = open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }

    /// Removes the temporary file of a failed dump.
    func abandon() {
        guard let temporary, !done else { return }
        done = true
        close(fd)
        unlink(temporary)
    }
}
