import CofferCore
import CofferS3
import Testing

@Suite struct S3LocationTests {
    @Test func httpsWithPrefix() throws {
        let l = try S3Location(parsing: "s3:https://s3.example.com/my-bucket/backups/coffer/")
        #expect(l.secure && l.host == "s3.example.com" && l.port == 443)
        #expect(l.bucket == "my-bucket" && l.prefix == "backups/coffer")
        #expect(l.key("packs/ab/cd") == "backups/coffer/packs/ab/cd")
        #expect(l.hostHeader == "s3.example.com")
        #expect(l.description == "s3:https://s3.example.com/my-bucket/backups/coffer")
    }

    @Test func httpWithPortNoPrefix() throws {
        let l = try S3Location(parsing: "s3:http://127.0.0.1:8333/vault")
        #expect(!l.secure && l.host == "127.0.0.1" && l.port == 8333 && l.bucket == "vault" && l.prefix == "")
        #expect(l.key("config") == "config")
        #expect(l.hostHeader == "127.0.0.1:8333")
    }

    @Test func ipv6() throws {
        let l = try S3Location(parsing: "s3:http://[::1]:9000/bkt")
        #expect(l.host == "::1" && l.port == 9000 && l.hostHeader == "[::1]:9000")
    }

    @Test(arguments: [
        "s3:", "s3:ftp://host/bucket", "s3:host/bucket", "s3:https://", "s3:https:///bucket", "s3:https://host", "s3:https://host/",
        "s3:https://host:0/bucket", "s3:https://host:99999/bucket", "s3:https://host:x/bucket", "s3:https://user:pw@host/bucket",
        "s3:https://host/Bad_Bucket", "s3:https://host/ab", "s3:https://host/bucket/../x", "s3:https://host/bucket?x=1",
    ])
    func badFormsAreOneLineErrors(_ text: String) {
        do {
            _ = try S3Location(parsing: text)
            Issue.record("accepted \(text)")
        } catch CofferError.invalidArgument(let m) {
            #expect(!m.contains("\n"))
            #expect(m.contains("s3:https://HOST"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func vaultLocationHandsS3ToTheProvider() throws {
        S3Storage.register()
        let l = try VaultLocation(parsing: "s3:http://127.0.0.1:1/bucket/p")
        #expect(l == .s3(url: "s3:http://127.0.0.1:1/bucket/p"))
        #expect(l.backend().location == "s3:http://127.0.0.1:1/bucket/p")
        #expect(throws: CofferError.self) { try VaultLocation(parsing: "s3:nope") }
    }
}

@Suite struct S3CredentialsTests {
    @Test func environmentFirst() throws {
        let c = try S3Credentials.resolve(environment: [
            "AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK", "AWS_SESSION_TOKEN": "TOK", "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        ])
        #expect(c == S3Credentials(accessKeyID: "AK", secretAccessKey: "SK", sessionToken: "TOK", region: "eu-west-1"))
    }

    @Test func defaultRegion() throws {
        let c = try S3Credentials.resolve(environment: ["AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK"])
        #expect(c.region == "us-east-1" && c.sessionToken == nil)
    }

    @Test func parsesProfiles() {
        let text = """
            # comment
            [default]
            aws_access_key_id = AKDEF
            aws_secret_access_key=SKDEF

            ; another
            [profile work]
            AWS_ACCESS_KEY_ID = AKWORK
            aws_secret_access_key = SK/WORK+=x
            aws_session_token = T
            region = ap-south-1
            """
        let p = S3Credentials.parseCredentialsFile(text)
        #expect(p["default"] == ["aws_access_key_id": "AKDEF", "aws_secret_access_key": "SKDEF"])
        #expect(p["work"]?["aws_access_key_id"] == "AKWORK")
        #expect(p["work"]?["aws_secret_access_key"] == "SK/WORK+=x")
    }

    @Test func fileProfileChosenByAWSProfile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-s3-cred-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("credentials").path
        try "[default]\naws_access_key_id=A\naws_secret_access_key=B\n[work]\naws_access_key_id=C\naws_secret_access_key=D\nregion=eu-central-1\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let d = try S3Credentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": file])
        #expect(d.accessKeyID == "A" && d.secretAccessKey == "B" && d.region == "us-east-1")
        let w = try S3Credentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": file, "AWS_PROFILE": "work"])
        #expect(w.accessKeyID == "C" && w.region == "eu-central-1")
        #expect(throws: CofferError.self) { try S3Credentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": file, "AWS_PROFILE": "none"]) }
        #expect(throws: CofferError.self) { try S3Credentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": dir.path + "/missing"]) }
        #expect(throws: CofferError.self) { try S3Credentials.resolve(environment: ["AWS_ACCESS_KEY_ID": "only"]) }
    }
}

@Suite struct S3RetryPolicyTests {
    @Test func whatIsRetried() {
        #expect(S3RetryPolicy.isRetryable(status: 500))
        #expect(S3RetryPolicy.isRetryable(status: 503))
        #expect(S3RetryPolicy.isRetryable(status: 429))
        #expect(!S3RetryPolicy.isRetryable(status: 404))
        #expect(!S3RetryPolicy.isRetryable(status: 403))
        #expect(!S3RetryPolicy.isRetryable(status: 200))
    }

    @Test func exponentialWithCapAndFullJitter() {
        let p = S3RetryPolicy(attempts: 8, base: 0.2, cap: 5)
        #expect(p.ceiling(retry: 1) == 0.2)
        #expect(p.ceiling(retry: 2) == 0.4)
        #expect(p.ceiling(retry: 4) == 1.6)
        #expect(p.ceiling(retry: 10) == 5)
        #expect(p.delay(retry: 3, unit: 0) == 0)
        #expect(p.delay(retry: 3, unit: 0.5) == 0.4)
        #expect(p.delay(retry: 3, unit: 7) == 0.8)
    }
}

import Foundation
