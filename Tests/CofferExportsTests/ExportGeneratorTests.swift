// ExportGeneratorTests.swift: the synthetic LinkedIn exports against the layout of
// real LinkedIn exports: bytes, headers, ordering, rates, change between months, zip layout.

import Foundation
import Testing

@testable import CofferExports
@testable import ExportGenerator

/// A small series (fast in debug builds), generated once per test that needs it.
func smallSeries(seed: UInt64 = 7, months: Int = 3, connections: Int = 600, messagesBytes: Int = 80_000) -> [LinkedInExport] {
    var config = GeneratorConfig(outputDirectory: "/nonexistent")
    config.seed = seed
    config.months = months
    config.connections = connections
    config.messagesBytes = messagesBytes
    let generator = LinkedInGenerator(config: config)
    return (0..<months).map { _ in generator.nextExport() }
}

/// The series most tests read: seed 7, 600 connections, about 80 KB of messages, 3 months.
/// Built once and shared (exports are immutable values).
let standardSeries = smallSeries()

func text(_ export: LinkedInExport, _ path: String) throws -> String {
    let member = try #require(export.member(path), "missing \(path)")
    return String(decoding: member.contents, as: UTF8.self)
}

/// Connections.csv records after the preamble and header.
func connectionRows(_ export: LinkedInExport) throws -> [[String]] {
    let body = String(try text(export, "Connections.csv").dropFirst(375))
    return parseCSV(body).dropFirst().map { $0.map(\.value) }
}

/// messages.csv records after the header.
func messageRows(_ export: LinkedInExport) throws -> [[String]] {
    parseCSV(try text(export, "messages.csv")).dropFirst().map { $0.map(\.value) }
}

/// Conversation ids in file order, one per block.
func conversationOrder(_ rows: [[String]]) -> [String] {
    var order: [String] = []
    for row in rows where order.last != row[0] { order.append(row[0]) }
    return order
}

/// `04 Jul 2023` as a comparable day number.
func connectedDay(_ text: String) -> Int? {
    let parts = text.split(separator: " ")
    guard parts.count == 3, let day = Int(parts[0]), let year = Int(parts[2]),
        let month = Format.shortMonths.firstIndex(of: String(parts[1]))
    else { return nil }
    return CivilDate(year: year, month: month + 1, day: day).dayNumber
}

@Suite("Export generator")
struct ExportGeneratorTests {
    /// The preamble, literally as real exports have it.
    static let preamble =
        "Notes:\n\"When exporting your connection data, you may notice that some of the email addresses are missing. You will only see email addresses for connections who have allowed their connections to see or download their email address using this setting https://www.linkedin.com/psettings/privacy/email. You can learn more here https://www.linkedin.com/help/linkedin/answer/261\"\n\n"

    /// Exact header lines of real exports, for an export dated 2025.
    static let headers: [String: String] = [
        "Connections.csv": "First Name,Last Name,URL,Email Address,Company,Position,Connected On",
        "Invitations.csv": "From,To,Sent At,Message,Direction,inviterProfileUrl,inviteeProfileUrl",
        "Profile.csv": "First Name,Last Name,Maiden Name,Address,Birth Date,Headline,Summary,Industry,Zip Code,Geo Location,Twitter Handles,Websites,Instant Messengers",
        "Profile Summary.csv": "Profile Summary",
        "Positions.csv": "Company Name,Title,Description,Location,Started On,Finished On",
        "Education.csv": "School Name,Start Date,End Date,Notes,Degree Name,Activities",
        "Skills.csv": "Name",
        "Languages.csv": "Name,Proficiency",
        "Certifications.csv": "Name,Url,Authority,Started On,Finished On,License Number",
        "Courses.csv": "Name,Number",
        "Projects.csv": "Title,Description,Url,Started On,Finished On",
        "Email Addresses.csv": "Email Address,Confirmed,Primary,Updated On",
        "PhoneNumbers.csv": "Extension,Number,Type",
        "Whatsapp Phone Numbers.csv": "Number,Extension,Is_WhatsApp_Number",
        "Registration.csv": "Registered At,Registration Ip,Subscription Types",
        "Endorsement_Given_Info.csv": "Endorsement Date,Skill Name,Endorsee First Name,Endorsee Last Name,Endorsee Public Url,Endorsement Status",
        "Endorsement_Received_Info.csv": "Endorsement Date,Skill Name,Endorser First Name,Endorser Last Name,Endorser Public Url,Endorsement Status",
        "Recommendations_Received.csv": "First Name,Last Name,Company,Job Title,Text,Creation Date,Status",
        "Company Follows.csv": "Organization,Followed On",
        "Events.csv": "Event Name,Event Time,Status,External Url",
        "Learning.csv": "Content Title,Content Description,Content Type,Content Last Watched Date (if viewed),Content Completed At (if completed),Content Saved,Notes taken on videos (if taken),",
        "Rich_Media.csv": "Date/Time,Media Description,Media Link",
        "Jobs/Saved Jobs.csv": "Saved Date,Job Url,Job Title,Company Name",
        "Jobs/Job Seeker Preferences.csv": "Locations,Industries,Company Employee Count,Preferred Job Types,Job Titles,Open To Recruiters,Dream Companies,Profile Shared With Job Poster,Job Title For Searching Fast Growing Companies,Introduction Statement,Phone Number,Job Seeker Activity Level,Preferred Start Time Range,Commute Preference Starting Address,Commute Preference Starting Time,Mode Of Transportation,Maximum Commute Duration,Open Candidate Visibility,Job Seeking Urgency Level",
        "Job Applicant Saved Screening Question Responses.csv": "Question,Answer",
        "messages.csv": "CONVERSATION ID,CONVERSATION TITLE,FROM,SENDER PROFILE URL,TO,RECIPIENT PROFILE URLS,DATE,SUBJECT,CONTENT,FOLDER,IS MESSAGE DRAFT,IS CONVERSATION DRAFT",
        "guide_messages.csv": "CONVERSATION ID,CONVERSATION TITLE,FROM,SENDER PROFILE URL,TO,RECIPIENT PROFILE URLS,DATE,SUBJECT,CONTENT,FOLDER",
        "learning_coach_messages.csv": "CONVERSATION ID,CONVERSATION TITLE,FROM,SENDER PROFILE URL,TO,RECIPIENT PROFILE URLS,DATE,SUBJECT,CONTENT,FOLDER",
        "Ad_Targeting.csv": "Member Age,Buyer Groups,Company Names,Company Names,Company Follower of,Company Names,Company Category,Company Size,Degrees,degreeClass,Member Schools,Company Growth Rate,Fields of Study,Company Connections,Function By Size,Job Functions,Member Gender,Graduation Year,Member Groups,Company Industries,Member Interests,Interface Locales,interfaceLocale,Member Traits,Profile Locations,Company Revenue,Job Seniorities,Member Skills,Job Titles,Job Titles,Job Titles,Years of Experience",
    ]

    /// The zip member order: the first five as observed in the real 2023 zip.
    static let memberOrder = [
        "Connections.csv", "Job Applicant Saved Screening Question Responses.csv", "Education.csv", "Rich_Media.csv",
        "Profile.csv", "Endorsement_Received_Info.csv", "Certifications.csv", "Languages.csv", "Invitations.csv",
        "Skills.csv", "Jobs/Saved Jobs.csv", "messages.csv", "Registration.csv", "Email Addresses.csv", "Positions.csv",
        "Company Follows.csv", "Learning.csv", "Ad_Targeting.csv", "PhoneNumbers.csv", "Endorsement_Given_Info.csv",
        "Profile Summary.csv", "Jobs/Job Seeker Preferences.csv", "Recommendations_Received.csv", "Events.csv",
        "Projects.csv", "Whatsapp Phone Numbers.csv", "guide_messages.csv", "learning_coach_messages.csv", "Courses.csv",
    ]

    @Test("Connections.csv starts with the exact 375-byte Notes: preamble")
    func preambleBytes() throws {
        let export = try #require(standardSeries.first)
        let bytes = try #require(export.member("Connections.csv")).contents
        #expect(Array(Self.preamble.utf8).count == 375)
        #expect(Array(bytes.prefix(375)) == Array(Self.preamble.utf8))
        #expect(TestSHA256.hex(Array(bytes.prefix(375))).hasPrefix("32d8ef7e1ba59f80"))
        #expect(bytes[375] == UInt8(ascii: "F"))
        #expect(bytes.first != 0xEF)  // no BOM
    }

    @Test("every member has exactly the reference header line")
    func headerLines() throws {
        let export = try #require(standardSeries.first)
        #expect(Set(export.members.map(\.path)) == Set(Self.headers.keys).union(["Courses.csv"]))
        for member in export.members {
            var body = String(decoding: member.contents, as: UTF8.self)
            if member.path == "Connections.csv" { body = String(body.dropFirst(375)) }
            let header = body.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)
            #expect(header == Self.headers[member.path], "\(member.path)")
        }
        // Header-only files are exactly the 113 bytes seen in real exports.
        #expect(try #require(export.member("guide_messages.csv")).contents.count == 113)
    }

    @Test("older and newer export dates switch the drifting headers")
    func schemaByDate() throws {
        for (date, messagesSuffix, invitations, richMedia) in [
            ("2023-07-11", "FOLDER", "inviterProfileUrn,inviteeProfileUrn", "Rich Media.csv"),
            ("2026-05-01", "FOLDER,ATTACHMENTS,IS MESSAGE DRAFT", "inviterProfileUrl,inviteeProfileUrl", "Rich_Media.csv"),
        ] {
            var config = GeneratorConfig(outputDirectory: "/nonexistent")
            config.connections = 100
            config.messagesBytes = 10_000
            config.start = try #require(CivilDate(iso: date))
            let export = LinkedInGenerator(config: config).nextExport()
            #expect(try text(export, "messages.csv").split(separator: "\n").first?.hasSuffix(messagesSuffix) == true)
            #expect(try text(export, "Invitations.csv").split(separator: "\n").first?.hasSuffix(invitations) == true)
            #expect(export.member(richMedia) != nil, "\(date)")
            #expect(export.members[3].path == richMedia)
        }
    }

    @Test("connections are strictly newest first, the newest a few days before the export")
    func connectionsNewestFirst() throws {
        for export in standardSeries {
            let days = try connectionRows(export).map { try #require(connectedDay($0[6]), "bad date \($0[6])") }
            #expect(zip(days, days.dropFirst()).allSatisfy { $0 >= $1 })
            let newest = try #require(days.first)
            #expect(export.date.dayNumber - newest <= 10)
        }
    }

    @Test("blank rows at 1–3% and e-mails at 0–4%, across seeds", arguments: [1, 2, 3, 4] as [UInt64])
    func rates(seed: UInt64) throws {
        for export in smallSeries(seed: seed, months: 2, connections: 1000, messagesBytes: 10_000) {
            let rows = try connectionRows(export)
            #expect(rows.allSatisfy { $0.count == 7 })
            let blank = rows.filter { $0[0..<6].allSatisfy(\.isEmpty) && !$0[6].isEmpty }.count
            let emails = rows.filter { !$0[3].isEmpty }.count
            let blankRate = Double(blank) / Double(rows.count)
            let emailRate = Double(emails) / Double(rows.count)
            #expect((0.01...0.03).contains(blankRate), "blank \(blankRate)")
            #expect((0.0...0.04).contains(emailRate), "e-mail \(emailRate)")
            // Visible rows always have a profile URL of the one real shape.
            for row in rows where !row[0].isEmpty {
                #expect(row[2].hasPrefix("https://www.linkedin.com/in/") && !row[2].hasSuffix("/") && !row[2].contains("?"))
            }
        }
    }

    @Test("between two months: rows added at the top, removed from the middle, changed in place")
    func monthToMonthChanges() throws {
        let series = standardSeries
        for (before, after) in zip(series, series.dropFirst()) {
            let old = try connectionRows(before).filter { !$0[2].isEmpty }
            let new = try connectionRows(after).filter { !$0[2].isEmpty }
            let oldByURL = Dictionary(old.map { ($0[2], $0) }, uniquingKeysWith: { first, _ in first })
            let newURLs = Set(new.map { $0[2] })
            // New connections (dated on or after the previous export) are the first rows. Rows of
            // members who un-hid their account reappear where they were, with an old date.
            let previousDay = before.date.dayNumber
            let added = new.filter { oldByURL[$0[2]] == nil && (connectedDay($0[6]) ?? 0) >= previousDay }
            #expect(!added.isEmpty)
            #expect(new.prefix(added.count).map { $0[2] } == added.map { $0[2] })
            let removedIndices = old.indices.filter { !newURLs.contains(old[$0][2]) }
            #expect(!removedIndices.isEmpty)
            #expect(removedIndices.allSatisfy { $0 > 0 && $0 < old.count - 1 }, "removed from the middle")
            let changed = new.filter { row in
                guard let previous = oldByURL[row[2]] else { return false }
                return previous[4] != row[4] || previous[5] != row[5]
            }
            #expect(changed.count >= 1, "job changes rewritten in place")
            // Rows that did not change keep their exact bytes and relative order.
            let kept = new.filter { oldByURL[$0[2]] != nil }.map { $0[2] }
            let keptBefore = old.map { $0[2] }.filter { newURLs.contains($0) }
            #expect(kept == keptBefore)
        }
    }

    @Test("--churn top: a later export is the earlier one's rows with new rows at the top")
    func topChurnOnlyAddsRows() throws {
        var config = GeneratorConfig(outputDirectory: "/nonexistent")
        config.seed = 7
        config.connections = 600
        config.messagesBytes = 80_000
        config.churn = .top
        let generator = LinkedInGenerator(config: config)
        let series = (0..<3).map { _ in generator.nextExport() }
        for (before, after) in zip(series, series.dropFirst()) {
            for path in ["Connections.csv", "messages.csv"] {
                let old = try #require(before.member(path)).contents
                let new = try #require(after.member(path)).contents
                // Connections.csv: preamble and header, then rows; messages.csv: header, then rows.
                let headerLines = 1 + (path == "Connections.csv" ? Schema.connectionsPreamble.utf8.filter { $0 == 0x0A }.count : 0)
                var headerEnd = 0
                for _ in 0..<headerLines { headerEnd = try #require(old[headerEnd...].firstIndex(of: 0x0A)) + 1 }
                #expect(new.starts(with: old[..<headerEnd]), "\(path): same header")
                #expect(new.count > old.count, "\(path): rows added")
                #expect(Array(new.suffix(old.count - headerEnd)) == Array(old[headerEnd...]), "\(path): earlier rows unchanged, at the end")
            }
        }
        // The default model is unchanged by the option's existence and differs from `top`.
        #expect(standardSeries[1].member("Connections.csv")?.contents != series[1].member("Connections.csv")?.contents)
    }

    @Test("messages: grouped by conversation, newest first, a new message moves its conversation to the top")
    func messagesOrder() throws {
        let series = standardSeries
        for export in series {
            let rows = try messageRows(export)
            let order = conversationOrder(rows)
            #expect(Set(order).count == order.count, "each conversation is one contiguous block")
            var latest: [String: String] = [:]
            for row in rows where latest[row[0]] == nil { latest[row[0]] = row[6] }
            for id in order {
                let dates = rows.filter { $0[0] == id }.map { $0[6] }
                #expect(dates == dates.sorted(by: >), "messages newest first inside a block")
            }
            let blockDates = order.compactMap { latest[$0] }
            #expect(blockDates == blockDates.sorted(by: >), "blocks ordered by their latest message")
            #expect(rows.allSatisfy { !$0[8].contains("\n") && !$0[8].contains("\r") }, "no newline in CONTENT")
            #expect(rows.allSatisfy { $0[6].hasSuffix(" UTC") && $0[6].count == 23 })
        }
        for (before, after) in zip(series, series.dropFirst()) {
            let oldRows = try messageRows(before)
            let newRows = try messageRows(after)
            let oldOrder = conversationOrder(oldRows)
            let newOrder = conversationOrder(newRows)
            let oldCounts = Dictionary(oldRows.map { ($0[0], 1) }, uniquingKeysWith: +)
            let newCounts = Dictionary(newRows.map { ($0[0], 1) }, uniquingKeysWith: +)
            let grown = newOrder.filter { (oldCounts[$0] ?? 0) > 0 && newCounts[$0, default: 0] > oldCounts[$0, default: 0] }
            #expect(!grown.isEmpty, "some old conversations got new messages")
            // Every conversation with a new message sits above every untouched one.
            let touched = Set(newOrder.filter { newCounts[$0, default: 0] != oldCounts[$0, default: 0] })
            let firstUntouched = newOrder.firstIndex { !touched.contains($0) } ?? newOrder.count
            #expect(newOrder.prefix(firstUntouched).count == touched.count)
            // At least one moved up from below the top of the previous file.
            #expect(grown.contains { (oldOrder.firstIndex(of: $0) ?? 0) > 0 })
        }
    }

    @Test("Invitations.csv is a rolling window of 7–10 months, mostly newest first")
    func invitationsWindow() throws {
        for export in smallSeries(months: 2, connections: 1500, messagesBytes: 10_000) {
            let rows = parseCSV(try text(export, "Invitations.csv")).dropFirst().map { $0.map(\.value) }
            #expect(rows.count > 20)
            let days: [Int] = rows.compactMap { row in
                // "M/D/YY, h:mm AM"
                let date = row[2].split(separator: ",").first.map(String.init) ?? ""
                let parts = date.split(separator: "/").compactMap { Int($0) }
                guard parts.count == 3 else { return nil }
                return CivilDate(year: 2000 + parts[2], month: parts[0], day: parts[1]).dayNumber
            }
            #expect(days.count == rows.count)
            let span = export.date.dayNumber - (days.min() ?? 0)
            #expect((200...305).contains(span), "window \(span) days")
            let inOrder = zip(days, days.dropFirst()).filter { $0 >= $1 }.count
            #expect(Double(inOrder) / Double(max(1, days.count - 1)) > 0.85)
            #expect(rows.allSatisfy { ["INCOMING", "OUTGOING"].contains($0[4]) })
        }
    }

    @Test("Rich_Media links are re-signed at every export")
    func richMediaChanges() throws {
        let series = standardSeries
        for (before, after) in zip(series, series.dropFirst()) {
            let old = try text(before, "Rich_Media.csv")
            let new = try text(after, "Rich_Media.csv")
            #expect(old != new)
            #expect(new.contains("&v=beta&t="))
        }
    }

    @Test("final newlines and minimal quoting as in the real files")
    func serialisation() throws {
        let series = Array(standardSeries.prefix(2))
        var sawCRLFInField = false
        for export in series {
            for member in export.members {
                let ends = member.contents.last == 0x0A
                let expected = !["Connections.csv", "Company Follows.csv", "Email Addresses.csv"].contains(member.path)
                #expect(ends == expected, "\(member.path)")
                var body = String(decoding: member.contents, as: UTF8.self)
                if member.path == "Connections.csv" { body = String(body.dropFirst(375)) }
                #expect(!body.hasPrefix("\u{FEFF}"))
                for record in parseCSV(body) {
                    for cell in record {
                        let needs = cell.value.contains(",") || cell.value.contains("\"") || cell.value.contains("\n")
                            || cell.value.contains("\r")
                        #expect(cell.quoted == needs, "\(member.path): \(cell.value.prefix(60))")
                        if cell.value.contains("\r\n") { sawCRLFInField = true }
                    }
                }
            }
            // Learning rows have eight fields, the last one empty (the header ends with a comma).
            let learning = parseCSV(try text(export, "Learning.csv"))
            #expect(learning.allSatisfy { $0.count == 8 && $0[7].value.isEmpty })
        }
        #expect(sawCRLFInField, "some Learning descriptions hold CRLF inside quotes")
        #expect(csvField("plain") == "plain")
        #expect(csvField("Founder, CEO") == "\"Founder, CEO\"")
        #expect(csvField("Chief \"Happiness\" Officer") == "\"Chief \"\"Happiness\"\" Officer\"")
        #expect(csvField("two\nlines") == "\"two\nlines\"")
    }

    @Test("date formats per file")
    func dateFormats() throws {
        let export = try #require(standardSeries.first)
        func firstField(_ path: String, _ column: Int) throws -> String {
            try #require(parseCSV(try text(export, path)).dropFirst().first?[column].value, "\(path)")
        }
        func matches(_ value: String, _ pattern: String) -> Bool {
            value.wholeMatch(of: try! Regex(pattern)) != nil
        }
        #expect(matches(try #require(try connectionRows(export).first?[6]), #"\d\d [A-Z][a-z]{2} \d{4}"#))
        #expect(matches(try firstField("messages.csv", 6), #"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"#))
        #expect(matches(try firstField("Invitations.csv", 2), #"\d{1,2}/\d{1,2}/\d\d, \d{1,2}:\d\d [AP]M"#))
        #expect(matches(try firstField("Endorsement_Received_Info.csv", 0), #"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d UTC"#))
        #expect(matches(try firstField("Company Follows.csv", 1), #"[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d UTC \d{4}"#))
        #expect(matches(try firstField("Rich_Media.csv", 0), #"You uploaded an? [a-z ]+ on [A-Z][a-z]+ \d{1,2}, \d{4} at \d{1,2}:\d\d [AP]M \(GMT\)"#))
        #expect(matches(try firstField("Learning.csv", 3), #"\d{4}-\d\d-\d\d \d\d:\d\d UTC"#))
        #expect(matches(try firstField("Positions.csv", 4), #"[A-Z][a-z]{2} \d{4}"#))
        #expect(matches(try firstField("Recommendations_Received.csv", 5), #"\d\d/\d\d/\d\d, \d\d:\d\d [AP]M"#))
        #expect(matches(try firstField("Profile.csv", 4), #"[A-Z][a-z]{2} \d{1,2}"#))
    }

    @Test("the same flags give byte-identical zips; another seed does not")
    func determinism() throws {
        let first = try smallSeries(seed: 42, months: 3, connections: 300, messagesBytes: 30_000).map { try $0.zipArchive() }
        let second = try smallSeries(seed: 42, months: 2, connections: 300, messagesBytes: 30_000).map { try $0.zipArchive() }
        // Same flags, same bytes; and asking for more months never changes the earlier ones.
        #expect(first.prefix(2).map(TestSHA256.hex) == second.map(TestSHA256.hex))
        let other = try smallSeries(seed: 43, months: 1, connections: 300, messagesBytes: 30_000).map { try $0.zipArchive() }
        #expect(first[0] != other[0])
        // Whole-archive bytes differ between months even where members repeat.
        #expect(first[0] != first[1])
    }

    @Test("zipped the LinkedIn way: name, member order, no folders, deflate with descriptors")
    func zipLayout() throws {
        let series = Array(standardSeries.prefix(2))
        let directory = try makeTemporaryDirectory("generator-zips")
        defer { removeTemporaryDirectory(directory) }
        var urls: [URL] = []
        for export in series {
            #expect(export.zipFileName.wholeMatch(of: /Basic_LinkedInDataExport_\d\d-\d\d-\d{4}\.zip/) != nil)
            #expect(export.members.map(\.path) == Self.memberOrder)
            let url = directory.appendingPathComponent(export.zipFileName)
            try Data(try export.zipArchive()).write(to: url)
            urls.append(url)
            // DOS times: the export date, spread over at most a few minutes, never decreasing.
            let stamps = export.members.map(\.dosTimestamp)
            #expect(stamps.allSatisfy { $0.year == export.date.year && $0.month == export.date.month && $0.day == export.date.day })
            #expect(stamps == stamps.sorted())
            let seconds = export.members.map(\.modified.seconds)
            #expect((seconds.last ?? 0) - (seconds.first ?? 0) <= 300)
        }
        let summaries = try pythonSummaries(of: urls)
        #expect(summaries.count == series.count)
        for (export, summary) in zip(series, summaries) {
            #expect(summary.bad == nil)
            #expect(summary.members.map(\.name) == Self.memberOrder)
            #expect(!summary.members.contains { $0.name.hasSuffix("/") })
            #expect(summary.members.allSatisfy { $0.flags == 0x0808 && $0.method == 8 && $0.extra.isEmpty })
            #expect(summary.members.allSatisfy { $0.made_by == 20 && $0.needed == 20 && $0.system == 0 })
            #expect(summary.members.map(\.sha) == export.members.map { TestSHA256.hex($0.contents) })
        }
        #expect(series[0].zipFileName == "Basic_LinkedInDataExport_01-15-2025.zip")
        #expect(series[1].zipFileName == "Basic_LinkedInDataExport_02-14-2025.zip")
    }

    @Test("write: zip and folder forms hold the same members")
    func writeBothForms() throws {
        let directory = try makeTemporaryDirectory("generator-write")
        defer { removeTemporaryDirectory(directory) }
        var config = GeneratorConfig(outputDirectory: directory.path)
        config.months = 2
        config.connections = 200
        config.messagesBytes = 20_000
        config.format = .both
        config.quiet = true
        try ExportGeneratorMain.run(config)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names == [
            "Basic_LinkedInDataExport_01-15-2025", "Basic_LinkedInDataExport_01-15-2025.zip",
            "Basic_LinkedInDataExport_02-14-2025", "Basic_LinkedInDataExport_02-14-2025.zip",
        ])
        let export = LinkedInGenerator(config: config).nextExport()
        for member in export.members {
            let url = directory.appendingPathComponent("Basic_LinkedInDataExport_01-15-2025").appendingPathComponent(member.path)
            #expect(try Data(contentsOf: url) == Data(member.contents), "\(member.path)")
        }
        let zipBytes = try Data(contentsOf: directory.appendingPathComponent("Basic_LinkedInDataExport_01-15-2025.zip"))
        #expect(zipBytes == Data(try export.zipArchive()))
    }

    @Test("command-line flags")
    func arguments() throws {
        guard case .generate(let defaults) = try Arguments.parse(["--out", "/tmp/x"]) else {
            Issue.record("expected a generate command")
            return
        }
        #expect(defaults.months == 12 && defaults.seed == 1 && defaults.connections == 3000)
        #expect(defaults.messagesBytes == 1_000_000 && defaults.intervalDays == 30 && defaults.format == .zip)
        #expect(defaults.start == CivilDate(year: 2025, month: 1, day: 15) && !defaults.quiet && defaults.churn == .full)
        guard case .generate(let custom) = try Arguments.parse([
            "--out", "o", "--months", "3", "--seed=9", "--connections", "500", "--messages-bytes", "1_000",
            "--start", "2024-02-29", "--interval-days", "7", "--format", "both", "--quiet", "--churn", "top",
        ]) else {
            Issue.record("expected a generate command")
            return
        }
        #expect(custom.months == 3 && custom.seed == 9 && custom.connections == 500 && custom.messagesBytes == 1000)
        #expect(custom.start == CivilDate(year: 2024, month: 2, day: 29) && custom.intervalDays == 7)
        #expect(custom.format == .both && custom.quiet && custom.outputDirectory == "o" && custom.churn == .top)
        #expect(try Arguments.parse(["--help"]) == .help)
        for bad in [[], ["--out"], ["--out", "o", "--months", "0"], ["--out", "o", "--start", "2025-02-30"],
                    ["--out", "o", "--format", "tar"], ["--out", "o", "--bogus"], ["--out", "o", "--seed", "-1"], ["--out", "o", "--churn", "some"]] {
            #expect(throws: GeneratorError.self, "\(bad)") { try Arguments.parse(bad) }
        }
    }

    @Test("calendar arithmetic and date formats")
    func calendar() {
        #expect(CivilDate(year: 1970, month: 1, day: 1).dayNumber == 0)
        #expect(CivilDate(dayNumber: 19_737) == CivilDate(year: 2024, month: 1, day: 15))
        #expect(CivilDate(iso: "2024-02-29") != nil && CivilDate(iso: "2023-02-29") == nil && CivilDate(iso: "2024-1-01") == nil)
        let moment = Moment(seconds: 1_734_336_277)  // 2024-12-16 08:04:37 UTC, a Monday
        #expect(Format.messageDate(moment) == "2024-12-16 08:04:37 UTC")
        #expect(Format.usShort(moment) == "12/16/24, 8:04 AM")
        #expect(Format.usShortPadded(moment) == "12/16/24, 08:04 AM")
        #expect(Format.slashUTC(moment) == "2024/12/16 08:04:37 UTC")
        #expect(Format.javaDate(moment) == "Mon Dec 16 08:04:37 UTC 2024")
        #expect(Format.richMedia(moment, kind: "a video") == "You uploaded a video on December 16, 2024 at 8:04 AM (GMT)")
        #expect(Format.connectedOn(moment.date) == "16 Dec 2024")
        #expect(Format.learning(Moment(seconds: 1_734_336_277 + 12 * 3600)) == "2024-12-16 20:04 UTC")
        #expect(Format.usShort(Moment(seconds: 1_734_336_277 - 8 * 3600)) == "12/16/24, 12:04 AM")
    }

    @Test("the seeded generator is stable")
    func seededRandom() {
        var a = SeededRandom(seed: 1)
        var b = SeededRandom(seed: 1)
        let first = (0..<5).map { _ in a.next() }
        #expect(first == (0..<5).map { _ in b.next() })
        var c = SeededRandom(seed: 2)
        #expect(first != (0..<5).map { _ in c.next() })
        var d = SeededRandom(seed: 3)
        for bound in [1, 2, 3, 10, 1000] {
            #expect((0..<200).allSatisfy { _ in (0..<bound).contains(d.below(bound)) })
        }
    }
}
