import RaftAPI
import RaftCore
import RaftKV
import RaftRuntime
import RaftStorage
import Testing

@Suite("Failpoints")
struct FailpointTests {
    @Test("raftctl's list of failpoint names is raftd's")
    func catalogMatches() {
        #expect(FailpointCatalog.names == FailpointName.allCases.map(\.rawValue))
        #expect(FailpointName.allCases.filter(\.isUnsafe) == [.unsafeStaleReads])
    }

    @Test("unsafe-stale-reads answers a read at once, even on a follower that knows no leader")
    func staleReads() throws {
        let environment = RecordingEnvironment()
        let node = try makeNode(
            2, voters: [1, 2, 3], fileSystem: InMemoryFileSystem(), seed: 3, environment: environment)
        var safe: Result<Void, ClientError>?
        node.linearizableRead { safe = $0 }
        node.flush()
        guard case .failure(.unavailable) = safe else {
            Issue.record("a read without a leader should be refused, got \(String(describing: safe))")
            return
        }
        node.setFailpoint(.unsafeStaleReads, .on)
        var broken: Result<Void, ClientError>?
        node.linearizableRead { broken = $0 }
        guard case .success = broken else {
            Issue.record("the unsafe failpoint should answer at once, got \(String(describing: broken))")
            return
        }
        node.setFailpoint(.unsafeStaleReads, nil)
        var again: Result<Void, ClientError>?
        node.linearizableRead { again = $0 }
        guard case .failure = again else {
            Issue.record("disarmed, reads need ReadIndex again")
            return
        }
    }

    @Test("before-follower-ack drop: a follower appends but never acknowledges")
    func followerAckDropped() throws {
        let environment = RecordingEnvironment()
        let node = try makeNode(
            2, voters: [1, 2, 3], fileSystem: InMemoryFileSystem(), seed: 3, environment: environment)
        func append(_ index: UInt64) {
            node.receive(
                Message(
                    from: NodeID(1), to: NodeID(2), term: Term(1),
                    body: .appendEntries(
                        AppendEntries(
                            prevLogIndex: LogIndex(index - 1), prevLogTerm: Term(index == 1 ? 0 : 1),
                            entries: [Entry(index: LogIndex(index), term: Term(1), kind: .noop, data: [])],
                            leaderCommit: .zero))))
            node.flush()
        }
        func acks() -> Int {
            environment.sent.filter { if case .appendEntriesResponse = $0.body { true } else { false } }.count
        }
        append(1)
        #expect(acks() == 1)
        node.setFailpoint(.beforeFollowerAck, .drop)
        append(2)
        #expect(acks() == 1, "the acknowledgement was dropped")
        #expect(node.raft.lastIndex == LogIndex(2), "the entry was appended all the same")
    }

    @Test("after-apply-before-reply drop: the write is applied, its client hears nothing until the timeout")
    func replyDropped() throws {
        let environment = RecordingEnvironment()
        let node = try makeNode(1, voters: [1], fileSystem: InMemoryFileSystem(), seed: 1, environment: environment)
        elect(node)
        node.setFailpoint(.afterApplyBeforeReply, .drop)
        let outcome = put("a", "1", on: node)
        #expect(outcome() == nil, "no answer yet")
        #expect(node.stateMachine.value(for: Array("a".utf8)) == Array("1".utf8), "applied")
        for _ in 0..<110 { node.tick() }
        guard case .failure(.timeout)? = outcome() else {
            Issue.record("expected a timeout, got \(String(describing: outcome()))")
            return
        }
    }

    @Test("crash and pause are handed to the environment at the leader's sync; nothing happens when disarmed")
    func crashAndPauseReachTheEnvironment() throws {
        let environment = RecordingEnvironment()
        let node = try makeNode(1, voters: [1], fileSystem: InMemoryFileSystem(), seed: 1, environment: environment)
        elect(node)
        _ = put("a", "1", on: node)
        #expect(environment.failpointsReached.isEmpty)
        node.setFailpoint(.beforeLeaderSync, .pause(milliseconds: 5))
        node.setFailpoint(.afterLeaderSync, .crash)
        _ = put("b", "2", on: node)
        // Each sync of the leader's log passes both points, in order (a real crash would end it at the first).
        let reached = environment.failpointsReached
        #expect(!reached.isEmpty && reached.count % 2 == 0)
        #expect(Array(reached.map(\.0).prefix(2)) == [.beforeLeaderSync, .afterLeaderSync])
        #expect(Array(reached.map(\.1).prefix(2)) == [.pause(milliseconds: 5), .crash])
        node.setFailpoint(.beforeLeaderSync, nil)
        node.setFailpoint(.afterLeaderSync, nil)
        let before = environment.failpointsReached.count
        _ = put("c", "3", on: node)
        #expect(environment.failpointsReached.count == before, "disarmed")
    }
}
