import Foundation

/// The environment Coffer gives the programs it starts (rclone, the `--passphrase-command`
/// shell): its own environment without the variables that may hold a passphrase.
///
/// rclone passes its environment on to what it runs in turn (ssh, `--password-command`
/// programs, `RCLONE_CONFIG_*_COMMAND` helpers), so a passphrase left in it would reach programs
/// that have nothing to do with Coffer. Every other variable (`RCLONE_*`, `PATH`, `HOME`, proxies,
/// `TMPDIR`, ...) is kept, so rclone finds its configuration as before.
public enum ChildEnvironment {
    /// Names starting with one of these are never passed to a child process.
    public static let secretPrefixes = ["COFFER_PASSPHRASE", "COFFER_FROM_PASSPHRASE"]

    /// Whether a variable of this name may hold a passphrase.
    public static func isSecret(name: String) -> Bool {
        secretPrefixes.contains { name.hasPrefix($0) }
    }

    /// `environment` (default: this process's) without the secret variables.
    public static func filtered(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        environment.filter { !isSecret(name: $0.key) }
    }
}
