import CReadline

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Callbacks the REPL needs from its host; all run on the calling thread.
///
/// The REPL owns the terminal only while it waits for a line: when `execute` runs, the terminal is back in its
/// normal (cooked) mode, so the host may print freely, read stdin or start `REPL.watch`.
public struct REPLHooks {
    /// The prompt, asked again before every line so it can show live state (e.g. `"raft n1* t5> "`). Non-printing
    /// escape sequences (colours) must be wrapped in `"\u{1}"` … `"\u{2}"` so readline can measure the prompt.
    public var prompt: () -> String
    /// Runs one command line, already tokenized and never empty. Errors are the host's to print; the REPL goes on.
    public var execute: ([String]) -> Void
    /// Candidates for the word under the cursor, given the complete words before it. The REPL keeps only the
    /// candidates starting with `partial`, so the host may return its whole vocabulary for that position.
    public var complete: (_ previousWords: [String], _ partial: String) -> [String]

    public init(
        prompt: @escaping () -> String,
        execute: @escaping ([String]) -> Void,
        complete: @escaping (_ previousWords: [String], _ partial: String) -> [String]
    ) {
        self.prompt = prompt
        self.execute = execute
        self.complete = complete
    }
}

/// The interactive shell of `raftctl`: line editing, history and completion over GNU readline in a terminal, or
/// plain line-by-line reading for scripted input.
public enum REPL {
    /// How many lines the history keeps, in memory and in its file.
    public static let historyLimit = 1000

    /// Whether stdin is a terminal, i.e. whether `run` should be interactive.
    public static var stdinIsTerminal: Bool { isatty(STDIN_FILENO) == 1 }

    /// Runs until `exit`, `quit` or end of input (Ctrl-D).
    ///
    /// With `interactive` (stdin is a terminal: use `REPL.stdinIsTerminal`) it uses GNU readline: line editing,
    /// persistent history at `historyPath` (created with its parent directories, mode 0600; blank lines are not added
    /// and a repeated line moves to the end instead of being stored twice; bounded to `historyLimit` lines; an empty
    /// path keeps the history in memory only), tab completion of the word under the cursor through `hooks.complete`
    /// (never file names), and Ctrl-C at the prompt discards the line and shows a fresh prompt. Ctrl-C while a
    /// command runs does not stop the REPL either: a long command polls `REPL.commandInterrupted` to be cancellable.
    /// Ctrl-Z, SIGTERM, SIGHUP and SIGQUIT at the prompt restore the terminal before taking effect.
    ///
    /// Blocks the calling thread for the whole session, and the hooks are synchronous: call it from a synchronous
    /// `main` or a dedicated thread, not from a Swift concurrency task (whose few pool threads it would hold).
    ///
    /// Without a terminal it reads stdin line by line with no prompt and no echo (scripted sessions), still honouring
    /// `exit` and `quit`. In both modes a line that fails to tokenize is reported on stderr and the REPL continues.
    public static func run(hooks: REPLHooks, historyPath: String, interactive: Bool) {
        if interactive {
            InteractiveSession(hooks: hooks, historyPath: historyPath).run()
        } else {
            runScripted(hooks: hooks)
        }
    }

    /// What to do with one input line: nothing, stop, or run the words.
    enum LineAction: Equatable {
        case skip
        case exit
        case execute([String])
    }

    static func action(for line: String) -> LineAction {
        let words: [String]
        do {
            words = try tokenize(line)
        } catch {
            printError("error: \(error)")
            return .skip
        }
        guard let first = words.first else { return .skip }
        if first == "exit" || first == "quit" { return .exit }
        return .execute(words)
    }

    static func printError(_ message: String) {
        raft_flush_stdout()
        fputs(message + "\n", raft_stderr())
        raft_flush_stderr()
    }

    private static func runScripted(hooks: REPLHooks) {
        while let line = readLine(strippingNewline: true) {
            switch action(for: line) {
            case .skip:
                continue
            case .exit:
                return
            case .execute(let words):
                hooks.execute(words)
                // Keeps the host's output in step with error messages on stderr when both go to one file.
                raft_flush_stdout()
            }
        }
    }
}
