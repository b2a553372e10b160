import Glibc
import RaftProcess

/// What a node's process is doing, as `status` reports it.
public enum ProcessState: String, Sendable, Codable {
    case running
    case paused
    case stopped
    case killed
    case crashed
    /// Exited after finding it lost entries it had acknowledged; it will not start until replaced.
    case halted
}

/// Starting, finding and signalling processes without Foundation: detached spawning through RaftProcess (own
/// session, so a Ctrl-C in the operator's terminal never reaches the nodes) and liveness from `/proc`.
public enum ProcessControl {
    /// Spawns `arguments[0]` with `arguments` in a new session, stdin from /dev/null and stdout/stderr appended
    /// to `outputPath`, inheriting no descriptor above 2. Returns the pid; the daemon runs on after raftctl exits.
    public static func spawnDetached(_ arguments: [String], outputPath: String) throws(RaftctlError) -> pid_t {
        do {
            return try ChildProcess.spawn(
                executable: arguments[0], arguments: Array(arguments.dropFirst()), stdin: .null,
                stdout: .file(outputPath, append: true), stderr: .stdout, newSession: true,
                closeInheritedDescriptors: true)
        } catch {
            throw .failed(error.description)
        }
    }

    /// The process's state letter from `/proc/PID/stat` (R, S, T, Z, …), or nil if there is no such process.
    public static func stateLetter(_ pid: pid_t) -> Character? {
        guard pid > 0, let stat = FileIO.readText("/proc/\(pid)/stat"),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let rest = stat[stat.index(after: close)...].drop { $0 == " " }
        return rest.first
    }

    /// Alive and not a zombie.
    public static func isAlive(_ pid: pid_t) -> Bool {
        guard let state = stateLetter(pid) else { return false }
        return state != "Z" && state != "X"
    }

    public static func isStopped(_ pid: pid_t) -> Bool {
        stateLetter(pid) == "T"
    }

    /// The process's command line, NUL-separated arguments joined with spaces.
    public static func commandLine(_ pid: pid_t) -> String? {
        guard let bytes = FileIO.read("/proc/\(pid)/cmdline") else { return nil }
        return String(decoding: bytes.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
    }

    /// The path of the running executable (to find `raftd` beside `raftctl`).
    public static func currentExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Sends `signal`, returning false if the process is gone.
    @discardableResult
    public static func send(_ signal: Int32, to pid: pid_t) -> Bool {
        kill(pid, signal) == 0
    }

    /// Waits up to `milliseconds` for `pid` to exit (reaping it if it is our child).
    public static func waitForExit(_ pid: pid_t, milliseconds: Int) -> Bool {
        var waited = 0
        while waited <= milliseconds {
            var status: Int32 = 0
            _ = waitpid(pid, &status, WNOHANG)
            if !isAlive(pid) { return true }
            usleep(10_000)
            waited += 10
        }
        return false
    }

    public static func monotonicMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec / 1_000_000)
    }

    public static func signalNumber(_ name: String) -> Int32? {
        let table: [String: Int32] = [
            "KILL": SIGKILL, "TERM": SIGTERM, "INT": SIGINT, "HUP": SIGHUP, "QUIT": SIGQUIT, "STOP": SIGSTOP,
            "CONT": SIGCONT, "USR1": SIGUSR1, "USR2": SIGUSR2, "ABRT": SIGABRT,
        ]
        let upper = name.uppercased()
        let bare = upper.hasPrefix("SIG") ? String(upper.dropFirst(3)) : upper
        if let number = table[bare] { return number }
        if let number = Int32(name), number > 0, number < 65 { return number }
        return nil
    }
}

/// A node's process as the cluster directory tells it: the pid in the data directory's lock file (written by
/// raftd itself) or the pid its spawner recorded, checked against `/proc` so a reused pid is never mistaken for
/// a node.
public struct NodeProcess: Sendable {
    public var pid: pid_t?
    public var state: ProcessState

    public static func inspect(_ directory: ClusterDirectory, _ id: String) -> NodeProcess {
        let intent = readIntent(directory, id)
        for path in [directory.lockPath(id), directory.spawnedPIDPath(id)] {
            guard let text = FileIO.readText(path),
                let pid = pid_t(text.split(separator: "\n").first ?? "")
            else { continue }
            guard ProcessControl.isAlive(pid), let command = ProcessControl.commandLine(pid),
                command.contains("raftd"), command.contains(directory.nodeDirectory(id))
            else { continue }
            return NodeProcess(pid: pid, state: ProcessControl.isStopped(pid) ? .paused : .running)
        }
        if access(directory.haltedMarkerPath(id), F_OK) == 0 { return NodeProcess(pid: nil, state: .halted) }
        switch intent {
        case .running: return NodeProcess(pid: nil, state: .crashed)
        case .stopped: return NodeProcess(pid: nil, state: .stopped)
        case .killed: return NodeProcess(pid: nil, state: .killed)
        }
    }

    public static func readIntent(_ directory: ClusterDirectory, _ id: String) -> NodeIntent {
        let text = FileIO.readText(directory.intentPath(id)) ?? ""
        return NodeIntent(rawValue: String(text.split(separator: " ").first ?? "")) ?? .stopped
    }

    /// Records the operator's intent; written before any signal, so the supervisor never races it.
    public static func writeIntent(_ directory: ClusterDirectory, _ id: String, _ intent: NodeIntent)
        throws(RaftctlError)
    {
        try FileIO.writeAtomically(
            directory.intentPath(id), Array("\(intent.rawValue) \(ProcessControl.monotonicMilliseconds())\n".utf8))
    }

    /// Milliseconds (monotonic clock) at which the intent was last written.
    public static func intentTime(_ directory: ClusterDirectory, _ id: String) -> Int64 {
        let text = FileIO.readText(directory.intentPath(id)) ?? ""
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        return parts.count > 1 ? Int64(parts[1]) ?? 0 : 0
    }
}
