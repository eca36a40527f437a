import ArgumentParser
import CofferCore
import Foundation

extension Coffer {
    /// `coffer status`: health, age of the last versions, reminders.
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show each name's latest version and its age, the vault's size, and reminders.",
            discussion: """
                A name whose latest version is older than --remind-after is overdue and gets a \
                reminder line. With --check the exit status is 1 when any name is overdue and 14 \
                when a rollback was detected, 0 otherwise (for cron: coffer status --quiet --check).
                """)

        @OptionGroup var vaultArguments: VaultArguments
        @OptionGroup var output: OutputOptions

        @Option(help: ArgumentHelp("Remind about names not sealed for this long: 6mo, 180d, 2w, 1y.", valueName: "period"))
        var remindAfter: ReminderPeriod = ReminderPeriod(count: 6, unit: .month)

        @Flag(help: "Exit with status 1 when any name is overdue (14 on rollback), for cron.")
        var check = false

        func run() throws {
            let vault = try vaultArguments.open()
            let all = try vault.versions()
            let usage = try vault.storageUsage()
            let now = Date()
            let cutoff = remindAfter.cutoff(before: now)
            var byName: [String: [(id: ObjectID, version: Version)]] = [:]
            for item in all { byName[item.version.name, default: []].append(item) }
            let names = byName.keys.sorted()
            let rows = names.map { name -> NameStatus in
                let series = byName[name] ?? []
                let latest = series[series.count - 1]
                return NameStatus(
                    name: name, latestID: latest.id, latestTime: latest.version.time, versions: series.count,
                    overdue: latest.version.time < cutoff)
            }
            let overdue = rows.filter(\.overdue)

            if output.json {
                try JSONOutput.print(
                    StatusJSON(
                        vault: vault.location, vaultID: vault.vaultID.hex, versions: all.count, storageBytes: usage.bytes,
                        storageFiles: usage.files, packs: usage.packs, remindAfter: remindAfter.description,
                        names: rows.map { $0.json(now: now) }, overdue: overdue.map(\.name), rollback: vault.rollback?.description))
            } else {
                if !output.quiet {
                    Console.out(
                        "Vault \(vault.location) (id \(vault.vaultID.short)): \(all.count) version\(all.count == 1 ? "" : "s") "
                            + "of \(names.count) name\(names.count == 1 ? "" : "s"), \(Format.bytes(usage.bytes)) in storage "
                            + "(\(usage.files) files, \(usage.packs) pack\(usage.packs == 1 ? "" : "s"))")
                    if rows.isEmpty {
                        Console.out("No versions yet; add one with 'coffer seal PATH'.")
                    } else {
                        Console.out(
                            Format.table(
                                ["NAME", "LATEST", "DATE (UTC)", "AGE", "VERSIONS"],
                                rows.map {
                                    [$0.name, $0.latestID.short, Format.dateTime($0.latestTime), Format.age(now.timeIntervalSince($0.latestTime)), String($0.versions)]
                                }, rightAligned: [4]))
                    }
                }
                for r in overdue {
                    Console.out(
                        "Reminder: '\(r.name)' was last sealed \(Format.age(now.timeIntervalSince(r.latestTime))) ago "
                            + "(\(Format.day(r.latestTime)), more than \(remindAfter.spelledOut)); seal a fresh copy.")
                }
                if overdue.isEmpty && !rows.isEmpty && !output.quiet {
                    Console.out("Every name has a version from the last \(remindAfter.spelledOut).")
                }
            }
            if check {
                if vault.rollback != nil { throw CommandFailure(.rollback) }
                if !overdue.isEmpty { throw CommandFailure(.failure) }
            }
        }
    }
}

/// A period such as `6mo`, `180d`, `2w`, `1y` or `12h`.
struct ReminderPeriod: ExpressibleByArgument, CustomStringConvertible, Sendable {
    enum Unit: String, Sendable {
        case hour = "h", day = "d", week = "w", month = "mo", year = "y"
    }

    var count: Int
    var unit: Unit

    init(count: Int, unit: Unit) {
        self.count = count
        self.unit = unit
    }

    init?(argument: String) {
        let text = argument.lowercased().trimmingCharacters(in: .whitespaces)
        let digits = text.prefix { $0.isNumber }
        guard let n = Int(digits), n > 0 else { return nil }
        let suffix = String(text.dropFirst(digits.count)).trimmingCharacters(in: .whitespaces)
        let units: [String: Unit] = [
            "h": .hour, "hour": .hour, "hours": .hour, "d": .day, "day": .day, "days": .day, "w": .week, "week": .week,
            "weeks": .week, "mo": .month, "month": .month, "months": .month, "y": .year, "year": .year, "years": .year,
        ]
        guard let u = units[suffix] else { return nil }
        count = n
        unit = u
    }

    var description: String { "\(count)\(unit.rawValue)" }

    /// `6 months`, `2 weeks`.
    var spelledOut: String {
        let word: String
        switch unit {
        case .hour: word = "hour"
        case .day: word = "day"
        case .week: word = "week"
        case .month: word = "month"
        case .year: word = "year"
        }
        return "\(count) \(word)\(count == 1 ? "" : "s")"
    }

    static var defaultCompletionKind: CompletionKind { .list(["6mo", "3mo", "1y", "180d", "2w"]) }

    /// The moment `now` minus this period (calendar months and years, in UTC).
    func cutoff(before now: Date) -> Date {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC") ?? cal.timeZone
        let component: Calendar.Component
        var n = count
        switch unit {
        case .hour: component = .hour
        case .day: component = .day
        case .week: component = .day; n *= 7
        case .month: component = .month
        case .year: component = .year
        }
        return cal.date(byAdding: component, value: -n, to: now) ?? now
    }
}

/// One name's line in `status`.
private struct NameStatus {
    var name: String
    var latestID: ObjectID
    var latestTime: Date
    var versions: Int
    var overdue: Bool

    func json(now: Date) -> StatusJSON.Name {
        StatusJSON.Name(
            name: name, latestID: latestID.hex, latestShortID: latestID.short, latestTime: Format.iso8601(latestTime),
            ageSeconds: Int(now.timeIntervalSince(latestTime)), versions: versions, overdue: overdue)
    }
}

/// `status --json`.
private struct StatusJSON: Encodable {
    struct Name: Encodable {
        var name: String
        var latestID: String
        var latestShortID: String
        var latestTime: String
        var ageSeconds: Int
        var versions: Int
        var overdue: Bool

        enum CodingKeys: String, CodingKey {
            case name, versions, overdue
            case latestID = "latest_id"
            case latestShortID = "latest_short_id"
            case latestTime = "latest_time"
            case ageSeconds = "age_seconds"
        }
    }

    var vault: String
    var vaultID: String
    var versions: Int
    var storageBytes: UInt64
    var storageFiles: Int
    var packs: Int
    var remindAfter: String
    var names: [Name]
    var overdue: [String]
    var rollback: String?

    enum CodingKeys: String, CodingKey {
        case vault, versions, packs, names, overdue, rollback
        case vaultID = "vault_id"
        case storageBytes = "storage_bytes"
        case storageFiles = "storage_files"
        case remindAfter = "remind_after"
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(vault, forKey: .vault)
        try c.encode(vaultID, forKey: .vaultID)
        try c.encode(versions, forKey: .versions)
        try c.encode(storageBytes, forKey: .storageBytes)
        try c.encode(storageFiles, forKey: .storageFiles)
        try c.encode(packs, forKey: .packs)
        try c.encode(remindAfter, forKey: .remindAfter)
        try c.encode(names, forKey: .names)
        try c.encode(overdue, forKey: .overdue)
        try c.encode(rollback, forKey: .rollback)  // null when none
    }
}
