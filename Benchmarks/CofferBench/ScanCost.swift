import CofferCore
import Foundation

/// `coffer-bench scan --dir DIR [--reps R]`: the cost of capturing every entry's metadata below
/// DIR (depth-first, names sorted, by directory descriptor), with and without extended
/// attributes, against a plain `fstatat` of each name; the best of R walks each.
enum ScanCost {
    static func run(dir: String, reps: Int) {
        // The names first (readdir is the trees' walk, not measured here).
        var folders: [(path: String, names: [[UInt8]])] = []
        func list(_ path: String) {
            guard let d = opendir(path) else { return }
            var names: [[UInt8]] = []
            while let e = readdir(d) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
                if name != [0x2E] && name != [0x2E, 0x2E] { names.append(name) }
            }
            closedir(d)
            names.sort { $0.lexicographicallyPrecedes($1) }
            folders.append((path, names))
            for n in names {
                let child = path + "/" + String(decoding: n, as: UTF8.self)
                var st = stat()
                if lstat(child, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR { list(child) }
            }
        }
        list(dir)
        let fds = folders.map { open($0.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { fds.forEach { close($0) } }
        let entries = folders.reduce(0) { $0 + $1.names.count }

        func best(_ body: () -> Int) -> (Double, Int) {
            var t = Double.infinity
            var r = 0
            for _ in 0..<reps {
                let start = DispatchTime.now().uptimeNanoseconds
                r = body()
                t = min(t, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            return (t, r)
        }
        let (plain, _) = best {
            var n = 0
            for (k, f) in folders.enumerated() {
                for name in f.names {
                    var st = stat()
                    if fstatat(fds[k], name.map { CChar(bitPattern: $0) } + [0], &st, AT_SYMLINK_NOFOLLOW) == 0 { n += 1 }
                }
            }
            return n
        }
        func capture(_ xattrs: Bool) -> (Double, Int) {
            best {
                let scanner = MetadataScanner(extendedAttributes: xattrs)
                var attrs = 0
                for (k, f) in folders.enumerated() {
                    for name in f.names {
                        if case .entry(let m, _) = scanner.capture(in: fds[k], name: name) { attrs += m.xattrs.count }
                    }
                }
                return attrs
            }
        }
        let (without, _) = capture(false)
        let (with, attrs) = capture(true)
        func line(_ label: String, _ t: Double) -> String {
            label.padding(toLength: 22, withPad: " ", startingAt: 0) + String(format: "%8.1f ms  %6.2f us/entry", t * 1000, t / Double(max(entries, 1)) * 1e6)
        }
        print("\(entries) entries in \(folders.count) folders, \(attrs) extended attributes; best of \(reps)")
        print(line("fstatat only", plain))
        print(line("capture, no xattrs", without))
        print(line("capture with xattrs", with))
    }
}
