import CofferCore
import CofferCrypto
import Foundation

/// The passphrase variables, taken out of the environment once, first thing at process start.
///
/// `COFFER_PASSPHRASE` is copied byte for byte from the C environment (`environ`) into secure
/// memory, never into a Swift `String`; then the value's bytes are wiped where they lie (so
/// `/proc/PID/environ` no longer shows them) and the variable is removed with `unsetenv`. The
/// same happens to every other variable whose name starts with `COFFER_PASSPHRASE` or
/// `COFFER_FROM_PASSPHRASE` (``ChildEnvironment/secretPrefixes``); `COFFER_PASSPHRASE_FILE`, a
/// path, and `COFFER_PASSPHRASE_COMMAND`, a command, are kept here as `String`s (and their
/// `COFFER_FROM_` twins, the source vault's for `copy`). Nothing the process starts afterwards inherits them, and
/// `ProcessInfo.processInfo.environment` (which copies every variable into `String`s) never sees
/// them.
enum SecretEnvironment {
    /// What `COFFER_PASSPHRASE` held at start.
    enum Passphrase {
        case unset
        case tooLong
        case value(SecureBytes)
    }

    nonisolated(unsafe) private static var captured: (passphrase: Passphrase, file: String?, command: String?) = (.unset, nil, nil)
    nonisolated(unsafe) private static var done = false
    /// The source vault's variables for `copy`: `COFFER_FROM_PASSPHRASE` (secure memory),
    /// `COFFER_FROM_PASSPHRASE_FILE` and `COFFER_FROM_PASSPHRASE_COMMAND`.
    nonisolated(unsafe) private static var capturedFrom: (passphrase: Passphrase, file: String?, command: String?) = (.unset, nil, nil)

    /// `COFFER_FROM_PASSPHRASE` as found at start (empty counts as unset).
    static var fromPassphrase: Passphrase { capturedFrom.passphrase }

    /// `COFFER_FROM_PASSPHRASE_FILE` as found at start (empty counts as unset).
    static var fromPassphraseFile: String? { capturedFrom.file }

    /// `COFFER_FROM_PASSPHRASE_COMMAND` as found at start (empty counts as unset).
    static var fromPassphraseCommand: String? { capturedFrom.command }

    /// `COFFER_PASSPHRASE` as found at start (empty counts as unset).
    static var passphrase: Passphrase { captured.passphrase }

    /// `COFFER_PASSPHRASE_FILE` as found at start (empty counts as unset).
    static var passphraseFile: String? { captured.file }

    /// `COFFER_PASSPHRASE_COMMAND` as found at start (empty counts as unset).
    static var passphraseCommand: String? { captured.command }

    /// Takes the secret variables out of the environment. Call once, before any thread starts and
    /// before anything reads `ProcessInfo.processInfo.environment`.
    static func capture() {
        guard !done else { return }
        done = true
        for name in secretNames() {
            let cName = name + [0]
            guard let value = cName.withUnsafeBufferPointer({ getenv(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self)) })
            else { continue }
            let n = strlen(value)
            if name == Array("COFFER_PASSPHRASE".utf8), n > 0 {
                captured.passphrase = n > PassphraseReader.maximumLength
                    ? .tooLong : .value(SecureBytes(copying: UnsafeRawBufferPointer(start: value, count: n)))
            } else if name == Array("COFFER_PASSPHRASE_FILE".utf8), n > 0 {
                captured.file = String(cString: value)
            } else if name == Array("COFFER_PASSPHRASE_COMMAND".utf8), n > 0 {
                captured.command = String(cString: value)
            } else if name == Array("COFFER_FROM_PASSPHRASE".utf8), n > 0 {
                capturedFrom.passphrase = n > PassphraseReader.maximumLength
                    ? .tooLong : .value(SecureBytes(copying: UnsafeRawBufferPointer(start: value, count: n)))
            } else if name == Array("COFFER_FROM_PASSPHRASE_FILE".utf8), n > 0 {
                capturedFrom.file = String(cString: value)
            } else if name == Array("COFFER_FROM_PASSPHRASE_COMMAND".utf8), n > 0 {
                capturedFrom.command = String(cString: value)
            }
            Sodium.wipe(UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(value), count: n))
            _ = cName.withUnsafeBufferPointer { unsetenv(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self)) }
        }
    }

    /// The names (bytes) of the environment variables that may hold a passphrase.
    private static func secretNames() -> [[UInt8]] {
        let prefixes = ChildEnvironment.secretPrefixes.map { Array($0.utf8) }
        var names: [[UInt8]] = []
        var entry: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = environ
        while let e = entry, let p = e.pointee {
            let raw = UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self)
            var length = 0
            while raw[length] != 0 && raw[length] != UInt8(ascii: "=") { length += 1 }
            let name = Array(UnsafeBufferPointer(start: raw, count: length))
            if prefixes.contains(where: { name.starts(with: $0) }), !names.contains(name) { names.append(name) }
            entry = e + 1
        }
        return names
    }
}
