@testable import CofferCore
import CofferCrypto
import Foundation
import Testing

@Suite("Write faults at every call", .serialized)
struct WriteFaultTests {
    /// Regression: a seal whose pack write failed used to throw while the background writer still
    /// had packs in flight: they went on being written after the seal had returned and released
    /// the writer lock, and a `coffer seal` exiting on the error left their temporary files.
    @Test("a seal whose pack write fails returns only after its pack writes stopped")
    func sealFailureWaitsForPackWrites() throws {
        let lab = try CrashLab()
        let input = lab.input(seed: 80, fresh: 600 << 10)
        let calls = SimulatedCalls(
            errno: ENOSPC, failWhere: { kind, path in kind == .fsync && path.contains("/packs/") },
            delay: { kind, path in kind == .fsync && path.contains("/packs/") ? 100_000 : 0 })
        let v = try Vault.open(backend: LocalBackend(root: lab.vaultPath, calls: calls), passphrase: T.secret("pw"), state: nil)
        do {
            _ = try v.seal([input])
            Issue.record("the seal succeeded")
        } catch CofferError.diskFull {}
        let atReturn = calls.ops.count
        let leftovers = temporaryLeftovers(lab.vaultPath)
        usleep(400_000)
        let later = calls.ops.dropFirst(atReturn).map(\.description)
        #expect(later.isEmpty, "the vault was written after the seal returned: \(later)")
        #expect(leftovers.isEmpty, "temporary files when the seal returned: \(leftovers)")
        let report = try lab.open().check(readDataFraction: 1)
        #expect(report.errors.isEmpty, "\(report.errors)")
    }
}
