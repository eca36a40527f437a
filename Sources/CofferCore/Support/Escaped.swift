/// Text that came from outside (file names, zip member names, link targets) made safe to print
/// on a terminal, one line: control characters and bytes that are not UTF-8 cannot move the
/// cursor, change colours, ring the bell or start a new line.
///
/// - C0 controls, DEL and every byte of invalid UTF-8 print as `\xNN` (ESC as `\x1b`, BEL as
///   `\x07`, a stray `0xff` as `\xff`); a C1 control (CSI is U+009B) prints each of its two
///   UTF-8 bytes that way (`\xc2\x9b`).
/// - Characters that reorder or break the line without being controls — the bidirectional
///   embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) and U+2028/U+2029 —
///   print as `\u{202e}`.
/// - Everything else, backslash included, is copied. Escaping is therefore idempotent: text
///   escaped twice reads as text escaped once, so layers that each escape what they print
///   compose. (The price: a name that really contains the four characters `\x1b` prints the
///   same as one holding ESC.)
public enum TerminalText {
    public static func escape(_ s: String) -> String { escape(bytes: s.utf8) }

    public static func escape(bytes: some Sequence<UInt8>) -> String {
        let input = Array(bytes)
        // Fast path: printable ASCII only.
        if input.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return String(decoding: input, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(input.count + 16)
        var iterator = input.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = 0
        loop: while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                let length = encoded.count
                let scalar = Unicode.UTF8.decode(encoded)
                let v = scalar.value
                if v < 0x20 || v == 0x7F || (v >= 0x80 && v < 0xA0) {
                    for b in input[offset..<offset + length] { appendHex(b, to: &out) }
                } else if (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v) || v == 0x2028 || v == 0x2029 {
                    out += Array("\\u{\(String(v, radix: 16))}".utf8)
                } else {
                    out += input[offset..<offset + length]
                }
                offset += length
            case .error(let length):
                for b in input[offset..<offset + length] { appendHex(b, to: &out) }
                offset += length
            case .emptyInput:
                break loop
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func appendHex(_ b: UInt8, to out: inout [UInt8]) {
        let digits = Array("0123456789abcdef".utf8)
        out += [UInt8(ascii: "\\"), UInt8(ascii: "x"), digits[Int(b >> 4)], digits[Int(b & 0xF)]]
    }
}
