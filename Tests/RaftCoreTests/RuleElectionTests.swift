import RaftCore
import Testing

/// One test per election rule of the Raft paper (§5.1, §5.2, §5.4.1) and of the dissertation's extensions
/// (PreVote §9.6, leader lease and CheckQuorum §6.2/§4.2.3, forced elections §3.10), driving one ``RaftNode``.
@Suite struct RuleElectionTests {
    // MARK: - Terms (§5.1)

    @Test func aMessageWithAHigherTermTurnsAFollowerIntoAFollowerOfThatTerm() {
        var node = RaftNode(config: ruleConfig(1))
        node.step(heartbeat(2, 1, term: 3))
        #expect(node.status.role == .follower)
        #expect(node.currentTerm == Term(3))
        #expect(node.currentLeader == NodeID(2))
    }

    @Test func aMessageWithAHigherTermTurnsACandidateIntoAFollower() {
        var node = RaftNode(config: ruleConfig(1))
        node.campaign()
        node.drive()
        #expect(node.currentRole == .candidate)
        node.step(heartbeat(2, 1, term: 5))
        #expect(node.currentRole == .follower)
        #expect(node.currentTerm == Term(5))
        #expect(node.currentLeader == NodeID(2))
        #expect(node.status.vote == nil, "a vote of an older term must not carry over")
    }

    @Test func aMessageWithAHigherTermTurnsAPreCandidateIntoAFollower() {
        var node = RaftNode(config: ruleConfig(1))
        for _ in 0..<30 where node.currentRole == .follower {
            node.tick()
            node.drive()
        }
        #expect(node.currentRole == .preCandidate)
        node.step(appendEntries(3, 1, term: Term(4), prev: (0, 0)))
        #expect(node.currentRole == .follower)
        #expect(node.currentTerm == Term(4))
        #expect(node.currentLeader == NodeID(3))
    }

    @Test func aMessageWithAHigherTermTurnsALeaderIntoAFollower() {
        var leader = electedLeader()
        leader.step(heartbeat(2, 1, term: 2))
        #expect(leader.currentRole == .follower)
        #expect(leader.currentTerm == Term(2))
        #expect(leader.currentLeader == NodeID(2))

        // A response carrying a newer term deposes a leader too, without naming a new one.
        var other = electedLeader()
        other.step(
            message(3, 1, 7, .appendEntriesResponse(AppendEntriesResponse(index: .zero, success: false))))
        #expect(other.currentRole == .follower)
        #expect(other.currentTerm == Term(7))
        #expect(other.currentLeader == nil)
    }

    @Test func aStaleLeadersAppendEntriesIsRefusedWithTheNewerTermWhichDeposesIt() {
        var follower = restoredNode(2, term: 3, logTerms: [])
        follower.step(appendEntries(1, 2, term: 1, prev: (0, 0), entries: entries([1])))
        let out = follower.drive()
        #expect(follower.lastIndex == .zero, "entries of a stale leader were appended")
        #expect(follower.currentTerm == Term(3))
        let reply = out.to(1)
        #expect(reply.count == 1)
        #expect(reply.first?.term == Term(3))
        #expect(out.appendResponses(to: 1).first?.success == false)

        var staleLeader = electedLeader()
        for response in reply { staleLeader.step(response) }
        #expect(staleLeader.currentRole == .follower)
        #expect(staleLeader.currentTerm == Term(3))
    }

    @Test func aStaleTermVoteRequestIsIgnoredAndAStalePreVoteIsRefused() {
        var node = restoredNode(1, term: 3, logTerms: [])
        node.step(voteRequest(2, 1, term: 2))
        var out = node.drive()
        #expect(out.all.isEmpty)
        #expect(node.status.vote == nil)
        #expect(node.currentTerm == Term(3))

        node.step(voteRequest(2, 1, term: 2, preVote: true))
        out = node.drive()
        #expect(out.voteResponses(to: 2).map(\.response) == [RequestVoteResponse(granted: false, preVote: true)])
        #expect(node.currentTerm == Term(3))
    }

    // MARK: - Voting (§5.2, §5.4.1)

    @Test func aNodeGrantsAtMostOneVotePerTermAndPersistsItBeforeAnswering() throws {
        var node = RaftNode(config: ruleConfig(1))
        node.step(voteRequest(2, 1, term: 1))
        let ready = node.ready()
        // The vote is in the hard state to persist, and the answer waits for the persistence receipt.
        #expect(ready.persist.hardState == HardState(term: 1, vote: 2, commit: 0))
        #expect(!ready.messagesNow.contains { if case .requestVoteResponse = $0.body { true } else { false } })
        let gated = ready.messages(after: ready.persist.markDurable())
        #expect(gated == [vote(1, 2, term: 1, granted: true)])
        node.advance(ready)

        node.step(voteRequest(3, 1, term: 1))
        var out = node.drive()
        #expect(out.voteResponses(to: 3).map(\.response.granted) == [false])
        #expect(node.status.vote == NodeID(2))

        // A retransmitted request from the candidate we voted for is granted again.
        node.step(voteRequest(2, 1, term: 1))
        out = node.drive()
        #expect(out.voteResponses(to: 2).map(\.response.granted) == [true])
    }

    struct UpToDateCase: Sendable, CustomTestStringConvertible {
        var lastIndex: UInt64
        var lastTerm: UInt64
        var granted: Bool
        var testDescription: String { "candidate last \(lastIndex)@\(lastTerm) granted=\(granted)" }
    }

    /// The voter's log ends 2@2.
    @Test(arguments: [
        UpToDateCase(lastIndex: 5, lastTerm: 1, granted: false),  // longer, but an older last term
        UpToDateCase(lastIndex: 1, lastTerm: 2, granted: false),  // same last term, shorter
        UpToDateCase(lastIndex: 2, lastTerm: 2, granted: true),  // identical
        UpToDateCase(lastIndex: 3, lastTerm: 2, granted: true),  // same last term, longer
        UpToDateCase(lastIndex: 1, lastTerm: 3, granted: true),  // shorter, but a newer last term
    ])
    func aVoteGoesOnlyToACandidateWhoseLogIsAtLeastAsUpToDate(_ c: UpToDateCase) {
        var voter = restoredNode(1, term: 2, logTerms: [1, 2])
        voter.step(voteRequest(2, 1, term: 3, last: (c.lastIndex, c.lastTerm)))
        let out = voter.drive()
        #expect(out.voteResponses(to: 2).map(\.response.granted) == [c.granted])
        #expect(voter.status.vote == (c.granted ? NodeID(2) : nil))
        #expect(voter.currentTerm == Term(3), "the newer term is adopted either way")
    }

    @Test func aCandidateWithAMajorityBecomesLeaderAndAppendsANoopOfItsTerm() {
        var node = RaftNode(config: ruleConfig(1, voters: [1, 2, 3, 4, 5]))
        node.campaign()
        let out = node.drive()
        #expect(node.currentRole == .candidate)
        #expect(out.hardStates.last == HardState(term: 1, vote: 1, commit: 0))
        #expect(out.voteRequests().count == 4)
        #expect(out.messagesNow.isEmpty, "vote requests must wait until the self-vote is durable")

        node.step(vote(2, 1, term: 1))
        #expect(node.currentRole == .candidate, "two of five is not a majority")
        node.step(vote(3, 1, term: 1))
        #expect(node.currentRole == .leader)
        let noop = node.entry(at: 1)
        #expect(noop?.kind == .noop)
        #expect(noop?.term == Term(1))
        let sent = node.drive()
        #expect(sent.events.contains(.electionWon(term: 1)))
        for peer: NodeID in [2, 3, 4, 5] {
            #expect(sent.appends(to: peer).first?.entries == [Entry(index: 1, term: 1, kind: .noop)])
        }
    }

    @Test func aCandidateRefusedByAMajorityReturnsToFollowerInTheSameTerm() {
        var node = RaftNode(config: ruleConfig(1))
        node.campaign()
        node.drive()
        node.step(vote(2, 1, term: 1, granted: false))
        node.step(vote(3, 1, term: 1, granted: false))
        #expect(node.currentRole == .follower)
        #expect(node.currentTerm == Term(1))
    }

    // MARK: - PreVote and leader lease (§9.6, §4.2.3)

    @Test func preVoteAsksWithoutChangingTermOrVote() {
        var node = RaftNode(config: ruleConfig(1))
        var out = Output()
        for _ in 0..<30 where node.currentRole == .follower {
            node.tick()
            out.merge(node.drive())
        }
        #expect(node.currentRole == .preCandidate)
        #expect(node.currentTerm == .zero)
        #expect(node.status.vote == nil)
        #expect(out.hardStates.isEmpty, "a pre-vote must not touch the persistent state")
        let requests = out.voteRequests()
        #expect(requests.count == 2)
        #expect(requests.allSatisfy { $0.request.preVote && $0.term == Term(1) })
        #expect(out.gated.isEmpty, "pre-vote requests announce no durable state")

        // One granted pre-vote makes a majority of three: only now does the term move.
        node.step(vote(2, 1, term: 1, preVote: true))
        #expect(node.currentRole == .candidate)
        #expect(node.currentTerm == Term(1))
        out = node.drive()
        #expect(out.hardStates.last == HardState(term: 1, vote: 1, commit: 0))
        #expect(out.voteRequests().allSatisfy { !$0.request.preVote })
        #expect(out.messagesNow.isEmpty)
    }

    @Test func aPreVoteIsRefusedWithinTheLeaderLeaseAndGrantedWithoutOne() {
        var inLease = followerOf(2, 1)
        inLease.step(voteRequest(3, 1, term: 2, preVote: true))
        var out = inLease.drive()
        #expect(out.voteResponses(to: 3).map(\.response) == [RequestVoteResponse(granted: false, preVote: true)])
        #expect(inLease.currentTerm == Term(1))

        // A real vote request of a newer term is ignored too: it cannot depose a live leader (§4.2.3).
        inLease.step(voteRequest(3, 1, term: 2))
        out = inLease.drive()
        #expect(out.all.isEmpty)
        #expect(inLease.currentTerm == Term(1))
        #expect(inLease.currentLeader == NodeID(2))

        var noLeader = restoredNode(1, term: 1, logTerms: [])
        noLeader.step(voteRequest(3, 1, term: 2, preVote: true))
        out = noLeader.drive()
        let responses = out.voteResponses(to: 3)
        #expect(responses.map(\.response) == [RequestVoteResponse(granted: true, preVote: true)])
        #expect(responses.first?.term == Term(2), "a granted pre-vote answers in the candidate's term")
        #expect(noLeader.currentTerm == Term(1))
        #expect(noLeader.status.vote == nil)
    }

    @Test func checkQuorumMakesALeaderThatHearsFromNoQuorumStepDown() {
        var leader = electedLeader()
        var out = Output()
        for _ in 0..<(2 * 15) {
            leader.tick()
            out.merge(leader.drive())
        }
        #expect(leader.currentRole == .follower)
        #expect(leader.currentTerm == Term(1))
        #expect(out.events.contains { if case .steppedDown = $0 { true } else { false } })
    }

    @Test func checkQuorumKeepsALeaderThatHearsFromAQuorum() {
        var leader = electedLeader()
        for _ in 0..<200 {
            leader.tick()
            let out = leader.drive()
            for hb in out.heartbeats(to: 2) {
                leader.step(message(2, 1, 1, .heartbeatResponse(HeartbeatResponse(round: hb.round))))
            }
        }
        #expect(leader.currentRole == .leader)
    }

    /// A node that may not campaign (here a learner) lets its election timer run on once it stops hearing from its
    /// leader, so the lease on that leader lapses and it grants pre-votes again. Before, its timer restarted at
    /// every timeout, as a voter's does when it campaigns, and the stale lease held most of the time, forever: the
    /// node simulation (seed 2037) had a leader that restarted with an uncommitted promotion of this node stay a
    /// pre-candidate for good, since the promoted node, a learner in its own log, kept refusing it.
    @Test func aLearnerWhoseLeaderWentSilentGrantsPreVotesOnceTheLeaseLapsed() {
        var node = followerOf(1, 2, voters: [1, 3]) { $0.learners = [2] }
        for _ in 0..<30 { node.tick() }
        node.drive()
        for tick in 0..<60 {
            node.tick()
            node.drive()
            node.step(voteRequest(3, 2, term: 2, preVote: true))
            let out = node.drive()
            #expect(out.voteResponses(to: 3).map(\.response.granted) == [true], "tick \(30 + tick + 1)")
        }
    }

    // MARK: - Fast failover

    @Test func aClosedLeaderConnectionStartsAPreVoteAtOnceAndLiftsTheLease() {
        var node = followerOf(2, 3)
        node.reportLeaderConnectionClosed(by: 2)
        #expect(node.currentRole == .preCandidate)
        let out = node.drive()
        #expect(out.events.contains(.electionStarted(term: 2, preVote: true, reason: .leaderConnectionClosed)))
        #expect(out.voteRequests().count == 2)

        // It no longer defends the old leader's lease against another node's pre-vote.
        node.step(voteRequest(1, 3, term: 2, preVote: true))
        let answer = node.drive()
        #expect(answer.voteResponses(to: 1).map(\.response.granted) == [true])
    }

    @Test func aClosedConnectionOfANodeThatIsNotTheLeaderIsIgnored() {
        var node = followerOf(2, 3)
        node.reportLeaderConnectionClosed(by: 1)
        #expect(node.currentRole == .follower)
        #expect(node.currentLeader == NodeID(2))
        #expect(!node.hasReady)

        node.step(voteRequest(1, 3, term: 2, preVote: true))
        let out = node.drive()
        #expect(out.voteResponses(to: 1).map(\.response.granted) == [false], "the lease still holds")
    }

    // MARK: - Forced elections (§3.10)

    @Test func campaignForcesAnElectionThatVotersGrantDespiteTheirLease() {
        var node = followerOf(2, 1)
        node.campaign()
        #expect(node.currentRole == .candidate, "a forced election skips the pre-vote")
        #expect(node.currentTerm == Term(2))
        let out = node.drive()
        let requests = out.voteRequests()
        #expect(requests.count == 2)
        #expect(requests.allSatisfy { $0.request.force && !$0.request.preVote })

        var voter = followerOf(2, 3)
        for request in out.to(3) { voter.step(request) }
        let answer = voter.drive()
        #expect(answer.voteResponses(to: 1).map(\.response.granted) == [true])
        #expect(voter.status.vote == NodeID(1))
        #expect(voter.currentTerm == Term(2))
    }

    @Test func aForcedElectionStillRespectsTheUpToDateRule() {
        var voter = restoredNode(3, term: 1, logTerms: [1, 1])
        voter.step(voteRequest(1, 3, term: 2, last: (1, 1), force: true))
        let out = voter.drive()
        #expect(out.voteResponses(to: 1).map(\.response.granted) == [false])
    }

    // MARK: - Robustness

    @Test func messagesAddressedElsewhereOrFromNodeZeroAreDropped() {
        var node = RaftNode(config: ruleConfig(1))
        node.step(heartbeat(2, 3, term: 5))
        node.step(heartbeat(1, 1, term: 5))
        node.step(heartbeat(0, 1, term: 5))
        #expect(node.currentTerm == .zero)
        #expect(node.currentLeader == nil)
        #expect(!node.hasReady)
    }

    /// §4.1: a node handles messages without consulting its membership, so a leader that joined after this node's
    /// newest configuration is followed; but a candidate outside the membership gets no vote and cannot raise the
    /// term (a removed node must not disrupt the cluster, §4.2.3).
    @Test func aLeaderOutsideTheMembershipIsFollowedButACandidateOutsideItIsRefused() {
        var node = RaftNode(config: ruleConfig(1))
        node.step(voteRequest(9, 1, term: 7, last: (5, 3), preVote: false))
        var out = node.drive()
        #expect(out.voteResponses(to: 9).map(\.response.granted) == [false])
        #expect(node.currentTerm == .zero && node.status.vote == nil)
        node.step(heartbeat(9, 1, term: 5))
        out = node.drive()
        #expect(node.currentTerm == Term(5))
        #expect(node.currentLeader == NodeID(9))
    }
}
