// CSVReaderTests.swift: the CSV reader against the quirks of real exports (seen in real LinkedIn files).

import Testing

@testable import CofferExports

/// Bytes of `text` in UTF-16LE, with the FF FE byte-order mark when `bom`.
func utf16LEBytes(_ text: String, bom: Bool = true) -> [UInt8] {
    var bytes: [UInt8] = bom ? [0xFF, 0xFE] : []
    for unit in text.utf16 {
        bytes.append(UInt8(unit & 0xFF))
        bytes.append(UInt8(unit >> 8))
    }
    return bytes
}

/// The 375-byte `Notes:` preamble of Connections.csv, as real exports have it.
let linkedInNotesPreamble =
    "Notes:\n\"When exporting your connection data, you may notice that some of the email addresses are missing. You will only see email addresses for connections who have allowed their connections to see or download their email address using this setting https://www.linkedin.com/psettings/privacy/email. You can learn more here https://www.linkedin.com/help/linkedin/answer/261\"\n\n"

let linkedInConnectionsHeader = "First Name,Last Name,URL,Email Address,Company,Position,Connected On"

@Suite("CSV reader")
struct CSVReaderTests {
    @Test("quoted fields keep commas, doubled quotes and embedded CR, LF and CRLF")
    func quotedFields() throws {
        let text = "a,b,c\n\"x, y\",\"say \"\"hi\"\"\",plain\n\"one\ntwo\",\"three\r\nfour\",\"five\rsix\"\n"
        let table = try CSVReader.read(Array(text.utf8))
        #expect(table.header == ["a", "b", "c"])
        #expect(table.rows == [["x, y", "say \"hi\"", "plain"], ["one\ntwo", "three\r\nfour", "five\rsix"]])
        #expect(table.rowLines == [2, 3])
        #expect(table.preamble == nil)
        #expect(table.delimiter == ",")
    }

    @Test("CRLF, LF and lone CR record endings; a last record without a line ending")
    func lineEndings() throws {
        let crlf = try CSVReader.read(Array("h1,h2\r\n1,2\r\n3,4".utf8))
        #expect(crlf.rows == [["1", "2"], ["3", "4"]])
        #expect(crlf.lineEnding == .crlf && !crlf.endsWithNewline)

        let lf = try CSVReader.read(Array("h1,h2\n1,2\n3,4\n".utf8))
        #expect(lf.rows == [["1", "2"], ["3", "4"]])
        #expect(lf.lineEnding == .lf && lf.endsWithNewline)

        let cr = try CSVReader.read(Array("h1,h2\r1,2\r3,4".utf8))
        #expect(cr.rows == [["1", "2"], ["3", "4"]] && cr.lineEnding == .cr)

        let trailingEmptyField = try CSVReader.read(Array("h1,h2\n1,".utf8))
        #expect(trailingEmptyField.rows == [["1", ""]])

        let single = try CSVReader.read(Array("only".utf8))
        #expect(single.header == ["only"] && single.rows.isEmpty && single.lineEnding == CSVLineEnding.none)

        let empty = try CSVReader.read([])
        #expect(empty.header.isEmpty && empty.rows.isEmpty)
    }

    @Test("a UTF-8 byte-order mark is removed from the first header name")
    func utf8BOM() throws {
        let table = try CSVReader.read([0xEF, 0xBB, 0xBF] + Array("Name,Proficiency\nSwift,Native\n".utf8))
        #expect(table.header == ["Name", "Proficiency"])
        #expect(table.hadByteOrderMark && table.encoding == .utf8)
        #expect(table.columnIndex(named: "Name") == 0)
    }

    @Test("UTF-16LE with BOM, tab-separated, every field quoted (R-2022 Endorsement Received Info.csv)")
    func utf16TabSeparated() throws {
        let header = "\"Endorsement Date\"\t\"Skill Name\"\t\"Endorser First Name\"\t\"Endorser Last Name\"\t\"Endorsement Status\"\t\"Display Status\""
        let rows = [
            "\"2022/08/30 14:02:11 UTC\"\t\"Swift\"\t\"Zoë\"\t\"Ørsted, PhD\"\t\"ACCEPTED\"\t\"VISIBLE\"",
            "\"2022/07/01 09:00:00 UTC\"\t\"Data \"\"portability\"\"\"\t\"李\"\t\"😀 Smile\"\t\"ACCEPTED\"\t\"\"",
        ]
        // The UTF-16 files have no final newline.
        let bytes = utf16LEBytes(([header] + rows).joined(separator: "\r\n"))
        let table = try CSVReader.read(bytes)
        #expect(table.encoding == .utf16LittleEndian && table.hadByteOrderMark)
        #expect(table.delimiter == "\t")
        #expect(table.header == ["Endorsement Date", "Skill Name", "Endorser First Name", "Endorser Last Name", "Endorsement Status", "Display Status"])
        #expect(table.rows == [
            ["2022/08/30 14:02:11 UTC", "Swift", "Zoë", "Ørsted, PhD", "ACCEPTED", "VISIBLE"],
            ["2022/07/01 09:00:00 UTC", "Data \"portability\"", "李", "😀 Smile", "ACCEPTED", ""],
        ])
        #expect(!table.endsWithNewline && table.lineEnding == .crlf)

        // Without a BOM, ASCII-led UTF-16LE is still recognised.
        let bare = try CSVReader.read(utf16LEBytes("\"Time\"\t\"Event\"\n\"2022/01/02 03:04:05 UTC\"\t\"Login\"", bom: false))
        #expect(bare.encoding == .utf16LittleEndian && !bare.hadByteOrderMark)
        #expect(bare.header == ["Time", "Event"] && bare.rows == [["2022/01/02 03:04:05 UTC", "Login"]])
    }

    @Test("the delimiter comes from the header line: tab or ; only when it has no comma")
    func delimiterDetection() throws {
        let tabs = try CSVReader.read(Array("a\tb\n1\t2,5\n".utf8))
        #expect(tabs.delimiter == "\t" && tabs.rows == [["1", "2,5"]])
        let commas = try CSVReader.read(Array("a,b\tc\n1,2\t3\n".utf8))
        #expect(commas.delimiter == "," && commas.header == ["a", "b\tc"])
        let semicolons = try CSVReader.read(Array("Name;Proficiency\nSwift;Native\n".utf8))
        #expect(semicolons.delimiter == ";" && semicolons.rows == [["Swift", "Native"]])
        let quotedComma = try CSVReader.read(Array("\"a,b\"\t\"c\"\n1\t2\n".utf8))
        #expect(quotedComma.delimiter == "\t" && quotedComma.header == ["a,b", "c"])
        let forced = try CSVReader(options: .init(delimiter: "|")).read(Array("a|b\n1|2".utf8))
        #expect(forced.rows == [["1", "2"]])
    }

    @Test("Connections.csv: the exact 375-byte Notes: preamble is detected, skipped and kept")
    func connectionsPreambleDetection() throws {
        #expect(linkedInNotesPreamble.utf8.count == 375)
        let body = [
            linkedInConnectionsHeader,
            "Ada,Lorimore,https://www.linkedin.com/in/ada-lorimore,,Arithmetic Engines,\"Founder, CEO\",04 Jul 2023",
            ",,,,,,03 Jul 2023",
            "Grace,Hollis,https://www.linkedin.com/in/grace-hollis,grace@example.com,US Navy,Rear Admiral,01 Jul 2023",
        ].joined(separator: "\n")
        let table = try CSVReader.read(Array((linkedInNotesPreamble + body).utf8))  // no final newline, as in the real file
        #expect(table.preamble == linkedInNotesPreamble)
        #expect(table.preamble?.utf8.count == 375)
        #expect(table.header == linkedInConnectionsHeader.split(separator: ",").map(String.init))
        #expect(table.rows.count == 3)
        #expect(table.rows[0][5] == "Founder, CEO")
        #expect(table.rows[1] == ["", "", "", "", "", "", "03 Jul 2023"])
        #expect(table.isBlankRow(1) == false)
        #expect(table.rowLines == [5, 6, 7], "the header is on line 4, after three preamble lines")
        #expect(!table.endsWithNewline)

        // The same file with CRLF everywhere.
        let crlf = (linkedInNotesPreamble + body).replacing("\n", with: "\r\n")
        let crlfTable = try CSVReader.read(Array(crlf.utf8))
        #expect(crlfTable.preamble?.hasPrefix("Notes:\r\n") == true)
        #expect(crlfTable.header.count == 7 && crlfTable.rows.count == 3)

        // A user-edited file without the preamble (R-2024a) is read from its first line.
        let bare = try CSVReader.read(Array(body.utf8))
        #expect(bare.preamble == nil && bare.header.first == "First Name" && bare.rows.count == 3)

        // Detection can be switched off: `Notes:` is then the header.
        let raw = try CSVReader(options: .init(detectPreamble: false)).read(Array((linkedInNotesPreamble + body).utf8))
        #expect(raw.preamble == nil && raw.header == ["Notes:"])

        // A shortened notice without the empty line: the header is the first multi-field record.
        let short = try CSVReader.read(Array("Notes:\n\"Some emails are missing.\"\n\(body)".utf8))
        #expect(short.preamble == "Notes:\n\"Some emails are missing.\"\n" && short.header.count == 7 && short.rows.count == 3)
    }

    @Test("blank rows are kept as rows")
    func blankRows() throws {
        let table = try CSVReader.read(Array("a,b\n,\n\n1,2\n,\n".utf8))
        #expect(table.rows == [["", ""], [""], ["1", "2"], ["", ""]])
        #expect(table.isBlankRow(0) && table.isBlankRow(1) && !table.isBlankRow(2) && table.isBlankRow(3))
    }

    @Test("an unterminated quote is an error naming the line it opened on")
    func unterminatedQuote() {
        #expect(throws: CSVError.unterminatedQuote(line: 3)) {
            try CSVReader.read(Array("a,b\n1,2\n3,\"open\n4,5\n6,7".utf8))
        }
        #expect(throws: CSVError.unterminatedQuote(line: 5)) {
            try CSVReader.read(Array((linkedInNotesPreamble + "\(linkedInConnectionsHeader)\nA,B,u,,\"C").utf8))
        }
        #expect(throws: CSVError.unterminatedQuote(line: 1)) { try CSVReader.read(Array("\"".utf8)) }
        #expect(CSVError.unterminatedQuote(line: 9).description == "unterminated quoted field starting on line 9")
    }

    @Test("Shares.csv paragraph quoting and Learning.csv's trailing header comma")
    func linkedInOddities() throws {
        // ShareCommentary: raw `text.""⏎""""⏎""Next` inside quotes decodes to `text."⏎""⏎"Next`.
        let shares = "Date,ShareLink,ShareCommentary,SharedUrl,MediaUrl,Visibility\n"
            + "2024-05-01 10:00:00,https://www.linkedin.com/feed/update/1,\"First.\"\"\n\"\"\"\"\n\"\"Second\",\"\",\"\",MEMBER_NETWORK\n"
        let table = try CSVReader.read(Array(shares.utf8))
        #expect(table.rows.count == 1)
        #expect(table.rows[0][2] == "First.\"\n\"\"\n\"Second")
        #expect(table.rows[0][3] == "" && table.rows[0][5] == "MEMBER_NETWORK")

        let learning = "Content Title,Content Description,Content Type,Content Last Watched Date (if viewed),Content Completed At (if completed),Content Saved,Notes taken on videos (if taken),\n"
            + "Swift Concurrency,\"Line one\r\nLine two\nLine three\",COURSE,2021-12-20 18:09 UTC,N/A,false,,\n"
        let learned = try CSVReader.read(Array(learning.utf8))
        #expect(learned.header.count == 8 && learned.header[7] == "")
        #expect(learned.rows == [["Swift Concurrency", "Line one\r\nLine two\nLine three", "COURSE", "2021-12-20 18:09 UTC", "N/A", "false", "", ""]])
    }

    @Test("lenient with stray quotes outside quoted fields")
    func strayQuotes() throws {
        let table = try CSVReader.read(Array("a,b\n5\" screen,\"quoted\"tail\n".utf8))
        #expect(table.rows == [["5\" screen", "quotedtail"]])
    }

    @Test("invalid UTF-8 becomes U+FFFD rather than failing")
    func invalidUTF8() throws {
        let table = try CSVReader.read(Array("a,b\n".utf8) + [0xC3, 0x28] + Array(",x\n".utf8))
        #expect(table.rows == [["\u{FFFD}(", "x"]])
    }

    @Test("a large file is read in linear time")
    func largeFile() throws {
        var text = "CONVERSATION ID,FROM,DATE,CONTENT\n"
        for index in 0..<40_000 {
            text += "2-abc\(index / 7),Person \(index % 97),2024-12-16 18:24:\(index % 60) UTC,\"Hello, \"\"friend\"\" number \(index)\"\n"
        }
        let bytes = Array(text.utf8)
        let clock = ContinuousClock()
        var table: CSVTable?
        let elapsed = try clock.measure { table = try CSVReader.read(bytes) }
        #expect(table?.rows.count == 40_000)
        #expect(table?.rows.last?[3] == "Hello, \"friend\" number 39999")
        // About 2.5 MB; generous for a debug build on a shared machine.
        #expect(elapsed < .seconds(20), "read \(bytes.count) bytes in \(elapsed)")
    }
}
