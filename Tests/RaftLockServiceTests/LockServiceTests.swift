import RaftCore
import RaftLockService
import RaftRuntime
import RaftStorage
import Testing

/// Three runtimes of the lock service in one process, their messages passed by hand: an embedding in miniature.
final class LockCluster {
    final class Host: NodeEnvironment {
        let id: NodeID
        let fileSystem = InMemoryFileSystem()
        var runtime: NodeRuntime<LockService>!
        var outbox: [Message] = []

        init(id: NodeID) { self.id = id }

        func send(_ messages: [Message]) { outbox += messages }
        func wallClockMilliseconds() -> UInt64 { 0 }
        func runSnapshotJob(_ job: SnapshotJob) { runtime.snapshotWritten(job.run()) }
        func eventOccurred(_ event: RaftEvent, term: Term) {}
        func entriesPersisted(_ entries: [Entry]) {}
        func storageFailed(_ reason: String) {}
    }

    let hosts: [Host]

    init() throws {
        let ids = (1...3).map { NodeID(UInt64($0)) }
        hosts = ids.map(Host.init)
        for host in hosts {
            var raft = RaftConfig(id: host.id, voters: ids, randomSeed: host.id.rawValue)
            raft.electionTimeoutTicks = 10...20
            raft.heartbeatIntervalTicks = 2
            let storage = try NodeStorage(
                options: StorageOptions(directory: "/locks", clusterID: ClusterID(9), nodeID: host.id),
                fileSystem: host.fileSystem)
            host.runtime = try NodeRuntime(
                options: RuntimeOptions(raft: raft, requestTimeoutTicks: 200, snapshotThresholdEntries: 5),
                storage: storage, emptyStateMachine: LockService(), environment: host)
        }
    }

    /// One tick everywhere, then messages passed until none is left.
    func step() {
        for host in hosts { host.runtime.tick() }
        settle()
    }

    func settle() {
        var rounds = 0
        repeat {
            for host in hosts { host.runtime.flush() }
            let messages = hosts.flatMap(\.outbox)
            for host in hosts { host.outbox.removeAll() }
            for message in messages { hosts.first { $0.id == message.to }?.runtime.receive(message) }
            rounds += 1
        } while hosts.contains(where: { !$0.outbox.isEmpty || $0.runtime.raft.hasReady }) && rounds < 1_000
    }

    var leader: Host? { hosts.first { $0.runtime.raft.currentRole == .leader } }

    /// Proposes through `host` and steps the cluster until the answer comes (at most 500 ticks).
    func run(_ command: LockService.Command, via host: Host) -> Result<LockService.Output, ClientError>? {
        var answer: Result<LockService.Output, ClientError>?
        host.runtime.propose({ proposal, _ in LockService.encode(command, as: proposal) }) { answer = $0 }
        for _ in 0..<500 where answer == nil { step() }
        return answer
    }
}

@Suite("Lock service on the node runtime")
struct LockServiceTests {
    @Test func locksAreExclusiveAndFencingTokensGrowAcrossOwners() throws {
        let cluster = try LockCluster()
        for _ in 0..<200 where cluster.leader == nil { cluster.step() }
        let leader = try #require(cluster.leader)
        let follower = try #require(cluster.hosts.first { $0 !== leader })

        let first = try #require(cluster.run(.acquire(lock: "printer", owner: "alice"), via: follower)).get()
        guard case .acquired(let aliceToken) = first else {
            Issue.record("alice: \(first)")
            return
        }
        #expect(try cluster.run(.acquire(lock: "printer", owner: "bob"), via: leader)?.get() == .heldBy(owner: "alice"))
        #expect(try cluster.run(.release(lock: "printer", owner: "bob"), via: leader)?.get() == .notHeld)
        #expect(try cluster.run(.release(lock: "printer", owner: "alice"), via: follower)?.get() == .released)
        let second = try #require(cluster.run(.acquire(lock: "printer", owner: "bob"), via: follower)).get()
        guard case .acquired(let bobToken) = second else {
            Issue.record("bob: \(second)")
            return
        }
        #expect(bobToken > aliceToken, "fencing tokens must grow")

        // Every replica holds the same locks, and the snapshots it took restore to the same state.
        for _ in 0..<20 { cluster.step() }
        let states = cluster.hosts.map(\.runtime.stateMachine.holders)
        #expect(states.allSatisfy { $0 == ["printer": LockService.Holder(owner: "bob", token: bobToken)] })
        let snapshotted = cluster.hosts.filter { $0.runtime.lastSnapshotIndex > .zero }
        #expect(!snapshotted.isEmpty, "snapshotThresholdEntries 5 makes every node snapshot")
        var restored = LockService()
        try restored.restore(fromSnapshot: leader.runtime.stateMachine.snapshotData())
        #expect(restored.holders == leader.runtime.stateMachine.holders)
        #expect(restored.appliedIndex == leader.runtime.stateMachine.appliedIndex)
    }

    @Test func malformedBytesNeitherTrapNorChangeState() throws {
        var service = LockService()
        let applied = service.apply(committed: Entry(index: 1, term: 1, kind: .command, data: [1, 2, 3]))
        #expect(applied?.output == .malformed)
        #expect(service.holders.isEmpty)
        #expect(throws: LockServiceSnapshotError.self) { try service.restore(fromSnapshot: [1, 0, 0]) }
    }
}
