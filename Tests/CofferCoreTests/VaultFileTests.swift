@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

@Suite struct VaultFileTests {
    static let id = ObjectID.hashing(Array("a vault file".utf8))
    static let hex = id.hex

    @Test("every kind of vault file has today's path, and the path parses back to it")
    func pathsAndRoundTrip() throws {
        let h = Self.hex
        let lock = String(repeating: "0123456789abcdef", count: 2)
        let cases: [(VaultFile, String)] = [
            (.config, "config"),
            (.keySlot(h), "keys/" + h),
            (.pack(Self.id), "packs/" + h.prefix(2) + "/" + h),
            (.index(Self.id), "index/" + h),
            (.version(Self.id), "versions/" + h),
            (.head(generation: 1, id: Self.id), "heads/0000000000000001-" + h),
            (.head(generation: UInt64.max, id: Self.id), "heads/ffffffffffffffff-" + h),
            (.lock(lock), "locks/" + lock),
        ]
        for (file, path) in cases {
            #expect(file.path == path)
            #expect(VaultFile(path: path) == file, "\(path)")
        }
        #expect(VaultFile.keySlot(h).contentID == Self.id)
        #expect(VaultFile.head(generation: 7, id: Self.id).contentID == Self.id)
        #expect(VaultFile.config.contentID == nil && VaultFile.lock(lock).contentID == nil)
        #expect(VaultFile.pack(Self.id).folder == .packs && VaultFile.config.folder == nil)
    }

    @Test("names the format does not allow are not vault files")
    func refusedNames() throws {
        let h: String = Self.hex
        let upper: String = h.uppercased()
        let p2: String = String(h.prefix(2))
        let gen1: String = "heads/0000000000000001-"
        var refused: [String] = ["", "config/", "/config", "Config", "config ", "./config", "keys", "keys/", "keys/" + h + "/"]
        refused += ["keys/" + upper, "keys/" + String(h.dropLast()), "keys/" + h + "0", "keys/x" + String(h.dropFirst())]
        refused += ["index/" + upper, "versions/" + String(h.prefix(63)) + "G", "versions//" + h, "versions/../" + h]
        refused += ["packs/" + h, "packs/" + p2 + "/" + upper, "packs/" + p2.uppercased() + "/" + h]
        refused += ["packs/zz/" + h, "packs/" + p2 + "/" + p2 + "/" + h, "packs/" + p2 + "/" + h + "/"]
        refused += ["heads/" + h, "heads/1-" + h, "heads/000000000000000A-" + h, gen1 + upper]
        refused += [gen1 + h + "-x", "heads/+000000000000001-" + h, "heads/0000000000000001_" + h]
        refused += ["locks/" + String(repeating: "a", count: 31), "locks/" + String(repeating: "A", count: 32)]
        refused += ["locks/" + String(repeating: "a", count: 33), "locks/" + String(repeating: "g", count: 32)]
        refused += ["Keys/" + h, "notes.txt", ".tmp-config-1234", "keys/.tmp-" + h + "-ab12", "index/" + h + ".conflicted"]
        // Fullwidth digits are hex digits to Character, not to the format.
        refused += ["keys/" + String(h.dropLast()) + "\u{FF10}", "locks/" + String(repeating: "\u{FF10}", count: 32)]
        for path in refused { #expect(VaultFile(path: path) == nil, "\(path)") }
    }

    @Test("head names parse as Head.parseFileName does")
    func headNamesAgreeWithTheHeadGrammar() throws {
        for name in ["0000000000000001-" + Self.hex, "0000000000000000-" + Self.hex, "00000000000000ff-" + Self.hex, "1-" + Self.hex] {
            let parsed = Head.parseFileName(name)
            let file = VaultFile(path: "heads/" + name)
            #expect(parsed.map { VaultFile.head(generation: $0.generation, id: $0.id) } == file, "\(name)")
        }
    }

    @Test("the folders are named by bytes")
    func folderNames() {
        #expect(VaultFolder(name: Array("packs".utf8)) == .packs)
        #expect(VaultFolder(name: Array("Packs".utf8)) == nil)
        #expect(VaultFolder(name: Array("pack".utf8)) == nil)
        #expect(VaultFolder.data == [.keys, .packs, .dicts, .index, .versions, .heads])
        #expect(VaultFolder(name: Array("dicts".utf8)) == .dicts)
    }
}

@Suite struct NotFoundTests {
    @Test("the local backend reports a missing file as notFound, whatever the read")
    func localBackendThrowsNotFound() throws {
        let root = T.scratch("nf")
        let b = LocalBackend(root: root)
        let path = VaultFile.version(VaultFileTests.id).path
        let isNotFound: (Error) -> Bool = { e in
            guard case CofferError.notFound(let p) = e else { return false }
            return p == path
        }
        #expect { _ = try b.read(path) } throws: { isNotFound($0) }
        #expect { _ = try b.read(path, offset: 0, length: 1) } throws: { isNotFound($0) }
        #expect { _ = try b.openRandomAccess(path) } throws: { isNotFound($0) }
        #expect(try b.size(path) == nil)
    }

    @Test("a missing version file or pack is still the integrity error 'missing' at the vault layer")
    func vaultLayerKeepsTheMissingWording() throws {
        let f = try T.vault()
        let input = f.root + "/in.txt"
        T.write(input, T.bytes(5000, seed: 3))
        let r = try f.vault.seal([input])
        let pack = try #require(f.vault.index.packs.first)

        let packPath = f.path + "/" + VaultFile.pack(pack).path
        chmod(Paths.parent(packPath), 0o700)
        #expect(unlink(packPath) == 0)
        #expect {
            _ = try f.vault.packReader(pack)
        } throws: { e in
            guard case CofferError.integrity(let object, let reason) = e else { return false }
            return object == VaultFile.pack(pack).path && reason == "missing"
        }

        let versionPath = f.path + "/" + VaultFile.version(r.id).path
        chmod(Paths.parent(versionPath), 0o700)
        #expect(unlink(versionPath) == 0)
        let reopened = try f.reopen()
        #expect {
            _ = try reopened.version(r.id)
        } throws: { e in
            guard case CofferError.integrity(let object, let reason) = e else { return false }
            return object == "versions/" + r.id.hex && reason == "missing" && "\(e)" == "integrity error in versions/\(r.id.hex): missing"
        }
    }

    @Test("notFound reads as a missing vault file")
    func description() {
        #expect(CofferError.notFound(path: "config").description == CofferError.integrity(object: "config", reason: "missing").description)
        #expect(CofferError.notFound(path: "config").missingAsIntegrity.description == "integrity error in config: missing")
    }
}

/// "Is this a vault": the same answer for a folder whichever entry point asks, and through a
/// backend that is not a local folder.
@Suite struct IdentifyTests {
    /// What each entry point says about `path`: probe(at:), open(at:), and open(backend:) through a
    /// wrapper (the code path of remotes and other backends).
    func answers(_ path: String) -> [String] {
        func outcome(_ body: () throws -> Void) -> String {
            do { try body(); return "ok" } catch let e as CofferError {
                switch e {
                case .noVault(let p): return "noVault \(p)"
                case .notAVault(let p, let r): return "notAVault \(p): \(r)"
                case .integrity(let o, let r): return "integrity \(o): \(r)"
                case .wrongPassphrase: return "wrongPassphrase"
                default: return "\(e)"
                }
            } catch { return "\(error)" }
        }
        return [
            outcome { try Vault.probe(at: path) },
            outcome { _ = try Vault.open(at: path, passphrase: T.secret("pw"), state: nil) },
            outcome { _ = try Vault.open(backend: ProbeBackend(LocalBackend(root: path)), passphrase: T.secret("pw"), state: nil) },
        ]
    }

    @Test("every entry point gives one answer per kind of location")
    func oneAnswer() throws {
        let root = T.scratch("id")
        let f = try T.vault()
        let slot = try #require(try f.vault.backend.list(.keys).first)
        let slotBytes = try f.vault.backend.read(.keySlot(slot))

        T.write(root + "/photos/cat.jpg", [1, 2, 3])
        T.write(root + "/file", [1])
        T.write(root + "/fake/config", Array("not a config at all".utf8))
        T.write(root + "/big/config", [UInt8](repeating: 0, count: Vault.maximumConfigSize + 1))
        T.write(root + "/slots/keys/" + slot, slotBytes)
        T.write(root + "/damaged/keys/" + slot, slotBytes)
        T.write(root + "/damaged/config", Array("not a config at all".utf8))
        try FileManager.default.createDirectory(atPath: root + "/empty", withIntermediateDirectories: true)

        let expected: [(String, String)] = [
            ("nothing", "noVault \(root)/nothing"),
            ("empty", "noVault \(root)/empty"),
            ("photos", "notAVault \(root)/photos: it has no config file"),
            ("fake", "notAVault \(root)/fake: its config file is not a Coffer config"),
            ("big", "notAVault \(root)/big: its config file is not a Coffer config"),
            ("slots", "integrity config: missing (the vault has key slots but no config)"),
            ("damaged", "integrity config: not a valid config (damaged)"),
        ]
        for (name, answer) in expected {
            #expect(answers(root + "/" + name) == [answer, answer, answer], "\(name)")
        }
        // A file is not a folder (a wrapper backend cannot tell; it finds no config in it).
        #expect(Array(answers(root + "/file").prefix(2)) == Array(repeating: "notAVault \(root)/file: it is a file, not a folder", count: 2))
        // A vault probes, and opens with its passphrase through every entry point.
        #expect(answers(f.path) == ["ok", "ok", "ok"])
    }

    @Test("an rclone remote gets the answers a folder gets")
    func remoteAnswersAsAFolder() throws {
        guard S.rclone != nil else {
            Issue.record("rclone is not installed (apt-get install rclone); rclone tests not run")
            return
        }
        let root = T.scratch("idr")
        let f = try T.vault()
        let slot = try #require(try f.vault.backend.list(.keys).first)
        let slotBytes = try f.vault.backend.read(.keySlot(slot))
        T.write(root + "/photos/cat.jpg", [1, 2, 3])
        T.write(root + "/fake/config", Array("not a config at all".utf8))
        T.write(root + "/slots/keys/" + slot, slotBytes)
        T.write(root + "/damaged/keys/" + slot, slotBytes)
        T.write(root + "/damaged/config", Array("not a config at all".utf8))
        try FileManager.default.createDirectory(atPath: root + "/empty", withIntermediateDirectories: true)
        func outcome(_ body: () throws -> Void) -> String {
            do { try body(); return "ok" } catch { return "\(error)" }
        }
        for path in [root + "/nothing", root + "/empty", root + "/photos", root + "/fake", root + "/slots", root + "/damaged", f.path] {
            let remote = RcloneBackend(remote: ":local:" + path)
            let folder = outcome { try Vault.probe(at: path) }
            let viaRclone = outcome { try Vault.probe(backend: remote) }.replacingOccurrences(of: remote.location, with: path)
            #expect(viaRclone == folder, "\(path)")
        }
        let opened = try Vault.open(backend: RcloneBackend(remote: ":local:" + f.path), passphrase: T.secret("pw"), state: nil)
        #expect(opened.vaultID == f.vault.vaultID)
    }

    @Test("a config of format 0 is refused before a passphrase is asked")
    func formatZero() throws {
        let f = try T.vault()
        var c = f.vault.config
        c.format = 0
        let path = f.path + "/config"
        chmod(path, 0o600)
        T.write(path, c.encode(macKey: f.vault.keys.config), mode: 0o400)
        #expect(answers(f.path) == Array(repeating: "integrity config: format version 0", count: 3))
    }
}
