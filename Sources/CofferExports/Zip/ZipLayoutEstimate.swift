import CofferCore

extension ZipDirectory {
    /// A lower bound of the bytes this zip's layout takes (Docs/FORMAT.md, "Trees": the layout
    /// grammar), from the central directory alone, before any member is analysed.
    ///
    /// What the analysis decides (each member's transform, encoding and chunk count) is taken
    /// at its least; what the directory fixes is counted exactly:
    /// - the header, 9 bytes;
    /// - a container part of `L` bytes (local headers, the central directory, the end records):
    ///   `5 + L` inline, at least `57 + 32` stored with one chunk (57 when empty);
    /// - a member's data part: 57 bytes and one chunk id (32) when its data is not empty;
    /// - a member record: 30 bytes, the name's UTF-8 bytes, 4 more when a Unix mode is recorded.
    ///
    /// A zip whose bound exceeds ``Vault/maximumArchiveLayoutBytes`` cannot be stored as an
    /// archive: the seal stores it as an ordinary file without analysing its members.
    public var minimumLayoutBytes: Int {
        var n = 1 + 4 + 4
        for k in 0..<pieceCount {
            switch piece(k) {
            case .container(let range):
                n += range.isEmpty ? 57 : min(5 + range.count, 57 + 32)
            case .member(let i):
                let m = summary(i)
                n += 57 + (min(m.compressedSize, m.uncompressedSize) > 0 ? 32 : 0)
                n += 30 + m.name.utf8.count + (m.unixMode != 0 ? 4 : 0)
            }
        }
        return n
    }
}
