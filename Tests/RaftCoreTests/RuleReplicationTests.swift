import RaftCore
import Testing

/// One test per log-replication rule of the Raft paper (§5.3, §5.4.2, Figure 2's AppendEntries receiver
/// rules) and of the implementation limits around it (batching, in-flight window, message size, the
/// persist-before-send split of ``Ready``), driving one ``RaftNode``.
@Suite struct RuleReplicationTests {
    // MARK: - Consistency check (§5.3)

    @Test func aMismatchedPrevLogTermIsRejectedWithTheConflictTermAndItsFirstIndex() {
        var follower = restoredNode(2, term: 3, logTerms: [1, 1, 2, 2])
        follower.step(appendEntries(1, 2, term: 3, prev: (4, 3), entries: entries([3], from: 5)))
        let out = follower.drive()
        #expect(
            out.appendResponses(to: 1)
                == [AppendEntriesResponse(index: 4, success: false, conflictIndex: 3, conflictTerm: 2)])
        #expect(follower.lastIndex == LogIndex(4))
        #expect(follower.entry(at: 4)?.term == Term(2))
    }

    @Test func aPrevLogIndexPastTheEndIsRejectedWithTheFirstMissingIndex() {
        var follower = restoredNode(2, term: 3, logTerms: [1, 1, 2, 2])
        follower.step(appendEntries(1, 2, term: 3, prev: (10, 3)))
        let out = follower.drive()
        #expect(
            out.appendResponses(to: 1)
                == [AppendEntriesResponse(index: 10, success: false, conflictIndex: 5, conflictTerm: nil)])
    }

    @Test func aConflictingSuffixIsTruncatedAndReplacedByTheLeadersEntries() {
        var follower = restoredNode(2, term: 1, commit: 1, logTerms: [1, 1, 1])
        follower.step(appendEntries(1, 2, term: 2, prev: (1, 1), entries: entries([2], from: 2), commit: 1))
        let out = follower.drive()
        #expect(follower.lastIndex == LogIndex(2))
        #expect(follower.entry(at: 2)?.term == Term(2))
        #expect(follower.entry(at: 3) == nil)
        #expect(out.persistedEntries == entries([2], from: 2), "the replacement must be persisted")
        #expect(out.appendResponses(to: 1) == [AppendEntriesResponse(index: 2, success: true)])
    }

    @Test func anAppendEntriesThatMatchesTheLogDoesNotTruncateLaterEntries() {
        // A delayed message carrying a prefix we already hold must not erase what came after it.
        var follower = restoredNode(2, term: 1, logTerms: [1, 1, 1])
        follower.step(appendEntries(1, 2, term: 1, prev: (0, 0), entries: entries([1])))
        let out = follower.drive()
        #expect(follower.lastIndex == LogIndex(3))
        #expect(out.persistedEntries.isEmpty)
        #expect(out.appendResponses(to: 1) == [AppendEntriesResponse(index: 1, success: true)])
    }

    @Test func committedEntriesAreNeverRewritten() {
        var follower = restoredNode(2, term: 1, commit: 2, logTerms: [1, 1, 1])
        follower.step(appendEntries(1, 2, term: 2, prev: (0, 0), entries: entries([1, 2])))
        let out = follower.drive()
        #expect(follower.entry(at: 2)?.term == Term(1), "a committed entry was overwritten")
        #expect(follower.commitIndex == LogIndex(2))
        // The answer points the leader past what is known to match.
        #expect(out.appendResponses(to: 1) == [AppendEntriesResponse(index: 2, success: true)])
    }

    @Test func malformedAppendEntriesAreRejectedWithAnEventAndNoCrash() {
        var follower = restoredNode(2, term: 1, logTerms: [])
        let gap = [Entry(index: 1, term: 1), Entry(index: 3, term: 1)]
        follower.step(appendEntries(1, 2, term: 1, prev: (0, 0), entries: gap))
        var out = follower.drive()
        #expect(follower.lastIndex == .zero)
        #expect(out.all.isEmpty)
        #expect(out.events.contains { if case .messageRejected(from: 1, _) = $0 { true } else { false } })

        // An entry from a term later than the message's own.
        follower.step(appendEntries(1, 2, term: 1, prev: (0, 0), entries: entries([2])))
        out = follower.drive()
        #expect(follower.lastIndex == .zero)
        #expect(out.events.contains { if case .messageRejected = $0 { true } else { false } })

        // Terms that go backwards along the entries.
        follower.step(appendEntries(1, 2, term: 1, prev: (0, 0), entries: entries([1, 0])))
        out = follower.drive()
        #expect(follower.lastIndex == .zero)
        #expect(out.events.contains { if case .messageRejected = $0 { true } else { false } })
    }

    // MARK: - Commitment (§5.3, §5.4.2)

    @Test func aFollowerCommitsUpToTheLeaderCommitButNoFurtherThanTheLastNewEntry() {
        // Entries 2 and 3 may be left over from another leader: they are not known to match yet.
        var follower = restoredNode(2, term: 1, logTerms: [1, 1, 1])
        follower.step(appendEntries(1, 2, term: 1, prev: (1, 1), commit: 3))
        #expect(follower.commitIndex == LogIndex(1))
        follower.step(appendEntries(1, 2, term: 1, prev: (1, 1), entries: entries([1], from: 2), commit: 3))
        #expect(follower.commitIndex == LogIndex(2))
        follower.step(appendEntries(1, 2, term: 1, prev: (3, 1), commit: 3))
        #expect(follower.commitIndex == LogIndex(3))
        let out = follower.drive()
        #expect(out.committed.map(\.index) == [1, 2, 3])
    }

    @Test func aLeaderCommitsAnOlderTermEntryOnlyThroughAnEntryOfItsOwnTerm() {
        // Figure 8: entry 2 (term 2) on a majority is not committed until the leader's term-4 entry is.
        var node = restoredNode(1, term: 3, logTerms: [1, 2])
        node.campaign()
        node.drive()
        node.step(vote(2, 1, term: 4))
        #expect(node.currentRole == .leader)
        let out = node.drive()
        #expect(out.appends(to: 2).first?.prevLogIndex == LogIndex(2))

        node.step(ack(2, 1, term: 4, index: 2))
        node.drive()
        #expect(node.commitIndex == .zero, "an entry of term 2 was committed by counting replicas in term 4")

        node.step(ack(2, 1, term: 4, index: 3))
        #expect(node.commitIndex == LogIndex(3))
        let applied = node.drive()
        #expect(applied.committed.map(\.index) == [1, 2, 3])
    }

    @Test func aLeaderCountsItsOwnEntriesTowardCommitOnlyOnceTheyArePersisted() throws {
        var single = RaftNode(config: ruleConfig(1, voters: [1]))
        single.campaign()
        #expect(single.currentRole == .leader)
        #expect(single.commitIndex == .zero)
        let ready = single.ready()
        #expect(ready.persist.entries.map(\.index) == [1])
        #expect(single.commitIndex == .zero, "committed before its only copy was durable")
        single.advance(ready)
        #expect(single.commitIndex == LogIndex(1))

        // With three nodes: one follower's acknowledgement and the leader's unpersisted copy are not enough.
        var leader = electedLeader()
        try leader.propose([1])
        leader.step(ack(2, 1, term: 1, index: 2))
        #expect(leader.commitIndex == LogIndex(1))
        leader.drive()
        #expect(leader.commitIndex == LogIndex(2))
    }

    // MARK: - Flow control and batching

    @Test func theInflightWindowLimitsPipelinedAppendEntries() throws {
        var leader = electedLeader { $0.maxInflightMessages = 2 }
        var sent: [[Entry]] = []
        for byte: UInt8 in [10, 11, 12] {
            try leader.propose([byte])
            sent.append(contentsOf: leader.drive().appends(to: 2).map(\.entries))
        }
        #expect(sent.map { $0.map(\.index) } == [[2], [3]], "a third message went out with two in flight")

        leader.step(ack(2, 1, term: 1, index: 2))
        let out = leader.drive()
        #expect(out.appends(to: 2).map { $0.entries.map(\.index) } == [[4]])
    }

    /// A follower catching up a long log: the messages in flight to it are bounded in bytes too, so a leader
    /// never has the whole backlog encoded at once (raftd measured 75 MB on one catch-up before this bound).
    @Test func theInflightByteBudgetLimitsACatchUp() throws {
        var leader = electedLeader {
            $0.maxMessageBytes = 100
            $0.maxInflightBytes = 250
        }
        // Each entry counts 20 payload + 24 header bytes: two per message, 88 bytes a message.
        try leader.propose(batch: (0..<20).map { [UInt8](repeating: $0, count: 20) })
        let first = leader.drive().appends(to: 2)
        #expect(first.map { $0.entries.map(\.index.rawValue) } == [[2, 3], [4, 5], [6, 7]])
        #expect(first.flatMap(\.entries).map(\.sizeBytes).reduce(0, +) < 250 + 100)
        // An acknowledgement frees room for one more message, and no more.
        leader.step(ack(2, 1, term: 1, index: 3))
        #expect(leader.drive().appends(to: 2).map { $0.entries.map(\.index.rawValue) } == [[8, 9]])
    }

    @Test func maxMessageBytesSplitsABatchAcrossAppendEntries() throws {
        var leader = electedLeader { $0.maxMessageBytes = 100 }
        // Each entry counts 20 payload + 24 header bytes: two fit in 100 bytes, three do not.
        try leader.propose(batch: (0..<5).map { [UInt8](repeating: $0, count: 20) })
        let appends = leader.drive().appends(to: 2)
        #expect(appends.map { $0.entries.map(\.index.rawValue) } == [[2, 3], [4, 5], [6]])
        #expect(appends.allSatisfy { $0.entries.map(\.sizeBytes).reduce(0, +) <= 100 })

        // An entry larger than the limit still goes, alone.
        try leader.propose([UInt8](repeating: 7, count: 500))
        let big = leader.drive().appends(to: 2)
        #expect(big.map { $0.entries.map(\.index.rawValue) } == [[7]])
    }

    @Test func proposalsMadeBetweenTwoReadiesShareOneAppendEntries() throws {
        var leader = electedLeader()
        for byte: UInt8 in 0..<10 { try leader.propose([byte]) }
        let out = leader.drive()
        for peer: NodeID in [2, 3] {
            let appends = out.appends(to: peer)
            #expect(appends.count == 1)
            #expect(appends.first?.entries.map(\.index.rawValue) == Array(2...11))
        }
    }

    @Test func aLeaderSendsAppendEntriesBeforeItsOwnWriteWhileAFollowerAcknowledgesOnlyAfterItsOwn() throws {
        var leader = electedLeader()
        try leader.propose([42])
        let ready = leader.ready()
        #expect(ready.persist.entries.map(\.data) == [[42]])
        let early = ready.messagesNow.filter { if case .appendEntries = $0.body { true } else { false } }
        #expect(Set(early.map(\.to)) == [2, 3], "replication may overlap the leader's own write (§10.2.1)")
        leader.advance(ready)

        var follower = restoredNode(2, term: 1, logTerms: [1])
        for m in early where m.to == 2 { follower.step(m) }
        let reply = follower.ready()
        #expect(reply.persist.entries.map(\.data) == [[42]])
        #expect(reply.messagesNow.isEmpty, "an acknowledgement went out before the entry was durable")
        let gated = reply.messages(after: reply.persist.markDurable())
        #expect(gated.count == 1)
        if case .appendEntriesResponse(let response)? = gated.first?.body {
            #expect(response == AppendEntriesResponse(index: 2, success: true))
        } else {
            Issue.record("expected an acknowledgement, got \(gated)")
        }
        follower.advance(reply)
    }

    // MARK: - Proposals

    @Test func aFollowerForwardsProposalsToItsLeaderWhichAppendsThem() throws {
        var follower = followerOf(1, 2)
        let outcome = try follower.propose([5])
        #expect(outcome == .forwarded(to: 1))
        let out = follower.drive()
        #expect(out.to(1).map(\.body) == [.propose([[5]])])

        var leader = electedLeader()
        for m in out.to(1) { leader.step(m) }
        #expect(leader.lastIndex == LogIndex(2))
        #expect(leader.entry(at: 2)?.data == [5])
    }

    @Test func aProposalWithNoKnownLeaderThrowsNoLeader() {
        var node = RaftNode(config: ruleConfig(1))
        #expect(throws: RaftError.noLeader) { try node.propose([1]) }
        node.campaign()
        #expect(throws: RaftError.noLeader) { try node.propose([1]) }
    }

    @Test func aLeaderRefusesProposalsBeyondTheUncommittedLimit() throws {
        var leader = electedLeader { $0.maxUncommittedEntries = 3 }
        for byte: UInt8 in 0..<3 { try leader.propose([byte]) }
        #expect(throws: RaftError.tooManyUncommitted(limit: 3)) { try leader.propose([9]) }
        #expect(leader.lastIndex == LogIndex(4))

        // Once they commit, there is room again.
        leader.drive()
        leader.step(ack(2, 1, term: 1, index: 4))
        leader.drive()
        #expect(leader.commitIndex == LogIndex(4))
        try leader.propose([9])
    }
}
