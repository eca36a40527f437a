import Foundation
import Testing

/// VERSION selectors: id prefixes, NAME@latest, NAME@-N, NAME@YYYY-MM-DD, bare names.
@Suite("Version selectors")
struct SelectorTests {
    @Test("selectors resolve to the right version; unknown ones list close candidates")
    func selectors() throws {
        let s = try Scratch()
        try s.initVault()
        var ids: [String] = []
        for (i, day) in ["2026-01-10", "2026-02-10", "2026-03-10"].enumerated() {
            try s.write("series/file.txt", "content \(i)")
            let r = try s.ok(["seal", "--json", s.path("series"), "--name", "monthly", "--time", day + "T08:00:00Z"])
            ids.append(try #require((try r.json() as? [String: Any])?["id"] as? String))
        }
        func content(_ selector: String) throws -> String {
            let r = try s.run(["cat", selector, "series/file.txt"])
            #expect(r.status == 0, "cat \(selector): \(r.stderr)")
            return r.stdout
        }
        #expect(try content("monthly@latest") == "content 2")
        #expect(try content("monthly") == "content 2")
        #expect(try content("monthly@-1") == "content 1")
        #expect(try content("monthly@-2") == "content 0")
        #expect(try content("monthly@2026-02-10") == "content 1")
        #expect(try content(String(ids[0].prefix(8))) == "content 0")
        #expect(try content(ids[2]) == "content 2")

        let tooFar = try s.run(["ls", "monthly@-3"])
        #expect(tooFar.status == 1)
        #expect(tooFar.stderr.contains("monthly has 3 versions"))

        let typo = try s.run(["ls", "month@latest"])
        #expect(typo.status == 1)
        #expect(typo.stderr.contains("monthly@latest"), "close candidates: \(typo.stderr)")

        let noDay = try s.run(["ls", "monthly@2026-02-11"])
        #expect(noDay.status == 1)
        #expect(noDay.stderr.contains("monthly@2026-02-10"))

        let badSpec = try s.run(["ls", "monthly@yesterday"])
        #expect(badSpec.status != 0)
        #expect(badSpec.stderr.contains("latest, -N or YYYY-MM-DD"))

        let missingPath = try s.run(["cat", "monthly", "series/nope.txt"])
        #expect(missingPath.status == 1)
        #expect(missingPath.stderr.contains("is not in version"))
    }
}
