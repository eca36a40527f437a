import ArgumentParser
import CofferCore
import CofferUI
import Dispatch
import Foundation
import Synchronization

extension Coffer {
    /// `coffer ui`: the vault in a browser (Sources/CofferUI).
    struct UI: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ui",
            abstract: "See the vault in a browser: series, versions, files, and who connected and left over time.",
            discussion: """
                Unlocks the vault once, starts a web server on 127.0.0.1 and prints its address, \
                http://127.0.0.1:PORT/?token=…, on stdout; without --no-open it also opens it with \
                xdg-open (or open). The token is a random 256-bit value made for this run: the first \
                visit turns it into a cookie, and every request without it gets 403. The pages \
                only read the vault; files and folders (as zip) can be downloaded. Ctrl-C or \
                SIGTERM stops the server (exit status 0). Docs/SECURITY.md describes what protects it.
                """)

        @OptionGroup var vaultArguments: VaultArguments

        @Option(help: ArgumentHelp("The port to listen on (default: a free one).", valueName: "port"))
        var port: Int = 0

        @Option(help: ArgumentHelp("Listen on this address instead of 127.0.0.1 (needs --allow-remote unless it is a loopback address).", valueName: "addr"))
        var listen: String = "127.0.0.1"

        @Flag(help: "Allow --listen on an address other machines can reach (the token is then sent in clear over the network).")
        var allowRemote = false

        @Flag(help: "Only print the address; do not open a browser.")
        var noOpen = false

        func validate() throws {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
            if !UIConfiguration.isLoopback(listen) && !allowRemote {
                throw ValidationError("--listen \(listen) is not a loopback address: pass --allow-remote too if you mean it")
            }
        }

        func run() throws {
            let vault = try vaultArguments.open()
            let server = UIServer(vault: vault, configuration: UIConfiguration(host: listen, port: port))
            if !UIConfiguration.isLoopback(listen) {
                Console.warn(
                    "listening on \(listen), which other machines may reach: anyone who sees the address with its token can read this vault, and the token crosses the network unencrypted")
            }
            // Ctrl-C and SIGTERM only set a flag: the server is then stopped and the command ends.
            Interrupt.beginCooperative()
            let state = ServerState()
            let task = Task {
                do {
                    try await server.run { port in state.ready(port) }
                    state.finished(nil)
                } catch {
                    state.finished(error)
                }
            }
            while state.port == nil && state.error == nil && !state.isFinished && !Interrupt.isRequested { usleep(20_000) }
            if let error = state.error {
                throw CommandFailure(.failure, "coffer ui: could not listen on \(listen):\(port): \(error)")
            }
            if let port = state.port {
                let url = server.url(port: port)
                Console.out(url)
                Console.err("coffer ui: serving vault \(vault.location) at \(url.prefix { $0 != "?" }) (Ctrl-C stops it)")
                if !noOpen { Self.openBrowser(url) }
            }
            while !state.isFinished && !Interrupt.isRequested { usleep(100_000) }
            task.cancel()
            let deadline = Date().addingTimeInterval(10)
            while !state.isFinished && Date() < deadline { usleep(20_000) }
            if let error = state.error, !Interrupt.isRequested {
                throw CommandFailure(.failure, "coffer ui: the server stopped: \(error)")
            }
            Console.err("coffer ui: stopped")
            // Stopping by Ctrl-C or SIGTERM is how the server is meant to end: status 0, not the
            // 130/143 of an interrupted command (main would report the signal after run returns).
            Foundation.exit(0)
        }

        /// Starts xdg-open (or open) on the address, with the environment less anything secret:
        /// the passphrase variables (which already left it at start) and the S3 credentials of an
        /// S3 vault, which a browser has no use for. The address is an argument.
        /// Variables a browser started by `coffer ui` never gets.
        static let browserHidden: Set<String> = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]

        static func openBrowser(_ url: String) {
            for tool in ["/usr/bin/xdg-open", "/usr/local/bin/xdg-open", "/usr/bin/open"] where FileManager.default.isExecutableFile(atPath: tool) {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: tool)
                p.arguments = [url]
                p.environment = ChildEnvironment.filtered().filter { !UI.browserHidden.contains($0.key) }
                p.standardInput = FileHandle(forReadingAtPath: "/dev/null")
                p.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
                p.standardError = FileHandle(forWritingAtPath: "/dev/null")
                if (try? p.run()) != nil { return }
            }
            Console.err("coffer ui: could not start a browser (xdg-open); open the address above yourself")
        }
    }
}

/// What the server task reports to the command's thread.
private final class ServerState: Sendable {
    private let state = Mutex<(port: Int?, error: String?, finished: Bool)>((nil, nil, false))
    var port: Int? { state.withLock { $0.port } }
    var error: String? { state.withLock { $0.error } }
    var isFinished: Bool { state.withLock { $0.finished } }
    func ready(_ port: Int) { state.withLock { $0.port = port } }
    func finished(_ error: (any Error)?) {
        state.withLock {
            $0.finished = true
            if let error, !(error is CancellationError) { $0.error = "\(error)" }
        }
    }
}
