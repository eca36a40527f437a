import Foundation

/// How one entry's failure is kept from stopping a restore.
extension RestoreRun {
    /// Runs `body` for `item`; a failure that does not stop the restore is recorded instead of
    /// thrown (``RestoreFailure/stopsRestore(_:)``).
    func attempt(_ item: RestoreItem, _ body: () throws -> Void) throws {
        do { try body() } catch { try recordFailure(item, error) }
    }

    /// Records that `item` could not be restored (rethrows what stops the restore). A folder
    /// that failed takes the entries below it along (``absorbedByFailedFolder(_:)``).
    func recordFailure(_ item: RestoreItem, _ error: Error) throws {
        if RestoreFailure.stopsRestore(error) { throw error }
        result.failures.append(RestoreFailure(path: target.display(item.place), error: error))
        failedPaths.insert(item.entry.pathBytes)
        if item.entry.type == .directory { failedFolder = (item.entry.pathBytes, result.failures.count - 1) }
    }

    /// Whether `e` lies below a folder that could not be made: then it is counted on that
    /// folder's failure, not restored and not listed on its own.
    func absorbedByFailedFolder(_ e: VersionEntry) -> Bool {
        guard let folder = failedFolder else { return false }
        guard ListedEntries.isBelow(e.pathBytes, folder.path) else {
            failedFolder = nil
            return false
        }
        result.failures[folder.index].entriesBelow += 1
        return true
    }
}
