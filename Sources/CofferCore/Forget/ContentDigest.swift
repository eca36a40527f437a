extension Vault {
    /// The content digest of version `id` for `keepDistinct` (what a restore produces).
    ///
    /// Format 1: ``RetentionPolicy/contentDigest(of:)``, unchanged (the version holds its
    /// entries). Format 2: the entries streamed from the walker, never held: each as in format 1
    /// (type, path, permission bits; size and SHA-256 of files and archives; link and hard-link
    /// targets; device numbers) in walk order, written in blocks of about 1 MiB; the digest is
    /// BLAKE2b-256 of `"coffer.content.v2"`, each block's BLAKE2b-256 and the entry count (u64le).
    /// The two formats' digests differ for the same content, so a format-1 version and a
    /// format-2 version are never taken as identical (both are kept).
    public func contentDigest(of id: ObjectID) throws -> ObjectID {
        let v = try version(id)
        guard v.rootTree != nil else { return RetentionPolicy.contentDigest(of: v) }
        return try Self.streamedContentDigest(try walker(for: v, id: id))
    }

    /// The format-2 content digest of the entries `walker` gives.
    static func streamedContentDigest(_ walker: VersionWalker) throws -> ObjectID {
        var outer = ByteWriter(capacity: 64)
        outer.raw(Array("coffer.content.v2".utf8))
        var block = ByteWriter(capacity: 1 << 20)
        var count: UInt64 = 0
        func seal() {
            guard !block.bytes.isEmpty else { return }
            outer.raw(ObjectID.hashing(block.bytes).bytes)
            block = ByteWriter(capacity: 1 << 20)
        }
        while let e = try walker.next() {
            count += 1
            RetentionPolicy.appendContentRecord(e, to: &block)
            if block.bytes.count >= 1 << 20 { seal() }
        }
        seal()
        outer.u64(count)
        return ObjectID.hashing(outer.bytes)
    }
}
