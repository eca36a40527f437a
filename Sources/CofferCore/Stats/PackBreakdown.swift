import CofferCrypto

/// Where a vault's pack bytes go, read from every pack header (for measurements: what the
/// blobs' payloads, their envelopes, the headers and the padding each take).
public struct PackBreakdown: Sendable {
    /// Blobs of one kind: data stored raw (flags 0), data compressed (flags 1), data compressed
    /// with a dictionary (flags 3), tree and layout pieces.
    public struct Kind: Sendable {
        public var blobs = 0
        public var plainBytes = 0
        public var envelopeBytes = 0
        /// The payloads' bytes: the envelopes without their 40 bytes each.
        public var payloadBytes: Int { envelopeBytes - 40 * blobs }
    }

    /// One pack: its size, header envelope, and padding blob's envelope.
    public struct Pack: Sendable {
        public var id: ObjectID
        public var size: Int
        public var entries: Int
        public var headerEnvelope: Int
        public var paddingEnvelope: Int
    }

    public var kinds: [String: Kind] = [:]
    public var packs: [Pack] = []
}

extension Vault {
    /// Reads the header of every pack the index lists and sums its blobs by kind.
    public func packBreakdown() throws -> PackBreakdown {
        var out = PackBreakdown()
        for pack in index.packs.sorted() {
            let reader = try packReader(pack)
            let entries = try PackFormat.readHeader(packSize: reader.size, object: VaultFile.pack(pack).path, vaultID: vaultID, keys: keys) { off, len in
                var b = [UInt8](repeating: 0, count: len)
                try b.withUnsafeMutableBytes { try reader.read(into: $0, at: off) }
                return b
            }
            var p = PackBreakdown.Pack(id: pack, size: reader.size, entries: entries.count, headerEnvelope: PackFormat.headerEnvelopeLength(entries: entries.count), paddingEnvelope: 0)
            for e in entries {
                let kind: String
                switch e.type {
                case .padding: p.paddingEnvelope += e.envelopeLength; continue
                case .data:
                    let size = e.plainLength < 64 << 10 ? "< 64 KiB" : e.plainLength < 256 << 10 ? "64–256 KiB" : "≥ 256 KiB"
                    kind = (e.flags == 0 ? "data, raw, " : e.flags == 1 ? "data, zstd, " : "data, dictionary, ") + size
                default: kind = "tree/layout pieces"
                }
                out.kinds[kind, default: .init()].blobs += 1
                out.kinds[kind, default: .init()].plainBytes += e.plainLength
                out.kinds[kind, default: .init()].envelopeBytes += e.envelopeLength
            }
            out.packs.append(p)
        }
        return out
    }
}
