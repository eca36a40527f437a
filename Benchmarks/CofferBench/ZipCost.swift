import CofferExports
import Foundation

/// Time of the zip analysis done at seal time: the streaming analysis seal uses (the compact directory parse, each
/// member re-deflated piece by piece against its stored bytes, the SHA-256 pass), and for
/// comparison the in-memory one (inflate, search, rebuild compared with the input).
enum ZipCost {
    static func run(paths: [String]) {
        print("| zip | size | members | reproduced | streaming analysis | in memory |")
        print("|---|---|---|---|---|---|")
        var total = 0.0, totalMemory = 0.0
        for p in paths {
            guard let source = try? ZipFileSource(path: p), let bytes = FileManager.default.contents(atPath: p).map({ [UInt8]($0) }) else { continue }
            let start = Date()
            guard let directory = try? ZipLayout.parseDirectory(source, limits: ZipArchiveHandler().parseLimits),
                let a = try? ZipReproduction.analyseStreaming(source, directory: directory)
            else {
                print("| \(p) | not a zip Coffer can store member by member | | | | |")
                continue
            }
            let t = Date().timeIntervalSince(start)
            let memoryStart = Date()
            _ = try? ZipReproduction.analyseAndVerify(bytes)
            let m = Date().timeIntervalSince(memoryStart)
            total += t
            totalMemory += m
            let reproduced = (0..<directory.memberCount).filter { a.encoding($0).payloadIsContent }.count
            print("| \((p as NSString).lastPathComponent) | \(bytes.count) B | \(directory.memberCount) | \(reproduced) | \(String(format: "%.0f ms", t * 1000)) | \(String(format: "%.0f ms", m * 1000)) |")
        }
        print(String(format: "total %.2f s streaming, %.2f s in memory", total, totalMemory))
    }
}
