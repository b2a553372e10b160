import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `raftctl` under a pseudo-terminal: what an operator at a terminal types and sees. Every expectation is bounded,
/// and the child is killed if it has not exited when the session is dropped.
final class RaftctlTerminal {
    let master: Int32
    let pid: pid_t
    private var exited = false
    /// Everything the child wrote to the terminal so far.
    private(set) var transcript: [UInt8] = []
    /// Where the next `expect` starts searching, so each expectation needs fresh output.
    private var cursor = 0

    init(_ arguments: [String], environment: [String]) throws {
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
            throw HarnessFailure(description: "cannot open a pseudo-terminal: \(reason)")
        }
        let terminalPath = "/dev/pts/\(number)"
        var size = winsize(ws_row: 24, ws_col: 120, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
        do {
            // A new session, so that opening the terminal makes it the child's controlling terminal.
            pid = try RaftctlProcess.spawn(arguments, environment: environment, newSession: true) { actions in
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
        if !exited { _ = RaftctlProcess.waitForExit(pid, timeout: .zero) }
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

    /// Waits until `needle` appears in output not matched by an earlier expectation; false after `timeout`.
    func expect(_ needle: String, timeout: Duration = .seconds(10)) -> Bool {
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
    func waitForExit(timeout: Duration = .seconds(10)) -> Int32? {
        let status = RaftctlProcess.waitForExit(pid, timeout: timeout) { _ = readAvailable(timeoutMilliseconds: 0) }
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
