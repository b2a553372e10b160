import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A client writing through `raftctl put` in the background, one write at a time, until stopped or `count`
/// writes are done; it remembers which writes were acknowledged.
final class BackgroundWriter: Sendable {
    let acknowledged = Mutex<[String]>([])
    let failed = Mutex<[String]>([])
    private let stopRequested = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    init(_ cluster: TestCluster, prefix: String, count: Int) {
        let environment = cluster.environment
        let root = cluster.root
        Thread.detachNewThread { [self] in
            for n in 0..<count where !stopRequested.load(ordering: .relaxed) {
                let key = "\(prefix)\(n)"
                let result = try? RaftctlProcess.run(
                    ["put", key, "v\(n)", "--timeout", "10s"], environment: environment, scratch: root,
                    timeout: .seconds(30))
                if result?.status == 0 {
                    acknowledged.withLock { $0.append(key) }
                } else {
                    failed.withLock { $0.append("\(key): \(result.map { "\($0)" } ?? "did not run")") }
                }
            }
            finished.signal()
        }
    }

    /// Waits (bounded by a generous deadline, never by a count of time) until `more` further writes are
    /// acknowledged: the load really runs across the step that follows.
    func awaitProgress(_ cluster: TestCluster, _ more: Int) throws {
        let target = acknowledged.withLock { $0.count } + more
        try cluster.waitFor("\(more) more acknowledged writes", timeout: .seconds(60)) {
            acknowledged.withLock { $0.count } >= target ? true : nil
        }
    }

    /// Stops after the write in progress and returns the acknowledged keys.
    func stop() -> [String] {
        stopRequested.store(true, ordering: .relaxed)
        finished.wait()
        return acknowledged.withLock { $0 }
    }
}

/// Every key in `keys` reads back `v<n>` (its number) through a linearizable read.
func expectReadBack(_ cluster: TestCluster, _ keys: [String], prefix: String) throws {
    var missing: [String] = []
    for key in keys {
        let read = try cluster.ctl("get", key)
        if read.stdout != "v\(key.dropFirst(prefix.count))\n" {
            missing.append("\(key) -> \(read.stdout)\(read.stderr)")
        }
    }
    #expect(missing.isEmpty, "acknowledged writes that do not read back: \(missing.prefix(5))")
}

extension RaftctlEndToEndTests {
    @Test(
        "membership under a write load: 3 -> 5 voters (add-node), the leader and another removed (remove-node) -> 3; every acknowledged write reads back; down/up brings back the current members"
    )
    func growAndShrinkUnderLoad() throws {
        let cluster = try TestCluster()
        defer { cluster.close() }
        try cluster.up()
        let writer = BackgroundWriter(cluster, prefix: "w", count: 400)
        try writer.awaitProgress(cluster, 3)

        let added = try cluster.ok("add-node")
        #expect(added.stdout.hasPrefix("n4 added as a voter: caught up from "), "\(added)")
        try writer.awaitProgress(cluster, 3)
        try cluster.ok("add-node", "--id", "n5")
        try writer.awaitProgress(cluster, 3)
        var members = try cluster.ok("members", "--json").stdout
        for id in ["n1", "n2", "n3", "n4", "n5"] {
            #expect(members.contains(#""id":"\#(id)","kind":"voter""#), "\(members)")
        }

        let leader = try #require(try cluster.settledLeader(timeout: .seconds(20)).leader)
        let removed = try cluster.ok("remove-node", leader)
        #expect(removed.stdout.hasPrefix("\(leader) removed at index "), "\(removed)")
        try writer.awaitProgress(cluster, 3)
        let second = ["n1", "n2", "n3"].first { $0 != leader }!
        try cluster.ok("remove-node", second, "--purge")
        #expect(!FileManager.default.fileExists(atPath: "\(cluster.directory)/\(second)"), "--purge deletes the data")
        let remaining = ["n1", "n2", "n3", "n4", "n5"].filter { $0 != leader && $0 != second }
        let status = try cluster.settledLeader(timeout: .seconds(20))
        #expect(status.nodes.map(\.id) == remaining, "status follows the membership: \(status.nodes.map(\.id))")
        #expect(status.leader != leader)
        members = try cluster.ok("members", "--json").stdout
        #expect(!members.contains(#""id":"\#(leader)""#) && !members.contains(#""id":"\#(second)""#), "\(members)")
        #expect(cluster.leftoverProcesses().filter { $0.command.contains("/\(leader) ") }.isEmpty)

        try writer.awaitProgress(cluster, 3)
        let acknowledged = writer.stop()
        // Progress across every step was awaited above; a write that timed out is not acknowledged (its outcome
        // is unknown) and is not read back.
        print(
            "membership under load: \(acknowledged.count) writes acknowledged, \(writer.failed.withLock { $0.count }) not"
        )
        try expectReadBack(cluster, acknowledged, prefix: "w")

        try cluster.ok("down")
        try cluster.ok("up")
        let after = try cluster.settledLeader(timeout: .seconds(20))
        #expect(after.nodes.map(\.id) == remaining, "up brings back the current members, not the original ones")
        try expectReadBack(cluster, Array(acknowledged.suffix(5)), prefix: "w")
    }

    @Test(
        "a learner: add-node --learner shows as a learner in members and status, does not vote, and promote makes it a voter"
    )
    func learnerThenPromote() throws {
        let cluster = try TestCluster()
        defer { cluster.close() }
        try cluster.up()
        try cluster.ok("put", "a", "1")
        let added = try cluster.ok("add-node", "--learner")
        #expect(added.stdout.hasPrefix("n4 added as a learner"), "\(added)")
        #expect(try cluster.ok("members").stdout.contains("n4   learner"))
        let status = try cluster.status()
        #expect(status.node("n4")?.kind == "learner" && status.node("n4")?.role == "follower")
        #expect(try cluster.ok("status").stdout.contains("follower (learner)"))
        // A learner cannot be made leader: it is not a voter.
        let transfer = try cluster.ctl("transfer-leader", "n4", "--wait", "1s")
        #expect(transfer.status == 1, "\(transfer)")
        let promoted = try cluster.ok("promote", "n4")
        #expect(promoted.stdout.hasPrefix("n4 is a voter"), "\(promoted)")
        #expect(try cluster.status().node("n4")?.kind == "voter")
        try cluster.ok("transfer-leader", "n4", "--wait", "5s")
        try cluster.ok("put", "b", "2")
        #expect(try cluster.ok("get", "a").stdout == "1\n")
    }

    @Test(
        "a member whose data was deleted: start is refused (naming replace-node), a removal that would lose quorum is refused, and replace-node brings it back with all the data"
    )
    func replaceANodeThatLostItsData() throws {
        let cluster = try TestCluster()
        defer { cluster.close() }
        try cluster.up()
        for n in 0..<30 { try cluster.ok("put", "k\(n)", "v\(n)") }
        let leader = try #require(try cluster.settledLeader().leader)
        let followers = ["n1", "n2", "n3"].filter { $0 != leader }
        let victim = followers[0]
        try cluster.ok("stop", victim)
        // What an operator does to "reset" a broken node.
        let directory = "\(cluster.directory)/\(victim)"
        for name in try FileManager.default.contentsOfDirectory(atPath: directory)
        where name.hasPrefix("wal-") || name.hasSuffix(".snap") {
            try FileManager.default.removeItem(atPath: "\(directory)/\(name)")
        }
        let start = try cluster.ctl("start", victim)
        #expect(start.status == 1 && start.stderr.contains("raftctl replace-node \(victim)"), "\(start)")
        #expect(try cluster.status().node(victim)?.process == "stopped", "never a silent follower at 0")

        // With the victim down, removing the other follower would leave one live voter of two.
        let refused = try cluster.ctl("remove-node", followers[1])
        #expect(refused.status == 1 && refused.stderr.contains("not heard from: \(victim)"), "\(refused)")

        let replaced = try cluster.ok("replace-node", victim, timeout: .seconds(60))
        #expect(replaced.stdout.contains("\(victim) rejoined empty and is a voter again"), "\(replaced)")
        let status = try cluster.settledLeader(timeout: .seconds(20))
        #expect(status.node(victim)?.kind == "voter")
        let commit = try #require(status.node(status.leader!)?.commitIndex)
        try cluster.waitForStatus("\(victim) to apply everything") { ($0.node(victim)?.appliedIndex ?? 0) >= commit }
        // Its own copy serves the data: stop the others' majority-less view by reading through it.
        try cluster.ok("transfer-leader", victim, "--wait", "5s")
        try expectReadBack(cluster, (0..<30).map { "k\($0)" }, prefix: "k")
    }
}
