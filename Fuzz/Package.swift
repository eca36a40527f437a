// swift-tools-version:6.0
// The libFuzzer targets of Coffer: a package of its own, so `swift build` and `make test` on the
// main package never see them. Build and run with `make fuzz` (see Fuzz/README.md).
import PackageDescription

/// One executable per parser; `Fuzz/Corpus/<name without "fuzz-">/` is its seed corpus.
let fuzzTargets = [
    "fuzz-keyslot", "fuzz-config", "fuzz-pack-header", "fuzz-index", "fuzz-version", "fuzz-head", "fuzz-lock",
    "fuzz-meta-envelope", "fuzz-zip", "fuzz-csv", "fuzz-path", "fuzz-tree", "fuzz-dictionary", "fuzz-pattern",
    "fuzz-deflate-recipe", "fuzz-layout",
]

let package = Package(
    name: "CofferFuzz",
    platforms: [.macOS(.v13)],
    dependencies: [.package(name: "Coffer", path: "..")],
    targets: [
        // The harnesses: what each target does with one input, and the invariants it checks.
        .target(
            name: "FuzzHarness",
            dependencies: [.product(name: "CofferCore", package: "Coffer"), .product(name: "CofferExports", package: "Coffer")],
            path: "Harness"),
        // Writes the seed corpus from the golden vaults and generated exports (built without sanitizers).
        .executableTarget(name: "fuzz-corpus", dependencies: ["FuzzHarness"], path: "CorpusTool"),
    ] + fuzzTargets.map { .executableTarget(name: $0, dependencies: ["FuzzHarness"], path: "Targets/" + $0) },
    swiftLanguageModes: [.v6]
)
