// A tiny host of RaftREPL for its tests (and for trying it by hand): echoes each command's words, completes from a
// fixed command list and the node ids n1 n2 n3, and has a three-frame `watch`.
// Usage: repl-demo [history-file]   (default: $TMPDIR/repl-demo-history)
import RaftREPL

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

let commands = ["status", "kill", "restart", "put", "get", "members", "watch", "help", "exit", "quit"]
let nodeIDs = ["n1", "n2", "n3"]
let commandsTakingANode: Set = ["kill", "restart", "status"]

let arguments = CommandLine.arguments
let historyPath =
    arguments.count > 1
    ? arguments[1] : (ProcessInfoLite.environment("TMPDIR") ?? "/tmp") + "/repl-demo-history"

let hooks = REPLHooks(
    prompt: { "demo> " },
    execute: { words in
        switch words[0] {
        case "fail":
            // A host error: reported by the host, the REPL keeps going.
            let message = "error: command failed on purpose\n"
            _ = message.withCString { write(STDERR_FILENO, $0, strlen($0)) }
        case "spin":
            // A long command that Ctrl-C cancels (bounded to 5 s so a broken test cannot hang).
            print("spinning")
            var waited = 0
            while !REPL.commandInterrupted && waited < 500 {
                usleep(10_000)
                waited += 1
            }
            print(REPL.commandInterrupted ? "interrupted" : "spun")
        case "watch":
            var frame = 0
            REPL.watch(intervalMilliseconds: 50) {
                frame += 1
                return "frame \(frame)"
            }
        default:
            print("executed: " + words.map { "<\($0)>" }.joined(separator: " "))
        }
    },
    complete: { previousWords, _ in
        guard let command = previousWords.first else { return commands }
        return commandsTakingANode.contains(command) && previousWords.count == 1 ? nodeIDs : []
    }
)

REPL.run(hooks: hooks, historyPath: historyPath, interactive: REPL.stdinIsTerminal)

/// `getenv` without Foundation.
enum ProcessInfoLite {
    static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
