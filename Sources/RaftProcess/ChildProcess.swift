import Glibc

/// Why a child process could not be started.
public struct ChildProcessFailure: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(description: String) {
        self.description = description
    }
}

/// The one way raftctl and the tests start, wait for and reap child processes: `posix_spawn` with explicit
/// redirections, default signal dispositions and an empty signal mask, every wait bounded.
///
/// Why not swift-subprocess (which is available here): its `run` is async and returns only when the child exits,
/// so it cannot start a daemon and return (raftctl's `up`/`start` leave raftd running in its own session); the
/// pseudo-terminal tests need the child to be a session leader whose stdin is a terminal opened after `setsid`,
/// expressed as file actions; and a bounded run here is a spawn plus ``waitForExit(_:timeout:whileWaiting:)``,
/// a few lines over the same primitives. It would also add about 80 s to a clean build.
public enum ChildProcess {
    /// Where one of the child's standard descriptors goes.
    public enum Redirect: Sendable {
        /// Whatever the parent has there.
        case inherit
        case null
        /// A file, read from (stdin) or written to: truncated, or appended to with `append`.
        case file(String, append: Bool = false)
        /// The same open file as the child's stdout (for stderr).
        case stdout
    }

    /// glibc's `POSIX_SPAWN_SETSID` (2.26+): a macro Swift does not import (defined only under `_GNU_SOURCE`).
    static let posixSpawnSetSID: Int32 = 0x80

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which its Swift module does not export.
    static let closeFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(
            symbol,
            to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// Starts `executable` with `arguments` and returns its pid.
    ///
    /// - `environment`: `KEY=value` strings, or nil for the parent's.
    /// - `newSession` makes the child a session leader: a Ctrl-C in the parent's terminal never reaches it, and a
    ///   terminal it opens as stdin becomes its controlling terminal.
    /// - `closeInheritedDescriptors` closes every descriptor above 2 in the child, so a daemon never holds the
    ///   parent's pipes, sockets or another test's terminal open.
    /// - `fileActions` run after the redirections (a pseudo-terminal as stdin, stdout and stderr, for instance).
    public static func spawn(
        executable: String, arguments: [String], environment: [String]? = nil, stdin: Redirect = .null,
        stdout: Redirect = .inherit, stderr: Redirect = .inherit, newSession: Bool = false,
        closeInheritedDescriptors: Bool = false, fileActions: (inout posix_spawn_file_actions_t) -> Void = { _ in }
    ) throws(ChildProcessFailure) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (descriptor, redirect) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
            switch redirect {
            case .inherit: break
            case .null:
                posix_spawn_file_actions_addopen(
                    &actions, descriptor, "/dev/null", descriptor == 0 ? O_RDONLY : O_WRONLY, 0)
            case .file(let path, let append):
                let flags = descriptor == 0 ? O_RDONLY : O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC)
                posix_spawn_file_actions_addopen(&actions, descriptor, path, flags, 0o600)
            case .stdout: posix_spawn_file_actions_adddup2(&actions, 1, descriptor)
            }
        }
        fileActions(&actions)
        if closeInheritedDescriptors, let closeFrom { _ = closeFrom(&actions, 3) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A parent that ignores or blocks signals (a shell's background job, the REPL during a command) must not
        // hand that on: the child gets default dispositions and an empty mask.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGQUIT, SIGPIPE, SIGTERM, SIGHUP, SIGWINCH] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        let session = newSession ? posixSpawnSetSID : 0
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | session))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { $0.map { strdup($0) } + [nil] }
        defer { (argv + (envp ?? [])).forEach { free($0) } }
        var pid: pid_t = 0
        let status =
            if let envp { posix_spawn(&pid, executable, &actions, &attributes, argv, envp) } else {
                posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
            }
        guard status == 0 else {
            throw ChildProcessFailure(description: "cannot start \(executable): \(String(cString: strerror(status)))")
        }
        return pid
    }

    /// A `waitpid` status as one number: the exit code, or minus the signal that ended the process.
    public static func exitStatus(_ status: Int32) -> Int32 {
        status & 0x7f == 0 ? (status >> 8) & 0xff : -(status & 0x7f)
    }

    /// Reaps `pid` if it has exited (without waiting): its ``exitStatus(_:)``, or nil while it runs. Also nil if
    /// `pid` is not a child of this process (or was reaped already); ``isChild(_:)`` tells.
    public static func reap(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { return exitStatus(status) }
            if result < 0 && errno == EINTR { continue }
            return nil
        }
    }

    /// Whether `pid` is still an unreaped child of this process.
    public static func isChild(_ pid: pid_t) -> Bool {
        var info = siginfo_t()
        return waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0
    }

    /// The ``exitStatus(_:)`` of `pid` once it exits, or nil if it did not within `timeout`, in which case it is
    /// killed and reaped. `whileWaiting` runs between checks (to keep draining a terminal, for instance).
    public static func waitForExit(_ pid: pid_t, timeout: Duration, whileWaiting: () -> Void = {}) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status = reap(pid) { return status }
            guard isChild(pid) else { return nil }
            whileWaiting()
            usleep(5_000)
        }
        killAndReap(pid)
        return nil
    }

    /// SIGKILLs `pid` and reaps it.
    public static func killAndReap(_ pid: pid_t) {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    /// What a bounded run printed, and how it ended.
    public struct Outcome: Sendable {
        /// The ``exitStatus(_:)``, or nil if the child did not exit in time (it was then killed).
        public var status: Int32?
        public var stdout: String
        public var stderr: String
    }

    /// Runs `executable` to completion (or until `timeout`, then kills it), with `input` as stdin and stdout and
    /// stderr captured through files in `scratch` (a pipe could fill up and block a child nobody is reading).
    public static func run(
        executable: String, arguments: [String], environment: [String]? = nil, input: String? = nil,
        scratch: String = "/tmp", timeout: Duration = .seconds(60), newSession: Bool = false,
        closeInheritedDescriptors: Bool = true
    ) throws(ChildProcessFailure) -> Outcome {
        let token = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let inputPath = "\(scratch)/.child-\(getpid())-\(token).in"
        let outputPath = "\(scratch)/.child-\(getpid())-\(token).out"
        let errorPath = "\(scratch)/.child-\(getpid())-\(token).err"
        defer { for path in [inputPath, outputPath, errorPath] { unlink(path) } }
        if let input {
            guard write(Array(input.utf8), to: inputPath) else {
                throw ChildProcessFailure(description: "cannot write \(inputPath): \(String(cString: strerror(errno)))")
            }
        }
        let pid = try spawn(
            executable: executable, arguments: arguments, environment: environment,
            stdin: input == nil ? .null : .file(inputPath), stdout: .file(outputPath), stderr: .file(errorPath),
            newSession: newSession, closeInheritedDescriptors: closeInheritedDescriptors)
        let status = waitForExit(pid, timeout: timeout)
        return Outcome(status: status, stdout: read(outputPath), stderr: read(errorPath))
    }

    static func write(_ bytes: [UInt8], to path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return false }
            offset += count
        }
        return true
    }

    static func read(_ path: String) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
