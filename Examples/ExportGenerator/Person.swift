// Person.swift: synthetic members, their profile URLs, e-mail addresses and jobs.

/// A LinkedIn member (a connection, a correspondent, or the account owner).
struct Person: Sendable {
    /// Unique within one generator run; never shown.
    let id: Int
    let first: NameEntry
    /// The surname as displayed; a few carry credentials (", PhD") or an emoji.
    let last: NameEntry
    /// The path component after `/in/`, already percent-encoded where needed.
    let slug: String
    /// The number in `urn:li:member:<n>` (2023-style Invitations.csv).
    let memberNumber: Int
    /// The address shown when the member lets connections see it.
    let email: String

    /// `https://www.linkedin.com/in/<slug>`: no trailing slash, no query.
    var url: String { "https://www.linkedin.com/in/" + slug }
    /// `urn:li:member:<n>`.
    var urn: String { "urn:li:member:\(memberNumber)" }
    var fullName: String { first.display + " " + last.display }
}

/// A current job, as shown in Connections.csv's Company and Position columns.
struct Job: Sendable, Equatable {
    var company: String
    var position: String
}

/// Makes people and jobs, keeping profile URLs unique.
struct PeopleFactory {
    private var usedSlugs: Set<String> = []
    private var nextID = 0
    /// Invented companies, most common first (a Zipf-like pick favours the head).
    let companies: [String]

    private static let asciiFirst = Vocabulary.firstNames.filter(\.isASCII)
    private static let nonASCIIFirst = Vocabulary.firstNames.filter { !$0.isASCII }
    private static let asciiLast = Vocabulary.lastNames.filter(\.isASCII)
    private static let nonASCIILast = Vocabulary.lastNames.filter { !$0.isASCII }
    private static let slugAlphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
    private static let hexAlphabet = Array("0123456789abcdef")
    private static let providers = [
        "gmail.com", "gmail.com", "gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "icloud.com",
        "proton.me", "gmx.de", "orange.fr", "example.com",
    ]

    init(rng: inout SeededRandom) {
        var pool: [String] = []
        var seen: Set<String> = []
        for stem in Vocabulary.companyStems {
            for suffix in Vocabulary.companySuffixes where rng.chance(0.22) {
                let name = stem + suffix
                if seen.insert(name).inserted { pool.append(name) }
            }
        }
        for special in Vocabulary.specialEmployers where seen.insert(special).inserted {
            pool.append(special)
        }
        rng.shuffle(&pool)
        // The most frequent employers (the head of the Zipf pick) are ASCII-named, so that
        // non-ASCII text stays at about a third of the rows whatever the seed.
        let head = pool.filter { $0.utf8.allSatisfy { $0 < 0x80 } }.prefix(12)
        companies = Array(head) + pool.filter { !head.contains($0) }
    }

    /// A new member with a unique profile URL.
    mutating func makePerson(rng: inout SeededRandom) -> Person {
        // About one name in eight is non-ASCII, which with companies and titles gives the
        // roughly one-third non-ASCII rows of real exports.
        let first = rng.pick(rng.chance(0.12) ? Self.nonASCIIFirst : Self.asciiFirst)
        var last = rng.pick(rng.chance(0.12) ? Self.nonASCIILast : Self.asciiLast)
        // Keep scripts mostly consistent: a CJK/Cyrillic/Greek given name with a Latin surname
        // is rare in real data, so re-draw a few times.
        for _ in 0..<4 where Self.script(of: first.display) != Self.script(of: last.display) {
            last = rng.pick(Self.script(of: first.display) == 0 ? Self.asciiLast : Self.nonASCIILast)
        }
        let slug = makeSlug(first: first, last: last, rng: &rng)
        let email = makeEmail(first: first, last: last, rng: &rng)
        let decoration = rng.unit()
        if decoration < 0.03 {
            last = NameEntry(last.display + rng.pick([", PhD", ", MBA", ", CFA", ", PMP", ", MD"]) + "|" + last.ascii)
        } else if decoration < 0.04 {
            last = NameEntry(last.display + rng.pick([" 🚀", " 🌱", " ✨"]) + "|" + last.ascii)
        }
        defer { nextID += 1 }
        return Person(
            id: nextID, first: first, last: last, slug: slug,
            memberNumber: rng.int(in: 10_000_000...999_999_999), email: email)
    }

    /// A coarse script class used only to pair names plausibly.
    private static func script(of text: String) -> Int {
        guard let scalar = text.unicodeScalars.first else { return 0 }
        switch scalar.value {
        case 0x0370...0x03FF: return 1  // Greek
        case 0x0400...0x04FF: return 2  // Cyrillic
        case 0x3040...0x30FF, 0x4E00...0x9FFF: return 3  // Japanese, Chinese
        case 0xAC00...0xD7AF: return 4  // Hangul
        default: return 0
        }
    }

    private static func asciiSlugPart(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-"
        }))
    }

    /// Percent-encodes a lowercased display name as LinkedIn does for non-ASCII vanity URLs.
    private static func percentEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.lowercased().replacingAll(" ", with: "-").utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF")
                result += "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 0xF)])
            }
        }
        return result
    }

    private mutating func makeSlug(first: NameEntry, last: NameEntry, rng: inout SeededRandom) -> String {
        let f = Self.asciiSlugPart(first.ascii)
        let l = Self.asciiSlugPart(last.ascii)
        let nonASCII = !first.isASCII || !last.isASCII
        var slug: String
        if nonASCII, rng.chance(0.45) {
            slug = "\(Self.percentEncoded(first.display))-\(Self.percentEncoded(last.display))-"
                + rng.string(count: rng.int(in: 8...9), from: Self.hexAlphabet)
        } else {
            let roll = rng.unit()
            if roll < 0.50 {
                slug = "\(f)-\(l)-" + rng.string(count: rng.int(in: 8...9), from: Self.hexAlphabet)
            } else if roll < 0.72 {
                slug = rng.chance(0.5) ? "\(f)\(l)" : "\(f)-\(l)"
            } else if roll < 0.82 {
                slug = String(f.prefix(1)) + l
            } else if roll < 0.92 {
                slug = "\(f)-\(l)-\(rng.int(in: 1...9999))"
            } else {
                slug = "\(f)\(rng.string(count: 1, from: Array("abcdefghijklmnopqrstuvwxyz")))\(l)"
            }
        }
        if slug.isEmpty || slug.hasPrefix("-") { slug = "member" + slug }
        while usedSlugs.contains(slug) {
            slug += "-" + rng.string(count: rng.int(in: 2...4), from: Self.slugAlphabet)
        }
        usedSlugs.insert(slug)
        return slug
    }

    private func makeEmail(first: NameEntry, last: NameEntry, rng: inout SeededRandom) -> String {
        let f = Self.asciiSlugPart(first.ascii).replacingAll("-", with: "")
        let l = Self.asciiSlugPart(last.ascii).replacingAll("-", with: "")
        let provider = rng.pick(Self.providers)
        switch rng.below(4) {
        case 0: return "\(f).\(l)@\(provider)"
        case 1: return "\(f)\(l)\(rng.int(in: 1...99))@\(provider)"
        case 2: return "\(f.prefix(1))\(l)@\(provider)"
        default: return "\(f)_\(l)\(rng.int(in: 1970...2001))@\(provider)"
        }
    }

    /// A company, favouring the head of the list (a network clusters around employers).
    func makeCompany(rng: inout SeededRandom) -> String {
        // Zipf-like: floor(n^u) - 1 puts most picks near the start.
        let n = Double(companies.count)
        let index = min(companies.count - 1, Int(pow(n + 1, rng.unit())) - 1)
        return companies[max(0, index)]
    }

    /// A job title.
    func makePosition(rng: inout SeededRandom) -> String {
        let roll = rng.unit()
        if roll < 0.12 { return rng.pick(Vocabulary.decoratedTitles) }
        if roll < 0.20 {
            let lead = rng.pick(["Head of ", "Director of ", "VP of ", "Head of ", "Directrice "])
            return lead + rng.pick(Vocabulary.headOfAreas)
        }
        if roll < 0.22 { return "Student at " + rng.pick(Vocabulary.schools) }
        if roll < 0.38 {
            // Headline-style titles: "Senior Data Engineer | Kafka | Postgres".
            return rng.pick(Vocabulary.seniority) + rng.pick(Vocabulary.roles) + " | " + rng.pick(Vocabulary.skills)
                + (rng.chance(0.5) ? " | " + rng.pick(Vocabulary.skills) : "")
        }
        return rng.pick(Vocabulary.seniority) + rng.pick(Vocabulary.roles)
    }

    /// A job: company and title.
    func makeJob(rng: inout SeededRandom) -> Job {
        Job(company: makeCompany(rng: &rng), position: makePosition(rng: &rng))
    }

    /// A promotion of `position`: same role, higher seniority.
    func promoted(_ position: String, rng: inout SeededRandom) -> String {
        for (from, to) in [("Junior ", ""), ("Senior ", "Lead "), ("Lead ", "Principal "), ("Associate ", "")]
        where position.hasPrefix(from) {
            return to + position.dropFirst(from.count)
        }
        if position.hasPrefix("Head of ") { return "VP of " + position.dropFirst("Head of ".count) }
        return rng.chance(0.5) ? "Senior " + position : makePosition(rng: &rng)
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
