// RecordExactTests.swift: record keys of known files, exact byte comparison, pairing of
// duplicates, blank lines, JSON record files and the one-line text form of values.

import Foundation
import Testing

@testable import CofferExports
@testable import ExportGenerator

fileprivate func lines(_ lines: [String]) -> [UInt8] {
    Array((lines.joined(separator: "\n") + "\n").utf8)
}

fileprivate func js(_ name: String, _ records: [String]) -> [UInt8] {
    Array(("window.YTD.\(name).part0 = [ " + records.joined(separator: ", ") + " ]").utf8)
}

fileprivate func tweet(_ id: String, _ text: String, favorites: Int = 0) -> String {
    "{\"tweet\": {\"id_str\": \"\(id)\", \"id\": \"\(id)\", \"full_text\": \"\(text)\", \"favorite_count\": \"\(favorites)\"}}"
}

@Suite("Record keys and exact comparison")
struct RecordExactTests {
    @Test("pre-2023 Connections.csv (no URL): First Name + Last Name + Connected On, so a job change is a changed job")
    func connectionsWithoutURL() throws {
        let header = "First Name,Last Name,Email Address,Company,Position,Connected On"
        let before = Array((linkedInNotesPreamble + [header, "Ada,Lorimore,,AE,Founder,04 Jul 2022", "Alan,Tarlow,,NPL,Researcher,30 Jun 2022"].joined(separator: "\n")).utf8)
        let after = Array((linkedInNotesPreamble + [header, "Ada,Lorimore,,AE,Chief Engineer,04 Jul 2022", "Alan,Tarlow,,NPL,Researcher,30 Jun 2022"].joined(separator: "\n")).utf8)
        let diff = try RecordDiff.compare(before: before, after: after, path: "Basic_LinkedInDataExport_07-11-2022.zip/Connections.csv")
        #expect(diff.kind == .connections)
        #expect(diff.key == .columns(["First Name", "Last Name", "Connected On"]))
        #expect(diff.changed.map(\.key) == ["Ada | Lorimore | 04 Jul 2022"] && diff.added.isEmpty && diff.removed.isEmpty)
        #expect(diff.summary.jobChanges == 1)
        #expect(diff.summary.text.hasSuffix("Connections.csv: 0 new connections, 0 removed, 1 changed job"))
    }

    @Test("default keys of known LinkedIn files; --key overrides them")
    func defaultKeys() throws {
        let cases: [(path: String, header: String, before: String, after: String, key: [String])] = [
            ("Shares.csv", "Date,ShareLink,ShareCommentary,SharedUrl,MediaUrl,Visibility",
             "2024-01-01 10:00:00,https://l/1,Hi,,,MEMBER_NETWORK", "2024-01-01 10:00:00,https://l/1,Hello,,,MEMBER_NETWORK", ["ShareLink"]),
            ("Comments.csv", "Date,Link,Message", "2024-01-01 10:00:00,https://l/2,Nice", "2024-01-01 10:00:00,https://l/2,Very nice", ["Date", "Link"]),
            ("Reactions.csv", "Date,Type,Link", "2024-01-01 10:00:00,LIKE,https://l/3", "2024-01-01 10:00:00,PRAISE,https://l/3", ["Date", "Link"]),
            ("Invitations.csv", "From,To,Sent At,Message,Direction,inviterProfileUrl,inviteeProfileUrl",
             "Kim,Me,\"12/15/24, 7:47 AM\",,INCOMING,https://l/kim,https://l/me", "Kim,Me,\"12/15/24, 7:47 AM\",Hello,INCOMING,https://l/kim,https://l/me",
             ["From", "To", "Sent At"]),
            ("Recommendations_Received.csv", "First Name,Last Name,Company,Job Title,Text,Creation Date,Status",
             "Ada,Lorimore,AE,Founder,Great,\"01/02/24, 10:00 AM\",VISIBLE", "Ada,Lorimore,AE,Founder,Great,\"01/02/24, 10:00 AM\",HIDDEN",
             ["First Name", "Last Name", "Creation Date"]),
            ("Recommendations_Given.csv", "First Name,Last Name,Company,Job Title,Text,Creation Date,Status",
             "Alan,Tarlow,NPL,Researcher,Sharp,\"01/03/24, 10:00 AM\",VISIBLE", "Alan,Tarlow,NPL,Fellow,Sharp,\"01/03/24, 10:00 AM\",VISIBLE",
             ["First Name", "Last Name", "Creation Date"]),
            ("Endorsement_Received_Info.csv", "Endorsement Date,Skill Name,Endorser First Name,Endorser Last Name,Endorser Public Url,Endorsement Status",
             "2024/01/02 10:00:00 UTC,Swift,Ada,Lorimore,www.linkedin.com/in/ada,ACCEPTED", "2024/01/02 10:00:00 UTC,Swift,Ada,Lorimore,www.linkedin.com/in/ada,REJECTED",
             ["Endorsement Date", "Skill Name", "Endorser Public Url"]),
            ("Endorsement_Given_Info.csv", "Endorsement Date,Skill Name,Endorsee First Name,Endorsee Last Name,Endorsee Public Url,Endorsement Status",
             "2024/01/02 10:00:00 UTC,Rust,Alan,Tarlow,www.linkedin.com/in/alan,ACCEPTED", "2024/01/02 10:00:00 UTC,Rust,Alan,Tarlow,www.linkedin.com/in/alan,REJECTED",
             ["Endorsement Date", "Skill Name", "Endorsee Public Url"]),
            ("Jobs/Saved Jobs.csv", "Saved Date,Job Url,Job Title,Company Name",
             "\"1/2/24, 10:00 AM\",https://l/job/1,Engineer,Acme", "\"1/2/24, 10:00 AM\",https://l/job/1,Senior Engineer,Acme", ["Job Url"]),
            ("Saved_Jobs.csv", "Saved Date,Job Url,Job Title,Company Name",
             "\"1/2/24, 10:00 AM\",https://l/job/2,Engineer,Acme", "\"1/2/24, 10:00 AM\",https://l/job/2,Engineer,Acme Inc",  ["Job Url"]),
            ("Positions.csv", "Company Name,Title,Description,Location,Started On,Finished On",
             "Acme,Engineer,,Berlin,Jan 2020,", "Acme,Engineer,,Berlin,Jan 2020,Dec 2023", ["Company Name", "Title", "Started On"]),
        ]
        for c in cases {
            let diff = try RecordDiff.compare(before: lines([c.header, c.before]), after: lines([c.header, c.after]), path: c.path)
            #expect(diff.key == .columns(c.key), "\(c.path)")
            #expect(diff.changed.count == 1 && diff.added.isEmpty && diff.removed.isEmpty, "\(c.path): \(diff.summary.text)")
        }
        // messages.csv: the three message columns.
        let messagesHeader = "CONVERSATION ID,CONVERSATION TITLE,FROM,SENDER PROFILE URL,TO,RECIPIENT PROFILE URLS,DATE,SUBJECT,CONTENT,FOLDER"
        let m = try RecordDiff.compare(
            before: lines([messagesHeader, "c1,,Ada,u,Me,u,2024-01-01 10:00:00 UTC,,Hi,INBOX"]),
            after: lines([messagesHeader, "c1,,Ada,u,Me,u,2024-01-01 10:00:00 UTC,,Hi,ARCHIVE"]), path: "messages.csv")
        #expect(m.key == .linkedInMessages && m.kind == .messages && m.changed.count == 1)
        // A one-row file: an edit is a change of that row.
        let profileHeader = "First Name,Last Name,Maiden Name,Address,Birth Date,Headline,Summary"
        let profile = try RecordDiff.compare(
            before: lines([profileHeader, "Ada,Lorimore,,,,Founder,"]), after: lines([profileHeader, "Ada,Lorimore,,,,Chief Engineer,"]),
            path: "Profile.csv")
        #expect(profile.key == .rowOrder && profile.changed.first?.changedColumns == ["Headline"])
        // The other one-row files, as the generator writes them: an edit is a change too.
        let adHeader = "Member Age,Buyer Groups,Company Names,Member Gender,Member Skills"
        let ads = try RecordDiff.compare(
            before: lines([adHeader, "25 to 34,,Acme; Globex,Female,Swift"]), after: lines([adHeader, "25 to 34,,Acme; Globex,Female,Swift; Rust"]),
            path: "Ad_Targeting.csv")
        #expect(ads.key == .rowOrder && ads.changed.first?.changedColumns == ["Member Skills"], "\(ads.summary.text)")
        let seekerHeader = "Locations,Industries,Job Titles,Open To Recruiters,Job Seeker Activity Level"
        let seeker = try RecordDiff.compare(
            before: lines([seekerHeader, "Berlin,Software,Engineer,No,Casually looking"]),
            after: lines([seekerHeader, "Berlin,Software,Engineer,Yes,Actively looking"]), path: "Jobs/Job Seeker Preferences.csv")
        #expect(seeker.key == .rowOrder && seeker.changed.count == 1 && seeker.added.isEmpty && seeker.removed.isEmpty)
        // --key wins.
        let shares = cases[0]
        let overridden = try RecordDiff.compare(
            before: lines([shares.header, shares.before]), after: lines([shares.header, shares.after]), path: shares.path,
            keyColumns: ["ShareCommentary"])
        #expect(overridden.key == .columns(["ShareCommentary"]) && overridden.added.count == 1 && overridden.removed.count == 1)
    }

    @Test("the kind comes from name and header together")
    func kindFromNameAndHeader() throws {
        let messagesHeader = "CONVERSATION ID,CONVERSATION TITLE,FROM,SENDER PROFILE URL,TO,RECIPIENT PROFILE URLS,DATE,SUBJECT,CONTENT,FOLDER"
        let row = "c1,,Ada,u,Me,u,2024-01-01 10:00:00 UTC,,Hi,INBOX"
        let items = try RecordDiff.compare(before: lines([messagesHeader]), after: lines([messagesHeader, row]), path: "Items.csv")
        #expect(items.kind == .generic && items.key == .wholeRow)
        #expect(items.summary.text == "Items.csv: 1 added, 0 removed, 0 changed")
        // messages.csv without the message columns is generic too.
        let odd = try RecordDiff.compare(before: lines(["a,b"]), after: lines(["a,b", "1,2"]), path: "messages.csv")
        #expect(odd.kind == .generic)
        // A Connections-like header under another name is not Connections.
        let people = try RecordDiff.compare(
            before: lines([linkedInConnectionsHeader]), after: lines([linkedInConnectionsHeader, "Ada,Lorimore,https://l/ada,,AE,Founder,04 Jul 2023"]),
            path: "People.csv")
        #expect(people.kind == .generic && people.key == .wholeRow)
    }

    @Test("values compare as bytes: NFC and NFD differ, invalid UTF-8 is kept and shown escaped and in base64")
    func exactBytes() throws {
        let nfc = "Caf\u{E9}"
        let nfd = "Cafe\u{301}"
        #expect(nfc == nfd, "Swift strings call them equal; the diff must not")
        let diff = try RecordDiff.compare(before: lines(["id,name", "1,\(nfc)"]), after: lines(["id,name", "1,\(nfd)"]), path: "x.csv", keyColumns: ["id"])
        #expect(diff.changed.count == 1)
        #expect(diff.changed.first?.before.bytes("name") == Array(nfc.utf8))
        #expect(diff.changed.first?.after.bytes("name") == Array(nfd.utf8))
        // By whole row too: one removed, one added.
        let whole = try RecordDiff.compare(before: lines(["name", nfc]), after: lines(["name", nfd]), path: "y.csv")
        #expect(whole.added.count == 1 && whole.removed.count == 1)

        // Latin-1 bytes: é (E9) and è (E8) are both invalid UTF-8 and would both read as U+FFFD.
        let before = Array("id,name\n1,Ren".utf8) + [0xE9] + Array("\n".utf8)
        let after = Array("id,name\n1,Ren".utf8) + [0xE8] + Array("\n".utf8)
        let latin = try RecordDiff.compare(before: before, after: after, path: "z.csv", keyColumns: ["id"])
        let change = try #require(latin.changed.first)
        #expect(change.before.bytes("name") == Array("Ren".utf8) + [0xE9])
        #expect(change.after.bytes("name") == Array("Ren".utf8) + [0xE8])
        #expect(RecordText.field(change.before.bytes[0]) == "Ren\\xe9")
        #expect(RecordText.field(change.after.bytes[0]) == "Ren\\xe8")
        let data = try JSONEncoder().encode(RecordDiffReport(files: [latin]))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let file = try #require((object["files"] as? [[String: Any]])?.first)
        let changed = try #require((file["changed"] as? [[String: Any]])?.first)
        #expect((changed["before"] as? [String: String])?["name"] == "Ren\u{FFFD}")
        #expect((changed["before_bytes"] as? [String: String])?["name"] == Data(Array("Ren".utf8) + [0xE9]).base64EncodedString())
        #expect((changed["after_bytes"] as? [String: String])?["name"] == Data(Array("Ren".utf8) + [0xE8]).base64EncodedString())
        #expect((changed["row_bytes"] as? [String: String])?["name"] != nil)
        #expect(changed["key_bytes"] == nil, "a UTF-8 key has no _bytes")
        #expect(RecordText.base64([0xE9]) == "6Q==" && RecordText.base64(Array("abc".utf8)) == "YWJj")

        // Windows-1252: a display hint only, for files with no UTF-8 at all.
        #expect(latin.shownAs == "Windows-1252")
        #expect(RecordText.fromWindows1252([0x52, 0xE9, 0x80, 0x93]) == Array("R\u{E9}\u{20AC}\u{201C}".utf8))
        #expect(RecordText.looksLikeWindows1252(Array("caf".utf8) + [0xE9]))
        #expect(!RecordText.looksLikeWindows1252(Array("Zo\u{EB} caf".utf8) + [0xE9]), "valid UTF-8 inside: not a Windows-1252 file")
        #expect(!RecordText.looksLikeWindows1252(Array("plain ascii".utf8)))
        #expect(!RecordText.looksLikeWindows1252([0x61, 0x81]), "0x81 is undefined in Windows-1252")
        #expect(diff.shownAs == nil)
    }

    @Test("identical rows pair before different ones: duplicates report the truth, reordering is no change")
    func duplicatesPairExactly() throws {
        let drop = try RecordDiff.compare(before: lines(["id,v", "1,a", "1,b"]), after: lines(["id,v", "1,b"]), path: "d.csv", keyColumns: ["id"])
        #expect(drop.changed.isEmpty && drop.added.isEmpty)
        #expect(drop.removed.map(\.row.values) == [["1", "a"]])
        let swapped = try RecordDiff.compare(before: lines(["id,v", "1,a", "1,b"]), after: lines(["id,v", "1,b", "1,a"]), path: "d.csv", keyColumns: ["id"])
        #expect(swapped.isEmpty)
        // The rest still pairs by key: 1,a 1,b → 1,b 1,c is one change a → c.
        let edit = try RecordDiff.compare(before: lines(["id,v", "1,a", "1,b"]), after: lines(["id,v", "1,b", "1,c"]), path: "d.csv", keyColumns: ["id"])
        #expect(edit.changed.count == 1 && edit.changed.first?.before["v"] == "a" && edit.changed.first?.after["v"] == "c")
        #expect(edit.added.isEmpty && edit.removed.isEmpty)
    }

    @Test("blank lines are not records")
    func blankLines() throws {
        let plain = lines(["Name", "Swift", "Rust"])
        let spaced = lines(["Name", "", "Swift", "", "", "Rust", ""])
        let diff = try RecordDiff.compare(before: plain, after: spaced, path: "Skills.csv")
        #expect(diff.isEmpty)
        let crlf = Array("Name\r\n\r\nSwift\r\nRust\r\n\r\n".utf8)
        #expect(try RecordDiff.compare(before: plain, after: crlf, path: "Skills.csv").isEmpty)
        // A row of empty fields is a record.
        let commas = try RecordDiff.compare(before: lines(["a,b", "1,2"]), after: lines(["a,b", "1,2", ","]), path: "e.csv")
        #expect(commas.added.count == 1)
    }

    @Test("one-line values: markers stay first, line breaks escaped, CSV quoting, shortening in the middle")
    func textForm() {
        #expect(RecordText.field(Array("two\nlines\r".utf8)) == "\"two\\nlines\\r\"")
        #expect(RecordText.row([Array("a".utf8), Array(" b".utf8), Array("c".utf8)]) == "a,\" b\",c")
        let left = RecordText.row([Array("a, b".utf8), Array("c".utf8)])
        let right = RecordText.row([Array("a".utf8), Array("b, c".utf8)])
        #expect(left == "\"a, b\",c" && right == "a,\"b, c\"" && left != right)
        #expect(RecordText.field(Array("say \"hi\"".utf8)) == "\"say \"\"hi\"\"\"")
        #expect(RecordText.field(Array("plain".utf8)) == "plain")
        let long = "https://www.linkedin.com/in/" + String(repeating: "x", count: 60) + "-tail9f3a"
        let short = RecordText.field(Array(long.utf8))
        #expect(short.count == RecordText.defaultLimit)
        #expect(short.hasPrefix("https://www.linked") && short.hasSuffix("-tail9f3a") && short.contains("…"))
        #expect(RecordText.field(Array(long.utf8), limit: nil) == long)
        #expect(RecordText.field([0x1B, 0x5B, 0x32, 0x4A]) == "\\x1b[2J")
    }

    @Test("a changed value's two sides never print alike: whole when shortening hides the difference, \\u{…} when only normalization differs")
    func changedPairsReadDifferently() {
        // Differ only in the middle: shortened, both would read "https://example.com/aa…bb/end".
        let a = Array(("https://example.com/" + String(repeating: "a", count: 30) + "X" + String(repeating: "b", count: 30) + "/end").utf8)
        let b = Array(("https://example.com/" + String(repeating: "a", count: 30) + "Y" + String(repeating: "b", count: 30) + "/end").utf8)
        #expect(RecordText.field(a) == RecordText.field(b))
        let middle = RecordText.changedPair(a, b)
        #expect(middle.before == String(decoding: a, as: UTF8.self) && middle.after == String(decoding: b, as: UTF8.self))
        // NFC and NFD: the same on screen, so the characters beyond ASCII are spelled out.
        let nfc = Array("Jos\u{E9}".utf8), nfd = Array("Jose\u{301}".utf8)
        let normalization = RecordText.changedPair(nfc, nfd)
        #expect(normalization.before == "Jos\\u{e9}" && normalization.after == "Jose\\u{301}")
        // Values that already read differently are shown as `field` shows them, shortened.
        let long = Array(String(repeating: "c", count: 80).utf8)
        let plain = RecordText.changedPair(long, Array("short".utf8))
        #expect(plain.before == RecordText.field(long) && plain.before.contains("…") && plain.after == "short")
        let same = RecordText.changedPair(nfc, nfc)
        #expect(same.before == "Jos\u{E9}" && same.after == "Jos\u{E9}")
    }

    @Test("X archive .js files: tweets by id, likes by tweetId, followers by accountId")
    func xArchive() throws {
        let before = js("tweets", [tweet("100", "first"), tweet("101", "second", favorites: 1), tweet("102", "third")])
        let after = js("tweets", [tweet("103", "fourth"), tweet("101", "second", favorites: 5), tweet("100", "first")])
        let diff = try RecordDiff.compare(before: before, after: after, path: "twitter-2022-05-02-ab12.zip/data/tweets.js")
        #expect(diff.kind == .tweets && diff.key == .columns(["tweet.id_str"]))
        #expect(diff.added.map(\.key) == ["103"] && diff.removed.map(\.key) == ["102"])
        #expect(diff.changed.map(\.key) == ["101"] && diff.changed.first?.changedColumns == ["tweet.favorite_count"])
        #expect(diff.summary.text.hasSuffix("data/tweets.js: 1 new tweet, 1 removed, 1 changed"))

        let likes = try RecordDiff.compare(
            before: js("like", ["{\"like\": {\"tweetId\": \"7\", \"fullText\": \"x\"}}"]),
            after: js("like", ["{\"like\": {\"tweetId\": \"8\", \"fullText\": \"y\"}}", "{\"like\": {\"tweetId\": \"7\", \"fullText\": \"x\"}}"]),
            path: "data/like.js")
        #expect(likes.kind == .likes && likes.key == .columns(["like.tweetId"]) && likes.added.map(\.key) == ["8"])
        let followers = try RecordDiff.compare(
            before: js("follower", ["{\"follower\": {\"accountId\": \"1\"}}", "{\"follower\": {\"accountId\": \"2\"}}"]),
            after: js("follower", ["{\"follower\": {\"accountId\": \"2\"}}"]), path: "data/follower.js")
        #expect(followers.kind == .followers && followers.removed.map(\.key) == ["1"])

        // A plain JSON array with an id; nested members flatten; escapes decode to exact bytes.
        let plain = try RecordDiff.compare(
            before: Array("[{\"id\": 1, \"name\": \"Caf\\u00e9\", \"tags\": [\"a\"]}]".utf8),
            after: Array("[{\"id\": 1, \"name\": \"Cafe\\u0301\", \"tags\": [\"a\", \"b\"]}]".utf8), path: "items.json")
        #expect(plain.key == .columns(["id"]) && plain.kind == .generic)
        #expect(plain.changed.first?.changedColumns == ["name"])
        #expect(plain.changed.first?.after.bytes("name") == Array("Cafe\u{301}".utf8))
        #expect(plain.headerChange?.added == ["tags.1"])

        // Without an id, the whole record.
        let noID = try RecordDiff.compare(before: Array("[{\"a\": 1}]".utf8), after: Array("[{\"a\": 2}]".utf8), path: "x.json")
        #expect(noID.key == .wholeRow && noID.added.count == 1 && noID.removed.count == 1)

        // Malformed JSON is an error naming the side and the line.
        #expect(throws: RecordDiffError.unreadableJSON(path: "t.js", side: .after, reason: "the array never closes on line 2")) {
            try RecordDiff.compare(before: before, after: Array("window.YTD.tweets.part0 = [\n{\"tweet\": {}}".utf8), path: "t.js")
        }
    }

    @Test("the generator writes X archives and a pre-2023 Connections.csv")
    func generatorShapes() throws {
        var config = GeneratorConfig(outputDirectory: "/nonexistent")
        config.connections = 200
        config.platform = .x
        let x = XArchiveGenerator(config: config)
        let first = x.nextArchive(), second = x.nextArchive()
        #expect(ExportName.parse(fileName: first.zipFileName)?.series == "twitter")
        #expect(first.members.map(\.path) == ["data/account.js", "data/tweets.js", "data/like.js", "data/follower.js", "data/following.js"])
        let tweets = try #require(second.member("data/tweets.js")).contents
        #expect(tweets.starts(with: Array("window.YTD.tweets.part0 = [".utf8)))
        let diff = try RecordDiff.compare(
            before: try #require(first.member("data/tweets.js")).contents, after: tweets, path: "data/tweets.js")
        #expect(diff.key == .columns(["tweet.id_str"]))
        #expect(Set(diff.added.map(\.key)) == Set(second.tweetIDs).subtracting(first.tweetIDs))
        #expect(Set(diff.removed.map(\.key)) == Set(first.tweetIDs).subtracting(second.tweetIDs))
        #expect(!diff.changed.isEmpty && diff.changed.allSatisfy { $0.changedColumns == ["tweet.favorite_count"] })

        var legacy = GeneratorConfig(outputDirectory: "/nonexistent")
        legacy.connections = 50
        legacy.messagesBytes = 1000
        legacy.connectionsWithoutURL = true
        let export = LinkedInGenerator(config: legacy).nextExport()
        let table = try CSVReader.read(try #require(export.member("Connections.csv")).contents)
        #expect(table.header == ["First Name", "Last Name", "Email Address", "Company", "Position", "Connected On"])
        #expect(table.rows.allSatisfy { $0.count == 6 })
    }
}
