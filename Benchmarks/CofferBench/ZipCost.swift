import CofferExports
import Foundation

/// Time of the zip analysis done at seal time: parse, inflate, deflate-parameter search, and
/// the rebuild compared with the input.
enum ZipCost {
    static func run(paths: [String]) {
        print("| zip | size | members | reproduced | analyse + verify |")
        print("|---|---|---|---|---|")
        var total = 0.0
        for p in paths {
            guard let bytes = FileManager.default.contents(atPath: p).map({ [UInt8]($0) }) else { continue }
            let start = Date()
            guard let a = try? ZipReproduction.analyseAndVerify(bytes) else {
                print("| \(p) | not a zip Coffer can store member by member | | | |")
                continue
            }
            let t = Date().timeIntervalSince(start)
            total += t
            print("| \((p as NSString).lastPathComponent) | \(bytes.count) B | \(a.layout.members.count) | \(a.contentMemberCount) | \(String(format: "%.0f ms", t * 1000)) |")
        }
        print(String(format: "total %.2f s", total))
    }
}
