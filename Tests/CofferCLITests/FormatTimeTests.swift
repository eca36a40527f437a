@testable import coffer
import Foundation
import Testing

/// `Format.dateTime`, `day` and `iso8601` print most times without a date formatter (`ls` prints
/// one per entry); their text must be the formatters' own, and times outside the direct path
/// still print.
@Suite("Time formats")
struct FormatTimeTests {
    private static func formatter(_ pattern: String) -> DateFormatter {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = pattern
        return f
    }

    private static var times: [Double] {
        var out: [Double] = [
            0, -0.5, -1, 59.999, 86_399, 86_400, 951_782_400 /* 2000-02-29 */, 1_709_164_800 /* 2024-02-29 */,
            -11_676_096_000 /* 1600-01-01 */, 253_402_300_799 /* 9999-12-31 23:59:59 */, 253_402_300_800, -12_219_292_800 /* 1582-10-15 */,
            -62_135_596_800 /* year 1 */, 1e15, -1e15, 4_102_444_800.75,
        ]
        var s: UInt64 = 12345
        for _ in 0..<2000 {
            s = s &* 6364136223846793005 &+ 1442695040888963407
            out.append(Double(Int64(bitPattern: s >> 1) % 260_000_000_000) - 12_000_000_000 + Double(s & 0xFF) / 256)
        }
        return out
    }

    @Test func directTextMatchesTheFormatters() {
        let dateTime = Self.formatter("yyyy-MM-dd HH:mm"), day = Self.formatter("yyyy-MM-dd")
        let iso = ISO8601DateFormatter()
        iso.timeZone = TimeZone(identifier: "UTC")
        iso.formatOptions = [.withInternetDateTime]
        var mismatches: [String] = []
        for t in Self.times {
            let d = Date(timeIntervalSince1970: t)
            if Format.dateTime(d) != dateTime.string(from: d) { mismatches.append("dateTime \(t): \(Format.dateTime(d)) vs \(dateTime.string(from: d))") }
            if Format.day(d) != day.string(from: d) { mismatches.append("day \(t): \(Format.day(d)) vs \(day.string(from: d))") }
            if Format.iso8601(d) != iso.string(from: d) { mismatches.append("iso8601 \(t): \(Format.iso8601(d)) vs \(iso.string(from: d))") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
        #expect(Format.dateTime(Date(timeIntervalSince1970: 1_709_208_000)) == "2024-02-29 12:00")
        #expect(Format.iso8601(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59Z")
    }
}
