import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// End-to-end tests of the real `raftctl` binary against real `raftd` processes. Serialized: each test runs a
/// three-node cluster, and the machine has two shared cores.
@Suite("raftctl end to end (real raftd processes)", .serialized)
struct RaftctlEndToEndTests {}

/// Every `admin.sock` file under `path`.
func adminSockets(under path: String) -> [String] {
    guard let enumerator = FileManager.default.enumerator(atPath: path) else { return [] }
    return enumerator.compactMap { $0 as? String }.filter { $0.hasSuffix("admin.sock") }
}

extension RaftctlEndToEndTests {
    @Test(
        "up elects one leader; a second up is refused; down leaves no process or socket; data survives")
    func upStatusDownUpKeepsData() throws {
        let cluster = try TestCluster()
        defer { cluster.close() }
        let up = try cluster.up()
        #expect(up.stdout.hasPrefix("cluster up in "), "\(up)")
        #expect(up.lines.contains { $0.hasPrefix("leader n") && $0.contains(" at term ") }, "\(up)")

        let status = try cluster.settledLeader()
        #expect(status.nodes.map(\.id) == ["n1", "n2", "n3"])
        #expect(status.nodes.allSatisfy { $0.process == "running" && $0.pid != nil }, "\(cluster.diagnostics())")
        #expect(status.nodes.filter { $0.role == "leader" }.count == 1)
        let leader = try #require(status.leader)
        let printed = try cluster.ok("leader")
        #expect(printed.stdout == leader + "\n", "\(printed)")

        let again = try cluster.ctl("up")
        #expect(again.status == 1, "\(again)")
        #expect(again.stderr.contains("already running"), "\(again)")
        #expect(again.stderr.trimmed.split(separator: "\n").count == 1, "\(again)")
        let supervisors = cluster.leftoverProcesses().filter { $0.command.contains(" supervise ") }
        #expect(supervisors.count == 1, "a refused up must not start a second supervisor: \(supervisors)")
        #expect(try cluster.status().nodes.allSatisfy { $0.process == "running" }, "a refused up disturbed nodes")

        try cluster.ok("put", "color", "blue")
        let down = try cluster.ok("down")
        #expect(down.stdout.contains("cluster stopped"), "\(down)")
        #expect(cluster.leftoverProcesses().isEmpty, "still running after down: \(cluster.leftoverProcesses())")
        #expect(
            adminSockets(under: cluster.directory).isEmpty, "sockets left: \(adminSockets(under: cluster.directory))")
        #expect(FileManager.default.fileExists(atPath: cluster.directory + "/cluster.json"), "down without --purge")
        let stopped = try cluster.status()
        #expect(stopped.nodes.allSatisfy { $0.process == "stopped" && $0.pid == nil }, "\(cluster.diagnostics())")

        try cluster.up()
        let value = try cluster.ok("get", "color")
        #expect(value.stdout == "blue\n", "the value written before down is gone: \(value)")

        // Settings apply only when a cluster is created: different ones are refused, not silently ignored.
        try cluster.ok("down")
        let resized = try cluster.ctl("up", "--nodes", "5", "--heartbeat", "20ms")
        expectFailure(resized, status: 2, "--nodes 5 (it has 3)")
        #expect(resized.stderr.contains("--heartbeat 20ms (it has 50ms)"), "\(resized)")
        #expect(cluster.leftoverProcesses().isEmpty, "a refused up started \(cluster.leftoverProcesses())")
        let same = try cluster.ok("up", "--nodes", "3", "--heartbeat", "50ms")
        #expect(same.lines.filter { $0.hasPrefix("  n") }.count == 3, "\(same)")

        let purge = try cluster.ok("down", "--purge")
        #expect(purge.stdout.contains("deleted"), "\(purge)")
        #expect(!FileManager.default.fileExists(atPath: cluster.directory), "--purge left the cluster directory")
        #expect(cluster.leftoverProcesses().isEmpty, "still running after down --purge: \(cluster.leftoverProcesses())")
    }

    @Test(
        "the supervisor restarts a crashed node; a killed leader is replaced and stays down until start")
    func supervisorRestartsCrashesButNotKills() throws {
        try withCluster { cluster in
            let initial = try cluster.settledLeader()
            let firstLeader = try #require(initial.leader)

            // A crash behind raftctl's back: the supervisor must bring the node back with a new process.
            let victim = try #require(initial.nodes.first { $0.id != firstLeader })
            let crashedPID = try #require(victim.pid)
            #expect(kill(crashedPID, SIGKILL) == 0)
            let restarted = try cluster.waitForStatus(
                "the supervisor to restart \(victim.id) (was pid \(crashedPID))", timeout: .seconds(15)
            ) { status in
                guard let node = status.node(victim.id), node.process == "running", let pid = node.pid else {
                    return false
                }
                return pid != crashedPID
            }
            #expect(restarted.node(victim.id)?.pid != crashedPID)
            let supervisorLog = cluster.tail(cluster.directory + "/supervisor.log", lines: 100)
            #expect(
                supervisorLog.contains("\(victim.id) exited on its own; restarting"),
                "supervisor.log does not mention the restart:\n\(supervisorLog)")
            let afterCrash = try cluster.settledLeader()
            let leader = try #require(afterCrash.leader)

            // An operator's kill: the leader is replaced and the supervisor leaves the node down.
            let killed = try cluster.ok("kill", leader)
            #expect(killed.stdout.hasPrefix("sent SIGKILL to \(leader) (pid "), "\(killed)")
            let justKilled = try cluster.status()
            #expect(justKilled.node(leader)?.process == "killed", "\(cluster.diagnostics())")
            #expect(justKilled.node(leader)?.pid == nil)
            let replaced = try cluster.waitForStatus("a new leader other than the killed \(leader)") {
                $0.leader != nil && $0.leader != leader
            }
            let put = try cluster.ok("put", "after-kill", "yes")
            #expect(put.stdout.hasPrefix("OK (index "), "\(put)")
            #expect(try cluster.ok("get", "after-kill").stdout == "yes\n")
            #expect(try cluster.ok("leader").stdout == (replaced.leader ?? "") + "\n")

            // The supervisor polls every 100 ms and restarts a crash at once (its start grace is long over). The
            // election, the write and the reads above took many polls: the killed node must still be down.
            let stillKilled = try cluster.status().node(leader)?.process
            try #require(stillKilled == "killed", "the supervisor restarted a killed node:\n\(cluster.diagnostics())")
            let log = cluster.tail(cluster.directory + "/supervisor.log", lines: 100)
            #expect(!log.contains("\(leader) exited on its own"), "supervisor.log:\n\(log)")

            let started = try cluster.ok("start", leader)
            #expect(started.stdout == "\(leader) started\n", "\(started)")
            let healed = try cluster.waitForStatus("\(leader) to run again and catch up") { status in
                guard status.hasSettledLeader, let node = status.node(leader),
                    let applied = status.node(status.leader!)?.appliedIndex
                else { return false }
                return node.process == "running" && node.appliedIndex == applied
            }
            #expect(healed.nodes.allSatisfy { $0.process == "running" })
            #expect(try cluster.ok("get", "after-kill").stdout == "yes\n")
        }
    }

    @Test("stop hands leadership over and the node stays stopped; restart gives a new process; start brings it back")
    func stopRestartStart() throws {
        try withCluster { cluster in
            let initial = try cluster.settledLeader()
            let leader = try #require(initial.leader)
            #expect(try cluster.ok("stop", leader).stdout == "\(leader) stopped\n")
            let stopped = try cluster.waitForStatus("a new leader after stopping \(leader)") {
                $0.leader != nil && $0.leader != leader
            }
            #expect(stopped.node(leader)?.process == "stopped" && stopped.node(leader)?.pid == nil)
            // A handover, not an election after a timeout: the successor campaigned because it was told to.
            let successor = try #require(stopped.leader)
            let events = try cluster.ok("events", successor).stdout
            #expect(
                events.contains("started for term \(stopped.term ?? 0) (transfer)"),
                "\(successor) was not handed leadership:\n\(events)")
            // A stopped node's log is still readable.
            let logs = try cluster.ok("logs", leader, "-n", "20").stdout
            #expect(logs.contains("shutting down: transferring leadership to \(successor)"), "\(logs)")
            try cluster.ok("put", "while-stopped", "1")

            let other = try #require(stopped.nodes.first { $0.id != leader && $0.id != stopped.leader })
            #expect(try cluster.ok("restart", other.id).stdout == "\(other.id) restarted\n")
            let restarted = try cluster.status()
            #expect(restarted.node(other.id)?.process == "running")
            #expect(restarted.node(other.id)?.pid != nil && restarted.node(other.id)?.pid != other.pid)
            #expect(restarted.node(leader)?.process == "stopped", "the supervisor restarted a stopped node")

            #expect(try cluster.ok("start", leader).stdout == "\(leader) started\n")
            try cluster.waitForStatus("all three running, \(leader) caught up") { status in
                guard status.hasSettledLeader, let applied = status.node(status.leader!)?.appliedIndex else {
                    return false
                }
                return status.nodes.allSatisfy { $0.appliedIndex == applied }
            }
            #expect(try cluster.ok("get", "while-stopped").stdout == "1\n")

            // kill --signal TERM: a graceful exit, still an operator's kill that the supervisor leaves alone.
            let terminated = try cluster.ok("kill", other.id, "--signal", "TERM")
            #expect(terminated.stdout.hasPrefix("sent SIGTERM to \(other.id) (pid "), "\(terminated)")
            try cluster.waitForStatus("\(other.id) to exit on SIGTERM") {
                $0.node(other.id)?.process == "killed" && $0.node(other.id)?.pid == nil
            }
        }
    }

    @Test("pause shows a node paused while the others keep serving; resume brings it back running and caught up")
    func pauseAndResume() throws {
        try withCluster { cluster in
            let initial = try cluster.settledLeader()
            let follower = try #require(initial.nodes.first { $0.role == "follower" }).id
            #expect(try cluster.ok("pause", follower).stdout == "\(follower) paused\n")
            let paused = try cluster.waitForStatus("\(follower) to show paused") {
                $0.node(follower)?.process == "paused"
            }
            #expect(paused.node(follower)?.pid == initial.node(follower)?.pid, "pause must not replace the process")
            let text = try cluster.ok("status").stdout
            #expect(
                text.split(separator: "\n").contains { $0.hasPrefix(follower) && $0.contains(" paused ") },
                "status table:\n\(text)")
            try cluster.ok("put", "while-paused", "1")

            #expect(try cluster.ok("resume", follower).stdout == "\(follower) resumed\n")
            let resumed = try cluster.waitForStatus("\(follower) to run again and apply the write made meanwhile") {
                status in
                guard let node = status.node(follower), status.hasSettledLeader,
                    let applied = status.node(status.leader!)?.appliedIndex
                else { return false }
                return node.process == "running" && node.appliedIndex == applied
            }
            #expect(resumed.node(follower)?.pid == initial.node(follower)?.pid)
            #expect(try cluster.ok("get", "while-paused").stdout == "1\n")
        }
    }
}
