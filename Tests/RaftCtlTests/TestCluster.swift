import ChildProcessTestSupport
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The `status --json` document, decoded on the test side so that a change of raftctl's format fails these tests.
struct StatusDocument: Decodable {
    struct Node: Decodable {
        var id: String
        var process: String
        var pid: Int32?
        var role: String?
        var kind: String?
        var term: UInt64?
        var leader: String?
        var commitIndex: UInt64?
        var appliedIndex: UInt64?
        var lastLogIndex: UInt64?
        var clientURL: String
        var blockedIn: [String]
        var blockedOut: [String]
        var storage: String?
        var disk: Disk?
    }

    struct Disk: Decodable {
        var freeBytes: UInt64
        var totalBytes: UInt64
        var usedBytes: UInt64
        var alarmBelowFreeBytes: UInt64
        var slowSyncs: UInt64
        var slowSyncThresholdMilliseconds: Int
        var syncDelayMilliseconds: Int
    }

    struct Alarm: Decodable {
        var node: String
        var kind: String
        var message: String
        var freeBytes: UInt64?
        var since: String
    }

    var leader: String?
    var term: UInt64?
    var nodes: [Node]
    var alarms: [Alarm]
    var warnings: [String]

    func node(_ id: String) -> Node? { nodes.first { $0.id == id } }

    /// Every node runs and answers, exactly one is leader, and all agree on it and on the term.
    var hasSettledLeader: Bool {
        guard let leader, nodes.allSatisfy({ $0.process == "running" && $0.role != nil }) else { return false }
        return nodes.filter { $0.role == "leader" }.map(\.id) == [leader]
            && nodes.allSatisfy { $0.leader == leader && $0.term == term }
    }
}

/// A real cluster in a private short directory under /tmp (`/tmp/rct-XXXXXX/c`, well under the 107-byte socket
/// limit), driven only through the `raftctl` binary. `close()` always runs `down --purge`, then kills (by pid)
/// anything still mentioning the directory, so no test leaves processes behind even when it fails.
final class TestCluster {
    /// Private to this cluster: the cluster directory, the REPL's state home and the scratch files live under it.
    let root: String
    /// The cluster directory (`RAFTCTL_CLUSTER_DIR` for every command run through `ctl`).
    let directory: String
    let environment: [String]
    private var closed = false

    init() throws {
        var template = Array("/tmp/rct-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw HarnessFailure(description: "mkdtemp: \(String(cString: strerror(errno)))")
        }
        root = String(cString: made)
        directory = root + "/c"
        try FileManager.default.createDirectory(atPath: root + "/state", withIntermediateDirectories: true)
        environment = RaftctlProcess.environment([
            "RAFTCTL_CLUSTER_DIR": directory, "XDG_STATE_HOME": root + "/state", "TERM": "xterm",
            "INPUTRC": "/dev/null", "LANG": "C.UTF-8",
        ])
    }

    deinit { close() }

    /// Runs `raftctl ARGUMENTS` against this cluster.
    @discardableResult
    func ctl(_ arguments: String..., stdin: String? = nil, timeout: Duration = .seconds(30)) throws -> CommandResult {
        try ctl(arguments, stdin: stdin, timeout: timeout)
    }

    @discardableResult
    func ctl(_ arguments: [String], stdin: String? = nil, timeout: Duration = .seconds(30)) throws -> CommandResult {
        try RaftctlProcess.run(arguments, environment: environment, scratch: root, stdin: stdin, timeout: timeout)
    }

    /// Runs a command that must succeed (exit 0), failing with its output and the cluster's state otherwise.
    @discardableResult
    func ok(_ arguments: String..., timeout: Duration = .seconds(30)) throws -> CommandResult {
        let result = try ctl(arguments, timeout: timeout)
        guard result.status == 0 else {
            throw HarnessFailure(description: "expected success: \(result)\n\(diagnostics())")
        }
        return result
    }

    /// `raftctl up`, which returns once a leader is elected. On a machine whose disk is nearly full, each node
    /// first gets a `raftd.conf` with a lower space-alarm threshold (see `DiskHeadroom`).
    @discardableResult
    func up() throws -> CommandResult {
        try prepareNodeConfigurations()
        return try ok("up")
    }

    /// On a machine whose disk is nearly full, writes each node's `raftd.conf` with a lower space-alarm threshold
    /// (see `DiskHeadroom`), for a cluster that something other than `up` is about to create.
    func prepareNodeConfigurations() throws {
        let options = DiskHeadroom.raftdOptions()
        if !options.isEmpty {
            for n in 1...9 where !FileManager.default.fileExists(atPath: "\(directory)/n\(n)/raftd.conf") {
                try FileManager.default.createDirectory(
                    atPath: "\(directory)/n\(n)", withIntermediateDirectories: true)
                try options.map { "\($0.0) = \($0.1)\n" }.joined().write(
                    toFile: "\(directory)/n\(n)/raftd.conf", atomically: true, encoding: .utf8)
            }
        }
    }

    /// Starts a long-running command (`logs -f`, `entries -f`, `events -f`) in the background.
    func follow(_ arguments: String...) throws -> FollowedCommand {
        try FollowedCommand(
            arguments, environment: environment, outputPath: "\(root)/follow-\(UUID().uuidString.prefix(8))")
    }

    /// `status --json`, decoded.
    func status() throws -> StatusDocument {
        let result = try ctl("status", "--json")
        guard let data = result.stdout.data(using: .utf8),
            let document = try? JSONDecoder().decode(
                StatusDocument.self, from: data)
        else { throw HarnessFailure(description: "status --json is not the documented JSON: \(result)") }
        return document
    }

    /// Polls `probe` every 50 ms until it returns a value; after `timeout` fails with `what`, the last status and
    /// the nodes' log tails. Never sleeps blindly: each wait ends as soon as the condition holds.
    func waitFor<T>(
        _ what: String, timeout: Duration = .seconds(10), _ probe: () throws -> T?
    ) throws -> T {
        let deadline = ContinuousClock.now + timeout
        var lastError: (any Error)?
        while true {
            do {
                if let value = try probe() { return value }
            } catch {
                lastError = error
            }
            if ContinuousClock.now >= deadline { break }
            usleep(50_000)
        }
        throw HarnessFailure(
            description: "timed out after \(timeout) waiting for \(what)"
                + (lastError.map { "\nlast error: \($0)" } ?? "") + "\n" + diagnostics())
    }

    /// Waits for a status that satisfies `condition` and returns it.
    @discardableResult
    func waitForStatus(
        _ what: String, timeout: Duration = .seconds(10), _ condition: (StatusDocument) -> Bool
    ) throws -> StatusDocument {
        try waitFor(what, timeout: timeout) {
            let document = try status()
            return condition(document) ? document : nil
        }
    }

    /// Waits until all running nodes agree on one leader and returns the status.
    @discardableResult
    func settledLeader(timeout: Duration = .seconds(10)) throws -> StatusDocument {
        try waitForStatus("one leader all nodes agree on", timeout: timeout) { $0.hasSettledLeader }
    }

    /// The status table, supervisor log and each node's last log lines: what a failure message needs.
    func diagnostics() -> String {
        var text = "=== raftctl status:\n"
        if let result = try? ctl("status", timeout: .seconds(10)) { text += result.stdout + result.stderr }
        text += "=== supervisor.log (tail):\n" + tail(directory + "/supervisor.log", lines: 10)
        let ids = (try? status().nodes.map(\.id)) ?? ["n1", "n2", "n3"]
        for id in ids {
            text += "=== \(id)/raftd.log (tail):\n" + tail("\(directory)/\(id)/raftd.log", lines: 12)
            text += "=== \(id)/raftd.out (tail):\n" + tail("\(directory)/\(id)/raftd.out", lines: 4)
        }
        return text
    }

    func tail(_ path: String, lines: Int) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "(no \(path))\n" }
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n") + "\n"
    }

    /// Live processes started for this cluster (raftd and the supervisor name the cluster directory).
    func leftoverProcesses() -> [(pid: pid_t, command: String)] {
        RaftctlProcess.processes(mentioning: root)
    }

    /// `down --purge`, then a SIGKILL (by pid) for anything of this cluster still alive, then the private root.
    func close() {
        guard !closed else { return }
        closed = true
        _ = try? ctl("down", "--purge", timeout: .seconds(20))
        for process in leftoverProcesses() { kill(process.pid, SIGKILL) }
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// A raftctl command that runs until stopped, its stdout and stderr going to a file that the test polls.
final class FollowedCommand {
    let arguments: [String]
    let outputPath: String
    let pid: pid_t
    private var status: Int32??

    init(_ arguments: [String], environment: [String], outputPath: String) throws {
        self.arguments = arguments
        self.outputPath = outputPath
        pid = try RaftctlProcess.spawn(
            arguments, environment: environment, newSession: false, stdin: .null, stdout: .file(outputPath),
            stderr: .stdout)
    }

    deinit { _ = stop() }

    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    /// Waits until the output contains `text`; false after `timeout`.
    func waitForOutput(containing text: String, timeout: Duration = .seconds(10)) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if output.contains(text) { return true }
            usleep(20_000)
        }
        return output.contains(text)
    }

    /// Whether it is still running (a follow must not end on its own).
    var isRunning: Bool {
        guard status == nil else { return false }
        var raw: Int32 = 0
        if waitpid(pid, &raw, WNOHANG) == pid {
            status = .some(raw & 0x7f == 0 ? (raw >> 8) & 0xff : -(raw & 0x7f))
            return false
        }
        return true
    }

    /// Interrupts it as Ctrl-C would and returns how it ended (nil: it had to be killed).
    @discardableResult
    func stop() -> Int32? {
        if isRunning {
            kill(pid, SIGINT)
            status = .some(RaftctlProcess.waitForExit(pid, timeout: .seconds(5)))
        }
        return status ?? nil
    }
}

/// Runs `body` with a fresh three-node cluster that is up, and always tears it down.
func withCluster(_ body: (TestCluster) throws -> Void) throws {
    let cluster = try TestCluster()
    defer { cluster.close() }
    try cluster.up()
    try body(cluster)
}

extension String {
    /// The text without surrounding whitespace and newlines.
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
