@testable import CofferCore
import Foundation
import Testing

/// `Vault.retag`: the new version file is written before the head changes, so a crash between
/// the two leaves a vault that opens with the old tags, and a later retag works.
@Suite("Retag")
struct RetagTests {
    struct Crash: Error {}

    @Test func crashBetweenVersionAndHeadLeavesTheOldTags() throws {
        let f = try T.vault()
        let dir = T.scratch("in") + "/docs"
        T.write(dir + "/a.txt", Array("one".utf8))
        var o = SealOptions()
        o.tags = ["old"]
        let sealed = try f.vault.seal([dir], options: o).id

        #expect(throws: Crash.self) {
            try f.vault.retag([sealed], TagChange(add: ["new"]), beforeHead: { throw Crash() })
        }
        // State 1: the old head. The new version file exists but is not listed.
        let crashed = try f.reopen()
        #expect(try crashed.versions().map(\.id) == [sealed])
        #expect(try crashed.versions().first?.version.tags == ["old"])

        // State 2: the retag goes through on the reopened vault.
        let done = try crashed.retag([sealed], TagChange(add: ["new"]))
        let newID = try #require(done.first?.new)
        let reopened = try f.reopen()
        let live = try reopened.versions()
        #expect(live.map(\.id) == [newID])
        #expect(live.first?.version.tags == ["old", "new"])
        #expect(reopened.head.removed.contains(sealed))
        #expect(live.first?.version.rootTree == (try crashed.version(sealed)).rootTree)
    }

    @Test func tagChangeOrder() {
        #expect(TagChange(set: ["a", "b"], add: ["c"], remove: ["a"]).apply(to: ["x"]) == ["b", "c"])
        #expect(TagChange(set: [""]).apply(to: ["x"]) == [])
        #expect(TagChange(add: ["x", "y"]).apply(to: ["x"]) == ["x", "y"])
    }
}
