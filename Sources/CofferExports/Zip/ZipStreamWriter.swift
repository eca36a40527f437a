// ZipStreamWriter.swift: `coffer dump --archive zip`, a zip written forward only (no seek).
//
// Byte grammar written (little-endian, APPNOTE.TXT 6.3.x; Docs/DUMP.md says what each field carries):
//
//     archive      = { entry } || central-dir || [zip64-eocd || zip64-locator] || eocd
//     entry        = local-header || data || [descriptor]         (descriptor: files only)
//     local-header = 50 4B 03 04 || need:u16 || flags:u16 || method:u16 || time:u16 || date:u16
//                    || crc:u32 || csize:u32 || usize:u32 || nameLen:u16 || extraLen:u16 || name
//                    || [zip64: 01 00 10 00 || usize:u64(0) || csize:u64(0)] || [55 54 05 00 01 mtime:i32]
//     descriptor   = 50 4B 07 08 || crc:u32 || csize:(u32|u64) || usize:(u32|u64)
//     central      = 50 4B 01 02 || madeBy:u16(0x032D) || need:u16 || flags:u16 || method:u16 || time:u16
//                    || date:u16 || crc:u32 || csize:u32 || usize:u32 || nameLen:u16 || extraLen:u16
//                    || commentLen:u16(0) || disk:u16(0) || internal:u16(0) || external:u32(mode << 16)
//                    || offset:u32 || name || [zip64: 01 00 len:u16 || [usize:u64] || [csize:u64]
//                    || [offset:u64]] || [55 54 05 00 01 mtime:i32]
//     eocd         = 50 4B 05 06 || 0:u16 || 0:u16 || entries:u16 || entries:u16 || cdSize:u32
//                    || cdOffset:u32 || 0:u16

import CofferCore
import Foundation

/// Writes a dump as a zip stream: each file deflated (zlib level 6) behind a local header with a
/// data descriptor (flag bit 3), folders as `name/` entries, symbolic links as stored entries
/// holding their target, with the unix mode in the external attributes (made by 3, Unix) and the
/// mtime as a DOS time plus an extended-timestamp field (0x5455). Zip64 fields are written for
/// an entry whose sizes or offset reach `zip64Limit`, and a Zip64 end record when the central
/// directory or the entry count needs one. Named pipes and devices are skipped (counted in
/// ``skippedSpecial``).
///
/// The central directory is kept in an unlinked temporary file until the end (a record per
/// entry), so memory does not grow with the number of entries.
public final class ZipStreamWriter: DumpWriter {
    private let out: DumpOutput
    /// Sizes and offsets at or above this get Zip64 fields (0xFFFFFFFF; smaller in tests).
    private let zip64Limit: UInt64
    private let entryLimit: UInt64
    private var central: UnsafeMutablePointer<FILE>?
    private var entries: UInt64 = 0
    /// Named pipes and devices left out (zip has no such entries), and the first one's path.
    public private(set) var skippedSpecial = 0
    public private(set) var firstSkipped: [UInt8] = []
    public var storesHardlinks: Bool { false }

    public init(output: DumpOutput, zip64Limit: UInt64 = 0xFFFF_FFFF) throws {
        out = output
        self.zip64Limit = min(zip64Limit, 0xFFFF_FFFF)
        entryLimit = min(self.zip64Limit, 0xFFFF)
        guard let f = tmpfile() else { throw CofferError.io(path: "temporary file for the zip's central directory", operation: "create", errno: errno) }
        central = f
    }

    deinit { if let central { fclose(central) } }

    public func add(_ e: VersionEntry, content: DumpContent?) throws {
        var name = e.pathBytes
        var mode = e.mode & 0o7777
        var method: UInt16 = 0
        var stored: [UInt8] = []
        switch e.type {
        case .directory:
            name.append(UInt8(ascii: "/"))
            mode |= UInt32(S_IFDIR)
        case .symlink:
            mode |= UInt32(S_IFLNK)
            stored = e.linkTargetBytes
        case .file, .archive, .hardlink:
            mode |= UInt32(S_IFREG)
            method = 8
        case .fifo, .charDevice, .blockDevice:
            if skippedSpecial == 0 { firstSkipped = e.pathBytes }
            skippedSpecial += 1
            return
        }
        guard name.count <= 0xFFFF else {
            throw CofferError.invalidArgument("\(e.displayPath): a zip name holds at most 65535 bytes")
        }
        let offset = out.offset
        let streamed = method == 8
        // Deflate never grows data by more than this (zlib's deflateBound is smaller).
        let worst = e.size + e.size / 1000 + 64
        let zip64Sizes = streamed && worst >= zip64Limit
        var flags: UInt16 = streamed ? 0x0008 : 0
        if String(validating: name, as: UTF8.self) != nil { flags |= 0x0800 }
        let (time, date) = Self.dosTime(e.mtimeSeconds)
        let stamp = e.mtimeSeconds >= 0 && e.mtimeSeconds <= Int64(Int32.max) ? e.mtimeSeconds : nil
        var crc: UInt32 = 0
        if !streamed { crc = Deflate.crc32(stored) }

        var w = ZipStreamBytes()
        w.u32(0x0403_4B50)
        w.u16(zip64Sizes || offset >= zip64Limit ? 45 : 20)
        w.u16(flags)
        w.u16(method)
        w.u16(time)
        w.u16(date)
        w.u32(crc)
        w.u32(zip64Sizes ? 0xFFFF_FFFF : UInt32(stored.count))
        w.u32(zip64Sizes ? 0xFFFF_FFFF : UInt32(stored.count))
        w.u16(UInt16(name.count))
        w.u16(UInt16((zip64Sizes ? 20 : 0) + (stamp != nil ? 9 : 0)))
        w.raw(name)
        if zip64Sizes {
            w.u16(0x0001); w.u16(16); w.u64(0); w.u64(0)
        }
        if let stamp { w.u16(0x5455); w.u16(5); w.u8(1); w.u32(UInt32(stamp)) }
        try out.write(w.bytes)

        var usize = UInt64(stored.count), csize = UInt64(stored.count)
        if streamed {
            usize = 0
            csize = 0
            let deflater: DeflateStream
            do { deflater = try DeflateStream(level: 6) } catch { throw CofferError.invalidArgument("zip: \(error)") }
            func emit(_ packed: [UInt8]) throws {
                csize += UInt64(packed.count)
                try out.write(packed)
            }
            try content? { bytes in
                crc = Deflate.crc32(bytes, initial: crc)
                usize += UInt64(bytes.count)
                do { try emit(try deflater.compress(bytes)) } catch let error as DeflateError { throw CofferError.invalidArgument("zip: \(error)") }
            }
            do { try emit(try deflater.finish()) } catch let error as DeflateError { throw CofferError.invalidArgument("zip: \(error)") }
            guard zip64Sizes || (csize < zip64Limit && usize < zip64Limit) else {
                throw CofferError.invalidArgument("\(e.displayPath): compressed to \(csize) bytes, more than a zip entry without Zip64 holds")
            }
            var d = ZipStreamBytes()
            d.u32(0x0807_4B50)
            d.u32(crc)
            if zip64Sizes { d.u64(csize); d.u64(usize) } else { d.u32(UInt32(csize)); d.u32(UInt32(usize)) }
            try out.write(d.bytes)
        } else {
            try out.write(stored)
        }

        // The central directory record, kept for the end.
        let bigOffset = offset >= zip64Limit
        var extra = ZipStreamBytes()
        if zip64Sizes || bigOffset {
            extra.u16(0x0001)
            extra.u16(UInt16((zip64Sizes ? 16 : 0) + (bigOffset ? 8 : 0)))
            if zip64Sizes { extra.u64(usize); extra.u64(csize) }
            if bigOffset { extra.u64(offset) }
        }
        if let stamp { extra.u16(0x5455); extra.u16(5); extra.u8(1); extra.u32(UInt32(stamp)) }
        var c = ZipStreamBytes()
        c.u32(0x0201_4B50)
        c.u16(0x032D)
        c.u16(zip64Sizes || bigOffset ? 45 : 20)
        c.u16(flags)
        c.u16(method)
        c.u16(time)
        c.u16(date)
        c.u32(crc)
        c.u32(zip64Sizes ? 0xFFFF_FFFF : UInt32(csize))
        c.u32(zip64Sizes ? 0xFFFF_FFFF : UInt32(usize))
        c.u16(UInt16(name.count))
        c.u16(UInt16(extra.bytes.count))
        c.u16(0)
        c.u16(0)
        c.u16(0)
        c.u32(mode << 16 | (e.type == .directory ? 0x10 : 0))
        c.u32(bigOffset ? 0xFFFF_FFFF : UInt32(offset))
        c.raw(name)
        c.raw(extra.bytes)
        guard c.bytes.withUnsafeBytes({ fwrite($0.baseAddress, 1, $0.count, central) }) == c.bytes.count else {
            throw CofferError.io(path: "temporary file for the zip's central directory", operation: "write", errno: errno)
        }
        entries += 1
    }

    public func finish() throws {
        let cdOffset = out.offset
        guard fflush(central) == 0, fseek(central, 0, SEEK_SET) == 0 else {
            throw CofferError.io(path: "temporary file for the zip's central directory", operation: "read", errno: errno)
        }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, central) }
            if n > 0 { try buffer.withUnsafeBytes { try out.write(UnsafeRawBufferPointer(rebasing: $0[..<n])) } }
            if n < buffer.count {
                guard ferror(central) == 0 else {
                    throw CofferError.io(path: "temporary file for the zip's central directory", operation: "read", errno: errno)
                }
                break
            }
        }
        let cdSize = out.offset - cdOffset
        var w = ZipStreamBytes()
        let zip64 = entries >= entryLimit || cdOffset >= zip64Limit || cdSize >= zip64Limit
        if zip64 {
            let recordOffset = out.offset
            w.u32(0x0606_4B50); w.u64(44); w.u16(0x032D); w.u16(45); w.u32(0); w.u32(0)
            w.u64(entries); w.u64(entries); w.u64(cdSize); w.u64(cdOffset)
            w.u32(0x0706_4B50); w.u32(0); w.u64(recordOffset); w.u32(1)
        }
        w.u32(0x0605_4B50); w.u16(0); w.u16(0)
        w.u16(zip64 ? 0xFFFF : UInt16(entries)); w.u16(zip64 ? 0xFFFF : UInt16(entries))
        w.u32(zip64 ? 0xFFFF_FFFF : UInt32(cdSize)); w.u32(zip64 ? 0xFFFF_FFFF : UInt32(cdOffset)); w.u16(0)
        try out.write(w.bytes)
        try out.flush()
    }

    /// The DOS time and date of a Unix time, in local time as zip tools read it, clamped to
    /// 1980-01-01 … 2107-12-31.
    static func dosTime(_ seconds: Int64) -> (time: UInt16, date: UInt16) {
        var t = time_t(seconds)
        var tm = Glibc.tm()
        guard localtime_r(&t, &tm) != nil else { return (0, 0x21) }
        let year = Int(tm.tm_year) + 1900
        if year < 1980 { return (0, 0x21) }
        if year > 2107 { return (0xBF7D, 0xFF9F) }
        let date = UInt16((year - 1980) << 9 | Int(tm.tm_mon + 1) << 5 | Int(tm.tm_mday))
        let time = UInt16(Int(tm.tm_hour) << 11 | Int(tm.tm_min) << 5 | Int(tm.tm_sec) / 2)
        return (time, date)
    }
}

/// Little-endian integers appended to a byte array.
private struct ZipStreamBytes {
    var bytes: [UInt8] = []
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { bytes += [UInt8(v & 0xFF), UInt8(v >> 8)] }
    mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    mutating func u64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    mutating func raw(_ b: [UInt8]) { bytes += b }
}
