import CofferCrypto

/// The master key and the subkeys derived from it with `crypto_kdf_derive_from_key`.
///
/// | id | context    | use |
/// |----|------------|-----|
/// | 1  | `CfrChkID` | keyed BLAKE2b-256 chunk ids |
/// | 2  | `CfrDataE` | chunk (blob) encryption |
/// | 3  | `CfrMetaE` | pack headers, index, versions, heads |
/// | 4  | `CfrCdcK1` | chunker secret (seed of the gear table) |
/// | 5  | `CfrConfM` | MAC of the plaintext `config` file |
/// | 6  | `CfrTreID` | keyed BLAKE2b-256 ids of tree and layout pieces (format 2), and the tree split rule |
public final class VaultKeys: Sendable {
    let master: SecureBytes
    let chunkID: SecureBytes
    let data: SecureBytes
    let meta: SecureBytes
    let chunker: SecureBytes
    let config: SecureBytes
    /// K_tree: ids of tree and layout pieces, a domain apart from chunk ids.
    let tree: SecureBytes

    init(master: SecureBytes) {
        self.master = master
        chunkID = SubkeyDerivation.derive(from: master, id: 1, context: "CfrChkID")
        data = SubkeyDerivation.derive(from: master, id: 2, context: "CfrDataE")
        meta = SubkeyDerivation.derive(from: master, id: 3, context: "CfrMetaE")
        chunker = SubkeyDerivation.derive(from: master, id: 4, context: "CfrCdcK1")
        config = SubkeyDerivation.derive(from: master, id: 5, context: "CfrConfM")
        tree = SubkeyDerivation.derive(from: master, id: 6, context: "CfrTreID")
    }

    /// Keyed BLAKE2b-256 of a chunk's plaintext.
    func chunkID(of plaintext: UnsafeRawBufferPointer) -> ObjectID {
        var out = ObjectID.zero
        withUnsafeMutableBytes(of: &out) { Blake2b.hash(plaintext, key: chunkID, into: $0) }
        return out
    }

    /// Keyed BLAKE2b-256 (K_tree) of a tree or layout piece's plaintext.
    func treeID(of plaintext: UnsafeRawBufferPointer) -> ObjectID {
        var out = ObjectID.zero
        withUnsafeMutableBytes(of: &out) { Blake2b.hash(plaintext, key: tree, into: $0) }
        return out
    }

    func treeID(of plaintext: [UInt8]) -> ObjectID { plaintext.withUnsafeBytes { treeID(of: $0) } }

    /// The id a blob of `type` with this plaintext has: K_chunk for data, K_tree for tree and layout pieces.
    func blobID(of plaintext: UnsafeRawBufferPointer, type: BlobType) -> ObjectID {
        type == .data ? chunkID(of: plaintext) : treeID(of: plaintext)
    }
}
