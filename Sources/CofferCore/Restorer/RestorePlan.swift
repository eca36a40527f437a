import Foundation

extension Vault {
    /// `--delete` needs an overwrite mode, and is refused where it could remove this vault (a
    /// local vault inside the target).
    func checkDelete(_ options: RestoreOptions, root: String) throws {
        guard options.delete else { return }
        guard options.overwrite != .never else {
            throw CofferError.invalidArgument("--delete needs --overwrite always, if-changed or if-newer")
        }
        guard let local = backend as? LocalBackend, let vault = realpath(local.root, nil) else { return }
        defer { free(vault) }
        guard let target = realpath(root, nil) else { return }  // a missing target holds no vault
        defer { free(target) }
        let v = Array(String(cString: vault).utf8), t = Array(String(cString: target).utf8)
        if v == t || t == [RelativePath.slash] || (v.starts(with: t) && v[t.count] == RelativePath.slash) {
            throw CofferError.invalidArgument("--delete into \(root) could remove the vault \(local.root) inside it; restore elsewhere")
        }
    }

    /// `--overwrite never`: checks every selected entry's place before anything is written and
    /// refuses the restore when any is taken (a folder where the version has a folder is not),
    /// naming the first ``OverwriteGate/conflictLimit`` of them and counting the rest.
    func refuseConflicts(
        _ versionID: ObjectID, target: RestoreFolder, patterns: IncludePatterns?, options: RestoreOptions, walk: () throws -> VersionWalker
    ) throws {
        let gate = OverwriteGate(
            target: target, mode: .never, dryRun: true, delete: false, expandArchives: options.expandArchives, patterns: patterns,
            standIns: [], report: nil)
        let selected = SelectedEntries(try walk(), patterns: patterns)
        var stack = RestoreStack(root: target.root, versionID: versionID, expandArchives: options.expandArchives)
        while let (e, _) = try selected.next() {
            if options.isCancelled() { throw CofferError.interrupted }
            _ = try gate.admit(try stack.enter(e).item)
        }
        let n = gate.changes.conflicts
        if n == 1 { throw CofferError.destinationExists(path: gate.conflictPaths[0]) }
        if n > 1 { throw CofferError.destinationConflicts(paths: gate.conflictPaths, count: n) }
    }

    /// `--dry-run`: what the restore would do, reported entry by entry through
    /// ``RestoreOptions/onEvent`` and counted in ``RestoreResult/changes``, without writing,
    /// creating (not even the target) or removing anything. A missing target is empty.
    func dryRunRestore(
        _ versionID: ObjectID, root: String, patterns: IncludePatterns?, standIns: Set<[UInt8]>, metadata: RestoreMetadata,
        options: RestoreOptions, walk: () throws -> VersionWalker
    ) throws -> RestoreResult {
        var st = stat()
        let target = stat(root, &st) == 0 ? try RestoreFolder(path: root, force: options.overwrite != .never) : nil
        let gate = OverwriteGate(
            target: target, mode: options.overwrite, dryRun: true, delete: options.delete, expandArchives: options.expandArchives,
            patterns: patterns, standIns: standIns, report: options.onEvent)
        gate.metadata = metadata
        let selected = SelectedEntries(try walk(), patterns: patterns, standIns: standIns)
        var stack = RestoreStack(root: root, versionID: versionID, expandArchives: options.expandArchives)
        while let (e, standIn) = try selected.next() {
            if options.isCancelled() { throw CofferError.interrupted }
            if standIn { continue }
            _ = try gate.admit(try stack.enter(e).item)
        }
        try gate.finish()
        var result = RestoreResult()
        result.changes = gate.changes
        result.notes = gate.notes
        return result
    }
}
