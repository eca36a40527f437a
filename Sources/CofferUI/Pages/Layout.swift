// Layout.swift: the page frame (header, skip link, main, footer) and HTML responses.

import Hummingbird

extension Pages {
    /// A whole document. `scripts` are file names under /assets.
    static func document(title: String, vault: String?, scripts: [String] = [], body: [Node]) -> String {
        let head = Node.el(
            "head", [],
            [
                .el("meta", [("charset", "utf-8")]),
                .el("meta", [("name", "viewport"), ("content", "width=device-width, initial-scale=1")]),
                .el("meta", [("name", "referrer"), ("content", "no-referrer")]),
                .el("title", [], title + " · Coffer"),
                .el("link", [("rel", "stylesheet"), ("href", "/assets/app.css")]),
            ] + scripts.map { .el("script", [("src", "/assets/" + $0), ("defer", "")], []) })
        let header = Node.el(
            "header", [("class", "top")],
            [
                .el(
                    "nav", [("aria-label", "Site")],
                    [
                        .el("a", [("class", "brand"), ("href", "/")], "Coffer"),
                        vault.map { Node.el("span", [("class", "vault")], "Vault " + $0) } ?? .empty,
                    ])
            ])
        let page = Node.el(
            "html", [("lang", "en")],
            [
                head,
                .el(
                    "body", [],
                    [
                        .el("a", [("class", "skip"), ("href", "#main")], "Skip to content"),
                        header,
                        .el("main", [("id", "main")], body),
                        .el("footer", [], [.text("Read-only view of the vault. Stop the server with Ctrl-C in its terminal.")]),
                    ]),
            ])
        return "<!DOCTYPE html>\n" + page.markup
    }

    static func htmlResponse(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// A short page for an error (403, 404, 500).
    static func errorResponse(status: HTTPResponse.Status, message: String) -> Response {
        htmlResponse(
            document(
                title: "\(status.code) \(status.reasonPhrase)", vault: nil,
                body: [.el("h1", [], "\(status.code) \(status.reasonPhrase)"), .el("p", [], message)]), status: status)
    }

    /// A table in a scrolling wrapper; `numeric` are the indices of right-aligned columns.
    static func table(caption: String?, headers: [String], numeric: Set<Int> = [], rows: [[Node]], id: String? = nil) -> Node {
        var parts: [Node] = []
        if let caption { parts.append(.el("caption", [], caption)) }
        parts.append(
            .el("thead", [], [.el("tr", [], headers.enumerated().map { i, h in .el("th", [("scope", "col"), ("class", numeric.contains(i) ? "num" : nil)], h) })]))
        parts.append(
            .el("tbody", [], rows.map { row in .el("tr", [], row.enumerated().map { i, cell in .el("td", [("class", numeric.contains(i) ? "num" : nil)], [cell]) }) }))
        return .el("div", [("class", "table-wrap")], [.el("table", [("id", id)], parts)])
    }

    static func card(_ value: String, _ label: String, id: String? = nil) -> Node {
        .el("div", [("class", "card"), ("id", id)], [.el("span", [("class", "big")], value), .el("span", [("class", "label")], label)])
    }
}
