import ArgumentParser
import CofferCore
import Foundation

extension Coffer {
    /// `coffer unlock`: remove stale locks.
    struct Unlock: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove stale writer locks (never a live one).",
            discussion: """
                A lock is stale when its process is gone on this host, or when it has not been \
                refreshed for 30 minutes. Live locks are listed and left in place.
                """)

        @OptionGroup var vaultArguments: VaultArguments
        @OptionGroup var output: OutputOptions

        func run() throws {
            let vault = try vaultArguments.open()
            let removed = try vault.removeStaleLocks()
            let live = try vault.locks()
            if output.json {
                try JSONOutput.print(["removed": removed, "live": live.map { $0.info?.description ?? "unreadable lock \($0.name)" }])
                return
            }
            for line in removed { output.say(line) }
            for l in live { output.say("still locked by \(l.info?.description ?? "an unreadable lock file (locks/\(l.name))")") }
            if removed.isEmpty && live.isEmpty { output.say("no locks") }
        }
    }
}
