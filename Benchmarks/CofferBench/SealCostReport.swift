import CofferCore
import CofferCrypto
import Foundation

/// `coffer-bench seal-cost --vault DIR [--before LIST]`: where the newest version's bytes went.
///
/// Prints, for the newest version against all earlier ones: each file or archive member that
/// added chunks (its size, chunks, new chunks, their plain and stored bytes, the stored size of
/// each), container bytes, layout and tree pieces. With `--before LIST` (the vault's files before
/// the seal, one `size path` a line as `find VAULT -type f -printf '%s %P\n'` writes), also the
/// vault files the seal added, by folder, and pack bytes besides blobs (padding blob, header).
/// Passphrase: $COFFER_PASSPHRASE.
enum SealCostReport {
    static func run(vaultPath: String, before: String?) {
        guard let p = ProcessInfo.processInfo.environment["COFFER_PASSPHRASE"], !p.isEmpty else {
            FileHandle.standardError.write(Data("seal-cost: set COFFER_PASSPHRASE\n".utf8)); exit(64)
        }
        let passphrase = Array(p.utf8).withUnsafeBytes { SecureBytes(copying: $0) }
        let cost: SealCost
        do {
            let vault = try Vault.open(at: vaultPath, passphrase: passphrase, state: nil)
            let versions = try vault.versions()
            guard let last = versions.last else {
                FileHandle.standardError.write(Data("seal-cost: \(vaultPath) has no version\n".utf8)); exit(1)
            }
            cost = try vault.sealCost(of: last.id, after: versions.dropLast().map(\.id))
        } catch {
            FileHandle.standardError.write(Data("seal-cost: \(error)\n".utf8)); exit(1)
        }
        print("| item | size | chunks | new chunks | new plain | new stored | new chunks, plain/stored |")
        print("|---|---:|---:|---:|---:|---:|---|")
        var chunkStored: UInt64 = 0
        var containerStored: UInt64 = 0
        var unchanged = 0
        for i in cost.items {
            chunkStored += i.newStored
            let name = String(decoding: i.path, as: UTF8.self)
            if name.hasSuffix("!(container)") { containerStored += i.newStored }
            guard i.newChunks > 0 else { unchanged += 1; continue }
            let short = name.split(separator: "!").last.map(String.init) ?? name
            print("| \(short) | \(i.size) | \(i.chunks) | \(i.newChunks) | \(i.newPlain) | \(i.newStored) | \(i.newChunkSizes.map { "\($0.plain)/\($0.stored)" }.joined(separator: " ")) |")
        }
        print("")
        print("- \(unchanged) files or parts added nothing; new data chunks: \(cost.items.reduce(0) { $0 + $1.newChunks }), \(chunkStored) B stored (container bytes \(containerStored) B of it)")
        print("- layout pieces: \(cost.layouts.newCount) new of \(cost.layouts.count), \(cost.layouts.newPlain) B plain, \(cost.layouts.newStored) B stored")
        print("- tree pieces: \(cost.trees.newCount) new of \(cost.trees.count), \(cost.trees.newPlain) B plain, \(cost.trees.newStored) B stored")
        if cost.missing > 0 { print("- \(cost.missing) blobs not in the index") }
        guard let before else { return }
        // Vault files: what the seal added, by top folder.
        func listing(_ text: String) -> [String: Int] {
            var out: [String: Int] = [:]
            for line in text.split(separator: "\n") {
                guard let space = line.firstIndex(of: " "), let size = Int(line[..<space]) else { continue }
                out[String(line[line.index(after: space)...])] = size
            }
            return out
        }
        guard let old = try? String(contentsOfFile: before, encoding: .utf8) else {
            FileHandle.standardError.write(Data("seal-cost: cannot read \(before)\n".utf8)); exit(1)
        }
        let oldFiles = listing(old)
        var now: [String: Int] = [:]
        let root = URL(fileURLWithPath: vaultPath)
        if let e = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.fileSizeKey, .isRegularFileKey]) {
            for case let url as URL in e {
                guard let v = try? url.resourceValues(forKeys: [.fileSizeKey, .isRegularFileKey]), v.isRegularFile == true else { continue }
                let rel = String(url.path.dropFirst(root.path.count + 1))
                now[rel] = v.fileSize ?? 0
            }
        }
        var byFolder: [String: (Int, Int)] = [:]
        var total = 0
        for (path, size) in now where oldFiles[path] != size {
            let folder = path.split(separator: "/").first.map(String.init) ?? path
            byFolder[folder, default: (0, 0)].0 += 1
            byFolder[folder, default: (0, 0)].1 += size - (oldFiles[path] ?? 0)
            total += size - (oldFiles[path] ?? 0)
        }
        for (path, size) in oldFiles where now[path] == nil {
            let folder = path.split(separator: "/").first.map(String.init) ?? path
            byFolder[folder, default: (0, 0)].1 -= size
            total -= size
        }
        print("- vault files added: \(total) B in all; " + byFolder.keys.sorted().map { "\($0): \(byFolder[$0]!.0) files, \(byFolder[$0]!.1) B" }.joined(separator: "; "))
        let blobs = Int(chunkStored + cost.layouts.newStored + cost.trees.newStored)
        if let packs = byFolder["packs"] {
            print("- packs: \(packs.1) B, of which blobs \(blobs) B, padding blob and header \(packs.1 - blobs) B")
        }
    }
}
