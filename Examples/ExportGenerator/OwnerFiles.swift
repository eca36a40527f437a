// OwnerFiles.swift: the account owner's own data, the small files of a Basic export.
//
// Profile, positions, skills, endorsements, follows, learning, saved jobs, rich media,
// ad targeting... Each evolves a little between exports the way real exports do: social
// lists grow at the top, Saved Jobs grows at the bottom (it is oldest first), the
// Ad_Targeting row churns, and every Rich_Media link is re-signed at every export.

struct Endorsement: Sendable {
    let at: Moment
    let skill: String
    let person: Person
}

struct CompanyFollow: Sendable {
    let organization: String
    let at: Moment
}

struct SavedJob: Sendable {
    let at: Moment
    let jobID: Int
    let title: String
    let company: String
}

struct LearningItem: Sendable {
    let title: String
    let description: String
    let type: String
    let watched: Moment
    let completed: Moment?
    let saved: Bool
}

struct EventItem: Sendable {
    let name: String
    let start: Moment
    let hours: Int
    let status: String
    let url: String
}

struct MediaItem: Sendable {
    let at: Moment
    /// "a photo", "a video", "a document".
    let kind: String
    let description: String
    /// The stable part of the signed URL (asset id and rendition).
    let asset: String
    let isVideo: Bool
    let createdMilliseconds: Int64
    /// Some links are signed until 2038-01-19 (int32 max); others for days or weeks.
    let longLived: Bool
}

struct OwnPosition: Sendable {
    let company: String
    let title: String
    let description: String
    let location: String
    let started: CivilDate
    var finished: CivilDate?
}

struct Recommendation: Sendable {
    let person: Person
    let company: String
    let jobTitle: String
    let text: String
    let at: Moment
}

/// Everything about the owner that the small files show.
struct OwnerProfile: Sendable {
    var headline = ""
    var summary = ""
    var industry = ""
    var geoLocation = ""
    var zipCode = ""
    var birthMonth = 1
    var birthDay = 1
    var positions: [OwnPosition] = []  // newest first
    var education: [[String]] = []
    var skills: [String] = []
    var languages: [(String, String)] = []
    var certifications: [[String]] = []
    var projects: [[String]] = []
    var courses: [[String]] = []
    var emails: [(address: String, primary: Bool, updated: Moment)] = []
    var phone = ""
    var registeredAt = Moment(seconds: 0)
    var registrationIP = ""
    var endorsementsReceived: [Endorsement] = []  // newest first
    var endorsementsGiven: [Endorsement] = []  // newest first
    var recommendations: [Recommendation] = []
    var follows: [CompanyFollow] = []  // file order: mostly newest first
    var events: [EventItem] = []
    var learning: [LearningItem] = []  // newest first
    var savedJobs: [SavedJob] = []  // oldest first
    var screening: [(String, String)] = []
    var media: [MediaItem] = []  // newest first
    /// One list of values per Ad_Targeting column (2026 layout; the 2023 layout drops three).
    var adTargeting: [[String]] = []
    var seekerPreferences: [String] = []
}

extension LinkedInSimulation {
    // MARK: Building

    /// A random moment in `from...to`.
    func moment(between from: Moment, and to: Moment) -> Moment {
        Moment(seconds: rng.int64(in: from.seconds...max(from.seconds, to.seconds)))
    }

    /// A random connection that has not hidden their account (or a new outsider when none).
    func someVisibleConnection() -> Person {
        for _ in 0..<8 {
            if let candidate = connections.isEmpty ? nil : rng.pick(connections), !candidate.hidden {
                return candidate.person
            }
        }
        let person = factory.makePerson(rng: &rng)
        return person
    }

    /// A paragraph of `sentences` sentences from the message vocabulary.
    func prose(_ sentences: ClosedRange<Int>) -> String {
        var parts: [String] = []
        for _ in 0..<rng.int(in: sentences) { parts.append(rng.pick(Vocabulary.sentences)) }
        return parts.joined(separator: " ")
    }

    func buildOwnerProfile(accountCreated: Moment, end: Moment) {
        var p = OwnerProfile()
        p.industry = rng.pick(Vocabulary.industries)
        p.geoLocation = rng.pick(Vocabulary.cities)
        p.zipCode = String(rng.int(in: 10000...99999))
        p.birthMonth = rng.int(in: 1...12)
        p.birthDay = rng.int(in: 1...28)

        // Career: three to five positions back to the account's creation, the newest current.
        var started = accountCreated.date.adding(days: rng.int(in: -400...100))
        var positions: [OwnPosition] = []
        let jobs = rng.int(in: 3...5)
        let careerDays = end.date.dayNumber - started.dayNumber
        for index in 0..<jobs {
            let length = careerDays / jobs + rng.int(in: -120...120)
            let finish = index == jobs - 1 ? nil : started.adding(days: max(200, length))
            positions.append(
                OwnPosition(
                    company: factory.makeCompany(rng: &rng),
                    title: rng.pick(Vocabulary.seniority) + rng.pick(Vocabulary.roles),
                    description: rng.chance(0.6)
                        ? "- \(prose(1...1))\n- \(prose(1...1))" + (rng.chance(0.5) ? "\n- \(prose(1...1))" : "") : "",
                    location: rng.pick(Vocabulary.cities), started: started, finished: finish))
            if let finish { started = finish.adding(days: rng.int(in: 0...60)) }
        }
        p.positions = positions.reversed()
        if let current = p.positions.first { p.headline = "\(current.title) at \(current.company)" }
        var specialties = Vocabulary.skills
        rng.shuffle(&specialties)
        p.summary = "\(prose(2...3))\n\n\(prose(1...2))\n\nSpecialties: "
            + specialties.prefix(rng.int(in: 3...6)).joined(separator: ", ") + "."

        let gradYear = accountCreated.date.year - rng.int(in: 0...2)
        p.education = [
            [rng.pick(Vocabulary.schools), String(gradYear - 2), String(gradYear), "", rng.pick(Vocabulary.degrees),
             rng.chance(0.5) ? "Student association, robotics club" : ""],
            [rng.pick(Vocabulary.schools), String(gradYear - 5), String(gradYear - 2), "", rng.pick(Vocabulary.degrees), ""],
        ]
        var skills = Vocabulary.skills
        rng.shuffle(&skills)
        p.skills = Array(skills.prefix(rng.int(in: 18...36)))
        var languages = Vocabulary.languages
        rng.shuffle(&languages)
        p.languages = Array(languages.prefix(rng.int(in: 1...3)))
        var certs: [[String]] = []
        for (name, authority) in Vocabulary.certificationNames where rng.chance(0.5) {
            let from = moment(between: accountCreated, and: end).date
            certs.append([
                name, "https://www.credential.example/verify/\(rng.int(in: 100_000...999_999))", authority,
                Format.monthYear(from), rng.chance(0.5) ? Format.monthYear(from.adding(days: 3 * 365)) : "",
                rng.chance(0.6) ? String(rng.int(in: 10_000_000...99_999_999)) : "",
            ])
        }
        p.certifications = certs
        p.projects = (0..<rng.int(in: 1...3)).map { _ in
            let from = moment(between: accountCreated, and: end).date
            return [
                rng.pick(["Coffer", "Backup dashboard", "Open data portal", "Swift on Linux port", "Meetup website"]),
                prose(1...2), rng.chance(0.5) ? "https://example.org/\(rng.int(in: 100...999))" : "",
                Format.monthYear(from), rng.chance(0.5) ? Format.monthYear(from.adding(days: 200)) : "",
            ]
        }
        p.courses = (0..<rng.int(in: 2...6)).map { _ in
            [rng.pick(["Algorithms", "Databases", "Operating Systems", "Cryptography", "Statistics", "Compilers"]),
             rng.chance(0.6) ? "CS\(rng.int(in: 100...599))" : ""]
        }
        let created = accountCreated
        p.emails = [(owner.email, true, created.adding(seconds: rng.int64(in: 0...86_400)))]
        if rng.chance(0.7) {
            p.emails.append(("\(owner.first.ascii).\(owner.last.ascii)@work.example", false, moment(between: created, and: end)))
        }
        p.phone = "+1 555-01\(Format.pad2(rng.int(in: 0...99)))"
        p.registeredAt = accountCreated
        p.registrationIP = "203.0.113.\(rng.int(in: 1...254))"

        for _ in 0..<rng.int(in: 40...140) {
            p.endorsementsReceived.append(
                Endorsement(at: moment(between: accountCreated, and: end), skill: rng.pick(p.skills), person: someVisibleConnection()))
        }
        p.endorsementsReceived.sort { $0.at > $1.at }
        for _ in 0..<rng.int(in: 20...100) {
            p.endorsementsGiven.append(
                Endorsement(at: moment(between: accountCreated, and: end), skill: rng.pick(Vocabulary.skills), person: someVisibleConnection()))
        }
        p.endorsementsGiven.sort { $0.at > $1.at }
        for _ in 0..<rng.int(in: 1...5) {
            p.recommendations.append(makeRecommendation(at: moment(between: accountCreated, and: end)))
        }
        p.recommendations.sort { $0.at > $1.at }

        for _ in 0..<rng.int(in: 15...60) {
            p.follows.append(CompanyFollow(organization: factory.makeCompany(rng: &rng), at: moment(between: accountCreated, and: end)))
        }
        p.follows.sort { $0.at > $1.at }
        // Real files are only mostly newest first (12 of 18 pairs): shuffle a few neighbours.
        for _ in 0..<p.follows.count / 4 where p.follows.count > 1 {
            let index = rng.below(p.follows.count - 1)
            p.follows.swapAt(index, index + 1)
        }
        for _ in 0..<rng.int(in: 2...8) { p.events.append(makeEvent(near: moment(between: accountCreated, and: end))) }
        p.events.sort { $0.start > $1.start }
        for _ in 0..<rng.int(in: 8...30) { p.learning.append(makeLearning(at: moment(between: accountCreated, and: end))) }
        p.learning.sort { $0.watched > $1.watched }
        for _ in 0..<rng.int(in: 5...30) { p.savedJobs.append(makeSavedJob(at: moment(between: end.adding(seconds: -3 * 365 * 86_400), and: end))) }
        p.savedJobs.sort { $0.at < $1.at }
        var questions = Vocabulary.screeningQuestions
        rng.shuffle(&questions)
        p.screening = Array(questions.prefix(rng.int(in: 3...8)))
        for _ in 0..<rng.int(in: 4...12) { p.media.append(makeMedia(at: moment(between: accountCreated, and: end))) }
        p.media.sort { $0.at > $1.at }
        p.seekerPreferences = [
            "\(p.geoLocation); Remote", p.industry, "", "Full-time", "\(p.positions.first?.title ?? "Engineer"); Staff Engineer",
            rng.chance(0.5) ? "Yes" : "No", "", "No", "", "", "", rng.pick(["Casually looking", "Not looking", "Actively applying"]),
            "", "", "", "", "", rng.chance(0.3) ? "Yes" : "No", "",
        ]
        profile = p
        profile.adTargeting = Schema.adTargetingColumns2026.indices.map { makeAdValues(column: $0) }
    }

    func makeRecommendation(at time: Moment) -> Recommendation {
        let person = someVisibleConnection()
        let job = factory.makeJob(rng: &rng)
        let text = "I had the pleasure of working with \(owner.first.display) for \(rng.int(in: 2...6)) years. "
            + prose(1...2) + (rng.chance(0.5) ? "\n\n" + prose(1...2) : "")
        return Recommendation(person: person, company: job.company, jobTitle: job.position, text: text, at: time)
    }

    func makeEvent(near time: Moment) -> EventItem {
        let start = Moment(seconds: time.seconds - Int64(time.secondOfDay) + Int64(rng.int(in: 8...19)) * 3600)
        return EventItem(
            name: rng.pick(Vocabulary.eventNames), start: start, hours: rng.int(in: 1...8),
            status: rng.chance(0.85) ? "APPROVED" : "RELINQUISHED",
            url: rng.chance(0.4) ? "https://events.example.org/e/\(rng.int(in: 10_000...99_999))" : "")
    }

    func makeLearning(at time: Moment) -> LearningItem {
        // Descriptions are multi-line; some use CRLF inside the quoted field.
        let lineBreak = rng.chance(0.3) ? "\r\n" : "\n"
        let description = TextGenerator.courseDescription(&rng, lineBreak: lineBreak)
        return LearningItem(
            title: rng.pick(Vocabulary.learningTitles), description: description,
            type: rng.chance(0.8) ? "COURSE" : "VIDEO", watched: time,
            completed: rng.chance(0.4) ? time.adding(seconds: rng.int64(in: 600...(20 * 86_400))) : nil,
            saved: rng.chance(0.3))
    }

    func makeSavedJob(at time: Moment) -> SavedJob {
        let job = factory.makeJob(rng: &rng)
        return SavedJob(at: time, jobID: rng.int(in: 3_000_000_000...4_299_999_999), title: job.position, company: job.company)
    }

    func makeMedia(at time: Moment) -> MediaItem {
        let isVideo = rng.chance(0.2)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let asset = (isVideo ? "D4E05AQ" : rng.pick(["D4E22AQ", "D4D22AQ", "C4E03AQ", "D4E10AQ"])) + rng.string(count: 12, from: alphabet)
        let rendition = isVideo
            ? "mp4-720p-30fp-crf28/\(rng.string(count: 12, from: alphabet))"
            : rng.pick(["feedshare-shrink_2048_1536/feedshare-shrink_2048_1536", "feedshare-shrink_800/feedshare-shrink_800",
                        "profile-displayphoto-shrink_800_800/profile-displayphoto-shrink_800_800"])
        return MediaItem(
            at: time, kind: isVideo ? "a video" : rng.chance(0.9) ? "a photo" : "a document",
            description: rng.chance(0.3) ? rng.pick(["Team offsite", "Conference badge", "Slides from my talk", "New office, día uno"]) : "",
            asset: "\(asset)/\(rendition)", isVideo: isVideo, createdMilliseconds: time.seconds * 1000 + Int64(rng.int(in: 0...999)),
            longLived: rng.chance(0.3))
    }

    /// Values for Ad_Targeting column `column` (2026 layout index).
    func makeAdValues(column: Int) -> [String] {
        let name = Schema.adTargetingColumns2026[column]
        func some(_ pool: [String], _ range: ClosedRange<Int>) -> [String] {
            var items = pool
            rng.shuffle(&items)
            return Array(items.prefix(min(pool.count, rng.int(in: range))))
        }
        switch name {
        case "Member Age": return [rng.pick(["25 to 34", "35 to 54"])]
        case "Buyer Groups": return some(["Software", "Cloud Services", "Security Software", "Office Equipment", "Travel"], 1...3)
        case "Company Names", "Company Connections": return some(factory.companies, 2...12)
        case "Company Follower of": return profile.follows.prefix(rng.int(in: 3...10)).map(\.organization)
        case "Company Category": return some(["Fortune 500", "Tech Startups", "High Growth", "Public Sector"], 1...2)
        case "Company Size": return some(["51-200", "201-500", "1001-5000", "10001+"], 1...3)
        case "Degrees": return ["Master of Science", "Bachelor of Science"]
        case "degreeClass": return ["Masters"]
        case "Recent Device OS": return some(["iOS", "macOS", "Android", "Linux", "Windows"], 1...3)
        case "Member Schools": return profile.education.compactMap(\.first)
        case "Company Growth Rate": return some(["Growing", "Stable", "Fast growing"], 1...2)
        case "Fields of Study": return some(["Computer Science", "Mathematics", "Economics", "Physics"], 1...2)
        case "Function By Size": return some(["Engineering (51-200)", "Engineering (1001-5000)", "Research (201-500)"], 1...2)
        case "Job Functions": return some(["Engineering", "Information Technology", "Research", "Product Management"], 1...3)
        case "Member Gender": return []
        case "Graduation Year": return [String(profile.education.first?[2] ?? "2010")]
        case "Member Groups": return some(["Swift Developers", "Data Privacy Professionals", "Backup & Recovery Pros", "Lyon Tech"], 0...3)
        case "Company Industries": return some(Vocabulary.industries, 1...4)
        case "Member Interests": return some(Vocabulary.interests, 4...14)
        case "Interface Locales": return ["en_US", "fr_FR"]
        case "interfaceLocale": return ["en_US"]
        case "Member Traits": return some(["Frequent Traveler", "Desktop User", "Mobile User", "Job Seeker", "Open to Education"], 1...3)
        case "High Value Audience Segments", "Standard Audience Segments":
            return some(["Tech Decision Makers", "IT Professionals", "Developers", "Senior Leaders", "Early Adopters"], 1...3)
        case "Profile Locations": return [profile.geoLocation]
        case "Company Revenue": return some(["$10M - $50M", "$100M - $500M", "$1B+"], 1...2)
        case "Job Seniorities": return some(["Senior", "Manager", "Director"], 1...2)
        case "Member Skills": return some(profile.skills, 5...25)
        case "Job Titles": return some(Vocabulary.roles, 1...4)
        case "Years of Experience": return [rng.pick(["6 to 8", "10 to 12", "12+"])]
        default: return []
        }
    }

    // MARK: Evolving

    /// One interval of the owner's own activity between `from` and `to`.
    func evolveOwner(from: Moment, to: Moment, scale: Double, exportIndex: Int) {
        let start = from.adding(seconds: 600)
        let end = to.adding(seconds: -900)
        for _ in 0..<rng.poisson(2.0 * scale) {
            profile.endorsementsReceived.insert(
                Endorsement(at: moment(between: start, and: end), skill: rng.pick(profile.skills), person: someVisibleConnection()), at: 0)
        }
        profile.endorsementsReceived.sort { $0.at > $1.at }
        for _ in 0..<rng.poisson(1.0 * scale) {
            profile.endorsementsGiven.insert(
                Endorsement(at: moment(between: start, and: end), skill: rng.pick(Vocabulary.skills), person: someVisibleConnection()), at: 0)
        }
        profile.endorsementsGiven.sort { $0.at > $1.at }
        for _ in 0..<rng.poisson(1.0 * scale) {
            let follow = CompanyFollow(organization: factory.makeCompany(rng: &rng), at: moment(between: start, and: end))
            profile.follows.insert(follow, at: rng.chance(0.75) ? 0 : min(profile.follows.count, rng.int(in: 1...4)))
        }
        for _ in 0..<rng.poisson(1.2 * scale) { profile.savedJobs.append(makeSavedJob(at: moment(between: start, and: end))) }
        profile.savedJobs.sort { $0.at < $1.at }
        for _ in 0..<rng.poisson(0.5 * scale) { profile.learning.insert(makeLearning(at: moment(between: start, and: end)), at: 0) }
        profile.learning.sort { $0.watched > $1.watched }
        if rng.chance(0.25 * scale) { profile.events.insert(makeEvent(near: moment(between: start, and: end)), at: 0) }
        if rng.chance(0.08 * scale) { profile.recommendations.insert(makeRecommendation(at: moment(between: start, and: end)), at: 0) }
        if rng.chance(0.15 * scale) {
            let candidates = Vocabulary.skills.filter { !profile.skills.contains($0) }
            if !candidates.isEmpty { profile.skills.append(rng.pick(candidates)) }
        }
        for _ in 0..<rng.poisson(0.6 * scale) { profile.media.insert(makeMedia(at: moment(between: start, and: end)), at: 0) }
        profile.media.sort { $0.at > $1.at }

        // The owner changes jobs once in a while: a new current position, the old one finished.
        if exportIndex == ownerJobChangeExport, !profile.positions.isEmpty {
            let day = moment(between: start, and: end).date
            profile.positions[0].finished = day.adding(days: -rng.int(in: 1...20))
            let job = Job(
                company: factory.makeCompany(rng: &rng), position: rng.pick(Vocabulary.seniority) + rng.pick(Vocabulary.roles))
            profile.positions.insert(
                OwnPosition(company: job.company, title: job.position, description: "", location: profile.geoLocation, started: day, finished: nil),
                at: 0)
            profile.headline = "\(job.position) at \(job.company)"
        }

        // Ad targeting churns at every export.
        for column in profile.adTargeting.indices where rng.chance(0.35) {
            profile.adTargeting[column] = makeAdValues(column: column)
        }
    }

    // MARK: Rendering

    /// The owner's small files, keyed by member path.
    func renderOwnerFiles(schema: Schema, now: Moment, exportIndex: Int) -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        func file(_ path: String, _ rows: [[String]]) {
            var csv = CSVFile(header: schema.header(for: path) ?? "", trailingNewline: !Schema.noTrailingNewline.contains(path))
            for row in rows { csv.append(row) }
            files[path] = csv.bytes
        }
        let p = profile
        file("Profile.csv", [[
            owner.first.display, owner.last.display, "", "", Format.birthDate(month: p.birthMonth, day: p.birthDay), p.headline,
            p.summary, p.industry, p.zipCode, p.geoLocation, "", "", "",
        ]])
        file("Profile Summary.csv", [[p.summary]])
        file("Positions.csv", p.positions.map {
            [$0.company, $0.title, $0.description, $0.location, Format.monthYear($0.started), $0.finished.map(Format.monthYear) ?? ""]
        })
        file("Education.csv", p.education)
        file("Skills.csv", p.skills.map { [$0] })
        file("Languages.csv", p.languages.map { [$0.0, $0.1] })
        file("Certifications.csv", p.certifications)
        file("Projects.csv", p.projects)
        file("Courses.csv", p.courses)
        file("Email Addresses.csv", p.emails.map { [$0.address, "Yes", $0.primary ? "Yes" : "No", Format.usShort($0.updated)] })
        file("PhoneNumbers.csv", [["", p.phone, "Mobile"]])
        file("Whatsapp Phone Numbers.csv", [[p.phone.replacingAll(" ", with: "").replacingAll("-", with: ""), "", "false"]])
        file("Registration.csv", [[Format.usShort(p.registeredAt), p.registrationIP, ""]])
        file("Endorsement_Received_Info.csv", p.endorsementsReceived.map {
            let shown = displayed($0.person)
            return [Format.slashUTC($0.at), $0.skill, shown.url.isEmpty ? "" : $0.person.first.display,
                    shown.url.isEmpty ? "" : $0.person.last.display, shown.url, "ACCEPTED"]
        })
        file("Endorsement_Given_Info.csv", p.endorsementsGiven.map {
            [Format.slashUTC($0.at), $0.skill, $0.person.first.display, $0.person.last.display, $0.person.url, "ACCEPTED"]
        })
        file("Recommendations_Received.csv", p.recommendations.map {
            [$0.person.first.display, $0.person.last.display, $0.company, $0.jobTitle, $0.text, Format.usShortPadded($0.at), "VISIBLE"]
        })
        file("Company Follows.csv", p.follows.map { [$0.organization, Format.javaDate($0.at)] })
        file("Events.csv", p.events.map {
            let end = $0.start.adding(seconds: Int64($0.hours) * 3600)
            return [$0.name, "\(Format.eventTime($0.start)) - \(Format.eventTime(end))", $0.status, $0.url]
        })
        file("Learning.csv", p.learning.map {
            [$0.title, $0.description, $0.type, Format.learning($0.watched), $0.completed.map(Format.learning) ?? "N/A",
             $0.saved ? "true" : "false", "", ""]
        })
        file("Jobs/Saved Jobs.csv", p.savedJobs.map {
            [Format.usShort($0.at), "https://www.linkedin.com/jobs/view/\($0.jobID)", $0.title, $0.company]
        })
        file("Jobs/Job Seeker Preferences.csv", [p.seekerPreferences])
        file("Job Applicant Saved Screening Question Responses.csv", p.screening.map { [$0.0, $0.1] })
        file("guide_messages.csv", [])
        file("learning_coach_messages.csv", [])

        // Ad_Targeting: one row; values joined with "; "; the 2023 layout drops three columns.
        let kept = Schema.adTargetingColumns2026.indices.filter {
            schema.adTargeting2026 || !["Recent Device OS", "High Value Audience Segments", "Standard Audience Segments"]
                .contains(Schema.adTargetingColumns2026[$0])
        }
        file("Ad_Targeting.csv", [kept.map { p.adTargeting[$0].joined(separator: "; ") }])

        files[schema.richMediaPath] = renderRichMedia(schema: schema, now: now, exportIndex: exportIndex)
        return files
    }

    /// Rich_Media.csv: every link is a freshly signed URL (`e=<expiry>&t=<token>`), so the
    /// file changes at every export even when nothing else does.
    func renderRichMedia(schema: Schema, now: Moment, exportIndex: Int) -> [UInt8] {
        var signer = SeededRandom(seed: seed, stream: "rich-media", index: UInt64(exportIndex))
        let tokenAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var csv = CSVFile(header: schema.richMediaHeader)
        for item in profile.media {
            let expiry = item.longLived ? Int64(Int32.max) : now.seconds + signer.int64(in: 7 * 86_400...60 * 86_400)
            let token = signer.string(count: 43, from: tokenAlphabet)
            let link = item.isVideo
                ? "https://dms.licdn.com/playlist/vid/v2/\(item.asset)/0/\(item.createdMilliseconds)?e=\(expiry)&v=beta&t=\(token)"
                : "https://media.licdn.com/dms/image/v2/\(item.asset)/0/\(item.createdMilliseconds)?e=\(expiry)&v=beta&t=\(token)"
            if schema.legacyRichMedia {
                csv.append([item.isVideo ? "Video" : "Image", link])
            } else {
                csv.append([Format.richMedia(item.at, kind: item.kind), item.description, link])
            }
        }
        return csv.bytes
    }
}
