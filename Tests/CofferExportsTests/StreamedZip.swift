// StreamedZip.swift: the streaming analysis the seal runs (over the compact directory), with
// what the tests compare: the parsed layout, each member's encoding and the rebuild plan.

@testable import CofferExports

/// ``ZipReproduction/analyseStreaming(_:directory:options:)`` of a zip, with its layout parsed
/// and the encodings (central-directory order) made into a rebuild plan.
struct StreamedZip {
    let layout: ZipLayout
    let analysis: ZipDirectoryAnalysis
    let encodings: [ZipMemberEncoding]
    let plan: ZipRebuildPlan

    init<Source: ZipSource>(_ source: Source, options: ZipAnalysisOptions = ZipAnalysisOptions()) throws {
        let directory = try ZipLayout.parseDirectory(source)
        let analysis = try ZipReproduction.analyseStreaming(source, directory: directory, options: options)
        self.analysis = analysis
        layout = try ZipLayout.parse(source)
        encodings = (0..<directory.memberCount).map { analysis.encoding($0) }
        let plan = ZipRebuildPlan(layout: layout, encodings: encodings)
        try plan.validate()
        self.plan = plan
    }

    var sha256: [UInt8] { analysis.sha256 }
    var inflatedBytes: UInt64 { analysis.inflatedBytes }
    var deflateAttempts: Int { analysis.deflateAttempts }
}
