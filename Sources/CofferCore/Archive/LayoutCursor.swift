/// Reads an archive's layout record by record: its parts in order, then its members in order.
///
/// A format-2 layout is read from its layout pieces as the records are reached
/// (``LayoutPieceReader``), so a reader holds one piece and one record, never the whole layout:
/// `restore` streams the parts, `cat` looks for its member and then for that member's part,
/// `restore --expand` walks the members with a second cursor on the parts. A format-1 entry
/// carries its layout decoded; the cursor then walks its arrays.
///
/// Every check the whole-layout decode makes is made here as the records pass: the parts'
/// output sizes must add up to the archive's size (checked when the last part is read), a member
/// must name an existing part, and nothing may follow the last member.
final class ArchiveLayoutCursor {
    /// A format-1 entry's layout, or nil: read from `reader`.
    private let layout: ArchiveLayout?
    private var reader: LayoutPieceReader?
    private let object: String
    private let size: UInt64
    private var transforms = ArchiveLayout.TransformCache()
    /// The layout's `format` byte (2: parts may be inline).
    private(set) var format = ArchiveLayout.zip
    /// The inline parts read so far (members may not name them).
    private var inline = ArchiveLayout.InlineParts()
    private var outputSum: UInt64 = 0
    /// How many parts the layout has.
    let partCount: Int
    /// Parts read so far: the next ``nextPart()`` gives part `partsRead`.
    private(set) var partsRead = 0
    private var memberCount: Int?
    private var membersRead = 0

    /// A cursor on `entry`'s layout (an archive entry), reading through `readers` when given
    /// (a caller's open packs: one window cache for the layout pieces and the chunks).
    init(vault: Vault, entry: VersionEntry, readers: PackReaders? = nil) throws {
        object = entry.displayPath
        size = entry.size
        if let layout = entry.archive {
            self.layout = layout
            format = layout.format
            partCount = layout.parts.count
            return
        }
        layout = nil
        guard entry.type == .archive else { throw CofferError.integrity(object: object, reason: "not an archive") }
        var r = try LayoutPieceReader(vault: vault, ids: entry.layoutIDs, object: object, readers: readers)
        do {
            format = try ArchiveLayout.decodeFormat(&r, allowsInline: true)
            partCount = try r.count(minimumElementSize: ArchiveLayout.partMinimumSize(format: format))
        } catch let e as FormatError {
            throw CofferError.integrity(object: object, reason: "layout: \(e)")
        }
        reader = r
    }

    /// The next part, or nil after the last.
    func nextPart() throws -> ArchivePart? {
        guard partsRead < partCount else { return nil }
        do {
            let part = try layout.map { $0.parts[partsRead] } ?? ArchiveLayout.decodePart(&reader!, format: format, transforms: &transforms)
            if part.kind == .inline { inline.insert(partsRead) }
            partsRead += 1
            let (s, overflow) = outputSum.addingReportingOverflow(part.outputSize)
            guard !overflow else { throw FormatError("archive part sizes overflow") }
            outputSum = s
            if partsRead == partCount, outputSum != size { throw FormatError("archive parts do not add up to its size") }
            return part
        } catch let e as FormatError {
            throw CofferError.integrity(object: object, reason: "layout: \(e)")
        }
    }

    /// Part `k`, reading forward to it; nil when `k` was already passed (open a new cursor) or
    /// is past the last.
    func part(_ k: Int) throws -> ArchivePart? {
        if let layout { return k >= 0 && k < layout.parts.count ? layout.parts[k] : nil }
        guard k >= partsRead, k < partCount else { return nil }
        while partsRead < k { _ = try nextPart() }
        return try nextPart()
    }

    /// How many members the layout has (the parts not yet read are read and checked first).
    func memberTotal() throws -> Int {
        if let layout { return layout.members.count }
        if let memberCount { return memberCount }
        while partsRead < partCount { _ = try nextPart() }
        do {
            if partCount == 0, outputSum != size { throw FormatError("archive parts do not add up to its size") }
            let count = try reader!.count(minimumElementSize: ArchiveLayout.memberMinimumSize)
            memberCount = count
            return count
        } catch let e as FormatError {
            throw CofferError.integrity(object: object, reason: "layout: \(e)")
        }
    }

    /// The next member, or nil after the last (the parts not yet read are read and checked first).
    func nextMember() throws -> ArchiveMember? {
        if let layout {
            guard membersRead < layout.members.count else { return nil }
            membersRead += 1
            return layout.members[membersRead - 1]
        }
        let count = try memberTotal()
        do {
            guard membersRead < count else {
                guard reader!.isAtEnd else { throw FormatError("\(reader!.remaining) unexpected trailing bytes") }
                return nil
            }
            membersRead += 1
            return try ArchiveLayout.decodeMember(&reader!, partCount: partCount, inline: inline)
        } catch let e as FormatError {
            throw CofferError.integrity(object: object, reason: "layout: \(e)")
        }
    }
}
