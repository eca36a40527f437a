/// What patterns compare: a name cut into *units*. Where the bytes are valid UTF-8, a unit is one
/// Unicode scalar (its value, 0…0x10FFFF); any other byte is a unit of its own, the raw byte
/// (0x110000 + byte), so `?` matches one character of a UTF-8 name and one byte of a name that
/// is not UTF-8, and a raw byte never equals a character. Cutting is a function of the bytes and
/// can be undone, so units compare equal exactly when the bytes do.
///
/// Paths are split on the byte `/` (0x2F) before they are cut; 0x2F is never part of a
/// multi-byte UTF-8 sequence, so a `/` byte always separates components.
enum PatternUnits {
    /// The unit of raw byte `b` (a byte that is not part of a valid UTF-8 sequence).
    static let rawBase: UInt32 = 0x11_0000

    /// Cuts `bytes` into units: valid UTF-8 sequences (shortest form, no surrogates, at most
    /// U+10FFFF) become scalars, every other byte a raw-byte unit.
    static func decode(_ bytes: ArraySlice<UInt8>) -> [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        let end = bytes.endIndex
        while i < end {
            let b0 = bytes[i]
            if b0 < 0x80 {
                out.append(UInt32(b0))
                i += 1
                continue
            }
            var need = 0
            var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
            var value: UInt32 = 0
            switch b0 {
            case 0xC2...0xDF: need = 1; value = UInt32(b0 & 0x1F)
            case 0xE0: need = 2; lo = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: need = 2; value = UInt32(b0 & 0x0F)
            case 0xED: need = 2; value = 0x0D; hi = 0x9F
            case 0xF0: need = 3; lo = 0x90
            case 0xF1...0xF3: need = 3; value = UInt32(b0 & 0x07)
            case 0xF4: need = 3; value = 4; hi = 0x8F
            default: need = 0
            }
            var ok = need > 0 && end - i > need
            if ok {
                for k in 1...need {
                    let b = bytes[i + k]
                    let (l, h) = k == 1 ? (lo, hi) : (UInt8(0x80), UInt8(0xBF))
                    guard b >= l && b <= h else {
                        ok = false
                        break
                    }
                    value = value << 6 | UInt32(b & 0x3F)
                }
            }
            if ok {
                out.append(value)
                i += need + 1
            } else {
                out.append(rawBase + UInt32(b0))
                i += 1
            }
        }
        return out
    }

    /// The case-folded unit: ASCII `A`–`Z` to `a`–`z`; another scalar to its lowercase mapping
    /// when that is a single scalar (`É` → `é`, `Σ` → `σ`; `İ`, whose lowercase is two scalars,
    /// stays as it is); raw bytes unchanged.
    static func fold(_ u: UInt32) -> UInt32 {
        if u < 0x80 { return u >= 0x41 && u <= 0x5A ? u + 0x20 : u }
        guard u < rawBase, let scalar = Unicode.Scalar(u) else { return u }
        let props = scalar.properties
        guard props.changesWhenLowercased else { return u }
        let lower = props.lowercaseMapping.unicodeScalars
        guard lower.count == 1, let first = lower.first else { return u }
        return first.value
    }

    /// `decode`, folded when `fold` is set.
    static func decode(_ bytes: ArraySlice<UInt8>, fold: Bool) -> [UInt32] {
        let units = decode(bytes)
        return fold ? units.map(Self.fold) : units
    }
}
