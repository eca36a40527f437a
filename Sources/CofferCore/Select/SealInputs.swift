import Foundation

/// A stream sealed as one file (`seal --stdin`, `--stdin-from-command`): read to its end from an
/// open descriptor, stored under `name` with mode 0644, this process's owner and the time now.
public struct SealStream: Sendable {
    public var descriptor: Int32
    /// The file's name in the version (one path component).
    public var name: [UInt8]
    public init(descriptor: Int32, name: [UInt8]) {
        self.descriptor = descriptor
        self.name = name
    }
}

/// Helpers for what a seal is given.
public enum SealInputs {
    /// The absolute path of the folder the symbolic link at `path` leads to; nil when it leads to
    /// no folder.
    static func folderBehindLink(_ path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFDIR, let r = realpath(path, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }

    /// Whether `path` ends with `/` and names a symbolic link to a folder (`docs-link/`): such a
    /// link is followed (restic's rule), while `docs-link` seals the link itself.
    public static func isLinkToFolderWithSlash(_ path: String) -> Bool {
        guard path.utf8.count > 1, path.utf8.last == UInt8(ascii: "/") else { return false }
        var st = stat()
        let trimmed = String(decoding: path.utf8.reversed().drop { $0 == UInt8(ascii: "/") }.reversed(), as: UTF8.self)
        return lstat(trimmed, &st) == 0 && st.st_mode & S_IFMT == S_IFLNK && folderBehindLink(trimmed) != nil
    }

    /// The paths of a `--files-from-verbatim` file: one per line (a CR before the LF dropped),
    /// empty lines skipped, nothing else changed.
    public static func verbatimLines(_ file: [UInt8]) -> [[UInt8]] {
        file.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true).compactMap { line in
            let l = line.last == UInt8(ascii: "\r") ? line.dropLast() : line
            return l.isEmpty ? nil : Array(l)
        }
    }

    /// The paths of a `--files-from-raw` file: separated by NUL bytes, empty ones skipped.
    public static func rawPaths(_ file: [UInt8]) -> [[UInt8]] {
        file.split(separator: 0, omittingEmptySubsequences: true).map(Array.init)
    }

    /// The patterns of a `--files-from` file: one per line, spaces around it trimmed, blank lines
    /// and lines starting with `#` skipped (``PatternSet/lines(of:)``).
    public static func patternLines(_ file: [UInt8]) -> [[UInt8]] {
        PatternSet.lines(of: file)
    }

    /// The paths matching a shell pattern (`*`, `?`, `[…]`, `\`), sorted by bytes, as glob(3)
    /// finds them; a pattern without wildcards gives itself when it exists. Empty when nothing matches.
    public static func expand(_ pattern: [UInt8]) -> [[UInt8]] {
        var g = glob_t()
        defer { globfree(&g) }
        let rc = pattern.withNulTerminated { glob($0, 0, nil, &g) }
        guard rc == 0 else { return [] }
        var out: [[UInt8]] = []
        for i in 0..<Int(g.gl_pathc) {
            guard let p = g.gl_pathv[i] else { continue }
            out.append(Array(UnsafeBufferPointer(start: UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), count: strlen(p))))
        }
        return out
    }
}
