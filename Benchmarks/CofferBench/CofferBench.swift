import CofferCore
import CofferCrypto
import Foundation

/// Release-build measurements for Coffer. Not a test: it prints figures.
///
///     coffer-bench corpus --out DIR --size-mb N [--seed S]
///     coffer-bench chunking --series DIR [--corpus DIR] [--level N]
///     coffer-bench mutate --dir DIR --percent P [--seed S]
///     coffer-bench primitives [--mb N] [--reps R] [--only NAME]
///     coffer-bench init-lowkdf --vault DIR [--format N] [--tiers MAX:MIN/AVG/MAX,…,max:MIN/AVG/MAX] [--level N]
///     coffer-bench trees --dir DIR [--files N] [--folders F]
///     coffer-bench scan --dir DIR [--reps R]
///     coffer-bench scale-tree --out DIR --files N --folders F [--kind small|empty] [--seed S]
///     coffer-bench scale-change --file PATH --bytes N [--seed S]
///     coffer-bench seal-cost --vault DIR [--before LIST]
///     coffer-bench breakdown --vault DIR
@main
struct CofferBench {
    static func main() {
        var args = Array(CommandLine.arguments.dropFirst())
        guard let command = args.first else { usage() }
        args.removeFirst()
        let opts = Options(args)
        switch command {
        case "corpus":
            Corpus.generate(out: opts.require("--out"), bytes: Int(opts.value("--size-mb") ?? "256")! << 20, seed: UInt64(opts.value("--seed") ?? "1")!)
        case "chunking":
            ChunkingExperiment.run(series: opts.value("--series"), corpus: opts.value("--corpus"), level: Int32(opts.value("--level") ?? "3")!)
        case "zipcost":
            ZipCost.run(paths: Array(args.filter { !$0.hasPrefix("--") }))
        case "mutate":
            Corpus.mutate(dir: opts.require("--dir"), percent: Double(opts.value("--percent") ?? "1")!, seed: UInt64(opts.value("--seed") ?? "7")!)
        case "primitives":
            Primitives.run(mb: Int(opts.value("--mb") ?? "64")!, reps: Int(opts.value("--reps") ?? "5")!, only: opts.value("--only"))
        case "init-lowkdf":
            initLowKDF(
                path: opts.require("--vault"), format: Int(opts.value("--format") ?? String(VaultConfig.currentFormat))!, tiers: opts.value("--tiers"),
                level: opts.value("--level").flatMap { Int($0) })
        case "trees":
            TreeSealBench.run(dir: opts.require("--dir"), files: Int(opts.value("--files") ?? "20000")!, folders: Int(opts.value("--folders") ?? "20")!)
        case "scan":
            ScanCost.run(dir: opts.require("--dir"), reps: Int(opts.value("--reps") ?? "5")!)
        case "scale-tree":
            ScaleTree.generate(
                out: opts.require("--out"), files: Int(opts.require("--files"))!, folders: Int(opts.require("--folders"))!,
                empty: opts.value("--kind") == "empty", seed: UInt64(opts.value("--seed") ?? "1")!)
        case "seal-cost":
            SealCostReport.run(vaultPath: opts.require("--vault"), before: opts.value("--before"))
        case "breakdown":
            Breakdown.run(vault: opts.require("--vault"))
        case "scale-change":
            ScaleTree.change(file: opts.require("--file"), bytes: Int(opts.require("--bytes"))!, seed: UInt64(opts.value("--seed") ?? "7")!)
        default:
            usage()
        }
    }

    /// A vault like `coffer init` makes, but with the test-only minimum Argon2id cost instead of
    /// MODERATE, so `run.sh` can measure Coffer's time and memory besides the unlock. (The release
    /// `coffer` offers no weak KDF, and opens such a vault like any other.) Passphrase: $COFFER_PASSPHRASE.
    /// `--format 1` makes a format-1 vault (the scale benchmark's comparison with the old trees).
    /// `--tiers MAX:MIN/AVG/MAX,…` (sizes in bytes, the last MAX `max`): other chunk tiers than the
    /// defaults, to measure them with one build; `--level N` another zstd level than the default.
    static func parseTiers(_ spec: String) -> [ChunkTier]? {
        var out: [ChunkTier] = []
        for part in spec.split(separator: ",") {
            let f = part.split(separator: ":")
            let s = f.count == 2 ? f[1].split(separator: "/").compactMap { Int($0) } : []
            guard f.count == 2, s.count == 3, let limit = f[0] == "max" ? UInt64.max : UInt64(f[0]) else { return nil }
            out.append(ChunkTier(maxFileSize: limit, sizes: ChunkSizes(min: s[0], average: s[1], max: s[2])))
        }
        return out.isEmpty ? nil : out
    }

    static func initLowKDF(path: String, format: Int, tiers: String?, level: Int? = nil) {
        guard let p = ProcessInfo.processInfo.environment["COFFER_PASSPHRASE"], !p.isEmpty else {
            FileHandle.standardError.write(Data("init-lowkdf: set COFFER_PASSPHRASE\n".utf8)); exit(64)
        }
        let passphrase = Array(p.utf8).withUnsafeBytes { SecureBytes(copying: $0) }
        var options = VaultOptions()
        options.kdf = .insecureTestOnly
        if let level { options.compressionLevel = level }
        if let tiers {
            guard let t = parseTiers(tiers) else { FileHandle.standardError.write(Data("init-lowkdf: bad --tiers \(tiers)\n".utf8)); exit(64) }
            options.tiers = t
        }
        do {
            _ = try Vault.create(at: path, passphrase: passphrase, options: options, format: format)
        } catch {
            FileHandle.standardError.write(Data("init-lowkdf: \(error)\n".utf8)); exit(1)
        }
    }

    static func usage() -> Never {
        FileHandle.standardError.write(Data("""
            usage: coffer-bench corpus --out DIR --size-mb N [--seed S]
                   coffer-bench chunking --series DIR [--corpus DIR] [--level N]
                   coffer-bench mutate --dir DIR --percent P [--seed S]
                   coffer-bench zipcost ZIP...
                   coffer-bench primitives [--mb N] [--reps R] [--only NAME]
                   coffer-bench init-lowkdf --vault DIR [--format N] [--tiers MAX:MIN/AVG/MAX,…] [--level N]
                   coffer-bench trees --dir DIR [--files N] [--folders F]
                   coffer-bench scan --dir DIR [--reps R]
                   coffer-bench scale-tree --out DIR --files N --folders F [--kind small|empty] [--seed S]
                   coffer-bench scale-change --file PATH --bytes N [--seed S]
                   coffer-bench seal-cost --vault DIR [--before LIST]
                   coffer-bench breakdown --vault DIR

            """.utf8))
        exit(64)
    }
}

struct Options {
    var values: [String: String] = [:]
    init(_ args: [String]) {
        var i = 0
        while i < args.count {
            if args[i].hasPrefix("--"), i + 1 < args.count { values[args[i]] = args[i + 1]; i += 2 } else { i += 1 }
        }
    }
    func value(_ k: String) -> String? { values[k] }
    func require(_ k: String) -> String {
        guard let v = values[k] else { FileHandle.standardError.write(Data("missing \(k)\n".utf8)); exit(64) }
        return v
    }
}

/// SplitMix64: deterministic data for reproducible corpora.
struct Rng {
    var s: UInt64
    mutating func next() -> UInt64 {
        s &+= 0x9E37_79B9_7F4A_7C15
        var z = s
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func fill(_ buf: inout [UInt8]) {
        buf.withUnsafeMutableBytes { b in
            var i = 0
            while i + 8 <= b.count { b.storeBytes(of: next(), toByteOffset: i, as: UInt64.self); i += 8 }
            while i < b.count { b[i] = UInt8(truncatingIfNeeded: next()); i += 1 }
        }
    }
}
