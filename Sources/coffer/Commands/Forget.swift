import ArgumentParser
import CofferCore
import Foundation

extension Coffer {
    /// `coffer forget`: removes versions by a retention policy.
    struct Forget: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove versions: by a retention policy (restic's --keep-* rules), by id, or a whole series with --all.",
            discussion: """
                The rules are applied to each name's versions separately; a version is kept when \
                any rule keeps it, and removed otherwise. Buckets (hour, day, ISO week from Monday, \
                month, year) are in UTC and only count when they hold a version; the newest version \
                of each bucket counts. When a counting rule has counts left at the oldest version, \
                that version is kept too ("oldest daily"). --keep-within is measured back from the \
                name's newest version (not from now): 1y5m7d2h, 6mo, 2w, 36h. --keep-within-hourly \
                (-daily, -weekly, -monthly, -yearly) DURATION keeps the newest version of each hour \
                (day, …) inside that window. --keep-tag a,b keeps \
                versions having both tags; --keep-tag '' keeps untagged ones. --keep-distinct keeps \
                each version whose content differs from the one before it, so a run of identical \
                versions collapses to its first one unless another rule keeps the others \
                (identical: the same paths, types, modes, sizes, SHA-256s and link targets; times \
                do not count). Counts accept 'unlimited'.

                Without a rule, the arguments are versions to remove exactly (ids, unique id \
                prefixes, NAME@latest, NAME@-N, NAME@YYYY-MM-DD; a bare name is refused); with \
                --all they are names whose every version is removed, after a confirmation on a \
                terminal (--yes skips it; without a terminal --yes is required). With neither \
                nothing is removed (usage error), and a policy refuses to remove every version of a \
                name. Removed versions disappear from the list; their data stays in \
                the vault until 'coffer prune' (or --prune).
                """)

        @OptionGroup var vaultArguments: VaultArguments
        @OptionGroup var output: OutputOptions

        @Argument(
            help: ArgumentHelp(
                "With --keep-* rules or --all: names (default for rules: every name). Otherwise: the versions to remove (id, prefix, NAME@selector).",
                valueName: "name|version"))
        var names: [String] = []

        @Flag(help: "Remove every version of the names given.")
        var all = false

        @Flag(help: "Do not ask before removing a whole series (--all).")
        var yes = false

        @Option(help: ArgumentHelp("Keep the N newest versions.", valueName: "n"))
        var keepLast: KeepCount?

        @Option(help: ArgumentHelp("Keep the newest version of each of the last N hours that have one.", valueName: "n"))
        var keepHourly: KeepCount?

        @Option(help: ArgumentHelp("Keep the newest version of each of the last N days that have one.", valueName: "n"))
        var keepDaily: KeepCount?

        @Option(help: ArgumentHelp("Keep the newest version of each of the last N weeks (Monday to Sunday) that have one.", valueName: "n"))
        var keepWeekly: KeepCount?

        @Option(help: ArgumentHelp("Keep the newest version of each of the last N months that have one.", valueName: "n"))
        var keepMonthly: KeepCount?

        @Option(help: ArgumentHelp("Keep the newest version of each of the last N years that have one.", valueName: "n"))
        var keepYearly: KeepCount?

        @Option(
            help: ArgumentHelp("Keep every version within this duration of the name's newest version (1y5m7d2h, 6mo, 2w).", valueName: "duration"),
            transform: Forget.parseDuration)
        var keepWithin: RetentionPolicy.Duration?

        @Option(help: ArgumentHelp("Keep the newest version of each hour within this duration of the name's newest version.", valueName: "duration"), transform: Forget.parseDuration)
        var keepWithinHourly: RetentionPolicy.Duration?

        @Option(help: ArgumentHelp("Keep the newest version of each day within this duration of the name's newest version.", valueName: "duration"), transform: Forget.parseDuration)
        var keepWithinDaily: RetentionPolicy.Duration?

        @Option(help: ArgumentHelp("Keep the newest version of each week within this duration of the name's newest version.", valueName: "duration"), transform: Forget.parseDuration)
        var keepWithinWeekly: RetentionPolicy.Duration?

        @Option(help: ArgumentHelp("Keep the newest version of each month within this duration of the name's newest version.", valueName: "duration"), transform: Forget.parseDuration)
        var keepWithinMonthly: RetentionPolicy.Duration?

        @Option(help: ArgumentHelp("Keep the newest version of each year within this duration of the name's newest version.", valueName: "duration"), transform: Forget.parseDuration)
        var keepWithinYearly: RetentionPolicy.Duration?

        @Option(
            name: .customLong("keep-tag"),
            help: ArgumentHelp("Keep versions having all these tags (a,b; repeatable; '' for untagged versions).", valueName: "tags"))
        var keepTags: [String] = []

        @Flag(help: "Keep each version whose content differs from the one before it (collapses runs of identical versions).")
        var keepDistinct = false

        @Flag(help: "Show what would be kept and removed; change nothing.")
        var dryRun = false

        @Flag(help: "Run 'coffer prune' afterwards, when versions were removed.")
        var prune = false

        @Flag(help: "Write even though this vault is older than one this machine has seen (rollback).")
        var force = false

        @Option(help: ArgumentHelp("Wait up to this many seconds for another writer's lock.", valueName: "seconds"))
        var lockWait: Double = 0

        static func parseDuration(_ text: String) throws -> RetentionPolicy.Duration {
            guard let d = RetentionPolicy.Duration(parsing: text) else {
                throw ValidationError("'\(text)' is not a duration; use years, months, weeks, days and hours, like 1y5m7d2h, 6mo, 2w or 36h")
            }
            return d
        }

        /// The policy the options describe.
        var policy: RetentionPolicy {
            var p = RetentionPolicy()
            p.keepLast = keepLast?.value ?? 0
            p.keepHourly = keepHourly?.value ?? 0
            p.keepDaily = keepDaily?.value ?? 0
            p.keepWeekly = keepWeekly?.value ?? 0
            p.keepMonthly = keepMonthly?.value ?? 0
            p.keepYearly = keepYearly?.value ?? 0
            p.keepWithin = keepWithin
            p.keepWithinHourly = keepWithinHourly
            p.keepWithinDaily = keepWithinDaily
            p.keepWithinWeekly = keepWithinWeekly
            p.keepWithinMonthly = keepWithinMonthly
            p.keepWithinYearly = keepWithinYearly
            p.keepTags = keepTags.map { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } }
            p.keepDistinct = keepDistinct
            return p
        }

        func validate() throws {
            if all {
                guard policy.isEmpty else { throw ValidationError("--all removes every version of the names given; it takes no --keep-* rule") }
                guard !names.isEmpty else { throw ValidationError("--all needs the names of the series to remove") }
                return
            }
            if policy.isEmpty && !names.isEmpty { return }  // forget ID…
            if policy.isEmpty {
                throw ValidationError(
                    "no retention rule given, so nothing is removed; give at least one of --keep-last, --keep-hourly, --keep-daily, "
                        + "--keep-weekly, --keep-monthly, --keep-yearly, --keep-within, --keep-within-hourly (-daily, -weekly, -monthly, "
                        + "-yearly), --keep-tag or --keep-distinct")
            }
        }

        func run() throws {
            let vault = try vaultArguments.open(warnOnRollback: false)
            if let finding = vault.rollback {
                if dryRun {
                    Console.warn("rollback detected: \(finding.description)")
                } else if force {
                    Console.warn("rollback detected, forgetting anyway (--force): \(finding.description)")
                } else {
                    throw CommandFailure(
                        .rollback,
                        "rollback detected in vault \(vault.location): \(finding.description); forget refuses to write "
                            + "('coffer forget --force' writes anyway)")
                }
            }
            if policy.isEmpty {
                try removeChosen(vault)
                return
            }
            let policy = self.policy
            let decisions = try vault.forget(policy: policy, names: names, dryRun: dryRun, force: force, lockWait: lockWait)
            for note in vault.lockNotes { Console.warn(note) }
            let removed = decisions.filter { !$0.keep }
            let kept = decisions.count - removed.count

            let pruneReport = try pruneAfter(vault, removedAny: !removed.isEmpty)

            if output.json {
                try JSONOutput.print(ForgetJSON(policy: policy, decisions: decisions, dryRun: dryRun, prune: pruneReport))
                return
            }
            // A dry run's decisions are its result: printed with --quiet too.
            guard !output.quiet || dryRun else { return }
            Console.out("Applying the policy: \(policy.description).")
            let groups = Dictionary(grouping: decisions, by: \.name)
            for name in groups.keys.sorted() {
                let group = groups[name]!
                let gone = group.filter { !$0.keep }.count
                Console.out("")
                Console.out("\(name): keep \(group.count - gone), remove \(gone)")
                let rows = group.map { d in
                    [d.keep ? "keep" : "remove", d.id.short, Format.dateTime(d.time), d.tags.joined(separator: ","), d.reasons.joined(separator: ", ")]
                }
                Console.out(Format.table(["ACTION", "ID", "DATE (UTC)", "TAGS", "REASONS"], rows))
            }
            Console.out("")
            let names = Set(removed.map(\.name)).count
            let summary = "\(removed.count) version\(removed.count == 1 ? "" : "s") of \(names) name\(names == 1 ? "" : "s")"
            if removed.isEmpty {
                Console.out(kept == 1 ? "Nothing to remove: the policy keeps the only version." : "Nothing to remove: the policy keeps all \(kept) versions.")
            } else if dryRun {
                Console.out("Dry run: would remove \(summary) and keep \(kept); nothing was changed.")
            } else {
                Console.out("Removed \(summary); kept \(kept).")
                if let r = pruneReport {
                    Console.out(
                        "Pruned: deleted \(r.packsDeleted + r.unreferencedPacksDeleted) pack\(r.packsDeleted + r.unreferencedPacksDeleted == 1 ? "" : "s"), "
                            + "repacked \(r.packsRepacked), removed \(r.versionFilesDeleted) version file\(r.versionFilesDeleted == 1 ? "" : "s"); "
                            + "packs \(Format.bytes(r.bytesBefore)) → \(Format.bytes(r.bytesAfter)) (freed \(Format.bytes(r.freedBytes))).")
                } else {
                    Console.out("Their data stays in the vault until 'coffer prune'.")
                }
            }
        }
    }
}

/// A `--keep-*` count: a number, or `unlimited`.
struct KeepCount: ExpressibleByArgument, Sendable {
    var value: Int

    init?(argument: String) {
        if argument.lowercased() == "unlimited" {
            value = RetentionPolicy.unlimited
        } else if let n = Int(argument), n >= 0 {
            value = n
        } else {
            return nil
        }
    }

    static var defaultCompletionKind: CompletionKind { .list(["1", "3", "7", "12", "unlimited"]) }
}

/// `forget --json`.
struct ForgetJSON: Encodable {
    struct Entry: Encodable {
        var id: String
        var short_id: String
        var name: String
        var time: String
        var tags: [String]
        var action: String
        var reasons: [String]
    }

    var dry_run: Bool
    var policy: String
    var versions: [Entry]
    var kept: Int
    var removed: Int
    var prune: PruneJSON?

    init(policy: RetentionPolicy, decisions: [RetentionPolicy.Decision], dryRun: Bool, prune r: PruneReport?) {
        self.init(policyText: policy.description, decisions: decisions, dryRun: dryRun, prune: r)
    }

    init(policyText: String, decisions: [RetentionPolicy.Decision], dryRun: Bool, prune r: PruneReport?) {
        dry_run = dryRun
        self.policy = policyText
        versions = decisions.map {
            Entry(
                id: $0.id.hex, short_id: $0.id.short, name: $0.name, time: Format.iso8601($0.time), tags: $0.tags,
                action: $0.keep ? "keep" : "remove", reasons: $0.reasons)
        }
        removed = decisions.filter { !$0.keep }.count
        kept = decisions.count - removed
        prune = r.map { PruneJSON($0, dryRun: false) }
    }

    enum CodingKeys: String, CodingKey {
        case dry_run, policy, versions, kept, removed, prune
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(dry_run, forKey: .dry_run)
        try c.encode(policy, forKey: .policy)
        try c.encode(versions, forKey: .versions)
        try c.encode(kept, forKey: .kept)
        try c.encode(removed, forKey: .removed)
        try c.encode(prune, forKey: .prune)  // null when prune did not run
    }
}
