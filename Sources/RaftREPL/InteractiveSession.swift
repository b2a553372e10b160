import CReadline
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The write end of the self-pipe through which the signal handler reports the signals the session forwards (-1 when
/// no interactive session runs). An atomic because a signal handler reads it; it is set before the handler is installed
/// (so the lazy global initialisation never happens inside the handler).
private let signalPipeWriteEnd = Atomic<Int32>(-1)

/// readline's callbacks carry no context pointer, so they reach the running session through this global. Only the
/// thread inside `InteractiveSession.run` touches it, and readline calls back synchronously on that thread (readline
/// is not thread-safe, so a single interactive session at a time is a precondition anyway, checked in `run`).
nonisolated(unsafe) private var currentSession: InteractiveSession?

/// One interactive run of the REPL over GNU readline's callback ("alternate") interface.
///
/// The callback interface, rather than `readline()`, lets the REPL wait on stdin and a signal self-pipe together:
/// Ctrl-C then becomes an ordinary event that discards the line, instead of a signal readline re-raises with the
/// host's disposition (which by default kills the process). Between lines, while the host executes a command, the
/// readline handler is removed so the terminal is in its normal mode.
final class InteractiveSession {
    enum Received {
        case line(String)
        case endOfInput
    }

    let hooks: REPLHooks
    let historyPath: String
    /// Set by the line handler inside `rl_callback_read_char`, consumed right after it returns.
    var received: Received?
    /// The filtered candidates of the completion in progress, handed one by one to `rl_completion_matches`.
    var matches: [String] = []
    var nextMatch = 0
    private var warnedAboutHistory = false
    private var signalReadEnd: Int32 = -1

    init(hooks: REPLHooks, historyPath: String) {
        self.hooks = hooks
        self.historyPath = historyPath
    }

    func run() {
        precondition(currentSession == nil, "only one interactive REPL can run at a time")
        currentSession = self
        defer { currentSession = nil }

        prepareHistory()
        raft_rl_configure(attemptCompletion)

        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else {
            REPL.printError("error: cannot create the signal pipe: \(String(cString: strerror(errno)))")
            return
        }
        for end in ends {
            // Non-blocking so neither draining nor a burst of signals can block; not inherited by the host's children.
            _ = fcntl(end, F_SETFL, O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        signalReadEnd = ends[0]
        signalPipeWriteEnd.store(ends[1], ordering: .sequentiallyConsistent)
        // Initialises the global now, so the signal handler never runs its lazy initialisation.
        commandInterrupted.store(false, ordering: .sequentiallyConsistent)
        // Ctrl-C must never kill the REPL, and a resize may come at any time: both are forwarded for the whole run.
        let sessionSignals = forwardSignals([SIGINT, SIGWINCH])
        defer {
            restoreSignals(sessionSignals)
            signalPipeWriteEnd.store(-1, ordering: .sequentiallyConsistent)
            close(ends[0])
            close(ends[1])
        }

        while true {
            // Signals that arrived while the previous command ran: Ctrl-C must not discard the next, not yet typed,
            // line, and a stop or termination request that slipped in as the host's dispositions came back still
            // gets its due.
            for signal in readSignals() {
                if signal == SIGWINCH { rl_reset_screen_size() }
                if Self.promptSignals.contains(signal) { raise(signal) }
            }
            received = nil
            using_history()
            raft_flush_stdout()
            let promptSignals = forwardSignals(Self.promptSignals)
            rl_callback_handler_install(hooks.prompt(), lineHandler)
            let outcome = readOneLine()
            restoreSignals(promptSignals)
            switch outcome {
            case .endOfInput:
                // Leaves the host's shell prompt on a line of its own.
                print()
                raft_flush_stdout()
                return
            case .line(let line):
                remember(line)
                switch REPL.action(for: line) {
                case .skip:
                    continue
                case .exit:
                    return
                case .execute(let words):
                    commandInterrupted.store(false, ordering: .sequentiallyConsistent)
                    hooks.execute(words)
                    raft_flush_stdout()
                }
            }
        }
    }

    /// Signals forwarded only while readline owns the terminal: readline would normally restore the terminal before
    /// the process stops or dies, which with `rl_catch_signals` off is this class's job. While a command runs they
    /// keep the host's dispositions, so Ctrl-Z or a SIGTERM act at once.
    private static let promptSignals: [Int32] = [SIGTSTP, SIGTERM, SIGHUP, SIGQUIT]

    /// Feeds readline one key at a time until it hands over a line or end of input; handles signals in between.
    private func readOneLine() -> Received {
        while true {
            var fds = [
                pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0),
                pollfd(fd: signalReadEnd, events: Int16(POLLIN), revents: 0),
            ]
            if poll(&fds, 2, -1) < 0 {
                if errno == EINTR { continue }
                rl_callback_handler_remove()
                return .endOfInput
            }
            // The pipe is read whatever poll reported: a Ctrl-C typed just before more keys ("^Cstatus⏎" in one
            // burst) may have its handler run only after poll saw the keys, and readline reads queued keys greedily,
            // so checking revents alone would let the line complete before it is discarded.
            let signals = readSignals()
            if !signals.isEmpty { handleSignalsAtPrompt(signals) }
            let input = fds[0].revents
            if input & Int16(POLLIN) != 0 {
                rl_callback_read_char()
                if let line = received {
                    received = nil
                    return line
                }
            } else if input & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 {
                // The terminal went away (e.g. the window closed) without a readable end-of-file.
                rl_callback_handler_remove()
                return .endOfInput
            }
        }
    }

    /// The signals reported through the pipe since the last call, in arrival order, repeats folded.
    private func readSignals() -> [Int32] {
        var signals: [Int32] = []
        var buffer = [UInt8](repeating: 0, count: 32)
        while true {
            let count = read(signalReadEnd, &buffer, buffer.count)
            if count <= 0 { break }
            for byte in buffer[0..<count] where !signals.contains(Int32(byte)) {
                signals.append(Int32(byte))
            }
        }
        return signals
    }

    private func handleSignalsAtPrompt(_ signals: [Int32]) {
        for signal in signals {
            switch signal {
            case SIGINT:
                raft_rl_discard_line()
                using_history()
            case SIGWINCH:
                rl_resize_terminal()
            default:
                // Stop or terminate the way readline's own handler would: terminal restored first, then the
                // signal re-raised with the host's disposition. If the process survives (resumed after Ctrl-Z, or
                // the host ignores the signal), the terminal is prepared again and the line redrawn.
                rl_echo_signal_char(signal)
                rl_cleanup_after_signal()
                var forwarding = sigaction()
                var hostAction = savedActions[signal] ?? sigaction()
                sigaction(signal, &hostAction, &forwarding)
                raise(signal)
                sigaction(signal, &forwarding, nil)
                rl_reset_after_signal()
                rl_forced_update_display()
            }
        }
    }

    /// The host's dispositions of the signals currently forwarded, to re-raise with and to restore.
    private var savedActions: [Int32: sigaction] = [:]

    private func forwardSignals(_ signals: [Int32]) -> [Int32] {
        for signal in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = forwardSignal
            sigemptyset(&action.sa_mask)
            // No SA_RESTART: an interrupted poll simply loops and then sees the pipe.
            action.sa_flags = 0
            var previous = sigaction()
            sigaction(signal, &action, &previous)
            savedActions[signal] = previous
        }
        return signals
    }

    private func restoreSignals(_ signals: [Int32]) {
        for signal in signals {
            guard var previous = savedActions.removeValue(forKey: signal) else { continue }
            sigaction(signal, &previous, nil)
        }
    }

    // MARK: History

    private func prepareHistory() {
        clear_history()
        stifle_history(Int32(REPL.historyLimit))
        using_history()
        guard !historyPath.isEmpty else { return }
        makeParentDirectories(of: historyPath)
        // Created before readline touches it so it is private from the start; O_CREAT leaves an existing file alone.
        let fd = open(historyPath, O_WRONLY | O_CREAT | O_CLOEXEC, mode_t(0o600))
        if fd >= 0 {
            close(fd)
        } else {
            warnAboutHistory("cannot create")
        }
        _ = read_history(historyPath)
        using_history()
    }

    /// Adds a non-blank line to the history, moving an identical earlier entry to the end rather than keeping both,
    /// and persists the history at once so a killed session loses nothing.
    private func remember(_ typed: String) {
        guard typed.contains(where: { !$0.isWhitespace }) else { return }
        // Completion leaves a trailing blank ("status "); drop it unless it is an escaped, meaningful one.
        var line = typed
        while line.last?.isWhitespace == true { line.removeLast() }
        if (try? REPL.tokenize(line)) != (try? REPL.tokenize(typed)) { line = typed }
        var index = raft_history_length() - 1
        while index >= 0 {
            if let entry = history_get(raft_history_base() + index), let text = entry.pointee.line,
                String(cString: text) == line, let removed = remove_history(index)
            {
                _ = free_history_entry(removed)
            }
            index -= 1
        }
        add_history(line)
        guard !historyPath.isEmpty else { return }
        if write_history(historyPath) != 0 {
            warnAboutHistory("cannot write")
        } else {
            chmod(historyPath, mode_t(0o600))
        }
    }

    private func warnAboutHistory(_ what: String) {
        let reason = String(cString: strerror(errno))
        guard !warnedAboutHistory else { return }
        warnedAboutHistory = true
        REPL.printError("warning: \(what) the history file \(historyPath): \(reason)")
    }

    private func makeParentDirectories(of path: String) {
        let components = path.split(separator: "/", omittingEmptySubsequences: false).dropLast()
        var prefix = ""
        for (position, component) in components.enumerated() {
            prefix += position == 0 ? String(component) : "/" + component
            if prefix.isEmpty || component.isEmpty || component == "." { continue }
            // Errors surface when the file itself cannot be created.
            _ = mkdir(prefix, mode_t(0o700))
        }
    }
}

/// Set by Ctrl-C while a host command runs; see `REPL.commandInterrupted`.
private let commandInterrupted = Atomic<Bool>(false)

extension REPL {
    /// Whether Ctrl-C was pressed since the running command started (interactive mode). The REPL keeps SIGINT from
    /// killing the process, so a long-running host command that wants to be cancellable polls this.
    public static var commandInterrupted: Bool { RaftREPL.commandInterrupted.load(ordering: .sequentiallyConsistent) }
}

/// The signal handler: only async-signal-safe work (atomics and a `write`), errno preserved.
private func forwardSignal(_ signal: Int32) {
    if signal == SIGINT { commandInterrupted.store(true, ordering: .sequentiallyConsistent) }
    let fd = signalPipeWriteEnd.load(ordering: .relaxed)
    guard fd >= 0 else { return }
    let savedErrno = errno
    var byte = UInt8(truncatingIfNeeded: signal)
    _ = write(fd, &byte, 1)
    errno = savedErrno
}

/// readline's line handler: takes the terminal back to normal mode and hands the line to the session's loop.
private func lineHandler(_ line: UnsafeMutablePointer<CChar>?) {
    rl_callback_handler_remove()
    guard let line else {
        currentSession?.received = .endOfInput
        return
    }
    currentSession?.received = .line(String(cString: line))
    free(line)
}

/// readline's attempted-completion function: completes the word under the cursor through the host's hook.
private func attemptCompletion(
    _ text: UnsafePointer<CChar>?, _ start: Int32, _ end: Int32
) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
    // Whatever happens below, never fall back to completing file names.
    raft_rl_set_attempted_completion_over(1)
    guard let session = currentSession, let text else { return nil }
    let partial = String(cString: text)
    var previousWords: [String] = []
    if start > 0, let buffer = raft_rl_line_buffer() {
        let bytes = UnsafeRawBufferPointer(start: buffer, count: Int(start))
        previousWords = REPL.completedWords(String(decoding: bytes, as: UTF8.self))
    }
    var seen = Set<String>()
    session.matches = session.hooks.complete(previousWords, partial).filter {
        $0.hasPrefix(partial) && seen.insert($0).inserted
    }
    session.nextMatch = 0
    guard !session.matches.isEmpty else { return nil }
    return rl_completion_matches(text, nextCompletion)
}

/// The generator `rl_completion_matches` calls until it returns nil; readline frees the returned copies.
private func nextCompletion(_ text: UnsafePointer<CChar>?, _ state: Int32) -> UnsafeMutablePointer<CChar>? {
    guard let session = currentSession, session.nextMatch < session.matches.count else { return nil }
    defer { session.nextMatch += 1 }
    return strdup(session.matches[session.nextMatch])
}
