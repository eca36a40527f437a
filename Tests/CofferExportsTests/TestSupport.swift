// TestSupport.swift: helpers for the CofferExports tests (SHA-256, python3, temp dirs, CSV).

import CofferCore
import Foundation
import Testing

/// A small SHA-256 (FIPS 180-4), so tests need no crypto module to compare digests.
enum TestSHA256 {
    private static let k: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]

    static func hex(_ bytes: [UInt8]) -> String {
        var h: [UInt32] = [
            0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
        ]
        var message = bytes
        let bitLength = UInt64(bytes.count) * 8
        message.append(0x80)
        while message.count % 64 != 56 { message.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) { message.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
        var w = [UInt32](repeating: 0, count: 64)
        for chunk in stride(from: 0, to: message.count, by: 64) {
            for i in 0..<16 {
                let j = chunk + i * 4
                w[i] = UInt32(message[j]) << 24 | UInt32(message[j + 1]) << 16 | UInt32(message[j + 2]) << 8 | UInt32(message[j + 3])
            }
            for i in 16..<64 {
                let s0 = w[i - 15].rotatedRight(7) ^ w[i - 15].rotatedRight(18) ^ (w[i - 15] >> 3)
                let s1 = w[i - 2].rotatedRight(17) ^ w[i - 2].rotatedRight(19) ^ (w[i - 2] >> 10)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
            for i in 0..<64 {
                let s1 = e.rotatedRight(6) ^ e.rotatedRight(11) ^ e.rotatedRight(25)
                let ch = (e & f) ^ (~e & g)
                let t1 = hh &+ s1 &+ ch &+ k[i] &+ w[i]
                let s0 = a.rotatedRight(2) ^ a.rotatedRight(13) ^ a.rotatedRight(22)
                let maj = (a & b) ^ (a & c) ^ (b & c)
                let t2 = s0 &+ maj
                (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
            }
            for (i, value) in [a, b, c, d, e, f, g, hh].enumerated() { h[i] = h[i] &+ value }
        }
        return h.map { word in
            let s = String(word, radix: 16)
            return String(repeating: "0", count: 8 - s.count) + s
        }.joined()
    }
}

extension UInt32 {
    fileprivate func rotatedRight(_ count: UInt32) -> UInt32 { self >> count | self << (32 - count) }
}

/// Hex encoding and decoding for fixtures.
enum Hex {
    static func decode(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            bytes.append(UInt8(nibble(high) << 4 | nibble(low)))
        }
        return bytes
    }

    private static func nibble(_ c: UInt8) -> Int {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(c - UInt8(ascii: "a") + 10)
        default: 0
        }
    }
}

/// The outcome of running a program.
struct ProcessResult {
    let status: Int32
    let output: String
    let error: String
}

/// Runs `executable` (looked up on PATH via /usr/bin/env) with `arguments` and returns its output.
func runProgram(_ executable: String, _ arguments: [String]) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [executable] + arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read before waiting so a chatty child cannot fill the pipe and block.
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(
        status: process.terminationStatus, output: String(decoding: outData, as: UTF8.self),
        error: String(decoding: errData, as: UTF8.self))
}

/// Runs a python3 script with arguments; the script's stdout is returned.
func runPython(_ script: String, _ arguments: [String] = []) throws -> ProcessResult {
    try runProgram("python3", ["-c", script] + arguments)
}

/// A fresh temporary directory, removed by the caller with `removeTemporaryDirectory`.
func makeTemporaryDirectory(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("coffer-exports-tests-\(label)-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func removeTemporaryDirectory(_ url: URL) {
    try? FileManager.default.removeItem(at: url)
}

/// One parsed CSV field and whether it was quoted in the file.
struct CSVCell: Equatable {
    let value: String
    let quoted: Bool
}

/// A strict RFC 4180 reader for checking the generator's output (records end in LF).
func parseCSV(_ text: String) -> [[CSVCell]] {
    let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), newline = UInt8(ascii: "\n")
    var records: [[CSVCell]] = []
    var record: [CSVCell] = []
    var field: [UInt8] = []
    var quoted = false
    var inQuotes = false
    let bytes = Array(text.utf8)
    var index = 0
    func endField() {
        record.append(CSVCell(value: String(decoding: field, as: UTF8.self), quoted: quoted))
        field.removeAll(keepingCapacity: true)
        quoted = false
    }
    while index < bytes.count {
        let c = bytes[index]
        index += 1
        if inQuotes {
            if c == quote {
                if index < bytes.count, bytes[index] == quote {
                    field.append(quote)
                    index += 1
                } else {
                    inQuotes = false
                }
            } else {
                field.append(c)
            }
        } else if c == quote && field.isEmpty {
            inQuotes = true
            quoted = true
        } else if c == comma {
            endField()
        } else if c == newline {
            endField()
            records.append(record)
            record = []
        } else {
            field.append(c)
        }
    }
    if !field.isEmpty || quoted || !record.isEmpty {
        endField()
        records.append(record)
    }
    return records
}

@Suite("Test support")
struct TestSupportTests {
    @Test("SHA-256 known answers")
    func sha256() {
        #expect(TestSHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(TestSHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test("CSV reader handles quotes, doubled quotes and embedded newlines")
    func csvReader() {
        let records = parseCSV("a,\"b,c\",\"say \"\"hi\"\"\"\n\"x\ny\",,z")
        #expect(records.count == 2)
        #expect(records[0] == [CSVCell(value: "a", quoted: false), CSVCell(value: "b,c", quoted: true), CSVCell(value: "say \"hi\"", quoted: true)])
        #expect(records[1].map(\.value) == ["x\ny", "", "z"])
    }
}

extension Vault {
    /// The entries of version `id`, collected from its walk, archive layouts loaded (tests
    /// only: commands stream).
    func listing(_ id: ObjectID, expandArchives: Bool = false) throws -> [VersionEntry] {
        var out: [VersionEntry] = []
        try walker(for: id, expandArchives: expandArchives).forEach { e in
            var e = e
            if e.type == .archive { e.archive = try archiveLayout(of: e) }
            out.append(e)
        }
        return out
    }
}
