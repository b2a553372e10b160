import RaftCore
import Testing

/// One test per rule of the leader's extra duties in the dissertation: linearizable reads through ReadIndex
/// (§6.4), leadership transfer (§3.10) and log compaction with InstallSnapshot (§5), driving ``RaftNode``s.
@Suite struct RuleLeaderFeatureTests {
    // MARK: - ReadIndex (§6.4)

    @Test func aReadIsReleasedOnlyAfterAQuorumEchoesAHeartbeatRoundStartedAfterIt() throws {
        var leader = electedLeader()
        // A heartbeat round that every follower answers, before the read exists.
        for _ in 0..<5 { leader.tick() }
        let before = try #require(leader.drive().heartbeats(to: 2).last?.round)
        for peer: NodeID in [2, 3] {
            leader.step(message(peer, 1, 1, .heartbeatResponse(HeartbeatResponse(round: before))))
        }
        leader.drive()

        try leader.readIndex(ReadContext(7))
        let out = leader.drive()
        #expect(out.readStates.isEmpty, "released on the strength of acknowledgements older than the read")
        let round = try #require(out.heartbeats(to: 2).last?.round)
        #expect(round > before)

        leader.step(message(2, 1, 1, .heartbeatResponse(HeartbeatResponse(round: before))))
        #expect(leader.drive().readStates.isEmpty)

        leader.step(message(3, 1, 1, .heartbeatResponse(HeartbeatResponse(round: round))))
        let released = leader.drive()
        #expect(released.readStates == [ReadState(context: ReadContext(7), index: 1)])
    }

    @Test func aNewLeaderReleasesReadsOnlyOnceAnEntryOfItsTermIsCommitted() throws {
        var leader = RaftNode(config: ruleConfig(1))
        leader.campaign()
        leader.drive()
        leader.step(vote(2, 1, term: 1))
        leader.drive()
        #expect(leader.currentRole == .leader)
        #expect(leader.commitIndex == .zero)

        try leader.readIndex(ReadContext(1))
        let out = leader.drive()
        let round = try #require(out.heartbeats(to: 2).last?.round)
        for peer: NodeID in [2, 3] {
            leader.step(message(peer, 1, 1, .heartbeatResponse(HeartbeatResponse(round: round))))
        }
        #expect(leader.drive().readStates.isEmpty, "it does not yet know which entries are committed")

        leader.step(ack(2, 1, term: 1, index: 1))
        let released = leader.drive()
        #expect(released.readStates == [ReadState(context: ReadContext(1), index: 1)])
    }

    @Test func aFollowerReadIsForwardedAndAnsweredWithTheLeadersReadIndex() throws {
        var follower = restoredNode(2, term: 1, logTerms: [1])
        follower.step(heartbeat(1, 2, term: 1))
        follower.drive()
        try follower.readIndex(ReadContext(3))
        let request = follower.drive().to(1)
        #expect(request.map(\.body) == [.readIndex(ReadContext(3))])

        var leader = electedLeader()
        for m in request { leader.step(m) }
        let out = leader.drive()
        let round = try #require(out.heartbeats(to: 3).last?.round)
        leader.step(message(3, 1, 1, .heartbeatResponse(HeartbeatResponse(round: round))))
        let answer = leader.drive().to(2)
        #expect(answer.map(\.body) == [.readIndexResponse(ReadIndexResponse(context: ReadContext(3), index: 1))])

        for m in answer { follower.step(m) }
        #expect(follower.drive().readStates == [ReadState(context: ReadContext(3), index: 1)])
    }

    @Test func aLeaderThatStepsDownFailsItsPendingReads() throws {
        var leader = electedLeader()
        try leader.readIndex(ReadContext(9))
        leader.drive()
        leader.step(heartbeat(2, 1, term: 2))
        #expect(leader.drive().failedReads == [ReadContext(9)])
    }

    // MARK: - Leadership transfer (§3.10)

    @Test func transferSendsTimeoutNowOnlyOnceTheTargetIsCaughtUpAndRefusesProposalsMeanwhile() throws {
        var leader = electedLeader()
        try leader.propose([1])
        leader.drive()
        leader.step(ack(3, 1, term: 1, index: 2))
        leader.drive()

        try leader.transferLeadership(to: 2)
        var out = leader.drive()
        #expect(out.events.contains(.transferStarted(to: 2, term: 1)))
        #expect(!out.all.contains { $0.body == .timeoutNow }, "the target lacks entry 2")
        #expect(leader.status.leadTransferee == NodeID(2))
        #expect(throws: RaftError.transferInProgress(to: 2)) { try leader.propose([2]) }

        leader.step(ack(2, 1, term: 1, index: 2))
        out = leader.drive()
        #expect(out.to(2).contains { $0.body == .timeoutNow })
    }

    @Test func aTransferThatDoesNotCompleteWithinAnElectionTimeoutIsAborted() throws {
        var leader = electedLeader()
        try leader.transferLeadership(to: 3)
        var out = leader.drive()
        #expect(out.to(3).contains { $0.body == .timeoutNow }, "an up-to-date target is told at once")
        for _ in 0..<15 {
            leader.tick()
            out.merge(leader.drive())
        }
        #expect(out.events.contains(.transferAborted(to: 3, term: 1)))
        #expect(leader.currentRole == .leader)
        #expect(leader.status.leadTransferee == nil)
        try leader.propose([1])
    }

    @Test func timeoutNowMakesTheTargetCampaignAtOnceWithAForcedElection() {
        var target = followerOf(1, 2)
        target.step(message(1, 2, 1, .timeoutNow))
        #expect(target.currentRole == .candidate)
        #expect(target.currentTerm == Term(2))
        let out = target.drive()
        #expect(out.events.contains(.electionStarted(term: 2, preVote: false, reason: .transfer)))
        #expect(out.voteRequests().allSatisfy { $0.request.force })
    }

    // MARK: - Snapshots

    @Test func compactionDropsThePrefixAndALaggingFollowerIsSentTheSnapshot() throws {
        // Node 3 never answers: it lags behind everything.
        var leader = RaftNode(config: ruleConfig(1))
        leader.campaign()
        leader.drive()
        leader.step(vote(2, 1, term: 1))
        leader.drive()
        try leader.propose(batch: [[1], [2]])
        leader.drive()
        leader.step(ack(2, 1, term: 1, index: 3))
        #expect(leader.drive().committed.map(\.index) == [1, 2, 3])

        let snapshot = Snapshot(
            metadata: SnapshotMetadata(index: 3, term: 1, voters: [1, 2, 3]), data: Array("state@3".utf8))
        leader.compact(snapshot)
        let compacted = leader.drive()
        #expect(compacted.events.contains(.logCompacted(through: 3)))
        #expect(leader.status.snapshotIndex == LogIndex(3))
        #expect(leader.status.firstIndex == LogIndex(4))
        #expect(leader.entry(at: 2) == nil)

        leader.step(message(3, 1, 1, .heartbeatResponse(HeartbeatResponse(round: 0))))
        let out = leader.drive()
        #expect(out.to(3).map(\.body) == [.installSnapshot(snapshot)])
        #expect(leader.status.followers.first { $0.id == 3 }?.state == .snapshot(3))

        // The follower installs it and answers; the leader resumes normal replication from there.
        var follower = RaftNode(config: ruleConfig(3))
        for m in out.to(3) { follower.step(m) }
        let installed = follower.drive()
        #expect(installed.snapshots == [snapshot])
        #expect(installed.events.contains(.snapshotInstalled(index: 3, term: 1)))
        #expect(follower.commitIndex == LogIndex(3))
        #expect(follower.status.snapshotIndex == LogIndex(3))
        #expect(follower.lastIndex == LogIndex(3))
        let answer = installed.to(1)
        #expect(installed.messagesNow.isEmpty, "the acknowledgement must wait for the snapshot to be durable")
        #expect(installed.appendResponses(to: 1) == [AppendEntriesResponse(index: 3, success: true)])

        for m in answer { leader.step(m) }
        leader.drive()
        let progress = leader.status.followers.first { $0.id == 3 }
        #expect(progress?.matchIndex == LogIndex(3))
        #expect(progress?.state != .snapshot(3))
    }

    @Test func compactionBeyondTheAppliedIndexIsIgnored() {
        var leader = electedLeader()
        leader.compact(Snapshot(metadata: SnapshotMetadata(index: 5, term: 1, voters: [1, 2, 3]), data: []))
        #expect(leader.status.snapshotIndex == .zero)
        #expect(leader.entry(at: 1) != nil)
    }
}
