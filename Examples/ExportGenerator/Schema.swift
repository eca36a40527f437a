// Schema.swift: file names, exact header lines and member order, versioned by export date.
//
// Headers are copied exactly from real exports. Where LinkedIn changed a file
// over the years, the export date picks the variant: Invitations.csv switched from member
// URNs to profile URLs in 2024, `Rich Media.csv` became `Rich_Media.csv`, messages.csv
// gained draft columns (2024-12) and then ATTACHMENTS (2026-04), Ad_Targeting.csv grew
// three columns by 2026.

/// Which variant of each drifting file an export uses.
struct Schema: Sendable, Equatable {
    /// messages.csv column set.
    enum MessagesVariant: Sendable, Equatable {
        /// `…,CONTENT,FOLDER` (2023 to 2024-11).
        case v2023
        /// `…,FOLDER,IS MESSAGE DRAFT,IS CONVERSATION DRAFT` (2024-12 to 2026-03).
        case v2024December
        /// `…,FOLDER,ATTACHMENTS,IS MESSAGE DRAFT` (2026-04 on).
        case v2026April
    }

    let messages: MessagesVariant
    /// 2023 Invitations.csv carried `urn:li:member:<n>` instead of profile URLs.
    let invitationsUseURNs: Bool
    /// `Rich Media.csv` with `Type,Link` (2022/2023) instead of `Rich_Media.csv`.
    let legacyRichMedia: Bool
    /// The 35-column 2026 Ad_Targeting.csv instead of the 32-column 2023 one.
    let adTargeting2026: Bool

    /// The variants in force on `date`. Dates between two observed exports take the
    /// older variant until the month the newer one was first seen (a guess).
    init(date: CivilDate) {
        if date >= CivilDate(year: 2026, month: 4, day: 1) {
            messages = .v2026April
        } else if date >= CivilDate(year: 2024, month: 12, day: 1) {
            messages = .v2024December
        } else {
            messages = .v2023
        }
        invitationsUseURNs = date < CivilDate(year: 2024, month: 1, day: 1)
        legacyRichMedia = date < CivilDate(year: 2024, month: 1, day: 1)
        adTargeting2026 = date >= CivilDate(year: 2026, month: 1, day: 1)
    }

    // MARK: Connections

    /// The `Notes:` preamble, byte-identical 2022–2026: 375 bytes, SHA-256 `32d8ef7e1ba59f80…`.
    static let connectionsPreamble =
        "Notes:\n\"When exporting your connection data, you may notice that some of the email addresses are "
        + "missing. You will only see email addresses for connections who have allowed their connections to see "
        + "or download their email address using this setting https://www.linkedin.com/psettings/privacy/email. "
        + "You can learn more here https://www.linkedin.com/help/linkedin/answer/261\"\n\n"
    static let connectionsHeader = "First Name,Last Name,URL,Email Address,Company,Position,Connected On"
    /// The header before 2023, without URL.
    static let connectionsHeaderWithoutURL = "First Name,Last Name,Email Address,Company,Position,Connected On"

    // MARK: Messages

    static let messagesBaseHeader =
        "CONVERSATION ID,CONVERSATION TITLE,FROM,SENDER PROFILE URL,TO,RECIPIENT PROFILE URLS,DATE,SUBJECT,CONTENT,FOLDER"

    var messagesHeader: String {
        switch messages {
        case .v2023: Self.messagesBaseHeader
        case .v2024December: Self.messagesBaseHeader + ",IS MESSAGE DRAFT,IS CONVERSATION DRAFT"
        case .v2026April: Self.messagesBaseHeader + ",ATTACHMENTS,IS MESSAGE DRAFT"
        }
    }

    // MARK: Invitations

    var invitationsHeader: String {
        invitationsUseURNs
            ? "From,To,Sent At,Message,Direction,inviterProfileUrn,inviteeProfileUrn"
            : "From,To,Sent At,Message,Direction,inviterProfileUrl,inviteeProfileUrl"
    }

    // MARK: Rich media

    var richMediaPath: String { legacyRichMedia ? "Rich Media.csv" : "Rich_Media.csv" }
    var richMediaHeader: String { legacyRichMedia ? "Type,Link" : "Date/Time,Media Description,Media Link" }

    // MARK: Ad targeting

    static let adTargetingColumns2026 = [
        "Member Age", "Buyer Groups", "Company Names", "Company Names", "Company Follower of", "Company Names",
        "Company Category", "Company Size", "Degrees", "degreeClass", "Recent Device OS", "Member Schools",
        "Company Growth Rate", "Fields of Study", "Company Connections", "Function By Size", "Job Functions",
        "Member Gender", "Graduation Year", "Member Groups", "Company Industries", "Member Interests",
        "Interface Locales", "interfaceLocale", "Member Traits", "High Value Audience Segments",
        "Profile Locations", "Company Revenue", "Job Seniorities", "Member Skills", "Standard Audience Segments",
        "Job Titles", "Job Titles", "Job Titles", "Years of Experience",
    ]

    var adTargetingColumns: [String] {
        if adTargeting2026 { return Self.adTargetingColumns2026 }
        let added2026: Set<String> = ["Recent Device OS", "High Value Audience Segments", "Standard Audience Segments"]
        return Self.adTargetingColumns2026.filter { !added2026.contains($0) }
    }

    // MARK: Everything else (stable since 2023)

    static let headers: [String: String] = [
        "Profile.csv":
            "First Name,Last Name,Maiden Name,Address,Birth Date,Headline,Summary,Industry,Zip Code,Geo Location,"
            + "Twitter Handles,Websites,Instant Messengers",
        "Profile Summary.csv": "Profile Summary",
        "Positions.csv": "Company Name,Title,Description,Location,Started On,Finished On",
        "Education.csv": "School Name,Start Date,End Date,Notes,Degree Name,Activities",
        "Skills.csv": "Name",
        "Languages.csv": "Name,Proficiency",
        "Certifications.csv": "Name,Url,Authority,Started On,Finished On,License Number",
        "Projects.csv": "Title,Description,Url,Started On,Finished On",
        "Email Addresses.csv": "Email Address,Confirmed,Primary,Updated On",
        "PhoneNumbers.csv": "Extension,Number,Type",
        "Whatsapp Phone Numbers.csv": "Number,Extension,Is_WhatsApp_Number",
        "Registration.csv": "Registered At,Registration Ip,Subscription Types",
        "Endorsement_Given_Info.csv":
            "Endorsement Date,Skill Name,Endorsee First Name,Endorsee Last Name,Endorsee Public Url,Endorsement Status",
        "Endorsement_Received_Info.csv":
            "Endorsement Date,Skill Name,Endorser First Name,Endorser Last Name,Endorser Public Url,Endorsement Status",
        "Recommendations_Received.csv": "First Name,Last Name,Company,Job Title,Text,Creation Date,Status",
        "Company Follows.csv": "Organization,Followed On",
        "Events.csv": "Event Name,Event Time,Status,External Url",
        "Learning.csv":
            "Content Title,Content Description,Content Type,Content Last Watched Date (if viewed),"
            + "Content Completed At (if completed),Content Saved,Notes taken on videos (if taken),",
        "Jobs/Saved Jobs.csv": "Saved Date,Job Url,Job Title,Company Name",
        "Jobs/Job Seeker Preferences.csv":
            "Locations,Industries,Company Employee Count,Preferred Job Types,Job Titles,Open To Recruiters,"
            + "Dream Companies,Profile Shared With Job Poster,Job Title For Searching Fast Growing Companies,"
            + "Introduction Statement,Phone Number,Job Seeker Activity Level,Preferred Start Time Range,"
            + "Commute Preference Starting Address,Commute Preference Starting Time,Mode Of Transportation,"
            + "Maximum Commute Duration,Open Candidate Visibility,Job Seeking Urgency Level",
        "Job Applicant Saved Screening Question Responses.csv": "Question,Answer",
        "Courses.csv": "Name,Number",
        "guide_messages.csv": messagesBaseHeader,
        "learning_coach_messages.csv": messagesBaseHeader,
    ]

    /// Files written without a final newline; every other file ends with `\n`.
    static let noTrailingNewline: Set<String> = ["Connections.csv", "Company Follows.csv", "Email Addresses.csv"]

    /// Member order inside the zip: not sorted. The first five are those observed in the
    /// original 2023 Basic zip; the rest of the order is a fixed guess.
    var memberOrder: [String] {
        [
            "Connections.csv", "Job Applicant Saved Screening Question Responses.csv", "Education.csv",
            richMediaPath, "Profile.csv", "Endorsement_Received_Info.csv", "Certifications.csv", "Languages.csv",
            "Invitations.csv", "Skills.csv", "Jobs/Saved Jobs.csv", "messages.csv", "Registration.csv",
            "Email Addresses.csv", "Positions.csv", "Company Follows.csv", "Learning.csv", "Ad_Targeting.csv",
            "PhoneNumbers.csv", "Endorsement_Given_Info.csv", "Profile Summary.csv",
            "Jobs/Job Seeker Preferences.csv", "Recommendations_Received.csv", "Events.csv", "Projects.csv",
            "Whatsapp Phone Numbers.csv", "guide_messages.csv", "learning_coach_messages.csv", "Courses.csv",
        ]
    }

    /// The exact header line of `path` in this schema.
    func header(for path: String) -> String? {
        switch path {
        case "Connections.csv": Self.connectionsHeader
        case "messages.csv": messagesHeader
        case "Invitations.csv": invitationsHeader
        case "Rich Media.csv", "Rich_Media.csv": richMediaHeader
        case "Ad_Targeting.csv": adTargetingColumns.joined(separator: ",")
        default: Self.headers[path]
        }
    }
}
