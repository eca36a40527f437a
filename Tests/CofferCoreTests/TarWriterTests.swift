@testable import CofferCore
import Foundation
import Testing

/// The pax tar writer of `coffer dump`, on hand-made entries whose fields ustar cannot hold,
/// read back with Python's tarfile (which checks pax record lengths and header checksums).
@Suite("Tar writer")
struct TarWriterTests {
    /// Linux's encoding of a device number (glibc's `gnu_dev_makedev`).
    static func makedev(_ major: UInt64, _ minor: UInt64) -> UInt64 {
        ((major & 0xfff) << 8) | ((major & ~UInt64(0xfff)) << 32) | (minor & 0xff) | ((minor & ~UInt64(0xff)) << 12)
    }

    static func tar(_ entries: [(VersionEntry, [UInt8]?)]) throws -> [UInt8] {
        var bytes: [UInt8] = []
        let out = DumpOutput(bufferSize: 4096) { bytes += $0 }
        let writer = TarWriter(output: out)
        for (e, content) in entries {
            try writer.add(e, content: content.map { c in { emit in try c.withUnsafeBytes { try emit($0) } } })
        }
        try writer.finish()
        return bytes
    }

    @Test("pax records: large ids, long and raw-byte names and link targets, negative ns times, devices, xattrs at record-length boundaries")
    func paxFieldsReadBack() throws {
        var file = VersionEntry(type: .file, pathBytes: Array("top/a.txt".utf8), mode: 0o4755, mtimeSeconds: -2, mtimeNanoseconds: 500_000_000, size: 3)
        file.uid = 3_000_000
        file.gid = 5
        file.user = Array(repeating: UInt8(ascii: "u"), count: 40)
        file.group = [0x67, 0xFF]
        // Values around the lengths where a record's length gains a digit (99 → 100).
        file.xattrs = (70...80).map { ExtendedAttribute(name: Array("user.a\($0)".utf8), value: Array(repeating: 0x0A, count: $0)) }
        var link = VersionEntry(type: .symlink, pathBytes: Array("top/link".utf8), mode: 0o777, mtimeSeconds: 1_700_000_000, mtimeNanoseconds: 0, size: 150)
        link.linkTargetBytes = Array(repeating: UInt8(ascii: "t"), count: 149) + [0xE9]
        var device = VersionEntry(type: .blockDevice, pathBytes: Array("top/".utf8) + [0xC3, 0x28] + Array(repeating: UInt8(ascii: "d"), count: 120), mode: 0o660, mtimeSeconds: 0, mtimeNanoseconds: 0, size: 0)
        device.rdev = Self.makedev(259, 70000)
        var hard = VersionEntry(type: .hardlink, pathBytes: Array("top/hard".utf8), mode: 0o755, mtimeSeconds: 1, mtimeNanoseconds: 0, size: 3)
        hard.hardlinkTargetBytes = Array("top/a.txt".utf8)
        let dir = VersionEntry(type: .directory, pathBytes: Array("top".utf8), mode: 0o1777, mtimeSeconds: 9, mtimeNanoseconds: 7, size: 0)
        let bytes = try Self.tar([(dir, nil), (file, Array("xyz".utf8)), (hard, nil), (link, nil), (device, nil)])
        #expect(bytes.count % 512 == 0)
        let path = FileManager.default.temporaryDirectory.path + "/coffer-tarwriter-\(UUID().uuidString).tar"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let script = """
            import tarfile, sys
            def raw(s): return s.encode("utf-8", "surrogateescape").hex()
            with tarfile.open(sys.argv[1], encoding="utf-8", errors="surrogateescape") as t:
                for m in t.getmembers():
                    x = sorted((k[13:], len(v)) for k, v in m.pax_headers.items() if k.startswith("SCHILY.xattr."))
                    data = t.extractfile(m).read().decode() if m.isfile() else ""
                    print(raw(m.name), m.type.decode(), oct(m.mode), m.uid, m.gid, raw(m.uname), raw(m.gname), repr(m.mtime),
                          raw(m.linkname), m.devmajor, m.devminor, data, x)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script, path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output)")
        let lines = output.split(separator: "\n").map(String.init)
        try #require(lines.count == 5, "\(output)")
        func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }
        #expect(lines[0].hasPrefix("\(hex(Array("top".utf8))) 5 0o1777 0 0   9.000000007 "), "\(lines[0])")
        let xattrs = (70...80).map { "('user.a\($0)', \($0))" }.joined(separator: ", ")
        #expect(lines[1] == "\(hex(Array("top/a.txt".utf8))) 0 0o4755 3000000 5 \(hex(file.user)) 67ff -1.5  0 0 xyz [\(xattrs)]", "\(lines[1])")
        #expect(lines[2].hasPrefix("\(hex(Array("top/hard".utf8))) 1 0o755 0 0   1 \(hex(Array("top/a.txt".utf8))) "), "\(lines[2])")
        #expect(lines[3].hasPrefix("\(hex(Array("top/link".utf8))) 2 0o777 0 0   1700000000 \(hex(link.linkTargetBytes)) "), "\(lines[3])")
        #expect(lines[4].hasPrefix("\(hex(device.pathBytes)) 4 0o660 0 0   0  259 70000 "), "\(lines[4])")
    }

    @Test("a size of 8 GiB or more goes in a pax size record; the ustar header checksum is right")
    func largeSize() throws {
        var bytes: [UInt8] = []
        let out = DumpOutput(bufferSize: 4096) { bytes += $0 }
        let writer = TarWriter(output: out)
        let e = VersionEntry(type: .file, pathBytes: Array("big".utf8), mode: 0o644, mtimeSeconds: 0, mtimeNanoseconds: 0, size: 9 << 30)
        struct Stop: Error {}
        #expect(throws: Stop.self) { try writer.add(e, content: { _ in throw Stop() }) }
        try out.flush()
        try #require(bytes.count == 1536)
        #expect(bytes[156] == UInt8(ascii: "x"))
        let body = String(decoding: bytes[512..<1024].prefix { $0 != 0 }, as: UTF8.self)
        #expect(body == "19 size=9663676416\n")
        let header = Array(bytes[1024..<1536])
        var sum = 0
        for (i, b) in header.enumerated() { sum += (148..<156).contains(i) ? 32 : Int(b) }
        #expect(Int(String(decoding: header[148..<154], as: UTF8.self), radix: 8) == sum)
        #expect(header[156] == UInt8(ascii: "0"))
    }

    @Test("pax times: nanoseconds, and before 1970 counted down")
    func paxTimes() {
        #expect(TarWriter.paxTime(5, 7) == "5.000000007")
        #expect(TarWriter.paxTime(-2, 500_000_000) == "-1.500000000")
        #expect(TarWriter.paxTime(-1, 1) == "-0.999999999")
        #expect(TarWriter.paxTime(-3, 0) == "-3.000000000")
        #expect(TarWriter.record(Array("k".utf8), Array(repeating: 0x61, count: 94)).count == 101)
        #expect(String(decoding: TarWriter.record(Array("k".utf8), Array(repeating: 0x61, count: 94)).prefix(4), as: UTF8.self) == "101 ")
    }
}
