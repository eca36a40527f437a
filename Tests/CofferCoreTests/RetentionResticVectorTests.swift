import Foundation
import Testing

@testable import CofferCore

/// restic's `TestApplyPolicy` vectors (internal/restic/snapshot_policy_test.go): its 103 snapshot
/// times (with their tags) and, for each policy whose golden file `policy_keep_snapshots_N` is at
/// hand, the snapshots restic keeps, written here as times (newest first). `allBut` lists the
/// snapshots restic forgets when it keeps nearly all of them.
///
/// Not here: 0 (no rule at all; restic keeps everything, Coffer refuses to forget without a
/// rule); 31, 34 and 35 (``RetentionResticWithinTests``); and 1, 2, 5, 7, 8, 14, 15, 22, 24, 27,
/// 30, 32 and 33, whose golden files were not available.
@Suite("RetentionPolicy restic TestApplyPolicy vectors")
struct RetentionResticVectorTests {
    enum Kept {
        case only([String])
        case allBut([String])
    }

    struct Vector: Sendable {
        var number: Int
        var policy: @Sendable (inout RetentionPolicy) -> Void
        var kept: Kept
    }

    static let times = RetentionResticWithinTests.times

    /// restic's tags: `foo` on 2014-10-01 … 2014-11-13, `bar` on 2014-11-13 10:20:30.1, both on
    /// 2014-11-15 and on the last three of the five 2015-10-22 snapshots.
    static func tags(_ i: Int) -> [String] {
        switch i {
        case 20...33: return ["foo"]
        case 34: return ["bar"]
        case 35, 71...73: return ["foo", "bar"]
        default: return []
        }
    }

    static var candidates: [RetentionPolicy.Candidate] {
        times.enumerated().map { i, t in
            RetentionPolicy.Candidate(
                id: ObjectID.hashing(Array("restic \(i)".utf8)), name: "n", time: RetentionResticWithinTests.date(t), tags: tags(i))
        }
    }

    static func d(_ s: String) -> RetentionPolicy.Duration { RetentionPolicy.Duration(parsing: s)! }

    static let all = RetentionPolicy.unlimited

    /// Each policy of restic's list (by its index there) and what restic's golden file keeps.
    static let vectors: [Vector] = [
        Vector(number: 3, policy: { $0.keepLast = 99 }, kept: .allBut(["2014-08-13 10:20:30", "2014-08-12 10:20:30", "2014-08-10 10:20:30", "2014-08-08 10:20:30"])),
        Vector(number: 4, policy: { $0.keepLast = 200 }, kept: .allBut([])),
        Vector(number: 6, policy: { $0.keepDaily = 3 }, kept: .only(["2016-01-18 12:02:03", "2016-01-12 21:08:03", "2016-01-09 21:02:03"])),
        Vector(
            number: 9, policy: { $0.keepLast = 5; $0.keepDaily = 5 },
            kept: .only([
                "2016-01-18 12:02:03", "2016-01-12 21:08:03", "2016-01-12 21:02:03", "2016-01-09 21:02:03", "2016-01-08 20:02:03",
                "2016-01-07 10:02:03",
            ])),
        Vector(
            number: 10, policy: { $0.keepLast = 2; $0.keepDaily = 10 },
            kept: .only([
                "2016-01-18 12:02:03", "2016-01-12 21:08:03", "2016-01-09 21:02:03", "2016-01-08 20:02:03", "2016-01-07 10:02:03",
                "2016-01-06 08:02:03", "2016-01-05 09:02:03", "2016-01-04 16:23:03", "2016-01-03 07:02:03", "2016-01-01 07:08:03",
            ])),
        Vector(number: 11, policy: { $0.keepWeekly = 2 }, kept: .only(["2016-01-18 12:02:03", "2016-01-12 21:08:03"])),
        Vector(
            number: 12, policy: { $0.keepWeekly = 4 },
            kept: .only(["2016-01-18 12:02:03", "2016-01-12 21:08:03", "2016-01-09 21:02:03", "2016-01-03 07:02:03"])),
        Vector(
            number: 13, policy: { $0.keepDaily = 3; $0.keepWeekly = 4 },
            kept: .only(["2016-01-18 12:02:03", "2016-01-12 21:08:03", "2016-01-09 21:02:03", "2016-01-03 07:02:03"])),
        // The stored golden files of 16 and 17 predate restic's rule that keeps the oldest
        // snapshot while a counting rule has counts left ("oldest yearly snapshot", which restic's
        // own file 39 shows); Coffer follows the newer rule, so 2014-08-08 is kept in addition.
        Vector(
            number: 16, policy: { $0.keepYearly = 10 },
            kept: .only(["2016-01-18 12:02:03", "2015-11-22 10:20:30", "2014-11-22 10:20:30", "2014-08-08 10:20:30"])),
        Vector(
            number: 17, policy: { $0.keepDaily = 7; $0.keepWeekly = 2; $0.keepMonthly = 3; $0.keepYearly = 10 },
            kept: .only([
                "2016-01-18 12:02:03", "2016-01-12 21:08:03", "2016-01-09 21:02:03", "2016-01-08 20:02:03", "2016-01-07 10:02:03",
                "2016-01-06 08:02:03", "2016-01-05 09:02:03", "2015-11-22 10:20:30", "2015-10-22 10:20:30", "2014-11-22 10:20:30",
                "2014-08-08 10:20:30",
            ])),
        Vector(
            number: 18, policy: { $0.keepTags = [["foo"]] },
            kept: .only(
                ["2015-10-22 10:20:30", "2015-10-22 10:20:30", "2015-10-22 10:20:30", "2014-11-15 10:20:30", "2014-11-13 10:20:30"]
                    + fooOnly)),
        Vector(
            number: 19, policy: { $0.keepTags = [["foo", "bar"]] },
            kept: .only(["2015-10-22 10:20:30", "2015-10-22 10:20:30", "2015-10-22 10:20:30", "2014-11-15 10:20:30"])),
        Vector(
            number: 20, policy: { $0.keepTags = [["foo"], ["bar"]] },
            kept: .only(
                ["2015-10-22 10:20:30", "2015-10-22 10:20:30", "2015-10-22 10:20:30", "2014-11-15 10:20:30", "2014-11-13 10:20:30.1",
                 "2014-11-13 10:20:30"] + fooOnly)),
        Vector(number: 21, policy: { $0.keepWithin = d("1d") }, kept: .only(["2016-01-18 12:02:03"])),
        Vector(
            number: 23, policy: { $0.keepWithin = d("7d") }, kept: .only(["2016-01-18 12:02:03", "2016-01-12 21:08:03", "2016-01-12 21:02:03"])),
        Vector(number: 25, policy: { $0.keepWithin = d("1m14d") }, kept: .only(all2016)),
        Vector(number: 26, policy: { $0.keepWithin = d("1y1d1m") }, kept: .allBut(before2015Aug8)),
        Vector(
            number: 28, policy: { $0.keepWithin = d("2m2h") },
            kept: .only(all2016 + ["2015-11-22 10:20:30", "2015-11-21 10:20:30", "2015-11-20 10:20:30", "2015-11-18 10:20:30"])),
        Vector(
            number: 29, policy: { $0.keepWithin = d("1y2m3d3h") },
            kept: .allBut(before2015Aug8.filter { !["2014-11-22", "2014-11-21", "2014-11-20", "2014-11-18", "2014-11-15"].contains(String($0.prefix(10))) })),
        Vector(number: 36, policy: { $0.keepLast = all }, kept: .allBut([])),
        Vector(number: 37, policy: { $0.keepLast = all; $0.keepHourly = all }, kept: .allBut([])),
        Vector(
            number: 38, policy: { $0.keepHourly = all },
            kept: .allBut([
                "2016-01-12 21:02:03", "2016-01-04 12:28:03", "2016-01-04 12:24:03", "2016-01-04 12:23:03", "2016-01-01 01:02:03",
                "2015-11-13 10:20:30", "2015-10-22 10:20:30", "2015-10-22 10:20:30", "2015-10-22 10:20:30", "2015-10-22 10:20:30",
                "2015-08-13 10:20:30", "2014-11-13 10:20:30", "2014-08-13 10:20:30",
            ])),
        Vector(
            number: 39, policy: { $0.keepDaily = 3; $0.keepWeekly = 2; $0.keepMonthly = all; $0.keepYearly = all },
            kept: .only([
                "2016-01-18 12:02:03", "2016-01-12 21:08:03", "2016-01-09 21:02:03", "2015-11-22 10:20:30", "2015-10-22 10:20:30",
                "2015-09-22 10:20:30", "2015-08-22 10:20:30", "2014-11-22 10:20:30", "2014-10-22 10:20:30", "2014-09-22 10:20:30",
                "2014-08-22 10:20:30", "2014-08-08 10:20:30",
            ])),
    ]

    /// The snapshots tagged `foo` alone, 2014-11-12 … 2014-10-01.
    static let fooOnly = [
        "2014-11-12 10:20:30", "2014-11-10 10:20:30", "2014-11-08 10:20:30", "2014-10-22 10:20:30", "2014-10-20 10:20:30",
        "2014-10-11 10:20:30", "2014-10-10 10:20:30", "2014-10-09 10:20:30", "2014-10-08 10:20:30", "2014-10-06 10:20:30",
        "2014-10-05 10:20:30", "2014-10-02 10:20:30", "2014-10-01 10:20:30",
    ]

    /// Every snapshot of 2016 (19).
    static var all2016: [String] { times.filter { $0.hasPrefix("2016") } }

    /// Every snapshot before 2015-08-08 (the 40 of 2014).
    static var before2015Aug8: [String] { times.filter { $0.hasPrefix("2014") } }

    static func seconds(_ list: [String]) -> [Double] {
        list.map { RetentionResticWithinTests.date($0).timeIntervalSince1970 }.sorted()
    }

    @Test func fixtureIsRestics() {
        #expect(Self.times.count == 103)
        #expect(Self.times[20] == "2014-10-01 10:20:30" && Self.times[33] == "2014-11-13 10:20:30" && Self.times[35] == "2014-11-15 10:20:30")
        #expect(Self.times[69...73].allSatisfy { $0 == "2015-10-22 10:20:30" })
        #expect(Self.all2016.count == 19 && Self.before2015Aug8.count == 40)
    }

    @Test(arguments: vectors.map(\.number))
    func keepsWhatResticKeeps(_ number: Int) throws {
        let v = Self.vectors.first { $0.number == number }!
        var p = RetentionPolicy()
        v.policy(&p)
        let decisions = try p.apply(to: Self.candidates, now: RetentionPolicyTests.farFuture)
        let kept = decisions.filter(\.keep).map { $0.time.timeIntervalSince1970 }.sorted()
        let expected: [Double]
        switch v.kept {
        case .only(let list): expected = Self.seconds(list)
        case .allBut(let list):
            var rest = Self.seconds(Self.times)
            for s in Self.seconds(list) { rest.remove(at: rest.firstIndex(of: s)!) }
            expected = rest
        }
        #expect(kept == expected, "policy \(number): \(p.description)")
    }
}
