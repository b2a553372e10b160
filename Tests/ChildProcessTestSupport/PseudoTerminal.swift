@_exported import RaftProcess

#if canImport(Glibc)
    import Glibc
#endif

/// A child process under a pseudo-terminal: what a person at a terminal would type and see. Every expectation is
/// bounded, and the child is killed if it has not exited when the session is dropped.
public final class PseudoTerminal {
    public let master: Int32
    public let pid: pid_t
    /// How long ``expect(_:timeout:)`` waits when no timeout is given.
    public let defaultTimeout: Duration
    private var exited = false
    /// Everything the child wrote to the terminal so far.
    public private(set) var transcript: [UInt8] = []
    /// Where the next `expect` starts searching, so each expectation needs fresh output.
    private var cursor = 0

    /// Opens a terminal of `columns` × 24 and starts the child through `spawn`, which gets the terminal's path and
    /// must make it the child's stdin, stdout and stderr (``attach(_:to:)``) in a new session.
    public init(columns: UInt16, defaultTimeout: Duration, spawn: (_ terminalPath: String) throws -> pid_t) throws {
        // posix_openpt/grantpt/unlockpt/ptsname are hidden behind _XOPEN_SOURCE in Glibc's Swift module; these are
        // the Linux ioctls they use: _IOW('T', 0x31, int) unlocks, _IOR('T', 0x30, unsigned int) asks the number.
        let unlockTerminal: UInt = 0x4004_5431
        let terminalNumberRequest: UInt = 0x8004_5430
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        var unlock: Int32 = 0
        var number: UInt32 = 0
        guard master >= 0, ioctl(master, unlockTerminal, &unlock) == 0,
            ioctl(master, terminalNumberRequest, &number) == 0
        else {
            let reason = String(cString: strerror(errno))
            if master >= 0 { close(master) }
            throw ChildProcessFailure(description: "cannot open a pseudo-terminal: \(reason)")
        }
        var size = winsize(ws_row: 24, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
        self.defaultTimeout = defaultTimeout
        do {
            pid = try spawn("/dev/pts/\(number)")
        } catch {
            close(master)
            throw error
        }
    }

    /// File actions that make the terminal at `path` the child's stdin, stdout and stderr.
    public static func attach(_ actions: inout posix_spawn_file_actions_t, to path: String) {
        posix_spawn_file_actions_addopen(&actions, 0, path, O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)
    }

    deinit {
        if !exited { _ = ChildProcess.waitForExit(pid, timeout: .zero) }
        close(master)
    }

    /// Types `text` (control characters and escape sequences included).
    public func send(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
            if written <= 0 { return }
            bytes = bytes.dropFirst(written)
        }
    }

    /// Waits until `needle` appears in output not matched by an earlier expectation; false after the timeout.
    public func expect(_ needle: String, timeout: Duration? = nil) -> Bool {
        let pattern = Array(needle.utf8)
        let deadline = ContinuousClock.now + (timeout ?? defaultTimeout)
        while true {
            if let found = transcript[cursor...].firstRange(of: pattern) {
                cursor = found.upperBound
                return true
            }
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero { return false }
            let milliseconds = Int32(
                remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000)
            if !readAvailable(timeoutMilliseconds: max(1, milliseconds)) { return false }
        }
    }

    /// The exit status once the child exits (nil after the timeout, the child then killed).
    public func waitForExit(timeout: Duration? = nil) -> Int32? {
        let status = ChildProcess.waitForExit(pid, timeout: timeout ?? defaultTimeout) {
            _ = readAvailable(timeoutMilliseconds: 0)
        }
        exited = true
        return status
    }

    /// The output so far, for failure messages.
    public var text: String { String(decoding: transcript, as: UTF8.self) }

    /// The terminal's local modes (`ECHO`, `ICANON`, `ISIG`…) as the child last set them (on Linux the master
    /// side reports the line discipline's settings).
    public var localModes: tcflag_t? {
        var settings = termios()
        return tcgetattr(master, &settings) == 0 ? settings.c_lflag : nil
    }

    /// Appends whatever the child wrote within the timeout; false if nothing can come any more (child gone).
    private func readAvailable(timeoutMilliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, timeoutMilliseconds)
        if ready < 0 { return errno == EINTR }
        if ready == 0 { return true }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = read(master, &buffer, buffer.count)
        // EIO: the child closed its side of the terminal.
        if count <= 0 { return false }
        transcript += buffer[0..<count]
        return true
    }
}
