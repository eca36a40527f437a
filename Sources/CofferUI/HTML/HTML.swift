// HTML.swift: a small typed HTML builder that escapes by default.
//
// Every text and attribute value goes through `HTML.escape`; names (raw bytes from the vault)
// go through `Node.bytes`, which shows bytes that are not UTF-8, and control characters, as
// visible `\xNN` marks instead of passing them on. Markup is only ever produced from tag and
// attribute names written in this module's code.

/// A piece of HTML markup, already escaped.
public struct Node: Sendable {
    /// The markup.
    public let markup: String

    init(markup: String) { self.markup = markup }

    /// Text, escaped.
    static func text(_ s: String) -> Node { Node(markup: HTML.escape(s)) }

    /// A name or path from the vault: UTF-8 shown as text, any other byte (and control
    /// characters) as a visible `\xNN` mark.
    static func bytes(_ b: [UInt8]) -> Node { Node(markup: HTML.escape(bytes: b)) }

    /// An element with escaped attribute values. Attributes whose value is nil are left out;
    /// an empty value gives a bare attribute.
    static func el(_ tag: String, _ attributes: [(String, String?)] = [], _ children: [Node] = []) -> Node {
        var s = "<" + tag
        for (name, value) in attributes {
            guard let value else { continue }
            s += value.isEmpty ? " \(name)" : " \(name)=\"\(HTML.escape(value))\""
        }
        s += ">"
        if HTML.voidElements.contains(tag) { return Node(markup: s) }
        for c in children { s += c.markup }
        return Node(markup: s + "</\(tag)>")
    }

    static func el(_ tag: String, _ attributes: [(String, String?)] = [], _ text: String) -> Node {
        el(tag, attributes, [.text(text)])
    }

    /// Several nodes side by side.
    static func group(_ children: [Node]) -> Node { Node(markup: children.map(\.markup).joined()) }

    static let empty = Node(markup: "")
}

/// Escaping.
public enum HTML {
    /// HTML's void elements (no end tag). SVG elements always get an end tag: inside <svg> the
    /// parser does not close `<circle>` by itself.
    static let voidElements: Set<String> = ["br", "hr", "img", "input", "link", "meta"]

    /// `&`, `<`, `>`, `"` and `'` as character references.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// Raw bytes as escaped text: valid UTF-8 as itself, each byte of an invalid sequence and each
    /// control character as `<span class="bad" title="…">\xNN</span>`, so a name that is not
    /// UTF-8 is visibly so (and two such names never look the same).
    public static func escape(bytes b: [UInt8]) -> String {
        var out = ""
        var i = 0
        func mark(_ byte: UInt8, _ why: String) {
            let hex = String(byte, radix: 16, uppercase: true)
            out += "<span class=\"bad\" title=\"\(why)\">\\x\(hex.count == 1 ? "0" + hex : hex)</span>"
        }
        while i < b.count {
            let lead = b[i]
            let length: Int
            switch lead {
            case 0x00...0x7F: length = 1
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: length = 0
            }
            if length == 1 {
                if lead < 0x20 || lead == 0x7F {
                    mark(lead, "control character")
                } else {
                    out += escape(String(UnicodeScalar(lead)))
                }
                i += 1
                continue
            }
            if length > 1, i + length <= b.count, let s = String(validating: b[i..<(i + length)], as: UTF8.self) {
                if let scalar = s.unicodeScalars.first, (0x80...0x9F).contains(scalar.value) {
                    out += "<span class=\"bad\" title=\"control character\">\\u{\(String(scalar.value, radix: 16))}</span>"
                } else {
                    out += escape(s)
                }
                i += length
                continue
            }
            mark(lead, "byte not UTF-8")
            i += 1
        }
        return out
    }

    /// Bytes as lowercase hex (paths in URLs: any byte survives the round trip).
    public static func hex(_ b: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(b.count * 2)
        for x in b {
            out.append(digits[Int(x >> 4)])
            out.append(digits[Int(x & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Hex back to bytes; nil for an odd length or a non-hex digit.
    public static func unhex(_ s: String) -> [UInt8]? {
        let u = Array(s.utf8)
        guard u.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(u.count / 2)
        var i = 0
        while i < u.count {
            guard let h = nibble(u[i]), let l = nibble(u[i + 1]) else { return nil }
            out.append(h << 4 | l)
            i += 2
        }
        return out
    }

    /// A query component: unreserved characters as themselves, everything else %-encoded.
    public static func query(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(UnicodeScalar(b))
            default:
                let h = String(b, radix: 16, uppercase: true)
                out += "%" + (h.count == 1 ? "0" + h : h)
            }
        }
        return out
    }
}
