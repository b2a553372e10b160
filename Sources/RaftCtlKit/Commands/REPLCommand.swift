import ArgumentParser
import Glibc
import RaftREPL

/// `raftctl repl`: every command without the `raftctl` prefix, with line editing, history, completion of
/// commands, flags and live node ids, and a prompt showing the leader and term.
struct REPLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repl",
        abstract: "Open the interactive shell (plain `raftctl` does too when stdin is a terminal).",
        discussion: """
            Type any raftctl command without the `raftctl` prefix; `help [COMMAND]` explains one; `exit`, `quit` or \
            Ctrl-D leaves. History is kept in $XDG_STATE_HOME/raftctl/history. With stdin not a terminal, commands are \
            read line by line, so a session can be scripted.
            """)
    @OptionGroup var cluster: ClusterOptions

    func run() throws {
        try Self.runREPL(clusterDir: cluster.clusterDir)
    }

    static func runREPL(clusterDir: String?) throws {
        let directory = ClusterDirectory.resolve(clusterDir)
        let session = REPLSession(directory: directory, clusterDirOption: clusterDir)
        let interactive = REPL.stdinIsTerminal
        if interactive {
            say("raftctl shell for \(directory.path). Type `help` for commands, Ctrl-D to leave.")
            StatusRendering.watchHook = { render in
                REPL.watch(intervalMilliseconds: 500, render: render)
            }
        }
        defer { StatusRendering.watchHook = nil }
        let hooks = REPLHooks(
            prompt: { session.prompt() },
            execute: { words in session.execute(words) },
            complete: { previous, partial in session.complete(previous, partial) })
        REPL.run(hooks: hooks, historyPath: ClusterDirectory.stateHome() + "/raftctl/history", interactive: interactive)
    }
}

/// The state behind one REPL: how to run a line, what to complete, what the prompt says.
final class REPLSession {
    let directory: ClusterDirectory
    let clusterDirOption: String?

    init(directory: ClusterDirectory, clusterDirOption: String?) {
        self.directory = directory
        self.clusterDirOption = clusterDirOption
    }

    /// `raft n1* t5> ` (leader and term), `raft (no leader) t5> `, or `raft (down)> `.
    func prompt() -> String {
        guard let spec = try? directory.loadSpec() else { return "raft (no cluster)> " }
        let view = ClusterController(directory: directory).gather(spec)
        if !view.nodes.contains(where: { $0.process == .running }) { return "raft (down)> " }
        guard let leader = view.leader else { return "raft (no leader) t\(view.term ?? 0)> " }
        return "raft \(leader)* t\(view.term ?? 0)> "
    }

    func execute(_ words: [String]) {
        var arguments = words
        if arguments.first == "raftctl" { arguments.removeFirst() }
        guard let name = arguments.first else { return }
        if name == "help" {
            let topic = Array(arguments.dropFirst())
            if let command = topic.first, let type = Self.commandType(command) {
                say(type.helpMessage(columns: 100))
            } else {
                say(Self.overview())
            }
            return
        }
        if name == "repl" {
            warn("already in the REPL")
            return
        }
        // Never for `scenario`: it runs on a scratch cluster unless the user names one (it would break this one).
        if let option = clusterDirOption, name != "scenario", Self.commandType(name) != nil,
            !arguments.contains("--cluster-dir")
        {
            arguments.append(contentsOf: ["--cluster-dir", option])
        }
        RaftctlMain.execute(arguments, inREPL: true)
    }

    static func commandType(_ name: String) -> ParsableCommand.Type? {
        Raftctl.configuration.subcommands.first { $0._commandName == name && $0.configuration.shouldDisplay }
    }

    static func overview() -> String {
        var lines = ["Commands (help COMMAND for details):"]
        for command in Raftctl.configuration.subcommands where command.configuration.shouldDisplay {
            lines.append("  " + pad(command._commandName, 16) + command.configuration.abstract)
        }
        lines.append("  " + pad("help", 16) + "Show this list, or one command's options.")
        lines.append("  " + pad("exit", 16) + "Leave the shell (also quit, Ctrl-D).")
        return lines.joined(separator: "\n")
    }

    /// Candidates for the word being typed: command names first, then flags of that command, then node ids for
    /// arguments of commands that take them.
    func complete(_ previous: [String], _ partial: String) -> [String] {
        var words = previous
        if words.first == "raftctl" { words.removeFirst() }
        let commands =
            Raftctl.configuration.subcommands.filter { $0.configuration.shouldDisplay }.map { $0._commandName }
            + ["help", "exit", "quit"]
        guard let command = words.first else {
            return commands.filter { $0.hasPrefix(partial) }.sorted()
        }
        if command == "help" {
            return words.count == 1 ? commands.filter { $0.hasPrefix(partial) }.sorted() : []
        }
        if command == "scenario" {
            // `scenario list`, `scenario run NAME [--pace slow|normal|fast] …`: names, subcommands and flags.
            if words.count == 1 { return ["list", "run", "show"].filter { $0.hasPrefix(partial) } }
            if words.last == "--pace" {
                return ScenarioRunner.Pace.allCases.map(\.rawValue).filter { $0.hasPrefix(partial) }
            }
            if partial.hasPrefix("-") {
                return Self.flags(of: ScenarioRun.self).filter { $0.hasPrefix(partial) }
            }
            return words.count == 2 && (words[1] == "run" || words[1] == "show")
                ? BuiltinScenarios.names.filter { $0.hasPrefix(partial) } : []
        }
        if partial.hasPrefix("-") {
            guard let type = Self.commandType(command) else { return [] }
            return Self.flags(of: type).filter { $0.hasPrefix(partial) }
        }
        if words.last == "--signal" {
            return ["KILL", "TERM", "INT", "HUP", "STOP", "CONT"].filter { $0.hasPrefix(partial.uppercased()) }
        }
        let takesNodes: Set<String> = [
            "start", "stop", "restart", "kill", "pause", "resume", "campaign", "transfer-leader", "isolate", "block",
            "snapshot", "logs", "entries", "events", "partition", "slow-disk", "failpoint", "remove-node", "promote",
            "replace-node",
        ]
        guard takesNodes.contains(command), let spec = try? directory.loadSpec() else { return [] }
        // For partition groups like "n1,n2", complete the id after the last comma.
        let head = partial.contains(",") ? String(partial[...partial.lastIndex(of: ",")!]) : ""
        let tail = String(partial.dropFirst(head.count))
        return spec.ids.filter { $0.hasPrefix(tail) }.map { head + $0 }
    }

    /// The long options in a command's help text.
    static func flags(of type: ParsableCommand.Type) -> [String] {
        let help = type.helpMessage(columns: 200)
        var found: [String] = []
        for word in help.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," || $0 == "(" || $0 == ")" }) {
            let text = word.split(separator: "=").first.map(String.init) ?? ""
            if text.hasPrefix("--") && text.count > 2 && !found.contains(text) && text != "--cluster-dir" {
                found.append(text.trimmingCharacters(["<", ">", "."]))
            }
        }
        return found.sorted()
    }
}

extension String {
    fileprivate func trimmingCharacters(_ characters: Set<Character>) -> String {
        var slice = Substring(self)
        while let last = slice.last, characters.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}

/// Parses and runs one raftctl command line, turning errors into messages and exit statuses.
public enum RaftctlMain {
    /// Runs `arguments` (without the program name) and returns the exit status. In the REPL nothing exits.
    @discardableResult
    public static func execute(_ arguments: [String], inREPL: Bool) -> Int32 {
        do {
            var command = try Raftctl.parseAsRoot(arguments)
            try command.run()
            return RaftctlExit.success
        } catch let error as RaftctlError {
            warn("raftctl: \(error.message)")
            return error.exitCode
        } catch let error as ExitCode {
            return error.rawValue
        } catch {
            let code = Raftctl.exitCode(for: error)
            if code == .success {
                say(Raftctl.fullMessage(for: error))
                return RaftctlExit.success
            }
            warn("raftctl: \(Raftctl.message(for: error)) (see `raftctl help` or `--help`)")
            return RaftctlExit.usage
        }
    }

    /// The executable's entry point.
    public static func main() -> Never {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.isEmpty {
            if REPL.stdinIsTerminal {
                do {
                    try REPLCommand.runREPL(clusterDir: nil)
                    exit(RaftctlExit.success)
                } catch {
                    warn("raftctl: \(error)")
                    exit(RaftctlExit.failed)
                }
            }
            say(Raftctl.helpMessage())
            exit(RaftctlExit.success)
        }
        exit(execute(arguments, inREPL: false))
    }
}
