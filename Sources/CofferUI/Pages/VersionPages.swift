// VersionPages.swift: a version's file tree (zip members included), file downloads and folder
// downloads as zip (through the dump code: `Vault.dump` and `ZipStreamWriter`).

import CofferCore
import CofferExports
import Dispatch
import Foundation
import Hummingbird
import Synchronization

extension Pages {
    /// A version id from a URL (the full hex id, or any selector `coffer` takes).
    func resolve(_ text: String?) async throws -> ObjectID {
        guard let text, !text.isEmpty else { throw HTTPError(.badRequest, message: "No version given.") }
        do {
            return try await model.read { vault in
                let id = try ObjectID(hex: text) ?? vault.resolve(text)
                _ = try vault.version(id)
                return id
            }
        } catch {
            throw HTTPError(.notFound, message: "No version \(text) in this vault: \(error)")
        }
    }

    /// `p=HEX` of a request: a path as raw bytes.
    static func pathParameter(_ request: Request) throws -> [UInt8] {
        guard let hex = request.uri.queryParameters.get("p") else { return [] }
        guard let bytes = HTML.unhex(hex) else { throw HTTPError(.badRequest, message: "The path parameter is not hex.") }
        return bytes
    }

    func version(id: ObjectID, path: [UInt8]) async throws -> Response {
        let info = try await model.read { vault in try vault.version(id) }
        guard let entries = try await model.list(id, folder: path) else {
            throw HTTPError(.notFound, message: "No folder \(String(decoding: path, as: UTF8.self)) in version \(id.short).")
        }
        // A real folder (or the whole version) can be downloaded as a zip; a folder inside a zip cannot.
        var isRealFolder = path.isEmpty
        if !isRealFolder { isRealFolder = try await model.read { vault in try vault.entry(at: path, in: id)?.type == .directory } }
        let slash = UInt8(ascii: "/")
        let components = path.split(separator: slash).map(Array.init)

        var crumbs: [Node] = [
            .el("li", [], [.el("a", [("href", "/")], "Overview")]),
            .el("li", [], [.el("a", [("href", Self.seriesLink(info.name))], info.name)]),
            .el("li", [], [components.isEmpty ? .text("\(Show.day(info.time)) (\(id.short))") : .el("a", [("href", Self.versionLink(id))], "\(Show.day(info.time)) (\(id.short))")]),
        ]
        for (i, c) in components.enumerated() {
            let prefix = Array(components[0...i].joined(separator: [slash]))
            crumbs.append(i == components.count - 1 ? .el("li", [("aria-current", "page"), ("class", "path")], [.bytes(c)]) : .el("li", [("class", "path")], [.el("a", [("href", Self.versionLink(id, path: prefix))], [.bytes(c)])]))
        }
        var body: [Node] = [
            .el("nav", [("aria-label", "Breadcrumb")], [.el("ol", [("class", "crumbs")], crumbs)]),
            .el("h1", [], [.text(info.name + " · " + Show.dateTime(info.time))]),
            .el(
                "div", [("class", "cards")],
                [
                    Self.card(Show.count(info.stats.files), info.stats.files == 1 ? "file" : "files"), Self.card(Show.bytes(info.stats.bytes), "in all"),
                    Self.card(Show.bytes(info.stats.addedBytes), "added to storage"), Self.card(info.host, "host"),
                ]),
        ]
        if isRealFolder {
            body.append(
                .el(
                    "form", [("method", "post"), ("action", "/zip/" + id.hex), ("class", "inline")],
                    [
                        .el("input", [("type", "hidden"), ("name", "csrf"), ("value", secrets.csrf)]),
                        .el("input", [("type", "hidden"), ("name", "p"), ("value", HTML.hex(path))]),
                        .el("button", [("type", "submit"), ("id", "download-zip")], path.isEmpty ? "Download the whole version as a zip" : "Download this folder as a zip"),
                    ]))
        }
        let rows: [[Node]] = entries.map { item in
            let e = item.entry
            let name = Array(e.pathBytes.split(separator: slash).last ?? [])
            let cell: Node
            switch e.type {
            case .directory:
                cell = .el("a", [("href", Self.versionLink(id, path: e.pathBytes)), ("class", "path")], [.bytes(name), .text("/")])
            case .archive:
                cell = .group([
                    .el("a", [("href", Self.versionLink(id, path: e.pathBytes)), ("class", "path")], [.bytes(name)]),
                    .text(" "), .el("a", [("href", Self.fileLink(id, path: e.pathBytes)), ("class", "muted"), ("download", "")], "(download)"),
                ])
            case .file, .hardlink:
                cell = .el("a", [("href", Self.fileLink(id, path: e.pathBytes)), ("class", "path file"), ("download", "")], [.bytes(name)])
            case .symlink:
                cell = .el("span", [("class", "path")], [.bytes(name), .text(" → "), .bytes(e.linkTargetBytes)])
            default:
                cell = .el("span", [("class", "path")], [.bytes(name)])
            }
            let kind: String
            switch e.type {
            case .directory: kind = "folder"
            case .archive: kind = "zip (browse)"
            case .file: kind = "file"
            case .symlink: kind = "link"
            case .hardlink: kind = "hard link"
            default: kind = "special"
            }
            let modified = e.mtimeSeconds > 0 ? Show.dateTime(Date(timeIntervalSince1970: TimeInterval(e.mtimeSeconds))) : ""
            return [cell, .text(kind), .text(e.type == .directory ? "" : Show.bytes(e.size)), .text(modified)]
        }
        body.append(entries.isEmpty ? .el("p", [], "This folder is empty.") : Self.table(caption: "Contents (select a file to download it)", headers: ["Name", "Kind", "Size", "Modified (UTC)"], numeric: [2], rows: rows, id: "entries"))
        return Self.htmlResponse(Self.document(title: "\(info.name) \(Show.day(info.time))", vault: location, body: body))
    }

    /// A file's bytes (a zip member's too), streamed and checked against its SHA-256.
    func file(id: ObjectID, path: [UInt8]) async throws -> Response {
        let entry = try await model.read { vault -> VersionEntry? in
            let walker = try vault.walker(for: id, expandArchives: true)
            while let e = try walker.next() {
                if e.pathBytes == path { return e }
                if !VaultModel.isBelow(path, e.pathBytes) { walker.skipChildren() }
            }
            return nil
        }
        guard let entry, entry.type == .file || entry.type == .archive || entry.type == .hardlink else {
            throw HTTPError(.notFound, message: "No file \(String(decoding: path, as: UTF8.self)) in version \(id.short).")
        }
        let name = Array(path.split(separator: UInt8(ascii: "/")).last ?? [])
        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        headers[.contentDisposition] = Self.attachment(name)
        let body = model.streamedBody(contentLength: entry.type == .hardlink ? nil : Int(exactly: entry.size)) { vault, emit in
            try vault.readFile(id, pathBytes: path, archiveHandler: ZipArchiveHandler()) { bytes in
                try bytes.withUnsafeBytes { try emit($0) }
            }
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// A folder of a version (empty: the whole version) as a zip stream.
    func zip(id: ObjectID, path: [UInt8]) async throws -> Response {
        let info = try await model.read { vault -> Version in
            let v = try vault.version(id)
            if !path.isEmpty {
                guard try vault.entry(at: path, in: id)?.type == .directory else {
                    throw HTTPError(.notFound, message: "No folder \(String(decoding: path, as: UTF8.self)) in version \(id.short) (a folder inside a zip cannot be zipped again: download the zip).")
                }
            }
            return v
        }
        let base = path.isEmpty ? Array((info.name + "-" + Show.day(info.time)).utf8) : Array(path.split(separator: UInt8(ascii: "/")).last ?? [])
        var headers = HTTPFields()
        headers[.contentType] = "application/zip"
        headers[.contentDisposition] = Self.attachment(base + Array(".zip".utf8))
        let body = model.streamedBody(contentLength: nil) { vault, emit in
            // The output lives only during this call: the sink does not outlive `emit`.
            try withoutActuallyEscaping(emit) { emit in
                let output = DumpOutput { try emit($0) }
                let writer = try ZipStreamWriter(output: output)
                try vault.dump(id, folder: path, archiveHandler: ZipArchiveHandler(), to: writer)
                try output.flush()
            }
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// `attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266): any byte of
    /// the name survives in filename*, and the ASCII fallback has no quote, backslash or control.
    static func attachment(_ name: [UInt8]) -> String {
        let ascii = String(decoding: name.map { b -> UInt8 in
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: " "):
                return b
            default: return UInt8(ascii: "_")
            }
        }, as: UTF8.self)
        var encoded = ""
        for b in name {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"):
                encoded.unicodeScalars.append(UnicodeScalar(b))
            default:
                let h = String(b, radix: 16, uppercase: true)
                encoded += "%" + (h.count == 1 ? "0" + h : h)
            }
        }
        return "attachment; filename=\"\(ascii.isEmpty ? "download" : ascii)\"; filename*=UTF-8''\(encoded)"
    }
}

/// Set once a download's client went away, so the producer stops at its next chunk.
private final class StopFlag: Sendable {
    private let stopped = Atomic<Bool>(false)
    var isStopped: Bool { stopped.load(ordering: .relaxed) }
    func stop() { stopped.store(true, ordering: .relaxed) }
}

extension VaultModel {
    /// A response body produced on the vault's queue and handed over through at most 8 chunks in
    /// flight (a slow client slows the producer; memory stays bounded). An error after the first
    /// bytes (an integrity failure) ends the connection, so the download is seen as incomplete.
    func streamedBody(
        contentLength: Int?, _ produce: @escaping @Sendable (Vault, (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) -> ResponseBody {
        ResponseBody(contentLength: contentLength) { writer in
            let (stream, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
            let slots = DispatchSemaphore(value: 8)
            let flag = StopFlag()
            self.enqueue { vault in
                do {
                    try produce(vault) { bytes in
                        if flag.isStopped { throw CancellationError() }
                        slots.wait()
                        continuation.yield(ByteBuffer(bytes: bytes))
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            do {
                for try await chunk in stream {
                    try await writer.write(chunk)
                    slots.signal()
                }
                try await writer.finish(nil)
            } catch {
                flag.stop()
                for _ in 0..<16 { slots.signal() }
                throw error
            }
        }
    }
}
