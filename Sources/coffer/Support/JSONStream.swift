import CofferCore
import Foundation

/// A JSON document written while its one array is produced (`ls --json`, `diff --json`): the
/// same text `JSONOutput.print` would write for the whole value (pretty-printed, keys sorted),
/// without holding the array. The fields that sort before the array's key are given first
/// (`leading`), those after it at the end.
final class JSONArrayStream {
    private let encoder: JSONEncoder
    private var buffer = ""
    private var count = 0
    /// Where the text goes (standard output through `Console.outJSON`): the text, and whether
    /// it ends the document (a newline follows).
    private let write: (String, Bool) -> Void

    init(key: String, leading: (some Encodable)? = nil as Empty?, write: @escaping (String, Bool) -> Void = { Console.outJSON($0, newline: $1) }) throws {
        self.write = write
        encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        buffer = "{"
        if let leading {
            let fields = try body(of: leading)
            if !fields.isEmpty { buffer += "\n" + fields + "," }
        }
        buffer += "\n  \"\(key)\" : ["
    }

    /// An empty object (no leading fields).
    struct Empty: Encodable {}

    /// Appends one element of the array.
    func append(_ element: some Encodable) throws {
        let text = String(decoding: try encoder.encode(element), as: UTF8.self)
        buffer += (count == 0 ? "\n" : ",\n") + text.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
        count += 1
        if buffer.utf8.count >= 1 << 16 {
            write(buffer, false)
            buffer = ""
        }
    }

    /// Closes the array, writes the fields that sort after its key, and ends the document.
    func finish(_ trailing: some Encodable) throws {
        buffer += count == 0 ? "\n\n  ]" : "\n  ]"
        let fields = try body(of: trailing)
        buffer += fields.isEmpty ? "\n}" : ",\n" + fields + "\n}"
        write(buffer, true)
        buffer = ""
    }

    /// An object's fields as the encoder lays them out, without the braces ("" for none).
    private func body(of value: some Encodable) throws -> String {
        let lines = String(decoding: try encoder.encode(value), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count > 2 else { return "" }
        return lines.dropFirst().dropLast().joined(separator: "\n")
    }
}

/// Raw bytes in JSON, losslessly: valid UTF-8 as a string; otherwise the string with U+FFFD for
/// the invalid bytes (for display) and the exact bytes in base64 beside it (`…_bytes`).
enum JSONBytes {
    static func lossless(_ bytes: [UInt8]) -> (text: String, base64: String?) {
        if let s = String(validating: bytes, as: UTF8.self) { return (s, nil) }
        return (String(decoding: bytes, as: UTF8.self), Data(bytes).base64EncodedString())
    }

    /// The `type` field of an entry.
    static func typeName(_ type: EntryType) -> String {
        switch type {
        case .directory: return "dir"
        case .symlink: return "symlink"
        case .file, .archive: return "file"
        case .fifo: return "fifo"
        case .charDevice: return "char_device"
        case .blockDevice: return "block_device"
        case .hardlink: return "hardlink"
        }
    }
}
