import Foundation

/// `coffer-bench scale-tree --out DIR --files N --folders F [--kind small|empty] [--seed S]`: the trees of
/// `Benchmarks/scale.sh`, generated deterministically and fast (plain open/write calls).
///
/// N files spread evenly over F folders (`d0000/f0000000`...). With `--kind small` (the default)
/// each file holds 200 bytes to 4 KiB, alternately text (compressible) and random bytes
/// (incompressible), from a SplitMix64 stream seeded with S; with `--kind empty` every file is empty.
///
/// `coffer-bench scale-change --file PATH --bytes N [--seed S]` replaces one file's content by N
/// random bytes (the "one changed file" step: incompressible, so its own chunks cost N bytes plus
/// their envelope in every tool).
enum ScaleTree {
    static func generate(out: String, files: Int, folders: Int, empty: Bool, seed: UInt64) {
        var rng = Rng(s: seed)
        try? FileManager.default.removeItem(atPath: out)
        guard mkdir(out, 0o755) == 0 else { fail("cannot create \(out): \(String(cString: strerror(errno)))") }
        let perFolder = (files + folders - 1) / folders
        var written = 0
        var bytes = 0
        var buf = [UInt8](repeating: 0, count: 4096)
        for f in 0..<folders where written < files {
            let dir = out + "/" + pad("d", f, 4)
            guard mkdir(dir, 0o755) == 0 else { fail("cannot create \(dir): \(String(cString: strerror(errno)))") }
            for _ in 0..<perFolder where written < files {
                let path = dir + "/" + pad("f", written, 7)
                let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                guard fd >= 0 else { fail("cannot create \(path): \(String(cString: strerror(errno)))") }
                if !empty {
                    let size = 200 + rng.below(4096 - 200 + 1)
                    let data: [UInt8]
                    if written % 2 == 0 {
                        data = Corpus.text(size, rng: &rng)
                    } else {
                        rng.fill(&buf)
                        data = Array(buf[0..<size])
                    }
                    let n = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                    guard n == data.count else { fail("cannot write \(path)") }
                    bytes += size
                }
                close(fd)
                written += 1
            }
        }
        print("scale-tree: \(written) files (\(bytes) bytes) in \(folders) folders in \(out)")
    }

    static func change(file: String, bytes: Int, seed: UInt64) {
        var rng = Rng(s: seed)
        var data = [UInt8](repeating: 0, count: bytes)
        rng.fill(&data)
        guard FileManager.default.createFile(atPath: file, contents: Data(data)) else { fail("cannot write \(file)") }
    }

    private static func pad(_ prefix: String, _ n: Int, _ width: Int) -> String {
        let s = String(n)
        return prefix + String(repeating: "0", count: max(0, width - s.count)) + s
    }

    private static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("coffer-bench: \(message)\n".utf8))
        exit(1)
    }
}
