extension ArchivePlan {
    /// A lower bound of the bytes the layout of this analysed archive takes once stored
    /// (Docs/FORMAT.md, "Trees" and "Inline parts"), from the plan alone, before any part is
    /// stored: every record is counted exactly (names, transforms, encodings, modes, inline
    /// bytes) but for the chunk ids of a stored or transformed part, taken at their least
    /// (one chunk per ``ChunkSizes/formatMaximum`` bytes of content, none when it is empty).
    /// For an archive of members below the chunker's minimum size it is the exact size.
    ///
    /// Stops counting once the bound passes `limit` (the answer is then only known to be over it).
    func minimumLayoutBytes(isInline: [Bool], limit: Int = .max) -> Int {
        let chunkMaximum = UInt64(ChunkSizes.formatMaximum)
        var n = 1 + 4 + 4
        for k in parts.indices {
            let p = parts[k]
            if isInline[k] {
                n += 1 + 4 + Int(p.contentSize)
            } else {
                let leastChunks = Int((p.contentSize + chunkMaximum - 1) / chunkMaximum)
                n += ArchiveLayout.partRecordSize(transform: p.transform.count, chunks: leastChunks)
            }
            if n > limit { return n }
        }
        for m in members {
            n += ArchiveLayout.memberRecordSize(m)
            if n > limit { return n }
        }
        return n
    }
}
