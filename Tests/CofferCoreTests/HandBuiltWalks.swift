@testable import CofferCore
import Foundation

/// Walks that tests build by hand: entries a format-1 version cannot hold (raw-byte names, hard
/// links, named pipes, devices, holes) and listings too large to keep, generated as they are pulled.
final class ListSource: VersionWalker.Source {
    private let entries: [VersionEntry]
    private var position = 0

    /// `entries` in walk order.
    init(_ entries: [VersionEntry]) { self.entries = entries }

    func next() throws -> VersionEntry? {
        guard position < entries.count else { return nil }
        position += 1
        return entries[position - 1]
    }

    func skipChildren() {
        guard position > 0 else { return }
        let folder = entries[position - 1].pathBytes
        while position < entries.count, ListedEntries.isBelow(entries[position].pathBytes, folder) { position += 1 }
    }
}

/// `root/dNNN/fNNNNN`: `folders` folders of `files` empty files each, made as they are pulled.
/// `pulled` counts the entries returned; `onPull` sees each one as it goes.
final class GeneratedSource: VersionWalker.Source {
    let root: String
    let folders: Int
    let files: Int
    private var folder = -1
    private var file = -1
    private var started = false
    private(set) var pulled = 0
    var onPull: ((Int, VersionEntry) -> Void)?

    init(root: String = "big", folders: Int, files: Int) {
        self.root = root
        self.folders = folders
        self.files = files
    }

    static let emptySHA256 = Array(SHA256Hex.empty)

    static func folderName(_ d: Int) -> String { "d" + padded(d, 3) }
    static func fileName(_ f: Int) -> String { "f" + padded(f, 5) }
    private static func padded(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    func next() throws -> VersionEntry? {
        let e: VersionEntry
        if !started {
            started = true
            e = .folder(root)
        } else if folder >= 0 && file + 1 < files {
            file += 1
            e = VersionEntry(
                type: .file, path: "\(root)/\(Self.folderName(folder))/\(Self.fileName(file))", mode: 0o644, mtimeSeconds: 1_700_000_000,
                mtimeNanoseconds: 0, size: 0, sha256: Self.emptySHA256)
        } else if folder + 1 < folders {
            folder += 1
            file = -1
            e = .folder("\(root)/\(Self.folderName(folder))")
        } else {
            return nil
        }
        pulled += 1
        onPull?(pulled, e)
        return e
    }

    func skipChildren() { file = files }
}

/// The SHA-256 of no bytes.
enum SHA256Hex {
    static let empty: [UInt8] = [
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
        0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
    ]
}

extension VersionWalker {
    /// A walker over a hand-built source (archives have their layouts inline).
    static func handBuilt(_ source: VersionWalker.Source, expandArchives: Bool = false) -> VersionWalker {
        VersionWalker(source: source, expandArchives: expandArchives) { $0.archive }
    }
}

extension VersionEntry {
    /// An entry named by raw bytes.
    static func raw(_ type: EntryType, _ path: [UInt8], mode: UInt32 = 0o644, size: UInt64 = 0) -> VersionEntry {
        VersionEntry(type: type, pathBytes: path, mode: mode, mtimeSeconds: 1_700_000_000, mtimeNanoseconds: 0, size: size)
    }
}
