// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Coffer",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "CofferCrypto", targets: ["CofferCrypto"]),
        .library(name: "CofferCore", targets: ["CofferCore"]),
        .library(name: "CofferExports", targets: ["CofferExports"]),
        .executable(name: "coffer", targets: ["coffer"]),
        .executable(name: "export-generator", targets: ["ExportGenerator"]),
        .executable(name: "coffer-bench", targets: ["CofferBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Profiles (config.toml) in the command: TOML with line numbers in its errors.
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        // `coffer ui`: the local web server (CofferUI only).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // S3 vaults (CofferS3 only): HTTP/1.1 with TLS over SwiftNIO.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // The C libraries: a module map and a one-line shim each. Each is imported by exactly one Swift module.
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // OpenSSL's libcrypto, for SHA-256 only: it uses the CPU's SHA extensions (1.5 GB/s here
        // against 0.2 GB/s for libsodium's portable SHA-256). Nothing is encrypted with it.
        .systemLibrary(name: "CLibCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

        // The only importer of CSodium and CLibCrypto.
        .target(name: "CofferCrypto", dependencies: ["CSodium", "CLibCrypto"]),
        // Chunker, compression (the only importer of CZstd), packs, index, versions, heads, backends, vault.
        .target(name: "CofferCore", dependencies: ["CofferCrypto", "CZstd", "COpenat2", "CScan"]),
        // openat2(2) for restore (syscall(2) is variadic: Swift cannot call it).
        .target(name: "COpenat2"),
        // The scan's libc pieces missing from Swift's Glibc module: extended attributes, SEEK_DATA/SEEK_HOLE, O_PATH.
        .target(name: "CScan"),
        // Zip containers and deflate (the only importer of CZlib), CSV records, export names.
        .target(name: "CofferExports", dependencies: ["CofferCore", "CofferCrypto", "CZlib"]),
        // `coffer ui`: the vault in a browser (pages, SVG charts, embedded CSS/JS), on Hummingbird.
        .target(
            name: "CofferUI",
            dependencies: [
                "CofferCore", "CofferExports",
                .product(name: "Hummingbird", package: "hummingbird"),
            ]),
        // S3 object storage as a vault backend (SigV4, multipart, retries). The only importer of
        // AsyncHTTPClient/NIO: CofferCore stays free of them.
        .target(
            name: "CofferS3",
            dependencies: [
                "CofferCore", "CofferCrypto", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        // The command-line shell.
        // glibc allocator settings for the command (one inline function).
        .target(name: "CMalloc"),
        // No core dumps, not dumpable (prctl, which Swift cannot call: it is variadic).
        .target(name: "CProcessGuard"),
        .executableTarget(
            name: "coffer",
            dependencies: [
                "CofferCore", "CofferExports", "CofferUI", "CofferS3", "CMalloc", "CProcessGuard",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]),
        // Synthetic LinkedIn export series, for the demo, tests and measurements.
        .executableTarget(name: "ExportGenerator", dependencies: ["CofferExports"], path: "Examples/ExportGenerator"),
        // Release-build measurements (chunk-size choice, primitives, seal/restore throughput).
        .executableTarget(name: "CofferBench", dependencies: ["CofferCore", "CofferExports", "CPrimitives"], path: "Benchmarks/CofferBench"),
        // The primitives' library calls made from C, the baseline of `coffer-bench primitives`.
        // Only CofferBench depends on it.
        .target(
            name: "CPrimitives", path: "Benchmarks/CPrimitives",
            linkerSettings: [.linkedLibrary("sodium"), .linkedLibrary("zstd"), .linkedLibrary("crypto")]),

        .testTarget(name: "CofferCryptoTests", dependencies: ["CofferCrypto"]),
        .testTarget(name: "CofferCoreTests", dependencies: ["CofferCore"], resources: [.copy("Golden")]),
        .testTarget(name: "CofferExportsTests", dependencies: ["CofferExports", "ExportGenerator"]),
        .testTarget(name: "CofferCLITests", dependencies: ["coffer", "ExportGenerator"]),
        // Real requests to a started server (raw sockets: any Host header, any cookie).
        .testTarget(name: "CofferUITests", dependencies: ["CofferUI", "ExportGenerator"]),
        .testTarget(name: "CofferS3Tests", dependencies: ["CofferS3", "CofferCore", "CofferCrypto"]),
    ],
    swiftLanguageModes: [.v6]
)
