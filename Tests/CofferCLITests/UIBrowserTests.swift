// UIBrowserTests.swift: `coffer ui` in a real browser. Builds a demo vault of three generated
// LinkedIn exports (as `make demo` does) and runs Tests/UI/browser_test.py with the project's
// .venv/bin/python: headless Chromium driven by selenium, against `coffer ui` started (and
// stopped) by pid. Screenshots go to .build/ui-screens/. `make deps` installs what it needs.

import Foundation
import Testing

@Suite struct UIBrowserTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test func browserSeesSeriesChartsDiffAndDownloads() throws {
        let python = Self.packageRoot + "/.venv/bin/python"
        let missing = [python, "/usr/bin/chromium", "/usr/bin/chromedriver"].filter { !FileManager.default.isExecutableFile(atPath: $0) }
        guard missing.isEmpty else {
            Issue.record("the browser test needs \(missing.joined(separator: ", ")): run 'make deps' (chromium, chromium-driver, and selenium in .venv/)")
            return
        }
        guard let generator = Binaries.exportGenerator else {
            Issue.record("export-generator was not built next to coffer")
            return
        }
        let s = try Scratch()
        try s.initVault()
        let exports = s.path("exports")
        let gen = try Scratch.shell([generator, "--out", exports, "--months", "3", "--seed", "2026", "--connections", "600", "--messages-bytes", "60000", "--quiet"])
        #expect(gen.status == 0, "export-generator: \(gen.stderr)")
        let zips = try FileManager.default.contentsOfDirectory(atPath: exports).filter { $0.hasSuffix(".zip") }.sorted { Self.date($0) < Self.date($1) }
        #expect(zips.count == 3)
        for zip in zips { try s.ok(["seal", exports + "/" + zip, "--quiet"]) }

        var env = s.environment
        env["COFFER_VAULT"] = s.vault
        env["COFFER_PASSPHRASE"] = s.passphrase
        let screens = Self.packageRoot + "/.build/ui-screens"
        let r = try RunningCoffer(
            command: [python, Self.packageRoot + "/Tests/UI/browser_test.py", "--coffer", Binaries.coffer, "--vault", s.vault, "--exports", exports, "--screens", screens],
            environment: env, directory: s.root
        ).finish(timeout: 600)
        #expect(r.status == 0, "browser test failed (status \(r.status)):\n\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("browser test: passed"))
        #expect(FileManager.default.fileExists(atPath: screens + "/series.png"))
    }

    @Test func listeningBeyondLoopbackNeedsAllowRemote() throws {
        let s = try Scratch()
        try s.initVault()
        let r = try s.run(["ui", "--no-open", "--listen", "0.0.0.0"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("--allow-remote"))
        #expect(r.stdout.isEmpty, "no address is printed")
    }

    @Test func ctrlCStopsTheServerWithStatus0() throws {
        let s = try Scratch()
        try s.initVault()
        let p = try s.start(["ui", "--no-open"])
        p.waitForInterruptHandler()
        // The address comes once the server listens.
        var out = ""
        for _ in 0..<3000 where !out.contains("?token=") {
            usleep(10_000)
            out = (try? String(contentsOfFile: p.stdoutPath, encoding: .utf8)) ?? ""
        }
        #expect(out.hasPrefix("http://127.0.0.1:"), "printed: \(out)")
        p.interrupt()
        let r = try p.finish(timeout: 30)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("coffer ui: stopped"))
    }

    /// `…_MM-DD-YYYY.zip` as `YYYYMMDD`.
    static func date(_ name: String) -> String {
        let stem = name.dropLast(4)
        let parts = stem.split(separator: "_").last?.split(separator: "-") ?? []
        return parts.count == 3 ? String(parts[2] + parts[0] + parts[1]) : name
    }
}
