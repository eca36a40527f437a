// Pages.swift: the overview and series pages.

import CofferCore
import Foundation
import Hummingbird

/// Makes the pages of one server run.
struct Pages: Sendable {
    let model: VaultModel
    let secrets: UISecrets
    let location: String
    let rollback: String?
    /// A series whose latest version is older than this many months gets a reminder (as `status`).
    let remindAfterMonths: Int
    let now: @Sendable () -> Date

    // MARK: Links

    static func seriesLink(_ name: String) -> String { "/series?name=" + HTML.query(name) }
    static func versionLink(_ id: ObjectID, path: [UInt8] = []) -> String {
        "/version/" + id.hex + (path.isEmpty ? "" : "?p=" + HTML.hex(path))
    }
    static func fileLink(_ id: ObjectID, path: [UInt8]) -> String { "/file/" + id.hex + "?p=" + HTML.hex(path) }
    static func diffLink(_ a: ObjectID, _ b: ObjectID) -> String { "/diff?a=" + a.hex + "&b=" + b.hex }

    // MARK: Overview

    func overview() async throws -> Response {
        let all = try await model.series()
        let usage = try await model.storage()
        let now = now()
        let cutoff = Show.monthsBefore(now, months: remindAfterMonths)
        let versions = all.reduce(0) { $0 + $1.versions.count }
        let newest = all.map(\.latest).max { $0.time < $1.time }

        var body: [Node] = [.el("h1", [], "Your vault")]
        if let rollback {
            body.append(.el("p", [("class", "reminder"), ("role", "alert")], "Rollback detected: \(rollback)"))
        }
        body.append(
            .el(
                "div", [("class", "cards")],
                [
                    Self.card(Show.count(all.count), "series", id: "count-series"),
                    Self.card(Show.count(versions), versions == 1 ? "version" : "versions", id: "count-versions"),
                    Self.card(Show.bytes(usage.bytes), "in storage (\(Show.count(usage.files)) files, \(usage.packs) pack\(usage.packs == 1 ? "" : "s"))", id: "storage"),
                    Self.card(newest.map { Show.age(now.timeIntervalSince($0.time)) + " ago" } ?? "never", "last sealed", id: "last-sealed"),
                ]))
        if all.isEmpty {
            body.append(.el("p", [], "No versions yet; add one with coffer seal PATH."))
            return Self.htmlResponse(Self.document(title: "Overview", vault: location, body: body))
        }

        // Reminders, as `coffer status` words them.
        let overdue = all.filter { $0.latest.time < cutoff }
        body.append(.el("h2", [], "Reminders"))
        if overdue.isEmpty {
            body.append(.el("p", [("class", "ok"), ("id", "reminders")], "Every series has a version from the last \(remindAfterMonths) months."))
        } else {
            body.append(
                .el(
                    "ul", [("id", "reminders")],
                    overdue.map { s in
                        .el(
                            "li", [("class", "reminder")],
                            [.text("“"), .el("a", [("href", Self.seriesLink(s.name))], s.name),
                             .text("” was last sealed \(Show.age(now.timeIntervalSince(s.latest.time))) ago (\(Show.day(s.latest.time)), more than \(remindAfterMonths) months); seal a fresh copy.")])
                    }))
        }

        body.append(.el("h2", [], "Series"))
        body.append(
            Self.table(
                caption: "Each name you sealed, with its latest version", headers: ["Name", "Versions", "Latest", "Date (UTC)", "Age", "Reminder"],
                numeric: [1],
                rows: all.map { s in
                    let late = s.latest.time < cutoff
                    return [
                        .el("a", [("href", Self.seriesLink(s.name))], s.name),
                        .text(Show.count(s.versions.count)),
                        .el("a", [("href", Self.versionLink(s.latest.id)), ("class", "path")], s.latest.id.short),
                        .text(Show.dateTime(s.latest.time)),
                        .text(Show.age(now.timeIntervalSince(s.latest.time))),
                        late ? .el("span", [("class", "loss")], "overdue: seal a fresh copy") : .el("span", [("class", "ok")], "up to date"),
                    ]
                }, id: "series-table"))

        // The vault's size over time.
        let sizes = VaultModel.sizeOverTime(all)
        let points = sizes.map { ChartPoint(time: $0.time, value: Double($0.bytes), shown: Show.bytes($0.bytes), link: Self.versionLink($0.id)) }
        body.append(.el("h2", [], "Vault size over time"))
        body.append(
            .el(
                "figure", [],
                [
                    .el("figcaption", [], "Storage added by the versions sealed up to each date"),
                    SVGChart.line(id: "chart-size", title: "Vault size after each version", points: points, dayFormatter: Show.day, valueFormatter: { Show.bytes(UInt64($0)) }),
                    .el(
                        "details", [],
                        [
                            .el("summary", [], "The numbers"),
                            Self.table(caption: nil, headers: ["Date (UTC)", "Size"], numeric: [1], rows: sizes.map { [.text(Show.dateTime($0.time)), .text(Show.bytes($0.bytes))] }),
                        ]),
                ]))
        body.append(.el("p", [("class", "muted")], "Counts what each version added when it was sealed; versions forgotten and pruned since are not subtracted."))
        return Self.htmlResponse(Self.document(title: "Overview", vault: location, body: body))
    }

    // MARK: Series

    func series(name: String) async throws -> Response {
        guard let s = try await model.series().first(where: { $0.name == name }) else {
            throw HTTPError(.notFound, message: "No series named \(name) in this vault.")
        }
        let now = now()
        let added = s.versions.reduce(UInt64(0)) { $0 + $1.addedBytes }
        var body: [Node] = [
            .el("nav", [("aria-label", "Breadcrumb")], [.el("ol", [("class", "crumbs")], [.el("li", [], [.el("a", [("href", "/")], "Overview")]), .el("li", [("aria-current", "page")], name)])]),
            .el("h1", [], name),
            .el(
                "div", [("class", "cards")],
                [
                    Self.card(Show.count(s.versions.count), s.versions.count == 1 ? "version" : "versions", id: "series-versions"),
                    Self.card(Show.day(s.latest.time), "latest version (\(Show.age(now.timeIntervalSince(s.latest.time))) ago)"),
                    Self.card(Show.bytes(s.latest.bytes), "latest size (\(Show.count(s.latest.files)) file\(s.latest.files == 1 ? "" : "s"))"),
                    Self.card(Show.bytes(added), "storage all versions added"),
                ]),
        ]
        if s.latest.time < Show.monthsBefore(now, months: remindAfterMonths) {
            body.append(.el("p", [("class", "reminder"), ("role", "status")], "Last sealed \(Show.age(now.timeIntervalSince(s.latest.time))) ago, more than \(remindAfterMonths) months: seal a fresh copy."))
        }

        body.append(.el("h2", [], "Versions over time"))
        let timelinePoints = s.versions.map { ChartPoint(time: $0.time, value: 0, shown: "\($0.id.short), \(Show.bytes($0.bytes))", link: Self.versionLink($0.id)) }
        body.append(.el("figure", [], [.el("figcaption", [], "Each version on a time line (select one to browse it)"), SVGChart.timeline(id: "timeline", title: "Versions of \(name) over time", points: timelinePoints, dayFormatter: Show.day)]))
        let addedPoints = s.versions.map { ChartPoint(time: $0.time, value: Double($0.addedBytes), shown: Show.bytes($0.addedBytes), link: Self.versionLink($0.id)) }
        body.append(.el("figure", [], [.el("figcaption", [], "Storage each version added"), SVGChart.line(id: "chart-added", title: "Storage each version of \(name) added", points: addedPoints, dayFormatter: Show.day, valueFormatter: { Show.bytes(UInt64($0)) })]))

        // Records of the exports this series holds.
        for kind in ExportRecordKinds.all {
            for measure in kind.measures {
                let values = try await model.measure(measure, kind: kind, of: s)
                guard !values.isEmpty else { continue }
                body.append(.el("h2", [("id", "records-" + measure.id)], "\(kind.title): \(measure.title.lowercased()) in each export"))
                let points = values.map { ChartPoint(time: $0.time, value: Double($0.count), shown: Show.count($0.count), link: Self.versionLink($0.versionID)) }
                body.append(.el("figure", [], [.el("figcaption", [], "\(measure.title) in each export"), SVGChart.line(id: "chart-" + measure.id, title: "\(measure.title) in each export of \(name)", points: points, dayFormatter: Show.day)]))
                let pairs = values.compactMap { v in v.gained.map { ChartPair(time: v.time, gain: $0, loss: v.lost ?? 0) } }
                if !pairs.isEmpty {
                    body.append(.el("figure", [], [.el("figcaption", [], "\(measure.gainLabel.capitalizedFirst) (up) and \(measure.lossLabel) (down) per export"), SVGChart.pairs(id: "changes-" + measure.id, title: "\(measure.gainLabel.capitalizedFirst) and \(measure.lossLabel) per export of \(name)", pairs: pairs, dayFormatter: Show.day)]))
                }
                var previous: ObjectID?
                let rows: [[Node]] = values.map { v in
                    defer { previous = v.versionID }
                    return [
                        .el("a", [("href", Self.versionLink(v.versionID))], Show.dateTime(v.time)),
                        .text(Show.count(v.count)),
                        v.gained.map { .el("span", [("class", "gain")], "+" + Show.count($0)) } ?? .text("—"),
                        v.lost.map { .el("span", [("class", "loss")], "−" + Show.count($0)) } ?? .text("—"),
                        previous.map { .el("a", [("href", Self.diffLink($0, v.versionID))], "what changed") } ?? .text(""),
                    ]
                }
                body.append(Self.table(caption: "\(measure.title) per export", headers: ["Export", measure.title, measure.gainLabel.capitalizedFirst, measure.lossLabel.capitalizedFirst, "Diff"], numeric: [1, 2, 3], rows: rows, id: "table-" + measure.id))
            }
        }

        body.append(.el("h2", [], "All versions"))
        let rows: [[Node]] = s.versions.reversed().enumerated().map { i, v in
            let older = i + 1 < s.versions.count ? s.versions[s.versions.count - 2 - i].id : nil
            return [
                .el("a", [("href", Self.versionLink(v.id)), ("class", "path")], v.id.short),
                .text(Show.dateTime(v.time)),
                .text(Show.count(v.files)),
                .text(Show.bytes(v.bytes)),
                .text(Show.bytes(v.addedBytes)),
                .text(v.host),
                older.map { .el("a", [("href", Self.diffLink($0, v.id))], "diff with previous") } ?? .text(""),
            ]
        }
        body.append(Self.table(caption: "Newest first; Added is what each version cost in storage after deduplication and compression", headers: ["Version", "Date (UTC)", "Files", "Size", "Added", "Host", "Compare"], numeric: [2, 3, 4], rows: rows, id: "versions-table"))

        if s.versions.count > 1 {
            let options: (ObjectID) -> [Node] = { selected in
                s.versions.reversed().map { v in .el("option", [("value", v.id.hex), ("selected", v.id == selected ? "" : nil)], "\(Show.dateTime(v.time)) (\(v.id.short))") }
            }
            body.append(.el("h2", [], "Compare two versions"))
            body.append(
                .el(
                    "form", [("method", "get"), ("action", "/diff"), ("class", "compare")],
                    [
                        .el("div", [], [.el("label", [("for", "cmp-a")], "Older"), .el("select", [("id", "cmp-a"), ("name", "a")], options(s.versions[s.versions.count - 2].id))]),
                        .el("div", [], [.el("label", [("for", "cmp-b")], "Newer"), .el("select", [("id", "cmp-b"), ("name", "b")], options(s.latest.id))]),
                        .el("div", [], [.el("button", [("type", "submit")], "Compare")]),
                    ]))
        }
        return Self.htmlResponse(Self.document(title: name, vault: location, body: body))
    }
}

extension String {
    /// The first letter in upper case.
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
