import CofferCore
import CofferCrypto
import Foundation

/// `coffer-bench breakdown --vault DIR`: where a vault's bytes go (blob payloads by kind, the
/// 40-byte envelopes, pack headers, padding per pack, and the metadata files), to compare with
/// another tool's repository. Passphrase: $COFFER_PASSPHRASE.
enum Breakdown {
    static func run(vault path: String) {
        guard let p = ProcessInfo.processInfo.environment["COFFER_PASSPHRASE"], !p.isEmpty else {
            FileHandle.standardError.write(Data("breakdown: set COFFER_PASSPHRASE\n".utf8)); exit(64)
        }
        let passphrase = Array(p.utf8).withUnsafeBytes { SecureBytes(copying: $0) }
        do {
            let vault = try Vault.open(at: path, passphrase: passphrase, state: nil)
            let b = try vault.packBreakdown()
            print("kind\tblobs\tplain\tpayload\tenvelopes")
            var blobs = 0, payload = 0
            for (k, v) in b.kinds.sorted(by: { $0.key < $1.key }) {
                print("\(k)\t\(v.blobs)\t\(v.plainBytes)\t\(v.payloadBytes)\t\(v.envelopeBytes)")
                blobs += v.blobs
                payload += v.payloadBytes
            }
            print("all blobs\t\(blobs)\t\t\(payload)\t\(40 * blobs) (envelope overhead)")
            print("pack\tsize\tentries\theader env\tpadding env")
            var size = 0, headers = 0, padding = 0
            for pk in b.packs {
                print("\(pk.id.short)\t\(pk.size)\t\(pk.entries)\t\(pk.headerEnvelope)\t\(pk.paddingEnvelope)")
                size += pk.size; headers += pk.headerEnvelope + 4; padding += pk.paddingEnvelope
            }
            print("packs\t\(size)\t\(b.packs.count)\t\(headers) (headers + length)\t\(padding) (padding blobs)")
            let usage = try vault.storageUsage()
            print("vault\t\(usage.bytes)\tother files\t\(Int(usage.bytes) - size)")
        } catch {
            FileHandle.standardError.write(Data("breakdown: \(error)\n".utf8)); exit(1)
        }
    }
}
