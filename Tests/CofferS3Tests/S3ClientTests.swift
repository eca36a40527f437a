import CofferCore
import Foundation
import Testing

@testable import CofferS3

@Suite struct S3ClientTests {
    let keys = ["AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK"]

    @Test func pathStyleByDefault() throws {
        let c = try S3Client(location: try S3Location(parsing: "s3:http://store.local:9000/bkt/pre"), credentials: .resolve(environment: keys), environment: keys)
        #expect(c.target("pre/packs/ab/x") == ("store.local:9000", "/bkt/pre/packs/ab/x"))
        #expect(c.target(nil) == ("store.local:9000", "/bkt"))
    }

    @Test func virtualHostStyleByOption() throws {
        var env = keys
        env["COFFER_S3_BUCKET_LOOKUP"] = "dns"
        let c = try S3Client(location: try S3Location(parsing: "s3:https://s3.example.com/bkt"), credentials: .resolve(environment: env), environment: env)
        #expect(c.target("a b/c") == ("bkt.s3.example.com", "/a%20b/c"))
    }

    /// AWS_CA_BUNDLE is read for https only: a bundle that cannot be read refuses an https
    /// endpoint, in one line, and never an http one.
    @Test func caBundleOnlyForHTTPS() throws {
        var env = keys
        env["AWS_CA_BUNDLE"] = "/nonexistent/ca.pem"
        let http = S3Backend(location: try S3Location(parsing: "s3:http://127.0.0.1:1/bkt"), environment: env, retry: S3RetryPolicy(attempts: 1))
        // Unusable only because nothing listens on port 1: the error is about the connection.
        do { _ = try http.size("config"); Issue.record("port 1 answered") } catch CofferError.remote(_, let reason) {
            #expect(!reason.contains("AWS_CA_BUNDLE"))
        }
        let https = S3Backend(location: try S3Location(parsing: "s3:https://127.0.0.1:1/bkt"), environment: env)
        do { _ = try https.size("config"); Issue.record("accepted an unreadable bundle") } catch CofferError.invalidArgument(let m) {
            #expect(m.contains("AWS_CA_BUNDLE") && !m.contains("\n"))
        }
    }

    @Test func missingCredentialsAreReportedOnUse() throws {
        let b = S3Backend(location: try S3Location(parsing: "s3:http://127.0.0.1:1/bkt"), environment: ["AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"])
        #expect(throws: CofferError.self) { try b.list("index") }
    }

    @Test func listingXML() {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p/</Prefix>
            <IsTruncated>true</IsTruncated><NextContinuationToken>tok&amp;1</NextContinuationToken>
            <Contents><Key>p/index/aa</Key><LastModified>2026-12-06T19:00:01.500Z</LastModified><Size>12</Size><ETag>"x"</ETag></Contents>
            <Contents><Key>p/index/bb</Key><Size>0</Size></Contents>
            <CommonPrefixes><Prefix>p/keys/</Prefix></CommonPrefixes></ListBucketResult>
            """
        let page = S3XML(Array(xml.utf8))!.listing()
        #expect(page.objects.map(\.key) == ["p/index/aa", "p/index/bb"])
        #expect(page.objects.map(\.size) == [12, 0])
        // LastModified gives prune's age rule its times; a listing without one leaves it unknown.
        #expect(page.objects[0].modified == Date(timeIntervalSince1970: 1_796_583_601.5))
        #expect(page.objects[1].modified == nil)
        #expect(page.prefixes == ["p/keys/"])
        #expect(page.next == "tok&1")
    }
}
