// Formatting.swift: numbers, sizes, dates and ages as the pages show them (UTC, like the CLI).

import Foundation

enum Show {
    static func bytes(_ n: UInt64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB", "PB"]
        var value = Double(n)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(n) B" : String(format: value < 10 ? "%.1f" : "%.0f", value) + " " + units[unit]
    }

    /// `12,345`.
    static func count<T: BinaryInteger>(_ n: T) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    private static let utc = TimeZone(identifier: "UTC")!

    private static func components(_ d: Date) -> DateComponents {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = utc
        return cal.dateComponents([.year, .month, .day, .hour, .minute], from: d)
    }

    /// `2026-03-14`.
    static func day(_ d: Date) -> String {
        let c = components(d)
        return String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
    }

    /// `2026-03-14 09:30`.
    static func dateTime(_ d: Date) -> String {
        let c = components(d)
        return String(format: "%04d-%02d-%02d %02d:%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0)
    }

    /// `3 days`, `5 months`, `just now`.
    static func age(_ seconds: TimeInterval) -> String {
        let s = max(0, seconds)
        func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
        switch s {
        case ..<60: return "just now"
        case ..<3600: return plural(Int(s / 60), "minute")
        case ..<86400: return plural(Int(s / 3600), "hour")
        case ..<(86400 * 60): return plural(Int(s / 86400), "day")
        case ..<(86400 * 730): return plural(Int(s / (86400 * 30.44)), "month")
        default: return plural(Int(s / (86400 * 365.25)), "year")
        }
    }

    /// The moment `months` calendar months before `now` (UTC), as `status --remind-after` counts.
    static func monthsBefore(_ now: Date, months: Int) -> Date {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = utc
        return cal.date(byAdding: .month, value: -months, to: now) ?? now
    }
}
