extension RaftNode {
    /// Whether we heard from a live leader within the minimum election timeout: such a node refuses to help
    /// depose it (§4.2.3, §9.6), unless the runtime told us the leader's connection closed. A leader is always
    /// within its own lease: CheckQuorum makes it step down when it is not.
    var inLeaderLease: Bool {
        config.checkQuorum && leader != nil && electionElapsed < config.electionTimeoutTicks.lowerBound
            && !leaderSuspectedDead
    }

    /// Starts a pre-vote (when enabled and not forced) or a real election.
    /// Only a voter campaigns (see ``canCampaign``): a learner, a removed node and a joining node never do.
    mutating func startElection(reason: ElectionReason, force: Bool) {
        guard canCampaign, !halted else { return }
        if config.preVote && !force {
            becomePreCandidate(reason: reason)
        } else {
            becomeCandidate(reason: reason, force: force)
        }
    }

    mutating func becomePreCandidate(reason: ElectionReason) {
        // A pre-candidate keeps its term and vote: nothing changes unless a quorum would elect it (§9.6).
        setRole(.preCandidate)
        setLeader(nil)
        electionReason = reason
        resetElectionTimer()
        votes = [id: true]
        events.append(.electionStarted(term: term.next, preVote: true, reason: reason))
        requestVotes(preVote: true, force: false, electionTerm: term.next)
        if tallyVotes() == .won { becomeCandidate(reason: reason, force: false) }
    }

    mutating func becomeCandidate(reason: ElectionReason, force: Bool) {
        setTerm(term.next)
        recordVote(for: id)
        setRole(.candidate)
        setLeader(nil)
        resetElectionTimer()
        leaderSuspectedDead = false
        votes = [id: true]
        events.append(.electionStarted(term: term, preVote: false, reason: reason))
        requestVotes(preVote: false, force: force, electionTerm: term)
        if tallyVotes() == .won { becomeLeader() }
    }

    private mutating func requestVotes(preVote: Bool, force: Bool, electionTerm: Term) {
        let request = RequestVote(
            lastLogIndex: log.lastIndex, lastLogTerm: log.lastTerm, preVote: preVote, force: force)
        for peer in peers where membership?.isVoter(peer) == true {
            send(.requestVote(request), to: peer, term: electionTerm)
        }
    }

    enum VoteTally { case pending, won, lost }

    /// Counts only the answers of voters in the membership this node follows.
    func tallyVotes() -> VoteTally {
        guard let membership else { return .lost }
        let counted = votes.filter { membership.isVoter($0.key) }
        let granted = counted.values.filter { $0 }.count
        let rejected = counted.count - granted
        if granted >= membership.quorum { return .won }
        if rejected >= membership.quorum { return .lost }
        return .pending
    }

    mutating func becomeLeader() {
        precondition(role == .candidate, "only a candidate becomes leader, not a \(role)")
        refreshPeers()
        setRole(.leader)
        setLeader(id)
        electionElapsed = 0
        heartbeatElapsed = 0
        leadTransferee = nil
        leaderSuspectedDead = false
        progress.removeAll()
        for peer in peers {
            var p = Progress(next: log.lastIndex.next)
            p.recentActive = true
            progress[peer] = p
        }
        events.append(.electionWon(term: term))
        // A new leader commits an entry of its own term at once; only then does it know which of its entries
        // are committed (§5.4.2, §8), and only then may it serve reads.
        log.append(CollectionOfOne(Entry(index: log.lastIndex.next, term: term, kind: .noop)))
        broadcastRequested = true
        maybeCommit()
    }

    /// Handles a RequestVote (pre-vote or real) whose term is at least ours.
    mutating func handleRequestVote(_ message: Message, _ request: RequestVote) {
        let candidateTerm = message.term
        let logOK = log.isUpToDate(lastIndex: request.lastLogIndex, lastTerm: request.lastLogTerm)
        var grant: Bool
        if request.preVote {
            // A pre-vote for a future term is granted on the log check alone; at our own term only if we
            // could still vote in it.
            let canVote = vote == message.from || (vote == nil && leader == nil) || candidateTerm > term
            grant = canVote && logOK
            if grant, role == .preCandidate, candidateTerm == term.next,
                yieldsPreVote(to: message.from, request) == false
            {
                grant = false
            }
        } else {
            let canVote = vote == message.from || (vote == nil && leader == nil)
            grant = canVote && logOK
        }
        // A node with no membership yet (joining, perhaps with emptied data) grants nothing: it cannot know
        // whether it already voted in this term.
        if membership == nil { grant = false }
        if grant && !request.preVote {
            recordVote(for: message.from)
            electionElapsed = 0
        }
        // A granted pre-vote answers in the candidate's future term so it counts it; anything else in ours.
        let responseTerm = grant && request.preVote ? candidateTerm : term
        send(
            .requestVoteResponse(RequestVoteResponse(granted: grant, preVote: request.preVote)), to: message.from,
            term: responseTerm)
    }

    /// Two pre-candidates with equally up-to-date logs would grant each other, both become candidates and split
    /// the vote, which is what happens when every follower notices a dead leader at once. The lower id goes
    /// first; a pre-candidate that was already refused by someone yields, so a round that cannot win does not
    /// block one that can.
    private func yieldsPreVote(to candidate: NodeID, _ request: RequestVote) -> Bool {
        let sameLog = request.lastLogTerm == log.lastTerm && request.lastLogIndex == log.lastIndex
        if !sameLog || candidate < id { return true }
        let refused = votes.values.contains(false)
        return refused
    }

    mutating func handleVoteResponse(_ message: Message, _ response: RequestVoteResponse) {
        switch (role, response.preVote) {
        case (.preCandidate, true), (.candidate, false): break
        default: return
        }
        guard votes[message.from] == nil else { return }
        votes[message.from] = response.granted
        switch tallyVotes() {
        case .won:
            if role == .preCandidate {
                becomeCandidate(reason: electionReason, force: false)
            } else {
                becomeLeader()
            }
        case .lost:
            becomeFollower(term: term, leader: nil)
        case .pending:
            break
        }
    }
}
