import Foundation
import RaftProcess
import Testing

/// Keeps the hand-written man pages and the generated shell completions in step with the code.
///
/// The commands and flags are read from the built binaries' `--help` (what users actually see), not from a list
/// kept here, so a new command or flag without documentation fails the suite instead of drifting silently.
@Suite("Docs stay in sync with the code")
struct DocsSyncTests {
    // MARK: - raftctl(1)

    @Test("raftctl.1 has a COMMANDS entry for every subcommand in `raftctl --help`, and no stale ones")
    func raftctlManPageListsEveryCommand() throws {
        let commands = try Docs.subcommands()
        #expect(commands.count >= 20, "parsed only \(commands) from `raftctl --help`")
        let page = try Docs.ManPage(path: Docs.root + "/man/raftctl.1")
        let documented = page.commandBlocks(section: "COMMANDS")
        for command in commands {
            #expect(documented[command] != nil, "man/raftctl.1 has no `.It Cm \(command)` entry under COMMANDS")
        }
        for command in documented.keys where !commands.contains(command) {
            Issue.record("man/raftctl.1 documents `\(command)`, which `raftctl --help` does not list")
        }
    }

    @Test("raftctl.1 documents every flag of every subcommand (`.It Fl` in its entry), and no stale ones")
    func raftctlManPageListsEveryFlag() throws {
        let page = try Docs.ManPage(path: Docs.root + "/man/raftctl.1")
        let blocks = page.commandBlocks(section: "COMMANDS")
        var checked = 0
        for command in try Docs.subcommands() {
            var flags = Set(try Docs.flags(inHelpOf: ["raftctl", command])).subtracting(Docs.raftctlCommonFlags)
            // A command with subcommands of its own (`scenario list`, `scenario run`) is one entry per
            // subcommand, all under the command's name: its flags are theirs together.
            for subcommand in try Docs.subcommands(of: ["raftctl", command]) {
                flags.formUnion(
                    Set(try Docs.flags(inHelpOf: ["raftctl", command, subcommand])).subtracting(Docs.raftctlCommonFlags)
                )
            }
            let documented = blocks[command].map(Docs.ManPage.itemFlags) ?? []
            for flag in flags.sorted() {
                #expect(
                    documented.contains(flag), "man/raftctl.1: `raftctl \(command)` entry lacks `.It Fl` for \(flag)")
                checked += 1
            }
            // A shared flag may be documented again where it means more (`scenario run --cluster-dir`).
            for flag in documented.subtracting(flags).subtracting(Docs.raftctlCommonFlags).sorted() {
                Issue.record(
                    "man/raftctl.1 documents \(flag) for `raftctl \(command)`, but its --help has no such flag")
            }
        }
        #expect(checked >= 15, "only \(checked) flags found in the subcommands' --help")
    }

    @Test("raftctl.1 documents the options every command shares, exit statuses and the environment")
    func raftctlManPageCommonSections() throws {
        let page = try Docs.ManPage(path: Docs.root + "/man/raftctl.1")
        let options = Docs.ManPage.itemFlags(page.section("OPTIONS"))
        for flag in Docs.raftctlCommonFlags {
            #expect(options.contains(flag), "man/raftctl.1 OPTIONS lacks `.It Fl` for \(flag)")
        }
        let help = try Docs.run(["raftctl", "--help"])
        for section in ["SYNOPSIS", "DESCRIPTION", "REPL", "FILES", "ENVIRONMENT", "EXIT STATUS", "EXAMPLES"] {
            #expect(!page.section(section).isEmpty, "man/raftctl.1 has no \(section) section")
        }
        for variable in ["RAFTCTL_CLUSTER_DIR", "XDG_STATE_HOME"] {
            #expect(page.section("ENVIRONMENT").contains(variable), "man/raftctl.1 ENVIRONMENT lacks \(variable)")
        }
        // The statuses the binary promises in its own help must be the ones the page lists.
        let flatHelp = help.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(flatHelp.contains("0 success, 1 the operation failed, 2 usage error, 3 the cluster is not running"))
        let exit = page.section("EXIT STATUS")
        for status in ["0", "1", "2", "3"] {
            #expect(exit.contains(".It \(status)"), "man/raftctl.1 EXIT STATUS lacks an `.It \(status)` entry")
        }
    }

    // MARK: - raftd(8)

    @Test("raftd.8 documents every raftd flag (`.It Fl` under OPTIONS), and no stale ones")
    func raftdManPageListsEveryFlag() throws {
        let flags = Set(try Docs.flags(inHelpOf: ["raftd", "--help"], includeHelp: true))
        #expect(flags.count >= 15, "parsed only \(flags) from `raftd --help`")
        let page = try Docs.ManPage(path: Docs.root + "/man/raftd.8")
        let documented = Docs.ManPage.itemFlags(page.section("OPTIONS"))
        for flag in flags.sorted() {
            #expect(documented.contains(flag), "man/raftd.8 OPTIONS lacks `.It Fl` for \(flag)")
        }
        for flag in documented.subtracting(flags).sorted() {
            Issue.record("man/raftd.8 documents \(flag), which `raftd --help` does not list")
        }
    }

    @Test("raftd.8 documents every admin operation and every admin error code")
    func raftdManPageListsAdminOperations() throws {
        let page = try Docs.ManPage(path: Docs.root + "/man/raftd.8")
        let admin = page.section("ADMIN PROTOCOL")
        let documented = Set(page.commandBlocks(section: "ADMIN PROTOCOL").keys)
        let protocolSource = try Docs.source("Sources/RaftAPI/AdminProtocol.swift")
        let operations = Docs.quotedWords(in: Docs.between(protocolSource, "operations = [", "]"))
        #expect(operations.count >= 10, "parsed only \(operations) from AdminProtocol.operations")
        for operation in operations {
            #expect(documented.contains(operation), "man/raftd.8 ADMIN PROTOCOL lacks `.It Cm \(operation)`")
        }
        let handler = try Docs.source("Sources/RaftServer/AdminHandler.swift")
        let codes = Docs.captures(#"code: "([a-z_]+)""#, in: handler)
            .union(Docs.captures(#"AdminError\(code: "([a-z_]+)""#, in: handler))
        #expect(codes.count >= 6, "parsed only \(codes) from AdminHandler.swift")
        for code in codes.sorted() {
            #expect(admin.contains(code), "man/raftd.8 ADMIN PROTOCOL does not mention the error code \(code)")
        }
    }

    @Test("raftd.8 documents every HTTP endpoint, query parameter, header and error code the handler uses")
    func raftdManPageListsHTTPAPI() throws {
        let page = try Docs.ManPage(path: Docs.root + "/man/raftd.8")
        let http = page.section("HTTP API")
        let handler = try Docs.source("Sources/RaftServer/HTTPAPIHandler.swift")
        let codes = Docs.captures(#"error: \("([a-z_]+)""#, in: handler)
            .union(Docs.captures(#"\.[A-Za-z]+, "([a-z_]+)", ""#, in: handler))
            .union(Docs.captures(#"\(\s*"([a-z_]+)",\s*"the request timed out"#, in: handler))
        #expect(codes.count >= 10, "parsed only \(codes) from HTTPAPIHandler.swift")
        for code in codes.sorted() {
            #expect(http.contains(code), "man/raftd.8 HTTP API does not mention the error code \(code)")
        }
        let names = ["/v1/kv/", "/v1/status", "consistency", "prevValue", "prevExist", "Idempotency-Key"]
        for name in names {
            #expect(handler.lowercased().contains(name.lowercased()), "HTTPAPIHandler.swift no longer uses \(name)")
            #expect(http.contains(name), "man/raftd.8 HTTP API does not mention \(name)")
        }
    }

    // MARK: - Completions

    @Test(
        "completions/ equal what `raftctl --generate-completion-script` prints now",
        arguments: [
            ("bash", "raftctl.bash"), ("zsh", "_raftctl"), ("fish", "raftctl.fish"),
        ])
    func completionScriptsAreCurrent(shell: String, file: String) throws {
        let generated = try Docs.run(["raftctl", "--generate-completion-script", shell])
        let path = Docs.root + "/completions/" + file
        let committed = try String(contentsOfFile: path, encoding: .utf8)
        // Compared outside #expect so a failure names the fix instead of printing two 700-line scripts.
        let current = generated == committed
        #expect(
            current,
            "completions/\(file) is out of date with raftctl's commands: run scripts/update-completions.sh and commit")
    }

    @Test("the bash completion asks raftctl for node ids at run time instead of listing fixed ones")
    func bashCompletionCompletesNodeIDsDynamically() throws {
        let script = try String(contentsOfFile: Docs.root + "/completions/raftctl.bash", encoding: .utf8)
        #expect(script.contains("---completion kill -- positional@0"))
        #expect(!script.contains("n1 n2 n3"))
    }
}

/// Helpers: locating the package and the built binaries, running them, and reading mdoc source.
enum Docs {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Flags every raftctl command has; documented once, under OPTIONS.
    static let raftctlCommonFlags: Set<String> = ["--cluster-dir", "-h", "--help"]

    /// The package root, found from this file (Tests/DocsTests/DocsSyncTests.swift).
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static func source(_ relativePath: String) throws -> String {
        try String(contentsOfFile: root + "/" + relativePath, encoding: .utf8)
    }

    /// A built executable: beside the test bundle (`swift test`), else in the default debug build directory.
    static func executable(_ name: String) throws -> String {
        let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        var candidates: [String] = []
        for _ in 0..<4 {
            candidates.append(directory.appendingPathComponent(name).path)
            directory.deleteLastPathComponent()
        }
        candidates.append(root + "/.build/debug/" + name)
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Failure(description: "\(name) is not built (run `swift build`); looked at \(candidates)")
        }
        return found
    }

    /// Runs `arguments[0]` (a built binary) with the rest, in a clean environment, and returns its stdout.
    static func run(_ arguments: [String]) throws -> String {
        // No cluster and a wide terminal: help output must not depend on the caller's environment.
        let outcome = try ChildProcess.run(
            executable: try executable(arguments[0]), arguments: Array(arguments.dropFirst()),
            environment: ["RAFTCTL_CLUSTER_DIR=/nonexistent/raftctl-docs-test", "COLUMNS=80", "PATH=/usr/bin:/bin"],
            timeout: .seconds(60))
        guard outcome.status == 0 else {
            throw Failure(
                description: "`\(arguments.joined(separator: " "))` exited \(outcome.status.map(String.init) ?? "late")"
            )
        }
        return outcome.stdout
    }

    /// The subcommand names in `raftctl --help`'s SUBCOMMANDS section (or another command's).
    static func subcommands(of command: [String] = ["raftctl"]) throws -> [String] {
        let help = try run(command + ["--help"])
        var names: [String] = []
        var inSection = false
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("SUBCOMMANDS:") {
                inSection = true
                continue
            }
            guard inSection else { continue }
            if !line.isEmpty && !line.hasPrefix(" ") { break }
            // Entries start at column 2; wrapped descriptions are indented further.
            guard line.hasPrefix("  "), let first = line.dropFirst(2).first, first.isLowercase else { continue }
            names.append(String(line.dropFirst(2).prefix { !$0.isWhitespace }))
        }
        return names
    }

    /// Every option spelling (`--long` and short-only `-x`) in the OPTIONS section of a command's help.
    static func flags(inHelpOf command: [String], includeHelp: Bool = true) throws -> [String] {
        var arguments = command
        if arguments.last != "--help" { arguments.append("--help") }
        let help = try run(arguments)
        var flags: [String] = []
        var inSection = false
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("OPTIONS:") {
                inSection = true
                continue
            }
            guard inSection else { continue }
            if !line.isEmpty && !line.hasPrefix(" ") { break }
            // An option line is "  -x, --long <value>   text" or "  --long   text"; continuations are indented more.
            guard line.hasPrefix("  -") else { continue }
            for word in line.dropFirst(2).split(separator: " ") {
                let token = word.trimmingCharacters(in: CharacterSet(charactersIn: ","))
                guard token.hasPrefix("-") else { break }
                flags.append(token)
            }
        }
        return includeHelp ? flags : flags.filter { $0 != "-h" && $0 != "--help" }
    }

    static func between(_ text: String, _ start: String, _ end: String) -> String {
        guard let from = text.range(of: start), let to = text.range(of: end, range: from.upperBound..<text.endIndex)
        else { return "" }
        return String(text[from.upperBound..<to.lowerBound])
    }

    static func quotedWords(in text: String) -> [String] {
        text.split(separator: "\"").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }

    /// The first capture group of every match of `pattern`.
    static func captures(_ pattern: String, in text: String) -> Set<String> {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return [] }
        let range = NSRange(text.startIndex..<text.endIndex, in: text)
        var found: Set<String> = []
        for match in regex.matches(in: text, range: range) where match.numberOfRanges > 1 {
            if let capture = Range(match.range(at: 1), in: text) { found.insert(String(text[capture])) }
        }
        return found
    }

    /// An mdoc page's source, with `\-` unescaped so flags read as typed.
    struct ManPage {
        let lines: [String]

        init(path: String) throws {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            lines = text.replacingOccurrences(of: "\\-", with: "-").split(
                separator: "\n", omittingEmptySubsequences: false
            )
            .map(String.init)
        }

        /// The lines of `.Sh NAME` up to the next `.Sh`, joined.
        func section(_ name: String) -> String {
            guard let start = lines.firstIndex(where: { $0 == ".Sh \(name)" || $0 == ".Sh \"\(name)\"" }) else {
                return ""
            }
            let rest = lines[(start + 1)...]
            let end = rest.firstIndex { $0.hasPrefix(".Sh ") } ?? lines.endIndex
            return lines[(start + 1)..<end].joined(separator: "\n")
        }

        /// The entries `.It Cm NAME ...` of a section, each with its text up to the next `.It Cm`; an entry may
        /// name several commands (`.It Cm block , unblock`).
        func commandBlocks(section name: String) -> [String: String] {
            var blocks: [String: String] = [:]
            var current: [String] = []
            var text: [String] = []
            func close() {
                for command in current { blocks[command] = text.joined(separator: "\n") }
            }
            for line in section(name).split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix(".It Cm ") {
                    close()
                    let words = line.dropFirst(".It Cm ".count).split(separator: " ")
                    // Names are the words before the first other macro or argument: `.It Cm up Op Fl ...`.
                    current = []
                    var index = 0
                    while index < words.count {
                        let word = String(words[index])
                        guard word.first?.isLowercase == true else { break }
                        current.append(word)
                        // `, Cm next` continues a list of names.
                        if index + 2 < words.count, words[index + 1] == ",", words[index + 2] == "Cm" {
                            index += 3
                        } else if index + 1 < words.count, words[index + 1] == "," {
                            index += 2
                        } else {
                            break
                        }
                    }
                    text = [String(line)]
                } else {
                    text.append(String(line))
                }
            }
            close()
            return blocks
        }

        /// The flags that head list items (`.It Fl f , Fl -follow`) in some mdoc text: `-f`, `--follow`.
        static func itemFlags(_ text: String) -> Set<String> {
            var flags: Set<String> = []
            for line in text.split(separator: "\n") where line.hasPrefix(".It Fl ") {
                let words = line.split(separator: " ").map(String.init)
                for (index, word) in words.enumerated() where word == "Fl" && index + 1 < words.count {
                    flags.insert("-" + words[index + 1])
                }
            }
            return flags
        }
    }
}
