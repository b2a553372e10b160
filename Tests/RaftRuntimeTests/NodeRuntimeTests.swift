import Glibc
import RaftCore
import RaftKV
import RaftRuntime
import RaftStorage
import Testing

/// An environment that keeps what the runtime sends and runs snapshot jobs at once.
final class RecordingEnvironment: NodeEnvironment {
    var sent: [Message] = []
    var events: [RaftEvent] = []
    var failures: [String] = []
    var failpointsReached: [(FailpointName, FailpointAction)] = []
    weak var runtime: NodeRuntime<KVStore>?

    func send(_ messages: [Message]) { sent += messages }
    func wallClockMilliseconds() -> UInt64 { 1_800_000_000_000 }
    func runSnapshotJob(_ job: SnapshotJob) { runtime?.snapshotWritten(job.run()) }
    func eventOccurred(_ event: RaftEvent, term: Term) { events.append(event) }
    func entriesPersisted(_ entries: [Entry]) {}
    func storageFailed(_ reason: String) { failures.append(reason) }
    func failpointReached(_ name: FailpointName, _ action: FailpointAction) { failpointsReached.append((name, action)) }
}

/// One node of a cluster of `voters`, over an in-memory disk, with an environment that records what it sends.
func makeNode(
    _ id: UInt64, voters: [UInt64], fileSystem: InMemoryFileSystem, seed: UInt64,
    environment: RecordingEnvironment
) throws -> NodeRuntime<KVStore> {
    var raft = RaftConfig(id: NodeID(id), voters: voters.map { NodeID($0) }, randomSeed: seed)
    raft.electionTimeoutTicks = 10...20
    raft.heartbeatIntervalTicks = 2
    let storage = try NodeStorage(
        options: StorageOptions(directory: "/data", clusterID: ClusterID(7), nodeID: NodeID(id)),
        fileSystem: fileSystem)
    let runtime = try NodeRuntime(
        options: RuntimeOptions(raft: raft, requestTimeoutTicks: 100, snapshotThresholdEntries: 1_000),
        storage: storage, emptyStateMachine: KVStore(), environment: environment)
    environment.runtime = runtime
    return runtime
}

func put(_ key: String, _ value: String, on runtime: NodeRuntime<KVStore>) -> () -> Result<KVApplyResult, ClientError>?
{
    var outcome: Result<KVApplyResult, ClientError>?
    let command = KVCommand(
        operation: .put, key: Array(key.utf8), value: Array(value.utf8), origin: NodeID(0), sequence: 0,
        idempotencyKey: nil, timestampMilliseconds: 0)
    runtime.propose({ command.encoded(as: $0, at: $1) }) { outcome = $0 }
    runtime.flush()
    return { outcome }
}

/// Ticks a single-node cluster until it leads.
func elect(_ runtime: NodeRuntime<KVStore>) {
    for _ in 0..<100 where runtime.raft.currentRole != .leader {
        runtime.tick()
        runtime.flush()
    }
}

/// The context of the first ReadIndex request among `messages`.
func forwardedReadContext(in messages: [Message]) -> ReadContext? {
    messages.compactMap { message -> ReadContext? in
        if case .readIndex(let context) = message.body { return context }
        return nil
    }.first
}

@Suite("Node runtime")
struct NodeRuntimeTests {
    /// Recovery hands its entries and snapshot to the core and the state machine, then lets go of them: before,
    /// raftd kept the storage's recovered copy for the life of the process, pinning the whole recovered log and
    /// snapshot in memory even after compaction dropped them everywhere else.
    @Test func aRestartedNodeKeepsNoSecondCopyOfWhatItRecovered() throws {
        let fileSystem = InMemoryFileSystem()
        let environment = RecordingEnvironment()
        do {
            let first = try makeNode(1, voters: [1], fileSystem: fileSystem, seed: 1, environment: environment)
            elect(first)
            var answers: [() -> Result<KVApplyResult, ClientError>?] = []
            for n in 0..<20 { answers.append(put("k\(n)", String(repeating: "v", count: 100), on: first)) }
            #expect(answers.allSatisfy { $0() != nil })
            first.stop()
            first.storage.close()
        }
        let again = try makeNode(1, voters: [1], fileSystem: fileSystem, seed: 2, environment: RecordingEnvironment())
        #expect(again.raft.lastIndex.rawValue >= 21, "the core recovered the log")
        #expect(again.storage.recovery.state.entries.isEmpty && again.storage.recovery.state.snapshot == nil)
        #expect(again.storage.lastIndex == again.raft.lastIndex, "the storage's own log is untouched")
    }

    /// Issue 8, defect 4: after the WAL's fsync failed, a linearizable read trapped the node (`readIndex` with a
    /// Ready still outstanding). Every request after a storage failure gets `storageFailed`; nothing traps.
    /// Before the fix this test crashed the test process.
    @Test func everyRequestAfterAStorageFailureIsRefusedAndNothingTraps() throws {
        let fileSystem = InMemoryFileSystem()
        let environment = RecordingEnvironment()
        let node = try makeNode(1, voters: [1], fileSystem: fileSystem, seed: 1, environment: environment)
        elect(node)
        #expect(node.raft.currentRole == .leader)
        let first = put("a", "1", on: node)
        #expect(try #require(first()).get().outcome == .stored(created: true))

        fileSystem.injectSyncFailure(errno: EIO)
        let second = put("b", "2", on: node)
        #expect(node.storageFailure != nil)
        #expect(environment.failures.count == 1)
        guard case .failure(.outcomeUnknown) = second() else {
            Issue.record("the write in flight when storage failed: \(String(describing: second()))")
            return
        }

        var read: Result<Void, ClientError>?
        node.linearizableRead { read = $0 }
        node.flush()
        guard case .failure(.storageFailed) = read else {
            Issue.record("a read after the failure: \(String(describing: read))")
            return
        }
        let third = put("c", "3", on: node)
        guard case .failure(.storageFailed) = third() else {
            Issue.record("a write after the failure: \(String(describing: third()))")
            return
        }
        var snapshot: Result<LogIndex, ClientError>?
        node.snapshotNow { snapshot = $0 }
        guard case .failure(.storageFailed) = snapshot else {
            Issue.record("a snapshot after the failure: \(String(describing: snapshot))")
            return
        }
        #expect(throws: ClientError.self) { try node.withRaft { raft in raft.campaign() } }
        // Ticks and peer messages are ignored, not stepped into a core with a Ready outstanding.
        node.tick()
        node.receive(Message(from: NodeID(2), to: NodeID(1), term: Term(9), body: .timeoutNow))
        node.flush()
    }

    /// Issue 8, defect 5: read contexts restarted at 1 with every start, and a follower accepts any ReadIndex
    /// answer of its term. An answer to a read forwarded before a restart then released a new read with the same
    /// number at the old index: a stale read. Contexts now start at a random value per start.
    @Test func aReadIndexAnswerMeantForAnEarlierStartReleasesNoRead() throws {
        let fileSystem = InMemoryFileSystem()
        let leader = NodeID(2)
        let heartbeat = Message(
            from: leader, to: NodeID(1), term: Term(1), body: .heartbeat(Heartbeat(commit: .zero, round: 1)))

        // First start: follow n2 and forward a read to it.
        let firstEnvironment = RecordingEnvironment()
        var node = try makeNode(1, voters: [1, 2, 3], fileSystem: fileSystem, seed: 11, environment: firstEnvironment)
        node.receive(heartbeat)
        node.flush()
        node.linearizableRead { _ in }
        node.flush()
        let oldContext = try #require(forwardedReadContext(in: firstEnvironment.sent))
        node.stop()

        // Restart (a new process: a new seed), follow the same leader, forward a new read.
        let secondEnvironment = RecordingEnvironment()
        node = try makeNode(1, voters: [1, 2, 3], fileSystem: fileSystem, seed: 12, environment: secondEnvironment)
        node.receive(heartbeat)
        node.flush()
        var released = false
        node.linearizableRead { _ in released = true }
        node.flush()
        let newContext = try #require(forwardedReadContext(in: secondEnvironment.sent))
        #expect(newContext != oldContext, "the same read context in two starts")

        // The old answer arrives late.
        node.receive(
            Message(
                from: leader, to: NodeID(1), term: Term(1),
                body: .readIndexResponse(ReadIndexResponse(context: oldContext, index: .zero))))
        node.flush()
        #expect(!released, "an answer to the previous start's read released this start's read")
    }
}
