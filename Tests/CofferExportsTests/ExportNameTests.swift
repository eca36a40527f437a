// ExportNameTests.swift: series, dates and parts from export file and folder names.

import Testing

@testable import CofferExports

/// One row of the naming table: a name and what it should parse to (nil: no rule matches).
struct NameCase: Sendable, CustomTestStringConvertible {
    let name: String
    let expected: Expected?

    struct Expected: Sendable {
        let platform: ExportName.Platform
        let series: String
        let date: [Int]  // y, m, d[, h, min, s]
        var part: Int? = nil
        var group: Int? = nil
        var copy: Int? = nil
        var isArchive = true
    }

    var testDescription: String { name }
}

@Suite("Export names")
struct ExportNameTests {
    static let cases: [NameCase] = [
        // LinkedIn: MM-DD-YYYY.
        NameCase(name: "Basic_LinkedInDataExport_07-11-2023.zip",
                 expected: .init(platform: .linkedIn, series: "Basic_LinkedInDataExport", date: [2023, 7, 11])),
        NameCase(name: "Complete_LinkedInDataExport_07-11-2023.zip",
                 expected: .init(platform: .linkedIn, series: "Complete_LinkedInDataExport", date: [2023, 7, 11])),
        NameCase(name: "Basic_LinkedInDataExport_07-11-2023 (1).zip",
                 expected: .init(platform: .linkedIn, series: "Basic_LinkedInDataExport", date: [2023, 7, 11], copy: 1)),
        NameCase(name: "Basic_LinkedInDataExport_04-17-2026(2).ZIP",
                 expected: .init(platform: .linkedIn, series: "Basic_LinkedInDataExport", date: [2026, 4, 17], copy: 2)),
        NameCase(name: "Complete_LinkedInDataExport_09-12-2022 (1)",
                 expected: .init(platform: .linkedIn, series: "Complete_LinkedInDataExport", date: [2022, 9, 12], copy: 1, isArchive: false)),
        NameCase(name: "Basic_LinkedInDataExport_02-29-2024",
                 expected: .init(platform: .linkedIn, series: "Basic_LinkedInDataExport", date: [2024, 2, 29], isArchive: false)),
        NameCase(name: "/home/me/Downloads/Basic_LinkedInDataExport_01-15-2025/",
                 expected: .init(platform: .linkedIn, series: "Basic_LinkedInDataExport", date: [2025, 1, 15], isArchive: false)),
        NameCase(name: "Basic_LinkedInDataExport_13-11-2023.zip", expected: nil),  // 13th month
        NameCase(name: "Basic_LinkedInDataExport_02-30-2023.zip", expected: nil),  // 30 February
        NameCase(name: "Basic_LinkedInDataExport_02-29-2023.zip", expected: nil),  // not a leap year
        NameCase(name: "Basic_LinkedInDataExport_00-10-2023.zip", expected: nil),
        NameCase(name: "Basic_LinkedInDataExport_7-11-2023.zip",
                 expected: .init(platform: .linkedIn, series: "Basic_LinkedInDataExport", date: [2023, 7, 11])),
        NameCase(name: "Basic_LinkedInDataExport_7-1-2023.zip",
                 expected: .init(platform: .linkedIn, series: "Basic_LinkedInDataExport", date: [2023, 7, 1])),
        NameCase(name: "Basic_LinkedInDataExport_07-11-2023.zip.zip",
                 expected: .init(platform: .linkedIn, series: "Basic_LinkedInDataExport", date: [2023, 7, 11])),
        NameCase(name: "Complete_LinkedInDataExport_11-06-2025.zip (1).zip",
                 expected: .init(platform: .linkedIn, series: "Complete_LinkedInDataExport", date: [2025, 11, 6], copy: 1)),
        NameCase(name: "Complete_LinkedInDataExport_11-06-2025.zip (2).zip",
                 expected: .init(platform: .linkedIn, series: "Complete_LinkedInDataExport", date: [2025, 11, 6], copy: 2)),
        NameCase(name: "basic_linkedindataexport_07-12-2023.zip",
                 expected: .init(platform: .linkedIn, series: "Basic_LinkedInDataExport", date: [2023, 7, 12])),
        NameCase(name: "Basic_LinkedInDataExport_123-11-2023.zip", expected: nil),
        NameCase(name: "Basic_LinkedInDataExport_07-11-2023.zip.tgz", expected: nil),
        NameCase(name: "Basic_LinkedInDataExport_07-11-2023.tgz", expected: nil),
        NameCase(name: "Basic_LinkedInDataExport_07-11-2023-extra.zip", expected: nil),
        NameCase(name: "Abhishek-Mathur-Complete_LinkedInDataExport_11-04-2018", expected: nil),
        NameCase(name: "Basic_LinkedInDataExport_2023-07-11.zip", expected: nil),

        // Google Takeout: parts share the timestamp.
        NameCase(name: "takeout-20240315T101530Z-001.zip",
                 expected: .init(platform: .googleTakeout, series: "takeout", date: [2024, 3, 15, 10, 15, 30], part: 1)),
        NameCase(name: "takeout-20250206T053943Z-016.zip",
                 expected: .init(platform: .googleTakeout, series: "takeout", date: [2025, 2, 6, 5, 39, 43], part: 16)),
        NameCase(name: "takeout-20250206T053943Z-3-001.zip",
                 expected: .init(platform: .googleTakeout, series: "takeout", date: [2025, 2, 6, 5, 39, 43], part: 1, group: 3)),
        NameCase(name: "takeout-20240315T101530Z-002.tgz",
                 expected: .init(platform: .googleTakeout, series: "takeout", date: [2024, 3, 15, 10, 15, 30], part: 2)),
        NameCase(name: "takeout-20240315T101530Z-001",
                 expected: .init(platform: .googleTakeout, series: "takeout", date: [2024, 3, 15, 10, 15, 30], part: 1, isArchive: false)),
        NameCase(name: "takeout-20240315T101530Z-001 (1).zip",
                 expected: .init(platform: .googleTakeout, series: "takeout", date: [2024, 3, 15, 10, 15, 30], part: 1, copy: 1)),
        NameCase(name: "takeout-20240315T101530Z.zip",
                 expected: .init(platform: .googleTakeout, series: "takeout", date: [2024, 3, 15, 10, 15, 30])),
        NameCase(name: "takeout-20240315T251530Z-001.zip", expected: nil),  // hour 25
        NameCase(name: "takeout-20240230T101530Z-001.zip", expected: nil),  // 30 February
        NameCase(name: "takeout-20240315T101530-001.zip", expected: nil),  // no Z
        NameCase(name: "takeout-20240315T101530Z-1.zip", expected: nil),  // part is three digits
        NameCase(name: "Takeout", expected: nil),

        // Facebook and Instagram (no confirmed pattern; see ExportName.swift).
        NameCase(name: "facebook-jane.doe92-15_03_2024-AbCd1234.zip",
                 expected: .init(platform: .facebook, series: "facebook-jane.doe92", date: [2024, 3, 15])),
        NameCase(name: "facebook-janedoe-01_12_2023-Xy9",
                 expected: .init(platform: .facebook, series: "facebook-janedoe", date: [2023, 12, 1], isArchive: false)),
        NameCase(name: "facebook-janedoe-31_02_2024-AbCd1234.zip", expected: nil),  // 31 February
        NameCase(name: "facebook-janedoe-15_13_2024-AbCd1234.zip", expected: nil),  // 13th month
        NameCase(name: "facebook-me-2026.zip", expected: nil),  // a name without a full date
        NameCase(name: "instagram-jane_doe-2026-01-01",
                 expected: .init(platform: .instagram, series: "instagram-jane_doe", date: [2026, 1, 1], isArchive: false)),
        NameCase(name: "instagram-jane_doe-2026-01-01-Qw12.zip",
                 expected: .init(platform: .instagram, series: "instagram-jane_doe", date: [2026, 1, 1])),

        // X (Twitter): twitter-YYYY-MM-DD-<hex>.
        NameCase(name: "twitter-2022-05-02-1a2b3c4d5e6f.zip",
                 expected: .init(platform: .x, series: "twitter", date: [2022, 5, 2])),
        NameCase(name: "twitter-2022-05-02-1a2b3c4d5e6f (1).zip",
                 expected: .init(platform: .x, series: "twitter", date: [2022, 5, 2], copy: 1)),
        NameCase(name: "twitter-2022-05-02-1a2b3c4d5e6f",
                 expected: .init(platform: .x, series: "twitter", date: [2022, 5, 2], isArchive: false)),
        NameCase(name: "twitter-2022-02-30-1a2b.zip", expected: nil),  // 30 February
        NameCase(name: "twitter-2022-05-02-xyz.zip", expected: nil),  // not hexadecimal
        NameCase(name: "facebook-jane.doe-02_05_2022-AbC1 (1).zip",
                 expected: .init(platform: .facebook, series: "facebook-jane.doe", date: [2022, 5, 2], copy: 1)),

        // Anything else.
        NameCase(name: "Connections.csv", expected: nil),
        NameCase(name: "backup.zip", expected: nil),
        NameCase(name: "", expected: nil),
        NameCase(name: "/", expected: nil),
    ]

    @Test("naming table", arguments: cases)
    func parse(_ item: NameCase) throws {
        let parsed = ExportName.parse(fileName: item.name)
        guard let expected = item.expected else {
            #expect(parsed == nil)
            return
        }
        let name = try #require(parsed)
        #expect(name.platform == expected.platform)
        #expect(name.series == expected.series)
        let date = expected.date + Array(repeating: 0, count: 6 - expected.date.count)
        #expect([name.date.year, name.date.month, name.date.day, name.date.hour, name.date.minute, name.date.second] == date)
        #expect(name.hasTimeOfDay == (expected.date.count == 6))
        #expect(name.part == expected.part)
        #expect(name.group == expected.group)
        #expect(name.copy == expected.copy)
        #expect(name.isArchive == expected.isArchive)
    }

    @Test("timestamps: validation, ordering, epoch seconds and text")
    func timestamps() throws {
        #expect(ExportName.Timestamp(year: 2023, month: 13, day: 1) == nil)
        #expect(ExportName.Timestamp(year: 2023, month: 2, day: 29) == nil)
        #expect(ExportName.Timestamp(year: 2000, month: 2, day: 29) != nil)
        #expect(ExportName.Timestamp(year: 1900, month: 2, day: 29) == nil)
        #expect(ExportName.Timestamp(year: 2024, month: 1, day: 1, hour: 24) == nil)
        let stamp = try #require(ExportName.Timestamp(year: 2024, month: 3, day: 15, hour: 10, minute: 15, second: 30))
        #expect(stamp.description == "2024-03-15T10:15:30Z")
        #expect(stamp.secondsSince1970 == 1_710_497_730)
        let earlier = try #require(ExportName.Timestamp(year: 2024, month: 3, day: 15, hour: 10, minute: 15, second: 29))
        #expect(earlier < stamp)
        // Parts of one Takeout export share series and date.
        let parts = ["takeout-20240315T101530Z-001.zip", "takeout-20240315T101530Z-002.zip"].compactMap(ExportName.parse)
        #expect(parts.count == 2 && parts[0].series == parts[1].series && parts[0].date == parts[1].date)
        #expect(parts.map(\.part) == [1, 2])
    }
}
