// UIServerTests.swift: real requests to a started `coffer ui` server: the guard (token, Host,
// CSRF, headers, loopback only) and what the pages show.

import CofferCore
import CofferExports
import Foundation
import Testing

@testable import CofferUI
@testable import ExportGenerator

@Suite(.serialized) struct UIServerTests {
    // MARK: Guard

    @Test func noTokenIs403WithSecurityHeaders() async throws {
        let f = try await SharedFixture.shared.get()
        for path in ["/", "/series?name=x", "/assets/app.css", "/nowhere"] {
            let r = try await RawHTTP.request(port: f.port, path: path, host: f.host)
            #expect(r.status == 403, "\(path)")
            #expect(r.header("Content-Security-Policy")?.contains("default-src 'self'") == true)
            #expect(r.header("Content-Security-Policy")?.contains("frame-ancestors 'none'") == true)
            #expect(r.header("X-Content-Type-Options") == "nosniff")
            #expect(r.header("Referrer-Policy") == "no-referrer")
            #expect(r.header("Access-Control-Allow-Origin") == nil)
            #expect(!r.text.contains("Basic_LinkedInDataExport"))
        }
        let wrongCookie = try await RawHTTP.request(port: f.port, path: "/", host: f.host, cookie: "coffer_ui_session=" + String(repeating: "0", count: 64))
        #expect(wrongCookie.status == 403)
    }

    @Test func tokenInURLBecomesACookieAndLeavesTheAddress() async throws {
        let f = try await SharedFixture.shared.get()
        let wrong = try await RawHTTP.request(port: f.port, path: "/?token=" + String(repeating: "a", count: 64), host: f.host)
        #expect(wrong.status == 403)
        #expect(wrong.header("Set-Cookie") == nil)
        let r = try await RawHTTP.request(port: f.port, path: "/series?token=\(f.secrets.token)&name=abc", host: f.host)
        #expect(r.status == 303)
        #expect(r.header("Location") == "/series?name=abc")
        let cookie = try #require(r.header("Set-Cookie"))
        #expect(cookie.hasPrefix("coffer_ui_session=\(f.secrets.token);"))
        #expect(cookie.contains("HttpOnly"))
        #expect(cookie.contains("SameSite=Strict"))
        let page = try await RawHTTP.request(port: f.port, path: "/", host: f.host, cookie: f.cookie)
        #expect(page.status == 200)
        #expect(!page.text.contains(f.secrets.token), "the page never shows the session token")
    }

    @Test func foreignHostIs403() async throws {
        let f = try await SharedFixture.shared.get()
        for host in ["evil.example:\(f.port)", "127.0.0.1", "127.0.0.1:1", "localhost.evil.example:\(f.port)", "192.168.1.1:\(f.port)"] {
            let r = try await RawHTTP.request(port: f.port, path: "/", host: host, cookie: f.cookie)
            #expect(r.status == 403, "Host \(host)")
        }
        let none = try await RawHTTP.request(port: f.port, path: "/", host: nil, cookie: f.cookie)
        #expect(none.status == 403 || none.status == 400)
        let twice = try await RawHTTP.request(port: f.port, path: "/", host: f.host, cookie: f.cookie, extraHeaders: ["Host: evil.example"])
        #expect(twice.status == 403 || twice.status == 400)
        for host in ["localhost:\(f.port)", "[::1]:\(f.port)", "LOCALHOST:\(f.port)"] {
            let r = try await RawHTTP.request(port: f.port, path: "/", host: host, cookie: f.cookie)
            #expect(r.status == 200, "Host \(host)")
        }
    }

    @Test func postNeedsTheCSRFToken() async throws {
        let f = try await SharedFixture.shared.get()
        let path = "/zip/\(f.ids[3].hex)"
        let none = try await RawHTTP.request(port: f.port, method: "POST", path: path, host: f.host, cookie: f.cookie, body: Array("p=".utf8))
        #expect(none.status == 403)
        let wrong = try await RawHTTP.request(
            port: f.port, method: "POST", path: path, host: f.host, cookie: f.cookie, body: Array("p=&csrf=\(String(repeating: "b", count: 64))".utf8))
        #expect(wrong.status == 403)
        let otherSite = try await RawHTTP.request(
            port: f.port, method: "POST", path: path, host: f.host, cookie: f.cookie, extraHeaders: ["Origin: http://evil.example"],
            body: Array("p=&csrf=\(f.secrets.csrf)".utf8))
        #expect(otherSite.status == 403)
        let ok = try await RawHTTP.request(
            port: f.port, method: "POST", path: path, host: f.host, cookie: f.cookie, extraHeaders: ["Origin: http://\(f.host)"],
            body: Array("p=&csrf=\(f.secrets.csrf)".utf8))
        #expect(ok.status == 200)
        #expect(ok.header("Content-Type") == "application/zip")
        #expect(Array(ok.body.prefix(2)) == Array("PK".utf8))
        // The zip holds the one file of that version.
        let entries = try ZipLayout.parse(ok.body).members.map(\.name)
        #expect(entries.contains { $0.hasPrefix("odd/bad") })
    }

    @Test func listensOnLoopbackOnly() async throws {
        let f = try await SharedFixture.shared.get()
        let portHex = String(format: "%04X", f.port)
        var listening: [String] = []
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                guard fields.count > 3, fields[3] == "0A" else { continue }  // LISTEN
                let local = fields[1].split(separator: ":")
                if local.count == 2, local[1] == portHex { listening.append(String(local[0])) }
            }
        }
        #expect(!listening.isEmpty, "the server's socket is in /proc/net/tcp")
        #expect(listening.allSatisfy { $0 == "0100007F" }, "bound addresses: \(listening)")
    }

    // MARK: Pages

    @Test func overviewShowsSeriesRemindersAndSizeChart() async throws {
        let f = try await SharedFixture.shared.get()
        let r = try await RawHTTP.request(port: f.port, path: "/", host: f.host, cookie: f.cookie)
        #expect(r.status == 200)
        #expect(r.header("Content-Type") == "text/html; charset=utf-8")
        let html = r.text
        let table = try #require(element("table", id: "series-table", in: html))
        #expect(table.contains(">Basic_LinkedInDataExport</a>"))
        #expect(table.contains(f.ids[2].short), "the latest version of the series")
        // The exports are dated 2025: older than six months, so the series is overdue.
        #expect(try #require(element("ul", id: "reminders", in: html)).contains("Basic_LinkedInDataExport"))
        let chart = try #require(element("svg", id: "chart-size", in: html))
        #expect(occurrences(of: "class=\"point\"", in: chart) == 4, "one point per version of the vault")
        #expect(!html.contains("<script>") && !html.contains("style="), "no inline script or style")
    }

    @Test func seriesChartsConnectionsPerExport() async throws {
        let f = try await SharedFixture.shared.get()
        let r = try await RawHTTP.request(port: f.port, path: "/series?name=Basic_LinkedInDataExport", host: f.host, cookie: f.cookie)
        #expect(r.status == 200)
        let html = r.text
        let chart = try #require(element("svg", id: "chart-connections", in: html))
        #expect(occurrences(of: "class=\"point\"", in: chart) == 3)
        let timeline = try #require(element("svg", id: "timeline", in: html))
        #expect(occurrences(of: "class=\"point\"", in: timeline) == 3)
        // The counts are the rows of each export's Connections.csv.
        let counts = try f.exports.map { try ExportRecordKinds.csvRows(try #require($0.member("Connections.csv")).contents) }
        let values = chart.components(separatedBy: "data-value=\"").dropFirst().compactMap { Double($0.prefix { $0 != "\"" }) }
        #expect(values == counts.map(Double.init))
        // New connections per export as RecordDiff counts them.
        let table = try #require(element("table", id: "table-connections", in: html))
        for i in 1..<3 {
            let d = try RecordDiff.compare(
                before: try #require(f.exports[i - 1].member("Connections.csv")).contents, after: try #require(f.exports[i].member("Connections.csv")).contents,
                path: "Connections.csv")
            #expect(table.contains("+\(Show.count(d.summary.newConnections))<"))
        }
        #expect(try #require(element("svg", id: "changes-connections", in: html)).contains("class=\"bar gain\""))
    }

    @Test func diffListsNewConnections() async throws {
        let f = try await SharedFixture.shared.get()
        let r = try await RawHTTP.request(port: f.port, path: "/diff?a=\(f.ids[1].hex)&b=\(f.ids[2].hex)", host: f.host, cookie: f.cookie)
        #expect(r.status == 200)
        let d = try RecordDiff.compare(
            before: try #require(f.exports[1].member("Connections.csv")).contents, after: try #require(f.exports[2].member("Connections.csv")).contents,
            path: "Connections.csv")
        #expect(d.added.count > 0)
        let list = try #require(element("ul", id: "added-connections", in: r.text))
        #expect(occurrences(of: "<li ", in: list) == d.added.count)
        for row in d.added { #expect(list.contains("data-key=\"\(HTML.escape(row.key))\"")) }
        #expect(r.text.contains("<script src=\"/assets/search.js\" defer></script>"))
    }

    @Test func versionPageBrowsesZipMembersAndDownloadsAFile() async throws {
        let f = try await SharedFixture.shared.get()
        let zipName = f.exports[0].zipFileName
        let top = try await RawHTTP.request(port: f.port, path: "/version/\(f.ids[0].hex)", host: f.host, cookie: f.cookie)
        #expect(top.status == 200)
        #expect(top.text.contains(HTML.hex(Array(zipName.utf8))), "the export links to its members")
        let inside = try await RawHTTP.request(port: f.port, path: "/version/\(f.ids[0].hex)?p=\(HTML.hex(Array(zipName.utf8)))", host: f.host, cookie: f.cookie)
        #expect(inside.status == 200)
        let member = Array((zipName + "/Connections.csv").utf8)
        #expect(inside.text.contains("/file/\(f.ids[0].hex)?p=\(HTML.hex(member))"))
        let file = try await RawHTTP.request(port: f.port, path: "/file/\(f.ids[0].hex)?p=\(HTML.hex(member))", host: f.host, cookie: f.cookie)
        #expect(file.status == 200)
        #expect(file.body == (try #require(f.exports[0].member("Connections.csv")).contents))
        #expect(file.header("Content-Disposition")?.contains("filename=\"Connections.csv\"") == true)
        let missing = try await RawHTTP.request(port: f.port, path: "/file/\(f.ids[0].hex)?p=\(HTML.hex(Array("nope".utf8)))", host: f.host, cookie: f.cookie)
        #expect(missing.status == 404)
    }

    @Test func namesThatAreNotUTF8AreEscapedVisibly() async throws {
        let f = try await SharedFixture.shared.get()
        let r = try await RawHTTP.request(port: f.port, path: "/version/\(f.ids[3].hex)?p=\(HTML.hex(Array("odd".utf8)))", host: f.host, cookie: f.cookie)
        #expect(r.status == 200)
        #expect(r.text.contains("bad<span class=\"bad\" title=\"byte not UTF-8\">\\xFF</span>&lt;b&gt;"))
        #expect(!r.text.contains("<b>"))
        #expect(String(validating: r.body, as: UTF8.self) != nil, "the page is valid UTF-8")
    }

    @Test func assetsAreServedWithTheirTypes() async throws {
        let f = try await SharedFixture.shared.get()
        let css = try await RawHTTP.request(port: f.port, path: "/assets/app.css", host: f.host, cookie: f.cookie)
        #expect(css.status == 200)
        #expect(css.header("Content-Type") == "text/css; charset=utf-8")
        let js = try await RawHTTP.request(port: f.port, path: "/assets/search.js", host: f.host, cookie: f.cookie)
        #expect(js.header("Content-Type") == "text/javascript; charset=utf-8")
        let none = try await RawHTTP.request(port: f.port, path: "/assets/other.js", host: f.host, cookie: f.cookie)
        #expect(none.status == 404)
    }
}

@Suite struct UIUnitTests {
    @Test func escaping() {
        #expect(HTML.escape("<a href=\"x\">'&'</a>") == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;")
        #expect(HTML.escape(bytes: Array("é<".utf8)) == "é&lt;")
        #expect(HTML.escape(bytes: [0x61, 0xC3]) == "a<span class=\"bad\" title=\"byte not UTF-8\">\\xC3</span>")
        #expect(HTML.escape(bytes: [0x1B, 0x5B]) == "<span class=\"bad\" title=\"control character\">\\x1B</span>[")
        #expect(HTML.unhex(HTML.hex([0, 0xFF, 0x2F])) == [0, 0xFF, 0x2F])
        #expect(HTML.unhex("zz") == nil)
        #expect(Node.el("a", [("href", "/x?a=1&b=\"")], "<t>").markup == "<a href=\"/x?a=1&amp;b=&quot;\">&lt;t&gt;</a>")
    }

    @Test func tokensCompareExactly() {
        let s = UISecrets.random()
        #expect(s.token.count == 64 && s.csrf.count == 64 && s.token != s.csrf)
        #expect(UISecrets.equal(s.token, s.token))
        #expect(!UISecrets.equal(s.token, String(s.token.dropLast())))
        #expect(!UISecrets.equal(s.token, String(s.token.dropLast()) + (s.token.hasSuffix("0") ? "1" : "0")))
        #expect(!UISecrets.equal("", s.token))
    }

    @Test func hostCheck() {
        let h = HostCheck(port: 8123)
        #expect(h.allows("127.0.0.1:8123") && h.allows("localhost:8123") && h.allows("[::1]:8123"))
        #expect(!h.allows("127.0.0.1") && !h.allows("127.0.0.2:8123") && !h.allows("example.com:8123") && !h.allows(nil))
        #expect(HostCheck(port: 1, extraHost: "10.0.0.5").allows("10.0.0.5:1"))
        #expect(HostCheck(port: 1, extraHost: "127.0.0.2").allows("127.0.0.2:1"))
        #expect(HostCheck(port: 1, extraHost: "::1").allows("[::1]:1"))
        #expect(UIConfiguration.isLoopback("127.0.0.1") && UIConfiguration.isLoopback("::1") && !UIConfiguration.isLoopback("0.0.0.0"))
    }

    @Test func sizeOverTimeAddsUpAcrossSeries() {
        func v(_ t: Double, _ added: UInt64, _ name: String) -> VersionSummary {
            VersionSummary(id: ObjectID.hashing(name + "\(t)"), name: name, time: Date(timeIntervalSince1970: t), host: "h", tags: [], files: 1, bytes: 1, addedBytes: added)
        }
        let series = [SeriesSummary(name: "a", versions: [v(10, 100, "a"), v(30, 5, "a")]), SeriesSummary(name: "b", versions: [v(20, 40, "b")])]
        #expect(VaultModel.sizeOverTime(series).map(\.bytes) == [100, 140, 145])
    }

    @Test func lineChartHasOnePointPerValueInTimeOrder() {
        let points = (0..<5).map { ChartPoint(time: Date(timeIntervalSince1970: Double($0) * 86400), value: Double($0 * 10), shown: "\($0)") }
        let svg = SVGChart.line(id: "c", title: "t", points: points, dayFormatter: Show.day).markup
        #expect(occurrences(of: "class=\"point\"", in: svg) == 5)
        let xs = ChartGeometry.xs(points.map(\.time))
        #expect(xs.first == ChartGeometry.left && xs.last == ChartGeometry.width - ChartGeometry.right)
        #expect(zip(xs, xs.dropFirst()).allSatisfy { $0 < $1 })
        #expect(ChartGeometry.xs([Date()]) == [ChartGeometry.left + ChartGeometry.plotWidth / 2])
        // Counts far from 0 get an axis that starts below the smallest; others start at 0.
        #expect(SVGChart.valueRange([580, 600, 621]) == (559, 621))
        #expect(SVGChart.valueRange([10, 100]) == (0, 100))
        #expect(SVGChart.valueRange([]) == (0, 1))
        let bars = SVGChart.pairs(id: "p", title: "t", pairs: [ChartPair(time: Date(), gain: 3, loss: 1)], dayFormatter: Show.day).markup
        #expect(occurrences(of: "class=\"bar gain\"", in: bars) == 1 && occurrences(of: "class=\"bar loss\"", in: bars) == 1)
    }

    @Test func attachmentNamesKeepEveryByte() {
        #expect(Pages.attachment(Array("a b.csv".utf8)) == "attachment; filename=\"a b.csv\"; filename*=UTF-8''a%20b.csv")
        #expect(Pages.attachment([0x22, 0xFF]) == "attachment; filename=\"__\"; filename*=UTF-8''%22%FF")
    }
}

extension ObjectID {
    static func hashing(_ s: String) -> ObjectID { Array(s.utf8).withUnsafeBytes { ObjectID.hashing($0) } }
}
