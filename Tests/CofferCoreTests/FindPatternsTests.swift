@testable import CofferCore
import Foundation
import Testing

/// `FindPatterns`: base names for patterns without `/`, whole paths for the others, in order.
@Suite struct FindPatternsTests {
    static func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test("a pattern without / looks at the base name only; one with / at the whole path")
    func baseNameAndPath() throws {
        let pdf = try FindPatterns([Self.b("*.pdf")])
        #expect(pdf.matches(Self.b("a/b/c.pdf")))
        #expect(!pdf.matches(Self.b("a/x.pdf/readme")), "below a folder whose name matches")
        let docs = try FindPatterns([Self.b("docs")])
        #expect(docs.matches(Self.b("in/docs")) && !docs.matches(Self.b("in/docs/a.md")))
        let path = try FindPatterns([Self.b("in/docs")])
        #expect(path.matches(Self.b("x/in/docs")) && path.matches(Self.b("in/docs/a.md")) && !path.matches(Self.b("in/doc")))
        let anchored = try FindPatterns([Self.b("/in/*.txt")])
        #expect(anchored.matches(Self.b("in/a.txt")) && !anchored.matches(Self.b("x/in/a.txt")))
        #expect(anchored.childMayMatch(Self.b("in")) && !anchored.childMayMatch(Self.b("out")))
        #expect(pdf.childMayMatch(Self.b("anything")))
    }

    @Test("! takes back in order; bytes that are not UTF-8 are matched as bytes; case folding")
    func orderBytesCase() throws {
        let p = try FindPatterns([Self.b("*.txt"), Self.b("!secret*"), Self.b("secret-ok.txt")])
        #expect(p.matches(Self.b("a/b.txt")))
        #expect(!p.matches(Self.b("a/secret.txt")))
        #expect(p.matches(Self.b("a/secret-ok.txt")))
        let raw = try FindPatterns([[UInt8(ascii: "x"), 0xFF, UInt8(ascii: "*")]])
        #expect(raw.matches([UInt8(ascii: "d"), UInt8(ascii: "/"), UInt8(ascii: "x"), 0xFF, UInt8(ascii: "1")]))
        #expect(!raw.matches(Self.b("d/x1")))
        let folded = try FindPatterns([Self.b("README*")], caseInsensitive: true)
        #expect(folded.matches(Self.b("a/readme.md")))
        #expect(throws: PatternError.self) { try FindPatterns([Self.b("[a-")]) }
    }
}
