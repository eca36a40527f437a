import CofferCore

/// Registers S3 with CofferCore's ``ObjectStorage``, so that `s3:` locations work in
/// `--vault`, `COFFER_VAULT` and `coffer sync DEST`.
public enum S3Storage {
    public static func register() {
        ObjectStorage.registerS3(
            ObjectStorage.Provider(
                validate: { _ = try S3Location(parsing: $0) },
                makeBackend: { text in
                    // validate() accepted it.
                    guard let location = try? S3Location(parsing: text) else { fatalError("an unvalidated s3: location") }
                    return S3Backend(location: location)
                },
                prepareForCreate: { backend in
                    guard let s3 = backend as? S3Backend else { return }
                    try s3.createBucketIfMissing()
                }))
    }
}
