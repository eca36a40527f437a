@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

/// Retention tables: restic's documented `forget` examples, bucket edge cases, the union of
/// rules, per-name independence, refusals and `keepDistinct`.
@Suite("RetentionPolicy")
struct RetentionPolicyTests {
    // MARK: Helpers

    /// `2019-09-01 11:00` (UTC) → Date.
    static func t(_ text: String) -> Date {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = text.count > 10 ? "yyyy-MM-dd HH:mm" : "yyyy-MM-dd"
        return f.date(from: text)!
    }

    /// A deterministic id per label.
    static func id(_ label: String) -> ObjectID { ObjectID.hashing(Array(label.utf8)) }

    static func c(_ time: String, name: String = "n", tags: [String] = [], content: String? = nil) -> RetentionPolicy.Candidate {
        RetentionPolicy.Candidate(id: id(name + time), name: name, time: t(time), tags: tags, content: content.map { id("content " + $0) })
    }

    /// The times (as given) of the kept versions, oldest first.
    static func kept(_ decisions: [RetentionPolicy.Decision], format: String = "yyyy-MM-dd HH:mm") -> [String] {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = format
        return decisions.filter(\.keep).map { f.string(from: $0.time) }.sorted()
    }

    /// `2025-01-31` (UTC).
    static func day(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd"
        return f.string(from: date)
    }

    static func policy(_ edit: (inout RetentionPolicy) -> Void) -> RetentionPolicy {
        var p = RetentionPolicy()
        edit(&p)
        return p
    }

    static let farFuture = t("2100-01-01")

    // MARK: restic's documented examples

    /// doc/060_forget.rst: one backup every Sunday for 12 weeks; `--keep-daily 4` keeps the last
    /// four Sundays and removes the other eight.
    @Test func resticTwelveSundaysKeepDaily4() throws {
        let sundays = [
            "2019-09-01", "2019-09-08", "2019-09-15", "2019-09-22", "2019-09-29", "2019-10-06", "2019-10-13", "2019-10-20",
            "2019-10-27", "2019-11-03", "2019-11-10", "2019-11-17",
        ].map { Self.c($0 + " 11:00") }
        let d = try Self.policy { $0.keepDaily = 4 }.apply(to: sundays, now: Self.farFuture)
        #expect(Self.kept(d) == ["2019-10-27 11:00", "2019-11-03 11:00", "2019-11-10 11:00", "2019-11-17 11:00"])
        #expect(d.filter { !$0.keep }.count == 8)
        // Newest first, numbered as the daily buckets are used.
        #expect(d.prefix(4).map(\.reasons) == [["daily 1"], ["daily 2"], ["daily 3"], ["daily 4"]])
        #expect(d.last?.reasons == ["no rule keeps it"])
    }

    /// doc/060_forget.rst: one backup a day; `--keep-daily 7 --keep-weekly 5 --keep-monthly 12
    /// --keep-yearly 75` keeps 7 dailies, 4 more weeklies (the 7 dailies hold one), 11 more
    /// monthlies and the yearlies; with less than 75 years of data, the oldest version too.
    @Test func resticDailyBackupsLongPolicy() throws {
        var list: [RetentionPolicy.Candidate] = []
        var day = Self.t("2021-06-01 12:00")
        let last = Self.t("2024-03-17 12:00")  // a Sunday
        while day <= last {
            list.append(RetentionPolicy.Candidate(id: Self.id("\(day)"), name: "n", time: day))
            day = day.addingTimeInterval(86400)
        }
        let p = Self.policy { $0.keepDaily = 7; $0.keepWeekly = 5; $0.keepMonthly = 12; $0.keepYearly = 75 }
        let d = try p.apply(to: list, now: Self.farFuture)
        let expected = [
            // oldest yearly, yearly 2021, yearly 2022
            "2021-06-01", "2021-12-31", "2022-12-31",
            // monthly 12 … 2 (monthly 1 is the newest version)
            "2023-04-30", "2023-05-31", "2023-06-30", "2023-07-31", "2023-08-31", "2023-09-30", "2023-10-31", "2023-11-30",
            "2023-12-31", "2024-01-31", "2024-02-29",
            // weekly 5 … 2 (Sundays)
            "2024-02-18", "2024-02-25", "2024-03-03", "2024-03-10",
            // daily 7 … 1
            "2024-03-11", "2024-03-12", "2024-03-13", "2024-03-14", "2024-03-15", "2024-03-16", "2024-03-17",
        ]
        #expect(Self.kept(d, format: "yyyy-MM-dd") == expected.sorted())
        let newest = try #require(d.first)
        #expect(newest.reasons == ["daily 1", "weekly 1", "monthly 1", "yearly 1"])
        let dec2023 = try #require(d.first { Self.day($0.time) == "2023-12-31" })
        #expect(dec2023.reasons == ["monthly 4", "yearly 2"])
        #expect(d.last?.reasons == ["oldest yearly"])
    }

    // MARK: Counting rules

    @Test func keepLast() throws {
        let list = ["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04", "2025-01-05"].map { Self.c($0) }
        let d = try Self.policy { $0.keepLast = 3 }.apply(to: list, now: Self.farFuture)
        #expect(Self.kept(d, format: "yyyy-MM-dd") == ["2025-01-03", "2025-01-04", "2025-01-05"])
        #expect(d.prefix(3).map(\.reasons) == [["last 1"], ["last 2"], ["last 3"]])
        // More than there are: all kept.
        let all = try Self.policy { $0.keepLast = 10 }.apply(to: list, now: Self.farFuture)
        #expect(all.allSatisfy { $0.keep })
        // Unlimited.
        #expect(try Self.policy { $0.keepLast = RetentionPolicy.unlimited }.apply(to: list, now: Self.farFuture).allSatisfy { $0.keep })
    }

    /// Several versions in one bucket: the newest counts; buckets without versions are not counted.
    @Test func dailyWithGapsAndSameDay() throws {
        let list = ["2025-01-01 10:00", "2025-01-02 08:00", "2025-01-02 20:00", "2025-01-05 12:00", "2025-01-09 12:00"].map { Self.c($0) }
        let d = try Self.policy { $0.keepDaily = 3 }.apply(to: list, now: Self.farFuture)
        #expect(Self.kept(d) == ["2025-01-02 20:00", "2025-01-05 12:00", "2025-01-09 12:00"])
    }

    @Test func hourly() throws {
        let list = ["2025-01-01 10:05", "2025-01-01 10:55", "2025-01-01 11:30", "2025-01-01 13:00", "2025-01-01 13:59"].map { Self.c($0) }
        let d = try Self.policy { $0.keepHourly = 2 }.apply(to: list, now: Self.farFuture)
        #expect(Self.kept(d) == ["2025-01-01 11:30", "2025-01-01 13:59"])
    }

    /// ISO weeks run Monday to Sunday and cross years: 2020-12-31 and 2021-01-03 are both in
    /// 2020-W53; 2021-01-04 starts 2021-W01.
    @Test func weeklyCrossesTheYear() throws {
        let list = ["2020-12-28 09:00", "2020-12-31 09:00", "2021-01-03 09:00", "2021-01-04 09:00"].map { Self.c($0) }
        let d = try Self.policy { $0.keepWeekly = 2 }.apply(to: list, now: Self.farFuture)
        #expect(Self.kept(d) == ["2021-01-03 09:00", "2021-01-04 09:00"])
        #expect(UTCTime(Self.t("2024-12-30")).isoWeekBucket == 202501)
        #expect(UTCTime(Self.t("2021-01-03")).isoWeekBucket == 202053)
        #expect(UTCTime(Self.t("2026-01-01")).isoWeekBucket == 202601)
        #expect(UTCTime(Self.t("2027-01-03")).isoWeekBucket == 202653)
    }

    /// Monthly with a gap of several months; the gap does not use counts.
    @Test func monthlyWithGaps() throws {
        let list = ["2024-01-10", "2024-01-20", "2024-02-15", "2024-07-01", "2024-07-30", "2025-01-01"].map { Self.c($0) }
        let d = try Self.policy { $0.keepMonthly = 3 }.apply(to: list, now: Self.farFuture)
        #expect(Self.kept(d, format: "yyyy-MM-dd") == ["2024-02-15", "2024-07-30", "2025-01-01"])
    }

    @Test func yearly() throws {
        let list = ["2019-03-01", "2019-11-01", "2021-06-01", "2023-01-01", "2023-12-31"].map { Self.c($0) }
        let d = try Self.policy { $0.keepYearly = 2 }.apply(to: list, now: Self.farFuture)
        #expect(Self.kept(d, format: "yyyy-MM-dd") == ["2021-06-01", "2023-12-31"])
    }

    /// restic keeps the oldest version too when a counting rule has counts left at the end,
    /// even if its bucket was already counted.
    @Test func oldestKeptWhenCountsRemain() throws {
        let list = ["2025-01-01 10:00", "2025-01-01 11:00", "2025-01-02 09:00", "2025-01-02 10:00"].map { Self.c($0) }
        let d = try Self.policy { $0.keepDaily = 5 }.apply(to: list, now: Self.farFuture)
        #expect(Self.kept(d) == ["2025-01-01 10:00", "2025-01-01 11:00", "2025-01-02 10:00"])
        #expect(d.last?.reasons == ["oldest daily"])
        // With the count used up, it goes.
        let two = try Self.policy { $0.keepDaily = 2 }.apply(to: list, now: Self.farFuture)
        #expect(Self.kept(two) == ["2025-01-01 11:00", "2025-01-02 10:00"])
    }

    // MARK: keep-within

    @Test func keepWithinIsRelativeToTheNewest() throws {
        let list = ["2024-01-01", "2024-12-01", "2025-01-10", "2025-01-11", "2025-01-12"].map { Self.c($0) }
        // Relative to the newest version (2025-01-12), not to now (2100).
        let d = try Self.policy { $0.keepWithin = RetentionPolicy.Duration(days: 2) }.apply(to: list, now: Self.farFuture)
        // Strictly after 2025-01-10 00:00: the version exactly at the cutoff goes.
        #expect(Self.kept(d, format: "yyyy-MM-dd") == ["2025-01-11", "2025-01-12"])
        #expect(d.first?.reasons == ["within 2d"])
        let y = try Self.policy { $0.keepWithin = RetentionPolicy.Duration(parsing: "1y") }.apply(to: list, now: Self.farFuture)
        #expect(Self.kept(y, format: "yyyy-MM-dd") == ["2024-12-01", "2025-01-10", "2025-01-11", "2025-01-12"])
    }

    /// Months are subtracted as Go's AddDate: 2025-03-31 minus one month is "2025-02-31",
    /// which is 2025-03-03.
    @Test func keepWithinMonthArithmetic() throws {
        let cutoff = RetentionPolicy.Duration(months: 1).cutoff(before: Self.t("2025-03-31 12:00"))
        #expect(cutoff == Self.t("2025-03-03 12:00"))
        #expect(RetentionPolicy.Duration(years: 1, months: 5, days: 7, hours: 2).cutoff(before: Self.t("2025-03-10 12:00")) == Self.t("2023-10-03 10:00"))
        #expect(RetentionPolicy.Duration(months: 14).cutoff(before: Self.t("2025-01-15")) == Self.t("2023-11-15"))
        #expect(RetentionPolicy.Duration(weeks: 2).cutoff(before: Self.t("2025-01-15")) == Self.t("2025-01-01"))
        let list = ["2025-03-02 12:00", "2025-03-04 12:00", "2025-03-31 12:00"].map { Self.c($0) }
        let d = try Self.policy { $0.keepWithin = RetentionPolicy.Duration(months: 1) }.apply(to: list, now: Self.farFuture)
        #expect(Self.kept(d) == ["2025-03-04 12:00", "2025-03-31 12:00"])
    }

    /// A version in the future does not move the window, and is itself kept.
    @Test func keepWithinIgnoresFutureVersions() throws {
        let list = ["2025-01-01", "2025-01-05", "2025-01-06", "2030-01-01"].map { Self.c($0) }
        let d = try Self.policy { $0.keepWithin = RetentionPolicy.Duration(days: 3) }.apply(to: list, now: Self.t("2025-02-01"))
        #expect(Self.kept(d, format: "yyyy-MM-dd") == ["2025-01-05", "2025-01-06", "2030-01-01"])
    }

    @Test func durationParsing() {
        #expect(RetentionPolicy.Duration(parsing: "1y5m7d2h") == RetentionPolicy.Duration(years: 1, months: 5, days: 7, hours: 2))
        #expect(RetentionPolicy.Duration(parsing: "6mo") == RetentionPolicy.Duration(months: 6))
        #expect(RetentionPolicy.Duration(parsing: "2w")?.description == "2w")
        #expect(RetentionPolicy.Duration(parsing: "36h")?.description == "36h")
        #expect(RetentionPolicy.Duration(parsing: "1y5m7d2h")?.description == "1y5mo7d2h")
        for bad in ["", "5", "d", "1x", "0d", "1d1d", "1m1mo", "-1d", "1.5d"] {
            #expect(RetentionPolicy.Duration(parsing: bad) == nil, "\(bad)")
        }
    }

    // MARK: keep-tag

    @Test func keepTag() throws {
        let list = [
            Self.c("2025-01-01", tags: ["linkedin"]), Self.c("2025-01-02", tags: ["linkedin", "yearly"]), Self.c("2025-01-03", tags: []),
            Self.c("2025-01-04", tags: ["yearly"]), Self.c("2025-01-05", tags: []),
        ]
        let one = try Self.policy { $0.keepTags = [["linkedin"]] }.apply(to: list, now: Self.farFuture)
        #expect(Self.kept(one, format: "yyyy-MM-dd") == ["2025-01-01", "2025-01-02"])
        #expect(one.first { $0.keep }?.reasons == ["tag linkedin"])
        // A list needs all its tags.
        let both = try Self.policy { $0.keepTags = [["linkedin", "yearly"]] }.apply(to: list, now: Self.farFuture)
        #expect(Self.kept(both, format: "yyyy-MM-dd") == ["2025-01-02"])
        // Several lists: any of them.
        let any = try Self.policy { $0.keepTags = [["linkedin"], ["yearly"]] }.apply(to: list, now: Self.farFuture)
        #expect(Self.kept(any, format: "yyyy-MM-dd") == ["2025-01-01", "2025-01-02", "2025-01-04"])
        // '' matches untagged versions.
        let untagged = try Self.policy { $0.keepTags = [[""]] }.apply(to: list, now: Self.farFuture)
        #expect(Self.kept(untagged, format: "yyyy-MM-dd") == ["2025-01-03", "2025-01-05"])
    }

    // MARK: Union, names, refusals

    @Test func unionOfRules() throws {
        let list = [
            Self.c("2024-11-15"), Self.c("2024-12-20"), Self.c("2025-01-03", tags: ["keep"]), Self.c("2025-01-10"), Self.c("2025-01-20"),
            Self.c("2025-01-21"),
        ]
        let p = Self.policy { $0.keepLast = 1; $0.keepMonthly = 2; $0.keepTags = [["keep"]] }
        let d = try p.apply(to: list, now: Self.farFuture)
        #expect(Self.kept(d, format: "yyyy-MM-dd") == ["2024-12-20", "2025-01-03", "2025-01-21"])
        #expect(d[0].reasons == ["last 1", "monthly 1"])
        #expect(d.first { Self.day($0.time) == "2024-12-20" }?.reasons == ["monthly 2"])
        #expect(d.first { Self.day($0.time) == "2025-01-03" }?.reasons == ["tag keep"])
    }

    @Test func eachNameOnItsOwn() throws {
        let list = [
            Self.c("2025-01-01", name: "photos"), Self.c("2025-01-02", name: "linkedin"), Self.c("2025-01-03", name: "photos"),
            Self.c("2025-01-04", name: "linkedin"), Self.c("2025-01-05", name: "linkedin"),
        ]
        let d = try Self.policy { $0.keepLast = 1 }.apply(to: list, now: Self.farFuture)
        #expect(d.map(\.name) == ["linkedin", "linkedin", "linkedin", "photos", "photos"])
        #expect(d.filter(\.keep).map(\.id) == [Self.id("linkedin2025-01-05"), Self.id("photos2025-01-03")])
    }

    @Test func noRuleIsRefused() throws {
        let list = [Self.c("2025-01-01")]
        #expect(throws: CofferError.self) { try RetentionPolicy().apply(to: list, now: Self.farFuture) }
        #expect(throws: CofferError.self) { try Self.policy { $0.keepDaily = -1 }.apply(to: list, now: Self.farFuture) }
        // keepLast 0 counts as no rule.
        #expect(Self.policy { $0.keepLast = 0 }.isEmpty)
        #expect(!Self.policy { $0.keepDistinct = true }.isEmpty)
    }

    /// A tag rule that matches nothing of a name would remove all its versions: refused.
    @Test func removingEveryVersionOfANameIsRefused() throws {
        let list = [Self.c("2025-01-01", name: "a", tags: ["x"]), Self.c("2025-01-02", name: "b")]
        do {
            _ = try Self.policy { $0.keepTags = [["x"]] }.apply(to: list, now: Self.farFuture)
            Issue.record("expected a refusal")
        } catch CofferError.invalidArgument(let message) {
            #expect(message.contains("'b'"))
        }
    }

    // MARK: keep-distinct

    /// A, A, B, B, A: the first of each run of identical content is kept; the duplicates go.
    @Test func keepDistinctCollapsesRuns() throws {
        let list = [
            Self.c("2025-01-01", content: "A"), Self.c("2025-01-02", content: "A"), Self.c("2025-01-03", content: "B"),
            Self.c("2025-01-04", content: "B"), Self.c("2025-01-05", content: "A"), Self.c("2025-01-06", content: "A"),
            Self.c("2025-01-07", content: "A"),
        ]
        let d = try Self.policy { $0.keepDistinct = true }.apply(to: list, now: Self.farFuture)
        #expect(Self.kept(d, format: "yyyy-MM-dd") == ["2025-01-01", "2025-01-03", "2025-01-05"])
        let byDay = Dictionary(uniqueKeysWithValues: d.map { (Self.day($0.time), $0) })
        #expect(byDay["2025-01-01"]?.reasons == ["distinct"])
        #expect(byDay["2025-01-02"]?.reasons == ["identical to \(Self.id("n2025-01-01").short) (distinct)"])
        #expect(byDay["2025-01-04"]?.reasons == ["identical to \(Self.id("n2025-01-03").short) (distinct)"])
        #expect(byDay["2025-01-07"]?.reasons == ["identical to \(Self.id("n2025-01-05").short) (distinct)"])

        // Another rule keeps a duplicate: the newest one stays with --keep-last 1.
        let withLast = try Self.policy { $0.keepDistinct = true; $0.keepLast = 1 }.apply(to: list, now: Self.farFuture)
        #expect(Self.kept(withLast, format: "yyyy-MM-dd") == ["2025-01-01", "2025-01-03", "2025-01-05", "2025-01-07"])
        #expect(withLast[0].reasons == ["last 1"])
    }

    /// The digest ignores times, inodes and chunking, and sees paths, modes, sizes, SHA-256s and
    /// link targets.
    @Test func contentDigestMeansWhatARestoreGives() {
        func file(_ path: String, _ sha: UInt8, mode: UInt32 = 0o644, mtime: Int64 = 1) -> VersionEntry {
            VersionEntry(
                type: .file, path: path, mode: mode, mtimeSeconds: mtime, mtimeNanoseconds: 0, size: 10,
                sha256: [UInt8](repeating: sha, count: 32), inode: UInt64(mtime), chunks: [ObjectID.hashing([sha, UInt8(mtime)])])
        }
        func version(_ entries: [VersionEntry], time: Double = 0, tags: [String] = []) -> Version {
            Version(
                name: "n", time: Date(timeIntervalSince1970: time), host: "h", tags: tags, paths: [], parent: nil, stats: VersionStats(),
                notes: [], v1Entries: entries)
        }
        let dir = VersionEntry(type: .directory, path: "d", mode: 0o755, mtimeSeconds: 5, mtimeNanoseconds: 0, size: 0)
        let link = VersionEntry(type: .symlink, path: "d/l", mode: 0o777, mtimeSeconds: 5, mtimeNanoseconds: 0, size: 1, linkTarget: "a")
        let base = RetentionPolicy.contentDigest(of: version([dir, file("d/a", 1), link]))
        // Other times, inodes, chunk lists, entry order, version time and tags: identical.
        #expect(RetentionPolicy.contentDigest(of: version([link, file("d/a", 1, mtime: 99), dir], time: 50, tags: ["x"])) == base)
        // Content, mode, path, link target: different.
        #expect(RetentionPolicy.contentDigest(of: version([dir, file("d/a", 2), link])) != base)
        #expect(RetentionPolicy.contentDigest(of: version([dir, file("d/a", 1, mode: 0o600), link])) != base)
        #expect(RetentionPolicy.contentDigest(of: version([dir, file("d/b", 1), link])) != base)
        var other = link
        other.linkTarget = "b"
        #expect(RetentionPolicy.contentDigest(of: version([dir, file("d/a", 1), other])) != base)
        #expect(RetentionPolicy.contentDigest(of: version([dir, file("d/a", 1)])) != base)
    }

    // MARK: On a vault

    /// `Vault.forget(policy:)`: a dry run changes nothing; a real run removes the versions from
    /// the live list; `keepDistinct` sees identical seals of the same folder.
    @Test func forgetOnAVault() throws {
        let f = try T.vault()
        let dir = T.scratch("in") + "/docs"
        T.write(dir + "/a.txt", Array("one".utf8))
        var o = SealOptions()
        o.name = "docs"
        var ids: [ObjectID] = []
        for (i, text) in ["one", "one", "two", "two"].enumerated() {
            T.write(dir + "/a.txt", Array(text.utf8))
            // Another mtime for the same content.
            var times = [timespec(tv_sec: 1_700_000_000 + i * 100, tv_nsec: 0), timespec(tv_sec: 1_700_000_000 + i * 100, tv_nsec: 0)]
            utimensat(AT_FDCWD, dir + "/a.txt", &times, 0)
            o.time = Date(timeIntervalSince1970: 1_700_000_000 + Double(i) * 86400)
            ids.append(try f.vault.seal([dir], options: o).id)
        }
        let p = { var p = RetentionPolicy(); p.keepDistinct = true; return p }()
        let dry = try f.vault.forget(policy: p, dryRun: true)
        #expect(dry.filter { !$0.keep }.map(\.id).sorted() == [ids[1], ids[3]].sorted())
        #expect(try f.vault.versions().count == 4)

        try f.vault.forget(policy: p)
        #expect(try f.vault.versions().map(\.id) == [ids[0], ids[2]])
        let reopened = try f.reopen()
        #expect(reopened.head.removed.sorted() == [ids[1], ids[3]].sorted())
        // Unknown names are refused.
        #expect(throws: CofferError.self) { try reopened.forget(policy: p, names: ["nope"], dryRun: true) }
    }
}

/// restic's own retention vectors for the `--keep-within-*` rules: the snapshot list of
/// restic's `TestApplyPolicy` (times only, two with tags), and the versions restic's golden
/// results keep for its combined-window policies.
@Suite("RetentionPolicy restic keep-within vectors")
struct RetentionResticWithinTests {
    static let times = [
        "2014-09-01 10:20:30", "2014-09-02 10:20:30", "2014-09-05 10:20:30", "2014-09-06 10:20:30", "2014-09-08 10:20:30",
        "2014-09-09 10:20:30", "2014-09-10 10:20:30", "2014-09-11 10:20:30", "2014-09-20 10:20:30", "2014-09-22 10:20:30",
        "2014-08-08 10:20:30", "2014-08-10 10:20:30", "2014-08-12 10:20:30", "2014-08-13 10:20:30", "2014-08-13 10:20:30.1",
        "2014-08-15 10:20:30", "2014-08-18 10:20:30", "2014-08-20 10:20:30", "2014-08-21 10:20:30", "2014-08-22 10:20:30",
        "2014-10-01 10:20:30", "2014-10-02 10:20:30", "2014-10-05 10:20:30", "2014-10-06 10:20:30", "2014-10-08 10:20:30",
        "2014-10-09 10:20:30", "2014-10-10 10:20:30", "2014-10-11 10:20:30", "2014-10-20 10:20:30", "2014-10-22 10:20:30",
        "2014-11-08 10:20:30", "2014-11-10 10:20:30", "2014-11-12 10:20:30", "2014-11-13 10:20:30", "2014-11-13 10:20:30.1",
        "2014-11-15 10:20:30", "2014-11-18 10:20:30", "2014-11-20 10:20:30", "2014-11-21 10:20:30", "2014-11-22 10:20:30",
        "2015-09-01 10:20:30", "2015-09-02 10:20:30", "2015-09-05 10:20:30", "2015-09-06 10:20:30", "2015-09-08 10:20:30",
        "2015-09-09 10:20:30", "2015-09-10 10:20:30", "2015-09-11 10:20:30", "2015-09-20 10:20:30", "2015-09-22 10:20:30",
        "2015-08-08 10:20:30", "2015-08-10 10:20:30", "2015-08-12 10:20:30", "2015-08-13 10:20:30", "2015-08-13 10:20:30.1",
        "2015-08-15 10:20:30", "2015-08-18 10:20:30", "2015-08-20 10:20:30", "2015-08-21 10:20:30", "2015-08-22 10:20:30",
        "2015-10-01 10:20:30", "2015-10-02 10:20:30", "2015-10-05 10:20:30", "2015-10-06 10:20:30", "2015-10-08 10:20:30",
        "2015-10-09 10:20:30", "2015-10-10 10:20:30", "2015-10-11 10:20:30", "2015-10-20 10:20:30", "2015-10-22 10:20:30",
        "2015-10-22 10:20:30", "2015-10-22 10:20:30", "2015-10-22 10:20:30", "2015-10-22 10:20:30",
        "2015-11-08 10:20:30", "2015-11-10 10:20:30", "2015-11-12 10:20:30", "2015-11-13 10:20:30", "2015-11-13 10:20:30.1",
        "2015-11-15 10:20:30", "2015-11-18 10:20:30", "2015-11-20 10:20:30", "2015-11-21 10:20:30", "2015-11-22 10:20:30",
        "2016-01-01 01:02:03", "2016-01-01 01:03:03", "2016-01-01 07:08:03", "2016-01-03 07:02:03", "2016-01-04 10:23:03",
        "2016-01-04 11:23:03", "2016-01-04 12:23:03", "2016-01-04 12:24:03", "2016-01-04 12:28:03", "2016-01-04 12:30:03",
        "2016-01-04 16:23:03", "2016-01-05 09:02:03", "2016-01-06 08:02:03", "2016-01-07 10:02:03", "2016-01-08 20:02:03",
        "2016-01-09 21:02:03", "2016-01-12 21:02:03", "2016-01-12 21:08:03", "2016-01-18 12:02:03",
    ]

    static func date(_ text: String) -> Date {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = text.contains(".") ? "yyyy-MM-dd HH:mm:ss.S" : "yyyy-MM-dd HH:mm:ss"
        return f.date(from: text)!
    }

    /// Distinct ids: the same time appears several times in restic's list.
    static var candidates: [RetentionPolicy.Candidate] {
        times.enumerated().map { i, t in
            RetentionPolicy.Candidate(id: ObjectID.hashing(Array("restic \(i)".utf8)), name: "n", time: date(t))
        }
    }

    static func kept(_ p: RetentionPolicy) throws -> [String] {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return try p.apply(to: candidates, now: RetentionPolicyTests.farFuture).filter(\.keep).map { f.string(from: $0.time) }
    }

    static func d(_ s: String) -> RetentionPolicy.Duration { RetentionPolicy.Duration(parsing: s)! }

    /// restic's `policy_keep_snapshots_34`: `--keep-within-yearly 1y2m3d3h`.
    @Test func withinYearly() throws {
        var p = RetentionPolicy()
        p.keepWithinYearly = Self.d("1y2m3d3h")
        #expect(try Self.kept(p) == ["2016-01-18 12:02:03", "2015-11-22 10:20:30", "2014-11-22 10:20:30"])
        let reasons = try p.apply(to: Self.candidates, now: RetentionPolicyTests.farFuture).filter(\.keep).map(\.reasons)
        #expect(reasons.allSatisfy { $0 == ["yearly within 1y2mo3d3h"] })
    }

    /// restic's `policy_keep_snapshots_31`: `--keep-within-daily 1y2m3d3h` keeps the newest
    /// version of each day after 2014-11-15 09:02:03 (53 days); the oldest version is outside.
    @Test func withinDaily() throws {
        var p = RetentionPolicy()
        p.keepWithinDaily = Self.d("1y2m3d3h")
        let kept = try Self.kept(p)
        let days = [
            "2016-01-18", "2016-01-12", "2016-01-09", "2016-01-08", "2016-01-07", "2016-01-06", "2016-01-05", "2016-01-04", "2016-01-03",
            "2016-01-01", "2015-11-22", "2015-11-21", "2015-11-20", "2015-11-18", "2015-11-15", "2015-11-13", "2015-11-12", "2015-11-10",
            "2015-11-08", "2015-10-22", "2015-10-20", "2015-10-11", "2015-10-10", "2015-10-09", "2015-10-08", "2015-10-06", "2015-10-05",
            "2015-10-02", "2015-10-01", "2015-09-22", "2015-09-20", "2015-09-11", "2015-09-10", "2015-09-09", "2015-09-08", "2015-09-06",
            "2015-09-05", "2015-09-02", "2015-09-01", "2015-08-22", "2015-08-21", "2015-08-20", "2015-08-18", "2015-08-15", "2015-08-13",
            "2015-08-12", "2015-08-10", "2015-08-08", "2014-11-22", "2014-11-21", "2014-11-20", "2014-11-18", "2014-11-15",
        ]
        #expect(kept.map { String($0.prefix(10)) } == days)
        // The newest of each day: 21:08 of two on 2016-01-12, 16:23 of six on 2016-01-04.
        #expect(kept.contains("2016-01-12 21:08:03") && kept.contains("2016-01-04 16:23:03") && kept.contains("2016-01-01 07:08:03"))
        let d = try p.apply(to: Self.candidates, now: RetentionPolicyTests.farFuture)
        let on13 = d.filter { $0.keep && Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: $0.time).day == 13 }
        #expect(on13.map { $0.time.timeIntervalSince1970.truncatingRemainder(dividingBy: 1) > 0.05 } == [true, true])  // the .1 ones
        #expect(d.filter(\.keep).allSatisfy { $0.reasons == ["daily within 1y2mo3d3h"] })
    }

    /// restic's `policy_keep_snapshots_35`: `--keep-within 1h --keep-within-hourly 1d
    /// --keep-within-daily 7d --keep-within-weekly 1m --keep-within-monthly 1y
    /// --keep-within-yearly 9999y`; the oldest version is kept as `oldest yearly within`.
    @Test func allWindowsTogether() throws {
        var p = RetentionPolicy()
        p.keepWithin = Self.d("1h")
        p.keepWithinHourly = Self.d("1d")
        p.keepWithinDaily = Self.d("7d")
        p.keepWithinWeekly = Self.d("1m")
        p.keepWithinMonthly = Self.d("1y")
        p.keepWithinYearly = Self.d("9999y")
        #expect(
            try Self.kept(p) == [
                "2016-01-18 12:02:03", "2016-01-12 21:08:03", "2016-01-09 21:02:03", "2016-01-03 07:02:03", "2015-11-22 10:20:30",
                "2015-10-22 10:20:30", "2015-09-22 10:20:30", "2015-08-22 10:20:30", "2014-11-22 10:20:30", "2014-08-08 10:20:30",
            ])
        let d = try p.apply(to: Self.candidates, now: RetentionPolicyTests.farFuture)
        #expect(
            d.first?.reasons == [
                "within 1h", "hourly within 1d", "daily within 7d", "weekly within 1mo", "monthly within 1y", "yearly within 9999y",
            ])
        #expect(d.first { $0.keep && $0.time == Self.date("2016-01-12 21:08:03") }?.reasons == ["daily within 7d", "weekly within 1mo"])
        #expect(d.last?.reasons == ["oldest yearly within 9999y"])
    }

    /// A window rule alone counts as a rule; it is described, and it never reaches past its window.
    @Test func withinRuleIsARule() throws {
        var p = RetentionPolicy()
        p.keepWithinDaily = Self.d("2d")
        #expect(!p.isEmpty)
        #expect(p.description.contains("daily versions within 2d"))
        // Newest 2016-01-18 12:02:03: the window starts 2016-01-16 12:02:03 and holds only it.
        #expect(try Self.kept(p) == ["2016-01-18 12:02:03"])
    }
}
