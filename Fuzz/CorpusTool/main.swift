// fuzz-corpus: writes the seed corpus of every fuzz target from real objects.
//
//   fuzz-corpus GOLDEN_DIR EXPORTS_DIR OUT_DIR
//
// GOLDEN_DIR is Tests/CofferCoreTests/Golden (the golden vaults v1 and v1-archive, opened with
// the passphrases of GoldenVaultTests, and v2, with GoldenV2VaultTests'; its tree pieces are
// seeds of the tree target); EXPORTS_DIR holds the output of
// `export-generator --format both` (zips and CSVs); OUT_DIR gets one folder per target.
// `make fuzz-corpus` runs it. Encrypted seeds are re-sealed under the fuzz targets' test key,
// so they open in the targets; plaintext seeds are the golden vaults' decrypted bodies.
@_spi(Fuzzing) import CofferCore
import CofferCrypto
import Foundation

let args = CommandLine.arguments
guard args.count == 4 else {
    FileHandle.standardError.write("usage: fuzz-corpus GOLDEN_DIR EXPORTS_DIR OUT_DIR\n".data(using: .utf8)!)
    exit(2)
}
let (golden, exports, out) = (args[1], args[2], args[3])
let fm = FileManager.default
var written = 0

@MainActor func write(_ target: String, _ name: String, _ bytes: [UInt8]) {
    let dir = out + "/" + target
    try! fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
    precondition(fm.createFile(atPath: dir + "/" + name, contents: Data(bytes)), "cannot write \(dir)/\(name)")
    written += 1
}

func files(_ dir: String) -> [String] { ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).filter { !$0.hasPrefix(".") }.sorted() }
func read(_ path: String) -> [UInt8] { [UInt8](fm.contents(atPath: path)!) }
func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
func le64(_ v: Int64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * Int64($0))) } }
func u32(_ b: [UInt8], _ at: Int) -> Int { (0..<4).reduce(0) { $0 | Int(b[at + $1]) << (8 * $1) } }
func str(_ s: String) -> [UInt8] { le32(s.utf8.count) + Array(s.utf8) }

let kinds: [(folder: String, kind: UInt8, target: String)] = [("index", 1, "index"), ("versions", 2, "version"), ("heads", 3, "head")]

for (vaultName, passphrase) in [("v1", "golden vault passphrase"), ("v1-archive", "golden archive passphrase"), ("v2", "golden v2 passphrase")] {
    let root = golden + "/" + vaultName
    let vault = try Array(passphrase.utf8).withUnsafeBytes { try Vault.open(at: root, passphrase: SecureBytes(copying: $0), state: nil) }
    let tag = "golden-\(vaultName)"
    for slot in files(root + "/keys") { write("keyslot", "\(tag)-\(slot.prefix(8))", read(root + "/keys/" + slot)) }
    let config = read(root + "/config")
    write("config", "\(tag)-config", Array(config.dropLast(32)))
    for (folder, kind, target) in kinds {
        for name in files(root + "/" + folder) {
            let path = folder + "/" + name
            let short = String(name.suffix(64).prefix(8))
            let body = try vault.fuzzingBody(path: path, kind: kind)
            write(target, "\(tag)-\(short)", body)
            write("meta-envelope", "\(tag)-\(target)-\(short)-file", FuzzingEntryPoints.sealMeta(body, kind: kind))
            write("meta-envelope", "\(tag)-\(target)-\(short)-plain", [0x10 | (kind - 1)] + (try vault.fuzzingMetaPlaintext(path: path, kind: kind)))
            if kind == 3 { write("head", "\(tag)-name-\(short)", Array(name.utf8)) }
        }
    }
    for (id, piece) in try vault.fuzzingTreePieces() { write("tree", "\(tag)-\(id.hex.prefix(8))", piece) }
    if vaultName == "v2" { for (id, layout) in try vault.fuzzingLayouts() { write("layout", "\(tag)-\(id.hex.prefix(8))", layout) } }
    for sub in files(root + "/packs") {
        for name in files(root + "/packs/" + sub) {
            let header = try vault.fuzzingPackHeaderPlaintext(path: "packs/\(sub)/\(name)")
            write("pack-header", "\(tag)-\(name.prefix(8))-plain", [0x40] + header)
            let env = FuzzingEntryPoints.sealPackHeader(header)
            let blobs = (0..<u32(header, 0)).reduce(0) { $0 + u32(header, 4 + 46 * $1 + 38) }
            write("pack-header", "\(tag)-\(name.prefix(8))-tail", [0x80] + le32(blobs) + env + le32(env.count))
        }
    }
}

write("tree", "every-kind", FuzzingEntryPoints.treeSeed())
write("keyslot", "test-key-unlockable", try FuzzingEntryPoints.keySlotSeed(host: "fuzz-host"))
let lock = [1] + str("fuzz-host") + le64(4242) + le64(1_700_000_000) + le64(1_700_000_300)
write("lock", "lock-body", lock)
write("meta-envelope", "lock-file", FuzzingEntryPoints.sealMeta(lock, kind: 4))
if let dictionary = FuzzingEntryPoints.dictionarySeed() { write("dictionary", "trained-csv", dictionary) }

// Zips and CSVs from the export generator, kept small: CSVs over 4 KB are cut at a line end.
func walk(_ dir: String) -> [String] {
    (fm.enumerator(atPath: dir)?.compactMap { $0 as? String } ?? []).sorted().map { dir + "/" + $0 }
}
for path in walk(exports) {
    let name = (path as NSString).lastPathComponent
    var isFolder: ObjCBool = false
    guard fm.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue else { continue }
    let bytes = read(path)
    if name.hasSuffix(".zip") {
        write("zip", "export-\(name)".replacingOccurrences(of: " ", with: "_"), bytes)
    } else if name.hasSuffix(".csv"), !path.contains("/._") {
        let folder = ((path as NSString).deletingLastPathComponent as NSString).lastPathComponent
        var cut = bytes
        if cut.count > 4096, let end = cut[..<4096].lastIndex(of: 0x0A) { cut = Array(cut[...end]) }
        write("csv", "export-\(folder)-\(name)".replacingOccurrences(of: " ", with: "_"), cut)
    }
}
print("wrote \(written) seed files to \(out)")
