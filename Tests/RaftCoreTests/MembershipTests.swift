import RaftCore
import RaftTestKit
import Testing

/// Membership changes: one server at a time, learners first (dissertation §4.1–4.2), checked on an in-memory
/// cluster whose every step is watched by the safety checker.
@Suite struct MembershipTests {
    /// Nodes 1–3 are the voters; 4 and 5 exist but start as joining nodes with no membership of their own.
    func clusterWithSpares(snapshotEveryEntries: Int? = nil) -> Cluster {
        let cluster = Cluster(size: 5, seed: 7, snapshotEveryEntries: snapshotEveryEntries) { config in
            config.voters = [1, 2, 3]
            config.joining = config.id.rawValue > 3
        }
        return cluster
    }

    func elect(_ cluster: Cluster) -> NodeID {
        cluster.campaign(1)
        cluster.stabilize()
        #expect(cluster.leader == NodeID(1))
        return NodeID(1)
    }

    func membership(_ cluster: Cluster, _ id: NodeID) -> Membership? { cluster[id].raft.membership }

    func write(_ cluster: Cluster, _ key: String, on leader: NodeID) throws {
        try cluster.put(key, "v", on: leader)
        cluster.stabilize()
    }

    @Test func aLearnerCatchesUpWithoutVotingAndIsPromotedOnlyOnceCaughtUp() throws {
        let cluster = clusterWithSpares()
        let leader = elect(cluster)
        for n in 0..<5 { try write(cluster, "k\(n)", on: leader) }
        // A joining node never campaigns, however long it hears nothing.
        cluster.advance(ticks: 200)
        #expect(cluster[4].raft.currentRole == .follower && cluster[4].raft.currentTerm < Term(2))

        cluster.isolate(4)
        try cluster.changeMembership(.addLearner(4), on: leader)
        cluster.stabilize()
        #expect(membership(cluster, 2) == Membership(voters: [1, 2, 3], learners: [4]))
        #expect(membership(cluster, 4) == nil, "cut off, 4 has not heard of it")
        #expect(throws: RaftError.self) { try cluster.changeMembership(.promote(4), on: leader) }

        cluster.heal()
        cluster.advance(ticks: 20)
        cluster.stabilize()
        #expect(membership(cluster, 4) == Membership(voters: [1, 2, 3], learners: [4]))
        #expect(cluster.value(of: "k4", on: 4) == "v", "the learner received the log")
        // A learner never counts: with two voters cut off, the leader cannot commit even though 4 acknowledges.
        cluster.partition([[1, 4], [2, 3, 5]])
        let before = cluster[leader].raft.commitIndex
        try cluster.put("lonely", "v", on: leader)
        cluster.stabilize()
        #expect(cluster[leader].raft.commitIndex == before)
        #expect(cluster[4].raft.currentRole == .follower, "a learner never campaigns")

        cluster.heal()
        _ = cluster.advance(
            until: { cluster.leader != nil && cluster.value(of: "lonely", on: 4) == "v" }, maxTicks: 500)
        let current = try #require(cluster.leader)
        try cluster.changeMembership(.promote(4), on: current)
        cluster.stabilize()
        for id in [1, 2, 3, 4] as [NodeID] {
            #expect(membership(cluster, id) == Membership(voters: [1, 2, 3, 4]), "\(id)")
        }
        // Four voters need three: with 2 and 3 down, 1 and 4 cannot commit; with only 3 down they can.
        cluster.crash(3)
        try write(cluster, "after-promotion", on: current == 3 ? 1 : current)
        _ = cluster.advance(until: { cluster.leader.map { cluster.value(of: "after-promotion", on: $0) } == "v" })
        #expect(cluster.violations.isEmpty, "\(cluster.violations)")
    }

    @Test func oneChangeAtATimeAndOnlyAfterTheLeaderCommittedInItsTerm() throws {
        let cluster = clusterWithSpares()
        cluster.campaign(1)
        // Only votes travel: 1 wins, but its first entry (the no-op of its term) is not committed.
        for _ in 0..<4 {
            cluster.deliver {
                switch $0.body {
                case .requestVote, .requestVoteResponse: true
                default: false
                }
            }
            cluster.drainAll()
        }
        #expect(cluster[1].raft.currentRole == .leader)
        #expect(throws: RaftError.leaderNotReady) { try cluster.changeMembership(.addLearner(4), on: 1) }
        cluster.stabilize()
        #expect(throws: RaftError.unknownNode(9)) { try cluster.changeMembership(.remove(9), on: 1) }
        #expect(throws: RaftError.invalidMembershipChange("n2 is already a voter")) {
            try cluster.changeMembership(.addLearner(2), on: 1)
        }
        #expect(throws: RaftError.self) { try cluster.changeMembership(.promote(5), on: 1) }
        cluster.isolate(1)
        let pending = try #require(try cluster.changeMembership(.addLearner(4), on: 1))
        #expect(throws: RaftError.membershipChangePending(at: pending)) {
            try cluster.changeMembership(.addLearner(5), on: 1)
        }
    }

    @Test func removingAFollowerShrinksTheQuorumAndTheRemovedNodeStopsCampaigning() throws {
        let cluster = clusterWithSpares()
        let leader = elect(cluster)
        try cluster.changeMembership(.remove(3), on: leader)
        cluster.stabilize()
        #expect(membership(cluster, 2) == Membership(voters: [1, 2]))
        #expect(
            cluster.eventLog.contains { if $0.node == 3, case .removedFromCluster = $0.event { true } else { false } },
            "3 learns from its log that it was removed")
        let term = cluster[leader].raft.currentTerm
        cluster.advance(ticks: 300)
        #expect(cluster[3].raft.currentRole == .follower && cluster.leader == leader)
        #expect(cluster[leader].raft.currentTerm == term)
        try write(cluster, "two-voters", on: leader)
        #expect(cluster.value(of: "two-voters", on: 2) == "v")
        #expect(cluster.violations.isEmpty, "\(cluster.violations)")
    }

    @Test func aRemovedLeaderStepsDownOnceTheChangeCommitsAndHandsOver() throws {
        let cluster = clusterWithSpares()
        let leader = elect(cluster)
        try write(cluster, "before", on: leader)
        let term = cluster[leader].raft.currentTerm
        try cluster.changeMembership(.remove(leader), on: leader)
        cluster.stabilize()
        #expect(cluster.eventLog.contains { $0.node == leader && $0.event == .removedFromCluster(term: term) })
        #expect(cluster[leader].raft.currentRole == .follower)
        // TimeoutNow went to the most caught-up voter: a successor leads one term later, without waiting.
        let successor = try #require(cluster.leader)
        #expect([2, 3].contains(successor) && cluster[successor].raft.currentTerm == term.next)
        try write(cluster, "after", on: successor)
        cluster.advance(ticks: 300)
        #expect(cluster[leader].raft.currentRole == .follower, "the old leader never campaigns again")
        #expect(cluster.leader == successor)
        #expect(cluster.violations.isEmpty, "\(cluster.violations)")
    }

    /// Found by the simulation (seed 18): of two voters, the leader removes itself, is cut off before the change
    /// commits, and steps down (CheckQuorum). The other voter lacks the change and needs the old leader's vote,
    /// which it refuses while its own log is longer. The old leader must be able to take over under the new
    /// membership, finish the change and hand over; without that the cluster has no leader forever.
    @Test func aLeaderCutOffAfterRemovingItselfStillFinishesTheChange() throws {
        let cluster = clusterWithSpares()
        let leader = elect(cluster)
        try cluster.changeMembership(.remove(3), on: leader)
        cluster.stabilize()
        cluster.isolate(leader)
        try cluster.changeMembership(.remove(leader), on: leader)
        _ = cluster.advance(until: { cluster[leader].raft.currentRole != .leader }, maxTicks: 200)
        #expect(cluster[leader].raft.currentRole != .leader, "CheckQuorum deposed the cut-off leader")
        cluster.heal()
        let finished = cluster.advance(
            until: { cluster.leader == NodeID(2) && membership(cluster, 2) == Membership(voters: [2]) }, maxTicks: 1_000
        )
        #expect(finished != nil, "2 leads alone once the change is done")
        #expect(cluster.violations.isEmpty, "\(cluster.violations)")
    }

    @Test func aChangeThatWouldLoseQuorumIsRefusedUnlessForced() throws {
        let cluster = clusterWithSpares()
        let leader = elect(cluster)
        cluster.crash(3)
        cluster.advance(ticks: 40)
        // Voters 1 and 3 would remain, and 3 has not answered for an election timeout.
        #expect {
            try cluster.changeMembership(.remove(2), on: leader)
        } throws: { error in
            guard case RaftError.wouldLoseQuorum(let reason) = error else { return false }
            return reason.contains("not heard from: n3")
        }
        // Removing the dead one is fine: 1 and 2 are both live.
        try cluster.changeMembership(.remove(3), on: leader)
        cluster.stabilize()
        #expect(membership(cluster, 2) == Membership(voters: [1, 2]))
        #expect(cluster.violations.isEmpty, "\(cluster.violations)")
    }

    @Test func forceOverridesTheQuorumCheck() throws {
        let cluster = clusterWithSpares()
        let leader = elect(cluster)
        cluster.crash(3)
        cluster.advance(ticks: 40)
        #expect(throws: RaftError.self) { try cluster.changeMembership(.remove(2), on: leader) }
        try cluster.changeMembership(.remove(2), on: leader, force: true)
        #expect(membership(cluster, leader) == Membership(voters: [1, 3]), "in effect, though it cannot commit now")
        #expect(cluster.violations.isEmpty, "\(cluster.violations)")
    }

    @Test func aRemovedNodeThatMissedItsRemovalCannotDisruptTheCluster() throws {
        let cluster = clusterWithSpares()
        let leader = elect(cluster)
        cluster.isolate(3)
        try cluster.changeMembership(.remove(3), on: leader)
        cluster.stabilize()
        #expect(membership(cluster, 3) == Membership(voters: [1, 2, 3]), "3 never got the change")
        let term = cluster[leader].raft.currentTerm
        cluster.advance(ticks: 100)
        cluster.heal()
        cluster.advance(ticks: 400)
        #expect(cluster.leader == leader, "no election was forced on the members")
        #expect(cluster[1].raft.currentTerm == term && cluster[2].raft.currentTerm == term)
        #expect(cluster.violations.isEmpty, "\(cluster.violations)")
    }

    @Test func anUncommittedChangeIsUndoneWhenItsEntryIsOverwritten() throws {
        let cluster = clusterWithSpares()
        let leader = elect(cluster)
        cluster.isolate(leader)
        try cluster.changeMembership(.addLearner(4), on: leader)
        #expect(membership(cluster, leader) == Membership(voters: [1, 2, 3], learners: [4]), "in effect on append")
        _ = cluster.advance(until: { cluster.leaders.contains { $0 != leader } }, maxTicks: 500)
        let other = try #require(cluster.leaders.first { $0 != leader })
        try write(cluster, "other-side", on: other)
        cluster.heal()
        _ = cluster.advance(until: { cluster.value(of: "other-side", on: leader) == "v" }, maxTicks: 500)
        #expect(membership(cluster, leader) == Membership(voters: [1, 2, 3]), "the entry was truncated")
        #expect(cluster.violations.isEmpty, "\(cluster.violations)")
    }

    @Test func aRestartAndASnapshotKeepTheMembership() throws {
        let cluster = clusterWithSpares(snapshotEveryEntries: 5)
        let leader = elect(cluster)
        try cluster.changeMembership(.addLearner(4), on: leader)
        cluster.stabilize()
        for n in 0..<12 { try write(cluster, "k\(n)", on: leader) }
        #expect(cluster[leader].raft.status.snapshotIndex > .zero)
        // A restart rebuilds the membership from what was persisted (here: a snapshot past the change).
        cluster.crash(2)
        cluster.restart(2)
        #expect(membership(cluster, 2) == Membership(voters: [1, 2, 3], learners: [4]))
        // 5 joins after the leader compacted past the change: the snapshot brings the membership.
        try cluster.changeMembership(.addLearner(5), on: leader)
        _ = cluster.advance(until: { cluster.value(of: "k11", on: 5) == "v" }, maxTicks: 500)
        #expect(
            cluster.eventLog.contains { if $0.node == 5, case .snapshotInstalled = $0.event { true } else { false } })
        #expect(membership(cluster, 5) == Membership(voters: [1, 2, 3], learners: [4, 5]))
        #expect(cluster.violations.isEmpty, "\(cluster.violations)")
    }
}

/// A member that lost what it acknowledged (its data directory wiped or truncated) must not carry on as a silent
/// follower that can vote twice: the leader's heartbeat, capped at what the member acknowledged, gives it away.
@Suite struct LostDataTests {
    @Test func aFollowerToldItHoldsMoreThanItsLogHaltsAndNeverVotesOrAcknowledges() {
        var node = RaftNode(config: ruleConfig(3))
        node.step(heartbeat(1, 3, term: 4, commit: 5))
        var out = node.drive()
        #expect(node.halted)
        #expect(out.events.contains(.lostAcknowledgedEntries(leader: 1, acknowledged: 5, lastIndex: .zero)))
        #expect(out.all.isEmpty, "no answer to the heartbeat")
        node.step(voteRequest(2, 3, term: 5, last: (9, 4)))
        node.step(heartbeat(1, 3, term: 4, commit: 0))
        for _ in 0..<100 { node.tick() }
        out = node.drive()
        #expect(out.all.isEmpty, "no vote, no acknowledgement, no campaign")
        #expect(node.currentTerm == Term(0) || node.currentTerm == Term(4))
    }

    @Test func aFollowerThatIsMerelyBehindIsNotMistakenForOne() {
        var node = RaftNode(config: ruleConfig(3))
        node.step(heartbeat(1, 3, term: 4, commit: 0))
        let out = node.drive()
        #expect(!node.halted)
        #expect(out.to(1).count == 1, "it answers the heartbeat")
    }
}

@Suite struct JoiningNodeTests {
    @Test func aJoiningNodeNeitherCampaignsNorVotesUntilItHasAMembership() {
        var config = ruleConfig(4)
        config.joining = true
        var node = RaftNode(config: config)
        for _ in 0..<200 { node.tick() }
        #expect(node.drive().voteRequests().isEmpty, "never campaigns")
        node.step(voteRequest(1, 4, term: 3, last: (7, 2)))
        node.step(voteRequest(2, 4, term: 3, last: (7, 2), preVote: true))
        let out = node.drive()
        #expect(out.voteResponses(to: 1).map(\.response.granted) == [false])
        #expect(out.voteResponses(to: 2).map(\.response.granted) == [false])
        #expect(node.status.vote == nil)
    }

    @Test func aLeaderThatRestartsInTheMiddleOfAChangeFollowsTheChangeFromItsLog() throws {
        let cluster = Cluster(size: 4, seed: 3, durableStorage: true) { config in
            config.voters = [1, 2, 3]
            config.joining = config.id.rawValue == 4
        }
        cluster.campaign(1)
        cluster.stabilize()
        cluster.isolate(1)
        try cluster.changeMembership(.addLearner(4), on: 1)
        cluster.crash(1)
        cluster.restart(1)
        #expect(cluster[1].raft.membership == Membership(voters: [1, 2, 3], learners: [4]), "recovered from the log")
        cluster.heal()
        _ = cluster.advance(until: { cluster.leader != nil }, maxTicks: 500)
        cluster.stabilize()
        // Whoever leads now, every node agrees on one membership once the logs converge.
        let memberships = Set([1, 2, 3].map { cluster[NodeID($0)].raft.membership })
        #expect(memberships.count == 1, "\(memberships)")
        #expect(cluster.violations.isEmpty, "\(cluster.violations)")
    }
}
