extension RaftNode {
    /// Proposes one membership change (single-server changes, dissertation §4.1) on the leader and returns the
    /// index of its configuration entry. It takes effect at once on every node that appends it.
    ///
    /// Refused (with the reason) unless this node leads and has committed an entry of its term (the known fix for
    /// single-server changes across leader changes), no earlier change is still uncommitted, a promoted learner
    /// holds every committed entry, and, unless `force`, enough voters of the new membership have been heard from
    /// within an election timeout to form its quorum. `context` travels with the entry, opaque to the core.
    @discardableResult
    public mutating func proposeMembershipChange(
        _ change: MembershipChange, context: [UInt8] = [], force: Bool = false
    ) throws(RaftError) -> LogIndex {
        precondition(outstandingReadyIsNil, "input between ready() and advance()")
        guard role == .leader, let current = membership else { throw .notLeader(leader: leader) }
        if let target = leadTransferee { throw .transferInProgress(to: target) }
        guard log.term(at: log.committed) == term else { throw .leaderNotReady }
        let next: Membership
        switch current.applying(change) {
        case .success(let membership): next = membership
        case .failure(let error): throw error
        }
        if let pending = configurations.last, pending.index > log.committed {
            throw .membershipChangePending(at: pending.index)
        }
        if case .promote(let learner) = change, let p = progress[learner], p.match < log.committed {
            throw .learnerBehind(learner, match: p.match, commit: log.committed)
        }
        if !force {
            let lease = config.electionTimeoutTicks.lowerBound
            let live = next.voters.filter { $0 == id || (progress[$0].map { $0.inactiveTicks < lease } ?? false) }
            if live.count < next.quorum {
                let down = next.voters.filter { !live.contains($0) }.map(\.description).joined(separator: ", ")
                throw .wouldLoseQuorum(
                    "after \(change) the \(next.voters.count) voters need \(next.quorum) to agree, but only"
                        + " \(live.count) are reachable (not heard from: \(down)); bring them back first, or force it")
            }
        }
        let entry = Entry(
            index: log.lastIndex.next, term: term, kind: .configuration,
            data: ConfigurationEntry(membership: next, context: context).encoded)
        log.append(CollectionOfOne(entry))
        noteConfigurations(in: CollectionOfOne(entry))
        broadcastRequested = true
        maybeCommit()
        return entry.index
    }

    /// Takes note of entries just written to the log from their first index on (replacing whatever followed):
    /// configuration entries among them take effect, and any beyond the first index that a truncation dropped
    /// no longer do.
    mutating func noteConfigurations(in entries: some Collection<Entry>) {
        guard let first = entries.first?.index else { return }
        let before = membership
        configurations.removeAll { $0.index >= first }
        for entry in entries where entry.kind == .configuration {
            guard let decoded = ConfigurationEntry(decoding: entry.data) else {
                events.append(.messageRejected(from: leader ?? id, reason: "malformed configuration at \(entry.index)"))
                continue
            }
            configurations.append((entry.index, decoded.membership, decoded.context))
        }
        membershipChanged(from: before)
    }

    /// A snapshot replaced the log: its membership is now the base, with no configuration entries after it.
    mutating func noteSnapshotMembership(_ metadata: SnapshotMetadata) {
        let before = membership
        baseMembership = metadata.membership
        baseContext = metadata.context
        configurations.removeAll()
        membershipChanged(from: before)
    }

    private mutating func membershipChanged(from before: Membership?) {
        guard let current = membership, current != before else { return }
        refreshPeers()
        events.append(.membershipChanged(current, index: configurations.last?.index ?? log.snapshotIndex))
        if current.contains(id) {
            removalReported = false
        } else if before?.contains(id) == true && role != .leader && !removalReported {
            removalReported = true
            events.append(.removedFromCluster(term: term))
        }
        if role == .leader, let target = leadTransferee, !current.isVoter(target) {
            events.append(.transferAborted(to: target, term: term))
            leadTransferee = nil
        }
    }

    /// Who to replicate to: the members of the membership in effect and, while it is uncommitted, those of the
    /// one before, so that a removed node still receives the entry that removes it (and learns of it).
    mutating func refreshPeers() {
        var members = Set(membership?.members ?? [])
        if let latest = configurations.last, latest.index > log.committed {
            let previous = configurations.dropLast().last?.membership ?? baseMembership
            members.formUnion(previous?.members ?? [])
        }
        members.remove(id)
        let updated = members.sorted()
        guard updated != peers else { return }
        peers = updated
        guard role == .leader else { return }
        for peer in peers where progress[peer] == nil {
            var p = Progress(next: log.lastIndex.next)
            p.recentActive = true
            progress[peer] = p
        }
        for peer in progress.keys where !members.contains(peer) { progress[peer] = nil }
    }

    /// A leader whose own removal (or demotion) has committed hands over and steps down: it sends TimeoutNow to
    /// the voter that holds the most of its log, so a successor campaigns at once instead of after a timeout.
    mutating func stepDownIfRemoved() {
        guard role == .leader, let current = membership, !current.isVoter(id),
            let index = configurations.last?.index, log.committed >= index
        else { return }
        let successor = current.voters.max { (progress[$0]?.match ?? .zero, $1) < (progress[$1]?.match ?? .zero, $0) }
        if let successor, progress[successor]?.match == log.lastIndex { send(.timeoutNow, to: successor) }
        events.append(.removedFromCluster(term: term))
        removalReported = true
        events.append(.steppedDown(term: term, reason: "removed from the cluster at index \(index)"))
        becomeFollower(term: term, leader: nil)
    }
}
