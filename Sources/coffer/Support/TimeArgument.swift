import Foundation

/// A time given on the command line (`seal --time`).
///
/// Accepted forms:
/// - `2026-12-06`: midnight UTC of that day (the day `NAME@2026-12-06` selects);
/// - `2026-12-06 10:00`, `2026-12-06T10:00`, `2026-12-06 10:00:30`, `2026-12-06T10:00:30`
///   (seconds optional, fractions of a second allowed after them): local time (`TZ`);
/// - the same followed by an offset, `Z`, `+01:00`, `-0500` or `+01`: that offset.
enum TimeArgument {
    /// The forms, for error messages.
    static let forms = "2026-12-06 (UTC), 2026-12-06 10:00, 2026-12-06T10:00:00 (local time), or with an offset: 2026-12-06T10:00Z, 2026-12-06 10:00+01:00"

    static func parse(_ text: String) -> Date? {
        var s = Substring(text.trimmingCharacters(in: .whitespaces))
        func number(_ digits: Int) -> Int? {
            guard s.count >= digits else { return nil }
            let part = s.prefix(digits)
            guard part.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            s = s.dropFirst(digits)
            return Int(part)
        }
        func take(_ c: Character) -> Bool {
            guard s.first == c else { return false }
            s = s.dropFirst()
            return true
        }
        guard let year = number(4), take("-"), let month = number(2), take("-"), let day = number(2) else { return nil }
        var c = DateComponents(year: year, month: month, day: day, hour: 0, minute: 0, second: 0)
        var zone = TimeZone(identifier: "UTC")!
        var nanoseconds = 0
        if !s.isEmpty {
            guard take("T") || take("t") || take(" "), let hour = number(2), take(":"), let minute = number(2) else { return nil }
            c.hour = hour
            c.minute = minute
            if take(":") {
                guard let second = number(2) else { return nil }
                c.second = second
                if take(".") || take(",") {
                    let digits = s.prefix { $0.isASCII && $0.isNumber }
                    guard !digits.isEmpty, digits.count <= 9 else { return nil }
                    nanoseconds = Int(digits + String(repeating: "0", count: 9 - digits.count)) ?? 0
                    s = s.dropFirst(digits.count)
                }
            }
            zone = TimeZone.current
            if take("Z") || take("z") {
                zone = TimeZone(identifier: "UTC")!
            } else if let sign = s.first, sign == "+" || sign == "-" {
                s = s.dropFirst()
                guard let h = number(2), h <= 23 else { return nil }
                var m = 0
                if take(":") {
                    guard let mm = number(2) else { return nil }
                    m = mm
                } else if !s.isEmpty {
                    guard let mm = number(2) else { return nil }
                    m = mm
                }
                guard m < 60, let offset = TimeZone(secondsFromGMT: (sign == "-" ? -1 : 1) * (h * 3600 + m * 60)) else { return nil }
                zone = offset
            }
            guard s.isEmpty else { return nil }
        }
        guard (1...12).contains(month), (1...31).contains(day), (0...23).contains(c.hour!), (0...59).contains(c.minute!),
              (0...59).contains(c.second!)
        else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        guard let date = calendar.date(from: c) else { return nil }
        // 2026-02-30 rolls over into March: refuse it.
        let back = calendar.dateComponents([.year, .month, .day], from: date)
        guard back.year == year, back.month == month, back.day == day else { return nil }
        return date.addingTimeInterval(Double(nanoseconds) / 1e9)
    }
}
