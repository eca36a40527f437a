import CofferCrypto

/// Archives read back chunk by chunk.
///
/// A part's stored bytes go from their chunks through the handler (re-encoded for a transformed
/// part, decoded for an encoded member) to the consumer one chunk at a time: nothing is held
/// whole, so `restore`, `restore --expand` and `cat` cost the same memory whatever the archive
/// holds. Each part's size and SHA-256 are checked as its last chunk goes through, so a consumer
/// may already have received bytes when an integrity error is thrown: restore writes to a
/// temporary file and renames it only once the whole file verified.
extension Vault {
    /// Emits the stored bytes of part `index`, chunk by chunk, then checks their size and SHA-256.
    func streamPart(
        _ part: ArchivePart, index: Int, readers: PackReaders, object: String, isCancelled: () -> Bool,
        into emit: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let sha = SHA256()
        var size: UInt64 = 0
        try BlobScratch.with { scratch in
            for c in part.chunks {
                if isCancelled() { throw CofferError.interrupted }
                let bytes = try readChunk(c, readers: readers, context: object, scratch: scratch)
                size += UInt64(bytes.count)
                guard size <= part.contentSize else {
                    throw CofferError.integrity(object: object, reason: "archive part \(index) is longer than its recorded \(part.contentSize) bytes")
                }
                sha.update(bytes)
                try emit(bytes)
            }
        }
        guard size == part.contentSize, sha.finalize() == part.contentSHA256 else {
            throw CofferError.integrity(object: object, reason: "archive part \(index) does not match its SHA-256")
        }
    }

    /// Emits an archive's bytes, part by part: stored and inline parts as they are, transformed parts
    /// re-encoded by `handler` as their chunks come.
    /// The parts come from `layout` one at a time (read from the layout pieces as they are
    /// reached: the layout is never held whole).
    func streamArchive(
        _ layout: ArchiveLayoutCursor, handler: ArchiveHandler, readers: PackReaders, object: String, isCancelled: () -> Bool,
        into emit: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        while let part = try layout.nextPart() {
            let k = layout.partsRead - 1
            if isCancelled() { throw CofferError.interrupted }
            switch part.kind {
            case .inline:
                // Authenticated with the layout piece that holds it; its length is its output_size.
                try part.inlineBytes!.withUnsafeBytes { try emit($0) }
            case .stored:
                try streamPart(part, index: k, readers: readers, object: object, isCancelled: isCancelled, into: emit)
            case .transformed:
                var produced: UInt64 = 0
                let pass = PassThrough()
                do {
                    try handler.encode(
                        transform: part.transform,
                        content: { body in
                            try pass.run { try self.streamPart(part, index: k, readers: readers, object: object, isCancelled: isCancelled, into: body) }
                        },
                        into: { bytes in
                            try pass.run {
                                produced += UInt64(bytes.count)
                                guard produced <= part.outputSize else {
                                    throw CofferError.integrity(object: object, reason: "part \(k) rebuilds to more than \(part.outputSize) bytes")
                                }
                                try emit(bytes)
                            }
                        })
                } catch {
                    throw pass.error ?? CofferError.integrity(object: object, reason: "part \(k) cannot be rebuilt: \(error)")
                }
                guard produced == part.outputSize else {
                    throw CofferError.integrity(object: object, reason: "part \(k) rebuilt to \(produced) bytes, expected \(part.outputSize)")
                }
            }
        }
    }

    /// Emits a member's content, chunk by chunk, and checks its size (its part's SHA-256 is
    /// checked on the way; an encoded member's check is the handler's, for zip its CRC-32).
    /// `part` is the member's part (`m.part` of the layout), nil when it has none.
    func streamMember(
        _ m: ArchiveMember, part: ArchivePart?, readers: PackReaders, handler: ArchiveHandler?, object: String, isCancelled: () -> Bool,
        into emit: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        guard let part, let p = m.part else {
            guard m.size == 0 else { throw CofferError.integrity(object: object, reason: "member has no data, expected \(m.size) bytes") }
            return
        }
        var size: UInt64 = 0
        func counted(_ bytes: UnsafeRawBufferPointer) throws {
            size += UInt64(bytes.count)
            guard size <= m.size else { throw CofferError.integrity(object: object, reason: "member has more than its \(m.size) bytes") }
            try emit(bytes)
        }
        switch m.data {
        case .content:
            try streamPart(part, index: p, readers: readers, object: object, isCancelled: isCancelled, into: counted)
        case .encoded:
            guard let handler else { throw CofferError.invalidArgument("\(object): decoding a member needs an archive handler") }
            let pass = PassThrough()
            do {
                try handler.decode(
                    member: m,
                    stored: { body in
                        try pass.run { try self.streamPart(part, index: p, readers: readers, object: object, isCancelled: isCancelled, into: body) }
                    },
                    into: { bytes in try pass.run { try counted(bytes) } })
            } catch {
                // The stored bytes reached the handler authenticated (each chunk's AEAD): what
                // the handler finds wrong with them is the original archive's own fault
                // (ArchiveMemberFault). Any other handler error is about the member's record
                // (an impossible size, an unknown encoding): damage to the version.
                if let vaultError = pass.error { throw vaultError }
                if let fault = error as? ArchiveMemberFault { throw fault }
                throw CofferError.integrity(object: object, reason: "member \(m.name) cannot be decoded: \(error)")
            }
        case .opaque:
            let why = handler?.whyOpaque(m) ?? ArchiveMember.opaqueReason
            throw CofferError.invalidArgument("\(object): member \(m.name) is \(why); restore the whole archive instead")
        }
        guard size == m.size else { throw CofferError.integrity(object: object, reason: "member has \(size) bytes, expected \(m.size)") }
    }

    /// A member's content as it decodes, faults of the original archive included: its SHA-256,
    /// its size, and the ``ArchiveMemberFault`` the handler found (nil when none), so that
    /// `restore --expand` can write what `unzip` writes and say what was wrong.
    func memberDigest(
        _ m: ArchiveMember, part: ArchivePart?, readers: PackReaders, handler: ArchiveHandler?, object: String, isCancelled: () -> Bool
    ) throws -> (sha256: [UInt8], size: UInt64, fault: ArchiveMemberFault?) {
        if m.data == .content, m.part != nil, let part, part.contentSize == m.size {
            return (part.contentSHA256, m.size, nil)
        }
        let sha = SHA256()
        var size: UInt64 = 0
        do {
            try streamMember(m, part: part, readers: readers, handler: handler, object: object, isCancelled: isCancelled) {
                sha.update($0)
                size += UInt64($0.count)
            }
        } catch let fault as ArchiveMemberFault {
            return (sha.finalize(), size, fault)
        }
        return (sha.finalize(), size, nil)
    }
}

/// Records the errors of the vault's side of a handler call (reading chunks, writing the output,
/// Ctrl-C), so they come out of the call as they are; the handler's own errors become integrity
/// errors.
private final class PassThrough {
    private(set) var error: Error?

    func run(_ body: () throws -> Void) throws {
        do { try body() } catch {
            self.error = error
            throw error
        }
    }
}
