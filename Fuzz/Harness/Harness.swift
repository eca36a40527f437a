// What each fuzz target does with one input. Every target:
// - runs a parser on the input as the product does (through `FuzzingEntryPoints` for the
//   vault's internal decoders, the public API for zip and CSV);
// - accepts any outcome but a crash, a hang, an out-of-bounds access (AddressSanitizer) or an
//   allocation above libFuzzer's -malloc_limit_mb (`make fuzz` sets 256 MB);
// - requires the error type the product reports for that parser (`CofferError` for vault files,
//   `ZipParseError`, `CSVError`);
// - checks the invariants listed with each target (a failed one is a crash: `fatalError`).
@_spi(Fuzzing) import CofferCore
import CofferExports

public enum Harness {
    /// Calls `body` with the input as an array (libFuzzer's pointer is valid only for the call).
    public static func run(_ data: UnsafePointer<UInt8>, _ size: Int, _ body: ([UInt8]) -> Void) -> CInt {
        body(Array(UnsafeBufferPointer(start: data, count: size)))
        return 0
    }

    static func expect(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
        if !condition() { fatalError("invariant failed: \(message())") }
    }

    /// Vault decoders report every failure as a `CofferError`.
    static func expectCofferError(_ error: Error, _ what: String) {
        expect(error is CofferError, "\(what) threw \(type(of: error)) instead of CofferError: \(error)")
    }

    static func u32(_ b: [UInt8], _ at: Int) -> Int {
        Int(b[at]) | Int(b[at + 1]) << 8 | Int(b[at + 2]) << 16 | Int(b[at + 3]) << 24
    }

    // MARK: - fuzz-keyslot

    /// Input: a key slot file (`keys/<id>`).
    /// - decode succeeds ⇒ encode gives the input back (the format is canonical);
    /// - unlocking with the fixed passphrase (for cheap Argon2id parameters only) either fails
    ///   with a `CofferError` or yields the fixed test master key (never another key).
    public static func keySlot(_ input: [UInt8]) {
        do {
            let again = try FuzzingEntryPoints.keySlotRoundTrip(input)
            expect(again == input, "key slot: decode-encode differs from the input")
        } catch { expectCofferError(error, "KeySlot.decode") }
        do {
            let unlocked = try FuzzingEntryPoints.keySlotUnlock(input)
            expect(unlocked != false, "key slot: unlocked to a master key that is not the test key")
        } catch { expectCofferError(error, "KeySlot.unlock") }
    }

    // MARK: - fuzz-config

    /// Input: the bytes of a `config` file before its MAC.
    /// - `peek` and `decode` of the input as a whole file (a MAC that does not match) fail with
    ///   a `CofferError` or, for an input ending in a valid MAC, round-trip exactly;
    /// - with a valid MAC appended: decode succeeds ⇒ encode gives the file back exactly.
    public static func config(_ input: [UInt8]) {
        do { try FuzzingEntryPoints.configPeek(input) } catch { expectCofferError(error, "VaultConfig.peek") }
        do {
            let again = try FuzzingEntryPoints.configRoundTrip(input)
            expect(again == input, "config (unauthenticated input): decode-encode differs")
        } catch { expectCofferError(error, "VaultConfig.decode") }
        let file = FuzzingEntryPoints.configAuthenticated(input)
        do {
            let again = try FuzzingEntryPoints.configRoundTrip(file)
            expect(again == file, "config: decode-encode differs from the input")
        } catch { expectCofferError(error, "VaultConfig.decode") }
    }

    // MARK: - fuzz-pack-header

    /// Input, first byte `m`:
    /// - `m < 0x80`: `header` = the rest, a pack header's *plaintext*. It is encrypted under the
    ///   test key and put at the end of a pack whose blobs take the sum of the entries' declared
    ///   envelope lengths plus `m - 0x40` bytes (so `m = 0x40` is a consistent pack). Decode
    ///   succeeds ⇒ the entries re-encode to `header` exactly, start at 0, follow one another
    ///   and end where the header envelope starts; data chunks are at most 8 MiB.
    /// - `m ≥ 0x80`: the rest is `u32le before || tail`: the last bytes of a pack of
    ///   `before + |tail|` bytes, read as stored (the trailing length, the header envelope).
    ///   Decode succeeds only for a header the test key sealed; the same layout checks apply.
    public static func packHeader(_ input: [UInt8]) {
        guard let mode = input.first else { return }
        let packSize: Int, tail: [UInt8], header: [UInt8]?
        if mode < 0x80 {
            let h = Array(input.dropFirst())
            var blobs = 0
            if h.count >= 4 {
                let declared = u32(h, 0)
                for i in 0..<min(declared, (h.count - 4) / 46) { blobs += u32(h, 4 + 46 * i + 38) }
            }
            blobs = max(0, blobs + Int(mode) - 0x40)
            let env = FuzzingEntryPoints.sealPackHeader(h)
            let len = UInt32(env.count)
            tail = env + [UInt8(len & 0xFF), UInt8(len >> 8 & 0xFF), UInt8(len >> 16 & 0xFF), UInt8(len >> 24)]
            packSize = blobs + tail.count
            header = h
        } else {
            guard input.count >= 5 else { return }
            tail = Array(input.dropFirst(5))
            packSize = u32(input, 1) + tail.count
            header = nil
        }
        let entries: [PackEntry]
        do { entries = try FuzzingEntryPoints.packHeader(packSize: packSize, tail: tail) } catch {
            expectCofferError(error, "PackFormat.readHeader")
            return
        }
        expect(!entries.isEmpty, "pack header: no entries")
        var offset = 0
        for e in entries {
            expect(e.offset == offset, "pack header: entry at \(e.offset), expected \(offset)")
            expect(e.envelopeLength >= 40, "pack header: envelope shorter than the AEAD overhead")
            expect(e.type == .padding || e.plainLength <= ChunkSizes.formatMaximum, "pack header: chunk above 8 MiB")
            offset += e.envelopeLength
        }
        guard let header else { return }
        let hlen = tail.count - 4
        expect(offset == packSize - 4 - hlen, "pack header: blobs do not end at the header")
        var bucket = 32
        while bucket < entries.count { bucket <<= 1 }
        var w: [UInt8] = []
        func put32(_ v: Int) { for s in stride(from: 0, to: 32, by: 8) { w.append(UInt8(truncatingIfNeeded: v >> s)) } }
        put32(entries.count)
        for e in entries {
            w.append(e.type.rawValue); w.append(e.flags); w += e.id.bytes
            put32(e.offset); put32(e.envelopeLength); put32(e.plainLength)
        }
        w += [UInt8](repeating: 0, count: 4 + 46 * bucket - w.count)
        expect(w == header, "pack header: entries re-encode to other bytes")
    }

    // MARK: - Metadata bodies (fuzz-index, fuzz-version, fuzz-head, fuzz-lock)

    /// Input: an index body (the plaintext inside the metadata envelope).
    /// Decode succeeds ⇒ encode gives the input back exactly.
    public static func index(_ input: [UInt8]) {
        do {
            let again = try FuzzingEntryPoints.indexRoundTrip(input)
            expect(again == input, "index: decode-encode differs from the input")
        } catch { expectCofferError(error, "IndexFile.decode") }
    }

    /// Input: a tree piece's plaintext. Decode succeeds ⇒ encode gives the input back exactly
    /// (every byte of a node is meaningful: two different pieces never decode alike).
    public static func tree(_ input: [UInt8]) {
        do {
            let again = try FuzzingEntryPoints.treeRoundTrip(input)
            expect(again == input, "tree: decode-encode differs from the input")
        } catch { expectCofferError(error, "TreeCodec.decode") }
    }

    /// Input: an archive's layout (format 2 vaults: its layout pieces' plaintexts concatenated;
    /// layout format 1 or 2). Decode succeeds ⇒ encode gives the input back exactly; the entry
    /// point checks what readers rely on (inline parts within the limit, named by no member).
    public static func layout(_ input: [UInt8]) {
        do {
            let again = try FuzzingEntryPoints.layoutRoundTrip(input)
            expect(again == input, "layout: decode-encode differs from the input")
        } catch { expectCofferError(error, "ArchiveLayout.decode") }
    }

    /// Input: a head body. Decode succeeds ⇒ encode gives the input back exactly.
    /// The input read as UTF-8 is also parsed as a head file name: a name that parses must be
    /// the canonical name of what it parses to (`<16 lowercase hex>-<64 lowercase hex>`).
    public static func head(_ input: [UInt8]) {
        do {
            let again = try FuzzingEntryPoints.headRoundTrip(input)
            expect(again == input, "head: decode-encode differs from the input")
        } catch { expectCofferError(error, "Head.decode") }
        let name = String(decoding: input, as: UTF8.self)
        if let canonical = FuzzingEntryPoints.headNameRoundTrip(name) {
            expect(canonical == name, "head file name '\(name)' parses but is not canonical ('\(canonical)')")
        }
    }

    /// Input: a lock body. Decode succeeds ⇒ encode gives the input back exactly.
    public static func lock(_ input: [UInt8]) {
        do {
            let again = try FuzzingEntryPoints.lockRoundTrip(input)
            expect(again == input, "lock: decode-encode differs from the input")
        } catch { expectCofferError(error, "LockInfo.decode") }
    }

    /// Input: a dictionary body (the plaintext inside a `dicts/` file's envelope).
    /// Decode succeeds ⇒ encode gives the input back exactly; a dictionary zstd loads compresses
    /// a fixed text that decompresses back to it through the dictionary blob path.
    public static func dictionary(_ input: [UInt8]) {
        do {
            let r = try FuzzingEntryPoints.dictionaryRoundTrip(input)
            expect(r.reencoded == input, "dictionary: decode-encode differs from the input")
            expect(r.sample == FuzzingEntryPoints.dictionarySample, "dictionary: the sample does not come back through the dictionary")
        } catch { expectCofferError(error, "DictionaryFile.decode") }
    }

    /// Input: a version body. Decode succeeds ⇒
    /// - the walk with archives expanded works;
    /// - what restore sizes from the manifest is bounded: an archive part's `content_size` is at
    ///   most 8 MiB per chunk it lists (restore reserves that much before reading the chunks);
    /// - the zip handler's `decode` of each encoded member and `encode` of each transformed part
    ///   (given empty stored bytes) throw or return, never trap;
    /// - encode gives the input back except: the 12 time bytes (the time passes through a
    ///   `Double`; the seconds may move by at most 1), and a body_version of 2 without archive
    ///   entries comes back as 1.
    public static func version(_ input: [UInt8]) {
        let decoded: (version: Version, reencoded: [UInt8]?)
        do { decoded = try FuzzingEntryPoints.versionRoundTrip(input) } catch {
            expectCofferError(error, "Version.decode")
            return
        }
        let walker = FuzzingEntryPoints.walker(of: decoded.version)
        while let e = try? walker.next() {
            guard let layout = e.archive else { continue }
            for p in layout.parts {
                expect(
                    p.contentSize <= UInt64(p.chunks.count) * UInt64(ChunkSizes.formatMaximum),
                    "version: archive part of \(p.chunks.count) chunks claims \(p.contentSize) content bytes")
                if p.kind == .transformed { _ = try? ZipArchiveHandler().encode(transform: p.transform, content: []) }
            }
            for m in layout.members where m.data == .encoded { _ = try? ZipArchiveHandler().decode(member: m, stored: []) }
        }
        guard let again = decoded.reencoded else { return }
        expect(again.count == input.count, "version: re-encoding has \(again.count) bytes, input \(input.count)")
        let timeAt = 5 + u32(input, 1)
        for i in input.indices where !(timeAt..<(timeAt + 12)).contains(i) {
            if i == 0 && input[0] == 2 && again[0] == 1 { continue }
            expect(again[i] == input[i], "version: decode-encode differs at byte \(i)")
        }
        func i64(_ b: [UInt8]) -> Int64 {
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(b[timeAt + k]) << (8 * k) }
            return Int64(bitPattern: v)
        }
        let (a, b) = (i64(input), i64(again))
        expect(a == b || a &+ 1 == b || a &- 1 == b, "version: seconds \(a) came back as \(b)")
    }

    // MARK: - fuzz-path

    /// The path rules, on a reference that splits on the byte 0x2F: a path is accepted iff it is
    /// not empty, holds no NUL, and no component between `/`s is empty, `.` or `..` (so none
    /// starts with `/`).
    static func referenceAccepts(_ b: [UInt8], separators: Set<UInt8> = [0x2F]) -> Bool {
        guard !b.isEmpty, !b.contains(0) else { return false }
        return b.split(omittingEmptySubsequences: false, whereSeparator: { separators.contains($0) }).allSatisfy {
            !$0.isEmpty && !$0.elementsEqual([0x2E]) && !$0.elementsEqual([0x2E, 0x2E])
        }
    }

    /// Input: a path's bytes.
    /// - as bytes, and (when UTF-8) as a stored version path: accepted iff the reference accepts;
    ///   the components, joined with `/`, are the input; `Version.decode` accepts a manifest
    ///   holding the path iff the rules do;
    /// - whatever is accepted, split on 0x2F, has no empty, `.` or `..` component, no NUL, no
    ///   leading `/`;
    /// - as a zip member name (UTF-8, invalid bytes replaced, as the zip reader decodes): what
    ///   `restore --expand` would write follows the same invariant and holds no backslash; it is
    ///   skipped iff the name, less trailing `/`s and split on `/` and `\`, breaks the rules;
    /// - an expanded archive's folder is a valid path when the archive's path is.
    public static func path(_ input: [UInt8]) {
        func invariant(_ components: [[UInt8]], _ what: String) {
            let joined = Array(components.joined(separator: [0x2F]))
            expect(joined.first != 0x2F, "\(what): accepted a leading /")
            expect(!joined.contains(0), "\(what): accepted a NUL")
            for c in joined.split(separator: 0x2F, omittingEmptySubsequences: false) {
                expect(!c.isEmpty && !c.elementsEqual([0x2E]) && !c.elementsEqual([0x2E, 0x2E]), "\(what): accepted component \(Array(c))")
            }
        }
        let reference = referenceAccepts(input)
        let asBytes = FuzzingEntryPoints.pathComponents(bytes: input)
        expect((asBytes != nil) == reference, "path bytes: rules say \(asBytes != nil), reference \(reference)")
        if let asBytes {
            invariant(asBytes, "path bytes")
            expect(Array(asBytes.joined(separator: [0x2F])) == input, "path bytes: components do not join to the input")
        }
        if let text = String(validating: input, as: UTF8.self) {
            let (components, decodes) = FuzzingEntryPoints.versionPath(text)
            expect((components != nil) == reference, "version path: rules say \(components != nil), reference \(reference)")
            expect(decodes == reference, "version path: Version.decode says \(decodes), reference \(reference)")
            if let components {
                invariant(components, "version path")
                if let folder = FuzzingEntryPoints.expandedFolder(text) { invariant(folder, "expanded folder") }
                else { expect(false, "version path: no expanded folder for a valid path") }
            }
        }
        let name = String(decoding: input, as: UTF8.self)
        var trimmed = Array(name.utf8)
        while trimmed.last == 0x2F { trimmed.removeLast() }
        let member = FuzzingEntryPoints.zipMemberComponents(name)
        let memberReference = referenceAccepts(trimmed, separators: [0x2F, 0x5C])
        expect((member != nil) == memberReference, "zip member: rules say \(member != nil), reference \(memberReference)")
        if let member {
            invariant(member, "zip member")
            expect(!member.joined().contains(0x5C), "zip member: a backslash left in a written name")
        }
    }

    // MARK: - fuzz-pattern

    /// Input: byte `f` (bit 0: ignore case), then a pattern, then (after a NUL, if any) a path;
    /// without a NUL the pattern is also the path.
    /// - compiling fails only with a `PatternError` naming the pattern;
    /// - the matcher's comparisons stay within 6 × (path bytes + 1) × (pattern bytes + 1);
    /// - each component match agrees with a table reference, the whole match with restic's
    ///   `**` expansion (patterns with at most three `**`), a one-pattern set with the pattern
    ///   (never, when negated);
    /// - a pattern that matches a path matches what is below it, and, when not anchored, the
    ///   path below another folder; a pattern that matches something below a path it does not
    ///   match says a child may match.
    public static func pattern(_ input: [UInt8]) {
        guard let flags = input.first else { return }
        let rest = Array(input.dropFirst())
        let pattern: [UInt8], path: [UInt8]
        if let z = rest.firstIndex(of: 0) {
            pattern = Array(rest[..<z])
            path = Array(rest[(z + 1)...])
        } else {
            (pattern, path) = (rest, rest)
        }
        let ci = flags & 1 == 1
        func outcome(_ path: [UInt8]) -> FuzzingEntryPoints.PatternOutcome? {
            do {
                return try FuzzingEntryPoints.pattern(pattern, caseInsensitive: ci, path: path)
            } catch let e as PatternError {
                expect(e.pattern == pattern, "pattern error names \(e.pattern), not the pattern")
                return nil
            } catch {
                expect(false, "pattern threw \(type(of: error)) instead of PatternError: \(error)")
                return nil
            }
        }
        guard let o = outcome(path) else { return }
        let bound = 6 * (path.count + 1) * (pattern.count + 1) + 16
        expect(o.steps <= bound, "pattern: \(o.steps) steps, more than \(bound)")
        expect(o.componentsAgree, "pattern: a component match differs from the table reference")
        if let r = o.reference { expect(r == o.matches, "pattern: matcher says \(o.matches), restic's expansion \(r)") }
        let negated = pattern.first == UInt8(ascii: "!")
        expect(o.setMatches == (o.matches && !negated), "pattern: the one-pattern set says \(o.setMatches)")
        let below = path + Array("/z".utf8)
        guard let b = outcome(below) else { expect(false, "pattern: compiled once, failed twice"); return }
        if o.matches { expect(b.matches, "pattern: matches a path but not what is below it") }
        if b.matches && !o.matches && path.contains(where: { $0 != 0x2F }) {
            expect(o.childMayMatch, "pattern: matches below a path whose child match is false")
        }
        let anchored = (negated ? pattern.dropFirst() : pattern[...]).first == 0x2F
        if o.matches && !anchored {
            guard let u = outcome(Array("q/".utf8) + path) else { return }
            expect(u.matches, "pattern: not anchored, but no match one folder deeper")
        }
    }

    // MARK: - fuzz-meta-envelope

    /// Input, first byte `k`:
    /// - `k` in 1…4: a whole metadata file of kind `k` (1 index, 2 version, 3 head, 4 lock),
    ///   opened under the test key (most inputs fail authentication: the parsing around it is
    ///   what runs);
    /// - otherwise: the rest is the AEAD *plaintext* of a file of kind `(k & 3) + 1`
    ///   (`flags || body_len || stored_len || stored || padding`), sealed under the test key and
    ///   opened, which reaches the framing, padding and zstd checks.
    /// Open succeeds ⇒ sealing the body again and opening gives the same body, and the body
    /// goes through its kind's decoder with that target's checks.
    public static func metaEnvelope(_ input: [UInt8]) {
        guard let k = input.first else { return }
        let kind: UInt8, file: [UInt8]
        if (1...4).contains(k) {
            kind = k
            file = input
        } else {
            kind = (k & 3) + 1
            file = FuzzingEntryPoints.sealMetaPlaintext(Array(input.dropFirst()), kind: kind)
        }
        let body: [UInt8]
        do { body = try FuzzingEntryPoints.openMeta(file, kind: kind) } catch {
            expectCofferError(error, "MetaObject.open")
            return
        }
        do {
            let again = try FuzzingEntryPoints.openMeta(FuzzingEntryPoints.sealMeta(body, kind: kind), kind: kind)
            expect(again == body, "metadata envelope: seal-open changed the body")
        } catch { expect(false, "metadata envelope: a body it sealed does not open: \(error)") }
        switch kind {
        case 1: index(body)
        case 2: version(body)
        case 3: do { _ = try FuzzingEntryPoints.headRoundTrip(body) } catch { expectCofferError(error, "Head.decode") }
        default: lock(body)
        }
    }

    // MARK: - fuzz-zip

    /// Input: a zip archive (or anything). `ZipLayout.parse` either throws a `ZipParseError`
    /// (typed) or returns a layout whose spans cover the input exactly once, in order, whose
    /// container spans hold exactly the input's bytes, and whose member data spans are the
    /// members' data ranges. Then `ZipReproduction.analyseAndVerify` (two deflate candidates,
    /// members up to 1 MiB inflated) must not fail: its result is verified and its plan and
    /// payloads rebuild the input byte for byte.
    public static func zip(_ input: [UInt8]) {
        _ = ZipLayout.looksLikeZip(prefix: input)
        _ = ZipLayout.containsEndRecord(suffix: input)
        let layout: ZipLayout
        do { layout = try ZipLayout.parse(input) } catch { return }  // typed: always a ZipParseError
        expect(layout.size == input.count, "zip: layout size \(layout.size) for \(input.count) bytes")
        var cursor = 0
        var dataSpans = [Int](repeating: 0, count: layout.members.count)
        for span in layout.spans {
            expect(span.range.lowerBound == cursor, "zip: span \(span.kind) starts at \(span.range.lowerBound), expected \(cursor)")
            cursor = span.range.upperBound
            if case .memberData(let m) = span.kind {
                expect(m >= 0 && m < layout.members.count, "zip: data span of member \(m) of \(layout.members.count)")
                expect(span.range == layout.members[m].dataRange, "zip: data span of member \(m) is not its data range")
                expect(span.bytes.isEmpty, "zip: data span holds bytes")
                dataSpans[m] += 1
            } else {
                expect(span.bytes == Array(input[span.range]), "zip: \(span.kind) bytes differ from the input")
            }
        }
        expect(cursor == input.count, "zip: spans end at \(cursor) of \(input.count)")
        expect(dataSpans.allSatisfy { $0 == 1 }, "zip: a member without exactly one data span")
        for (i, m) in layout.members.enumerated() { expect(m.index == i, "zip: member \(i) has index \(m.index)") }

        var options = ZipAnalysisOptions()
        options.candidates = Array(DeflateParameters.searchOrder.prefix(2))
        options.maxInflatedMemberSize = 1 << 20
        do {
            let analysis = try ZipReproduction.analyseAndVerify(input, options: options)
            expect(analysis.verified, "zip: analysis not verified")
            let rebuilt = try ZipRebuilder.rebuild(plan: analysis.plan) { analysis.payloads[$0] }
            expect(rebuilt == input, "zip: the verified plan rebuilds other bytes")
        } catch { expect(false, "zip: a parsed archive fails analysis: \(error)") }
    }

    // MARK: - fuzz-deflate-recipe

    /// Input: `u16le n ‖ recipe (n bytes) ‖ content` (at most 64 KiB of it used). A recipe that
    /// decodes encodes back to its bytes; `DeflateRecipeEncoder` turns the content into a stream
    /// (in uneven chunks) or refuses with a `LazyDeflateError`; without kept blocks that stream
    /// inflates back to the content, a recipe the search finds for it rebuilds it exactly, and a
    /// stream written with Info-ZIP's own block ends (encoder 2) is found as that recipe.
    public static func deflateRecipe(_ input: [UInt8]) {
        guard input.count >= 2 else { return }
        let n = Int(input[0]) | Int(input[1]) << 8
        guard input.count >= 2 + n else { return }
        let bytes = Array(input[2..<(2 + n)])
        let content = Array(input[(2 + n)...].prefix(1 << 16))
        guard let recipe = DeflateRecipe(bytes: bytes) else { return }
        expect(recipe.bytes == bytes, "deflate-recipe: decode ⇒ encode gives other bytes")
        func encode(_ recipe: DeflateRecipe) throws -> [UInt8] {
            let encoder = try DeflateRecipeEncoder(recipe)
            var out: [UInt8] = []
            var offset = 0
            while offset < content.count {
                let end = min(content.count, offset + 4099)
                out += try encoder.compress(content[offset..<end])
                offset = end
            }
            return out + (try encoder.finish())
        }
        let stream: [UInt8]
        do { stream = try encode(recipe) } catch {
            expect(error is LazyDeflateError, "deflate-recipe: encoder error \(error)")
            return
        }
        guard recipe.keptBlocks.isEmpty else { return }
        do {
            let back = try Deflate.decompress(stream, expectedSize: content.count, windowBits: -15)
            expect(back == content, "deflate-recipe: the stream inflates to other content")
        } catch { expect(false, "deflate-recipe: the stream does not inflate: \(error)") }
        var budget: UInt64 = 1 << 24
        let found = try? DeflateRecipeSearch.find(
            compressedSize: stream.count, uncompressedSize: UInt64(content.count), crc32: Deflate.crc32(content), levels: [recipe.level],
            budget: &budget
        ) { Array(stream[$0]) }
        if let found {
            expect((try? encode(found)) == stream, "deflate-recipe: a recipe the search proved rebuilds other bytes")
        }
        // A stream the encoder wrote with Info-ZIP's own block ends is found by the first step.
        if recipe.ownBlockRule && !content.isEmpty {
            expect(found == recipe, "deflate-recipe: the search did not find the own-rule recipe that wrote the stream")
        }
    }

    // MARK: - fuzz-csv

    /// Input: a CSV file. Read with the defaults, with a fixed comma and no preamble detection,
    /// and with a tab: each either throws a `CSVError` (typed) or returns a table with one line
    /// number per row, rows on strictly increasing lines after the header's, no more rows than
    /// line endings + 1, and no more text than 3 bytes per input byte (U+FFFD for bad bytes).
    public static func csv(_ input: [UInt8]) {
        var breaks = 0
        for (i, b) in input.enumerated() where b == 0x0A || (b == 0x0D && (i + 1 == input.count || input[i + 1] != 0x0A)) { breaks += 1 }
        let readers = [
            CSVReader(), CSVReader(options: .init(delimiter: ",", detectPreamble: false)),
            CSVReader(options: .init(delimiter: "\t", detectPreamble: true)),
        ]
        for reader in readers {
            let table: CSVTable
            do { table = try reader.read(input) } catch { continue }  // typed: always a CSVError
            expect(table.rows.count == table.rowLines.count, "csv: \(table.rows.count) rows, \(table.rowLines.count) line numbers")
            expect(table.rows.count <= breaks + 1, "csv: \(table.rows.count) rows from \(breaks) line endings")
            var last = 0
            for line in table.rowLines {
                expect(line > last && line >= 2, "csv: row on line \(line) after line \(last)")
                last = line
            }
            var text = (table.preamble?.utf8.count ?? 0) + table.header.reduce(0) { $0 + $1.utf8.count }
            for row in table.rows { text += row.reduce(0) { $0 + $1.utf8.count } }
            expect(text <= 3 * input.count + 3, "csv: \(text) bytes of text from \(input.count) bytes")
            for i in table.rows.indices { _ = table.isBlankRow(i) }
        }
    }
}
