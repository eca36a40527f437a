import CofferCore
import Foundation

/// A progress line on stderr, redrawn in place.
///
/// Shown only when stdout and stderr are terminals and neither `--quiet` nor `--json` was
/// given, and only once the operation has run for about a second; redrawn at most ten times a
/// second. Safe to call from any thread.
final class ProgressLine: @unchecked Sendable {
    private let enabled: Bool
    private let started = Date()
    private let lock = NSLock()
    private var lastDraw = Date.distantPast
    private var drawn = false

    /// Delay before the first draw.
    static let delay: TimeInterval = 1.0
    /// Minimum time between draws.
    static let interval: TimeInterval = 0.1

    init(output: OutputOptions) {
        enabled = !output.quiet && !output.json && Console.isInteractive
    }

    /// Seconds since the operation started.
    var elapsed: TimeInterval { Date().timeIntervalSince(started) }

    /// Redraws the line with `text()` if it is time to.
    func update(_ text: () -> String) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        guard now.timeIntervalSince(started) >= Self.delay, now.timeIntervalSince(lastDraw) >= Self.interval else { return }
        lastDraw = now
        let width = max(20, Console.columns - 1)
        var line = text()
        if line.count > width { line = String(line.prefix(width)) }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
        drawn = true
    }

    /// Clears the line, if one was drawn.
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        drawn = false
    }

    /// `42%  120 MB / 266 MB` plus rate and time left.
    func transferText(done: UInt64, total: UInt64) -> String {
        let t = max(elapsed, 0.001)
        let rate = Double(done) / t
        var s = total > 0 ? String(format: "%3.0f%%  ", Double(done) * 100 / Double(total)) : ""
        s += "\(Format.bytes(done)) / \(Format.bytes(total))  \(Format.bytes(UInt64(rate)))/s"
        if rate > 0, total > done { s += "  ETA \(Format.duration(Double(total - done) / rate))" }
        return s
    }

    /// The seal line: bytes, entries (files, folders, links: both numbers count the same, the
    /// total being the previous version's), rate, time left and what deduplication has kept out so far.
    func sealText(_ p: SealProgress) -> String {
        var s = transferText(done: p.bytesDone, total: p.bytesTotal)
        let entries = p.filesTotal >= p.filesDone ? "\(p.filesDone)/\(p.filesTotal)" : "\(p.filesDone)"
        s += "  \(entries) entries  added \(Format.bytes(p.addedBytes))"
        return s
    }
}
