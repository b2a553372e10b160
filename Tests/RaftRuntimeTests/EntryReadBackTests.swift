import RaftCore
import RaftKV
import RaftRuntime
import RaftStorage
import Testing

/// The runtime gives its core the node's WAL as its ``EntryStorage``: entries past the core's cache are read back
/// from disk, and a damaged one stops the node with the file and offset instead of being sent.
@Suite("Node runtime: entries read back from the WAL")
struct EntryReadBackTests {

    /// Node 1 of voters 1, 2, 3 with a 1 KiB entry cache, leading with node 2's acknowledgements while node 3 never
    /// answered; 100 writes of 100 bytes are committed.
    static func leaderWithASilentFollower() throws -> (NodeRuntime<KVStore>, RecordingEnvironment, InMemoryFileSystem) {
        let fileSystem = InMemoryFileSystem()
        let environment = RecordingEnvironment()
        var raft = RaftConfig(id: NodeID(1), voters: [1, 2, 3].map { NodeID($0) }, randomSeed: 5)
        raft.electionTimeoutTicks = 10...20
        raft.heartbeatIntervalTicks = 2
        raft.entryCacheBytes = 1_024
        let storage = try NodeStorage(
            options: StorageOptions(directory: "/data", clusterID: ClusterID(7), nodeID: NodeID(1)),
            fileSystem: fileSystem)
        let node = try NodeRuntime(
            options: RuntimeOptions(raft: raft, requestTimeoutTicks: 1_000, snapshotThresholdEntries: 100_000),
            storage: storage, emptyStateMachine: KVStore(), environment: environment)
        environment.runtime = node
        for _ in 0..<200 where node.raft.currentRole != .leader {
            node.tick()
            node.flush()
            answerNode2(node, environment)
        }
        try #require(node.raft.currentRole == .leader)
        for n in 0..<100 {
            let answer = put("k\(n)", String(repeating: "v", count: 100), on: node)
            answerNode2(node, environment)
            _ = try #require(answer(), "write \(n) was answered").get()
        }
        return (node, environment, fileSystem)
    }

    /// Node 2 grants every (pre-)vote and acknowledges every append and heartbeat sent to it so far (messages to
    /// node 3 stay in `sent`).
    static func answerNode2(_ node: NodeRuntime<KVStore>, _ environment: RecordingEnvironment) {
        while environment.sent.contains(where: { $0.to == NodeID(2) }) {
            let sent = environment.sent.filter { $0.to == NodeID(2) }
            environment.sent.removeAll { $0.to == NodeID(2) }
            for message in sent {
                let body: Message.Body
                switch message.body {
                case .requestVote(let vote):
                    body = .requestVoteResponse(RequestVoteResponse(granted: true, preVote: vote.preVote))
                case .appendEntries(let append):
                    body = .appendEntriesResponse(
                        AppendEntriesResponse(
                            index: append.entries.last?.index ?? append.prevLogIndex, success: true))
                case .heartbeat(let beat): body = .heartbeatResponse(HeartbeatResponse(round: beat.round))
                default: continue
                }
                node.receive(Message(from: NodeID(2), to: NodeID(1), term: message.term, body: body))
            }
            node.flush()
        }
    }

    /// Node 3 answers the newest append sent to it: its log is empty.
    static func node3AnswersItHasNothing(_ node: NodeRuntime<KVStore>, _ environment: RecordingEnvironment) throws {
        let append = try #require(
            environment.sent.last { message in
                if case .appendEntries = message.body, message.to == NodeID(3) { return true }
                return false
            })
        guard case .appendEntries(let a) = append.body else { return }
        environment.sent.removeAll()
        node.receive(
            Message(
                from: NodeID(3), to: NodeID(1), term: append.term,
                body: .appendEntriesResponse(
                    AppendEntriesResponse(index: a.prevLogIndex, success: false, conflictIndex: LogIndex(1)))))
        node.flush()
    }

    @Test("a follower with an empty log gets the early entries, read back from the WAL past the 1 KiB cache")
    func earlyEntriesAreReadBack() throws {
        let (node, environment, _) = try Self.leaderWithASilentFollower()
        #expect(node.raft.cachedFromIndex.rawValue > 90, "the cache starts at \(node.raft.cachedFromIndex)")
        #expect(node.raft.cachedEntryBytes <= 1_024)
        let readBefore = node.storage.entriesReadBack
        try Self.node3AnswersItHasNothing(node, environment)
        let entries = environment.sent.flatMap { message -> [Entry] in
            guard message.to == NodeID(3), case .appendEntries(let a) = message.body else { return [] }
            return a.entries
        }
        #expect(entries.first?.index == LogIndex(1))
        #expect(entries.count > 50, "one message carries the early entries (\(entries.count))")
        #expect(node.storage.entriesReadBack > readBefore)
        let command = try KVCommand(decoding: try #require(entries.first { $0.kind == .command }).data)
        #expect(command.key == Array("k0".utf8))
        #expect(node.storageFailure == nil)
    }

    @Test("a damaged record among them stops the node, naming the segment and offset; nothing is sent from it")
    func aDamagedRecordStopsTheNode() throws {
        let (node, environment, fileSystem) = try Self.leaderWithASilentFollower()
        let segment = try #require(try fileSystem.contentsOfDirectory(at: "/data").first { $0.hasPrefix("wal-") })
        // The key of write 7 (entry 9, long out of the cache): its first occurrence, since k70…k79 come later.
        let bytes = try #require(fileSystem.contents(of: "/data/\(segment)"))
        let key = Array("k7".utf8)
        let offset = try #require((0..<(bytes.count - 1)).first { bytes[$0..<($0 + 2)].elementsEqual(key) })
        fileSystem.flipBit(at: "/data/\(segment)", byteOffset: offset)
        try Self.node3AnswersItHasNothing(node, environment)
        let failure = try #require(node.storageFailure)
        #expect(failure.contains(segment) && failure.contains("byte offset"), "\(failure)")
        #expect(environment.failures.count == 1)
        let sentTo3 = environment.sent.filter { message in
            guard message.to == NodeID(3), case .appendEntries(let a) = message.body else { return false }
            return !a.entries.isEmpty
        }
        #expect(sentTo3.isEmpty)
    }
}
