#if canImport(Glibc)
    import Glibc
#endif

/// Why a child process could not be started or a terminal opened.
public struct ChildProcessFailure: Error, CustomStringConvertible {
    public var description: String

    public init(description: String) {
        self.description = description
    }
}

/// Starting and reaping the processes that end-to-end tests drive (the REPL demo, raftctl), with every wait bounded
/// so a broken child fails a test instead of hanging the suite.
public enum ChildProcess {
    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which its Swift module does not export.
    static let closeFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(
            symbol,
            to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// posix_spawn with file actions supplied by the caller and default signal dispositions.
    ///
    /// `newSession` makes the child a session leader, so that opening a terminal as its stdin gives it a controlling
    /// terminal (and Ctrl-C then signals it). `closeInheritedDescriptors` closes every descriptor above 2 in the
    /// child, so daemons it leaves behind never hold the test runner's pipes or another test's terminal open.
    public static func spawn(
        executable: String, arguments: [String], environment: [String], newSession: Bool,
        closeInheritedDescriptors: Bool = false, fileActions: (inout posix_spawn_file_actions_t) -> Void
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        fileActions(&actions)
        if closeInheritedDescriptors, let closeFrom { _ = closeFrom(&actions, 3) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGQUIT, SIGPIPE, SIGTERM, SIGWINCH] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        // POSIX_SPAWN_SETSID is 0x80 on glibc; Swift cannot import the macro.
        let setSession: Int32 = newSession ? 0x80 : 0
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | setSession))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard status == 0 else {
            throw ChildProcessFailure(description: "posix_spawn \(executable): \(String(cString: strerror(status)))")
        }
        return pid
    }

    /// The exit status (or minus the terminating signal), or nil if `pid` did not exit within `timeout`, in which
    /// case it is killed and reaped. `whileWaiting` runs between checks (e.g. to keep draining a terminal).
    public static func waitForExit(_ pid: pid_t, timeout: Duration, whileWaiting: () -> Void = {}) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        var status: Int32 = 0
        while ContinuousClock.now < deadline {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { return status & 0x7f == 0 ? (status >> 8) & 0xff : -(status & 0x7f) }
            if reaped < 0 && errno != EINTR { return nil }
            whileWaiting()
            usleep(5_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
        return nil
    }
}

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
