/// Padmé padding (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and
/// Communication with PURBs", 2019): rounds a length so that at most O(log log L) bits of it
/// remain, with at most about 12% overhead (much less for large values).
public enum Padme {
    public static func padded(_ length: UInt64) -> UInt64 {
        if length < 2 { return length }
        let e = 63 - length.leadingZeroBitCount           // floor(log2 L)
        let s = 64 - UInt64(e).leadingZeroBitCount        // floor(log2 e) + 1
        let lastBits = e - s
        let mask: UInt64 = (1 << UInt64(lastBits)) - 1
        return (length + mask) & ~mask
    }
}
