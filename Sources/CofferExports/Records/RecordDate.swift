// RecordDate.swift: the date formats of export CSV columns, as comparable instants.
//
// LinkedIn writes dates differently in nearly every file. The record
// diff only needs to order them (Invitations.csv's rolling window), so every supported shape
// becomes seconds since 1970-01-01 in the time zone the text gives or, without one, as if UTC.

/// Parses the date shapes found in export CSV files into comparable instants.
public enum RecordDate {
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// Seconds since 1970-01-01 00:00 for `text`, or nil when it is not a date this knows.
    ///
    /// Shapes understood (an optional time `h:mm[:ss]` with optional `AM`/`PM` and `UTC` may
    /// follow the date in each):
    /// - US `M/D/YY, h:mm AM` and `MM/DD/YY, hh:mm AM` (Invitations `Sent At`), also with a
    ///   four-digit year; two-digit years are 2000–2099;
    /// - `YYYY-MM-DD HH:MM:SS UTC`, `YYYY/MM/DD HH:MM:SS UTC`, `YYYY-MM-DDTHH:MM:SSZ`;
    /// - `DD Mon YYYY` (Connections `Connected On`).
    /// Impossible dates (a 13th month, 30 February) give nil.
    public static func seconds(_ text: String) -> Int64? {
        // Tokens: runs of digits and runs of letters, with the separator before each.
        var numbers: [Int] = []
        var numberWidths: [Int] = []
        var separators: [Character] = []
        var words: [String] = []
        var current = ""
        var currentIsDigit = false
        var lastSeparator: Character = " "
        func flush() {
            guard !current.isEmpty else { return }
            if currentIsDigit {
                numbers.append(Int(current) ?? -1)
                numberWidths.append(current.count)
                separators.append(lastSeparator)
            } else {
                words.append(current.lowercased())
            }
            current = ""
        }
        for character in text {
            if character.isASCII, character.isNumber {
                if !currentIsDigit { flush() }
                currentIsDigit = true
                current.append(character)
            } else if character.isASCII, character.isLetter {
                if currentIsDigit { flush() }
                currentIsDigit = false
                current.append(character)
            } else {
                flush()
                lastSeparator = character
            }
        }
        flush()
        guard numbers.count >= 2, numbers.count <= 6 else { return nil }

        var year: Int, month: Int, day: Int
        var time: ArraySlice<Int>
        if numberWidths[0] == 4, numbers.count >= 3 {
            // YYYY-MM-DD or YYYY/MM/DD
            (year, month, day) = (numbers[0], numbers[1], numbers[2])
            time = numbers[3...]
        } else if numbers.count >= 3, separators[1] == "/", separators[2] == "/" {
            // M/D/YY or M/D/YYYY
            (month, day, year) = (numbers[0], numbers[1], numbers[2])
            if numberWidths[2] == 2 { year += 2000 } else if numberWidths[2] != 4 { return nil }
            time = numbers[3...]
        } else if let monthWord = words.first, let index = months.firstIndex(of: String(monthWord.prefix(3))),
            numberWidths.count >= 2, numberWidths[1] == 4
        {
            // DD Mon YYYY
            (day, month, year) = (numbers[0], index + 1, numbers[1])
            time = numbers[2...]
        } else {
            return nil
        }
        guard let days = dayNumber(year: year, month: month, day: day) else { return nil }
        var hour = time.first ?? 0
        let minute = time.dropFirst().first ?? 0
        let second = time.dropFirst(2).first ?? 0
        guard (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second) else { return nil }
        if words.contains("pm") {
            guard (1...12).contains(hour) else { return nil }
            if hour != 12 { hour += 12 }
        } else if words.contains("am") {
            guard (1...12).contains(hour) else { return nil }
            if hour == 12 { hour = 0 }
        }
        return Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    /// Days since 1970-01-01 of a valid Gregorian date, or nil for an impossible one.
    static func dayNumber(year: Int, month: Int, day: Int) -> Int? {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1,
            day <= daysInMonth(year: year, month: month)
        else { return nil }
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The number of days in `month` of `year` (Gregorian calendar).
    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
