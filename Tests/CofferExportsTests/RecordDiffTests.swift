// RecordDiffTests.swift: row-level diffs against planted changes and generated export series.

import Foundation
import Testing

@testable import CofferExports
@testable import ExportGenerator

/// Connections.csv bytes as LinkedIn writes them: preamble, header, rows, no final newline.
fileprivate func connectionsFile(_ rows: [String]) -> [UInt8] {
    Array((linkedInNotesPreamble + ([linkedInConnectionsHeader] + rows).joined(separator: "\n")).utf8)
}

/// A CSV file with LF endings and a final newline.
fileprivate func csvFile(_ lines: [String]) -> [UInt8] {
    Array((lines.joined(separator: "\n") + "\n").utf8)
}

fileprivate let messagesHeader = "CONVERSATION ID,CONVERSATION TITLE,FROM,SENDER PROFILE URL,TO,RECIPIENT PROFILE URLS,DATE,SUBJECT,CONTENT,FOLDER"
fileprivate let invitationsHeader = "From,To,Sent At,Message,Direction,inviterProfileUrl,inviteeProfileUrl"

fileprivate func message(_ id: String, _ from: String, _ date: String, _ content: String) -> String {
    "\(id),,\(from),https://www.linkedin.com/in/\(from.lowercased().replacing(" ", with: "-")),Me,https://www.linkedin.com/in/me,\(date) UTC,,\(content),INBOX"
}

fileprivate func invitation(_ from: String, _ sentAt: String, _ direction: String = "INCOMING") -> String {
    "\(from),Me,\"\(sentAt)\",,\(direction),https://www.linkedin.com/in/\(from.lowercased()),https://www.linkedin.com/in/me"
}

/// Two consecutive exports of a generated series.
fileprivate func generatedPair(seed: UInt64, connections: Int, messagesBytes: Int, start: CivilDate = CivilDate(year: 2025, month: 1, day: 15))
    -> (LinkedInExport, LinkedInExport)
{
    var config = GeneratorConfig(outputDirectory: "/nonexistent")
    config.seed = seed
    config.months = 2
    config.connections = connections
    config.messagesBytes = messagesBytes
    config.start = start
    let generator = LinkedInGenerator(config: config)
    return (generator.nextExport(), generator.nextExport())
}

fileprivate func memberBytes(_ export: LinkedInExport, _ path: String) throws -> [UInt8] {
    try #require(export.member(path), "missing \(path)").contents
}

@Suite("Record diff")
struct RecordDiffTests {
    static let ada = "Ada,Lorimore,https://www.linkedin.com/in/ada,,Arithmetic Engines,Founder,04 Jul 2023"
    static let grace = "Grace,Hollis,https://www.linkedin.com/in/grace,,US Navy,Rear Admiral,01 Jul 2023"
    static let alan = "Alan,Tarlow,https://www.linkedin.com/in/alan,,NPL,Researcher,30 Jun 2023"
    static let john1 = "John,Smith,https://www.linkedin.com/in/john-smith-1,,Acme,Engineer,20 Jun 2023"
    static let john2 = "John,Smith,https://www.linkedin.com/in/john-smith-2,,Globex,Designer,18 Jun 2023"
    static let blank = ",,,,,,10 Jun 2023"

    @Test("Connections: added, removed and changed connections; job changes counted apart")
    func connections() throws {
        let before = connectionsFile([Self.ada, Self.grace, Self.alan, Self.john1, Self.john2, Self.blank])
        let after = connectionsFile([
            "Lioba,Tavernor,https://www.linkedin.com/in/lioba,,Lumen Foundation,Fellow,12 Jul 2023",
            "Ada,Lorimore,https://www.linkedin.com/in/ada,ada@example.com,Arithmetic Engines,Founder,04 Jul 2023",
            "Grace,Hollis,https://www.linkedin.com/in/grace,,US Navy,\"Rear Admiral, Retired\",01 Jul 2023",
            Self.john1, Self.john2, Self.blank,
        ])
        let diff = try RecordDiff.compare(before: before, after: after, path: "Connections.csv")
        #expect(diff.kind == .connections && diff.key == .linkedInConnections)
        #expect(diff.added.map(\.key) == ["https://www.linkedin.com/in/lioba"])
        #expect(diff.added.first?.row["Company"] == "Lumen Foundation")
        #expect(diff.added.first?.line == 5)
        #expect(diff.removed.map(\.key) == ["https://www.linkedin.com/in/alan"])
        #expect(diff.removed.first?.row["Last Name"] == "Tarlow")
        #expect(diff.changed.map(\.key) == ["https://www.linkedin.com/in/ada", "https://www.linkedin.com/in/grace"])
        #expect(diff.changed[0].changedColumns == ["Email Address"])
        #expect(diff.changed[0].before["Email Address"] == "" && diff.changed[0].after["Email Address"] == "ada@example.com")
        #expect(diff.changed[1].changedColumns == ["Position"])
        #expect(diff.changed[1].after["Position"] == "Rear Admiral, Retired")
        #expect(diff.changed[1].row["First Name"] == "Grace")
        #expect(diff.agedOut.isEmpty && diff.headerChange == nil)
        #expect(diff.summary.jobChanges == 1 && diff.summary.otherChanges == 1)
        #expect(diff.summary.text == "Connections.csv: 1 new connection, 1 removed, 1 changed job, 1 changed")
    }

    @Test("duplicate names with different URLs are told apart by URL")
    func duplicateNames() throws {
        let before = connectionsFile([Self.john1, Self.john2])
        let after = connectionsFile([
            Self.john1, "John,Smith,https://www.linkedin.com/in/john-smith-2,,Initech,Designer,18 Jun 2023",
            "John,Smith,https://www.linkedin.com/in/john-smith-3,,Hooli,Engineer,11 Jul 2023",
        ])
        let diff = try RecordDiff.compare(before: before, after: after, path: "Connections.csv")
        #expect(diff.added.map(\.key) == ["https://www.linkedin.com/in/john-smith-3"])
        #expect(diff.removed.isEmpty)
        #expect(diff.changed.map(\.key) == ["https://www.linkedin.com/in/john-smith-2"])
        #expect(diff.changed.first?.before["Company"] == "Globex" && diff.changed.first?.after["Company"] == "Initech")
        #expect(diff.summary.text == "Connections.csv: 1 new connection, 0 removed, 1 changed job")
    }

    @Test("blank rows: keyed by content; identical blank rows pair in order, extras are added or removed")
    func blankRows() throws {
        let twoBlanks = connectionsFile([Self.ada, Self.blank, Self.blank, ",,,,,,01 May 2023"])
        let same = try RecordDiff.compare(before: twoBlanks, after: twoBlanks, path: "Connections.csv")
        #expect(same.isEmpty)
        #expect(same.summary.text == "Connections.csv: 0 new connections, 0 removed, 0 changed jobs")

        let oneBlank = connectionsFile([Self.ada, Self.blank, ",,,,,,01 May 2023"])
        let fewer = try RecordDiff.compare(before: twoBlanks, after: oneBlank, path: "Connections.csv")
        #expect(fewer.removed.count == 1 && fewer.added.isEmpty && fewer.changed.isEmpty)
        #expect(fewer.removed.first?.key == ",,,,,,10 Jun 2023")
        #expect(fewer.removed.first?.line == 7, "the second of the two identical rows is the one reported")

        let threeBlanks = connectionsFile([Self.ada, Self.blank, Self.blank, Self.blank, ",,,,,,01 May 2023"])
        let more = try RecordDiff.compare(before: twoBlanks, after: threeBlanks, path: "Connections.csv")
        #expect(more.added.count == 1 && more.removed.isEmpty)
    }

    @Test("a member who hides their account becomes a blank row: counted as hidden, not removed")
    func hiddenAccount() throws {
        let before = connectionsFile([Self.ada, Self.grace, Self.blank])
        let after = connectionsFile([Self.ada, ",,,,,,01 Jul 2023", Self.blank])
        let diff = try RecordDiff.compare(before: before, after: after, path: "Connections.csv")
        #expect(diff.added.count == 1 && diff.removed.count == 1)
        #expect(diff.summary.nowHidden == 1 && diff.summary.newConnections == 0 && diff.summary.removedConnections == 0)
        #expect(diff.summary.text == "Connections.csv: 0 new connections, 0 removed, 0 changed jobs, 1 now hidden")
        let back = try RecordDiff.compare(before: after, after: before, path: "Connections.csv")
        #expect(back.summary.visibleAgain == 1 && back.summary.newConnections == 0)
        #expect(back.summary.text == "Connections.csv: 0 new connections, 0 removed, 0 changed jobs, 1 visible again")
    }

    @Test("messages: keyed by conversation + date + sender; moved blocks are not changes")
    func messages() throws {
        let c1 = "2-YWJj", c2 = "2-ZGVm", c3 = "2-Z2hp"
        let before = csvFile([
            messagesHeader,
            message(c1, "Ann Lee", "2024-12-10 09:00:00", "See you then"),
            message(c1, "Bob Ray", "2024-12-10 08:59:00", "Tomorrow at 9?"),
            message(c2, "Cy Dunn", "2024-11-01 12:00:00", "Thanks!"),
            message(c2, "Cy Dunn", "2024-11-01 12:00:00", "Thanks!"),  // same key twice
        ])
        // c2 gets a reply and moves to the top, c3 is new, one of c1's messages is edited.
        let after = csvFile([
            messagesHeader,
            message(c3, "Dee Fox", "2024-12-20 10:00:00", "Hello"),
            message(c2, "Me Myself", "2024-12-19 18:00:00", "You're welcome"),
            message(c2, "Cy Dunn", "2024-11-01 12:00:00", "Thanks!"),
            message(c2, "Cy Dunn", "2024-11-01 12:00:00", "Thanks!"),
            message(c2, "Cy Dunn", "2024-11-01 12:00:00", "Thanks!"),  // a third one with that key
            message(c1, "Ann Lee", "2024-12-10 09:00:00", "See you then!"),
            message(c1, "Bob Ray", "2024-12-10 08:59:00", "Tomorrow at 9?"),
        ])
        let diff = try RecordDiff.compare(before: before, after: after, path: "messages.csv")
        #expect(diff.kind == .messages && diff.key == .linkedInMessages)
        #expect(diff.added.map(\.key) == [
            "2-Z2hp | 2024-12-20 10:00:00 UTC | Dee Fox", "2-ZGVm | 2024-12-19 18:00:00 UTC | Me Myself",
            "2-ZGVm | 2024-11-01 12:00:00 UTC | Cy Dunn",
        ])
        #expect(diff.added.last?.line == 6, "the extra duplicate is the third occurrence")
        #expect(diff.removed.isEmpty)
        #expect(diff.changed.count == 1 && diff.changed.first?.changedColumns == ["CONTENT"])
        #expect(diff.summary.conversations == 2)
        #expect(diff.summary.text == "messages.csv: 3 new messages in 2 conversations, 1 changed")
    }

    @Test("Invitations.csv: rows older than the newer window are aged out, the others removed")
    func invitationsWindow() throws {
        let before = csvFile([
            invitationHeaderLine(),
            invitation("Kim", "12/15/24, 7:47 AM"), invitation("Lee", "11/2/24, 12:05 PM"),
            invitation("Max", "9/30/24, 8:00 PM", "OUTGOING"), invitation("Ned", "4/20/24, 9:15 AM"),
            invitation("Oli", "3/3/24, 11:59 PM"), invitation("Pat", "3/1/24, 12:01 AM"),
        ])
        // A month later: two new rows; the window now starts 4/2/24; Lee's row was withdrawn.
        let after = csvFile([
            invitationHeaderLine(),
            invitation("Quinn", "1/14/25, 10:00 AM"), invitation("Rae", "1/2/25, 3:30 PM"),
            invitation("Kim", "12/15/24, 7:47 AM"),
            invitation("Max", "9/30/24, 8:00 PM", "OUTGOING"), invitation("Ned", "4/20/24, 9:15 AM"),
            invitation("Sam", "04/02/24, 06:00 AM"),
        ])
        let diff = try RecordDiff.compare(before: before, after: after, path: "Invitations.csv")
        #expect(diff.kind == .invitations && diff.key == .columns(["From", "To", "Sent At"]))
        #expect(diff.added.map { $0.row["From"] } == ["Quinn", "Rae", "Sam"])
        #expect(diff.agedOut.map { $0.row["From"] } == ["Oli", "Pat"])
        #expect(diff.removed.map { $0.row["From"] } == ["Lee"])
        #expect(diff.summary.text == "Invitations.csv: 3 new, 2 aged out, 1 removed")

        // The newer file is empty: everything dated fell out of the window.
        let emptied = try RecordDiff.compare(before: before, after: csvFile([invitationHeaderLine()]), path: "Invitations.csv")
        #expect(emptied.agedOut.count == 6 && emptied.removed.isEmpty)
    }

    func invitationHeaderLine() -> String { invitationsHeader }

    @Test("--key given explicitly, case-insensitively; an unknown key column names the available ones")
    func explicitKey() throws {
        let before = csvFile(["Name,Proficiency", "English,Native or bilingual proficiency", "French,Elementary proficiency"])
        let after = csvFile(["Name,Proficiency", "French,Limited working proficiency", "English,Native or bilingual proficiency", "German,Elementary proficiency"])
        let byName = try RecordDiff.compare(before: before, after: after, path: "Languages.csv", keyColumns: ["name"])
        #expect(byName.key == .columns(["Name"]) && byName.kind == .generic)
        #expect(byName.changed.map(\.key) == ["French"] && byName.added.map(\.key) == ["German"] && byName.removed.isEmpty)
        #expect(byName.summary.text == "Languages.csv: 1 added, 0 removed, 1 changed")

        // Languages.csv has a default key (Name); the same file under another name has none, so
        // the whole row is the key: a change is a removal plus an addition.
        let byDefault = try RecordDiff.compare(before: before, after: after, path: "Languages.csv")
        #expect(byDefault.key == .columns(["Name"]) && byDefault.changed.map(\.key) == ["French"])
        let whole = try RecordDiff.compare(before: before, after: after, path: "Spoken.csv")
        #expect(whole.key == .wholeRow && whole.changed.isEmpty && whole.added.count == 2 && whole.removed.count == 1)
        #expect(whole.removed.first?.key == "French,Elementary proficiency")

        // Explicit columns win over the inferred key, and several can be given.
        let connections = connectionsFile([Self.john1, Self.john2])
        let byNames = try RecordDiff.compare(
            before: connections, after: connections, path: "Connections.csv", keyColumns: ["First Name", "Last Name"])
        #expect(byNames.key == .columns(["First Name", "Last Name"]) && byNames.isEmpty)

        #expect(throws: RecordDiffError.unknownKeyColumn(column: "Level", available: ["Name", "Proficiency"])) {
            try RecordDiff.compare(before: before, after: after, path: "Languages.csv", keyColumns: ["Name", "Level"])
        }
        do {
            _ = try RecordDiff.compare(before: before, after: after, path: "Languages.csv", keyColumns: ["Level"])
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "no column \"Level\" to key rows by; available columns: \"Name\", \"Proficiency\"")
        }
    }

    @Test("a header change still diffs by column name and is reported")
    func headerChange() throws {
        let before = csvFile(["Name,Url,Authority", "Swift Cert,https://example.com/1,Apple", "Rust Cert,https://example.com/2,Mozilla"])
        let after = csvFile([
            "Name,Authority,Started On,Url", "Swift Cert,Apple,Mar 2019,https://example.com/1",
            "Rust Cert,Rust Foundation,Jan 2021,https://example.com/2",
        ])
        let diff = try RecordDiff.compare(before: before, after: after, path: "Certifications.csv", keyColumns: ["Name"])
        #expect(diff.headerChange?.added == ["Started On"] && diff.headerChange?.removed == [])
        #expect(diff.changed.count == 1 && diff.changed.first?.changedColumns == ["Authority"])
        #expect(diff.added.isEmpty && diff.removed.isEmpty)
        #expect(diff.summary.text == "Certifications.csv: 0 added, 0 removed, 1 changed; columns added: Started On")

        // Whole-row keys compare the shared columns only, so a new column alone changes nothing.
        let whole = try RecordDiff.compare(before: before, after: after, path: "Certifications.csv")
        #expect(whole.added.count == 1 && whole.removed.count == 1)

        // A removed column and a case-only rename (Shares.csv 2022 → 2024).
        let shares2022 = csvFile(["Date,ShareLink,ShareCommentary,SharedURL,MediaURL,Visibility", "2022-01-01 10:00:00,https://l/1,Hi,https://s/1,,MEMBER_NETWORK"])
        let shares2024 = csvFile(["Date,ShareLink,ShareCommentary,SharedUrl,Visibility", "2022-01-01 10:00:00,https://l/1,Hi,https://s/2,MEMBER_NETWORK"])
        let renamed = try RecordDiff.compare(before: shares2022, after: shares2024, path: "Shares.csv", keyColumns: ["ShareLink"])
        #expect(renamed.headerChange?.renamed == [HeaderChange.Rename(from: "SharedURL", to: "SharedUrl")])
        #expect(renamed.headerChange?.removed == ["MediaURL"] && renamed.headerChange?.added == [])
        #expect(renamed.changed.first?.changedColumns == ["SharedUrl"])
        #expect(renamed.summary.text.hasSuffix("; columns removed: MediaURL; columns renamed: SharedURL → SharedUrl"))

        // Connections 2022 (no URL column) → 2023 (URL): no URL on both sides, so the pre-2023 key
        // (First Name + Last Name + Connected On).
        let old = Array((linkedInNotesPreamble + "First Name,Last Name,Email Address,Company,Position,Connected On\nAda,Lorimore,,AE,Founder,04 Jul 2022").utf8)
        let new = connectionsFile(["Ada,Lorimore,https://www.linkedin.com/in/ada,,AE,Founder,04 Jul 2022"])
        let grown = try RecordDiff.compare(before: old, after: new, path: "Connections.csv")
        #expect(grown.key == .columns(["First Name", "Last Name", "Connected On"]))
        #expect(grown.isEmpty == false && grown.added.isEmpty && grown.removed.isEmpty && grown.changed.isEmpty)
        #expect(grown.headerChange?.added == ["URL"])
    }

    @Test("duplicate header names, rows longer or shorter than the header")
    func irregularRows() throws {
        let before = csvFile(["Company Names,Degrees,Company Names", "A,BSc,B", "short"])
        let after = csvFile(["Company Names,Degrees,Company Names", "A,BSc,C,extra", "short"])
        let diff = try RecordDiff.compare(before: before, after: after, path: "Ad_Targeting.csv", keyColumns: ["Degrees"])
        #expect(diff.changed.first?.changedColumns == ["Company Names (2)"])
        #expect(diff.changed.first?.row.columns == ["Company Names", "Degrees", "Company Names (2)", "(column 4)"])
        #expect(diff.changed.first?.row.values == ["A", "BSc", "C", "extra"])
        #expect(diff.headerChange == nil)
    }

    @Test("a file one version lacks, and malformed CSV")
    func missingAndMalformed() throws {
        let file = csvFile(["Name", "Swift", "Rust"])
        let appeared = try RecordDiff.compare(before: [], after: file, path: "Skills.csv")
        #expect(appeared.added.count == 2 && appeared.headerChange == nil)
        let vanished = try RecordDiff.compare(before: file, after: [], path: "Skills.csv")
        #expect(vanished.removed.count == 2)

        let broken = Array("Name\nSwift\n\"Rust\n".utf8)
        #expect(throws: RecordDiffError.unreadable(path: "Skills.csv", side: .after, error: .unterminatedQuote(line: 3))) {
            try RecordDiff.compare(before: file, after: broken, path: "Skills.csv")
        }
    }

    @Test("UTF-16LE tab-separated versions diff like any other")
    func utf16Versions() throws {
        let header = "\"Time\"\t\"Event\""
        let before = utf16LEBytes([header, "\"2022/08/01 10:00:00 UTC\"\t\"Login\""].joined(separator: "\n"))
        let after = utf16LEBytes([header, "\"2022/09/01 10:00:00 UTC\"\t\"Password change\"", "\"2022/08/01 10:00:00 UTC\"\t\"Login\""].joined(separator: "\n"))
        let diff = try RecordDiff.compare(before: before, after: after, path: "Account Status History.csv")
        #expect(diff.added.map { $0.row["Event"] } == ["Password change"] && diff.removed.isEmpty)
    }

    @Test("JSON: files, key, added/removed/changed/aged_out with column-name maps")
    func json() throws {
        let before = connectionsFile([Self.ada, Self.alan])
        let after = connectionsFile([
            "Ada,Lorimore,https://www.linkedin.com/in/ada,,Arithmetic Engines,Chief Engineer,04 Jul 2023",
            "Lioba,Tavernor,https://www.linkedin.com/in/lioba,,Lumen Foundation,Fellow,12 Jul 2023",
        ])
        let diff = try RecordDiff.compare(before: before, after: after, path: "Connections.csv")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(RecordDiffReport(files: [diff]))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let files = try #require(object["files"] as? [[String: Any]])
        #expect(files.count == 1)
        let file = files[0]
        #expect(Set(file.keys) == ["path", "kind", "key", "added", "removed", "changed", "aged_out", "summary"])
        #expect(file["path"] as? String == "Connections.csv" && file["key"] as? String == "URL")
        let added = try #require(file["added"] as? [[String: Any]])
        #expect(added.first?["key"] as? String == "https://www.linkedin.com/in/lioba")
        #expect((added.first?["row"] as? [String: String])?["Company"] == "Lumen Foundation")
        let removed = try #require(file["removed"] as? [[String: Any]])
        #expect((removed.first?["row"] as? [String: String])?["Last Name"] == "Tarlow")
        let changed = try #require(file["changed"] as? [[String: Any]])
        #expect(changed.first?["before"] as? [String: String] == ["Position": "Founder"])
        #expect(changed.first?["after"] as? [String: String] == ["Position": "Chief Engineer"])
        #expect((changed.first?["row"] as? [String: String])?["First Name"] == "Ada")
        #expect((file["aged_out"] as? [Any])?.isEmpty == true)
        #expect(file["summary"] as? String == "Connections.csv: 1 new connection, 1 removed, 1 changed job")

        // In Swift the row keeps header order.
        #expect(diff.added[0].row.columns == linkedInConnectionsHeader.split(separator: ",").map(String.init))

        let header = try RecordDiff.compare(
            before: csvFile(["a,b", "1,2"]), after: csvFile(["a,c", "1,3"]), path: "x.csv", keyColumns: ["a"])
        let headerJSON = try #require(try JSONSerialization.jsonObject(with: try encoder.encode(header)) as? [String: Any])
        let change = try #require(headerJSON["header_change"] as? [String: Any])
        #expect(change["added"] as? [String] == ["c"] && change["removed"] as? [String] == ["b"])
    }

    @Test("dates of export columns parse to comparable instants")
    func dates() {
        let utc = RecordDate.seconds("2024-12-16 08:04:37 UTC")
        #expect(utc == 1_734_336_277)
        #expect(RecordDate.seconds("12/16/24, 8:04 AM") == 1_734_336_240)
        #expect(RecordDate.seconds("12/16/24, 08:04 AM") == 1_734_336_240)
        let midnight: Int64 = 1_734_307_440  // 2024-12-16 00:04 UTC
        let noon: Int64 = 1_734_350_640  // 2024-12-16 12:04 UTC
        #expect(RecordDate.seconds("12/16/24, 12:04 AM") == midnight)
        #expect(RecordDate.seconds("12/16/24, 12:04 PM") == noon)
        #expect(RecordDate.seconds("12/16/2024") == 1_734_307_200)
        #expect(RecordDate.seconds("2024/12/16 08:04:37 UTC") == 1_734_336_277)
        #expect(RecordDate.seconds("2024-12-16T08:04:37Z") == 1_734_336_277)
        #expect(RecordDate.seconds("16 Dec 2024") == 1_734_307_200)
        #expect(RecordDate.seconds("02/30/24, 8:04 AM") == nil)
        #expect(RecordDate.seconds("13/01/24, 8:04 AM") == nil)
        #expect(RecordDate.seconds("12/16/24, 13:04 PM") == nil)
        #expect(RecordDate.seconds("yesterday") == nil)
        #expect(RecordDate.seconds("") == nil)
    }

    @Test("two consecutive generated exports: the diff matches the generator's ground truth")
    func generatedSeries() throws {
        let (first, second) = generatedPair(seed: 11, connections: 1500, messagesBytes: 150_000)

        // Connections, against counts by URL from the independent test parser.
        let connections = try RecordDiff.compare(
            before: try memberBytes(first, "Connections.csv"), after: try memberBytes(second, "Connections.csv"),
            path: "Connections.csv")
        func rowsByURL(_ export: LinkedInExport) throws -> [String: [String]] {
            let body = String(decoding: try memberBytes(export, "Connections.csv").dropFirst(375), as: UTF8.self)
            let rows = parseCSV(body).dropFirst().map { $0.map(\.value) }
            return Dictionary(rows.filter { !$0[2].isEmpty }.map { ($0[2], $0) }, uniquingKeysWith: { a, _ in a })
        }
        let old = try rowsByURL(first), new = try rowsByURL(second)
        let addedURLs = Set(new.keys).subtracting(old.keys), removedURLs = Set(old.keys).subtracting(new.keys)
        let changedURLs = Set(new.keys).intersection(old.keys).filter { old[$0] != new[$0] }
        let jobURLs = changedURLs.filter { old[$0]![4] != new[$0]![4] || old[$0]![5] != new[$0]![5] }
        #expect(Set(connections.added.map(\.key).filter { $0.hasPrefix("https://") }) == addedURLs)
        #expect(Set(connections.removed.map(\.key).filter { $0.hasPrefix("https://") }) == removedURLs)
        #expect(Set(connections.changed.map(\.key)) == changedURLs)
        #expect(connections.summary.jobChanges == jobURLs.count)

        let truth = second.statistics.changes
        #expect(connections.summary.newConnections == truth.added)
        #expect(connections.summary.removedConnections == truth.removed)
        #expect(connections.summary.jobChanges > 0 && connections.summary.jobChanges <= truth.jobChanges)
        #expect(connections.summary.nowHidden + connections.summary.visibleAgain <= truth.hiddenToggles)
        #expect(second.statistics.connections - first.statistics.connections == truth.added - truth.removed)

        // messages.csv: every new message is added; a sender who hides their account is re-keyed
        // ("LinkedIn Member"), which adds and removes the same number of rows.
        let messages = try RecordDiff.compare(
            before: try memberBytes(first, "messages.csv"), after: try memberBytes(second, "messages.csv"), path: "messages.csv")
        #expect(messages.added.count - messages.removed.count == second.statistics.newMessages)
        #expect(second.statistics.messages - first.statistics.messages == second.statistics.newMessages)
        #expect(messages.summary.conversations > 0)

        // Invitations.csv: whatever left is older than everything the newer file holds.
        let invitations = try RecordDiff.compare(
            before: try memberBytes(first, "Invitations.csv"), after: try memberBytes(second, "Invitations.csv"),
            path: "Invitations.csv")
        let oldest = try #require(CSVReader.read(try memberBytes(second, "Invitations.csv")).rows.compactMap { RecordDate.seconds($0[2]) }.min())
        #expect(!invitations.agedOut.isEmpty)
        #expect(invitations.agedOut.allSatisfy { RecordDate.seconds($0.row["Sent At"] ?? "")! < oldest })
        #expect(invitations.removed.isEmpty, "the generator never withdraws an invitation")
        #expect(!invitations.added.isEmpty)

        // Every other CSV member diffs without error; Rich_Media is re-signed at every export.
        var lines: [String] = []
        for member in second.members where member.path.hasSuffix(".csv") {
            let before = first.member(member.path)?.contents ?? []
            let diff = try RecordDiff.compare(before: before, after: member.contents, path: member.path)
            lines.append(diff.summary.text)
            if member.path == "Rich_Media.csv" { #expect(!diff.isEmpty) }
        }
        print("Summaries for \(first.zipFileName) → \(second.zipFileName):\n  " + lines.joined(separator: "\n  "))
    }

    @Test("a messages.csv header change between generated exports (2026-04 adds ATTACHMENTS)")
    func generatedHeaderChange() throws {
        let (first, second) = generatedPair(
            seed: 3, connections: 300, messagesBytes: 40_000, start: CivilDate(year: 2026, month: 3, day: 10))
        let diff = try RecordDiff.compare(
            before: try memberBytes(first, "messages.csv"), after: try memberBytes(second, "messages.csv"), path: "messages.csv")
        #expect(diff.key == .linkedInMessages)
        #expect(diff.headerChange?.added == ["ATTACHMENTS"])
        #expect(diff.headerChange?.removed == ["IS CONVERSATION DRAFT"])
        #expect(diff.added.count - diff.removed.count == second.statistics.newMessages)
        #expect(diff.changed.allSatisfy { !$0.changedColumns.contains("ATTACHMENTS") })
    }

    @Test("diffing two ~5 MB messages.csv files is linear")
    func largeMessages() throws {
        // ~14,000 messages of ~360 bytes in ~1,400 conversations, then a month later: 600 new
        // messages, half of them in old conversations that jump to the top.
        func build(conversations: [(id: String, messages: [String])]) -> [UInt8] {
            var text = messagesHeader + "\n"
            for conversation in conversations { for line in conversation.messages { text += line + "\n" } }
            return Array(text.utf8)
        }
        let filler = String(repeating: "Lorem ipsum dolor sit amet, ", count: 9)
        var threads: [(id: String, messages: [String])] = []
        var clock = 1_700_000_000
        for c in 0..<1_400 {
            let id = "2-" + String(c * 7919 + 100_000, radix: 36) + "LTRiYmEtNDk0Ny04ZTU0LWMxOGMxNmM1ZTk3Y18wMTA="
            var lines: [String] = []
            for m in 0..<10 {
                clock -= 97
                lines.append(message(id, m % 2 == 0 ? "Ann Lee" : "Bob Ray", isoDate(clock), "\"\(filler)\(c)/\(m)\""))
            }
            threads.append((id, lines))
        }
        let before = build(conversations: threads)
        var updated = threads
        var moved: [(id: String, messages: [String])] = []
        clock = 1_700_100_000
        for k in 0..<300 {
            var thread = updated.remove(at: (k * 37) % updated.count)
            thread.messages.insert(message(thread.id, "Me Myself", isoDate(clock + k * 60), "\"Reply \(k)\""), at: 0)
            moved.append(thread)
        }
        for k in 0..<100 {
            let id = "2-new\(k)"
            moved.append((id, (0..<3).map { message(id, "Dee Fox", isoDate(clock + 50_000 + k * 180 + $0), "Hi \(k)") }))
        }
        let after = build(conversations: moved.reversed() + updated)
        #expect(before.count > 4_500_000 && after.count > before.count)

        let clockNow = ContinuousClock()
        var diff: FileRecordDiff?
        let elapsed = try clockNow.measure {
            diff = try RecordDiff.compare(before: before, after: after, path: "messages.csv")
        }
        #expect(diff?.added.count == 600 && diff?.removed.count == 0 && diff?.changed.count == 0)
        #expect(diff?.summary.text == "messages.csv: 600 new messages in 400 conversations")
        print("diffed \(before.count) + \(after.count) bytes of messages.csv in \(elapsed)")
        // Debug builds are far slower than release (well under a second there); this only
        // guards against quadratic behaviour.
        #expect(elapsed < .seconds(60))
    }
}

/// `2024-12-16 08:04:37` for seconds since 1970 (UTC), without the ` UTC` suffix.
fileprivate func isoDate(_ seconds: Int) -> String {
    let days = seconds / 86_400, rest = seconds % 86_400
    // civil_from_days
    let z = days + 719_468
    let era = z / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let day = doy - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
    return "\(year)-\(two(month))-\(two(day)) \(two(rest / 3600)):\(two(rest % 3600 / 60)):\(two(rest % 60))"
}
