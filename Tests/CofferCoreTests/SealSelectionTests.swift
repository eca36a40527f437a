import Foundation
import Testing

@testable import CofferCore

/// The pieces of `seal`'s selection that need no vault: sizes, markers, path-list readers.
@Suite struct SealSelectionTests {
    @Test func sizesAreRestics() {
        #expect(SealSelection.parseSize("0") == 0)
        #expect(SealSelection.parseSize("512") == 512)
        #expect(SealSelection.parseSize("2k") == 2048)
        #expect(SealSelection.parseSize("3M") == 3 << 20)
        #expect(SealSelection.parseSize("1g") == 1 << 30)
        #expect(SealSelection.parseSize("2T") == 2 << 40)
        #expect(SealSelection.parseSize("") == nil)
        #expect(SealSelection.parseSize("k") == nil)
        #expect(SealSelection.parseSize("1.5M") == nil)
        #expect(SealSelection.parseSize("-1") == nil)
        #expect(SealSelection.parseSize("99999999999T") == nil)
    }

    @Test func markersSplitAtTheFirstColon() throws {
        let m = try SealSelection.Marker(argument: Array(".tag:a:b".utf8))
        #expect(m.name == Array(".tag".utf8) && m.content == Array("a:b".utf8))
        #expect(try SealSelection.Marker(argument: Array("x".utf8)).content.isEmpty)
        #expect(throws: CofferError.self) { try SealSelection.Marker(argument: Array(":x".utf8)) }
        #expect(throws: CofferError.self) { try SealSelection.Marker(argument: Array("a/b".utf8)) }
    }

    @Test func pathListsAreBytes() {
        let raw: [UInt8] = Array("/a b".utf8) + [0, 0] + [0x2F, 0xFF] + [0]
        #expect(SealInputs.rawPaths(raw) == [Array("/a b".utf8), [0x2F, 0xFF]])
        let verbatim = Array(" /x \r\n\n# not a comment\n".utf8)
        #expect(SealInputs.verbatimLines(verbatim) == [Array(" /x ".utf8), Array("# not a comment".utf8)])
        #expect(SealInputs.patternLines(Array("# c\n  /p*  \n\n".utf8)) == [Array("/p*".utf8)])
    }

    @Test func patternsExcludeByAbsolutePath() throws {
        var s = SealSelection()
        #expect(s.isEmpty)
        s.exclude = try PatternSet([Array("/home/*/.cache".utf8), Array("*.tmp".utf8), Array("!keep.tmp".utf8)])
        #expect(!s.isEmpty)
        #expect(s.excludesByPattern(Array("/home/ann/.cache".utf8)))
        #expect(!s.excludesByPattern(Array("/srv/home/ann/.cache".utf8)))
        #expect(s.excludesByPattern(Array("/x/y/z.tmp".utf8)))
        #expect(!s.excludesByPattern(Array("/x/keep.tmp".utf8)))
    }
}
