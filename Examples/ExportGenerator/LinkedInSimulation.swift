// LinkedInSimulation.swift: one synthetic person's LinkedIn account, evolving over time.
//
// The simulation is a snapshot of entities (connections, conversations, invitations, the
// owner's profile) that advances from one export time to the next, then is rendered
// through LinkedIn's serialisers. One seeded generator drives it sequentially, so export
// k depends only on the flags and exports 0..<k: asking for more months never changes
// the earlier ones.

/// The account and its history.
final class LinkedInSimulation {
    let seed: UInt64
    /// Connections.csv with the pre-2023 header (no URL column).
    let connectionsWithoutURL: Bool
    /// `.top`: later exports only add rows at the top (see ``ChurnModel``).
    let topChurnOnly: Bool
    let start: CivilDate
    let intervalDays: Int
    var rng: SeededRandom
    var factory: PeopleFactory
    let owner: Person

    /// Newest first, as in Connections.csv.
    var connections: [Connection] = []
    /// The connections added in the latest interval (new threads often start with them).
    var recentConnections: [Connection] = []
    /// People who hid or closed their account (shown as blank rows / "LinkedIn Member").
    var hiddenIDs: Set<Int> = []
    /// Newest activity first.
    var conversations: [Conversation] = []
    var conversationSerial = 0
    var initialMessageCount = 0
    var invitations: [Invitation] = []
    var profile = OwnerProfile()

    /// Share of blank (hidden) rows at the first export: 1.2–2.6% (real exports: about 1–3%).
    let hiddenRate: Double
    /// Share of rows with an e-mail: 0.5–3.5% (real exports: 0–3.6%).
    let emailRate: Double
    let initialConnectionCount: Int
    let accountAgeDays: Double
    /// The export at which the owner starts a new job (-1: no job change in the series).
    let ownerJobChangeExport: Int

    /// Exports made so far.
    private(set) var exportCount = 0
    private var lastExportTime: Moment

    init(config: GeneratorConfig) {
        seed = config.seed
        connectionsWithoutURL = config.connectionsWithoutURL
        topChurnOnly = config.churn == .top
        start = config.start
        intervalDays = config.intervalDays
        var rng = SeededRandom(seed: config.seed)
        var factory = PeopleFactory(rng: &rng)
        owner = factory.makePerson(rng: &rng)
        hiddenRate = rng.double(in: 0.012...0.026)
        emailRate = rng.double(in: 0.005...0.035)
        accountAgeDays = Double(rng.int(in: (9 * 365)...(14 * 365)))
        ownerJobChangeExport = rng.chance(0.6) ? rng.int(in: 3...9) : -1
        initialConnectionCount = max(1, config.connections)
        self.rng = rng
        self.factory = factory

        let firstExport = Self.exportTime(seed: config.seed, date: config.start, index: 0)
        lastExportTime = firstExport
        let accountCreated = firstExport.adding(seconds: -Int64(accountAgeDays * 86_400))

        buildInitialNetwork(count: initialConnectionCount, accountCreated: accountCreated, end: firstExport)
        buildOwnerProfile(accountCreated: accountCreated, end: firstExport)

        // Invitations for the connections of the last ~13 months, plus unanswered ones.
        let invitationHorizon = firstExport.adding(seconds: -400 * 86_400)
        var accepted = 0
        for connection in connections.reversed() where connection.connectedAt > invitationHorizon {
            recordInvitation(forNewConnection: connection, notBefore: accountCreated)
            accepted += 1
        }
        addUnansweredInvitations(count: accepted * 35 / 100, from: invitationHorizon, to: firstExport)

        buildInitialMessages(
            targetBytes: config.messagesBytes, accountCreated: accountCreated, end: firstExport,
            schema: Schema(date: config.start))
    }

    /// When export `index` is generated: its date at a time of day drawn from its own stream.
    static func exportTime(seed: UInt64, date: CivilDate, index: Int) -> Moment {
        var clock = SeededRandom(seed: seed, stream: "export-time", index: UInt64(index))
        let secondOfDay = clock.int(in: 6...20) * 3600 + clock.int(in: 0...59) * 60 + clock.int(in: 0...59)
        return date.startMoment.adding(seconds: Int64(secondOfDay))
    }

    /// Advances to the next export and renders it.
    func nextExport() -> LinkedInExport {
        let index = exportCount
        let date = start.adding(days: index * intervalDays)
        let now = Self.exportTime(seed: seed, date: date, index: index)
        var changes = NetworkChanges()
        var newMessages = 0
        if index > 0 {
            let scale = Double(now.seconds - lastExportTime.seconds) / (30 * 86_400)
            changes = evolveNetwork(from: lastExportTime, to: now, scale: scale)
            addUnansweredInvitations(
                count: rng.poisson(Double(changes.added) * 0.35), from: lastExportTime, to: now.adding(seconds: -3600))
            newMessages = evolveMessages(from: lastExportTime, to: now, scale: scale)
            evolveOwner(from: lastExportTime, to: now, scale: scale, exportIndex: index)
        } else {
            recentConnections = Array(connections.prefix(20))
        }
        pruneInvitations(before: now.adding(seconds: -400 * 86_400))
        let export = render(index: index, date: date, now: now, changes: changes, newMessages: newMessages)
        lastExportTime = now
        exportCount += 1
        return export
    }

    /// Renders every member in LinkedIn's member order with timestamps just after `now`.
    private func render(index: Int, date: CivilDate, now: Moment, changes: NetworkChanges, newMessages: Int) -> LinkedInExport {
        let schema = Schema(date: date)
        var perExport = SeededRandom(seed: seed, stream: "export-layout", index: UInt64(index))
        let windowDays = perExport.int(in: 230...300)  // Invitations: about 7.5–10 months

        var files = renderOwnerFiles(schema: schema, now: now, exportIndex: index)
        files["Connections.csv"] = renderConnections(withoutURL: connectionsWithoutURL)
        files["messages.csv"] = renderMessages(schema: schema)
        files["Invitations.csv"] = renderInvitations(schema: schema, now: now, windowDays: windowDays)

        // Members are written over about 100 seconds (08:07:10–08:08:50 in the real zip).
        var members: [ExportMember] = []
        var clock = now
        for path in schema.memberOrder {
            guard let contents = files[path] else { continue }
            members.append(ExportMember(path: path, contents: contents, modified: clock))
            clock = clock.adding(seconds: Int64(perExport.int(in: 0...7)))
        }
        let stats = ExportStatistics(
            connections: connections.count,
            hiddenConnections: connections.reduce(0) { $0 + ($1.hidden ? 1 : 0) },
            connectionsWithEmail: connections.reduce(0) { $0 + (!$1.hidden && $1.emailVisible ? 1 : 0) },
            messages: messageCount, conversations: conversations.count, invitationWindowDays: windowDays,
            changes: changes, newMessages: newMessages)
        return LinkedInExport(index: index, date: date, generatedAt: now, members: members, statistics: stats)
    }
}
