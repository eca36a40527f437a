// Arguments.swift: the generator's command line, parsed by hand (no dependencies).

/// What the command line asked for.
enum Command: Equatable {
    case help
    case generate(GeneratorConfig)
}

enum Arguments {
    static let usage = """
        USAGE: export-generator --out DIR [options]

        Writes a synthetic person's LinkedIn Basic data exports (or X archives), one per
        interval, deterministically (the same flags give byte-identical files).

        OPTIONS:
          --out DIR               output folder (created if missing)
          --months N              number of exports (default 12)
          --seed S                random seed, an unsigned integer (default 1)
          --connections N         connections at the first export (default 3000)
          --messages-bytes N      approximate size of messages.csv at the first export (default 1000000)
          --start YYYY-MM-DD      date of the first export (default 2025-01-15)
          --interval-days D       days between exports (default 30)
          --format zip|folder|both  output form (default zip)
          --platform linkedin|x   LinkedIn exports or X archives (twitter-YYYY-MM-DD-<hex>.zip
                                  with data/tweets.js, like.js, follower.js, following.js,
                                  account.js; zip only) (default linkedin)
          --connections-header 2022|2023
                                  Connections.csv header: 2022 has no URL column (default 2023)
          --churn full|top        what changes between exports: full (default) adds rows at the
                                  top and changes some in place (job changes, hidden accounts,
                                  removals, replies moving a conversation to the top); top only
                                  adds new connections and new conversations at the top
          --quiet                 print nothing but errors
          -h, --help              show this help
        """

    /// Parses the arguments after the program name.
    static func parse(_ rawArguments: [String]) throws(GeneratorError) -> Command {
        // Accept --flag=value as well as --flag value.
        var arguments: [String] = []
        for argument in rawArguments {
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                arguments.append(String(argument[..<equals]))
                arguments.append(String(argument[argument.index(after: equals)...]))
            } else {
                arguments.append(argument)
            }
        }
        var output: String?
        var config = GeneratorConfig(outputDirectory: "")
        var index = 0
        func value(_ flag: String) throws(GeneratorError) -> String {
            index += 1
            guard index < arguments.count, !arguments[index].hasPrefix("--") else {
                throw .usage("\(flag) needs a value")
            }
            return arguments[index]
        }
        func integer(_ flag: String, _ range: ClosedRange<Int>) throws(GeneratorError) -> Int {
            let text = try value(flag)
            guard let number = Int(text.replacingAll("_", with: "")), range.contains(number) else {
                throw .usage("\(flag) must be an integer in \(range.lowerBound)...\(range.upperBound), not '\(text)'")
            }
            return number
        }
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "-h", "--help":
                return .help
            case "--out":
                output = try value(argument)
            case "--months":
                config.months = try integer(argument, 1...1200)
            case "--seed":
                let text = try value(argument)
                guard let seed = UInt64(text) else { throw .usage("--seed must be an unsigned integer, not '\(text)'") }
                config.seed = seed
            case "--connections":
                config.connections = try integer(argument, 1...1_000_000)
            case "--messages-bytes":
                config.messagesBytes = try integer(argument, 0...1_000_000_000)
            case "--start":
                let text = try value(argument)
                guard let date = CivilDate(iso: text), (1990...2099).contains(date.year) else {
                    throw .usage("--start must be a date YYYY-MM-DD between 1990 and 2099, not '\(text)'")
                }
                config.start = date
            case "--interval-days":
                config.intervalDays = try integer(argument, 1...3650)
            case "--format":
                let text = try value(argument)
                guard let format = OutputFormat(rawValue: text) else {
                    throw .usage("--format must be zip, folder or both, not '\(text)'")
                }
                config.format = format
            case "--platform":
                let text = try value(argument)
                guard let platform = GeneratorPlatform(rawValue: text) else {
                    throw .usage("--platform must be linkedin or x, not '\(text)'")
                }
                config.platform = platform
            case "--connections-header":
                let text = try value(argument)
                guard text == "2022" || text == "2023" else {
                    throw .usage("--connections-header must be 2022 or 2023, not '\(text)'")
                }
                config.connectionsWithoutURL = text == "2022"
            case "--churn":
                let text = try value(argument)
                guard let churn = ChurnModel(rawValue: text) else {
                    throw .usage("--churn must be full or top, not '\(text)'")
                }
                config.churn = churn
            case "--quiet":
                config.quiet = true
            default:
                throw .usage("unknown argument '\(argument)'")
            }
            index += 1
        }
        guard let output, !output.isEmpty else { throw .usage("--out DIR is required") }
        config.outputDirectory = output
        let lastDate = config.start.adding(days: (config.months - 1) * config.intervalDays)
        guard lastDate.year <= 2107 else { throw .usage("the last export (\(lastDate)) would be after 2107") }
        return .generate(config)
    }
}
