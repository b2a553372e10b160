import CReadline

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The terminal settings to put back if a signal ends the process during a full-screen view. Written before the
/// handlers are installed and read only by them (`tcsetattr` and `write` are async-signal-safe).
nonisolated(unsafe) private var fullScreenSaved = termios()

extension REPL {
    /// A full-screen live view, as `top` draws one: the alternate screen, the cursor hidden, keys read raw. Calls
    /// `render(columns, rows)` every interval and redraws in place until `q`, `Q` or Ctrl-C is pressed (other keys
    /// redraw at once). The terminal is restored on every way out: a key, `render` throwing, or SIGTERM, SIGHUP or
    /// SIGQUIT (which then end the process). Returns false, without drawing, when stdin or stdout is not a
    /// terminal: the caller prints plain output instead.
    public static func fullScreen(intervalMilliseconds: Int, render: (_ columns: Int, _ rows: Int) throws -> String)
        rethrows -> Bool
    {
        var saved = termios()
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1, tcgetattr(STDIN_FILENO, &saved) == 0 else {
            return false
        }
        fullScreenSaved = saved
        var raw = saved
        // Without ISIG, Ctrl-C is a key that ends the view instead of a signal that would end raftctl (or the REPL).
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG)
        withUnsafeMutableBytes(of: &raw.c_cc) { controlCharacters in
            controlCharacters[Int(VMIN)] = 1
            controlCharacters[Int(VTIME)] = 0
        }
        let restoreAndExit: @convention(c) (Int32) -> Void = { signalNumber in
            var settings = fullScreenSaved
            tcsetattr(STDIN_FILENO, TCSANOW, &settings)
            let leave: [UInt8] = Array("\u{1B}[?25h\u{1B}[?1049l".utf8)
            _ = leave.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            _exit(128 + signalNumber)
        }
        let signals = [SIGTERM, SIGHUP, SIGQUIT]
        var previous: [sighandler_t?] = []
        for number in signals { previous.append(signal(number, restoreAndExit)) }
        tcsetattr(STDIN_FILENO, TCSANOW, &raw)
        // The alternate screen keeps the user's scrollback as it was; the cursor is hidden while drawing.
        print("\u{1B}[?1049h\u{1B}[?25l\u{1B}[2J", terminator: "")
        defer {
            tcsetattr(STDIN_FILENO, TCSANOW, &saved)
            print("\u{1B}[?25h\u{1B}[?1049l", terminator: "")
            raft_flush_stdout()
            for (number, handler) in zip(signals, previous) { signal(number, handler) }
        }
        let interval = Int32(clamping: max(intervalMilliseconds, 10))
        while true {
            var size = winsize()
            let measured = ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0
            let columns = measured ? Int(size.ws_col) : 80
            let rows = measured ? Int(size.ws_row) : 24
            let frame = try render(columns, rows)
            var screen = "\u{1B}[H"
            for line in frame.split(separator: "\n", omittingEmptySubsequences: false).prefix(max(1, rows - 1)) {
                screen += line + "\u{1B}[K\n"
            }
            screen += "\u{1B}[J"
            writeWhole(screen)
            if let key = readKey(timeoutMilliseconds: interval),
                key == UInt8(ascii: "q") || key == UInt8(ascii: "Q")
                    || key == 3
            {
                return true
            }
        }
    }

    /// Writes a frame with as few `write` calls as the terminal takes, after anything already buffered: stdout on a
    /// terminal is line-buffered, and a frame written line by line is seen half drawn (a row missing) by whoever
    /// reads the terminal between two lines.
    private static func writeWhole(_ text: String) {
        raft_flush_stdout()
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return }
            bytes = bytes.dropFirst(written)
        }
    }

    /// The first byte of the next key within the timeout (the rest of an escape sequence is discarded).
    private static func readKey(timeoutMilliseconds: Int32) -> UInt8? {
        var descriptor = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
        // An interrupted wait (SIGWINCH on a resize) just redraws early.
        guard poll(&descriptor, 1, timeoutMilliseconds) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = read(STDIN_FILENO, &buffer, buffer.count)
        return count > 0 ? buffer[0] : nil
    }
}
