/// One file of a vault, by what it is (Docs/FORMAT.md, "Layout"):
///
/// ```
/// config
/// keys/<id>
/// packs/<xx>/<id>          <xx> = the first two hex digits of <id>
/// dicts/<id>              format 2: zstd dictionaries
/// index/<id>
/// versions/<id>
/// heads/<gen16hex>-<id>
/// locks/<random 32 hex>
/// ```
///
/// `<id>` is 64 lowercase hex digits. ``path`` builds the file's relative path in the vault and
/// ``init(path:)`` parses one: it accepts exactly these names and nothing else (another spelling
/// of a name, such as uppercase hex, is not a vault file). Names are compared as bytes.
public enum VaultFile: Hashable, Sendable {
    case config
    /// A key slot, by its name (the hex hash of its content in a sound vault; a listed name that
    /// is not one can still be addressed, to be read and refused).
    case keySlot(String)
    case pack(ObjectID)
    /// A zstd dictionary (format 2), by the hash of its file.
    case dictionary(ObjectID)
    case index(ObjectID)
    case version(ObjectID)
    case head(generation: UInt64, id: ObjectID)
    /// A writer lock, by its random name (32 lowercase hex digits when written by coffer).
    case lock(String)

    /// The file's path relative to the vault root.
    public var path: String {
        switch self {
        case .config: return "config"
        case .keySlot(let name): return VaultFolder.keys.rawValue + "/" + name
        case .pack(let id):
            let h = id.hex
            return VaultFolder.packs.rawValue + "/" + h.prefix(2) + "/" + h
        case .dictionary(let id): return VaultFolder.dicts.rawValue + "/" + id.hex
        case .index(let id): return VaultFolder.index.rawValue + "/" + id.hex
        case .version(let id): return VaultFolder.versions.rawValue + "/" + id.hex
        case .head(let g, let id): return VaultFolder.heads.rawValue + "/" + Head.fileName(generation: g, id: id)
        case .lock(let name): return VaultFolder.locks.rawValue + "/" + name
        }
    }

    /// The folder the file is in; nil for `config`.
    public var folder: VaultFolder? {
        switch self {
        case .config: return nil
        case .keySlot: return .keys
        case .pack: return .packs
        case .dictionary: return .dicts
        case .index: return .index
        case .version: return .versions
        case .head: return .heads
        case .lock: return .locks
        }
    }

    /// The id the file's content must hash to: every file but `config` and locks is named by the
    /// BLAKE2b-256 of its bytes.
    public var contentID: ObjectID? {
        switch self {
        case .config, .lock: return nil
        case .keySlot(let name): return Self.lowercaseID(Array(name.utf8))
        case .pack(let id), .dictionary(let id), .index(let id), .version(let id), .head(_, let id): return id
        }
    }

    /// The file at `path` (relative to the vault root), or nil when `path` is not exactly a vault
    /// file name: `config`, `keys/<id>`, `packs/<xx>/<id>` with `<xx>` the first two digits of
    /// `<id>`, `dicts/<id>`, `index/<id>`, `versions/<id>`, `heads/<gen16hex>-<id>` (the grammar of
    /// `Head.parseFileName`) or `locks/<32 hex>`, all lowercase hex.
    public init?(path: String) {
        let bytes = Array(path.utf8)
        if bytes == Array("config".utf8) { self = .config; return }
        let parts = bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, let folder = VaultFolder(name: parts[0]) else { return nil }
        let name = Array(parts[parts.count - 1])
        switch (folder, parts.count) {
        case (.keys, 2):
            guard Self.lowercaseID(name) != nil else { return nil }
            self = .keySlot(String(decoding: name, as: UTF8.self))
        case (.dicts, 2):
            guard let id = Self.lowercaseID(name) else { return nil }
            self = .dictionary(id)
        case (.index, 2):
            guard let id = Self.lowercaseID(name) else { return nil }
            self = .index(id)
        case (.versions, 2):
            guard let id = Self.lowercaseID(name) else { return nil }
            self = .version(id)
        case (.heads, 2):
            guard let h = Head.parseFileName(String(decoding: name, as: UTF8.self)) else { return nil }
            self = .head(generation: h.generation, id: h.id)
        case (.packs, 3):
            guard let id = Self.lowercaseID(name), Array(parts[1]) == Array(name.prefix(2)) else { return nil }
            self = .pack(id)
        case (.locks, 2):
            guard name.count == 32, name.allSatisfy(Hex.isLowercaseDigit) else { return nil }
            self = .lock(String(decoding: name, as: UTF8.self))
        default:
            return nil
        }
    }

    /// The id spelled by exactly 64 lowercase hex digits, else nil.
    static func lowercaseID(_ name: [UInt8]) -> ObjectID? {
        guard name.count == 64, name.allSatisfy(Hex.isLowercaseDigit) else { return nil }
        return ObjectID(hex: String(decoding: name, as: UTF8.self))
    }
}

/// The folders of a vault.
public enum VaultFolder: String, CaseIterable, Sendable {
    case keys, packs, dicts, index, versions, heads, locks

    /// The folders whose files make up the vault's data, in sync's copy order; `locks/` holds
    /// no data and is neither listed nor copied by sync. `dicts/` exists in format-2 vaults only
    /// (a missing folder lists as empty).
    public static let data: [VaultFolder] = [.keys, .packs, .dicts, .index, .versions, .heads]

    /// The folder named exactly `name` (compared as bytes), or nil.
    public init?(name: some Collection<UInt8>) {
        guard let f = Self.allCases.first(where: { $0.rawValue.utf8.elementsEqual(name) }) else { return nil }
        self = f
    }
}

extension Backend {
    /// ``Backend/read(_:)`` of a vault file.
    public func read(_ file: VaultFile) throws -> [UInt8] { try read(file.path) }
    /// ``Backend/write(_:_:)`` of a vault file.
    public func write(_ file: VaultFile, _ bytes: [UInt8]) throws { try write(file.path, bytes) }
    /// ``Backend/write(_:parts:)`` of a vault file.
    public func write(_ file: VaultFile, parts: [UnsafeRawBufferPointer]) throws { try write(file.path, parts: parts) }
    /// ``Backend/size(_:)`` of a vault file.
    public func size(_ file: VaultFile) throws -> Int? { try size(file.path) }
    /// ``Backend/remove(_:)`` of a vault file.
    public func remove(_ file: VaultFile) throws { try remove(file.path) }
    /// ``Backend/openRandomAccess(_:)`` of a vault file.
    public func openRandomAccess(_ file: VaultFile) throws -> RandomAccessFile { try openRandomAccess(file.path) }
    /// ``Backend/list(_:)`` of a vault folder.
    public func list(_ folder: VaultFolder) throws -> [String] { try list(folder.rawValue) }
    /// The vault files listed in `folder` whose names are well formed (``VaultFile/init(path:)``);
    /// other names (strays) are left out.
    public func files(in folder: VaultFolder) throws -> [VaultFile] {
        try list(folder).compactMap { VaultFile(path: folder.rawValue + "/" + $0) }
    }
    /// The ids of the well-formed files listed in `folder` (see ``files(in:)``).
    public func ids(in folder: VaultFolder) throws -> [ObjectID] { try files(in: folder).compactMap(\.contentID) }
}
