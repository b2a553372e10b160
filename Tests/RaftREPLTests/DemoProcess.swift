import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Starts `repl-demo` (built next to the test binary) with its stdin either a file or a pseudo-terminal, and bounds
/// every wait so a broken REPL fails the test instead of hanging the suite.
enum DemoProcess {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The `repl-demo` executable: `swift build --build-tests` and `swift test` put it beside the test binary.
    static func executablePath() throws -> String {
        let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var candidates = [testBinary.deletingLastPathComponent().appendingPathComponent("repl-demo").path]
        candidates.append(FileManager.default.currentDirectoryPath + "/.build/debug/repl-demo")
        guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Failure(description: "repl-demo not found (looked at \(candidates)); run `swift build --build-tests`")
        }
        return path
    }

    /// A fresh private directory for one test's files.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("raftrepl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A predictable environment: no user inputrc, a terminal type readline knows, UTF-8.
    static let environment = ["TERM=xterm", "INPUTRC=/dev/null", "LANG=C.UTF-8", "PATH=/usr/bin:/bin"]

    /// posix_spawn with file actions supplied by the caller; `newSession` makes the child a session leader so that
    /// opening a terminal as its stdin gives it a controlling terminal (and Ctrl-C then signals it).
    static func spawn(
        arguments: [String], newSession: Bool, fileActions: (inout posix_spawn_file_actions_t) -> Void
    ) throws -> pid_t {
        let executable = try executablePath()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        fileActions(&actions)

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
        guard status == 0 else { throw Failure(description: "posix_spawn: \(String(cString: strerror(status)))") }
        return pid
    }

    /// The exit status (or minus the terminating signal), or nil if the child did not exit within `timeout`, in
    /// which case it is killed. `whileWaiting` runs between checks (e.g. to keep draining a terminal).
    static func waitForExit(_ pid: pid_t, timeout: Duration, whileWaiting: () -> Void = {}) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        var status: Int32 = 0
        while ContinuousClock.now < deadline {
            if waitpid(pid, &status, WNOHANG) == pid {
                return status & 0x7f == 0 ? (status >> 8) & 0xff : -(status & 0x7f)
            }
            whileWaiting()
            usleep(5_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
        return nil
    }
}

/// `repl-demo` under a pseudo-terminal: what a person at a terminal would type and see.
final class TerminalSession {
    let master: Int32
    let pid: pid_t
    private var exited = false
    /// Everything the child wrote to the terminal so far.
    private(set) var transcript: [UInt8] = []
    /// Where the next `expect` starts searching, so each expectation needs fresh output.
    private var cursor = 0

    init(arguments: [String]) throws {
        // posix_openpt/grantpt/unlockpt/ptsname are hidden behind _XOPEN_SOURCE in Glibc's Swift module, so this is
        // what they do on Linux: open the multiplexer, unlock the new terminal and ask its number. The ioctl numbers
        // are _IOW('T', 0x31, int) and _IOR('T', 0x30, unsigned int), which Swift cannot evaluate.
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
            throw DemoProcess.Failure(description: "cannot open a pseudo-terminal: \(reason)")
        }
        let terminalPath = "/dev/pts/\(number)"
        var size = winsize(ws_row: 24, ws_col: 100, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
        do {
            pid = try DemoProcess.spawn(arguments: arguments, newSession: true) { actions in
                posix_spawn_file_actions_addopen(&actions, 0, terminalPath, O_RDWR, 0)
                posix_spawn_file_actions_adddup2(&actions, 0, 1)
                posix_spawn_file_actions_adddup2(&actions, 0, 2)
            }
        } catch {
            close(master)
            throw error
        }
    }

    deinit {
        if !exited { _ = DemoProcess.waitForExit(pid, timeout: .zero) }
        close(master)
    }

    /// Types `text` (control characters and escape sequences included).
    func send(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
            if written <= 0 { return }
            bytes = bytes.dropFirst(written)
        }
    }

    /// Waits until `needle` appears in output not yet matched by a previous expectation; false after `timeout`.
    func expect(_ needle: String, timeout: Duration = .seconds(4)) -> Bool {
        let pattern = Array(needle.utf8)
        let deadline = ContinuousClock.now + timeout
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

    /// The exit status once the child exits (nil after `timeout`, the child then killed).
    func waitForExit(timeout: Duration = .seconds(4)) -> Int32? {
        let status = DemoProcess.waitForExit(pid, timeout: timeout) { _ = readAvailable(timeoutMilliseconds: 0) }
        exited = true
        return status
    }

    /// The output so far, for failure messages.
    var text: String { String(decoding: transcript, as: UTF8.self) }

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
