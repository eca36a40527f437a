import CofferCrypto
import Testing

private func secret(_ s: String) -> SecureBytes {
    Array(s.utf8).withUnsafeBytes { SecureBytes(copying: $0) }
}

private func hex(_ b: [UInt8]) -> String { b.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }

@Suite struct AEADTests {
    @Test func roundTrip() throws {
        let key = SecureBytes.random(count: 32)
        let msg = Array("the only copy the person owns".utf8)
        let env = AEAD.seal(msg, ad: [1, 2, 3], key: key)
        #expect(env.count == msg.count + AEAD.overhead)
        #expect(try AEAD.open(env, ad: [1, 2, 3], key: key) == msg)
    }

    @Test func emptyPlaintext() throws {
        let key = SecureBytes.random(count: 32)
        let env = AEAD.seal([], ad: [], key: key)
        #expect(env.count == 40)
        #expect(try AEAD.open(env, ad: [], key: key) == [])
    }

    @Test func everyFlippedByteIsRejected() {
        let key = SecureBytes.random(count: 32)
        let env = AEAD.seal(Array(0..<100), ad: Array("ad".utf8), key: key)
        for i in env.indices {
            var bad = env
            bad[i] ^= 0x01
            #expect(throws: CryptoError.authenticationFailed) { try AEAD.open(bad, ad: Array("ad".utf8), key: key) }
        }
    }

    @Test func wrongAssociatedDataOrKeyIsRejected() {
        let key = SecureBytes.random(count: 32)
        let env = AEAD.seal([9, 9, 9], ad: [1], key: key)
        #expect(throws: CryptoError.authenticationFailed) { try AEAD.open(env, ad: [2], key: key) }
        #expect(throws: CryptoError.authenticationFailed) { try AEAD.open(env, ad: [1], key: SecureBytes.random(count: 32)) }
        #expect(throws: CryptoError.self) { try AEAD.open(Array(env.prefix(39)), ad: [1], key: key) }
    }

    @Test func noncesAreFresh() {
        let key = SecureBytes.random(count: 32)
        let a = AEAD.seal([1, 2, 3], ad: [], key: key)
        let b = AEAD.seal([1, 2, 3], ad: [], key: key)
        #expect(a.prefix(24) != b.prefix(24))
        #expect(a != b)
    }
}

@Suite struct HashTests {
    @Test func blake2bKnownAnswer() {
        // BLAKE2b-256("abc"), RFC 7693 family test value.
        #expect(hex(Blake2b.hash(Array("abc".utf8))) == "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319")
    }

    @Test func keyedHashDependsOnKey() {
        let data = Array("Connections.csv".utf8)
        let k1 = SecureBytes.random(count: 32), k2 = SecureBytes.random(count: 32)
        #expect(Blake2b.hash(data, key: k1) != Blake2b.hash(data, key: k2))
        #expect(Blake2b.hash(data, key: k1) == Blake2b.hash(data, key: k1))
        #expect(Blake2b.hash(data, key: k1) != Blake2b.hash(data))
    }

    @Test func sha256KnownAnswersAndIncremental() {
        #expect(hex(SHA256.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex(SHA256.hash([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let data = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let h = SHA256()
        h.update(Array(data[0..<1]))
        h.update(Array(data[1..<65_537]))
        h.update(Array(data[65_537...]))
        #expect(h.finalize() == SHA256.hash(data))
    }
}

@Suite struct KeyTests {
    @Test func subkeysAreDistinctAndDeterministic() {
        let master = SecureBytes.random(count: 32)
        let a = SubkeyDerivation.derive(from: master, id: 1, context: "CfrChkID")
        let b = SubkeyDerivation.derive(from: master, id: 2, context: "CfrDataE")
        let a2 = SubkeyDerivation.derive(from: master, id: 1, context: "CfrChkID")
        let c = SubkeyDerivation.derive(from: master, id: 1, context: "CfrDataE")
        #expect(a.constantTimeEquals(a2))
        #expect(!a.constantTimeEquals(b))
        #expect(!a.constantTimeEquals(c))
    }

    @Test func wrapAndUnwrap() throws {
        let master = SecureBytes.random(count: 32)
        let salt = Sodium.randomBytes(count: PasswordHash.saltBytes)
        let w = try KeyWrap.wrap(masterKey: master, passphrase: secret("correct horse"), parameters: .insecureTestOnly, salt: salt, ad: [7])
        let back = try KeyWrap.unwrap(w, passphrase: secret("correct horse"), parameters: .insecureTestOnly, ad: [7])
        #expect(back.constantTimeEquals(master))
    }

    @Test func wrongPassphraseIsReportedBeforeDecrypting() throws {
        let master = SecureBytes.random(count: 32)
        let salt = Sodium.randomBytes(count: PasswordHash.saltBytes)
        let w = try KeyWrap.wrap(masterKey: master, passphrase: secret("right"), parameters: .insecureTestOnly, salt: salt, ad: [])
        #expect(throws: CryptoError.wrongPassphrase) {
            try KeyWrap.unwrap(w, passphrase: secret("wrong"), parameters: .insecureTestOnly, ad: [])
        }
        // Right passphrase, altered associated data: the commitment holds, the AEAD does not.
        #expect(throws: CryptoError.authenticationFailed) {
            try KeyWrap.unwrap(w, passphrase: secret("right"), parameters: .insecureTestOnly, ad: [1])
        }
    }

    @Test func hostileParametersAreRefusedBeforeAllocating() {
        let huge = KDFParameters(opsLimit: 3, memLimit: 64 << 30)
        #expect(throws: CryptoError.self) {
            try PasswordHash.deriveKey(passphrase: secret("x"), salt: [UInt8](repeating: 0, count: 16), parameters: huge)
        }
        do {
            try huge.validate()
            Issue.record("64 GiB accepted")
        } catch let e {
            guard case .kdfParametersTooHigh = e else { Issue.record("unexpected \(e)"); return }
        }
        #expect(throws: CryptoError.self) { try KDFParameters(algorithm: 1, opsLimit: 3, memLimit: 1 << 20).validate() }
        #expect(throws: CryptoError.self) { try KDFParameters(opsLimit: 0, memLimit: 1 << 20).validate() }
        #expect(throws: CryptoError.self) { try KDFParameters(opsLimit: 11, memLimit: 1 << 20).validate() }
    }

    @Test func defaultProfileIsModerate() {
        #expect(KDFParameters.moderate.opsLimit == 3)
        #expect(KDFParameters.moderate.memLimit == 256 << 20)
        #expect(KDFParameters.moderate.algorithm == 2)
    }

    @Test func secureBytesNeverPrintContents() {
        let s = secret("hunter2")
        #expect(!s.description.contains("hunter2"))
        #expect(s.description.contains("redacted"))
    }
}
