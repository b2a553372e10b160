import CReadline

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension REPL {
    /// A "watch" view: calls `render()` every interval and redraws it in place (cursor home, each line cleared to its
    /// end, the rest of the screen cleared) until any key is pressed, Ctrl-C included. stdin is in raw mode meanwhile
    /// and restored afterwards, also when `render` throws. Without a terminal (stdin or stdout redirected) it renders
    /// once, so scripts get a single snapshot.
    public static func watch(intervalMilliseconds: Int, render: () throws -> String) rethrows {
        var saved = termios()
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1, tcgetattr(STDIN_FILENO, &saved) == 0 else {
            print(try render())
            raft_flush_stdout()
            return
        }
        var raw = saved
        // Without ISIG, Ctrl-C is just another key that ends the view instead of a signal the host must handle.
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG)
        withUnsafeMutableBytes(of: &raw.c_cc) { controlCharacters in
            controlCharacters[Int(VMIN)] = 1
            controlCharacters[Int(VTIME)] = 0
        }
        tcsetattr(STDIN_FILENO, TCSANOW, &raw)
        // Hide the cursor and start from a blank screen; later frames overwrite in place to avoid flicker.
        print("\u{1B}[?25l\u{1B}[2J", terminator: "")
        defer {
            tcsetattr(STDIN_FILENO, TCSANOW, &saved)
            print("\u{1B}[?25h")
            raft_flush_stdout()
        }
        let interval = Int32(clamping: max(intervalMilliseconds, 10))
        while true {
            let frame = try render()
            var screen = "\u{1B}[H"
            for line in frame.split(separator: "\n", omittingEmptySubsequences: false) {
                screen += line + "\u{1B}[K\n"
            }
            screen += "(press any key to stop)\u{1B}[K\u{1B}[J"
            print(screen, terminator: "")
            raft_flush_stdout()
            if waitForKey(timeoutMilliseconds: interval) {
                discardPendingInput()
                return
            }
        }
    }

    private static func waitForKey(timeoutMilliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
        // An interrupted wait (e.g. SIGWINCH) just redraws early.
        return poll(&descriptor, 1, timeoutMilliseconds) > 0
    }

    /// Swallows the key that ended the view, including every byte of an escape sequence such as an arrow key.
    private static func discardPendingInput() {
        var buffer = [UInt8](repeating: 0, count: 64)
        repeat {
            if read(STDIN_FILENO, &buffer, buffer.count) <= 0 { return }
        } while waitForKey(timeoutMilliseconds: 0)
    }
}
