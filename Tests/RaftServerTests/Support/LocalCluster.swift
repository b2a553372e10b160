import ChildProcessTestSupport
import Foundation
import Glibc
import RaftClient

/// What `GET /v1/status` reports, as far as the tests look at it.
struct NodeStatus: Decodable, CustomStringConvertible {
    var id: String
    var clusterID: String?
    var role: String
    var term: Int
    var leader: String?
    var commitIndex: Int
    var appliedIndex: Int
    var lastLogIndex: Int
    var firstLogIndex: Int
    var snapshotIndex: Int
    var keys: Int
    var pid: Int
    var peers: [Peer]
    var storage: String

    /// One other member as this node sees it.
    struct Peer: Decodable {
        var id: String
        var connected: Bool
        var matchIndex: Int?
    }

    var description: String {
        "\(id) \(role) term=\(term) leader=\(leader ?? "-") commit=\(commitIndex) applied=\(appliedIndex) "
            + "last=\(lastLogIndex) first=\(firstLogIndex) snapshot=\(snapshotIndex)"
    }
}

/// A cluster of real `raftd` processes on loopback, for integration tests.
///
/// Each node gets two free ports (peer, client) and a data directory under one short temporary directory
/// (`/tmp/rd-XXXXXX/nK`, well within the 107-byte Unix socket limit for `admin.sock`). Nodes can be started,
/// SIGKILLed, SIGTERMed and restarted on the same ports and directory. Every wait is bounded and its failure
/// message carries each node's status and the tail of its `raftd.log`.
///
/// Invariant: no raftd started by a cluster outlives it: ``shutdown()`` (also run by `deinit`) SIGKILLs and reaps
/// every process, and ``RaftdProcess`` kills leftovers when the test process exits.
///
/// Environment: `RAFTD_BINARY` picks another raftd binary; `RAFTD_KEEP_TEST_DIRS=1` keeps the data directories
/// (with each node's raftd.log and `<id>.out`) for inspection after a run.
final class LocalCluster {
    /// One member's fixed identity; its process comes and goes.
    struct Node {
        var id: String
        var peerPort: Int
        var clientPort: Int
        var dataDir: String
        var pid: pid_t?
        var adminSocket: String { dataDir + "/admin.sock" }
        var logPath: String { dataDir + "/raftd.log" }
    }

    let binary: String
    let root: String
    let ids: [String]
    /// Options added to every node's command line (e.g. `--request-timeout 1s`).
    var extraArguments: [String]
    private(set) var nodes: [String: Node] = [:]

    var peersArgument: String { ids.map { "\($0)=127.0.0.1:\(nodes[$0]!.peerPort)" }.joined(separator: ",") }

    init(size: Int = 3, extraArguments: [String] = []) throws {
        binary = try RaftdProcess.binary()
        root = try Self.makeTemporaryDirectory()
        ids = (1...size).map { "n\($0)" }
        self.extraArguments = extraArguments
        let ports = try Sockets.freeLoopbackPorts(2 * size)
        for (offset, id) in ids.enumerated() {
            nodes[id] = Node(
                id: id, peerPort: ports[2 * offset], clientPort: ports[2 * offset + 1], dataDir: "\(root)/\(id)")
        }
    }

    deinit { shutdown() }

    /// A fresh `/tmp/rd-XXXXXX` directory (short on purpose: the admin socket path must stay under 108 bytes).
    static func makeTemporaryDirectory() throws -> String {
        var template = Array("/tmp/rd-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw HarnessError("mkdtemp: \(String(cString: strerror(errno)))")
        }
        return String(cString: made)
    }

    func node(_ id: String) -> Node { nodes[id]! }
    func port(_ id: String) -> Int { nodes[id]!.clientPort }
    var running: [String] { ids.filter { nodes[$0]!.pid != nil } }

    /// The command line of node `id` (without the binary).
    func arguments(_ id: String) -> [String] {
        let node = nodes[id]!
        return [
            "--id", id, "--peers", peersArgument, "--data-dir", node.dataDir,
            "--client-listen", "127.0.0.1:\(node.clientPort)",
        ] + DiskHeadroom.raftdOptions().flatMap { ["--" + $0.0, $0.1] } + extraArguments
    }

    /// Starts node `id` (its process must not be running) and waits until it answers `GET /v1/status`.
    func start(_ id: String, timeout: Double = 15) async throws {
        precondition(nodes[id]!.pid == nil, "\(id) is already running")
        let pid = try RaftdProcess.spawn(binary, arguments(id), outputPath: "\(root)/\(id).out")
        nodes[id]!.pid = pid
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let status = try? self.status(id), status.pid == Int(pid) { return }
            if let code = RaftdProcess.reap(pid) {
                nodes[id]!.pid = nil
                throw HarnessError("\(id) exited with status \(code) during startup:\n\(output(id))")
            }
            if Date() >= deadline {
                throw HarnessError("\(id) did not answer /v1/status within \(timeout) s\n\(diagnostics())")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func startAll() async throws {
        for id in ids where nodes[id]!.pid == nil { try await start(id) }
    }

    /// Sends `signal` to node `id` and, for SIGKILL, reaps it at once. Returns the pid signalled.
    @discardableResult
    func kill(_ id: String, signal: Int32 = SIGKILL) -> pid_t {
        guard let pid = nodes[id]!.pid else { preconditionFailure("\(id) is not running") }
        if signal == SIGKILL {
            RaftdProcess.killAndReap(pid)
            nodes[id]!.pid = nil
        } else {
            Glibc.kill(pid, signal)
        }
        return pid
    }

    /// Waits for node `id` to exit (after a SIGTERM); its exit status, or a failure naming the node.
    func waitForExit(_ id: String, timeout: Double = 10) async throws -> Int32 {
        // Thrown, not trapped: a trap ends the test process before its exit hook kills the other nodes.
        guard let pid = nodes[id]!.pid else { throw HarnessError("\(id) is not running (already reaped?)") }
        guard let status = await RaftdProcess.waitForExit(pid, timeout: timeout) else {
            throw HarnessError("\(id) (pid \(pid)) did not exit within \(timeout) s\n\(diagnostics())")
        }
        nodes[id]!.pid = nil
        return status
    }

    /// Runs raftd with `arguments` (not a cluster member's process) and waits for it to exit: its exit status and
    /// what it printed. A process still running after `timeout` seconds is killed and fails the call.
    func runToExit(_ arguments: [String], timeout: Double = 10) async throws -> (status: Int32, output: String) {
        runs += 1
        let outputPath = "\(root)/run-\(runs).out"
        let pid = try RaftdProcess.spawn(binary, arguments, outputPath: outputPath)
        let output = { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }
        guard let status = await RaftdProcess.waitForExit(pid, timeout: timeout) else {
            RaftdProcess.killAndReap(pid)
            throw HarnessError("raftd \(arguments) was still running after \(timeout) s:\n\(output())")
        }
        return (status, output())
    }

    private var runs = 0

    func restart(_ id: String) async throws {
        if nodes[id]!.pid != nil { kill(id) }
        try await start(id)
    }

    /// SIGKILLs every node, reaps it and deletes the temporary directory. Idempotent.
    func shutdown() {
        for id in ids {
            if let pid = nodes[id]?.pid {
                RaftdProcess.killAndReap(pid)
                nodes[id]!.pid = nil
            }
        }
        if ProcessInfo.processInfo.environment["RAFTD_KEEP_TEST_DIRS"] == nil {
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    // MARK: - Observing

    func status(_ id: String, timeout: Double = 2) throws -> NodeStatus {
        let response = try HTTPClient.request(port: port(id), "GET", "/v1/status", timeout: timeout)
        guard response.status == 200 else { throw HarnessError("\(id) /v1/status: \(response)") }
        do {
            return try JSONDecoder().decode(NodeStatus.self, from: Data(response.body))
        } catch {
            throw HarnessError("\(id) /v1/status does not decode (\(error)): \(response.text)")
        }
    }

    func admin(_ id: String) throws -> AdminSession { try AdminSession(path: nodes[id]!.adminSocket) }

    /// A client of the cluster as the client contract describes one (RaftClient's ``ClusterClient``): the current
    /// leader first, then the other running nodes (or only `only`), retrying 503, 504 and unanswered requests with
    /// the same Idempotency-Key.
    func client(only: [String]? = nil) -> ClusterClient {
        ClusterClient { [self] in
            let running = (only ?? ids).filter { nodes[$0]?.pid != nil }
            let leader = running.first { (try? status($0, timeout: 0.5).role) == "leader" }
            let order = (leader.map { [$0] } ?? []) + running.filter { $0 != leader }
            return order.map { ClusterClient.Endpoint(name: $0, port: port($0)) }
        }
    }

    /// ``client(only:)``'s answer, or a ``HarnessError`` saying what went wrong last.
    func send(
        _ method: String, _ path: String, body: [UInt8] = [], idempotencyKey: String? = nil, via only: [String]? = nil,
        timeout: Double = 30
    ) throws -> HTTPResponse {
        do {
            return try client(only: only).send(
                method: method, path: path, body: body, idempotencyKey: idempotencyKey,
                timeoutMilliseconds: Int(timeout * 1000))
        } catch {
            throw HarnessError(error.message)
        }
    }

    /// The last `lines` lines of node `id`'s raftd.log.
    func logTail(_ id: String, lines: Int = 25) -> String {
        guard let text = try? String(contentsOfFile: nodes[id]!.logPath, encoding: .utf8) else {
            return "(no raftd.log)"
        }
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// How many lines of node `id`'s raftd.log contain `text`.
    func logCount(_ id: String, containing text: String) -> Int {
        guard let log = try? String(contentsOfFile: nodes[id]!.logPath, encoding: .utf8) else { return 0 }
        return log.split(separator: "\n").count { $0.contains(text) }
    }

    /// What the process printed on stdout/stderr (startup failures land here, not in raftd.log).
    func output(_ id: String) -> String {
        (try? String(contentsOfFile: "\(root)/\(id).out", encoding: .utf8)) ?? "(no output)"
    }

    /// Every node's status (or why it has none) and log tail: attached to every wait failure.
    func diagnostics() -> String {
        ids.map { id in
            let state: String
            if nodes[id]!.pid == nil {
                state = "not running"
            } else {
                state = (try? status(id, timeout: 1)).map(\.description) ?? "no status"
            }
            return "--- \(id): \(state)\n\(logTail(id))"
        }.joined(separator: "\n")
    }

    // MARK: - Waiting

    /// Polls `probe` every 20 ms until it returns a value; after `timeout` seconds fails with `what` and
    /// ``diagnostics()``. Errors thrown by `probe` count as "not yet".
    func eventually<T>(_ what: String, timeout: Double = 10, _ probe: () throws -> T?) async throws -> T {
        let deadline = Date().addingTimeInterval(timeout)
        var lastError: (any Error)?
        while true {
            do {
                if let value = try probe() { return value }
            } catch {
                lastError = error
            }
            if Date() >= deadline {
                let cause = lastError.map { " (last error: \($0))" } ?? ""
                throw HarnessError("timed out after \(timeout) s waiting for \(what)\(cause)\n\(diagnostics())")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits until every node in `among` (default: all running) reports the same leader, which is itself among
    /// them and reports role leader in the same term; returns its id.
    func waitForLeader(among: [String]? = nil, timeout: Double = 10) async throws -> String {
        let members = among ?? running
        return try await eventually("one leader agreed on by \(members)", timeout: timeout) {
            let statuses = try members.map { try status($0) }
            guard let leader = statuses.first?.leader, members.contains(leader),
                statuses.allSatisfy({ $0.leader == leader }),
                let leaderStatus = statuses.first(where: { $0.id == leader }), leaderStatus.role == "leader",
                statuses.allSatisfy({ $0.term == leaderStatus.term })
            else { return nil }
            return leader
        }
    }

    /// Waits until node `id` has applied at least `index`.
    func waitForApplied(_ id: String, atLeast index: Int, timeout: Double = 10) async throws {
        _ = try await eventually("\(id) to apply index \(index)", timeout: timeout) {
            try status(id).appliedIndex >= index ? true : nil
        }
    }
}
