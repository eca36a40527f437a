import CofferCore
import Foundation
import Testing

/// S3 vaults end to end: the `coffer` binary against a real SeaweedFS (`weed server -s3`) on
/// 127.0.0.1. SeaweedFS comes from `make deps` (.venv/bin/weed).
@Suite(.serialized) struct S3CLITests {
    /// A scratch folder whose runs reach `store`; AWS_CA_BUNDLE names a file that does not exist,
    /// which an http endpoint must never read. Packs above 5 MiB (S3's smallest part) go up in 5 MiB parts.
    static func scratch(_ store: SeaweedFS, vault: String) throws -> Scratch {
        let s = try Scratch()
        for (k, v) in store.environment { s.environment[k] = v }
        s.environment["AWS_CA_BUNDLE"] = s.root + "/no-such-ca-bundle.pem"
        s.environment["COFFER_S3_PART_SIZE"] = String(5 << 20)
        return s
    }

    @Test func everyCommandOnAnS3Vault() throws {
        let store = try SeaweedFS.single()
        defer { store.stop() }
        let vault = "s3:\(store.endpoint)/coffer-test/vaults/one"
        let s = try Self.scratch(store, vault: vault)
        let env = ["COFFER_VAULT": vault]

        // init creates the bucket.
        let created = try s.run(["init"], environment: env)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.contains(vault))
        // A second init into the same prefix is refused.
        #expect(try s.run(["init"], environment: env).status != 0)

        // Incompressible and over 5 MiB: its pack is a multipart upload of two parts.
        let big = pseudoRandomBytes(count: 6_500_000, seed: 7)
        try s.write("docs/report.bin", big)
        try s.write("docs/notes/a.txt", "first line\n")
        let seal = try s.run(["seal", s.path("docs"), "--name", "docs", "--quiet"], environment: env)
        #expect(seal.status == 0, "\(seal.stderr)")
        #expect(try s.run(["list"], environment: env).stdout.contains("docs"))
        #expect(try s.run(["ls", "docs@latest"], environment: env).stdout.contains("report.bin"))

        // Restore, byte for byte.
        let restore = try s.run(["restore", "docs@latest", "--to", s.path("out")], environment: env)
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(try s.read("out/docs/report.bin") == big)
        #expect(try s.read("out/docs/notes/a.txt") == Array("first line\n".utf8))

        // A second version, diff, check --read-data, status.
        try s.write("docs/notes/b.txt", "second\n")
        #expect(try s.run(["seal", s.path("docs"), "--name", "docs", "--quiet"], environment: env).status == 0)
        let diff = try s.run(["diff", "docs@-1", "docs@latest"], environment: env)
        #expect(diff.status == 0 && diff.stdout.contains("b.txt"), "\(diff.stderr)")
        let check = try s.run(["check", "--read-data"], environment: env)
        #expect(check.status == 0, "\(check.stderr)")
        #expect(try s.run(["status"], environment: env).status == 0)

        // Key changes.
        try s.write("new.txt", "another passphrase\n")
        let add = try s.run(["key", "add", "--new-passphrase-file", s.path("new.txt")], environment: env)
        #expect(add.status == 0, "\(add.stderr)")
        #expect(try s.run(["list"], passphrase: "another passphrase", environment: env).status == 0)

        // forget and prune.
        let forget = try s.run(["forget", "--keep-last", "1", "--prune"], environment: env)
        #expect(forget.status == 0, "\(forget.stderr)")
        let prune = try s.run(["prune"], environment: env)
        #expect(prune.status == 0, "\(prune.stderr)")
        #expect(try s.run(["check", "--read-data"], environment: env).status == 0)

        // sync s3 -> folder, then folder -> another s3 prefix.
        let down = try s.run(["sync", s.path("copy"), "--quiet"], environment: env)
        #expect(down.status == 0, "\(down.stderr)")
        #expect(try s.run(["check", "--read-data"], environment: ["COFFER_VAULT": s.path("copy")]).status == 0)
        // Into a bucket that does not exist yet: sync creates it.
        let second = "s3:\(store.endpoint)/coffer-second/vaults/two"
        let up = try s.run(["sync", second, "--quiet"], environment: ["COFFER_VAULT": s.path("copy")])
        #expect(up.status == 0, "\(up.stderr)")
        let checkUp = try s.run(["check", "--read-data"], environment: ["COFFER_VAULT": second])
        #expect(checkUp.status == 0, "\(checkUp.stderr)")
        let again = try s.run(["restore", "docs@latest", "--to", s.path("out2")], environment: ["COFFER_VAULT": second])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try s.read("out2/docs/report.bin") == big)
        #expect(try s.read("out2/docs/notes/b.txt") == Array("second\n".utf8))
    }

    @Test func wrongKeysAndBadLocationsAreOneLineErrors() throws {
        let store = try SeaweedFS.single()
        defer { store.stop() }
        let vault = "s3:\(store.endpoint)/coffer-test/v"
        let s = try Self.scratch(store, vault: vault)
        #expect(try s.run(["init"], environment: ["COFFER_VAULT": vault]).status == 0)
        let denied = try s.run(["list"], environment: ["COFFER_VAULT": vault, "AWS_SECRET_ACCESS_KEY": "wrong"])
        #expect(denied.status != 0)
        #expect(denied.stderr.contains("credentials"), "\(denied.stderr)")
        #expect(denied.stderr.split(separator: "\n").count == 1, "\(denied.stderr)")
        let bad = try s.run(["list"], environment: ["COFFER_VAULT": "s3:ftp://x/y"])
        #expect(bad.status != 0 && bad.stderr.contains("not an S3 location"), "\(bad.stderr)")
        let empty = try s.run(["list"], environment: ["COFFER_VAULT": "s3:\(store.endpoint)/coffer-test/nothing-here"])
        #expect(empty.status != 0, "\(empty.stderr)")
    }

    /// An rclone S3 remote (configured by RCLONE_CONFIG_* variables, no secret in argv) on the same
    /// gateway: `coffer sync rclone:NAME:bucket/path` makes a copy that is a complete vault.
    @Test func syncToAnRcloneS3Remote() throws {
        guard Binaries.tool("rclone") != nil else { return }
        let store = try SeaweedFS.single()
        defer { store.stop() }
        let s = try Self.scratch(store, vault: "")
        try s.initVault()
        try s.write("in/a.bin", pseudoRandomBytes(count: 200_000, seed: 3))
        try s.ok(["seal", s.path("in"), "--quiet"])
        // The bucket first (through coffer's own S3 backend: init of another prefix).
        #expect(try s.run(["init"], environment: ["COFFER_VAULT": "s3:\(store.endpoint)/rclone-bucket/other"]).status == 0)
        let rclone = [
            "RCLONE_CONFIG_WEED_TYPE": "s3", "RCLONE_CONFIG_WEED_PROVIDER": "SeaweedFS", "RCLONE_CONFIG_WEED_ENDPOINT": store.endpoint,
            "RCLONE_CONFIG_WEED_ACCESS_KEY_ID": SeaweedFS.accessKey, "RCLONE_CONFIG_WEED_SECRET_ACCESS_KEY": SeaweedFS.secretKey,
            // rclone 1.60's S3 backend fails on any AWS_CA_BUNDLE ("unable to load custom CA bundle,
            // HTTPClient's transport unsupported type"), even for an http endpoint: unset for rclone.
            "AWS_CA_BUNDLE": "",
        ]
        let r = try s.run(["sync", "rclone:weed:rclone-bucket/copy", "--quiet"], environment: rclone)
        #expect(r.status == 0, "\(r.stderr)")
        // Read back through coffer's S3 backend: the same objects.
        let check = try s.run(["check", "--read-data"], environment: ["COFFER_VAULT": "s3:\(store.endpoint)/rclone-bucket/copy"])
        #expect(check.status == 0, "\(check.stderr)")
    }
}
