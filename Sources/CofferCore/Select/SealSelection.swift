import Foundation

/// What a format-2 seal leaves out of the folders it walks (restic's backup excludes).
///
/// Patterns are matched on the entry's absolute path on disk, as raw bytes; an excluded folder is
/// not entered. A given path itself is never excluded by its size or file system, only by patterns.
public struct SealSelection: Sendable {
    /// `--exclude` patterns (and those of `--exclude-file`), case-sensitive.
    public var exclude: PatternSet?
    /// `--iexclude` patterns (and those of `--iexclude-file`), ignoring case.
    public var iexclude: PatternSet?
    /// `--exclude-if-present NAME[:CONTENT]`: a folder holding a file `name` (whose content starts
    /// with `content`, when that is not empty) keeps only that file; its other entries are left out.
    public var markers: [Marker] = []
    /// `--exclude-larger-than`: files (not folders) larger than this many bytes are left out.
    public var largerThan: UInt64?
    /// `--one-file-system`: entries on another device than their given path are left out; a
    /// folder where another file system is mounted is kept, empty.
    public var oneFileSystem = false

    public struct Marker: Sendable, Equatable {
        public var name: [UInt8]
        public var content: [UInt8]
        public init(name: [UInt8], content: [UInt8] = []) {
            self.name = name
            self.content = content
        }

        /// `NAME[:CONTENT]`: the first `:` separates the name from the content.
        public init(argument: [UInt8]) throws {
            let colon = argument.firstIndex(of: UInt8(ascii: ":"))
            let n = Array(argument[..<(colon ?? argument.endIndex)])
            guard !n.isEmpty, !n.contains(UInt8(ascii: "/")), !n.contains(0), n != [0x2E], n != [0x2E, 0x2E] else {
                throw CofferError.invalidArgument("--exclude-if-present '\(TerminalText.escape(bytes: argument))': the name must be one file name")
            }
            self.init(name: n, content: colon.map { Array(argument[($0 + 1)...]) } ?? [])
        }

        /// `--exclude-caches`: a CACHEDIR.TAG beginning with the standard signature (bford.info/cachedir).
        public static let cacheDirectoryTag = Marker(
            name: Array("CACHEDIR.TAG".utf8), content: Array("Signature: 8a477f597d28d172789f06886806bc55".utf8))
    }

    public init() {}

    /// Whether anything is left out at all.
    public var isEmpty: Bool {
        (exclude?.isEmpty ?? true) && (iexclude?.isEmpty ?? true) && markers.isEmpty && largerThan == nil && !oneFileSystem
    }

    /// Whether the patterns exclude the entry at `absolute`.
    func excludesByPattern(_ absolute: [UInt8]) -> Bool {
        if let exclude, !exclude.isEmpty, exclude.matches(absolute) { return true }
        if let iexclude, !iexclude.isEmpty, iexclude.matches(absolute) { return true }
        return false
    }

    /// The marker present in the open folder `folder` (listed as `names`), whose content starts
    /// as required; nil when there is none. Every other name in the folder is then left out.
    func marker(in folder: Int32, names: [[UInt8]]) -> [UInt8]? {
        for marker in markers where names.contains(marker.name) {
            if marker.content.isEmpty || Self.starts(folder: folder, name: marker.name, with: marker.content) {
                return marker.name
            }
        }
        return nil
    }

    /// Whether the file `name` in `folder` begins with `prefix` (false when it cannot be read).
    static func starts(folder: Int32, name: [UInt8], with prefix: [UInt8]) -> Bool {
        let fd = name.withNulTerminated { openat(folder, $0, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK) }
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return false }
        var buf = [UInt8](repeating: 0, count: prefix.count)
        var got = 0
        while got < prefix.count {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, prefix.count - got) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            got += n
        }
        return got == prefix.count && buf == prefix
    }

    /// A size as restic writes it: a whole number of bytes, or with a suffix k/K, m/M, g/G or t/T
    /// (powers of 1024); nil when `text` is not one.
    public static func parseSize(_ text: String) -> UInt64? {
        var digits = Substring(text)
        var unit: UInt64 = 1
        if let last = digits.last, !last.isNumber {
            switch last {
            case "k", "K": unit = 1 << 10
            case "m", "M": unit = 1 << 20
            case "g", "G": unit = 1 << 30
            case "t", "T": unit = 1 << 40
            case "b", "B": unit = 1
            default: return nil
            }
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = UInt64(digits) else { return nil }
        let (r, overflow) = n.multipliedReportingOverflow(by: unit)
        return overflow ? nil : r
    }
}

/// Thrown by a seal that would store no file when ``SealOptions/allowEmpty`` is false; nothing
/// was committed.
public struct EmptySealError: Error, CustomStringConvertible, Sendable {
    /// Entries the selection left out.
    public var excluded: Int
    public var description: String {
        "nothing to seal: no file was selected\(excluded > 0 ? " (\(excluded) excluded)" : ""); no version was written (--allow-empty writes one anyway)"
    }
}
