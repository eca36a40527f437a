// Invitations.swift: sent and received invitations, and Invitations.csv's rolling window.
//
// Invitations.csv holds only about the last 7–10 months and is mostly newest first:
// old rows fall off the bottom at every export without being "removed".

/// One invitation.
struct Invitation: Sendable {
    let from: Person
    let to: Person
    let sentAt: Moment
    let message: String
    let incoming: Bool
    /// The order LinkedIn lists it in: the send time, slightly off for a few rows, which
    /// reproduces the "mostly newest first" order of real files.
    let sortKey: Int64
}

extension LinkedInSimulation {
    private static let invitationNotes = [
        "Hi {name}, I'd love to connect.", "Hello {name}, we met at the Swift meetup, let's stay in touch!",
        "Hi {name}, I enjoyed your talk on data portability, would love to connect.",
        "Bonjour {name}, ravi de faire ta connaissance.",
        "Hi {name}, I'm a recruiter working with teams in storage, security and infrastructure. Let's connect!",
        "Hi {name}, fellow alumni here, hope you're doing well.",
    ]

    /// Records an invitation, keeping the list newest first.
    func addInvitation(from: Person, to: Person, at time: Moment, incoming: Bool) {
        let note: String
        if rng.chance(0.22) {
            // The note is addressed to the invitee.
            note = rng.pick(Self.invitationNotes).replacingAll("{name}", with: to.first.display)
        } else {
            note = ""
        }
        let jitter: Int64 = rng.chance(0.05) ? rng.int64(in: -3 * 86_400...3 * 86_400) : 0
        invitations.append(
            Invitation(from: from, to: to, sentAt: time, message: note, incoming: incoming, sortKey: time.seconds + jitter))
    }

    /// About three quarters of new connections came with an invitation a little earlier.
    func recordInvitation(forNewConnection connection: Connection, notBefore earliest: Moment) {
        guard rng.chance(0.75) else { return }
        let lead = rng.int64(in: 300...(12 * 86_400))
        let time = Moment(seconds: max(earliest.seconds - 30 * 86_400, connection.connectedAt.seconds - lead))
        let incoming = rng.chance(0.55)
        if incoming {
            addInvitation(from: connection.person, to: owner, at: time, incoming: true)
        } else {
            addInvitation(from: owner, to: connection.person, at: time, incoming: false)
        }
    }

    /// Invitations that were never accepted (or are still pending) between `from` and `to`.
    func addUnansweredInvitations(count: Int, from: Moment, to: Moment) {
        for _ in 0..<count {
            let stranger = factory.makePerson(rng: &rng)
            let time = Moment(seconds: rng.int64(in: from.seconds...max(from.seconds, to.seconds - 600)))
            if rng.chance(0.6) {
                addInvitation(from: stranger, to: owner, at: time, incoming: true)
            } else {
                addInvitation(from: owner, to: stranger, at: time, incoming: false)
            }
        }
    }

    /// Invitations.csv as of `now`: the last `windowDays`, in LinkedIn's order.
    func renderInvitations(schema: Schema, now: Moment, windowDays: Int) -> [UInt8] {
        let cutoff = now.seconds - Int64(windowDays) * 86_400
        let visible = invitations.filter { $0.sentAt.seconds >= cutoff && $0.sentAt < now }
            .sorted { ($0.sortKey, $0.sentAt, $0.from.id) > ($1.sortKey, $1.sentAt, $1.from.id) }
        var file = CSVFile(header: schema.invitationsHeader)
        for invitation in visible {
            file.append([
                invitation.from.fullName, invitation.to.fullName, Format.usShort(invitation.sentAt), invitation.message,
                invitation.incoming ? "INCOMING" : "OUTGOING",
                schema.invitationsUseURNs ? invitation.from.urn : invitation.from.url,
                schema.invitationsUseURNs ? invitation.to.urn : invitation.to.url,
            ])
        }
        return file.bytes
    }

    /// Drops invitations too old to appear in any future export.
    func pruneInvitations(before: Moment) {
        invitations.removeAll { $0.sentAt < before }
    }
}
