import RaftCore
import Testing

/// Rules about logical time (§5.2): randomized election timeouts, timers reset by a live leader, heartbeats at
/// a fixed interval, and the heartbeat's capped commit index; plus the leader's reaction to stale answers.
@Suite struct RuleTimingTests {
    /// Ticks until the node leaves the follower role, or nil.
    private func ticksUntilElection(_ node: inout RaftNode, limit: Int = 100) -> Int? {
        for tick in 1...limit {
            node.tick()
            node.drive()
            if node.currentRole != .follower { return tick }
        }
        return nil
    }

    @Test func aFollowerTimesOutWithinTheRandomizedElectionTimeoutAndSeedsSpreadTheTimeouts() throws {
        var seen: Set<Int> = []
        for seed: UInt64 in 0..<20 {
            var node = RaftNode(config: ruleConfig(1) { $0.randomSeed = seed })
            let ticks = try #require(ticksUntilElection(&node))
            #expect((15...30).contains(ticks), "seed \(seed) timed out after \(ticks) ticks")
            seen.insert(ticks)
        }
        #expect(seen.count > 3, "election timeouts are not randomized: \(seen)")
    }

    @Test func heartbeatsFromALiveLeaderKeepAFollowerFromCampaigning() {
        var node = restoredNode(2, term: 1, logTerms: [])
        for tick in 1...300 {
            node.tick()
            if tick % 5 == 0 { node.step(heartbeat(1, 2, term: 1)) }
            node.drive()
        }
        #expect(node.currentRole == .follower)
        #expect(node.currentTerm == Term(1))
        #expect(node.currentLeader == NodeID(1))
    }

    @Test func aLeaderSendsHeartbeatsEveryHeartbeatInterval() {
        var leader = electedLeader { $0.heartbeatIntervalTicks = 4 }
        var heartbeatTicks: [Int] = []
        for tick in 1...20 {
            leader.tick()
            if !leader.drive().heartbeats(to: 2).isEmpty { heartbeatTicks.append(tick) }
        }
        #expect(heartbeatTicks == [4, 8, 12, 16, 20])
    }

    @Test func aHeartbeatCarriesNoCommitIndexBeyondWhatTheFollowerHolds() throws {
        var leader = electedLeader()
        try leader.propose([1])
        leader.drive()
        leader.step(ack(3, 1, term: 1, index: 2))
        leader.drive()
        #expect(leader.commitIndex == LogIndex(2))
        var out = Output()
        for _ in 0..<5 {
            leader.tick()
            out.merge(leader.drive())
        }
        // Node 2 acknowledged only entry 1: a commit of 2 could make it commit a divergent entry 2 of its own.
        #expect(out.heartbeats(to: 2).map(\.commit) == [1])
        #expect(out.heartbeats(to: 3).map(\.commit) == [2])

        // So a heartbeat past a follower's log means the follower lost what it acknowledged: it never commits
        // past its own log, it halts (LostDataTests).
        var follower = restoredNode(2, term: 1, logTerms: [1])
        follower.step(heartbeat(1, 2, term: 1, commit: 5))
        #expect(follower.commitIndex <= LogIndex(1) && follower.halted)
    }

    @Test func aStaleRejectionDoesNotMoveALeaderBackBehindWhatTheFollowerAcknowledged() throws {
        var leader = electedLeader()
        try leader.propose(batch: [[1], [2]])
        leader.drive()
        leader.step(ack(2, 1, term: 1, index: 3))
        leader.drive()
        // A delayed rejection of an old probe at index 1.
        leader.step(
            message(
                2, 1, 1,
                .appendEntriesResponse(AppendEntriesResponse(index: 1, success: false, conflictIndex: 1))))
        let out = leader.drive()
        let progress = leader.status.followers.first { $0.id == 2 }
        #expect(progress?.matchIndex == LogIndex(3))
        #expect(progress?.state == .replicate)
        #expect(out.appends(to: 2).isEmpty, "nothing to resend after a stale rejection")
    }

    @Test func aReportedUnreachableFollowerIsProbedAgainFromItsMatch() throws {
        var leader = electedLeader()
        try leader.propose([1])
        leader.drive()
        #expect(leader.status.followers.first { $0.id == 2 }?.nextIndex == LogIndex(3))
        leader.reportUnreachable(2)
        let progress = leader.status.followers.first { $0.id == 2 }
        #expect(progress?.state == .probe)
        #expect(progress?.nextIndex == LogIndex(2))
    }
}
