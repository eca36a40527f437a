import Foundation

/// With `--json`, a failure is also reported on stdout, as one line a script can parse:
/// `{"error":"…","exit_code":N}` (the stderr line is printed as well). Not when the command's
/// own JSON already reports the outcome: a failure without a message (`check` finding errors,
/// `status --check`) and a seal that left inputs out (status 3; its JSON lists them).
enum JSONError {
    struct Line: Encodable {
        var error: String
        var exit_code: Int32
    }

    static func print(message: String, status: ExitStatus) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard !message.isEmpty, status != .partial,
              let data = try? encoder.encode(Line(error: message, exit_code: status.rawValue)) else { return }
        Console.outJSON(String(decoding: data, as: UTF8.self))
    }
}
