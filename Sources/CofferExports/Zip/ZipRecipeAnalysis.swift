// ZipRecipeAnalysis.swift: the streaming analysis's last resort for a deflated member no zlib
// setting reproduces: a `DeflateRecipe` (see DeflateRecipeSearch), read from the zip source.

extension ZipReproduction {
    /// `.rebuilt` with a recipe proven to rebuild `member`'s exact data, or raw.
    static func recipeOrRaw<Source: ZipSource>(_ member: ZipMember, source: Source, remaining: inout UInt64) throws -> ZipMemberEncoding {
        let data = member.dataRange
        let recipe = try DeflateRecipeSearch.find(
            compressedSize: data.count, uncompressedSize: member.uncompressedSize, crc32: member.crc32, levels: DeflateRecipeSearch.levels(flags: member.flags),
            budget: &remaining
        ) { range in
            try source.read((data.lowerBound + range.lowerBound)..<(data.lowerBound + range.upperBound))
        }
        guard let recipe else { return .raw(.noMatchingParameters) }
        return .rebuilt(recipe)
    }
}
