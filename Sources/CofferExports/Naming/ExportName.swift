// ExportName.swift: the series and the date a platform puts in an export's file name.
//
// - LinkedIn: `Basic_LinkedInDataExport_MM-DD-YYYY.zip` and
//   `Complete_LinkedInDataExport_MM-DD-YYYY.zip`; the date is US month-day-year, month and day
//   one or two digits (`_7-12-2023`); the prefix in any letter case (`basic_linkedindataexport_…`),
//   the series always spelled `Basic_LinkedInDataExport` / `Complete_LinkedInDataExport`.
// - X (Twitter): `twitter-YYYY-MM-DD-<hex>.zip`: series `twitter`.
// - Google Takeout: `takeout-YYYYMMDDTHHMMSSZ-NNN.zip` (or `.tgz`), NNN the part; a newer
//   form `takeout-…Z-G-NNN.zip` carries an extra group number G. All parts of one export
//   share the timestamp, so they seal together as one version.
// - Facebook (the exact form is not confirmed; this follows the commonly reported
//   `facebook-<username>-<DD>_<MM>_<YYYY>-<random>.zip`): series `facebook-<username>`.
//   Instagram (only `instagram-<user>-YYYY-MM-DD/` has been seen): `instagram-<username>-YYYY-MM-DD`
//   with an optional `-<random>` suffix; series `instagram-<username>`.
// The same names without the extension (an unpacked export folder) parse too, and so do a
// browser's duplicate suffix (`… (1).zip`), a doubled extension (`….zip.zip`) and a duplicate
// suffix between two extensions (`….zip (1).zip`). Anything else is nil: the caller keeps its own
// base-name rule.

import CofferCore

/// The series, date and part an export's file or folder name carries.
///
/// ```swift
/// let name = ExportName.parse(fileName: "Basic_LinkedInDataExport_07-11-2023.zip")
/// name?.series      // "Basic_LinkedInDataExport"
/// name?.date        // 2023-07-11 00:00:00 UTC
/// ```
public struct ExportName: Sendable, Hashable {
    /// The platform whose naming rule matched.
    public enum Platform: String, Sendable, Hashable, CaseIterable {
        /// LinkedIn "Download your data".
        case linkedIn
        /// Google Takeout.
        case googleTakeout
        /// Facebook "Download your information".
        case facebook
        /// Instagram "Download your information".
        case instagram
        /// X (formerly Twitter) "Download an archive of your data".
        case x
    }

    /// A UTC date and time of day, validated (no 13th month, no 30 February).
    public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
        public let year: Int
        public let month: Int
        public let day: Int
        public let hour: Int
        public let minute: Int
        public let second: Int

        /// A timestamp, or nil when the fields do not name a real instant (UTC, years 1–9999).
        public init?(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
            guard RecordDate.dayNumber(year: year, month: month, day: day) != nil, (0...23).contains(hour),
                (0...59).contains(minute), (0...59).contains(second)
            else { return nil }
            (self.year, self.month, self.day) = (year, month, day)
            (self.hour, self.minute, self.second) = (hour, minute, second)
        }

        /// Seconds since 1970-01-01 00:00:00 UTC.
        public var secondsSince1970: Int64 {
            let days = RecordDate.dayNumber(year: year, month: month, day: day) ?? 0
            return Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        }

        /// `2024-03-15T10:15:30Z`.
        public var description: String {
            func pad(_ value: Int, _ width: Int) -> String {
                let text = String(value)
                return String(repeating: "0", count: max(0, width - text.count)) + text
            }
            return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))Z"
        }

        public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
            (lhs.year, lhs.month, lhs.day, lhs.hour, lhs.minute, lhs.second)
                < (rhs.year, rhs.month, rhs.day, rhs.hour, rhs.minute, rhs.second)
        }
    }

    /// The platform.
    public let platform: Platform
    /// The version series: `Basic_LinkedInDataExport`, `Complete_LinkedInDataExport`,
    /// `takeout`, `facebook-<username>`, `instagram-<username>`, `twitter`.
    public let series: String
    /// The export's date (UTC; midnight when the name has no time of day).
    public let date: Timestamp
    /// Whether the name carries a time of day (Takeout does; LinkedIn and Facebook do not).
    public let hasTimeOfDay: Bool
    /// The part number of a split export (Takeout `-001` → 1), or nil.
    public let part: Int?
    /// Takeout's extra group number (`takeout-…Z-3-001.zip` → 3), or nil.
    public let group: Int?
    /// A browser's duplicate-download number (`… (1).zip` → 1), or nil.
    public let copy: Int?
    /// Whether the name ended in an archive extension (`.zip`, `.tgz`, `.tar.gz`), rather
    /// than naming an unpacked folder.
    public let isArchive: Bool

    /// The series, date and part in `fileName`, or nil when no platform's rule matches.
    ///
    /// `fileName` is a file or folder name; a path is reduced to its last component.
    public static func parse(fileName: String) -> ExportName? {
        let name = Substring(Paths.lastComponent(fileName))
        guard !name.isEmpty, name != "/" else { return nil }

        // Extensions and duplicate suffixes, from the end: `x.zip`, `x.zip.zip`, `x (1).zip`,
        // `x.zip (1).zip`. The first extension found decides whether the name is an archive.
        var stem = name
        var extensionFound: String?
        var copy: Int?
        for _ in 0..<4 {
            var progressed = false
            for candidate in [".zip", ".tgz", ".tar.gz"] where stem.lowercased().hasSuffix(candidate) {
                if extensionFound != nil, extensionFound != candidate { break }
                stem = stem.dropLast(candidate.count)
                extensionFound = candidate
                progressed = true
                break
            }
            if copy == nil, let (rest, number) = browserDuplicate(stem) {
                stem = rest
                copy = number
                progressed = true
            }
            if !progressed { break }
        }
        let base = Template(platform: .linkedIn, copy: copy, isArchive: extensionFound != nil)
        let zipOrFolder = extensionFound == nil || extensionFound == ".zip"

        if zipOrFolder, let parsed = linkedIn(stem, base) { return parsed }
        if let parsed = takeout(stem, base) { return parsed }
        if zipOrFolder, let parsed = meta(stem, base) { return parsed }
        if zipOrFolder, let parsed = twitter(stem, base) { return parsed }
        return nil
    }

    // MARK: - Rules

    private struct Template {
        var platform: Platform
        var copy: Int?
        var isArchive: Bool

        func make(_ platform: Platform, series: String, date: Timestamp, time: Bool, part: Int? = nil, group: Int? = nil)
            -> ExportName
        {
            ExportName(
                platform: platform, series: series, date: date, hasTimeOfDay: time, part: part, group: group,
                copy: copy, isArchive: isArchive)
        }
    }

    /// `Basic_LinkedInDataExport_M-D-YYYY` or `Complete_…` (prefix in any case; month and day
    /// of one or two digits).
    private static func linkedIn(_ stem: Substring, _ base: Template) -> ExportName? {
        for series in ["Basic_LinkedInDataExport", "Complete_LinkedInDataExport"] {
            let prefix = series + "_"
            guard stem.utf8.count > prefix.utf8.count,
                stem.utf8.prefix(prefix.utf8.count).elementsEqual(prefix.utf8, by: { asciiLower($0) == asciiLower($1) })
            else { continue }
            let rest = Substring(stem.utf8.dropFirst(prefix.utf8.count))
            let fields = rest.split(separator: "-", omittingEmptySubsequences: false)
            guard fields.count == 3, let month = digits(fields[0], 1...2), let day = digits(fields[1], 1...2),
                let year = digits(fields[2], 4), let date = Timestamp(year: year, month: month, day: day)
            else { return nil }
            return base.make(.linkedIn, series: series, date: date, time: false)
        }
        return nil
    }

    /// `twitter-YYYY-MM-DD-<hex>` (the X archive; the suffix is hexadecimal, of any length).
    private static func twitter(_ stem: Substring, _ base: Template) -> ExportName? {
        let fields = stem.split(separator: "-", omittingEmptySubsequences: false)
        guard fields.count == 5, fields[0] == "twitter", let year = digits(fields[1], 4),
            let month = digits(fields[2], 2), let day = digits(fields[3], 2),
            !fields[4].isEmpty, fields[4].utf8.allSatisfy(isHexDigit),
            let stamp = Timestamp(year: year, month: month, day: day)
        else { return nil }
        return base.make(.x, series: "twitter", date: stamp, time: false)
    }

    /// `takeout-YYYYMMDDTHHMMSSZ[-G]-NNN` (or without the part).
    private static func takeout(_ stem: Substring, _ base: Template) -> ExportName? {
        guard stem.hasPrefix("takeout-") else { return nil }
        let fields = stem.dropFirst("takeout-".count).split(separator: "-", omittingEmptySubsequences: false)
        guard (1...3).contains(fields.count) else { return nil }
        let stamp = fields[0]
        guard stamp.count == 16, stamp.dropFirst(8).first == "T", stamp.last == "Z",
            let year = digits(stamp.prefix(4), 4), let month = digits(stamp.dropFirst(4).prefix(2), 2),
            let day = digits(stamp.dropFirst(6).prefix(2), 2), let hour = digits(stamp.dropFirst(9).prefix(2), 2),
            let minute = digits(stamp.dropFirst(11).prefix(2), 2), let second = digits(stamp.dropFirst(13).prefix(2), 2),
            let date = Timestamp(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        else { return nil }
        var part: Int?
        var group: Int?
        if fields.count >= 2 {
            guard let number = digits(fields[fields.count - 1], 3) else { return nil }
            part = number
        }
        if fields.count == 3 {
            guard let number = digits(fields[1], nil) else { return nil }
            group = number
        }
        return base.make(.googleTakeout, series: "takeout", date: date, time: true, part: part, group: group)
    }

    /// `facebook-<username>-DD_MM_YYYY-<random>` and `instagram-<username>-YYYY-MM-DD[-<random>]`.
    private static func meta(_ stem: Substring, _ base: Template) -> ExportName? {
        let fields = stem.split(separator: "-", omittingEmptySubsequences: false)
        guard fields.count >= 3, fields[1].allSatisfy(isUsernameCharacter), !fields[1].isEmpty else { return nil }
        switch fields[0] {
        case "facebook":
            guard fields.count == 4, fields[3].allSatisfy(isAlphanumeric), !fields[3].isEmpty else { return nil }
            let date = fields[2].split(separator: "_", omittingEmptySubsequences: false)
            guard date.count == 3, let day = digits(date[0], 2), let month = digits(date[1], 2),
                let year = digits(date[2], 4), let stamp = Timestamp(year: year, month: month, day: day)
            else { return nil }
            return base.make(.facebook, series: "facebook-\(fields[1])", date: stamp, time: false)
        case "instagram":
            guard fields.count == 5 || fields.count == 6, let year = digits(fields[2], 4), let month = digits(fields[3], 2),
                let day = digits(fields[4], 2), let stamp = Timestamp(year: year, month: month, day: day)
            else { return nil }
            if fields.count == 6 { guard !fields[5].isEmpty, fields[5].allSatisfy(isAlphanumeric) else { return nil } }
            return base.make(.instagram, series: "instagram-\(fields[1])", date: stamp, time: false)
        default:
            return nil
        }
    }

    // MARK: - Helpers

    /// ` (N)` or `(N)` at the end, as browsers add to a repeated download.
    private static func browserDuplicate(_ stem: Substring) -> (Substring, Int)? {
        guard stem.hasSuffix(")"), let open = stem.lastIndex(of: "(") else { return nil }
        let inside = stem[stem.index(after: open)..<stem.index(before: stem.endIndex)]
        guard let number = digits(inside, nil) else { return nil }
        var rest = stem[..<open]
        if rest.hasSuffix(" ") { rest = rest.dropLast() }
        return rest.isEmpty ? nil : (rest, number)
    }

    /// The value of `text` if it is all ASCII digits (exactly `width` of them when given).
    private static func digits(_ text: Substring, _ width: Int?) -> Int? {
        digits(text, width.map { $0...$0 } ?? 1...9)
    }

    /// The value of `text` if it is all ASCII digits, as many as `widths` allows.
    private static func digits(_ text: Substring, _ widths: ClosedRange<Int>) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 9, widths.contains(text.utf8.count),
            text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
        else { return nil }
        return Int(text)
    }

    private static func asciiLower(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66) || (byte >= 0x41 && byte <= 0x46)
    }

    private static func isUsernameCharacter(_ c: Character) -> Bool {
        isAlphanumeric(c) || c == "." || c == "_"
    }

    private static func isAlphanumeric(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber)
    }
}
