import Foundation
import Testing

/// `coffer status`: ages, reminders and `--check` exit statuses.
@Suite("Status")
struct StatusTests {
    @Test("status --check exits 1 when a name is overdue, 0 otherwise")
    func checkExitStatus() throws {
        let s = try Scratch()
        try s.initVault()
        // An empty vault is not overdue.
        #expect(try s.run(["status", "--check"]).status == 0)

        try s.write("old.txt", "old")
        let twoYearsAgo = Format8601.string(Date().addingTimeInterval(-2 * 365 * 86400))
        try s.ok(["seal", s.path("old.txt"), "--name", "photos", "--time", twoYearsAgo])
        try s.write("new.txt", "new")
        try s.ok(["seal", s.path("new.txt"), "--name", "linkedin"])

        let overdue = try s.run(["status", "--check"])
        #expect(overdue.status == 1)
        #expect(overdue.stdout.contains("Reminder: 'photos'"))
        #expect(!overdue.stdout.contains("Reminder: 'linkedin'"))
        #expect(overdue.stdout.contains("2 versions of 2 names"))

        #expect(try s.run(["status", "--check", "--remind-after", "3y"]).status == 0)
        #expect(try s.run(["status", "--check", "--remind-after", "800d"]).status == 0)
        #expect(try s.run(["status", "--check", "--remind-after", "100w"]).status == 1)
        // Without --check, overdue names are reported but the status is 0.
        #expect(try s.run(["status"]).status == 0)

        let quiet = try s.run(["status", "--check", "--quiet"])
        #expect(quiet.status == 1)
        #expect(quiet.stdout.split(separator: "\n").count == 1, "only the reminder: \(quiet.stdout)")

        let json = try #require(try s.run(["status", "--json"]).json() as? [String: Any])
        #expect(json["overdue"] as? [String] == ["photos"])
        #expect(json["remind_after"] as? String == "6mo")
        let names = try #require(json["names"] as? [[String: Any]])
        #expect(names.map { $0["name"] as? String } == ["linkedin", "photos"])

        try s.ok(["seal", s.path("old.txt"), "--name", "photos"])
        #expect(try s.run(["status", "--check"]).status == 0)
    }
}

/// ISO 8601 in UTC for `--time`.
enum Format8601 {
    static func string(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }
}
