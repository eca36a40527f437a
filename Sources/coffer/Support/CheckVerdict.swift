import CofferCore

/// The last line of `coffer check`.
enum CheckVerdict {
    /// How many versions (or, when no version is missing, head changes) a copy that is only
    /// behind lacks; nil when the report shows anything else (errors, a diverged or broken
    /// history, versions dropped without a forget).
    static func behind(_ report: CheckReport) -> (count: UInt64, unit: String)? {
        guard report.errors.isEmpty, let r = report.rollback, r.isOnlyBehind else { return nil }
        if let missing = r.missingVersions, missing.isEmpty { return (r.changesBehind, "change") }
        return (r.missingVersions.map { UInt64($0.count) } ?? r.changesBehind, "version")
    }

    static func line(_ report: CheckReport) -> String {
        if report.isClean { return "no errors found" }
        if let (n, unit) = behind(report) {
            // A synced copy that lacks only newer versions: nothing to restore, only to sync.
            return "behind by \(n) \(unit)\(n == 1 ? "" : "s"): sync again from the newer copy ('coffer sync'); nothing else is wrong"
        }
        return "the vault has problems: restore what you can from another copy, or see 'coffer check --help'"
    }
}
