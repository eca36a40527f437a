import CofferCore
import Foundation
import Synchronization

/// Set by the SIGINT handler; read by the library through `isCancelled`.
private let interruptRequested = Atomic<Bool>(false)
/// Whether the first SIGINT only sets ``interruptRequested`` (true) or ends the process (false).
private let cooperativeMode = Atomic<Bool>(false)
/// The first of SIGINT, SIGTERM, SIGHUP received (0: none).
private let receivedSignal = Atomic<Int32>(0)

/// Ctrl-C handling.
///
/// Commands that only read (list, ls, cat, status) end at once on Ctrl-C, with status 130.
/// Commands that write or that the library can stop cleanly (init, seal, restore) and the
/// passphrase prompt switch to cooperative mode: the first Ctrl-C asks the operation to stop
/// at its next check (the library then throws ``CofferError/interrupted`` having written no
/// version, or no partial file), and a second one ends the process at once. Every vault file
/// is written under a temporary name and renamed, so the vault stays valid either way.
///
/// A command in immediate mode that holds the vault's writer lock when the signal comes (prune,
/// forget, key changes) finishes that work first, so its lock is removed, and then exits with
/// the signal's status; a second signal ends it at once.
///
/// SIGTERM and SIGHUP are handled the same way; the exit status is then 143 or 129 (128 plus the
/// signal's number, as a shell reports a process the signal ended) instead of 130.
enum Interrupt {
    /// The signals handled like Ctrl-C.
    static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    /// Whether Ctrl-C was pressed (or SIGTERM or SIGHUP received).
    static var isRequested: Bool { interruptRequested.load(ordering: .relaxed) }

    /// The exit status for an operation the signal stopped: 130 (SIGINT), 143 (SIGTERM) or 129 (SIGHUP).
    static var exitStatus: ExitStatus {
        switch receivedSignal.load(ordering: .relaxed) {
        case SIGTERM: return .terminated
        case SIGHUP: return .hangup
        default: return .interrupted
        }
    }

    /// A closure for `SealOptions.isCancelled` / `RestoreOptions.isCancelled`.
    static let check: @Sendable () -> Bool = { interruptRequested.load(ordering: .relaxed) }

    /// Installs the handler of SIGINT, SIGTERM and SIGHUP (immediate mode) and unblocks them.
    static func install() {
        setHandler(restartSystemCalls: true)
        // A parent may have started us with them blocked (the mask is inherited across exec).
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// From now on the first Ctrl-C only asks the operation to stop.
    static func beginCooperative() {
        cooperativeMode.store(true, ordering: .relaxed)
    }

    /// Runs `body` in cooperative mode without restarting interrupted system calls, so a
    /// blocking terminal read returns on Ctrl-C (`EINTR`) and the caller can restore the terminal.
    static func whileReadingTerminal<T>(_ body: () throws -> T) rethrows -> T {
        let wasCooperative = cooperativeMode.exchange(true, ordering: .relaxed)
        setHandler(restartSystemCalls: false)
        defer {
            setHandler(restartSystemCalls: true)
            cooperativeMode.store(wasCooperative, ordering: .relaxed)
        }
        return try body()
    }

    private static func setHandler(restartSystemCalls: Bool) {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in
            _ = receivedSignal.compareExchange(expected: 0, desired: signal, ordering: .relaxed)
            let cooperative = cooperativeMode.load(ordering: .relaxed)
            let already = interruptRequested.exchange(true, ordering: .relaxed)
            if cooperative && !already { return }
            // A command the library cannot stop part-way (prune, forget, key changes) finishes
            // its locked work, so the lock is removed; `main` then exits with the signal's status.
            if !already && WriterLockActivity.isHeld {
                let message: StaticString = "\ncoffer: finishing the locked work first; signal again to stop at once (the next command then clears the lock)\n"
                _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
                return
            }
            // Only async-signal-safe calls from here.
            let message: StaticString = "\ncoffer: interrupted\n"
            _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
            // The rclone process a command started ends with it (kill() is async-signal-safe).
            stopRcloneServersForExit()
            _exit(128 + receivedSignal.load(ordering: .relaxed))
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = restartSystemCalls ? SA_RESTART : 0
        for s in signals { sigaction(s, &action, nil) }
    }
}
