import Foundation

/// Why a seal left inputs out, from the reasons its notes give (`PATH: not sealed: REASON`,
/// `PATH: contents not sealed: REASON`), so the message after the seal names the real cause
/// instead of always suggesting permissions.
enum LeftOutInputs {
    enum Cause: CaseIterable {
        case vanished, permission, io, other

        /// The cause of an `errno`-based reason (the text `strerror` gives), else `.other`.
        init(reason: String) {
            func text(_ code: Int32) -> String { String(cString: strerror(code)) }
            if [ENOENT, ENOTDIR, ESTALE].contains(where: { reason.hasSuffix(text($0)) }) {
                self = .vanished
            } else if [EACCES, EPERM].contains(where: { reason.hasSuffix(text($0)) }) {
                self = .permission
            } else if [EIO, ENXIO, ENODEV].contains(where: { reason.hasSuffix(text($0)) }) {
                self = .io
            } else {
                self = .other
            }
        }

        var label: String {
            switch self {
            case .vanished: return "vanished during the seal"
            case .permission: return "permission denied"
            case .io: return "I/O error"
            case .other: return "other reasons (see the version's notes)"
            }
        }

        var advice: String {
            switch self {
            case .vanished: return "they were removed or moved while the seal ran; seal again if they should be in it"
            case .permission: return "check the permissions and seal again"
            case .io: return "the disk reported read errors: check it (dmesg, smartctl) before trusting its files"
            case .other: return "see the notes on stderr and seal again"
            }
        }
    }

    /// The causes found in `notes`, with how many inputs each; notes that are not about an
    /// input left out do not count.
    static func causes(notes: [String]) -> [(cause: Cause, count: Int)] {
        var counts: [Cause: Int] = [:]
        for note in notes {
            guard let range = note.range(of: ": not sealed: ") ?? note.range(of: ": contents not sealed: ") else { continue }
            counts[Cause(reason: String(note[range.upperBound...])), default: 0] += 1
        }
        return Cause.allCases.compactMap { c in counts[c].map { (c, $0) } }
    }

    /// `— 2 vanished during the seal, 1 permission denied: check the permissions and seal again`.
    static func explanation(notes: [String]) -> String {
        let found = causes(notes: notes)
        guard !found.isEmpty else { return "check the version's notes and seal again" }
        if found.count == 1 { return "\(found[0].cause.label): \(found[0].cause.advice)" }
        let parts = found.map { "\($0.count) \($0.cause.label)" }.joined(separator: ", ")
        // The first cause that needs the user's attention gives the advice.
        let lead = found.first { $0.cause != .vanished }?.cause ?? found[0].cause
        return parts + "; " + lead.advice
    }
}
