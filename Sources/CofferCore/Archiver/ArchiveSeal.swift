import Foundation

extension Vault {
    /// Analyses the file at `path` with `handler` and stores it part by part through `sealer`.
    /// Returns the entry as an archive (type, size, SHA-256 and layout set), or nil when it is to
    /// be stored as an ordinary file: not an archive, or one that could not be read or stored as
    /// such (a note says why). The vault's own errors (a full disk, Ctrl-C) stop the seal.
    func sealArchive(path: String, entry: VersionEntry, handler: ArchiveHandler, sealer: Sealer, notes: inout [String]) throws -> VersionEntry? {
        guard let plan = analyseArchive(path: path, entry: entry, handler: handler, notes: &notes) else { return nil }
        return try sealArchive(path: path, entry: entry, plan: plan, handler: handler, sealer: sealer, notes: &notes)
    }

    /// The handler's plan for the file at `path`, or nil when it is to be stored as an ordinary
    /// file (a note says why when it looked like an archive). Reads the file, touches no sealer.
    func analyseArchive(path: String, entry e: VersionEntry, handler: ArchiveHandler, notes: inout [String]) -> ArchivePlan? {
        do {
            return try handler.analyse(path: path, size: e.size)
        } catch let tooLarge as ArchiveLayoutTooLarge {
            notes.append(Self.layoutTooLargeNote(e.displayPath, bytes: "at least \(tooLarge.atLeast)", limit: tooLarge.limit))
            return nil
        } catch {
            notes.append("\(e.displayPath): looks like an archive but could not be read as one (\(error)); sealed as an ordinary file")
            return nil
        }
    }

    /// The note of an archive sealed as an ordinary file because its layout is too long.
    static func layoutTooLargeNote(_ path: String, bytes: String, limit: Int) -> String {
        "\(path): could not be stored as an archive (its layout takes \(bytes) bytes, over \(limit)); sealed as an ordinary file"
    }

    /// Stores an analysed archive part by part (see above).
    ///
    /// With `storeLayout`, the layout is not kept: each part's record is encoded into a
    /// ``LayoutPieceWriter`` as the part is stored, the member records after the last part, and
    /// the layout pieces are stored through `sealer` as they are cut; the entry comes back with
    /// its `layoutIDs` set (format 2). Pieces stored for an archive that then fails to store
    /// stay unreferenced, like its chunks. Without it, the entry carries its `archive` (format 1).
    func sealArchive(
        path: String, entry: VersionEntry, plan: ArchivePlan, handler: ArchiveHandler, sealer: Sealer, storeLayout: Bool = false, notes: inout [String]
    ) throws -> VersionEntry? {
        var e = entry
        // A part that cannot be stored (the file changed or became unreadable since the
        // analysis) makes the file an ordinary one; chunks already stored stay unreferenced.
        // Each part's result goes straight into its compact layout record as it is stored:
        // nothing per part is kept besides (a zip holds about two parts per member); streamed
        // into layout pieces, not even that.
        let collected = ArchivePartResults(count: storeLayout ? 0 : plan.parts.count)
        let writer = storeLayout ? LayoutPieceWriter(sink: sealer, vault: self) : nil
        // Format 2: small container parts are kept inline in the layout (layout format 2); the
        // sealer stores the others, `sealed[j]` being the plan's part for the sealer's input j.
        let isInline = storeLayout && plan.format == ArchiveLayout.zip ? inlinePartFlags(of: plan) : Array(repeating: false, count: plan.parts.count)
        let sealed = plan.parts.indices.filter { !isInline[$0] }
        // A layout the plan already shows to be over the cap stores nothing: the handler's own
        // check saw only the directory, the plan also has each member's transform and encoding.
        let layoutLimit = min(handler.maximumLayoutBytes, Vault.maximumLayoutBytes)
        if storeLayout {
            let least = plan.minimumLayoutBytes(isInline: isInline, limit: layoutLimit)
            guard least <= layoutLimit else {
                notes.append(Self.layoutTooLargeNote(e.displayPath, bytes: "at least \(least)", limit: layoutLimit))
                return nil
            }
        }
        writer?.header(format: storeLayout && plan.format == ArchiveLayout.zip ? ArchiveLayout.zipInline : plan.format, partCount: plan.parts.count)
        var layoutParts: [ArchivePart] = []
        do {
            let base = plan.parts.contains { $0.content == nil } ? try handler.openContent(of: plan, path: path) : nil
            let inline = InlinePartReader(base: base, plan: plan, isInline: isInline)
            // Appends the records whose turn has come: parts stored ahead of their turn wait,
            // and an inline part is ready once read (before the next stored part is read).
            func appendReady() {
                guard let writer else { return }
                while collected.stored < plan.parts.count {
                    let k = collected.stored
                    if isInline[k] {
                        guard let b = inline.take(k) else { return }
                        writer.append(ArchivePart.inline(b))
                    } else {
                        guard let next = collected.pending.removeValue(forKey: k) else { return }
                        writer.append(next)
                    }
                    collected.stored += 1
                }
            }
            var storeError: Error?
            try sealer.seal(count: sealed.count, input: { j in
                // Pieces already cut are stored from here (this thread), not from the store stage.
                if storeError == nil { do { try writer?.storeReady() } catch { storeError = error } }
                let k = sealed[j]
                let p = plan.parts[k]
                return Sealer.Input(source: p.content.map { .bytes($0) } ?? .part(inline, k), path: e.path, size: p.contentSize)
            }) { j, r in
                let k = sealed[j]
                let p = plan.parts[k]
                switch r {
                case .success(let f) where f.size == p.contentSize:
                    let part = ArchivePart(
                        kind: p.kind, transform: p.transform, outputSize: p.outputSize, contentSize: f.size, contentSHA256: f.sha256, chunks: f.chunks)
                    if writer != nil {
                        // Results come in order but for failures (reported after their batch's
                        // successes, and fatal here): a part ahead of its turn waits.
                        collected.pending[k] = part
                        appendReady()
                    } else {
                        collected.parts[k] = part
                        collected.stored += 1
                    }
                case .success(let f):
                    collected.failure = collected.failure ?? ArchiveStoreFailure(reason: "part \(k) has \(f.size) bytes, expected \(p.contentSize)")
                case .failure(.inputUnreadable(_, let reason)):
                    collected.failure = collected.failure ?? ArchiveStoreFailure(reason: "part \(k): \(reason)")
                case .failure(let error):
                    collected.error = collected.error ?? error
                }
            }
            if let error = collected.error { throw error }
            if let failure = collected.failure { throw failure }
            if let storeError { throw storeError }
            // The inline parts after the last stored one, then the reader's own check.
            try inline.finish()
            appendReady()
            guard collected.stored == plan.parts.count else { throw ArchiveStoreFailure(reason: "\(plan.parts.count - collected.stored) parts were not stored") }
            layoutParts = collected.parts
            collected.parts = []
        } catch let error as CofferError {
            throw error  // the vault's own errors (a full disk, Ctrl-C) stop the seal
        } catch {
            let reason = (error as? ArchiveStoreFailure)?.reason ?? "\(error)"
            notes.append("\(e.displayPath): could not be stored as an archive (\(reason)); sealed as an ordinary file")
            return nil
        }
        e.type = .archive
        e.size = plan.size
        e.sha256 = plan.sha256
        if let writer {
            writer.memberCount(plan.members.count)
            for m in plan.members {
                writer.append(m)
                try writer.storeReady()
            }
            e.layoutIDs = try writer.finish()
            guard writer.byteCount <= layoutLimit else {
                notes.append(Self.layoutTooLargeNote(e.displayPath, bytes: "\(writer.byteCount)", limit: layoutLimit))
                return nil
            }
        } else {
            e.archive = ArchiveLayout(format: plan.format, parts: layoutParts, members: Array(plan.members))
        }
        notes += plan.notes.map { "\(e.displayPath): \($0)" }
        var unsafeCount = 0
        var firstUnsafe: String?
        for m in plan.members where RelativePath.zipMember(m.name) == nil {
            unsafeCount += 1
            if firstUnsafe == nil { firstUnsafe = m.name }
        }
        if let first = firstUnsafe {
            notes.append(
                "\(e.displayPath): \(unsafeCount) member\(unsafeCount == 1 ? "" : "s") ('\(TerminalText.escape(first))'\(unsafeCount > 1 ? ", ..." : "")) "
                    + "with a name that is not a safe relative path; restore --expand skips \(unsafeCount == 1 ? "it" : "them") (the archive itself comes back byte for byte)")
        }
        return e
    }
}
