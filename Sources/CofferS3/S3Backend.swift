import CofferCore
import CofferCrypto
import Foundation
import NIOHTTP1

/// A vault in an S3 bucket (AWS S3, SeaweedFS, MinIO, Ceph RGW, ...): each vault file is one
/// object, its key the file's vault path under the location's prefix (see Docs/FORMAT.md,
/// "Vaults in object storage").
///
/// - Writes: one PUT, or a multipart upload above ``partSize`` (16 MiB; `COFFER_S3_PART_SIZE`
///   changes it, for tests, down to S3's minimum of 5 MiB). Each write returns only after the store answered 200, so the
///   commit order (packs, index, version, head) holds. A PUT is atomic; a multipart upload is
///   invisible until completed, and aborted when it fails.
/// - Reads: GET, ranged GET. Every read is bounded by the size the caller asked for or the
///   size listed for the object, and checked against what arrived.
/// - Listings: ListObjectsV2 pages; a failure is an error, never an empty listing.
/// - Sizes: from this process's last listing of the folder (locks excepted), else HEAD.
public final class S3Backend: Backend, @unchecked Sendable {
    public let s3: S3Location
    public var location: String { s3.description }
    /// Why this backend cannot be used (no credentials, a CA bundle that cannot be read), thrown
    /// by every call; nil when usable.
    private let unusable: CofferError?
    private let client: S3Client?
    /// Objects above this size are uploaded in parts of this size.
    public let partSize: Int
    public static let defaultPartSize = 16 << 20
    /// S3's smallest part (all but the last); a smaller `COFFER_S3_PART_SIZE` is ignored.
    public static let minimumPartSize = 5 << 20

    private let lock = NSLock()
    private var sizes: [String: Int] = [:]

    public init(location: S3Location, environment: [String: String] = ProcessInfo.processInfo.environment, retry: S3RetryPolicy = S3RetryPolicy()) {
        s3 = location
        if let p = environment["COFFER_S3_PART_SIZE"].flatMap({ Int($0) }), p >= Self.minimumPartSize {
            partSize = p
        } else {
            partSize = Self.defaultPartSize
        }
        do {
            let credentials = try S3Credentials.resolve(environment: environment)
            client = try S3Client(location: location, credentials: credentials, environment: environment, retry: retry)
            unusable = nil
        } catch let e as CofferError {
            client = nil
            unusable = e
        } catch {
            client = nil
            unusable = .remote(location: location.description, reason: String(describing: error))
        }
    }

    private func http() throws -> S3Client {
        if let unusable { throw unusable }
        return client!
    }

    private func remember(_ path: String, _ size: Int?) {
        guard !path.hasPrefix("locks/") else { return }
        lock.withLock { sizes[path] = size }
    }

    // MARK: Bucket

    /// Creates the bucket when it does not exist (for `coffer init`); an existing one is used as it is.
    public func createBucketIfMissing() throws {
        let c = try http()
        let head = try c.send(.HEAD, key: nil, what: "checking the bucket \(s3.bucket)")
        if head.status == 200 { return }
        guard head.status == 404 else { throw c.failure(head, what: "checking the bucket \(s3.bucket)") }
        var body: [UInt8]?
        if c.signer.region != "us-east-1" {
            body = Array(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>\(xmlEscape(c.signer.region))</LocationConstraint></CreateBucketConfiguration>"
                    .utf8)
        }
        let r = try c.send(.PUT, key: nil, body: body, what: "creating the bucket \(s3.bucket)")
        guard r.status == 200 || (r.status == 409 && S3XML(r.body)?.first("Code") == "BucketAlreadyOwnedByYou") else {
            throw c.failure(r, what: "creating the bucket \(s3.bucket)")
        }
    }

    // MARK: Backend

    public func read(_ path: String) throws -> [UInt8] {
        guard let expected = try size(path) else { throw CofferError.notFound(path: path) }
        guard expected >= 0 else { throw CofferError.remote(location: location, reason: "reading \(path) failed: the store lists no size for it") }
        let c = try http()
        let r = try c.send(.GET, key: s3.key(path), maxBody: max(expected, 0) + 1, what: "reading \(path)")
        if r.status == 404 { remember(path, nil); throw CofferError.notFound(path: path) }
        guard r.status == 200 else { throw c.failure(r, what: "reading \(path)") }
        guard r.body.count == expected else {
            if r.body.count < expected {
                throw CofferError.integrity(object: path, reason: "truncated: \(r.body.count) of \(expected) bytes")
            }
            throw CofferError.integrity(object: path, reason: "the store sent more than the \(expected) bytes it lists")
        }
        return r.body
    }

    public func read(_ path: String, offset: Int, length: Int) throws -> [UInt8] {
        guard length > 0 else {
            guard try size(path) != nil else { throw CofferError.notFound(path: path) }
            return []
        }
        let c = try http()
        let r = try c.send(
            .GET, key: s3.key(path), headers: [("range", "bytes=\(offset)-\(offset + length - 1)")], maxBody: length,
            what: "reading \(path) at \(offset)")
        if r.status == 404 { remember(path, nil); throw CofferError.notFound(path: path) }
        if r.status == 416 { throw CofferError.integrity(object: path, reason: "truncated: nothing at offset \(offset)") }
        guard r.status == 206 || (r.status == 200 && offset == 0) else { throw c.failure(r, what: "reading \(path) at \(offset)") }
        let body = r.status == 200 ? Array(r.body.prefix(length)) : r.body
        guard body.count == length else {
            throw CofferError.integrity(object: path, reason: "truncated: \(body.count) of \(length) bytes at offset \(offset)")
        }
        return body
    }

    public func write(_ path: String, _ bytes: [UInt8]) throws {
        let c = try http()
        if bytes.count > partSize {
            try multipartUpload(path, bytes, client: c)
        } else {
            let r = try c.send(.PUT, key: s3.key(path), body: bytes, what: "writing \(path)")
            guard r.status == 200 else { throw c.failure(r, what: "writing \(path)") }
        }
        remember(path, bytes.count)
    }

    /// Initiate, upload the parts (up to ``S3Client/maxConcurrent`` at once), complete; on any
    /// failure the upload is aborted, so no parts are left behind (when the abort itself goes through).
    func multipartUpload(_ path: String, _ bytes: [UInt8], client c: S3Client) throws {
        let key = s3.key(path)
        let what = "writing \(path) (multipart)"
        let start = try c.send(.POST, key: key, query: [("uploads", "")], what: what)
        guard start.status == 200, let uploadID = S3XML(start.body)?.first("UploadId"), !uploadID.isEmpty else { throw c.failure(start, what: what) }
        do {
            let count = (bytes.count + partSize - 1) / partSize
            let etags = ETagBox(count: count)
            let group = DispatchGroup()
            let queue = DispatchQueue(label: "coffer.s3.parts", attributes: .concurrent)
            let gate = DispatchSemaphore(value: 4)
            for i in 0..<count {
                gate.wait()
                let part = Array(bytes[(i * partSize)..<min(bytes.count, (i + 1) * partSize)])
                queue.async(group: group) {
                    defer { gate.signal() }
                    do {
                        let r = try c.send(
                            .PUT, key: key, query: [("partNumber", String(i + 1)), ("uploadId", uploadID)], body: part,
                            what: "\(what), part \(i + 1) of \(count)")
                        guard r.status == 200, let etag = r.headers.first(name: "ETag") else {
                            throw c.failure(r, what: "\(what), part \(i + 1) of \(count)")
                        }
                        etags.set(i, .success(etag))
                    } catch {
                        etags.set(i, .failure(error))
                    }
                }
            }
            group.wait()
            var xml = "<CompleteMultipartUpload>"
            for i in 0..<count {
                let etag = try etags.get(i)
                xml += "<Part><PartNumber>\(i + 1)</PartNumber><ETag>\(xmlEscape(etag))</ETag></Part>"
            }
            xml += "</CompleteMultipartUpload>"
            let done = try c.send(.POST, key: key, query: [("uploadId", uploadID)], body: Array(xml.utf8), what: what)
            // S3 may answer 200 with an error document.
            guard done.status == 200, S3XML(done.body)?.root != "Error" else { throw c.failure(done, what: what) }
        } catch {
            _ = try? c.send(.DELETE, key: key, query: [("uploadId", uploadID)], what: "aborting the upload of \(path)")
            throw error
        }
    }

    public func list(_ directory: String) throws -> [String] {
        try listDetailed(directory).keys.sorted()
    }

    /// The files of `directory` with their sizes and S3's LastModified times (which prune's age
    /// rule needs: a pack no index lists is deleted only when it is old enough).
    public func listDetailed(_ directory: String) throws -> [String: StoredFile] {
        let recursive = directory == "packs"
        let folderKey = directory.isEmpty ? s3.key("") : s3.key(directory)
        let prefix = folderKey.isEmpty ? "" : folderKey + "/"
        var out: [String: StoredFile] = [:]
        var found: [String: Int] = [:]
        for (key, size, modified) in try listObjects(prefix: prefix, delimited: !recursive, includePrefixes: directory.isEmpty) {
            // Keys are split on bytes, never as Swift Characters: a combining mark after a `/`
            // would make one grapheme of the two and hide the separator.
            let keyBytes = Array(key.utf8), prefixBytes = Array(prefix.utf8)
            guard keyBytes.starts(with: prefixBytes) else { continue }
            let nameBytes = keyBytes[prefixBytes.count...]
            if nameBytes.isEmpty { continue }
            let name = String(decoding: nameBytes, as: UTF8.self)
            let parts = nameBytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
            if parts.contains(where: { $0.first == UInt8(ascii: ".") || $0.isEmpty }) && !(directory.isEmpty && nameBytes.last == UInt8(ascii: "/")) {
                continue
            }
            if recursive && parts.count != 2 { continue }
            if directory.isEmpty && nameBytes.last == UInt8(ascii: "/") {
                let folder = nameBytes.dropLast()
                if folder.first != UInt8(ascii: ".") { out[String(decoding: folder, as: UTF8.self)] = StoredFile(size: 0) }
                continue
            }
            out[name] = StoredFile(size: max(size, 0), modified: modified)
            if size >= 0 { found[directory.isEmpty ? name : directory + "/" + name] = size }
        }
        if directory != "locks" { lock.withLock { for (p, s) in found { sizes[p] = s } } }
        return out
    }

    /// Every object under `prefix` (keys in full, sizes), and with `includePrefixes` the common
    /// prefixes as keys ending in `/`. Pages until the listing ends; any failure throws.
    func listObjects(prefix: String, delimited: Bool, includePrefixes: Bool = false) throws -> [(key: String, size: Int, modified: Date?)] {
        let c = try http()
        var out: [(String, Int, Date?)] = []
        var token: String?
        var pages = 0
        repeat {
            var query: [(String, String)] = [("list-type", "2"), ("prefix", prefix), ("max-keys", "1000")]
            if delimited { query.append(("delimiter", "/")) }
            if let token { query.append(("continuation-token", token)) }
            let what = "listing \(prefix.isEmpty ? "the bucket" : prefix)"
            let r = try c.send(.GET, key: nil, query: query, maxBody: 16 << 20, what: what)
            guard r.status == 200, let xml = S3XML(r.body), xml.root == "ListBucketResult" else { throw c.failure(r, what: what) }
            let page = xml.listing()
            out += page.objects
            if includePrefixes { out += page.prefixes.map { ($0, -1, nil) } }
            token = page.next
            pages += 1
            if pages > 100_000 { throw CofferError.remote(location: location, reason: "\(what) failed: more than 100,000 pages") }
        } while token != nil
        return out
    }

    public func size(_ path: String) throws -> Int? {
        if let known = lock.withLock({ sizes[path] }) { return known }
        let c = try http()
        let r = try c.send(.HEAD, key: s3.key(path), maxBody: 0, what: "looking up \(path)")
        if r.status == 404 { return nil }
        guard r.status == 200 else { throw c.failure(r, what: "looking up \(path)") }
        guard let length = r.headers.first(name: "Content-Length").flatMap({ Int($0) }), length >= 0 else {
            throw CofferError.remote(location: location, reason: "looking up \(path) failed: the store gave no size")
        }
        remember(path, length)
        return length
    }

    public func remove(_ path: String) throws {
        let c = try http()
        let r = try c.send(.DELETE, key: s3.key(path), what: "removing \(path)")
        guard r.status == 204 || r.status == 200 || r.status == 404 else { throw c.failure(r, what: "removing \(path)") }
        lock.withLock { sizes[path] = nil }
    }

    public func openRandomAccess(_ path: String) throws -> RandomAccessFile {
        guard let size = try size(path) else { throw CofferError.notFound(path: path) }
        return S3RandomAccess(backend: self, path: path, size: size)
    }

    // MARK: Housekeeping

    /// Multipart uploads under the prefix that were started and never completed nor aborted
    /// (a process killed mid-upload), with their keys. They are invisible to listings and reads.
    public func unfinishedUploads() throws -> [(key: String, uploadID: String)] {
        let c = try http()
        let prefix = s3.prefix.isEmpty ? "" : s3.prefix + "/"
        let r = try c.send(.GET, key: nil, query: [("uploads", ""), ("prefix", prefix)], maxBody: 16 << 20, what: "listing unfinished uploads")
        guard r.status == 200, let xml = S3XML(r.body) else { throw c.failure(r, what: "listing unfinished uploads") }
        var out: [(String, String)] = []
        var key: String?
        for (p, t) in xml.leaves {
            if p == "Upload/Key" { key = t }
            if p == "Upload/UploadId", let k = key { out.append((k, t)); key = nil }
        }
        return out
    }

    /// Aborts every unfinished multipart upload under the prefix; returns how many.
    @discardableResult
    public func abortUnfinishedUploads() throws -> Int {
        let c = try http()
        var n = 0
        for (key, id) in try unfinishedUploads() {
            let r = try c.send(.DELETE, key: key, query: [("uploadId", id)], what: "aborting an unfinished upload of \(key)")
            if r.status == 204 || r.status == 200 || r.status == 404 { n += 1 }
        }
        return n
    }
}

/// Results of parallel part uploads.
private final class ETagBox: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<String, Error>?]
    init(count: Int) { results = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Result<String, Error>) { lock.withLock { results[i] = r } }
    func get(_ i: Int) throws -> String {
        guard let r = lock.withLock({ results[i] }) else { throw CofferError.remote(location: "s3", reason: "a part was not uploaded") }
        return try r.get()
    }
}

/// Positional reads of one object by ranged GETs, with a read-ahead window (4 MiB) kept in
/// memory so that the many small blob reads of a restore or check cost few requests.
final class S3RandomAccess: RandomAccessFile, @unchecked Sendable {
    let backend: S3Backend
    let path: String
    let size: Int
    static let window = 4 << 20
    private let lock = NSLock()
    private var cached: (offset: Int, bytes: [UInt8])?

    init(backend: S3Backend, path: String, size: Int) {
        self.backend = backend
        self.path = path
        self.size = size
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
        let n = buffer.count
        guard n > 0 else { return }
        guard offset >= 0, offset + n <= size else {
            throw CofferError.integrity(object: path, reason: "truncated: \(n) bytes at offset \(offset) of a \(size)-byte object")
        }
        if let hit = lock.withLock({ () -> [UInt8]? in
            guard let c = cached, offset >= c.offset, offset + n <= c.offset + c.bytes.count else { return nil }
            return Array(c.bytes[(offset - c.offset)..<(offset - c.offset + n)])
        }) {
            hit.withUnsafeBytes { buffer.copyMemory(from: $0) }
            return
        }
        if n >= Self.window {
            let bytes = try backend.read(path, offset: offset, length: n)
            bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
            return
        }
        let length = min(Self.window, size - offset)
        let bytes = try backend.read(path, offset: offset, length: length)
        bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        lock.withLock { cached = (offset, bytes) }
    }
}
