import Foundation

/// The mixed corpus: text (CSV and log lines, compressible about 3–5x), random data
/// (incompressible, like photos and archives), and duplicate files (copies under other names),
/// in files from a few KB to tens of MB.
enum Corpus {
    static let words = ["alpha", "backup", "vault", "chunk", "export", "linkedin", "message", "connection", "invitation",
                        "profile", "position", "company", "engineer", "manager", "director", "london", "paris", "berlin",
                        "2024-03-01", "2025-07-11", "error", "warning", "info", "request", "response", "latency", "user"]

    static func text(_ count: Int, rng: inout Rng) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(count + 200)
        while out.count < count {
            let n = 5 + rng.below(12)
            for i in 0..<n {
                if i > 0 { out.append(rng.below(4) == 0 ? UInt8(ascii: ",") : UInt8(ascii: " ")) }
                if rng.below(5) == 0 {
                    out += Array(String(rng.next() % 1_000_000).utf8)
                } else {
                    out += Array(words[rng.below(words.count)].utf8)
                }
            }
            out.append(UInt8(ascii: "\n"))
        }
        return Array(out.prefix(count))
    }

    static func generate(out: String, bytes: Int, seed: UInt64) {
        var rng = Rng(s: seed)
        let fm = FileManager.default
        try? fm.createDirectory(atPath: out, withIntermediateDirectories: true)
        var written = 0
        var files: [String] = []
        var n = 0
        while written < bytes {
            let kind = rng.below(10)  // 0-4 text, 5-7 random, 8-9 duplicate
            let big = rng.below(20) == 0
            let size = big ? (4 << 20) + rng.below(28 << 20) : 4096 + rng.below(400 << 10)
            let dir = out + "/d\(n % 16)/s\(n % 5)"
            try? fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let path: String
            var data: [UInt8]
            if kind >= 8, let src = files.isEmpty ? nil : files[rng.below(files.count)] {
                data = [UInt8](fm.contents(atPath: src)!)
                path = dir + "/copy-\(n)-" + (src as NSString).lastPathComponent
            } else if kind >= 5 {
                data = [UInt8](repeating: 0, count: min(size, bytes - written + 1))
                rng.fill(&data)
                path = dir + "/random-\(n).bin"
            } else {
                data = text(min(size, bytes - written + 1), rng: &rng)
                path = dir + "/text-\(n).csv"
            }
            _ = fm.createFile(atPath: path, contents: Data(data))
            files.append(path)
            written += data.count
            n += 1
        }
        print("corpus: \(n) files, \(written) bytes in \(out)")
    }

    /// Changes about `percent` of the bytes, the same way for the same seed and tree: a tenth of
    /// the budget goes to one new text file, the rest to edits of files picked at random (two in
    /// three overwrite a range in place with random bytes, one in three appends random bytes),
    /// each edit at most 64 KiB and a quarter of its file.
    static func mutate(dir: String, percent: Double, seed: UInt64) {
        var rng = Rng(s: seed)
        let fm = FileManager.default
        var paths: [String] = []
        var total = 0
        let e = fm.enumerator(atPath: dir)!
        while let rel = e.nextObject() as? String {
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: dir + "/" + rel, isDirectory: &isDir), !isDir.boolValue {
                paths.append(dir + "/" + rel)
                total += (try? fm.attributesOfItem(atPath: dir + "/" + rel)[.size] as? Int) ?? 0
            }
        }
        paths.sort()
        var budget = Int(Double(total) * percent / 100)
        let newBytes = budget / 10
        if newBytes > 0 {
            let newFile = dir + "/new-\(seed).csv"
            _ = fm.createFile(atPath: newFile, contents: Data(text(newBytes, rng: &rng)))
            budget -= newBytes
        }
        var rewritten = Set<String>(), appended = Set<String>()
        var changedBytes = newBytes
        while budget > 0 && !paths.isEmpty {
            let p = paths[rng.below(paths.count)]
            guard var data = fm.contents(atPath: p).map({ [UInt8]($0) }), data.count > 16 else { continue }
            let len = min(budget, max(1, min(data.count / 4, 64 << 10)))
            var patch = [UInt8](repeating: 0, count: len)
            rng.fill(&patch)
            if rng.below(3) < 2 {
                let at = rng.below(max(1, data.count - len))
                data.replaceSubrange(at..<min(data.count, at + len), with: patch)
                rewritten.insert(p)
            } else {
                data.append(contentsOf: patch)
                appended.insert(p)
            }
            _ = fm.createFile(atPath: p, contents: Data(data))
            budget -= len
            changedBytes += len
        }
        print("mutate: \(changedBytes) bytes changed in \(dir) (\(percent)% of \(total) bytes): \(rewritten.count) files rewritten in place, \(appended.subtracting(rewritten).count) appended to\(newBytes > 0 ? ", 1 new file" : "")")
    }
}
