// Network.swift: the account owner's connections and how they change between exports.
//
// Connections.csv is newest first by the hidden exact connection time. Between two
// exports: new connections are prepended, a few rows disappear from the middle,
// 5–20 connections change jobs (Company/Position rewritten in place), some members hide
// or close their account (their row becomes `,,,,,,date`) and some e-mails appear or vanish.

/// One row of Connections.csv, with the state behind it.
struct Connection: Sendable {
    let person: Person
    var job: Job
    /// The exact connection time; only its date is exported.
    let connectedAt: Moment
    /// A hidden or closed account: every column but the date is empty.
    var hidden: Bool
    /// Whether the member lets connections see their e-mail address.
    var emailVisible: Bool
    /// Which column carries a stray trailing space (0 none, 1 first, 2 last, 3 company, 4 position).
    var trailingSpace: UInt8

    /// The seven fields of the row.
    var fields: [String] {
        let date = Format.connectedOn(connectedAt.date)
        if hidden { return ["", "", "", "", "", "", date] }
        func pad(_ text: String, _ column: UInt8) -> String {
            trailingSpace == column && !text.isEmpty ? text + " " : text
        }
        return [
            pad(person.first.display, 1), pad(person.last.display, 2), person.url,
            emailVisible ? person.email : "", pad(job.company, 3), pad(job.position, 4), date,
        ]
    }
}

/// What changed in the network during one interval (for the summary line).
struct NetworkChanges: Sendable, Equatable {
    var added = 0
    var removed = 0
    var jobChanges = 0
    var hiddenToggles = 0
    var emailToggles = 0
}

extension LinkedInSimulation {
    /// Makes a brand-new connection made at `time`.
    func makeConnection(at time: Moment, hiddenRate: Double, emailRate: Double) -> Connection {
        let person = factory.makePerson(rng: &rng)
        var job = factory.makeJob(rng: &rng)
        if rng.chance(0.028) { job = Job(company: "", position: "") }  // 104/3,761 in R-2024b
        let trailing: UInt8 = rng.chance(0.09) ? UInt8(rng.int(in: 1...4)) : 0  // 355/3,761
        return Connection(
            person: person, job: job, connectedAt: time, hidden: rng.chance(hiddenRate),
            emailVisible: rng.chance(emailRate), trailingSpace: trailing)
    }

    /// Builds the network as it stands at the first export: `count` connections made
    /// between the account's creation and `end`, denser in recent years.
    func buildInitialNetwork(count: Int, accountCreated: Moment, end: Moment) {
        let span = Double(end.seconds - accountCreated.seconds - 86_400)
        var made: [Connection] = []
        made.reserveCapacity(count)
        for _ in 0..<count {
            // Density grows like t^1.5 (most people connect more as their career goes on).
            let x = pow(rng.unit(), 1.0 / 2.5)
            let time = Moment(seconds: accountCreated.seconds + 86_400 + Int64(x * span))
            made.append(makeConnection(at: time, hiddenRate: 0, emailRate: 0))
        }
        made.sort { ($0.connectedAt, $0.person.id) > ($1.connectedAt, $1.person.id) }
        // Exact counts rather than coin flips, so that even a small network has its blank
        // rows and e-mails at the chosen rates.
        var order = Array(made.indices)
        rng.shuffle(&order)
        let hiddenCount = Int((Double(count) * hiddenRate).rounded())
        let emailCount = Int((Double(count) * emailRate).rounded())
        for (rank, index) in order.enumerated() {
            made[index].hidden = rank < hiddenCount
            made[index].emailVisible = rank >= hiddenCount && rank < hiddenCount + emailCount
        }
        connections = made
        for connection in made {
            if connection.hidden { hiddenIDs.insert(connection.person.id) }
        }
    }

    /// Applies one interval of network changes between `from` and `to`.
    func evolveNetwork(from: Moment, to: Moment, scale: Double) -> NetworkChanges {
        var changes = NetworkChanges()
        let size = Double(max(connections.count, 1))
        if topChurnOnly { return addConnections(from: from, to: to, changes: changes) }

        // 1. Job changes and promotions, rewritten in place (5–20 per month at 3,000 connections).
        let jobChanges = max(2, Int((Double(rng.int(in: 5...20)) * size / 3000 * scale).rounded()))
        for _ in 0..<jobChanges {
            let index = rng.below(connections.count)
            guard !connections[index].hidden else { continue }
            let old = connections[index].job
            if rng.chance(0.3), !old.position.isEmpty {
                connections[index].job.position = factory.promoted(old.position, rng: &rng)
            } else {
                connections[index].job = factory.makeJob(rng: &rng)
            }
            if connections[index].job != old { changes.jobChanges += 1 }
        }

        // 2. Members who hide or close their account, and a few who come back.
        var hiddenCount = connections.reduce(0) { $0 + ($1.hidden ? 1 : 0) }
        let hides = rng.poisson(size * 0.0006 * scale)
        // Keep blank rows within the observed 1–3%.
        for _ in 0..<hides where Double(hiddenCount + 1) / size <= 0.027 {
            let index = rng.below(connections.count)
            guard !connections[index].hidden else { continue }
            connections[index].hidden = true
            hiddenCount += 1
            hiddenIDs.insert(connections[index].person.id)
            changes.hiddenToggles += 1
        }
        if rng.chance(0.25 * scale), hiddenCount > 0 {
            let hidden = connections.indices.filter { connections[$0].hidden }
            let index = rng.pick(hidden)
            connections[index].hidden = false
            hiddenIDs.remove(connections[index].person.id)
            changes.hiddenToggles += 1
        }

        // 3. E-mail visibility toggles (on hidden rows the e-mail is not shown anyway).
        for _ in 0..<rng.poisson(0.8 * scale) {
            let index = rng.below(connections.count)
            guard !connections[index].hidden else { continue }
            connections[index].emailVisible.toggle()
            changes.emailToggles += 1
        }

        // 4. Removals from the middle (never the newest few rows).
        let removals = max(1, rng.poisson(max(1, size * 0.0009 * scale)))
        for _ in 0..<removals where connections.count > 20 {
            let lower = max(5, connections.count / 10)
            let index = rng.int(in: lower..<connections.count)
            connections.remove(at: index)
            changes.removed += 1
        }

        return addConnections(from: from, to: to, changes: changes)
    }

    /// 5. New connections, prepended newest first.
    private func addConnections(from: Moment, to: Moment, changes: NetworkChanges) -> NetworkChanges {
        var changes = changes
        let meanNew = Double(initialConnectionCount) * 2.5 / max(1, accountAgeDays) * Double(intervalDays)
        let added = max(3, rng.poisson(meanNew * rng.double(in: 0.6...1.4)))
        var fresh: [Connection] = []
        let window = max(3600, to.seconds - from.seconds - 3 * 3600)
        for _ in 0..<added {
            let time = Moment(seconds: from.seconds + 600 + rng.int64(in: 0...window))
            // New connections are active accounts; e-mails at the usual low rate.
            let connection = makeConnection(at: time, hiddenRate: 0, emailRate: emailRate)
            fresh.append(connection)
            recordInvitation(forNewConnection: connection, notBefore: from)
        }
        fresh.sort { ($0.connectedAt, $0.person.id) > ($1.connectedAt, $1.person.id) }
        connections.insert(contentsOf: fresh, at: 0)
        recentConnections = fresh
        changes.added = added
        return changes
    }

    /// Connections.csv: the 375-byte `Notes:` preamble, the header, rows newest first,
    /// and no final newline. `withoutURL`: the pre-2023 header, which has no URL column.
    func renderConnections(withoutURL: Bool = false) -> [UInt8] {
        let header = withoutURL ? Schema.connectionsHeaderWithoutURL : Schema.connectionsHeader
        var file = CSVFile(header: header, preamble: Schema.connectionsPreamble, trailingNewline: false)
        for connection in connections {
            var fields = connection.fields
            if withoutURL { fields.remove(at: 2) }
            file.append(fields)
        }
        return file.bytes
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
