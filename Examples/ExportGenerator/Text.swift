// Text.swift: message-like sentences from templates with many slots.
//
// Real message text is varied; a handful of fixed sentences would make messages.csv far
// more compressible than the real thing (and dedup measurements too optimistic). Each
// template below has several slots, filled from lists, numbers, times and random links.

enum TextGenerator {
    static let templates = [
        "Are you free on {weekday} at {time}?",
        "Can we move our call to {weekday}? Something came up at {time}.",
        "I'll be in {place} from the {day}th to the {day2}th, coffee?",
        "Thanks for the intro to {name}, we're meeting on {weekday}.",
        "Did you see the news about {company}? Wild.",
        "Here's the doc we talked about: {url}",
        "We just shipped {project} {version}, the {tech} rewrite cut latency by {number}%.",
        "I'm looking into {tech} for {topic}, any pointers?",
        "Congrats on joining {company}! How's the first week going?",
        "The {topic} meetup is on {month} {day} in {place}, want to join?",
        "Sorry, I missed your message, I was off for {number} days.",
        "Could you review the {topic} proposal before {weekday}?",
        "We're hiring a {role} at {company}, do you know anyone?",
        "Happy birthday {name}! 🎂",
        "Ha, {number} years already since {place}!",
        "I left {company} in {month}, now at {company2}.",
        "Do you still have the slides on {topic}?",
        "Let's do {weekday} {time} CET, I'll send an invite: {meet}",
        "Merci {name}, à {weekday} !",
        "Gracias {name}, hablamos la semana que viene.",
        "{number} people signed up for the {topic} workshop so far.",
        "Our {tech} cluster went down at {time} and took {number} minutes to recover.",
        "Any chance you could introduce me to someone at {company}?",
        "I read your post on {topic}, especially the part about {tech}.",
        "Budget for {project} is approved, kickoff on {month} {day}.",
        "Quick one: is the {topic} deadline still {month} {day}?",
        "I'm giving a talk on {topic} at {place} in {month}, would love your feedback on the outline.",
        "Just landed in {place}. Dinner {weekday}?",
        "Thanks! I'll forward it to {name} at {company}.",
        "The numbers for {month}: {number}k users, {number2}% retention.",
        "We switched from {tech} to {tech2} last quarter and never looked back.",
        "Can you send me your CV? The {role} role at {company} closes on {month} {day}.",
        "Sorry for the late reply, it's been a busy {month}.",
        "I'm out of office until {weekday}, back on {topic} after that.",
        "Fun fact: {project} started as a hackathon project in {place}.",
        "Would {weekday} {time} or {weekday2} {time2} work better for you?",
        "Let me check with {name} and get back to you by {weekday}.",
        "The recording of the {topic} session is here: {url}",
        "Bonne année {name} ! Plein de belles choses pour {year}.",
        "Alles Gute zum neuen Job bei {company}!",
        "Good luck with the {topic} launch tomorrow!",
        "I think ticket {ticket} is the one causing the {topic} regression.",
        "Thanks for the endorsement for {tech}, much appreciated.",
        "How's life at {company}? Still working on {project}?",
        "We're organising a {topic} roundtable on {month} {day}, {number} seats left.",
    ]
    static let topics = [
        "data portability", "backup retention", "end-to-end encryption", "content-defined chunking",
        "the Q3 roadmap", "hiring", "the on-call rotation", "the database migration", "zero-knowledge proofs",
        "GDPR requests", "the team offsite", "pricing", "the storage RFC", "observability", "the incident review",
        "mentoring", "remote work", "the hackathon", "accessibility", "Kubernetes costs", "the design review",
        "code signing", "the public beta", "customer interviews", "key rotation", "disaster recovery",
        "the SDK release", "performance budgets", "open-source licensing", "the conference CFP",
    ]
    static let places = [
        "Lyon", "Berlin", "Zürich", "Montréal", "Kraków", "São Paulo", "Tokyo", "Bengaluru", "London", "Madrid",
        "Oslo", "Austin", "Lisbon", "Seoul", "Nairobi", "Toronto", "Amsterdam", "Barcelona", "Singapore", "Dublin",
    ]
    static let tech = [
        "Swift", "Rust", "Postgres", "Kafka", "zstd", "libsodium", "Kubernetes", "Terraform", "gRPC", "SQLite",
        "Redis", "WebAssembly", "Go", "Python", "React", "SwiftUI", "Elixir", "ClickHouse", "DuckDB", "Nix",
    ]
    static let projects = [
        "Falcon", "Bluebird", "Orion", "Keystone", "Lighthouse", "Pebble", "Driftwood", "Marigold", "Quill", "Tundra",
    ]
    static let weekdays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
    private static let linkAlphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")

    /// One sentence with its slots filled.
    static func sentence(_ rng: inout SeededRandom, name: String, companies: [String]) -> String {
        var text = rng.pick(templates)
        guard text.contains("{") else { return text }
        func time(_ rng: inout SeededRandom) -> String {
            "\(rng.int(in: 8...18)):\(["00", "15", "30", "45"][rng.below(4)])"
        }
        let company = companies.isEmpty ? "Northwind" : rng.pick(companies)
        let replacements: [(String, String)] = [
            ("{weekday2}", rng.pick(weekdays)), ("{weekday}", rng.pick(weekdays)),
            ("{time2}", time(&rng)), ("{time}", time(&rng)),
            ("{place}", rng.pick(places)), ("{day2}", String(rng.int(in: 15...28))), ("{day}", String(rng.int(in: 1...14))),
            ("{name}", name), ("{company2}", companies.isEmpty ? "Bluepeak" : rng.pick(companies)), ("{company}", company),
            ("{url}", "https://docs.example.com/d/" + rng.string(count: rng.int(in: 10...22), from: linkAlphabet)),
            ("{meet}", "https://meet.example.com/" + rng.string(count: 3, from: linkAlphabet) + "-"
                + rng.string(count: 4, from: linkAlphabet) + "-" + rng.string(count: 3, from: linkAlphabet)),
            ("{project}", rng.pick(projects)), ("{version}", "v\(rng.int(in: 1...4)).\(rng.int(in: 0...12))"),
            ("{tech2}", rng.pick(tech)), ("{tech}", rng.pick(tech)), ("{topic}", rng.pick(topics)),
            ("{number2}", String(rng.int(in: 2...99))), ("{number}", String(rng.int(in: 2...40))),
            ("{month}", rng.pick(Format.longMonths)), ("{role}", rng.pick(Vocabulary.roles)),
            ("{year}", String(rng.int(in: 2019...2026))), ("{ticket}", "#\(rng.int(in: 100...9999))"),
        ]
        for (slot, value) in replacements where text.contains(slot) {
            text = text.replacingAll(slot, with: value)
        }
        return text
    }

    /// A course description for Learning.csv.
    static func courseDescription(_ rng: inout SeededRandom, lineBreak: String) -> String {
        let first = "Learn how to use \(rng.pick(tech)) for \(rng.pick(topics)), with \(rng.int(in: 3...12)) hands-on exercises."
        let second = "In this course, the instructor covers \(rng.pick(topics)), \(rng.pick(topics)) and \(rng.pick(topics))."
        let third = "Level: \(rng.pick(["Beginner", "Intermediate", "Advanced"])). Duration: \(rng.int(in: 1...6))h \(rng.int(in: 0...59))m."
        return first + lineBreak + lineBreak + second + lineBreak + third
    }
}
