// XArchive.swift: a synthetic X (Twitter) archive series in the shape X serves it.
//
// `twitter-YYYY-MM-DD-<hex>.zip` holding `data/account.js`, `data/tweets.js`, `data/like.js`,
// `data/follower.js` and `data/following.js`, each `window.YTD.<name>.part0 = [ … ]` with one
// object per record (`{"tweet": {…}}`, `{"like": {…}}`, `{"follower": {…}}`). Every value is
// made up from the seed: account ids, handles and texts are synthetic, nobody's real data.
// Between two archives tweets are added (newest first), a few deleted, counts of some change;
// likes are added; followers come and go.

import CofferExports
import Foundation

/// One X archive, in memory.
public struct XArchive: Sendable {
    /// 0 for the first archive.
    public let index: Int
    /// The archive date (in the file name).
    public let date: CivilDate
    /// The hexadecimal suffix of the file name.
    public let suffix: String
    /// Members in archive order.
    public let members: [ExportMember]
    /// Tweet ids in this archive (`id_str`), newest first.
    public let tweetIDs: [String]

    /// `twitter-YYYY-MM-DD-<hex>`.
    public var baseName: String {
        func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "twitter-\(date.year)-\(pad(date.month))-\(pad(date.day))-\(suffix)"
    }

    /// `twitter-YYYY-MM-DD-<hex>.zip`.
    public var zipFileName: String { baseName + ".zip" }

    /// The member at `path`, if any.
    public func member(_ path: String) -> ExportMember? {
        members.first { $0.path == path }
    }

    /// The zip.
    public func zipArchive() throws(ZipError) -> [UInt8] {
        var writer = ZipWriter(options: .linkedIn)
        for member in members {
            try writer.addFile(member.path, contents: member.contents, modified: member.dosTimestamp)
        }
        return try writer.finish()
    }
}

/// Generates a series of X archives, one per call, in date order.
public final class XArchiveGenerator {
    struct Tweet {
        let id: UInt64
        let createdAt: Moment
        let text: String
        var favorites: Int
        var retweets: Int
    }

    public let config: GeneratorConfig
    private var rng: SeededRandom
    private var tweets: [Tweet] = []  // newest first
    private var likes: [(tweetID: UInt64, text: String)] = []
    private var followers: [UInt64] = []
    private var following: [UInt64] = []
    private var nextTweetID: UInt64
    private var index = 0
    private let accountID: UInt64
    private let handle: String

    public init(config: GeneratorConfig) {
        self.config = config
        rng = SeededRandom(seed: config.seed, stream: "x-archive")
        accountID = 1_000_000_000 + UInt64(rng.int(in: 0...899_999_999))
        handle = "synthetic_user_\(rng.int(in: 100...999))"
        nextTweetID = 1_500_000_000_000_000_000 + UInt64(rng.int(in: 0...999_999))
        let start = Self.moment(config.start, 9, 0, 0)
        for n in 0..<max(5, config.connections / 50) {
            tweets.insert(makeTweet(at: start.adding(seconds: Int64(-86_400 * (n + 1)))), at: 0)
        }
        tweets.sort { $0.id > $1.id }
        for _ in 0..<max(3, config.connections / 100) { likes.append(makeLike()) }
        for _ in 0..<max(4, config.connections / 30) { followers.append(makeAccount()) }
        for _ in 0..<max(4, config.connections / 40) { following.append(makeAccount()) }
    }

    private static let words = [
        "coffee", "backup", "vault", "swift", "morning", "rain", "train", "garden", "notes", "release",
        "tests", "weekend", "bread", "music", "walk", "river", "draft", "idea", "café", "naïve",
    ]

    private func makeTweet(at moment: Moment) -> Tweet {
        nextTweetID += UInt64(rng.int(in: 1_000...9_999_999))
        let count = rng.int(in: 3...12)
        var text = (0..<count).map { _ in rng.pick(Self.words) }.joined(separator: " ")
        if rng.chance(0.2) { text += ", again" }
        if rng.chance(0.1) { text += "\nsecond line" }
        return Tweet(id: nextTweetID, createdAt: moment, text: text, favorites: rng.int(in: 0...40), retweets: rng.int(in: 0...5))
    }

    private func makeLike() -> (UInt64, String) {
        (1_400_000_000_000_000_000 + UInt64(rng.int(in: 0...999_999_999)), (0..<rng.int(in: 2...8)).map { _ in rng.pick(Self.words) }.joined(separator: " "))
    }

    private func makeAccount() -> UInt64 {
        UInt64(rng.int(in: 10_000...999_999_999))
    }

    /// The next archive of the series.
    public func nextArchive() -> XArchive {
        let date = config.start.adding(days: index * config.intervalDays)
        let now = Self.moment(date, 9, 0, 0)
        if index > 0 {
            // Deletions, count changes, new tweets (newest first), likes, followers.
            if tweets.count > 3 {
                for _ in 0..<rng.int(in: 0...2) { tweets.remove(at: rng.int(in: 0..<tweets.count)) }
            }
            for _ in 0..<rng.int(in: 1...3) where !tweets.isEmpty {
                let k = rng.int(in: 0..<tweets.count)
                tweets[k].favorites += rng.int(in: 1...9)
            }
            let previous = date.adding(days: -config.intervalDays)
            var fresh: [Tweet] = []
            for n in 0..<rng.int(in: 2...6) {
                fresh.append(makeTweet(at: Self.moment(previous, 10 + n, n * 7, n)))
            }
            tweets.insert(contentsOf: fresh.sorted { $0.id > $1.id }, at: 0)
            for _ in 0..<rng.int(in: 1...4) { likes.insert(makeLike(), at: 0) }
            if followers.count > 2 { followers.remove(at: rng.int(in: 0..<followers.count)) }
            for _ in 0..<rng.int(in: 1...3) { followers.insert(makeAccount(), at: 0) }
            following.insert(makeAccount(), at: 0)
        }
        var hexRNG = SeededRandom(seed: config.seed, stream: "x-archive-name", index: UInt64(index))
        let suffix = (0..<64).map { _ in String(hexRNG.int(in: 0...15), radix: 16) }.joined()
        func file(_ name: String, _ records: [String]) -> [UInt8] {
            Array(("window.YTD.\(name).part0 = [\n" + records.joined(separator: ",\n") + "\n]").utf8)
        }
        func quoted(_ text: String) -> String {
            var out = "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        }
        let account = file("account", ["""
              {
                "account" : {
                  "email" : "\(handle)@example.com",
                  "createdVia" : "web",
                  "username" : "\(handle)",
                  "accountId" : "\(accountID)",
                  "createdAt" : "2015-06-01T12:00:00.000Z",
                  "accountDisplayName" : "Synthetic User"
                }
              }
            """])
        let tweetRecords = tweets.map { t in
            """
              {
                "tweet" : {
                  "retweeted" : false,
                  "favorite_count" : "\(t.favorites)",
                  "id_str" : "\(t.id)",
                  "retweet_count" : "\(t.retweets)",
                  "created_at" : "\(Self.twitterDate(t.createdAt))",
                  "favorited" : false,
                  "full_text" : \(quoted(t.text)),
                  "lang" : "en",
                  "id" : "\(t.id)"
                }
              }
            """
        }
        let likeRecords = likes.map { l in
            """
              {
                "like" : {
                  "tweetId" : "\(l.tweetID)",
                  "fullText" : \(quoted(l.text)),
                  "expandedUrl" : "https://twitter.com/i/web/status/\(l.tweetID)"
                }
              }
            """
        }
        func accounts(_ wrapper: String, _ ids: [UInt64]) -> [String] {
            ids.map { id in
                """
                  {
                    "\(wrapper)" : {
                      "accountId" : "\(id)",
                      "userLink" : "https://twitter.com/intent/user?user_id=\(id)"
                    }
                  }
                """
            }
        }
        let contents: [(String, [UInt8])] = [
            ("data/account.js", account), ("data/tweets.js", file("tweets", tweetRecords)),
            ("data/like.js", file("like", likeRecords)), ("data/follower.js", file("follower", accounts("follower", followers))),
            ("data/following.js", file("following", accounts("following", following))),
        ]
        let members = contents.enumerated().map { n, item in
            ExportMember(path: item.0, contents: item.1, modified: now.adding(seconds: Int64(n)))
        }
        let archive = XArchive(index: index, date: date, suffix: suffix, members: members, tweetIDs: tweets.map { String($0.id) })
        index += 1
        return archive
    }

    static func moment(_ date: CivilDate, _ hour: Int, _ minute: Int, _ second: Int) -> Moment {
        Moment(seconds: Int64(date.dayNumber) * 86_400 + Int64(hour * 3600 + minute * 60 + second))
    }

    /// `Wed May 04 10:00:00 +0000 2022`.
    static func twitterDate(_ moment: Moment) -> String {
        let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]  // 1970-01-01 was a Thursday
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let d = moment.date
        let weekday = days[Int(((moment.seconds / 86_400) % 7 + 7) % 7)]
        func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(weekday) \(months[d.month - 1]) \(pad(d.day)) \(pad(moment.hour)):\(pad(moment.minute)):\(pad(moment.second)) +0000 \(d.year)"
    }

    /// Writes `archive` as a zip under `config.outputDirectory`; returns its path and size.
    public func write(_ archive: XArchive) throws(GeneratorError) -> (path: String, size: Int) {
        let directory = URL(fileURLWithPath: config.outputDirectory, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw .io(path: directory.path, message: "\(error)")
        }
        let bytes: [UInt8]
        do { bytes = try archive.zipArchive() } catch { throw .zip(error) }
        let url = directory.appendingPathComponent(archive.zipFileName)
        do { try Data(bytes).write(to: url, options: .atomic) } catch { throw .io(path: url.path, message: "\(error)") }
        return (url.path, bytes.count)
    }
}
