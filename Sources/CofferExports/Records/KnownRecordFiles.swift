// KnownRecordFiles.swift: what a record file is and how its rows are keyed, from its member
// name and its header together.
//
// A name alone never decides: `Items.csv` with a messages-like header is a generic file, and a
// `messages.csv` without `CONVERSATION ID` is too. A default key applies only when every one of
// its columns is in both versions' headers; otherwise the next rule (or the whole row) is used.
// README.md ("Record keys") lists this table; keep the two in step.

import CofferCore

/// A record file the diff knows by name and header.
struct KnownRecordFile: Sendable {
    /// Lower-case member names (last path component) this rule is for.
    let names: [String]
    /// The summary wording.
    let kind: RecordFileKind
    /// Key alternatives, tried in order; the first whose columns are all present wins.
    let keys: [[String]]
    /// Columns a header must have for the file to be this kind (besides the name).
    let required: [String]

    init(_ names: [String], _ kind: RecordFileKind = .generic, keys: [[String]], required: [String]? = nil) {
        self.names = names.map { $0.lowercased() }
        self.kind = kind
        self.keys = keys
        self.required = required ?? keys.first ?? []
    }

    /// The LinkedIn files with a natural key. Connections and messages have their own key kinds
    /// (`RecordKey.linkedInConnections`, `.linkedInMessages`); the columns here are what they use.
    static let table: [KnownRecordFile] = [
        KnownRecordFile(
            ["Connections.csv"], .connections,
            keys: [["URL"], ["First Name", "Last Name", "Connected On"]],
            required: ["First Name", "Last Name", "Connected On"]),
        KnownRecordFile(
            ["messages.csv", "guide_messages.csv", "learning_coach_messages.csv"], .messages,
            keys: [["CONVERSATION ID", "DATE", "FROM"]]),
        KnownRecordFile(["Invitations.csv"], .invitations, keys: [["From", "To", "Sent At"]], required: ["Sent At"]),
        KnownRecordFile(["Shares.csv"], keys: [["ShareLink"]]),
        KnownRecordFile(["Comments.csv"], keys: [["Date", "Link"]]),
        KnownRecordFile(["Reactions.csv"], keys: [["Date", "Link"]]),
        KnownRecordFile(
            ["Recommendations_Given.csv", "Recommendations_Received.csv"],
            keys: [["First Name", "Last Name", "Creation Date"]]),
        KnownRecordFile(
            ["Endorsement_Given_Info.csv"],
            keys: [["Endorsement Date", "Skill Name", "Endorsee Public Url"],
                   ["Endorsement Date", "Skill Name", "Endorsee First Name", "Endorsee Last Name"]],
            required: ["Endorsement Date", "Skill Name"]),
        KnownRecordFile(
            ["Endorsement_Received_Info.csv"],
            keys: [["Endorsement Date", "Skill Name", "Endorser Public Url"],
                   ["Endorsement Date", "Skill Name", "Endorser First Name", "Endorser Last Name"]],
            required: ["Endorsement Date", "Skill Name"]),
        KnownRecordFile(["Saved Jobs.csv", "Saved_Jobs.csv"], keys: [["Job Url"]]),
        KnownRecordFile(["Company Follows.csv"], keys: [["Organization"]]),
        KnownRecordFile(["Skills.csv"], keys: [["Name"]]),
        KnownRecordFile(["Languages.csv"], keys: [["Name"]]),
        KnownRecordFile(["Certifications.csv"], keys: [["Name", "Authority"]]),
        KnownRecordFile(["Courses.csv"], keys: [["Name"]]),
        KnownRecordFile(["Projects.csv"], keys: [["Title"]]),
        KnownRecordFile(["Positions.csv"], keys: [["Company Name", "Title", "Started On"]]),
        KnownRecordFile(["Education.csv"], keys: [["School Name", "Start Date"]]),
        KnownRecordFile(["Email Addresses.csv"], keys: [["Email Address"]]),
        KnownRecordFile(["PhoneNumbers.csv", "Whatsapp Phone Numbers.csv"], keys: [["Number"]]),
        KnownRecordFile(["Events.csv"], keys: [["Event Name", "Event Time"]]),
        KnownRecordFile(["Learning.csv"], keys: [["Content Title"]]),
        KnownRecordFile(["Rich_Media.csv"], keys: [["Media Link"]]),
        KnownRecordFile(["Job Applicant Saved Screening Question Responses.csv"], keys: [["Question"]]),
        // One-row files: the row is compared with the row, so an edit is a change.
        KnownRecordFile(["Profile.csv"], keys: [[]], required: ["First Name", "Last Name", "Headline"]),
        KnownRecordFile(["Profile Summary.csv"], keys: [[]], required: ["Profile Summary"]),
        KnownRecordFile(["Registration.csv"], keys: [[]], required: ["Registered At"]),
        KnownRecordFile(["Ad_Targeting.csv"], keys: [[]], required: ["Member Age"]),
        KnownRecordFile(["Job Seeker Preferences.csv"], keys: [[]], required: ["Open To Recruiters"]),
    ]

    /// The rule for the file at `path` with these columns (both versions have them), if any.
    static func match(path: String, columns: Set<String>) -> KnownRecordFile? {
        let name = Paths.lastComponent(path).lowercased()
        return table.first { $0.names.contains(name) && $0.required.allSatisfy(columns.contains) }
    }
}
