import Foundation
import Testing

/// Help text, exit-code documentation and completion scripts.
@Suite("Help")
struct HelpTests {
    static let subcommands = ["init", "seal", "list", "ls", "find", "stats", "restore", "cat", "dump", "status", "upgrade"]

    @Test("coffer --help lists every subcommand and every exit status")
    func rootHelp() throws {
        let s = try Scratch()
        let r = try s.run(["--help"])
        #expect(r.status == 0)
        for c in Self.subcommands { #expect(r.stdout.contains("  \(c) "), "missing \(c)") }
        for code in ["0", "1", "3", "10", "11", "12", "13", "14", "64", "130"] {
            #expect(r.stdout.contains("\n" + String(repeating: " ", count: 5 - code.count) + code + "  "), "exit status \(code) undocumented")
        }
        #expect(r.stdout.contains("COFFER_PASSPHRASE"))
    }

    @Test("every subcommand has help, and every option has help text", arguments: HelpTests.subcommands)
    func subcommandHelp(_ name: String) throws {
        let s = try Scratch()
        let r = try s.run([name, "--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("USAGE: coffer \(name)"))
        // ArgumentParser prints an option with no help text as a bare name line with nothing after it.
        let optionLines = r.stdout.split(separator: "\n").filter { $0.hasPrefix("  -") }
        for line in optionLines where !line.contains("  --passphrase-") && !line.contains("<") {
            #expect(line.split(separator: " ", omittingEmptySubsequences: true).count > 1, "no help: \(line)")
        }
    }

    @Test("the export commands' help names what they do with exports and zips")
    func exportHelp() throws {
        let s = try Scratch()
        // Help text is wrapped: compare with runs of spaces and line breaks as one space.
        func help(_ name: String) throws -> String {
            try s.run([name, "--help"]).stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
        }
        let diff = try help("diff")
        for phrase in ["--wide", "--key <column>", "overriding the file's default key", "JSON arrays", "record by record"] {
            #expect(diff.contains(phrase), "diff --help lacks \(phrase)")
        }
        #expect(!diff.contains("Compare changed CSV files row by row"))
        let ls = try help("ls")
        #expect(ls.contains("STORAGE column") && ls.contains("kept-compressed") && ls.contains("members are listed under its name"))
        let restore = try help("restore")
        #expect(restore.contains("--expand") && restore.contains("counts member files") && restore.contains("written as unzip writes it"))
        let seal = try help("seal")
        #expect(seal.contains("Takeout parts sealed together are one version") && seal.contains("stored member by member"))
        #expect(seal.contains("wall time"))
        let find = try help("find")
        #expect(find.contains("--members"))
    }

    @Test("completion scripts are generated", arguments: ["bash", "zsh", "fish"])
    func completions(_ shell: String) throws {
        let s = try Scratch()
        let r = try s.run(["--generate-completion-script", shell])
        #expect(r.status == 0)
        #expect(r.stdout.contains("coffer"))
        #expect(r.stdout.contains("restore"))
    }
}
