/// The patterns of `restore --include/--exclude/--iinclude/--iexclude` (and their `-file`
/// forms), as bytes, in the order given. See ``GlobPattern`` for the syntax.
public struct RestorePatternLists: Sendable, Equatable {
    public var include: [[UInt8]] = []
    public var exclude: [[UInt8]] = []
    /// `include`, ignoring case.
    public var iinclude: [[UInt8]] = []
    /// `exclude`, ignoring case.
    public var iexclude: [[UInt8]] = []

    public init() {}

    public var isEmpty: Bool { include.isEmpty && exclude.isEmpty && iinclude.isEmpty && iexclude.isEmpty }

    /// Compiles every list.
    /// - Throws: ``CofferError/invalidArgument(_:)`` naming the first malformed pattern.
    public func validate() throws {
        _ = try RestorePatterns(self)
    }
}

/// Which entries a restore selects (restic's restore rules): an entry is selected when it
/// matches an include pattern (`include` or `iinclude`; with none given, every entry does) and
/// no exclude pattern. A pattern that matches a folder matches everything below it; the folders
/// on the way to a selected entry are restored with it (``SelectedEntries``). The walk does not
/// enter an excluded folder, nor one inside which no include can match
/// (``mayHaveSelectedChildren(_:)``), so a `!` exclude pattern cannot bring back an entry of an
/// excluded folder: exclude `dir/*` and `!dir/keep` rather than `dir` and `!dir/keep`.
struct RestorePatterns {
    private let include: [PatternSet]
    private let exclude: [PatternSet]
    private let needsPlain: Bool
    private let needsFolded: Bool
    let hasIncludes: Bool
    /// The include patterns as given, for messages.
    let includeText: String

    /// Nil when no pattern is given (everything is selected).
    init?(_ lists: RestorePatternLists) throws {
        guard !lists.isEmpty else { return nil }
        do {
            include = try [PatternSet(lists.include), PatternSet(lists.iinclude, caseInsensitive: true)].filter { !$0.isEmpty }
            exclude = try [PatternSet(lists.exclude), PatternSet(lists.iexclude, caseInsensitive: true)].filter { !$0.isEmpty }
        } catch let e as PatternError {
            throw CofferError.invalidArgument("\(e)")
        }
        let all = include + exclude
        needsPlain = all.contains { !$0.isCaseInsensitive }
        needsFolded = all.contains { $0.isCaseInsensitive }
        hasIncludes = !include.isEmpty
        includeText = (lists.include + lists.iinclude).map { TerminalText.escape(bytes: $0) }.joined(separator: ", ")
    }

    /// ``init(_:)`` with the options' string `include` patterns before its byte lists' includes.
    init?(_ options: RestoreOptions) throws {
        var lists = options.patterns
        lists.include = options.include.map { Array($0.utf8) } + lists.include
        try self.init(lists)
    }

    private func prepared(_ path: [UInt8]) -> (plain: PatternPath?, folded: PatternPath?) {
        (needsPlain ? PatternPath(path, folded: false) : nil, needsFolded ? PatternPath(path, folded: true) : nil)
    }

    private static func pick(_ set: PatternSet, _ p: (plain: PatternPath?, folded: PatternPath?)) -> PatternPath {
        set.isCaseInsensitive ? p.folded! : p.plain!
    }

    /// Whether the entry at `path` is selected, its folders aside (the walk skips what lies in
    /// an excluded folder).
    func matches(_ path: [UInt8]) -> Bool {
        let p = prepared(path)
        if hasIncludes && !include.contains(where: { $0.matches(Self.pick($0, p)) }) { return false }
        return !exclude.contains { $0.matches(Self.pick($0, p)) }
    }

    /// Whether the walk must enter folder `path` (not selected itself): it is not excluded and
    /// an include pattern may match something inside it.
    func mayHaveSelectedChildren(_ path: [UInt8]) -> Bool {
        let p = prepared(path)
        if exclude.contains(where: { $0.matches(Self.pick($0, p)) }) { return false }
        return !hasIncludes || include.contains { $0.matchesWithChildren(Self.pick($0, p)).childMayMatch }
    }

    /// Whether `path` is selected by a walk: it matches and no folder above it is excluded.
    func selects(_ path: [UInt8]) -> Bool {
        guard matches(path) else { return false }
        let slash = RelativePath.slash
        for k in path.indices where path[k] == slash && k > 0 {
            let folder = Array(path[..<k])
            let p = prepared(folder)
            if exclude.contains(where: { $0.matches(Self.pick($0, p)) }) { return false }
        }
        return true
    }
}

/// The name restore's selection had when it held `--include` patterns only.
typealias IncludePatterns = RestorePatterns
