import CofferCrypto
import Foundation

/// Produces the content of one entry of a dump, chunk by chunk: it calls its argument with each
/// piece of the content in order (each view valid only during its call), then checks the
/// content's size and SHA-256 against the version.
public typealias DumpContent = ((UnsafeRawBufferPointer) throws -> Void) throws -> Void

/// Writes a dump's entries as one archive stream (tar, zip). Entries come in walk order, a folder
/// before its contents; paths are relative (the dumped folder's name first) and raw bytes.
///
/// The entry handed to ``add(_:content:)`` is the version's, with these changes:
/// - ``VersionEntry/pathBytes`` is the path in the dump;
/// - an archive (a zip sealed part by part) comes as a ``EntryType/file``: its content is the
///   zip file's original bytes, rebuilt as restore rebuilds them;
/// - a hard link comes (for a writer that ``storesHardlinks``) with
///   ``VersionEntry/hardlinkTargetBytes`` set to the earlier name in the dump; a hard link whose
///   first name lies outside the dumped folder comes as a ``EntryType/file`` with the content,
///   and later hard links to the same inode then name it.
public protocol DumpWriter: AnyObject {
    /// True when the format has hard links: a hard link then comes as a ``EntryType/hardlink``
    /// naming an earlier name in the dump, without content. False: it comes as a file with its
    /// content (read again).
    var storesHardlinks: Bool { get }
    /// Adds one entry; `content` is non-nil exactly for files, and produces `entry.size` bytes.
    func add(_ entry: VersionEntry, content: DumpContent?) throws
    /// Ends the stream (trailer, central directory).
    func finish() throws
}

extension Vault {
    /// What `pathBytes` names in a version: the entry, or nil if no entry of the version has that
    /// path (it may still name a member of an archive: ``readFile(_:pathBytes:archiveHandler:into:)``).
    /// Only the folders on the way are read.
    public func entry(at pathBytes: [UInt8], in versionID: ObjectID) throws -> VersionEntry? {
        let wanted = Self.normalised(pathBytes)
        let walker = try walker(for: versionID)
        while let e = try walker.next() {
            if e.pathBytes == wanted { return e }
            guard ListedEntries.isBelow(wanted, e.pathBytes) else {
                walker.skipChildren()
                if VersionWalker.compare(e.pathBytes, wanted) > 0 { break }
                continue
            }
        }
        return nil
    }

    /// Dumps the folder `pathBytes` of a version (empty: the whole version) to `writer`, in walk
    /// order, reading the version as a stream (one listing per level of depth is held, never the
    /// version). Paths in the dump start with the folder's own name. Every file's size and
    /// SHA-256 are checked as its last chunk goes through: on a failure the writer has already
    /// received that file's bytes (``CofferError/integrity(object:reason:)`` is thrown).
    /// - Throws: ``CofferError/pathNotInVersion(path:version:)`` when `pathBytes` names nothing;
    ///   ``CofferError/invalidArgument(_:)`` when it names something other than a folder.
    public func dump(
        _ versionID: ObjectID, folder pathBytes: [UInt8], archiveHandler: ArchiveHandler?, isCancelled: @escaping () -> Bool = { false },
        to writer: DumpWriter
    ) throws {
        let root = Self.normalised(pathBytes)
        let slash = RelativePath.slash
        // Bytes dropped from each path: the folders above the dumped one.
        var dropped = 0
        if let cut = root.lastIndex(of: slash) { dropped = cut + 1 }
        func inside(_ p: [UInt8]) -> Bool { root.isEmpty || p == root || ListedEntries.isBelow(p, root) }
        let readers = PackReaders(vault: self)
        // Hard links whose first name is outside the dumped folder: the name in the dump that
        // carries their content.
        var standIns: [[UInt8]: [UInt8]] = [:]
        var found = root.isEmpty
        let walker = try walker(for: versionID)
        while let e = try walker.next() {
            if isCancelled() { throw CofferError.interrupted }
            guard inside(e.pathBytes) else {
                if !ListedEntries.isBelow(root, e.pathBytes) {
                    walker.skipChildren()
                    if VersionWalker.compare(e.pathBytes, root) > 0 { break }
                }
                continue
            }
            if e.pathBytes == root {
                guard e.type == .directory else {
                    throw CofferError.invalidArgument("\(e.displayPath) is \(Restorer.kindName(e.type)), not a folder")
                }
                found = true
            }
            var out = e
            out.pathBytes = Array(e.pathBytes[dropped...])
            switch e.type {
            case .directory, .symlink, .fifo, .charDevice, .blockDevice:
                try writer.add(out, content: nil)
            case .file, .archive:
                out.type = .file
                try writer.add(out, content: verifiedContent(of: e, versionID: versionID, readers: readers, handler: archiveHandler, isCancelled: isCancelled))
            case .hardlink:
                let target = e.hardlinkTargetBytes
                let linked = inside(target) ? Array(target[dropped...]) : standIns[target]
                if let linked, writer.storesHardlinks {
                    out.hardlinkTargetBytes = linked
                    try writer.add(out, content: nil)
                    continue
                }
                // The content again: a writer without hard links, or a first name outside the dump.
                let (first, content) = try hardlinkContent(
                    target, of: e, versionID: versionID, readers: readers, handler: archiveHandler, isCancelled: isCancelled)
                out.type = .file
                out.size = first.size
                out.hardlinkTargetBytes = []
                if linked == nil { standIns[target] = out.pathBytes }
                try writer.add(out, content: content)
            }
        }
        guard found else {
            throw CofferError.pathNotInVersion(path: TerminalText.escape(bytes: root), version: versionID.short)
        }
        try writer.finish()
    }

    /// The first name of a hard link (found with a walk that reads only the folders on its way)
    /// and its content, read only if the writer asks for it.
    private func hardlinkContent(
        _ target: [UInt8], of link: VersionEntry, versionID: ObjectID, readers: PackReaders, handler: ArchiveHandler?,
        isCancelled: @escaping () -> Bool
    ) throws -> (VersionEntry, DumpContent) {
        guard let first = try entry(at: target, in: versionID), first.type == .file || first.type == .archive else {
            throw CofferError.integrity(
                object: VaultFile.version(versionID).path,
                reason: "hard link \(link.displayPath) names \(TerminalText.escape(bytes: target)), which is not a file of the version")
        }
        return (first, verifiedContent(of: first, versionID: versionID, readers: readers, handler: handler, isCancelled: isCancelled))
    }

    /// A file's content as a ``DumpContent``: streamed, then its size and SHA-256 checked.
    private func verifiedContent(
        of e: VersionEntry, versionID: ObjectID, readers: PackReaders, handler: ArchiveHandler?, isCancelled: @escaping () -> Bool
    ) -> DumpContent {
        { emit in
            let object = "\(e.displayPath) in version \(versionID.short)"
            let sha = SHA256()
            var size: UInt64 = 0
            try self.stream(e, readers: readers, object: object, handler: handler, isCancelled: isCancelled) { bytes in
                size += UInt64(bytes.count)
                guard size <= e.size else { throw CofferError.integrity(object: object, reason: "longer than its recorded \(e.size) bytes") }
                sha.update(bytes)
                try emit(bytes)
            }
            guard size == e.size, sha.finalize() == e.sha256 else {
                throw CofferError.integrity(object: object, reason: "SHA-256 does not match the sealed file")
            }
        }
    }

    /// A path without empty components (`a//b/` is `a/b`), compared as bytes.
    static func normalised(_ pathBytes: [UInt8]) -> [UInt8] {
        let slash = RelativePath.slash
        return Array(pathBytes.split(separator: slash).joined(separator: [slash]))
    }
}
