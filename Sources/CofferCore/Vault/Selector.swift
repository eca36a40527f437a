import Foundation

extension Vault {
    /// Resolves a version selector to a version id.
    ///
    /// - `NAME@latest`, `NAME@-N` (N versions before the latest), `NAME@YYYY-MM-DD` (the latest
    ///   version of that day, in UTC);
    /// - a version id or a unique prefix of one (at least 4 hex digits);
    /// - a bare NAME, meaning `NAME@latest`.
    public func resolve(_ selector: String) throws -> ObjectID {
        let all = try versions()
        if let at = selector.lastIndex(of: "@") {
            let name = String(selector[..<at])
            let spec = String(selector[selector.index(after: at)...])
            let series = all.filter { $0.version.name == name }
            guard !series.isEmpty else {
                throw CofferError.versionNotFound(selector: selector, candidates: closeNames(to: name, in: all))
            }
            if spec == "latest" { return series.last!.id }
            if spec.hasPrefix("-"), let n = Int(spec.dropFirst()), n >= 0 {
                guard n < series.count else {
                    throw CofferError.versionNotFound(selector: selector, candidates: ["\(name) has \(series.count) version\(series.count == 1 ? "" : "s")"])
                }
                return series[series.count - 1 - n].id
            }
            if let day = Vault.parseDay(spec) {
                let cal = Vault.utcCalendar
                let sameDay = series.filter { cal.isDate($0.version.time, inSameDayAs: day) }
                if let last = sameDay.last { return last.id }
                let f = Vault.dayFormatter
                let near = series.sorted { abs($0.version.time.timeIntervalSince(day)) < abs($1.version.time.timeIntervalSince(day)) }
                    .prefix(3).map { "\(name)@\(f.string(from: $0.version.time))" }
                throw CofferError.versionNotFound(selector: selector, candidates: near)
            }
            throw CofferError.invalidArgument("'\(selector)': after '@' use latest, -N or YYYY-MM-DD")
        }
        let lower = selector.lowercased()
        if lower.count >= 4, lower.allSatisfy({ $0.isHexDigit }) {
            let matches = all.filter { $0.id.hex.hasPrefix(lower) }
            if matches.count == 1 { return matches[0].id }
            if matches.count > 1 {
                throw CofferError.ambiguousVersion(selector: selector, candidates: matches.map { "\($0.id.short) (\($0.version.name))" })
            }
        }
        if let last = all.last(where: { $0.version.name == selector }) { return last.id }
        throw CofferError.versionNotFound(selector: selector, candidates: closeNames(to: selector, in: all))
    }

    private func closeNames(to name: String, in all: [(id: ObjectID, version: Version)]) -> [String] {
        let names = Set(all.map(\.version.name))
        let l = name.lowercased()
        let close = names.filter { $0.lowercased().contains(l) || l.contains($0.lowercased()) }
        return Array((close.isEmpty ? names : close).sorted().prefix(5)).map { "\($0)@latest" }
    }

    static let utcCalendar: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC")!
        return c
    }()

    static var dayFormatter: DateFormatter {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd"
        return f
    }

    static func parseDay(_ s: String) -> Date? {
        guard s.count == 10 else { return nil }
        return dayFormatter.date(from: s)
    }
}
