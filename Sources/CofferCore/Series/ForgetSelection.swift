import Foundation

/// Which versions `forget ID…` and `forget NAME --all` remove.
extension Vault {
    /// The live versions named by `selectors`, each once, oldest first: full ids, unique id
    /// prefixes (at least 4 hex digits) or `NAME@latest|-N|YYYY-MM-DD`. A bare series name is
    /// refused rather than read as `NAME@latest`, so `forget docs` never removes a version the
    /// user did not point at.
    ///
    /// - Throws: ``CofferError/versionNotFound(selector:candidates:)``,
    ///   ``CofferError/ambiguousVersion(selector:candidates:)``, or
    ///   ``CofferError/invalidArgument(_:)`` for a bare series name.
    public func versionsNamed(by selectors: [String]) throws -> [(id: ObjectID, version: Version)] {
        let all = try versions()
        var wanted = Set<ObjectID>()
        for selector in selectors {
            if selector.contains("@") {
                wanted.insert(try resolve(selector))
                continue
            }
            let lower = selector.lowercased()
            let isHex = lower.count >= 4 && lower.allSatisfy { $0.isHexDigit }
            if isHex, all.contains(where: { $0.id.hex.hasPrefix(lower) }) {
                wanted.insert(try resolve(selector))  // one match, or ambiguous
                continue
            }
            if all.contains(where: { $0.version.name == selector }) {
                throw CofferError.invalidArgument(
                    "'\(TerminalText.escape(selector))' is a series name, not a version: give an id, \(TerminalText.escape(selector))@latest "
                        + "(or @-N, @YYYY-MM-DD) for one version, --all for the whole series, or --keep-* rules")
            }
            _ = try resolve(selector)  // throws "not found" with close names
        }
        return all.filter { wanted.contains($0.id) }
    }

    /// Every live version of each of `names`, oldest first.
    ///
    /// - Throws: ``CofferError/versionNotFound(selector:candidates:)`` for a name without versions.
    public func seriesVersions(_ names: [String]) throws -> [(id: ObjectID, version: Version)] {
        let all = try versions()
        for name in names where !all.contains(where: { $0.version.name == name }) {
            let known = Set(all.map(\.version.name)).sorted()
            throw CofferError.versionNotFound(selector: name, candidates: known.prefix(5).map { "\($0)@latest" })
        }
        let set = Set(names)
        return all.filter { set.contains($0.version.name) }
    }
}

extension RetentionPolicy.Decision {
    /// A version removed for `reason` (`forget ID…`, `forget NAME --all`).
    public init(removing id: ObjectID, version: Version, reason: String) {
        self.init(id: id, name: version.name, time: version.time, tags: version.tags, keep: false, reasons: [reason])
    }
}
