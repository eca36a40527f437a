// ZipMemberDeflater.swift: what the rebuilder needs from whatever turns a member's content back
// into its deflate stream: zlib with the parameters found (`DeflateStream`) or a recipe
// (`DeflateRecipeEncoder`).

/// Content in, the member's deflate bytes out.
protocol ZipMemberDeflater: AnyObject {
    func compress<Bytes: Collection<UInt8>>(_ chunk: Bytes) throws -> [UInt8]
    func finish() throws -> [UInt8]
}

extension DeflateStream: ZipMemberDeflater {}
extension DeflateRecipeEncoder: ZipMemberDeflater {}

extension ZipRebuildError {
    /// A deflate error while rebuilding member `member`, as `.deflate`; any other error as it is.
    static func deflating(member: Int, _ error: any Error) -> any Error {
        if let error = error as? DeflateError { return ZipRebuildError.deflate(member: member, error) }
        return error
    }
}
