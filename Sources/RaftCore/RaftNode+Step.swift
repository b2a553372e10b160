extension RaftNode {
    /// Term handling common to every role (§5.1), then dispatch by role.
    mutating func stepMessage(_ m: Message) {
        if case .requestVote(let request) = m.body, let membership, !membership.contains(m.from) {
            // A node outside our membership (removed, or added later than our newest configuration) gets no vote
            // and cannot raise our term: a removed node must not disrupt the cluster (dissertation §4.2.3).
            send(.requestVoteResponse(RequestVoteResponse(granted: false, preVote: request.preVote)), to: m.from)
            return
        }
        if m.term > term {
            switch m.body {
            case .requestVote(let request):
                // Refuse to depose a leader we heard from recently, unless a transfer or operator forces it.
                if !request.force && inLeaderLease {
                    if request.preVote {
                        send(
                            .requestVoteResponse(RequestVoteResponse(granted: false, preVote: true)), to: m.from)
                    }
                    return
                }
                if !request.preVote {
                    if role == .leader && leadTransferee == m.from {
                        // The transfer worked: the target is campaigning. Not an abort.
                        leadTransferee = nil
                    }
                    becomeFollower(term: m.term, leader: nil)
                }
            case .requestVoteResponse(let response) where response.preVote && response.granted:
                // A granted pre-vote carries the term we would campaign in; nobody changed term yet.
                break
            case .appendEntries, .heartbeat, .installSnapshot:
                becomeFollower(term: m.term, leader: m.from)
            default:
                becomeFollower(term: m.term, leader: nil)
            }
        } else if m.term < term {
            switch m.body {
            case .appendEntries, .heartbeat, .installSnapshot:
                // A deposed leader that still thinks it leads: our term makes it step down. Without this a
                // node cut off by CheckQuorum or PreVote could keep a stale leader forever (§9.6).
                send(.appendEntriesResponse(AppendEntriesResponse(index: .zero, success: false)), to: m.from)
            case .requestVote(let request) where request.preVote:
                send(.requestVoteResponse(RequestVoteResponse(granted: false, preVote: true)), to: m.from)
            default:
                break
            }
            return
        }

        switch m.body {
        case .requestVote(let request):
            handleRequestVote(m, request)
        case .requestVoteResponse(let response):
            handleVoteResponse(m, response)
        default:
            switch role {
            case .leader: stepLeader(m)
            case .follower: stepFollower(m)
            case .preCandidate, .candidate: stepCandidate(m)
            }
        }
    }

    private mutating func stepCandidate(_ m: Message) {
        switch m.body {
        case .appendEntries, .heartbeat, .installSnapshot:
            // Someone won this term (§5.2).
            becomeFollower(term: m.term, leader: m.from)
            stepFollower(m)
        case .propose, .transferLeader, .readIndex:
            // No leader to forward to: the proposer times out and retries.
            break
        default:
            break
        }
    }

    private mutating func stepFollower(_ m: Message) {
        switch m.body {
        case .appendEntries(let append):
            heardFromLeader(m.from)
            handleAppendEntries(m, append)
        case .heartbeat(let heartbeat):
            // The leader caps the commit it sends at what we acknowledged holding, so it is safe to adopt, and
            // more than our log holds means we lost what we acknowledged: stop before voting or acking again.
            if heartbeat.commit > log.lastIndex {
                halt(.lostAcknowledgedEntries(leader: m.from, acknowledged: heartbeat.commit, lastIndex: log.lastIndex))
                return
            }
            heardFromLeader(m.from)
            advanceCommit(to: heartbeat.commit)
            send(.heartbeatResponse(HeartbeatResponse(round: heartbeat.round)), to: m.from)
        case .installSnapshot(let snapshot):
            heardFromLeader(m.from)
            handleInstallSnapshot(m, snapshot)
        case .timeoutNow:
            // The leader is handing over: campaign at once, and voters grant despite its lease (§3.10).
            startElection(reason: .transfer, force: true)
        case .propose(let batch):
            if let leader { send(.propose(batch), to: leader) }
        case .readIndexResponse(let response):
            readStates.append(ReadState(context: response.context, index: response.index))
        case .transferLeader(let target):
            if let leader, target != leader { send(.transferLeader(target), to: leader) }
        case .readIndex, .appendEntriesResponse, .heartbeatResponse, .requestVote, .requestVoteResponse:
            break
        }
    }

    private mutating func heardFromLeader(_ from: NodeID) {
        electionElapsed = 0
        leaderSuspectedDead = false
        setLeader(from)
    }

    private mutating func advanceCommit(to index: LogIndex) {
        if index > log.committed { log.committed = index }
    }

    private mutating func handleAppendEntries(_ m: Message, _ append: AppendEntries) {
        if append.prevLogIndex < log.committed {
            // A stale or duplicated message: everything through our commit index already matches the leader
            // (Leader Completeness), so report that and let the leader continue from there.
            send(.appendEntriesResponse(AppendEntriesResponse(index: log.committed, success: true)), to: m.from)
            return
        }
        guard log.matchTerm(append.prevLogIndex, append.prevLogTerm) else {
            // Consistency check failed (§5.3): hint where the leader should look next.
            let response: AppendEntriesResponse
            if append.prevLogIndex > log.lastIndex {
                response = AppendEntriesResponse(
                    index: append.prevLogIndex, success: false, conflictIndex: log.lastIndex.next, conflictTerm: nil)
            } else {
                let conflictTerm = log.term(at: append.prevLogIndex)!
                response = AppendEntriesResponse(
                    index: append.prevLogIndex, success: false,
                    conflictIndex: log.firstIndex(ofTermAt: append.prevLogIndex), conflictTerm: conflictTerm)
            }
            send(.appendEntriesResponse(response), to: m.from)
            return
        }
        guard isWellFormed(append) else {
            events.append(.messageRejected(from: m.from, reason: "AppendEntries entries are not contiguous"))
            return
        }
        let lastNew = LogIndex(append.prevLogIndex.rawValue + UInt64(append.entries.count))
        if let position = log.firstConflict(in: append.entries) {
            let conflict = append.entries[position]
            guard conflict.index > log.committed else {
                events.append(
                    .messageRejected(from: m.from, reason: "AppendEntries rewrites committed \(conflict.index)"))
                return
            }
            log.append(append.entries[position...])
            noteConfigurations(in: append.entries[position...])
        }
        advanceCommit(to: min(append.leaderCommit, lastNew))
        send(.appendEntriesResponse(AppendEntriesResponse(index: lastNew, success: true)), to: m.from)
    }

    private func isWellFormed(_ append: AppendEntries) -> Bool {
        var expected = append.prevLogIndex.next
        var previousTerm = append.prevLogTerm
        for entry in append.entries {
            guard entry.index == expected, entry.term >= previousTerm, entry.term <= term else { return false }
            expected = expected.next
            previousTerm = entry.term
        }
        return true
    }

    private mutating func handleInstallSnapshot(_ m: Message, _ snapshot: Snapshot) {
        let meta = snapshot.metadata
        if meta.index <= log.committed {
            send(.appendEntriesResponse(AppendEntriesResponse(index: log.committed, success: true)), to: m.from)
            return
        }
        if log.matchTerm(meta.index, meta.term) {
            // We already hold the entries it covers: just learn that they are committed.
            advanceCommit(to: meta.index)
        } else {
            log.restore(meta)
            noteSnapshotMembership(meta)
            snapshotToInstall = snapshot
            latestSnapshot = snapshot
            events.append(.snapshotInstalled(index: meta.index, term: meta.term))
        }
        send(.appendEntriesResponse(AppendEntriesResponse(index: meta.index, success: true)), to: m.from)
    }

    // MARK: - Leader

    private mutating func stepLeader(_ m: Message) {
        guard var p = progress[m.from] else { return }
        p.inactiveTicks = 0
        switch m.body {
        case .appendEntriesResponse(let response):
            // A follower cannot have matched or been asked about more than this leader holds: such an answer is
            // corrupt (or hostile) and is dropped before any index arithmetic.
            guard response.index <= log.lastIndex else { return }
            p.recentActive = true
            if response.success {
                if p.update(match: response.index) {
                    switch p.state {
                    case .probe: p.becomeReplicate()
                    case .snapshot(let pending) where p.match >= pending: p.becomeProbe()
                    case .replicate: p.inflights.free(through: response.index)
                    case .snapshot: break
                    }
                    progress[m.from] = p
                    if maybeCommit() { broadcastRequested = true }
                    if leadTransferee == m.from && p.match == log.lastIndex {
                        send(.timeoutNow, to: m.from)
                    }
                } else {
                    progress[m.from] = p
                }
                while sendAppend(to: m.from, allowEmpty: false) {}
            } else {
                if backtrack(&p, response) {
                    progress[m.from] = p
                    sendAppend(to: m.from, allowEmpty: true)
                } else {
                    progress[m.from] = p
                }
            }
        case .heartbeatResponse(let response):
            p.recentActive = true
            p.probeSent = false
            if response.round > p.ackedRound { p.ackedRound = response.round }
            if case .replicate = p.state,
                p.inflights.isFull(maxCount: config.maxInflightMessages, maxBytes: config.maxInflightBytes)
            {
                p.inflights.freeFirst()
            }
            if case .snapshot = p.state, p.snapshotElapsedTicks >= snapshotRetryTicks(p) {
                // The snapshot (or its answer) was probably lost: start over from what we know matches.
                p.becomeProbe()
            }
            progress[m.from] = p
            // The follower is alive but behind. In replicate state the entries it lacks may all have been sent
            // and lost, leaving nothing new to send: an empty AppendEntries at `next` then draws a rejection
            // that moves it back to probe, so the leader retries until the follower has them (§5.3).
            if p.match < log.lastIndex { sendAppend(to: m.from, allowEmpty: true) }
            releaseReads()
        case .propose(let batch):
            progress[m.from] = p
            _ = try? appendProposals(batch)
        case .readIndex(let context):
            p.recentActive = true
            progress[m.from] = p
            enqueueRead(context, requester: m.from)
        case .transferLeader(let target):
            progress[m.from] = p
            if membership?.isVoter(target) == true { startTransfer(to: target) }
        default:
            break
        }
    }

    /// How long a snapshot in flight may go unanswered before it is sent again. Without send reports: an election
    /// timeout. With them: ten, counted from the report that it was sent in full (the follower still writes and
    /// syncs it before it answers), and a generous 64 while the send itself is still going on (a transport that
    /// fails reports it at once).
    func snapshotRetryTicks(_ p: Progress) -> Int {
        let timeout = config.electionTimeoutTicks.lowerBound
        guard config.snapshotSendsReported else { return timeout }
        return p.snapshotSent ? 10 * timeout : 64 * timeout
    }

    /// Moves `next` back after a rejection, using the follower's conflict hint to skip a whole term per round
    /// trip. Returns false for a stale rejection.
    private func backtrack(_ p: inout Progress, _ response: AppendEntriesResponse) -> Bool {
        guard response.index != .zero || response.conflictIndex != .zero else { return false }
        switch p.state {
        case .replicate:
            guard response.index > p.match else { return false }
        case .probe:
            guard response.index == p.next.previous else { return false }
        case .snapshot:
            return false
        }
        var candidate: LogIndex
        if let conflictTerm = response.conflictTerm {
            if let last = log.lastIndex(ofTerm: conflictTerm, atOrBefore: response.index) {
                candidate = last.next
            } else {
                candidate = response.conflictIndex
            }
        } else {
            candidate = response.conflictIndex
        }
        candidate = max(min(candidate, response.index), p.match.next)
        if case .replicate = p.state { p.becomeProbe() }
        p.next = candidate
        p.probeSent = false
        p.recentActive = true
        return true
    }

    /// Sends the follower what it is missing, if its progress allows; returns whether a message went out.
    @discardableResult
    mutating func sendAppend(to peer: NodeID, allowEmpty: Bool) -> Bool {
        guard var p = progress[peer],
            !p.isPaused(maxInflight: config.maxInflightMessages, maxInflightBytes: config.maxInflightBytes)
        else { return false }
        let prevIndex = p.next.previous
        guard let prevTerm = log.term(at: prevIndex) else {
            return sendSnapshot(to: peer, &p)
        }
        let entries: [Entry]
        do {
            entries =
                p.next <= log.lastIndex
                ? try log.slice(from: p.next, through: log.lastIndex, maxBytes: config.maxMessageBytes) : []
        } catch {
            noteEntryReadFailure(error)
            return false
        }
        if entries.isEmpty && !allowEmpty { return false }
        let commit = log.committed
        send(
            .appendEntries(
                AppendEntries(prevLogIndex: prevIndex, prevLogTerm: prevTerm, entries: entries, leaderCommit: commit)),
            to: peer)
        switch p.state {
        case .replicate:
            if let last = entries.last {
                p.next = last.index.next
                p.inflights.add(last.index, bytes: entries.reduce(0) { $0 + $1.sizeBytes })
            }
        case .probe:
            p.probeSent = true
        case .snapshot:
            break
        }
        progress[peer] = p
        return !entries.isEmpty
    }

    private mutating func sendSnapshot(to peer: NodeID, _ p: inout Progress) -> Bool {
        guard let snapshot = latestSnapshot else {
            preconditionFailure("\(id): log compacted through \(log.snapshotIndex) but no snapshot to send to \(peer)")
        }
        send(.installSnapshot(snapshot), to: peer)
        p.becomeSnapshot(snapshot.metadata.index)
        progress[peer] = p
        return false
    }

    /// Sends every follower what it is missing, with an empty AppendEntries to carry a new commit index where
    /// there is nothing else. Called once per ``ready()``, so many proposals share one message.
    mutating func flushBroadcasts() {
        if role == .leader && broadcastRequested {
            for peer in peers {
                if !sendAppend(to: peer, allowEmpty: true) { continue }
                while sendAppend(to: peer, allowEmpty: false) {}
            }
        }
        broadcastRequested = false
        if role == .leader && readRoundRequested {
            broadcastHeartbeat()
            releaseReads()
        }
        readRoundRequested = false
    }

    mutating func broadcastHeartbeat() {
        heartbeatRound += 1
        heartbeatElapsed = 0
        for peer in peers {
            guard let p = progress[peer] else { continue }
            let commit = min(p.match, log.committed)
            send(.heartbeat(Heartbeat(commit: commit, round: heartbeatRound)), to: peer)
        }
    }

    /// Advances the commit index to the highest index a quorum holds, if that entry is of the current term
    /// (§5.4.2, Figure 8: entries of earlier terms are committed only indirectly). Returns whether it moved.
    /// Only the voters of the membership in effect count, the leader among them only if it is one (a leader
    /// that removed itself manages the cluster until the change commits without counting itself, §4.2.2).
    @discardableResult
    mutating func maybeCommit() -> Bool {
        guard let membership else { return false }
        var matches = membership.voters.map { $0 == id ? log.persisted : progress[$0]?.match ?? .zero }
        matches.sort(by: >)
        let quorumIndex = matches[membership.quorum - 1]
        guard quorumIndex > log.committed, log.term(at: quorumIndex) == term else { return false }
        let previous = log.committed
        log.committed = quorumIndex
        if let latest = configurations.last?.index, latest > previous, latest <= quorumIndex { refreshPeers() }
        releaseReads()
        stepDownIfRemoved()
        return true
    }

    mutating func appendProposals(_ batch: [[UInt8]]) throws(RaftError) -> LogIndex {
        if let target = leadTransferee { throw .transferInProgress(to: target) }
        let uncommitted = Int(log.lastIndex.rawValue - log.committed.rawValue)
        if uncommitted + batch.count > config.maxUncommittedEntries && uncommitted > 0 {
            throw .tooManyUncommitted(limit: config.maxUncommittedEntries)
        }
        let first = log.lastIndex.next
        var index = first
        var entries: [Entry] = []
        entries.reserveCapacity(batch.count)
        for data in batch {
            entries.append(Entry(index: index, term: term, kind: .command, data: data))
            index = index.next
        }
        log.append(entries)
        broadcastRequested = true
        if membership?.voters == [id] { maybeCommit() }
        return first
    }

    mutating func tickLeader() {
        heartbeatElapsed += 1
        for peer in peers {
            guard var p = progress[peer] else { continue }
            if case .snapshot = p.state { p.snapshotElapsedTicks += 1 }
            p.inactiveTicks += 1
            progress[peer] = p
        }
        if electionElapsed >= config.electionTimeoutTicks.lowerBound {
            electionElapsed = 0
            if config.checkQuorum, let membership {
                let active = membership.voters.filter { $0 == id || progress[$0]?.recentActive == true }.count
                if active < membership.quorum {
                    events.append(
                        .steppedDown(
                            term: term, reason: "check-quorum: heard from \(active) of \(membership.voters.count)"))
                    becomeFollower(term: term, leader: nil)
                    return
                }
                for peer in peers { progress[peer]?.recentActive = false }
            }
            if let target = leadTransferee {
                // The target did not take over within an election timeout: resume normal service.
                events.append(.transferAborted(to: target, term: term))
                leadTransferee = nil
            }
        }
        if heartbeatElapsed >= config.heartbeatIntervalTicks {
            broadcastHeartbeat()
        }
    }

    mutating func startTransfer(to target: NodeID) {
        if target == id {
            return
        }
        if let current = leadTransferee {
            if current == target { return }
            events.append(.transferAborted(to: current, term: term))
        }
        leadTransferee = target
        electionElapsed = 0
        events.append(.transferStarted(to: target, term: term))
        if progress[target]?.match == log.lastIndex {
            send(.timeoutNow, to: target)
        } else {
            sendAppend(to: target, allowEmpty: true)
        }
    }

    // MARK: - ReadIndex (§6.4)

    mutating func enqueueRead(_ context: ReadContext, requester: NodeID) {
        let committedInTerm = log.term(at: log.committed) == term
        pendingReads.append(
            PendingRead(
                context: context, index: committedInTerm ? log.committed : nil, round: heartbeatRound + 1,
                requester: requester))
        readRoundRequested = true
    }

    /// Answers reads whose heartbeat round a quorum has echoed, once an entry of this term is committed.
    mutating func releaseReads() {
        guard role == .leader, !pendingReads.isEmpty, log.term(at: log.committed) == term, let membership else {
            return
        }
        var rounds = membership.voters.map { $0 == id ? heartbeatRound : progress[$0]?.ackedRound ?? 0 }
        rounds.sort(by: >)
        let confirmed = rounds[membership.quorum - 1]
        var released = 0
        for read in pendingReads {
            guard read.round <= confirmed else { break }
            let index = read.index ?? log.committed
            if read.requester == id {
                readStates.append(ReadState(context: read.context, index: index))
            } else {
                send(.readIndexResponse(ReadIndexResponse(context: read.context, index: index)), to: read.requester)
            }
            released += 1
        }
        pendingReads.removeFirst(released)
    }
}
