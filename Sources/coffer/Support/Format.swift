import CofferCore
import Foundation

/// Writing to the standard streams.
enum Console {
    /// Writes `text` and a newline to stdout. Text printed for people goes through
    /// ``TerminalText``: a file or member name holding ESC, BEL or a CSI sequence prints as
    /// `\x1b`, `\x07`, `\xc2\x9b` and can neither move the cursor nor recolour the terminal.
    /// The line breaks of multi-line text (tables) are kept; names are escaped where they are
    /// put into the text (``Console/name(_:)``), so a newline inside a name prints as `\x0a`.
    static func out(_ text: String) {
        writeAll(1, Array((escapeLines(text) + "\n").utf8))
    }

    /// Writes a JSON document to stdout. The encoder escapes C0 controls itself; DEL and the C1
    /// controls (U+0080–U+009F, which some terminals obey: U+009B is CSI) are written as `\u007f`
    /// … `\u009f` too, which is the same JSON string, so the document stays exact.
    static func outJSON(_ text: String, newline: Bool = true) {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 1)
        var bytes = text.utf8.makeIterator()
        func escaped(_ v: UInt8) -> [UInt8] { Array(("\\u00" + (v < 0x10 ? "0" : "") + String(v, radix: 16)).utf8) }
        while let b = bytes.next() {
            if b == 0x7F {
                out += escaped(b)
            } else if b == 0xC2, let next = bytes.next() {
                if (0x80...0x9F).contains(next) { out += escaped(next) } else { out += [b, next] }
            } else {
                out.append(b)
            }
        }
        if newline { out.append(0x0A) }
        writeAll(1, out)
    }

    /// Writes a message to stderr, escaped like ``out(_:)``.
    static func err(_ text: String) {
        writeAll(2, Array((escapeLines(text) + "\n").utf8))
    }

    /// Prints a warning line on stderr: `coffer: warning: <text>`, one line whatever it holds.
    static func warn(_ text: String) {
        err("coffer: warning: " + name(text))
    }

    /// A name (path, member name, link target, tag) to put into human output: every control
    /// character, newlines included, and every byte that is not UTF-8 escaped.
    static func name(_ s: String) -> String { TerminalText.escape(s) }

    /// Escapes each line of `text`, keeping its line breaks.
    static func escapeLines(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 < 0x20 && $0 != 0x0A || $0 >= 0x7F }) else { return text }
        return text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).map { TerminalText.escape(bytes: $0) }
            .joined(separator: "\n")
    }

    /// Writes bytes to a file descriptor, retrying short writes.
    /// - Throws: ``CofferError/diskFull(path:)`` or ``CofferError/io(path:operation:errno:)``.
    static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, name: String) throws {
        guard let base = bytes.baseAddress else { return }
        var off = 0
        while off < bytes.count {
            let n = Glibc.write(fd, base + off, bytes.count - off)
            if n < 0 {
                if errno == EINTR { continue }
                let e = errno
                if e == ENOSPC || e == EDQUOT { throw CofferError.diskFull(path: name) }
                throw CofferError.io(path: name, operation: "write", errno: e)
            }
            off += n
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { _ = try? write(fd, $0, name: fd == 1 ? "standard output" : "standard error") }
    }

    /// Whether both stdout and stderr are terminals.
    static var isInteractive: Bool { isatty(1) == 1 && isatty(2) == 1 }

    /// Columns of the terminal on stderr, or 80.
    static var columns: Int {
        var w = winsize()
        if ioctl(2, UInt(TIOCGWINSZ), &w) == 0, w.ws_col > 0 { return Int(w.ws_col) }
        return 80
    }
}

/// Human-readable numbers, sizes, times and tables.
enum Format {
    /// A byte count in decimal units: `512 B`, `3.2 kB`, `14 MB`, `1.1 GB`.
    static func bytes(_ n: UInt64) -> String {
        if n < 1000 { return "\(n) B" }
        let units = ["kB", "MB", "GB", "TB", "PB"]
        var v = Double(n) / 1000
        var i = 0
        while v >= 999.95 && i < units.count - 1 { v /= 1000; i += 1 }
        return v < 99.95 ? String(format: "%.1f %@", v, units[i]) : String(format: "%.0f %@", v, units[i])
    }

    /// A duration: `0.4 s`, `12 s`, `3 min 20 s`, `1 h 05 min`.
    static func duration(_ t: TimeInterval) -> String {
        if t < 10 { return String(format: "%.1f s", max(0, t)) }
        let s = Int(t.rounded())
        if s < 60 { return "\(s) s" }
        if s < 3600 { return "\(s / 60) min \(String(format: "%02d", s % 60)) s" }
        return "\(s / 3600) h \(String(format: "%02d", s % 3600 / 60)) min"
    }

    /// An age: `just now`, `5 hours`, `3 days`, `2 weeks`, `4 months`, `2 years`.
    static func age(_ t: TimeInterval) -> String {
        func plural(_ n: Int, _ unit: String) -> String { "\(n) \(unit)\(n == 1 ? "" : "s")" }
        let hours = t / 3600
        if hours < 1 { return "just now" }
        if hours < 48 { return plural(Int(hours), "hour") }
        let days = hours / 24
        if days < 14 { return plural(Int(days), "day") }
        if days < 61 { return plural(Int(days / 7), "week") }
        if days < 730 { return plural(Int(days / 30.44), "month") }
        return plural(Int(days / 365.25), "year")
    }

    /// `2026-03-01T12:00:00Z`.
    static func iso8601(_ date: Date) -> String {
        if let t = UTCFields(date) { return t.text(dateTimeSeparator: "T", seconds: true) + "Z" }
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    /// `2026-03-01 12:00` in UTC (the zone the `NAME@YYYY-MM-DD` selector uses).
    static func dateTime(_ date: Date) -> String {
        if let t = UTCFields(date) { return t.text(dateTimeSeparator: " ", seconds: false) }
        return utc("yyyy-MM-dd HH:mm").string(from: date)
    }

    /// `2026-03-01` in UTC.
    static func day(_ date: Date) -> String {
        if let t = UTCFields(date) { return t.day }
        return utc("yyyy-MM-dd").string(from: date)
    }

    /// A time's UTC calendar fields from `gmtime_r`, for the times `ls` and `diff` print once per
    /// entry: a date formatter costs tens of microseconds to make (most of a million-row `ls`).
    /// Only years 1583 to 9999, where the formatters' calendar is the proleptic Gregorian one
    /// `gmtime_r` uses and a year has four digits; other times take the formatters.
    private struct UTCFields {
        var year, month, dayOfMonth, hour, minute, second: Int

        init?(_ date: Date) {
            let t = date.timeIntervalSince1970.rounded(.down)
            guard t.isFinite, t > -12_000_000_000, t < 253_402_300_800 else { return nil }
            var seconds = time_t(t)
            var tm = tm()
            guard gmtime_r(&seconds, &tm) != nil else { return nil }
            year = Int(tm.tm_year) + 1900
            guard (1583...9999).contains(year) else { return nil }
            month = Int(tm.tm_mon) + 1
            dayOfMonth = Int(tm.tm_mday)
            hour = Int(tm.tm_hour)
            minute = Int(tm.tm_min)
            second = Int(tm.tm_sec)
        }

        private static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }

        var day: String { "\(year)-\(Self.two(month))-\(Self.two(dayOfMonth))" }

        func text(dateTimeSeparator: String, seconds: Bool) -> String {
            day + dateTimeSeparator + Self.two(hour) + ":" + Self.two(minute) + (seconds ? ":" + Self.two(second) : "")
        }
    }

    private static func utc(_ pattern: String) -> DateFormatter {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = pattern
        return f
    }

    /// `major:minor` of a Linux device number.
    static func device(_ rdev: UInt64) -> String {
        let major = ((rdev >> 8) & 0xFFF) | ((rdev >> 32) & ~UInt64(0xFFF))
        let minor = (rdev & 0xFF) | ((rdev >> 12) & ~UInt64(0xFF))
        return "\(major):\(minor)"
    }

    /// `rwxr-xr-x` for a mode, prefixed by the entry type (`d`, `-`, `l`, `z` archive, `p` named
    /// pipe, `c`/`b` device, `h` hard link).
    static func mode(_ mode: UInt32, type: EntryType) -> String {
        let t: Character
        switch type {
        case .directory: t = "d"
        case .symlink: t = "l"
        case .archive: t = "z"
        case .fifo: t = "p"
        case .charDevice: t = "c"
        case .blockDevice: t = "b"
        case .hardlink: t = "h"
        case .file: t = "-"
        }
        var s = String(t)
        let bits: [(UInt32, Character)] = [
            (0o400, "r"), (0o200, "w"), (0o100, "x"), (0o040, "r"), (0o020, "w"), (0o010, "x"), (0o004, "r"), (0o002, "w"), (0o001, "x"),
        ]
        for (bit, ch) in bits { s.append(mode & bit != 0 ? ch : "-") }
        return s
    }

    /// Lays out rows in columns separated by two spaces; `rightAligned` holds column indexes.
    static func table(_ header: [String], _ rows: [[String]], rightAligned: Set<Int> = []) -> String {
        let all = [header] + rows
        let widths = header.indices.map { c in all.map { $0.indices.contains(c) ? $0[c].count : 0 }.max() ?? 0 }
        return all.map { row in
            row.indices.map { c -> String in
                let cell = row[c]
                let pad = String(repeating: " ", count: max(0, widths[c] - cell.count))
                if rightAligned.contains(c) { return pad + cell }
                return c == row.count - 1 ? cell : cell + pad
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

/// JSON output: one document on stdout, keys sorted, pretty-printed.
enum JSONOutput {
    static func print<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        Console.outJSON(String(decoding: data, as: UTF8.self))
    }
}

/// A version as `list --json` and `seal --json` show it (snake_case keys).
struct VersionJSON: Encodable {
    var id: String
    var shortID: String
    var name: String
    var time: String
    var host: String
    var tags: [String]
    var paths: [String]
    var files: UInt64
    var dirs: UInt64
    var symlinks: UInt64
    var bytes: UInt64
    var bytesRead: UInt64
    var addedBytes: UInt64
    var addedChunks: UInt64
    var addedPlainBytes: UInt64
    var addedTreePieces: UInt64
    var addedTreePlainBytes: UInt64
    var unchangedFiles: UInt64
    var parent: String?
    var notes: [String]
    /// The paths exactly, base64, when one of them is not UTF-8 (`paths` shows U+FFFD then).
    var pathBytes: [String]?

    enum CodingKeys: String, CodingKey {
        case id, name, time, host, tags, paths, files, dirs, symlinks, bytes, parent, notes
        case pathBytes = "path_bytes"
        case shortID = "short_id"
        case bytesRead = "bytes_read"
        case addedBytes = "added_bytes"
        case addedChunks = "added_chunks"
        case addedPlainBytes = "added_plain_bytes"
        case addedTreePieces = "added_tree_pieces"
        case addedTreePlainBytes = "added_tree_plain_bytes"
        case unchangedFiles = "unchanged_files"
    }

    init(id: ObjectID, version v: Version) {
        self.id = id.hex
        shortID = id.short
        name = v.name
        time = Format.iso8601(v.time)
        host = v.host
        tags = v.tags
        paths = v.paths
        files = v.stats.files
        dirs = v.stats.directories
        symlinks = v.stats.symlinks
        bytes = v.stats.bytes
        bytesRead = v.stats.bytesRead
        addedBytes = v.stats.addedBytes
        addedChunks = v.stats.addedChunks
        addedPlainBytes = v.stats.addedPlainBytes
        addedTreePieces = v.stats.addedTreePieces
        addedTreePlainBytes = v.stats.addedTreePlainBytes
        unchangedFiles = v.stats.unchangedFiles
        parent = v.parent?.hex
        notes = v.notes
        let raw = v.pathBytes
        if raw.contains(where: { String(validating: $0, as: UTF8.self) == nil }) { pathBytes = raw.map { Data($0).base64EncodedString() } }
    }
}

extension Array where Element == String {
    /// `a, b and 3 more`.
    func summarized(limit: Int = 3) -> String {
        if count <= limit { return joined(separator: ", ") }
        return prefix(limit).joined(separator: ", ") + " and \(count - limit) more"
    }
}
