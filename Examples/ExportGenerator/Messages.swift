// Messages.swift: conversations and messages.csv.
//
// messages.csv is grouped by conversation, conversations ordered by their latest message
// and messages inside a block newest first, so a new message in an old thread moves
// the whole block to the top. CONTENT never holds a newline: line breaks come out
// as spaces (often doubled); a few rows hold raw HTML, `&amp;` entities or U+00A0.

/// One message.
struct ChatMessage: Sendable {
    let at: Moment
    /// Index into the conversation's participants; 0 is the account owner.
    let sender: Int
    let subject: String
    let content: String
}

/// One conversation thread.
struct Conversation: Sendable {
    /// `2-` + base64(`<uuid4>_<3 digits>`), or empty for the few rows LinkedIn exports without one.
    let id: String
    let title: String
    /// Participant 0 is the owner.
    let participants: [Person]
    /// Oldest first.
    var messages: [ChatMessage]
    let folder: String
    /// A stable tie-breaker for ordering.
    let serial: Int

    var lastAt: Moment { messages.last?.at ?? Moment(seconds: 0) }
}

/// What kind of thread a new conversation is.
enum ConversationKind {
    case direct, recruiter, group, outsider, thanks
}

extension LinkedInSimulation {
    // MARK: Content

    private static let base64Alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")

    static func base64(_ bytes: [UInt8]) -> String {
        var out = ""
        var index = 0
        while index < bytes.count {
            let b0 = Int(bytes[index])
            let b1 = index + 1 < bytes.count ? Int(bytes[index + 1]) : 0
            let b2 = index + 2 < bytes.count ? Int(bytes[index + 2]) : 0
            out.append(base64Alphabet[b0 >> 2])
            out.append(base64Alphabet[(b0 & 3) << 4 | b1 >> 4])
            out.append(index + 1 < bytes.count ? base64Alphabet[(b1 & 15) << 2 | b2 >> 6] : "=")
            out.append(index + 2 < bytes.count ? base64Alphabet[b2 & 63] : "=")
            index += 3
        }
        return out
    }

    /// A conversation id: `2-` + base64 of a random UUID4 and a 3-digit suffix.
    func makeConversationID() -> String {
        let hex = Array("0123456789abcdef")
        var uuid = ""
        for position in 0..<36 {
            switch position {
            case 8, 13, 18, 23: uuid.append("-")
            case 14: uuid.append("4")
            case 19: uuid.append(hex[8 + rng.below(4)])
            default: uuid.append(hex[rng.below(16)])
            }
        }
        let suffix = ["_000", "_010", "_010", "_010", "_011", "_011", "_012", "_013"][rng.below(8)]
        return "2-" + Self.base64(Array((uuid + suffix).utf8))
    }

    /// Message text for one message of a conversation of `kind`.
    func makeContent(kind: ConversationKind, to recipient: Person, isFirst: Bool) -> String {
        let name = recipient.first.display
        switch kind {
        case .recruiter where isFirst:
            var parts = ["\(rng.pick(Vocabulary.greetings)) \(name),"]
            var paragraphs = Array(Vocabulary.recruiterParagraphs.dropLast())
            rng.shuffle(&paragraphs)
            parts += paragraphs.prefix(rng.int(in: 2...6))
            parts.append("Best regards,\u{00A0}\(rng.pick(Vocabulary.firstNames).display)")
            // Line breaks are removed on export: paragraphs run on with double spaces.
            return parts.joined(separator: rng.chance(0.7) ? "  " : " ")
        case .thanks where isFirst:
            return rng.pick([
                "Hi \(name), thanks for connecting!", "Thanks for the connection, \(name).",
                "\(rng.pick(Vocabulary.greetings)) \(name), great to connect here. \(rng.pick(Vocabulary.sentences))",
            ])
        default:
            let companies = factory.companies
            func sentence() -> String {
                rng.chance(0.45) ? rng.pick(Vocabulary.sentences) : TextGenerator.sentence(&rng, name: name, companies: companies)
            }
            let roll = rng.unit()
            if roll < 0.02 {
                // Raw HTML survives in a few rows of every real export.
                return "<p>\(rng.pick(Vocabulary.greetings)) \(name),</p><p>\(sentence())</p>"
                    + "<p>\(sentence())<br>\(rng.pick(Vocabulary.shortReplies))</p>"
            }
            if roll < 0.45 { return rng.pick(Vocabulary.shortReplies) }
            if roll < 0.75 {
                let text = sentence()
                return rng.chance(0.3) ? "\(rng.pick(Vocabulary.greetings)) \(name), \(text)" : text
            }
            var sentences: [String] = []
            for _ in 0..<rng.int(in: 2...8) { sentences.append(sentence()) }
            if rng.chance(0.5) { sentences.insert("\(rng.pick(Vocabulary.greetings)) \(name),", at: 0) }
            // Line breaks are removed on export; they often leave double spaces.
            return sentences.joined(separator: rng.chance(0.5) ? "  " : " ")
        }
    }

    // MARK: Building conversations

    /// A new conversation of `kind` whose first message is at `start`.
    func makeConversation(kind: ConversationKind, start: Moment, with partners: [Person]) -> Conversation {
        let title: String
        switch kind {
        case .group: title = rng.chance(0.6) ? rng.pick(Vocabulary.groupTitles) : ""
        case .recruiter: title = rng.pick(Vocabulary.recruiterSubjects)
        default: title = ""
        }
        let roll = rng.unit()
        let folder = roll < 0.85 ? "INBOX" : roll < 0.97 ? "ARCHIVE" : roll < 0.98 ? "SPAM" : ""
        let id = rng.chance(0.003) ? "" : makeConversationID()
        conversationSerial += 1
        return Conversation(
            id: id, title: title, participants: [owner] + partners, messages: [], folder: folder,
            serial: conversationSerial)
    }

    /// Appends a message to `conversation` at `time`, from `sender`.
    func addMessage(to conversation: inout Conversation, kind: ConversationKind, at time: Moment, sender: Int) {
        let isFirst = conversation.messages.isEmpty
        let recipient =
            sender == 0 ? conversation.participants[1 + rng.below(conversation.participants.count - 1)] : owner
        let subject = kind == .recruiter && isFirst ? conversation.title : ""
        let content = makeContent(kind: kind, to: recipient, isFirst: isFirst)
        conversation.messages.append(ChatMessage(at: time, sender: sender, subject: subject, content: content))
    }

    /// The next sender in a thread: mostly alternating, sometimes the same person twice.
    func nextSender(after previous: Int?, participants: Int) -> Int {
        guard let previous else { return rng.chance(0.45) ? 0 : 1 + rng.below(participants - 1) }
        if rng.chance(0.25) { return previous }
        if previous == 0 { return 1 + rng.below(participants - 1) }
        return participants > 2 && rng.chance(0.4) ? 1 + rng.below(participants - 1) : 0
    }

    /// Chooses the kind and partners of a new conversation.
    func pickConversationPartners(preferRecent: Bool) -> (ConversationKind, [Person]) {
        let roll = rng.unit()
        let pool = preferRecent && !recentConnections.isEmpty && rng.chance(0.5) ? recentConnections : connections
        func someConnection() -> Person {
            var candidate = rng.pick(pool)
            for _ in 0..<4 where candidate.hidden { candidate = rng.pick(pool) }
            return candidate.person
        }
        if roll < 0.62 { return (.direct, [someConnection()]) }
        if roll < 0.74 { return (.thanks, [someConnection()]) }
        if roll < 0.88 {
            let recruiter = factory.makePerson(rng: &rng)
            return (.recruiter, [recruiter])
        }
        if roll < 0.95 {
            var members: [Person] = []
            for _ in 0..<rng.int(in: 2...5) { members.append(someConnection()) }
            return (.group, members)
        }
        let outsider = factory.makePerson(rng: &rng)
        return (.outsider, [outsider])
    }

    /// Builds the message history up to `end`, until messages.csv would hold about `targetBytes`.
    func buildInitialMessages(targetBytes: Int, accountCreated: Moment, end: Moment, schema: Schema) {
        var bytes = schema.messagesHeader.utf8.count
        var built: [Conversation] = []
        let span = Double(end.seconds - accountCreated.seconds)
        while bytes < targetBytes {
            let (kind, partners) = pickConversationPartners(preferRecent: false)
            // Conversations start recent-heavy; the newest are days before the export.
            let x = pow(rng.unit(), 0.45)
            let start = Moment(seconds: accountCreated.seconds + Int64(x * span))
            guard start < end else { continue }
            var conversation = makeConversation(kind: kind, start: start, with: partners)
            // Message count: mostly short threads, a few very long ones (max about 300).
            var count: Int
            switch kind {
            case .recruiter: count = rng.chance(0.6) ? 1 : rng.int(in: 2...4)
            case .thanks: count = rng.int(in: 1...3)
            default:
                count = 1 + Int(rng.exponential(mean: 3.5))
                if rng.chance(0.03) { count = rng.int(in: 30...300) }
            }
            var time = start
            var sender: Int? = kind == .recruiter || kind == .outsider ? 1 : nil
            for index in 0..<count {
                if index > 0 {
                    let gap = rng.chance(0.7) ? rng.exponential(mean: 2400) : rng.exponential(mean: 5 * 86_400)
                    time = time.adding(seconds: 20 + Int64(gap))
                    sender = nextSender(after: sender, participants: conversation.participants.count)
                } else if sender == nil {
                    sender = nextSender(after: nil, participants: conversation.participants.count)
                }
                guard time < end.adding(seconds: -600) else { break }
                addMessage(to: &conversation, kind: kind, at: time, sender: sender ?? 0)
                if let last = conversation.messages.last {
                    bytes += messageRow(last, in: conversation, schema: schema).utf8.count + 1
                }
                if bytes >= targetBytes { break }
            }
            if !conversation.messages.isEmpty { built.append(conversation) }
        }
        conversations = built
        sortConversations()
        initialMessageCount = built.reduce(0) { $0 + $1.messages.count }
    }

    /// Adds the messages of one interval: replies in existing threads (moving them to the top)
    /// and new threads, all between `from` and `to`.
    func evolveMessages(from: Moment, to: Moment, scale: Double) -> Int {
        let target = max(3, rng.poisson(Double(initialMessageCount) * 0.045 * scale))
        var added = 0
        let earliest = from.seconds + 300
        let latest = max(earliest + 3600, to.seconds - 900)
        while added < target {
            if !topChurnOnly, rng.chance(0.55), !conversations.isEmpty {
                // A reply burst in an existing thread; usually a recent one, sometimes one
                // from deep in the file (which then jumps to the top).
                let rank = min(conversations.count - 1, Int(rng.exponential(mean: 30)))
                var conversation = conversations[rank]
                var time = Moment(seconds: max(conversation.lastAt.seconds + 60, rng.int64(in: earliest...latest)))
                var sender: Int? = conversation.messages.last?.sender
                for _ in 0..<rng.int(in: 1...4) where time.seconds < latest {
                    sender = nextSender(after: sender, participants: conversation.participants.count)
                    addMessage(to: &conversation, kind: .direct, at: time, sender: sender ?? 0)
                    time = time.adding(seconds: 30 + Int64(rng.exponential(mean: 1800)))
                    added += 1
                }
                conversations[rank] = conversation
            } else {
                let (kind, partners) = pickConversationPartners(preferRecent: true)
                let start = Moment(seconds: rng.int64(in: earliest...latest))
                var conversation = makeConversation(kind: kind, start: start, with: partners)
                var time = start
                var sender: Int? = kind == .recruiter || kind == .outsider ? 1 : nil
                for index in 0..<(kind == .recruiter ? rng.int(in: 1...2) : rng.int(in: 1...4)) {
                    guard time.seconds < latest else { break }
                    if index > 0 || sender == nil {
                        sender = nextSender(after: sender, participants: conversation.participants.count)
                    }
                    addMessage(to: &conversation, kind: kind, at: time, sender: sender ?? 0)
                    time = time.adding(seconds: 30 + Int64(rng.exponential(mean: 3600)))
                    added += 1
                }
                conversations.append(conversation)
            }
        }
        sortConversations()
        return added
    }

    /// Orders conversations by their latest message, newest first.
    func sortConversations() {
        conversations.sort { ($0.lastAt, $0.serial) > ($1.lastAt, $1.serial) }
    }

    // MARK: Rendering

    /// Display name and profile URL of a participant as exported now: members who hid or
    /// closed their account show as "LinkedIn Member" with no URL.
    func displayed(_ person: Person) -> (name: String, url: String) {
        hiddenIDs.contains(person.id) ? ("LinkedIn Member", "") : (person.fullName, person.url)
    }

    /// One messages.csv record (without line ending).
    func messageRow(_ message: ChatMessage, in conversation: Conversation, schema: Schema) -> String {
        let sender = displayed(conversation.participants[message.sender])
        var toNames: [String] = []
        var toURLs: [String] = []
        for (index, person) in conversation.participants.enumerated() where index != message.sender {
            let shown = displayed(person)
            toNames.append(shown.name)
            if !shown.url.isEmpty { toURLs.append(shown.url) }
        }
        var fields = [
            conversation.id, conversation.title, sender.name, sender.url,
            toNames.joined(separator: ","), toURLs.joined(separator: ","),
            Format.messageDate(message.at), message.subject, message.content, conversation.folder,
        ]
        switch schema.messages {
        case .v2023: break
        case .v2024December: fields += ["No", "No"]
        case .v2026April: fields += ["", "No"]
        }
        return fields.map(csvField).joined(separator: ",")
    }

    /// messages.csv: blocks newest first, messages inside a block newest first.
    func renderMessages(schema: Schema) -> [UInt8] {
        var file = CSVFile(header: schema.messagesHeader)
        for conversation in conversations {
            for message in conversation.messages.reversed() {
                file.appendRaw(messageRow(message, in: conversation, schema: schema))
            }
        }
        return file.bytes
    }

    /// Number of message rows right now.
    var messageCount: Int { conversations.reduce(0) { $0 + $1.messages.count } }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
