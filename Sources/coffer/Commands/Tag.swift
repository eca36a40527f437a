import ArgumentParser
import CofferCore
import Foundation

extension Coffer {
    /// `coffer tag`: adds, removes or sets the tags of versions.
    struct Tag: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add, remove or set the tags of versions.",
            discussion: """
                A version file is never rewritten: each retagged version gets a new version file \\
                (a new id) with the same content, time and parent, and the old id leaves the list \\
                in the same commit. --set replaces the tags (--set '' clears them); then --remove \\
                and --add apply. A version whose tags do not change keeps its id.
                """)

        @OptionGroup var vaultArguments: VaultArguments
        @OptionGroup var output: OutputOptions

        @Argument(help: ArgumentHelp("The versions (id, unique prefix, NAME@latest, NAME@-N, NAME@YYYY-MM-DD).", valueName: "version"))
        var versions: [String]

        @Option(help: ArgumentHelp("Add this tag (repeatable).", valueName: "tag"))
        var add: [String] = []

        @Option(help: ArgumentHelp("Remove this tag (repeatable).", valueName: "tag"))
        var remove: [String] = []

        @Option(help: ArgumentHelp("Replace the tags with these (repeatable; '' for none).", valueName: "tag"))
        var set: [String] = []

        @Flag(help: "Show the new tags; change nothing.")
        var dryRun = false

        @Flag(help: "Write even though this vault is older than one this machine has seen (rollback).")
        var force = false

        @Option(help: ArgumentHelp("Wait up to this many seconds for another writer's lock.", valueName: "seconds"))
        var lockWait: Double = 0

        func validate() throws {
            if add.isEmpty && remove.isEmpty && set.isEmpty {
                throw ValidationError("nothing to change: give --add, --remove or --set")
            }
            if versions.isEmpty { throw ValidationError("give the versions to tag") }
            for t in add + remove + set where t.contains(",") {
                throw ValidationError("tag '\(t)' contains ','; a tag cannot (list and forget read 'a,b' as two tags)")
            }
        }

        func run() throws {
            let vault = try vaultArguments.open(warnOnRollback: false)
            let ids = try vault.versionsNamed(by: versions).map(\.id)
            let change = TagChange(set: set.isEmpty ? nil : set, add: add, remove: remove)
            let result = try vault.retag(ids, change, dryRun: dryRun, force: force, lockWait: lockWait)
            for note in vault.lockNotes { Console.warn(note) }
            if output.json {
                try JSONOutput.print(result.map(TagJSON.init))
                return
            }
            guard !output.quiet || dryRun else { return }
            let rows = result.map { r in
                [r.old.short, r.new.map { dryRun ? "(new)" : $0.short } ?? "unchanged", Console.name(r.name), Console.name(r.tags.joined(separator: ","))]
            }
            Console.out(Format.table(["ID", "NEW ID", "NAME", "TAGS"], rows))
            let changed = result.filter { $0.new != nil }.count
            Console.out(
                dryRun
                    ? "Dry run: would retag \(changed) version\(changed == 1 ? "" : "s"); nothing was changed."
                    : "Retagged \(changed) version\(changed == 1 ? "" : "s").")
        }
    }
}

/// `tag --json`: one entry per version.
private struct TagJSON: Encodable {
    var id: String
    var new_id: String?
    var name: String
    var tags: [String]
    var changed: Bool

    init(_ r: Retagged) {
        id = r.old.hex
        new_id = r.new?.hex
        name = r.name
        tags = r.tags
        changed = r.new != nil
    }

    enum CodingKeys: String, CodingKey { case id, new_id, name, tags, changed }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(new_id, forKey: .new_id)
        try c.encode(name, forKey: .name)
        try c.encode(tags, forKey: .tags)
        try c.encode(changed, forKey: .changed)
    }
}
