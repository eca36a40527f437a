@testable import CofferCore
import Foundation
import Testing

/// A format-2 seal with an archive handler analyses every file of 22 bytes or more; only an
/// archive may flush the sealer's stream. Small ordinary files share batches (a flush per file
/// made each its own batch, waited for: most of a first seal's time on many small files).
@Suite struct TreeSealBatchTests {
    @Test func smallFilesShareBatchesWhenAnArchiveHandlerIsSet() throws {
        let f = try TreeTests.vault2()
        let dir = T.scratch("batches") + "/data"
        for i in 0..<600 { T.write(dir + "/d\(i % 6)/f\(i).txt", Array("ordinary file number \(i), not an archive".utf8)) }
        T.write(dir + "/d3/one.toy", ToyArchiveHandler.magic + T.csv(rows: 200, seed: 3))
        var o = SealOptions()
        o.archiveHandler = ToyArchiveHandler()
        let r = try f.vault.seal([dir], options: o)
        #expect(r.version.stats.files == 601)
        #expect(r.batchesSent < 20, "\(r.batchesSent) batches for 600 small files and one archive")

        // Every file comes back, the archive as an archive.
        let w = try f.vault.walker(for: r.version, id: r.id)
        var files = 0, archives = 0
        while let e = try w.next() {
            if e.type == .file { files += 1 }
            if e.type == .archive { archives += 1 }
        }
        #expect(files == 600)
        #expect(archives == 1)
    }
}
