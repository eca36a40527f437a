import ArgumentParser
import CofferCore
import Foundation

extension Coffer.Forget {
    /// `forget ID…` and `forget NAME… --all`: removes exactly the versions named.
    func removeChosen(_ vault: Vault) throws {
        let chosen = all ? try vault.seriesVersions(names) : try vault.versionsNamed(by: names)
        let reason = all ? "--all" : "named"
        let decisions = chosen.reversed().map { RetentionPolicy.Decision(removing: $0.id, version: $0.version, reason: reason) }
        let what = all ? "remove every version of \(names.map { "'\(Console.name($0))'" }.joined(separator: ", "))" : "remove the versions named"
        if all && !dryRun && !yes {
            guard isatty(0) == 1 && isatty(2) == 1 else {
                throw CommandFailure(
                    .usage, "forget --all would remove \(chosen.count) version\(chosen.count == 1 ? "" : "s") and there is no terminal to confirm on; add --yes")
            }
            FileHandle.standardError.write(Data("Remove all \(chosen.count) version\(chosen.count == 1 ? "" : "s") of \(names.map { "'\(Console.name($0))'" }.joined(separator: ", "))? [y/N] ".utf8))
            let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
            guard answer == "y" || answer == "yes" else { throw CommandFailure(.usage, "not confirmed: nothing was removed") }
        }
        if !dryRun { try vault.forget(chosen.map(\.id), force: force, lockWait: lockWait) }
        for note in vault.lockNotes { Console.warn(note) }
        let pruneReport = try pruneAfter(vault, removedAny: !chosen.isEmpty)
        if output.json {
            try JSONOutput.print(ForgetJSON(policyText: what, decisions: decisions, dryRun: dryRun, prune: pruneReport))
            return
        }
        guard !output.quiet || dryRun else { return }
        let rows = decisions.map { d in
            [dryRun ? "would remove" : "remove", d.id.short, Console.name(d.name), Format.dateTime(d.time), Console.name(d.tags.joined(separator: ","))]
        }
        Console.out(Format.table(["ACTION", "ID", "NAME", "DATE (UTC)", "TAGS"], rows))
        let n = decisions.count
        let summary = "\(n) version\(n == 1 ? "" : "s")"
        if dryRun {
            Console.out("Dry run: would remove \(summary); nothing was changed.")
        } else {
            Console.out("Removed \(summary)." + (pruneReport == nil ? " Their data stays in the vault until 'coffer prune'." : ""))
        }
    }

    /// `--prune`: prunes once versions were removed (not on a dry run); nil when it did not run.
    func pruneAfter(_ vault: Vault, removedAny: Bool) throws -> PruneReport? {
        guard prune && !dryRun && removedAny else { return nil }
        var options = PruneOptions()
        options.force = force
        options.lockWait = lockWait
        return try vault.prune(options: options)
    }
}
