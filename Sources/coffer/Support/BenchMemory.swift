import CProcessGuard
import Foundation

/// Benchmark instrumentation: the peak memory of a command *after* the Argon2id unlock.
///
/// The unlock at the default cost (256 MiB) sets Coffer's peak RSS, which hides the memory the
/// sealing and restoring pipelines use. With `COFFER_BENCH_RSS=FILE` set, the kernel's high-water
/// mark (VmHWM) is reset right after the unlock (`/proc/self/clear_refs`, Linux) and the peak
/// since then is written to FILE in KiB when the command ends. Nothing else changes.
enum BenchMemory {
    private static var file: String? { ProcessInfo.processInfo.environment["COFFER_BENCH_RSS"] }

    /// Resets the high-water mark; called once the vault is unlocked.
    static func afterUnlock() {
        guard file != nil else { return }
        // A non-dumpable process's /proc files belong to root: unless coffer runs as root, it may
        // write its own clear_refs only while dumpable, so the flag is lifted for that write alone.
        let wasDumpable = coffer_is_dumpable() == 1
        if !wasDumpable { _ = coffer_set_dumpable(1) }
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        if !wasDumpable { _ = coffer_set_dumpable(0) }
    }

    /// Writes the peak RSS since ``afterUnlock()`` (KiB) to the file.
    static func report() {
        guard let file, let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kib = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0"
            try? "\(kib)\n".write(toFile: file, atomically: false, encoding: .utf8)
        }
    }
}
