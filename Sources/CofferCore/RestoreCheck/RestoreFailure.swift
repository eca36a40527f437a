import Foundation

/// An entry a restore could not give back (the others were restored): where it was to go and
/// why. A folder that could not be made counts the entries below it, which fail with it.
public struct RestoreFailure: Sendable, Equatable, CustomStringConvertible {
    /// Where the entry was to go, escaped for a terminal.
    public var path: String
    /// Why, in one line.
    public var reason: String
    /// For a folder: how many entries below it were not restored with it.
    public var entriesBelow: Int = 0

    public init(path: String, reason: String, entriesBelow: Int = 0) {
        self.path = path
        self.reason = reason
        self.entriesBelow = entriesBelow
    }

    /// `path: reason`, plus the entries below a folder.
    public var description: String {
        let below = entriesBelow == 0 ? "" : " (and \(entriesBelow) entr\(entriesBelow == 1 ? "y" : "ies") below it)"
        return "\(path): \(reason)\(below)"
    }

    /// Whether `error` stops the whole restore instead of failing one entry: an interruption,
    /// a refused unsafe place (a symbolic link in the way), something found in the way that
    /// restore does not replace (``CofferError/destinationExists(path:)``: it appeared after
    /// the check made before writing, or is a folder where `--force` would put a file), and
    /// damage to the version itself
    /// (an integrity error naming its file, such as a hard link to an unsafe path). Damage to
    /// one file's data fails that file only.
    static func stopsRestore(_ error: Error) -> Bool {
        switch error as? CofferError {
        case .interrupted, .restoreRefused, .destinationExists: return true
        case .integrity(let object, _): return object.hasPrefix(VaultFolder.versions.rawValue + "/")
        default: return false
        }
    }

    /// The failure of the entry at `path` (shown) that threw `error`: the error's message
    /// without the path in front when it starts with it.
    init(path: String, error: Error) {
        var text = (error as? CofferError)?.description ?? "\(error)"
        if text.hasPrefix(path + ": ") { text.removeFirst(path.count + 2) }
        self.init(path: path, reason: text)
    }
}
