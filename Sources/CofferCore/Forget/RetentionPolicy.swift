import Foundation

/// Which versions `forget` keeps: restic's `--keep-*` rules, applied to each name on its own,
/// plus `keepDistinct`.
///
/// ## Semantics (restic's `forget`, `doc/060_forget.rst`, with UTC as the time zone)
///
/// The policy is applied to the versions of each name separately. A name's versions are walked
/// newest first (by time, then by id); each rule looks at each version, and a version is kept
/// when **any** rule keeps it (the union of the rules). Every other version is removed.
///
/// - `keepLast n`: the `n` newest versions.
/// - `keepHourly/Daily/Weekly/Monthly/Yearly n`: for the last `n` hours (days, ISO weeks from
///   Monday 00:00 to Sunday 23:59, calendar months, years) *that have at least one version*,
///   the newest version of each. Buckets are natural UTC boundaries, not relative to now; hours,
///   days… without a version are not counted.
/// - If a counting rule still has buckets left when it reaches the oldest version of the name,
///   that oldest version is kept too (reason `oldest daily`, …), even if its bucket was already
///   counted: restic keeps the longest history the counts allow.
/// - ``unlimited`` as a count keeps the newest version of every bucket.
/// - `keepWithin d`: every version whose time is strictly after `latest − d`, where `latest` is
///   the newest version of the name that is not in the future (relative to `now`). Years and
///   months are calendar years and months, subtracted as Go's `time.AddDate` does (2025-03-31
///   minus one month is 2025-03-03); then hours. A version in the future is therefore always
///   inside the window.
/// - `keepWithinHourly/Daily/Weekly/Monthly/Yearly d` (restic's `--keep-within-hourly` …): the
///   bucket rules above, limited by a window instead of a count: the newest version of each hour
///   (day, ISO week, month, year) whose time is strictly after `latest − d` (reason
///   `daily within 7d`), and the oldest version of the name when it is inside the window
///   (`oldest daily within 7d`).
/// - `keepTags`: each entry is a tag list; a version that has every tag of one list is kept
///   (reason `tag a,b`). A list holding only the empty tag matches versions without tags
///   (restic's `--keep-tag ''`).
/// - `keepDistinct` (Coffer's own rule): a version whose content is identical to the version
///   just before it (the next older one of the same name, whatever the other rules decide for
///   that one) is a *duplicate*; every other version, the oldest included, is kept with
///   reason `distinct`. A duplicate is removed unless another rule keeps it, and its removal
///   reason names the first version of its run of identical versions, which this rule keeps
///   (`identical to 3516cd8c (distinct)`). So A, A, B, B, A keeps the first A, the first B and
///   the last A. *Identical content* means that a restore would give back the same tree: the
///   same paths with the same types and permission bits, files and archives of the same size
///   and SHA-256, links with the same target. Times (mtime, ctime, the version's own time),
///   inodes, how the content was chunked or how an archive is stored, tags, host and notes do
///   not count. See ``contentDigest(of:)``.
///
/// A policy with no rule is refused (``CofferError/invalidArgument(_:)``) rather than removing
/// everything, and so is a result that would remove every version of a name (possible only with
/// tag rules, restic's "refusing to delete last snapshot of snapshot group").
public struct RetentionPolicy: Sendable, Equatable, CustomStringConvertible {
    /// A count meaning "every bucket" (restic's `unlimited`).
    public static let unlimited = Int.max

    public var keepLast = 0
    public var keepHourly = 0
    public var keepDaily = 0
    public var keepWeekly = 0
    public var keepMonthly = 0
    public var keepYearly = 0
    /// Keep every version within this duration of the name's newest version.
    public var keepWithin: Duration?
    /// Keep the newest version of each hour (day, ISO week, month, year) within this duration
    /// of the name's newest version (restic's `--keep-within-hourly` …).
    public var keepWithinHourly: Duration?
    public var keepWithinDaily: Duration?
    public var keepWithinWeekly: Duration?
    public var keepWithinMonthly: Duration?
    public var keepWithinYearly: Duration?
    /// Keep versions that have all tags of any one of these lists.
    public var keepTags: [[String]] = []
    /// Keep each version whose content differs from the version before it.
    public var keepDistinct = false

    public init() {}

    /// True when no rule is set (such a policy is refused).
    public var isEmpty: Bool {
        keepLast == 0 && keepHourly == 0 && keepDaily == 0 && keepWeekly == 0 && keepMonthly == 0 && keepYearly == 0
            && keepWithin == nil && keepTags.isEmpty && !keepDistinct && withinBuckets.allSatisfy { $0.within == nil }
    }

    /// The `keepWithin*` rules with their labels and buckets, hourly to yearly.
    var withinBuckets: [(label: String, within: Duration?, bucket: (Date) -> Int)] {
        [
            ("hourly", keepWithinHourly, { UTCTime($0).hourBucket }), ("daily", keepWithinDaily, { UTCTime($0).dayBucket }),
            ("weekly", keepWithinWeekly, { UTCTime($0).isoWeekBucket }), ("monthly", keepWithinMonthly, { UTCTime($0).monthBucket }),
            ("yearly", keepWithinYearly, { UTCTime($0).year }),
        ]
    }

    /// `keep the last 3, 7 daily, 4 weekly versions, all within 6mo of the newest, tag a, distinct`.
    public var description: String {
        var counted: [String] = []
        let counts = [(keepLast, "last"), (keepHourly, "hourly"), (keepDaily, "daily"), (keepWeekly, "weekly"),
                      (keepMonthly, "monthly"), (keepYearly, "yearly")].filter { $0.0 != 0 }
        for (n, word) in counts {
            let count = n == RetentionPolicy.unlimited ? "all" : String(n)
            counted.append(word == "last" ? "the last \(count)" : "\(count) \(word)")
        }
        var parts: [String] = []
        // One count of 1 reads "the last version", "1 daily version".
        if counts.count == 1, counts[0].0 == 1 {
            parts.append(counts[0].1 == "last" ? "the last version" : "1 \(counts[0].1) version")
        } else if !counted.isEmpty {
            parts.append(counted.joined(separator: ", ") + " versions")
        }
        if let keepWithin { parts.append("all within \(keepWithin) of the newest") }
        for rule in withinBuckets { if let d = rule.within { parts.append("\(rule.label) versions within \(d) of the newest") } }
        for list in keepTags { parts.append("those tagged \(RetentionPolicy.tagLabel(list))") }
        if keepDistinct { parts.append("each version whose content differs from the one before") }
        return parts.isEmpty ? "no rule" : "keep " + parts.joined(separator: "; ")
    }

    /// Checks the counts and that at least one rule is set.
    public func validate() throws {
        for (n, option) in [(keepLast, "--keep-last"), (keepHourly, "--keep-hourly"), (keepDaily, "--keep-daily"),
                            (keepWeekly, "--keep-weekly"), (keepMonthly, "--keep-monthly"), (keepYearly, "--keep-yearly")] where n < 0 {
            throw CofferError.invalidArgument("\(option) \(n): a count cannot be negative; give a number of versions or 'unlimited'")
        }
        if isEmpty {
            throw CofferError.invalidArgument(
                "no retention rule given, so nothing is removed; give at least one of --keep-last, --keep-hourly, --keep-daily, "
                    + "--keep-weekly, --keep-monthly, --keep-yearly, --keep-within, --keep-within-hourly (-daily, -weekly, -monthly, -yearly), "
                    + "--keep-tag, --keep-distinct")
        }
    }

    // MARK: Input and output

    /// One version as the policy sees it.
    public struct Candidate: Sendable, Equatable {
        public var id: ObjectID
        public var name: String
        public var time: Date
        public var tags: [String]
        /// What a restore of the version produces (``RetentionPolicy/contentDigest(of:)``); only
        /// `keepDistinct` reads it. Nil never equals anything.
        public var content: ObjectID?

        public init(id: ObjectID, name: String, time: Date, tags: [String] = [], content: ObjectID? = nil) {
            self.id = id
            self.name = name
            self.time = time
            self.tags = tags
            self.content = content
        }

    }

    /// What the policy decided for one version, and why.
    public struct Decision: Sendable, Equatable {
        public var id: ObjectID
        public var name: String
        public var time: Date
        public var tags: [String]
        public var keep: Bool
        /// For a kept version, every rule that keeps it (`last 1`, `daily 2`, `oldest monthly`,
        /// `within 6mo`, `tag linkedin`, `distinct`). For a removed one, why it goes:
        /// `identical to <short id> (distinct)` or `no rule keeps it`.
        public var reasons: [String]
    }

    // MARK: Applying

    /// Applies the policy to each name's versions.
    ///
    /// - Parameter now: versions after this moment do not count as the newest for `keepWithin`.
    /// - Returns: one decision per candidate, grouped by name (names in ascending order), newest
    ///   first within a name.
    /// - Throws: ``CofferError/invalidArgument(_:)`` for an empty or invalid policy, or when every
    ///   version of some name would be removed.
    public func apply(to candidates: [Candidate], now: Date = Date()) throws -> [Decision] {
        try validate()
        let byName = Dictionary(grouping: candidates, by: \.name)
        var out: [Decision] = []
        for name in byName.keys.sorted() {
            let group = byName[name]!
            let decisions = applyToOneName(group, now: now)
            if !decisions.contains(where: \.keep) {
                throw CofferError.invalidArgument(
                    "refusing to remove all \(group.count) version\(group.count == 1 ? "" : "s") of '\(name)': none matches the policy "
                        + "(\(description)); add a rule that keeps at least one, or name only the other series")
            }
            out += decisions
        }
        return out
    }

    /// Applies the policy to live versions of `vault` (as ``Vault/versions()`` returns them),
    /// reading each one's content digest when `keepDistinct` needs it.
    public func apply(to versions: [(id: ObjectID, version: Version)], in vault: Vault, now: Date = Date()) throws -> [Decision] {
        try apply(
            to: versions.map { v in
                Candidate(
                    id: v.id, name: v.version.name, time: v.version.time, tags: v.version.tags,
                    content: keepDistinct ? try vault.contentDigest(of: v.id) : nil)
            }, now: now)
    }

    /// One counting rule (`keepLast`, `keepDaily`, …) while walking a name.
    private struct Counter {
        var label: String
        var remaining: Int
        var bucket: (Date, Int) -> Int
        var last: Int?
        var used = 0
    }

    private func applyToOneName(_ group: [Candidate], now: Date) -> [Decision] {
        // Newest first; equal times in a fixed order.
        let list = group.sorted { ($0.time, $0.id) > ($1.time, $1.id) }
        var counters = [
            Counter(label: "last", remaining: keepLast, bucket: { _, nr in nr }),
            Counter(label: "hourly", remaining: keepHourly, bucket: { d, _ in UTCTime(d).hourBucket }),
            Counter(label: "daily", remaining: keepDaily, bucket: { d, _ in UTCTime(d).dayBucket }),
            Counter(label: "weekly", remaining: keepWeekly, bucket: { d, _ in UTCTime(d).isoWeekBucket }),
            Counter(label: "monthly", remaining: keepMonthly, bucket: { d, _ in UTCTime(d).monthBucket }),
            Counter(label: "yearly", remaining: keepYearly, bucket: { d, _ in UTCTime(d).year }),
        ]
        // The newest version that is not in the future; with none, every version is "within".
        let latest = list.first { $0.time < now }?.time
        let withinCutoff: Date? = keepWithin.flatMap { d in latest.map { d.cutoff(before: $0) } }
        // keepWithin*: a bucket rule limited to a window instead of a count; with no version
        // before now, every version is inside.
        var withinRules = withinBuckets.compactMap { rule in
            rule.within.map { d in (label: rule.label, within: d, cutoff: latest.map { d.cutoff(before: $0) }, bucket: rule.bucket, last: Int?.none) }
        }

        // Runs of identical content, oldest first: the first of each run is distinct.
        var runHead: [ObjectID: ObjectID] = [:]
        if keepDistinct {
            var head: Candidate?
            var previous: Candidate?
            for c in list.reversed() {
                if let p = previous, let a = p.content, let b = c.content, a == b, let h = head {
                    runHead[c.id] = h.id
                } else {
                    head = c
                }
                previous = c
            }
        }

        var decisions: [Decision] = []
        for (nr, cur) in list.enumerated() {
            var reasons: [String] = []
            for tags in keepTags where RetentionPolicy.has(cur.tags, all: tags) {
                reasons.append("tag \(RetentionPolicy.tagLabel(tags))")
            }
            if let keepWithin, withinCutoff.map({ cur.time > $0 }) ?? true {
                reasons.append("within \(keepWithin)")
            }
            let isOldest = nr == list.count - 1
            for i in counters.indices where counters[i].remaining > 0 {
                let value = counters[i].bucket(cur.time, nr)
                guard value != counters[i].last || isOldest else { continue }
                counters[i].used += 1
                reasons.append(value == counters[i].last ? "oldest \(counters[i].label)" : "\(counters[i].label) \(counters[i].used)")
                counters[i].last = value
                if counters[i].remaining != RetentionPolicy.unlimited { counters[i].remaining -= 1 }
            }
            // As the counting rules: the newest version of each bucket inside the window, and the
            // oldest version of the name when it is inside the window too (restic's
            // `oldest hourly within 1d`).
            for i in withinRules.indices where withinRules[i].cutoff.map({ cur.time > $0 }) ?? true {
                let value = withinRules[i].bucket(cur.time)
                guard value != withinRules[i].last || isOldest else { continue }
                let label = "\(withinRules[i].label) within \(withinRules[i].within)"
                reasons.append(value == withinRules[i].last ? "oldest \(label)" : label)
                withinRules[i].last = value
            }
            let duplicateOf = runHead[cur.id]
            if keepDistinct && duplicateOf == nil { reasons.append("distinct") }
            if reasons.isEmpty {
                let why = duplicateOf.map { "identical to \($0.short) (distinct)" } ?? "no rule keeps it"
                decisions.append(Decision(id: cur.id, name: cur.name, time: cur.time, tags: cur.tags, keep: false, reasons: [why]))
            } else {
                decisions.append(Decision(id: cur.id, name: cur.name, time: cur.time, tags: cur.tags, keep: true, reasons: reasons))
            }
        }
        return decisions
    }

    /// Whether `tags` holds every tag of `list`; a list of only empty tags matches no tags at all.
    static func has(_ tags: [String], all list: [String]) -> Bool {
        let wanted = list.filter { !$0.isEmpty }
        if wanted.isEmpty { return tags.isEmpty }
        return wanted.allSatisfy(tags.contains)
    }

    static func tagLabel(_ list: [String]) -> String {
        let wanted = list.filter { !$0.isEmpty }
        return wanted.isEmpty ? "'' (untagged)" : wanted.joined(separator: ",")
    }

    // MARK: Content identity

    /// A digest of what a restore of a format-1 `version` produces, for `keepDistinct`:
    /// BLAKE2b-256 over the entries sorted by path, each as type, path and permission bits, plus
    /// size and SHA-256 for files and archives and the target for links. Times, inodes, chunk
    /// lists, archive layouts and the version's name, time, host, tags and notes are left out.
    /// (A format-2 version holds no entries itself: ``Vault/contentDigest(of:)`` reads both.)
    public static func contentDigest(of version: Version) -> ObjectID {
        var w = ByteWriter(capacity: 64 + version.v1Entries.count * 80)
        w.raw(Array("coffer.content.v1".utf8))
        let entries = version.v1Entries.sorted { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
        w.u64(UInt64(entries.count))
        for e in entries { appendContentRecord(e, to: &w) }
        return ObjectID.hashing(w.bytes)
    }

    /// One entry of a content digest: type, path bytes, permission bits, then size and SHA-256
    /// (files, archives), the target (links), the device number or the first name. A format-1
    /// path is valid UTF-8, so its bytes are the `str` the format-1 digest always wrote.
    static func appendContentRecord(_ e: VersionEntry, to w: inout ByteWriter) {
        w.u8(e.type.rawValue)
        w.blob(e.pathBytes)
        w.u32(e.mode)
        switch e.type {
        case .file, .archive:
            w.u64(e.size)
            w.blob(e.sha256)
        case .symlink:
            w.blob(e.linkTargetBytes)
        case .charDevice, .blockDevice:
            w.u64(e.rdev)
        case .hardlink:
            w.blob(e.hardlinkTargetBytes)
        case .directory, .fifo:
            break
        }
    }

    // MARK: Durations

    /// A `keepWithin` duration: years, months, weeks, days and hours, as restic writes them
    /// (`1y5m7d2h`). Months may also be written `mo` (as `status --remind-after` does), and `w` is
    /// 7 days. Each unit at most once.
    public struct Duration: Sendable, Equatable, CustomStringConvertible {
        public var years = 0
        public var months = 0
        public var weeks = 0
        public var days = 0
        public var hours = 0

        public init(years: Int = 0, months: Int = 0, weeks: Int = 0, days: Int = 0, hours: Int = 0) {
            self.years = years
            self.months = months
            self.weeks = weeks
            self.days = days
            self.hours = hours
        }

        /// Parses `6mo`, `1y5m7d2h`, `2w`, `36h`; nil for anything else, or a zero duration.
        public init?(parsing text: String) {
            let s = Array(text.lowercased().trimmingCharacters(in: .whitespaces))
            var i = 0
            var seen: Set<String> = []
            guard !s.isEmpty else { return nil }
            while i < s.count {
                var digits = ""
                while i < s.count, s[i].isASCII, s[i].isNumber { digits.append(s[i]); i += 1 }
                var unit = ""
                while i < s.count, s[i].isLetter { unit.append(s[i]); i += 1 }
                guard let n = Int(digits), n <= 100_000, !unit.isEmpty else { return nil }
                let key = unit == "m" ? "mo" : unit
                guard !seen.contains(key) else { return nil }
                seen.insert(key)
                switch key {
                case "y": years = n
                case "mo": months = n
                case "w": weeks = n
                case "d": days = n
                case "h": hours = n
                default: return nil
                }
            }
            if years == 0 && months == 0 && weeks == 0 && days == 0 && hours == 0 { return nil }
        }

        /// `1y5mo7d2h`, zero parts left out.
        public var description: String {
            let parts = [(years, "y"), (months, "mo"), (weeks, "w"), (days, "d"), (hours, "h")].filter { $0.0 != 0 }
            return parts.isEmpty ? "0h" : parts.map { "\($0.0)\($0.1)" }.joined()
        }

        /// `latest` minus this duration, in UTC: years, months and days as Go's
        /// `AddDate(-y, -m, -d)` (an overflowing day rolls into the next month), then hours.
        public func cutoff(before latest: Date) -> Date {
            let t = UTCTime(latest)
            var month0 = t.month - 1 - months
            var year = t.year - years
            year += month0 >= 0 ? month0 / 12 : -((-month0 + 11) / 12)
            month0 = ((month0 % 12) + 12) % 12
            let day = UTCTime.daysFromCivil(year: year, month: month0 + 1, day: 1) + (t.day - 1) - days - 7 * weeks
            let seconds = Double(day) * 86400 + Double(t.secondOfDay) - Double(hours) * 3600
            return Date(timeIntervalSince1970: seconds + t.fraction)
        }
    }
}

/// A time broken down in UTC with integer arithmetic (proleptic Gregorian calendar).
struct UTCTime {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    /// Days since 1970-01-01.
    var dayNumber: Int
    var secondOfDay: Int
    var fraction: Double

    init(_ date: Date) {
        let t = date.timeIntervalSince1970
        let whole = t.rounded(.down)
        let secs = Int(whole)
        fraction = t - whole
        dayNumber = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400)
        secondOfDay = secs - dayNumber * 86400
        hour = secondOfDay / 3600
        (year, month, day) = UTCTime.civil(fromDays: dayNumber)
    }

    var hourBucket: Int { ((year * 100 + month) * 100 + day) * 100 + hour }
    var dayBucket: Int { (year * 100 + month) * 100 + day }
    var monthBucket: Int { year * 100 + month }

    /// ISO 8601 week-numbering year × 100 + week (weeks start on Monday; week 1 holds the
    /// year's first Thursday).
    var isoWeekBucket: Int {
        // 1970-01-01 was a Thursday; weekday 1 = Monday … 7 = Sunday.
        let weekday = ((dayNumber + 3) % 7 + 7) % 7 + 1
        let thursday = dayNumber + 4 - weekday
        let isoYear = UTCTime.civil(fromDays: thursday).year
        let week = (thursday - UTCTime.daysFromCivil(year: isoYear, month: 1, day: 1)) / 7 + 1
        return isoYear * 100 + week
    }

    /// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

extension Vault {
    /// Applies `policy` to the live versions (only those of `names`, when given) and, unless
    /// `dryRun`, forgets the versions it removes (one new head; see ``forget(_:force:lockWait:)``,
    /// which takes the writer lock and refuses on a rollback finding unless `force`).
    ///
    /// - Returns: the decisions, grouped by name, newest first within a name.
    /// - Throws: ``CofferError/versionNotFound(selector:candidates:)`` for a name with no live
    ///   version; the refusals of ``RetentionPolicy/apply(to:now:)``.
    @discardableResult
    public func forget(
        policy: RetentionPolicy, names: [String] = [], dryRun: Bool = false, force: Bool = false, lockWait: Double = 0, now: Date = Date()
    ) throws -> [RetentionPolicy.Decision] {
        try policy.validate()
        var all = try versions()
        if !names.isEmpty {
            let known = Set(all.map(\.version.name))
            for name in names where !known.contains(name) {
                throw CofferError.versionNotFound(selector: name, candidates: known.sorted().prefix(5).map { "\($0)@latest" })
            }
            let wanted = Set(names)
            all = all.filter { wanted.contains($0.version.name) }
        }
        let decisions = try policy.apply(to: all, in: self, now: now)
        let removed = decisions.filter { !$0.keep }.map(\.id)
        if !dryRun && !removed.isEmpty {
            try forget(removed, force: force, lockWait: lockWait)
        }
        return decisions
    }
}
