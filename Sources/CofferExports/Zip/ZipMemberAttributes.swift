// ZipMemberAttributes.swift: a member's modification time and Unix mode, read the way unzip
// reads them.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension ZipMember {
    /// The modification time in seconds since 1970 (UTC):
    /// - the extended-timestamp extra field (`UT`, 0x5455) when it holds one (flag bit 0): a
    ///   signed 32-bit count of seconds since 1970, UTC; the central directory's first, else
    ///   the local header's;
    /// - otherwise the MS-DOS date and time, which carry no time zone: read, as `unzip` and
    ///   Info-ZIP's `zip` do, as the local time of the machine that seals (the `TZ` setting),
    ///   daylight saving time as it applied on that date. An impossible date counts as
    ///   1980-01-01 00:00 local time.
    public var unixModificationTime: Int64 {
        Self.extendedTime(in: centralExtra) ?? Self.extendedTime(in: localExtra) ?? Self.localTime(modified)
    }

    /// The modification time of an extended-timestamp field (0x5455, flag bit 0) in `extra`.
    static func extendedTime(in extra: [UInt8]) -> Int64? {
        guard let field = ZipExtraField.find(id: 0x5455, in: extra), field.count >= 5, field[0] & 1 != 0 else { return nil }
        let value = UInt32(field[1]) | UInt32(field[2]) << 8 | UInt32(field[3]) << 16 | UInt32(field[4]) << 24
        return Int64(Int32(bitPattern: value))
    }

    /// The DOS date and time `t` read as local time (`mktime`), or as UTC when `mktime` fails.
    static func localTime(_ t: ZipWriter.DOSTimestamp) -> Int64 {
        let valid = (1...12).contains(t.month) && (1...31).contains(t.day) && t.hour < 24 && t.minute < 60 && t.second < 60
        var parts = tm()
        parts.tm_year = Int32(valid ? t.year : 1980) - 1900
        parts.tm_mon = Int32(valid ? t.month : 1) - 1
        parts.tm_mday = Int32(valid ? t.day : 1)
        parts.tm_hour = Int32(valid ? t.hour : 0)
        parts.tm_min = Int32(valid ? t.minute : 0)
        parts.tm_sec = Int32(valid ? t.second : 0)
        parts.tm_isdst = -1
        let seconds = mktime(&parts)
        return seconds == -1 ? ZipArchiveHandler.unixTime(t) : Int64(seconds)
    }

    /// The Unix mode from the external attributes' high 16 bits when the member was made on
    /// Unix ("version made by" host 3), as `unzip` applies it; 0 when the archive records none.
    public var unixMode: UInt32 {
        guard versionMadeBy >> 8 == 3 else { return 0 }
        return externalAttributes >> 16
    }
}
