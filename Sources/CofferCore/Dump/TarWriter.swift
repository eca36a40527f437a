/// Writes a dump as a POSIX pax tar stream (ustar headers, with a pax extended header before an
/// entry whose fields ustar cannot hold). Docs/DUMP.md describes every field.
///
/// Each entry is one 512-byte ustar header (name, mode, uid, gid, size, mtime, type, link name,
/// user and group names, device numbers), then its content padded to 512 bytes. A pax `x`
/// header comes first when one of these does not fit: `path`/`linkpath` (longer than 100 bytes,
/// or not ASCII; raw bytes, with `hdrcharset=BINARY` when not valid UTF-8), `uid`/`gid` (more
/// than 7 octal digits), `uname`/`gname` (longer than 31 bytes or not ASCII), `size` (8 GiB or
/// more), `mtime` (nanoseconds, or outside 0...8^11-1 seconds), and the extended attributes
/// (`SCHILY.xattr.NAME`, POSIX ACLs included as their raw `system.posix_acl_*` values). Sparse
/// files are written whole (holes as zeros). The stream ends with two zero blocks.
public final class TarWriter: DumpWriter {
    private let out: DumpOutput
    public var storesHardlinks: Bool { true }

    public init(output: DumpOutput) { out = output }

    public func add(_ e: VersionEntry, content: DumpContent?) throws {
        var name = e.pathBytes
        var type: UInt8
        var link: [UInt8] = []
        var size: UInt64 = 0
        switch e.type {
        case .file, .archive:
            type = UInt8(ascii: "0")
            size = e.size
        case .directory:
            type = UInt8(ascii: "5")
            name.append(UInt8(ascii: "/"))
        case .symlink:
            type = UInt8(ascii: "2")
            link = e.linkTargetBytes
        case .hardlink:
            type = UInt8(ascii: "1")
            link = e.hardlinkTargetBytes
        case .fifo:
            type = UInt8(ascii: "6")
        case .charDevice:
            type = UInt8(ascii: "3")
        case .blockDevice:
            type = UInt8(ascii: "4")
        }
        var pax: [([UInt8], [UInt8])] = []
        var binary = false
        func text(_ key: String, _ value: [UInt8], limit: Int) -> [UInt8] {
            let ascii = value.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
            if value.count > limit || !ascii {
                pax.append((Array(key.utf8), value))
                if String(validating: value, as: UTF8.self) == nil { binary = true }
                return Array(value.prefix(limit).map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: "_") })
            }
            return value
        }
        let ustarName = text("path", name, limit: 100)
        let ustarLink = text("linkpath", link, limit: 100)
        let uname = text("uname", e.user, limit: 31)
        let gname = text("gname", e.group, limit: 31)
        if e.uid > 0o7777777 { pax.append((Array("uid".utf8), Array(String(e.uid).utf8))) }
        if e.gid > 0o7777777 { pax.append((Array("gid".utf8), Array(String(e.gid).utf8))) }
        if size > 0o77777777777 { pax.append((Array("size".utf8), Array(String(size).utf8))) }
        let mtimeFits = e.mtimeSeconds >= 0 && e.mtimeSeconds <= 0o77777777777
        if e.mtimeNanoseconds != 0 || !mtimeFits { pax.append((Array("mtime".utf8), Array(Self.paxTime(e.mtimeSeconds, e.mtimeNanoseconds).utf8))) }
        for x in e.xattrs {
            if String(validating: x.name, as: UTF8.self) == nil { binary = true }
            pax.append((Array("SCHILY.xattr.".utf8) + x.name, x.value))
        }
        if !pax.isEmpty {
            var body: [UInt8] = []
            if binary { body += Self.record(Array("hdrcharset".utf8), Array("BINARY".utf8)) }
            for (key, value) in pax { body += Self.record(key, value) }
            let paxName = Array("PaxHeaders/".utf8) + Array(ustarName.suffix(89))
            try header(
                name: paxName, mode: 0o644, uid: 0, gid: 0, size: UInt64(body.count), mtime: mtimeFits ? e.mtimeSeconds : 0,
                type: UInt8(ascii: "x"), link: [], uname: [], gname: [], rdev: nil)
            try out.write(body)
            try pad(UInt64(body.count))
        }
        let device = e.type == .charDevice || e.type == .blockDevice ? e.rdev : nil
        try header(
            name: ustarName, mode: e.mode & 0o7777, uid: min(e.uid, 0o7777777), gid: min(e.gid, 0o7777777),
            size: min(size, 0o77777777777), mtime: mtimeFits ? e.mtimeSeconds : (e.mtimeSeconds < 0 ? 0 : 0o77777777777), type: type,
            link: ustarLink, uname: uname, gname: gname, rdev: device)
        if let content {
            var written: UInt64 = 0
            try content { bytes in
                written += UInt64(bytes.count)
                try out.write(bytes)
            }
            try pad(written)
        }
    }

    public func finish() throws {
        try out.zeros(1024)
        try out.flush()
    }

    private func pad(_ size: UInt64) throws {
        let rest = Int(size % 512)
        if rest != 0 { try out.zeros(512 - rest) }
    }

    private func header(
        name: [UInt8], mode: UInt32, uid: UInt32, gid: UInt32, size: UInt64, mtime: Int64, type: UInt8, link: [UInt8], uname: [UInt8],
        gname: [UInt8], rdev: UInt64?
    ) throws {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ bytes: [UInt8], at offset: Int, width: Int) {
            for (i, b) in bytes.prefix(width).enumerated() { h[offset + i] = b }
        }
        func octal(_ value: UInt64, at offset: Int, width: Int) {
            // width - 1 digits, zero-padded, then NUL.
            var s = Array(String(value, radix: 8).utf8)
            if s.count < width - 1 { s = [UInt8](repeating: UInt8(ascii: "0"), count: width - 1 - s.count) + s }
            put(s, at: offset, width: width - 1)
        }
        put(name, at: 0, width: 100)
        octal(UInt64(mode), at: 100, width: 8)
        octal(UInt64(uid), at: 108, width: 8)
        octal(UInt64(gid), at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(UInt64(mtime), at: 136, width: 12)
        h[156] = type
        put(link, at: 157, width: 100)
        put(Array("ustar\u{0}00".utf8), at: 257, width: 8)
        put(uname, at: 265, width: 32)
        put(gname, at: 297, width: 32)
        if let rdev {
            let (major, minor) = Self.split(rdev)
            octal(major & 0o7777777, at: 329, width: 8)
            octal(minor & 0o7777777, at: 337, width: 8)
        }
        // The checksum: the header's bytes summed with the checksum field as eight spaces.
        for i in 148..<156 { h[i] = UInt8(ascii: " ") }
        let sum = h.reduce(0) { $0 + UInt32($1) }
        var digits = Array(String(sum, radix: 8).utf8)
        if digits.count < 6 { digits = [UInt8](repeating: UInt8(ascii: "0"), count: 6 - digits.count) + digits }
        put(digits + [0, UInt8(ascii: " ")], at: 148, width: 8)
        try out.write(h)
    }

    /// Linux's major and minor numbers of a device number (glibc's `gnu_dev_major`/`gnu_dev_minor`).
    static func split(_ rdev: UInt64) -> (UInt64, UInt64) {
        let major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~UInt64(0xfff))
        let minor = (rdev & 0xff) | ((rdev >> 12) & ~UInt64(0xff))
        return (major, minor)
    }

    /// One pax record: `LEN KEY=VALUE\n`, LEN counting the whole record, its own digits included.
    static func record(_ key: [UInt8], _ value: [UInt8]) -> [UInt8] {
        let rest = 1 + key.count + 1 + value.count + 1
        var len = rest + String(rest).utf8.count
        if String(len).utf8.count + rest != len { len = rest + String(len).utf8.count }
        return Array(String(len).utf8) + [UInt8(ascii: " ")] + key + [UInt8(ascii: "=")] + value + [0x0A]
    }

    /// A pax time: `SECONDS.NNNNNNNNN` (before 1970, `-S.N` with N counted down from S).
    static func paxTime(_ seconds: Int64, _ nanoseconds: UInt32) -> String {
        func nine(_ n: UInt32) -> String {
            let s = String(n)
            return String(repeating: "0", count: 9 - s.count) + s
        }
        if seconds < 0 && nanoseconds > 0 { return "-\(-(seconds + 1)).\(nine(1_000_000_000 - nanoseconds))" }
        return "\(seconds).\(nine(nanoseconds))"
    }
}
