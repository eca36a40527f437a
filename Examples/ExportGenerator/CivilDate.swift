// CivilDate.swift: calendar arithmetic and every date format LinkedIn uses.
//
// Plain proleptic Gregorian arithmetic on UTC (Howard Hinnant's days-from-civil), with no
// Foundation `Calendar` or `DateFormatter`: their output depends on the locale and ICU
// data, and these files must come out byte-identical everywhere.

/// A calendar day.
public struct CivilDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// A date from valid fields (not checked; use `init?(iso:)` for input).
    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD`, rejecting impossible dates such as `2025-02-30`.
    public init?(iso text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        let candidate = CivilDate(year: year, month: month, day: day)
        guard CivilDate(dayNumber: candidate.dayNumber) == candidate else { return nil }
        self = candidate
    }

    /// Days since 1970-01-01.
    public var dayNumber: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let shiftedMonth = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `dayNumber` days after 1970-01-01.
    public init(dayNumber: Int) {
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        self.init(year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month: month, day: day)
    }

    /// The date `days` later (earlier when negative).
    public func adding(days: Int) -> CivilDate {
        CivilDate(dayNumber: dayNumber + days)
    }

    /// `YYYY-MM-DD`.
    public var description: String {
        "\(year)-\(Format.pad2(month))-\(Format.pad2(day))"
    }

    /// Midnight UTC of this day.
    public var startMoment: Moment {
        Moment(seconds: Int64(dayNumber) * 86_400)
    }

    public static func < (lhs: CivilDate, rhs: CivilDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }
}

/// An instant, in whole seconds since 1970-01-01T00:00:00Z.
public struct Moment: Hashable, Comparable, Sendable {
    public let seconds: Int64

    public init(seconds: Int64) {
        self.seconds = seconds
    }

    /// The UTC calendar day.
    public var date: CivilDate {
        CivilDate(dayNumber: Int(seconds.floorDivided(by: 86_400)))
    }

    /// Seconds since midnight UTC.
    var secondOfDay: Int { Int(seconds - Int64(date.dayNumber) * 86_400) }
    var hour: Int { secondOfDay / 3600 }
    var minute: Int { secondOfDay / 60 % 60 }
    var second: Int { secondOfDay % 60 }
    /// 0 = Sunday.
    var weekday: Int { ((date.dayNumber % 7) + 11) % 7 }

    func adding(seconds delta: Int64) -> Moment {
        Moment(seconds: seconds + delta)
    }

    public static func < (lhs: Moment, rhs: Moment) -> Bool {
        lhs.seconds < rhs.seconds
    }
}

extension Int64 {
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}

/// The date and number formats of the LinkedIn export files.
enum Format {
    static let shortMonths = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    static let longMonths = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
        "November", "December",
    ]
    static let shortWeekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]

    static func pad2(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// 12-hour clock parts: (hour 1–12, "AM"/"PM").
    private static func twelveHour(_ hour: Int) -> (Int, String) {
        let h = hour % 12 == 0 ? 12 : hour % 12
        return (h, hour < 12 ? "AM" : "PM")
    }

    /// Connections `Connected On`: `04 Jul 2023`.
    static func connectedOn(_ date: CivilDate) -> String {
        "\(pad2(date.day)) \(shortMonths[date.month - 1]) \(date.year)"
    }

    /// messages `DATE`: `2024-12-16 18:24:37 UTC`.
    static func messageDate(_ moment: Moment) -> String {
        let d = moment.date
        return "\(d.year)-\(pad2(d.month))-\(pad2(d.day)) \(pad2(moment.hour)):\(pad2(moment.minute)):\(pad2(moment.second)) UTC"
    }

    /// US short, unpadded: `12/15/24, 7:47 AM` (Invitations, Registration, Email Addresses, Saved Jobs).
    static func usShort(_ moment: Moment) -> String {
        let d = moment.date
        let (h, ampm) = twelveHour(moment.hour)
        return "\(d.month)/\(d.day)/\(pad2(d.year % 100)), \(h):\(pad2(moment.minute)) \(ampm)"
    }

    /// US short, zero-padded: `09/19/24, 12:47 AM` (Recommendations).
    static func usShortPadded(_ moment: Moment) -> String {
        let d = moment.date
        let (h, ampm) = twelveHour(moment.hour)
        return "\(pad2(d.month))/\(pad2(d.day))/\(pad2(d.year % 100)), \(pad2(h)):\(pad2(moment.minute)) \(ampm)"
    }

    /// Endorsements: `2024/12/15 08:53:43 UTC`.
    static func slashUTC(_ moment: Moment) -> String {
        let d = moment.date
        return "\(d.year)/\(pad2(d.month))/\(pad2(d.day)) \(pad2(moment.hour)):\(pad2(moment.minute)):\(pad2(moment.second)) UTC"
    }

    /// Company Follows: Java `Date.toString()`, `Sat Dec 14 08:57:55 UTC 2024`.
    static func javaDate(_ moment: Moment) -> String {
        let d = moment.date
        return "\(shortWeekdays[moment.weekday]) \(shortMonths[d.month - 1]) \(pad2(d.day)) "
            + "\(pad2(moment.hour)):\(pad2(moment.minute)):\(pad2(moment.second)) UTC \(d.year)"
    }

    /// Rich_Media `Date/Time`: `You uploaded a video on November 12, 2024 at 2:56 AM (GMT)`.
    static func richMedia(_ moment: Moment, kind: String) -> String {
        let d = moment.date
        let (h, ampm) = twelveHour(moment.hour)
        return "You uploaded \(kind) on \(longMonths[d.month - 1]) \(d.day), \(d.year) at \(h):\(pad2(moment.minute)) \(ampm) (GMT)"
    }

    /// Learning: `2021-12-20 18:09 UTC`.
    static func learning(_ moment: Moment) -> String {
        let d = moment.date
        return "\(d.year)-\(pad2(d.month))-\(pad2(d.day)) \(pad2(moment.hour)):\(pad2(moment.minute)) UTC"
    }

    /// Positions, Projects, Certifications: `Mar 2019`.
    static func monthYear(_ date: CivilDate) -> String {
        "\(shortMonths[date.month - 1]) \(date.year)"
    }

    /// Events `Event Time` halves: `Sep 23, 2022 12:00 PM`.
    static func eventTime(_ moment: Moment) -> String {
        let d = moment.date
        let (h, ampm) = twelveHour(moment.hour)
        return "\(shortMonths[d.month - 1]) \(pad2(d.day)), \(d.year) \(pad2(h)):\(pad2(moment.minute)) \(ampm)"
    }

    /// Profile `Birth Date`: `Mar 31`.
    static func birthDate(month: Int, day: Int) -> String {
        "\(shortMonths[month - 1]) \(day)"
    }

    /// Archive name date: `MM-DD-YYYY`.
    static func archiveDate(_ date: CivilDate) -> String {
        "\(pad2(date.month))-\(pad2(date.day))-\(date.year)"
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
