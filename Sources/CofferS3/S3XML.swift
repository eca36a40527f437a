import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The few S3 XML answers Coffer reads, collected as (element path, text) leaves in document order.
struct S3XML {
    /// Each leaf: its path from the root's child (`Contents/Key`), and its text.
    var leaves: [(path: String, text: String)] = []
    /// The root element's name (`ListBucketResult`, `Error`, ...).
    var root = ""

    /// Parses `bytes`; nil when it is not XML.
    init?(_ bytes: [UInt8]) {
        let parser = XMLParser(data: Data(bytes))
        let collector = Collector()
        parser.delegate = collector
        parser.shouldResolveExternalEntities = false
        guard parser.parse() else { return nil }
        leaves = collector.leaves
        root = collector.root
    }

    /// The text of the first leaf at `path`.
    func first(_ path: String) -> String? { leaves.first { $0.path == path }?.text }

    /// A ListObjectsV2 page: objects (key, size, last modified), common prefixes, and the
    /// continuation token when truncated.
    func listing() -> (objects: [(key: String, size: Int, modified: Date?)], prefixes: [String], next: String?) {
        var objects: [(String, Int, Date?)] = []
        var prefixes: [String] = []
        var key: String?
        var size: Int?
        var modified: Date?
        for (path, text) in leaves {
            switch path {
            case "Contents/Key":
                if let k = key { objects.append((k, size ?? -1, modified)) }
                key = text; size = nil; modified = nil
            case "Contents/Size": size = Int(text)
            case "Contents/LastModified": modified = Self.timestamp(text)
            case "CommonPrefixes/Prefix": prefixes.append(text)
            default: break
            }
        }
        if let k = key { objects.append((k, size ?? -1, modified)) }
        let truncated = first("IsTruncated") == "true"
        return (objects, prefixes, truncated ? first("NextContinuationToken") : nil)
    }

    /// An S3 timestamp (`2026-12-06T19:00:00.000Z`, fractional seconds optional); nil when it is not one.
    static func timestamp(_ text: String) -> Date? {
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = withFraction.date(from: text) { return d }
        return ISO8601DateFormatter().date(from: text)
    }

    private final class Collector: NSObject, XMLParserDelegate {
        var stack: [String] = []
        var text = ""
        var leaves: [(path: String, text: String)] = []
        var root = ""
        var hadChild = false

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            if stack.isEmpty { root = name }
            stack.append(name)
            text = ""
            hadChild = false
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if !hadChild && stack.count >= 2 { leaves.append((stack.dropFirst().joined(separator: "/"), text)) }
            stack.removeLast()
            hadChild = true
            text = ""
        }
    }
}

/// Escapes text for an XML element.
func xmlEscape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        .replacingOccurrences(of: "\"", with: "&quot;")
}
