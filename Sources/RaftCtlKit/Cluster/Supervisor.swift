import Glibc
import RaftText

/// The background process `raftctl up` leaves behind: it restarts nodes that crash on their own (with backoff,
/// logged to `supervisor.log`) and never touches a node an operator stopped or killed (its `intent` file says so).
///
/// It owns no node: nodes run in their own sessions, so they outlive the supervisor, and a new `raftctl up` starts
/// a new supervisor that adopts them. It watches liveness through `/proc` every 100 ms and reaps any child it
/// restarted. SIGTERM (from `raftctl down`) ends it.
public struct Supervisor {
    let directory: ClusterDirectory
    let raftd: String
    let controller: ClusterController

    struct NodeWatch {
        var backoffMilliseconds: Int64 = 100
        var nextAttempt: Int64 = 0
        var upSince: Int64?
        var restarts = 0
    }

    public init(directory: ClusterDirectory, raftd: String) {
        self.directory = directory
        self.raftd = raftd
        self.controller = ClusterController(directory: directory)
    }

    nonisolated(unsafe) static var stopRequested: sig_atomic_t = 0

    public func run() throws(RaftctlError) -> Never {
        var spec = try directory.loadSpec()
        signal(SIGTERM) { _ in Supervisor.stopRequested = 1 }
        signal(SIGINT) { _ in Supervisor.stopRequested = 1 }
        signal(SIGHUP, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        try FileIO.writeAtomically(directory.supervisorPIDPath, Array("\(getpid())\n".utf8))
        log("supervisor started (pid \(getpid())) for \(spec.nodes.count) nodes")
        var watches = [String: NodeWatch]()
        for node in spec.nodes { watches[node.id] = NodeWatch() }
        while Supervisor.stopRequested == 0 {
            var status: Int32 = 0
            while true {
                let child = waitpid(-1, &status, WNOHANG)
                if child <= 0 { break }
                log("reaped pid \(child) (\(Self.describeExit(status)))")
            }
            let now = ProcessControl.monotonicMilliseconds()
            // The members change with add-node and remove-node: follow the cluster file.
            if let current = try? directory.loadSpec() { spec = current }
            for node in spec.nodes {
                supervise(spec, node, &watches[node.id, default: NodeWatch()], now: now)
            }
            if !directory.exists { break }
            usleep(100_000)
        }
        unlink(directory.supervisorPIDPath)
        log("supervisor stopped")
        exit(0)
    }

    private func supervise(_ spec: ClusterSpec, _ node: ClusterSpec.Node, _ watch: inout NodeWatch, now: Int64) {
        let process = NodeProcess.inspect(directory, node.id)
        if process.pid != nil {
            if watch.upSince == nil { watch.upSince = now }
            if let since = watch.upSince, now - since > 10_000 { watch.backoffMilliseconds = 100 }
            return
        }
        watch.upSince = nil
        guard NodeProcess.readIntent(directory, node.id) == .running, process.state != .halted else { return }
        // A node started a moment ago may not have written its lock file yet.
        if now - NodeProcess.intentTime(directory, node.id) < 3_000 { return }
        guard now >= watch.nextAttempt else { return }
        watch.restarts += 1
        log(
            "\(node.id) exited on its own; restarting (restart \(watch.restarts), next backoff \(watch.backoffMilliseconds) ms)"
        )
        do {
            try controller.startProcess(spec, node, raftd: raftd)
        } catch {
            log("cannot restart \(node.id): \(error)")
        }
        watch.nextAttempt = now + watch.backoffMilliseconds
        watch.backoffMilliseconds = min(5_000, watch.backoffMilliseconds * 2)
    }

    static func describeExit(_ status: Int32) -> String {
        let signal = status & 0x7F
        if signal == 0 { return "exit status \((status >> 8) & 0xFF)" }
        return "killed by signal \(signal)"
    }

    private func log(_ message: String) {
        let line = "\(UTCTimestamp.now()) supervisor: \(message)\n"
        _ = line.utf8CString.withUnsafeBufferPointer { write(1, $0.baseAddress, $0.count - 1) }
    }

}
