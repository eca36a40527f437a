// FuzzRegressionTests.swift: inputs the fuzz targets in Fuzz/ found (Fuzz/README.md, "Findings").

import CofferCore
import Testing

@testable import CofferExports

@Suite struct ExportsFuzzRegressionTests {
    /// fuzz-version: decoding an encoded zip member converted its manifest size with `Int(_:)`,
    /// which traps for a size of 2^63 or more (a manifest only a key holder could write, but
    /// `coffer cat` and `restore --expand` would crash on it). It is an error now.
    @Test func encodedMemberWithAnImpossibleSizeIsAnError() {
        for size: UInt64 in [1 << 63, UInt64.max] {
            let member = ArchiveMember(
                name: "a.csv", isDirectory: false, size: size, mtimeSeconds: 0, part: 0, data: .encoded, encoding: [8, 0, 0, 0, 0])
            #expect(throws: ZipHandlerError.self) { try ZipArchiveHandler().decode(member: member, stored: [3, 0]) }
        }
    }
}
