import CofferCore
import CofferCrypto
import Foundation

/// `coffer-bench trees --dir DIR [--files N] [--folders F]`: seals a tree of N small files in F
/// folders into a format-1 and a format-2 vault, then re-seals it unchanged and with one file
/// changed, and prints each seal's time and what each re-seal added to the vault.
enum TreeSealBench {
    static func run(dir: String, files: Int, folders: Int) {
        let fm = FileManager.default
        try? fm.removeItem(atPath: dir)
        let tree = dir + "/tree"
        for i in 0..<files {
            let folder = tree + "/folder-\(i % folders)"
            if i < folders { try! fm.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            let text = "row \(i),value \(i &* 2654435761 % 1000003),some text for file \(i)\n"
            fm.createFile(atPath: folder + "/file-\(i).csv", contents: Data(String(repeating: text, count: 3).utf8))
        }
        print("tree: \(files) files in \(folders) folders")
        print("format  seal(s)  unchanged(s)  +bytes  +files  one-change(s)  +bytes  +files  tree pieces added (bytes)")
        for format in [1, 2] {
            let pass = Array("bench".utf8).withUnsafeBytes { SecureBytes(copying: $0) }
            var options = VaultOptions()
            options.kdf = .insecureTestOnly
            let path = dir + "/vault\(format)"
            do {
                let vault = try Vault.create(at: path, passphrase: pass, options: options, state: nil, format: format)
                func timed(_ body: () throws -> SealResult) throws -> (Double, SealResult) {
                    let t = Date()
                    let r = try body()
                    return (Date().timeIntervalSince(t), r)
                }
                let (t0, _) = try timed { try vault.seal([tree]) }
                let u0 = try vault.storageUsage()
                let (t1, _) = try timed { try vault.seal([tree]) }
                let u1 = try vault.storageUsage()
                let i = files / 2
                let changed = tree + "/folder-\(i % folders)/file-\(i).csv"
                fm.createFile(atPath: changed, contents: Data("changed \(Date())\n".utf8))
                let (t2, r2) = try timed { try vault.seal([tree]) }
                let u2 = try vault.storageUsage()
                print(String(
                    format: "%6d  %7.2f  %12.2f  %6d  %6d  %13.2f  %6d  %6d  %d (%d)", format, t0, t1, Int(u1.bytes) - Int(u0.bytes), u1.files - u0.files, t2,
                    Int(u2.bytes) - Int(u1.bytes), u2.files - u1.files, Int(r2.version.stats.addedTreePieces), Int(r2.version.stats.addedTreePlainBytes)))
                // Put the file back for the other format's run.
                try? fm.removeItem(atPath: changed)
                let text = "row \(i),value \(i &* 2654435761 % 1000003),some text for file \(i)\n"
                fm.createFile(atPath: changed, contents: Data(String(repeating: text, count: 3).utf8))
            } catch {
                print("format \(format): \(error)")
            }
        }
    }
}
