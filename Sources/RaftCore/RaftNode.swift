/// One member of a Raft cluster, as a deterministic value with no I/O, clock or threads.
///
/// Inputs are method calls: ``tick()``, ``step(_:)`` for a peer's message, ``propose(_:)``, ``readIndex(_:)``,
/// ``campaign()``, ``transferLeadership(to:)``, ``reportLeaderConnectionClosed(by:)`` and ``compact(_:)``.
/// Outputs accumulate until the shell takes them with ``ready()``, handles them as ``Ready`` describes, and
/// acknowledges with ``advance(_:)``. No input may be given between `ready()` and `advance(_:)`.
///
/// The same seed, configuration and sequence of inputs always produce the same outputs (and the same reads of
/// its ``EntryStorage``, if it has one).
///
/// Not `Sendable`: it may read entries through an ``EntryStorage``, a reference owned by the same loop.
public struct RaftNode {
    public let id: NodeID
    public let config: RaftConfig
    /// Every other member, voters and learners, sorted: who a leader replicates to.
    var peers: [NodeID] = []
    /// The membership before the first configuration entry still in the log: the snapshot's, or the initial one
    /// (none for a joining node).
    var baseMembership: Membership?
    /// The context of ``baseMembership`` (the snapshot's).
    var baseContext: [UInt8] = []
    /// The configuration entries in the log after the snapshot, oldest first. The newest one is in effect,
    /// committed or not (dissertation §4.1).
    var configurations: [(index: LogIndex, membership: Membership, context: [UInt8])] = []
    /// The node found it lost entries it had acknowledged (``RaftEvent/lostAcknowledgedEntries``): it ignores
    /// every input from then on, so it can neither vote twice nor acknowledge what it does not hold.
    public private(set) var halted = false
    /// Set when reading entries from the ``EntryStorage`` failed (a damaged record): the node's storage is broken,
    /// and its owner must stop it (raftd's runtime does, naming the error). Nothing is sent or applied from what
    /// could not be read.
    public private(set) var entryReadFailure: String?
    /// A ``RaftEvent/removedFromCluster(term:)`` was reported for the current membership.
    var removalReported = false

    // Persistent state (§5, Figure 2).
    private(set) var term: Term
    private(set) var vote: NodeID?
    var log: RaftLog

    // Volatile state.
    private(set) var role: Role = .follower
    private(set) var leader: NodeID?
    var rng: SplitMix64
    var electionElapsed = 0
    var heartbeatElapsed = 0
    var randomizedElectionTimeout = 0
    /// The runtime reported that our leader closed its connection and we have not heard from it since.
    var leaderSuspectedDead = false
    /// Why the current pre-vote started, carried into the election it leads to.
    var electionReason: ElectionReason = .timeout
    /// Votes received in the current (pre-)election.
    var votes: [NodeID: Bool] = [:]

    // Leader state.
    var progress: [NodeID: Progress] = [:]
    var leadTransferee: NodeID?
    var heartbeatRound: UInt64 = 0
    var pendingReads: [PendingRead] = []
    var readRoundRequested = false
    var broadcastRequested = false
    /// The newest snapshot, sent to followers whose next entry was compacted away.
    var latestSnapshot: Snapshot?

    // Output accumulated since the last `ready()`.
    var messagesNow: [Message] = []
    var gatedMessages: [Message] = []
    var readStates: [ReadState] = []
    var failedReads: [ReadContext] = []
    var events: [RaftEvent] = []
    var snapshotToInstall: Snapshot?

    /// The leader's snapshot that the next ``ready()`` hands out to install, if the core accepted one.
    public var snapshotAwaitingInstall: SnapshotMetadata? { snapshotToInstall?.metadata }
    private var durableHardState: HardState
    private var readyCount: UInt64 = 0
    private var outstandingReady: UInt64?
    var outstandingReadyIsNil: Bool { outstandingReady == nil }

    /// A ReadIndex request waiting for a heartbeat round that started after it arrived (§6.4).
    struct PendingRead: Sendable {
        var context: ReadContext
        /// Our commit index when the read arrived, or nil if we had not yet committed an entry of our term.
        var index: LogIndex?
        var round: UInt64
        var requester: NodeID
    }

    /// Creates a node from what it had persisted (nothing, for a brand-new member).
    ///
    /// - Parameter entryStorage: where the durable entries are, so the core keeps only
    ///   ``RaftConfig/entryCacheBytes`` of them in memory (once applied); nil keeps the whole log in memory.
    public init(
        config: RaftConfig, restoring state: PersistentState = PersistentState(),
        entryStorage: (any EntryStorage)? = nil
    ) {
        if let problem = config.validate() { preconditionFailure("invalid RaftConfig: \(problem)") }
        self.id = config.id
        self.config = config
        self.baseMembership = state.snapshot?.metadata.membership ?? config.initialMembership
        self.baseContext = state.snapshot?.metadata.context ?? []
        self.term = state.hardState.term
        self.vote = state.hardState.vote
        self.durableHardState = state.hardState
        self.log = RaftLog(
            snapshot: state.snapshot?.metadata, entries: state.entries, committed: state.hardState.commit,
            storage: entryStorage, cacheLimitBytes: config.entryCacheBytes)
        self.latestSnapshot = state.snapshot
        self.rng = SplitMix64(seed: config.randomSeed)
        noteConfigurations(in: state.entries)
        peers = (membership?.members ?? []).filter { $0 != id }.sorted()
        events.removeAll()
        resetElectionTimer()
    }

    // MARK: - Observing

    public var status: RaftStatus {
        RaftStatus(
            id: id, role: role, term: term, vote: vote, leader: leader, commitIndex: log.committed,
            appliedIndex: log.applied, firstIndex: log.firstIndex, lastIndex: log.lastIndex, lastTerm: log.lastTerm,
            snapshotIndex: log.snapshotIndex, leadTransferee: leadTransferee, membership: membership,
            followers: role == .leader
                ? peers.compactMap { peer in
                    guard let p = progress[peer] else { return nil }
                    return FollowerStatus(
                        id: peer, matchIndex: p.match, nextIndex: p.next, state: p.state,
                        recentlyActive: p.recentActive, isLearner: membership?.isLearner(peer) ?? false)
                } : [])
    }

    /// The membership in effect: the newest configuration in the log, else the snapshot's, else the initial one;
    /// nil for a joining node that has not heard from a leader.
    public var membership: Membership? { configurations.last?.membership ?? baseMembership }

    /// The application's context of the newest configuration (empty before the first change).
    public var membershipContext: [UInt8] { configurations.last?.context ?? baseContext }

    /// The context of the configuration in effect at `index`.
    public func membershipContext(at index: LogIndex) -> [UInt8] {
        configurations.last(where: { $0.index <= index })?.context ?? baseContext
    }

    /// The membership in effect at `index` (for a snapshot taken there); nil before the log's first index.
    public func membership(at index: LogIndex) -> Membership? {
        guard index >= log.snapshotIndex else { return nil }
        return configurations.last(where: { $0.index <= index })?.membership ?? baseMembership
    }

    /// Whether this node may start an election: it is a voter in the membership it follows or, while that
    /// membership is not known to be committed, in the one before. The second case is a leader that removed
    /// itself and lost its leadership (CheckQuorum) before the change committed: the remaining voters may lack
    /// the change and need its vote, which it refuses them while its log is longer, so it must be able to take
    /// over, finish the change under the new membership's quorum, and step down. Who may campaign does not
    /// affect safety (votes are counted in the candidate's newest membership); it only keeps the cluster live.
    var canCampaign: Bool {
        guard let membership else { return false }
        if membership.isVoter(id) { return true }
        guard let latest = configurations.last, latest.index > log.committed else { return false }
        let previous = configurations.dropLast().last?.membership ?? baseMembership
        return previous?.isVoter(id) ?? false
    }

    public var currentRole: Role { role }
    public var currentTerm: Term { term }
    public var currentLeader: NodeID? { leader }
    public var commitIndex: LogIndex { log.committed }
    public var lastIndex: LogIndex { log.lastIndex }
    public var hardState: HardState { HardState(term: term, vote: vote, commit: log.committed) }

    /// The entry at `index`, if this node's log holds it (read from its ``EntryStorage`` when not in memory).
    public func entry(at index: LogIndex) -> Entry? { log.entry(at: index) }

    /// The first index whose entry is held in memory (entries before it are read from the ``EntryStorage``).
    public var cachedFromIndex: LogIndex { log.cacheStart }

    /// The bytes of the entries held in memory (``Entry/sizeBytes``).
    public var cachedEntryBytes: Int { log.cacheBytes }

    mutating func noteEntryReadFailure(_ error: any Error) {
        if entryReadFailure == nil { entryReadFailure = "reading the log failed: \(error)" }
    }

    // MARK: - Ready / advance

    /// Whether ``ready()`` would return anything worth handling.
    public var hasReady: Bool {
        if outstandingReady != nil { return false }
        return broadcastRequested || readRoundRequested || !messagesNow.isEmpty || !gatedMessages.isEmpty
            || hardState != durableHardState || log.unstableFrom <= log.lastIndex || snapshotToInstall != nil
            || min(log.committed, log.lastIndex) > log.applied || !readStates.isEmpty || !failedReads.isEmpty
            || !events.isEmpty
    }

    /// Takes everything the core produced since the last call. See ``Ready`` for the handling contract.
    public mutating func ready() -> Ready {
        precondition(outstandingReady == nil, "ready() called again before advance()")
        flushBroadcasts()

        let hs = hardState
        let hardStateChange = hs != durableHardState ? hs : nil
        // Unstable entries are always in memory: this slice never reads storage.
        let unstable =
            log.unstableFrom <= log.lastIndex
            ? (try? log.slice(from: log.unstableFrom, through: log.lastIndex, maxBytes: .max)) ?? [] : []
        let persistThrough = log.lastIndex
        log.unstableFrom = log.lastIndex.next

        var applyFrom = log.applied.next
        if let snapshot = snapshotToInstall { applyFrom = max(applyFrom, snapshot.metadata.index.next) }
        let applyLimit = min(log.committed, log.lastIndex)
        var committed: [Entry] = []
        if applyFrom <= applyLimit && entryReadFailure == nil {
            do {
                committed = try log.slice(from: applyFrom, through: applyLimit, maxBytes: config.maxApplyBytes)
            } catch {
                noteEntryReadFailure(error)
            }
        }
        let applyThrough = committed.last?.index ?? applyFrom.previous

        readyCount += 1
        let ready = Ready(
            number: readyCount,
            persist: PersistWork(
                hardState: hardStateChange, snapshot: snapshotToInstall, entries: unstable, readyNumber: readyCount),
            messagesNow: messagesNow, gatedMessages: gatedMessages, committedEntries: committed,
            readStates: readStates, failedReads: failedReads, events: events, persistThrough: persistThrough,
            applyThrough: applyThrough)
        durableHardState = hs
        snapshotToInstall = nil
        messagesNow.removeAll(keepingCapacity: true)
        gatedMessages.removeAll(keepingCapacity: true)
        readStates.removeAll()
        failedReads.removeAll()
        events.removeAll()
        outstandingReady = readyCount
        return ready
    }

    /// Acknowledges that `ready` was handled completely: persisted, sent and applied.
    public mutating func advance(_ ready: Ready) {
        precondition(
            outstandingReady == ready.number,
            "advance() with ready \(ready.number), expected \(outstandingReady.map(String.init) ?? "none")")
        outstandingReady = nil
        log.markPersisted(through: ready.persistThrough)
        if ready.applyThrough > log.applied { log.applied = ready.applyThrough }
        log.trimCache(replicationNeeds: firstIndexReplicationNeeds)
        if role == .leader && maybeCommit() { broadcastRequested = true }
    }

    /// The oldest entry a leader may still send from its cache: the one after the lowest match of its followers
    /// and learners. Nil when not leading: only a leader sends entries.
    private var firstIndexReplicationNeeds: LogIndex? {
        guard role == .leader else { return nil }
        var lowestMatch = log.lastIndex
        for p in progress.values where p.match < lowestMatch { lowestMatch = p.match }
        return lowestMatch.next
    }

    // MARK: - Inputs

    /// Advances logical time by one tick: drives election timeouts, heartbeats and CheckQuorum.
    public mutating func tick() {
        precondition(outstandingReady == nil, "input between ready() and advance()")
        guard !halted else { return }
        electionElapsed += 1
        if role == .leader {
            tickLeader()
        } else if electionElapsed >= randomizedElectionTimeout && canCampaign {
            electionElapsed = 0
            startElection(reason: .timeout, force: false)
        }
        // A node that may not campaign (a learner, a removed or joining node) lets the timer run on, as etcd-raft
        // resets it only for a promotable node: its lease on a leader it no longer hears from must lapse, or it
        // would refuse pre-votes to the voters that need its vote. (It is reset whenever a leader is heard.)
    }

    /// Handles a message from a peer. Messages from unknown nodes or addressed elsewhere are dropped.
    public mutating func step(_ message: Message) {
        precondition(outstandingReady == nil, "input between ready() and advance()")
        // Senders outside the membership are heard too: a leader added after this node's newest configuration,
        // or a newcomer's answers. What they may do is limited where it matters (votes, progress).
        guard !halted, message.to == id, message.from != id, message.from.rawValue != 0 else { return }
        guard message.isWithinBounds else {
            events.append(.messageRejected(from: message.from, reason: "an index or term beyond 2^62"))
            return
        }
        stepMessage(message)
    }

    /// Proposes one command. On a follower it is forwarded to the leader.
    @discardableResult
    public mutating func propose(_ data: [UInt8]) throws(RaftError) -> ProposeOutcome {
        try propose(batch: [data])
    }

    /// Proposes several commands at once; they are appended contiguously and replicated together.
    @discardableResult
    public mutating func propose(batch: [[UInt8]]) throws(RaftError) -> ProposeOutcome {
        precondition(outstandingReady == nil, "input between ready() and advance()")
        guard !halted else { throw .noLeader }
        switch role {
        case .leader:
            let first = try appendProposals(batch)
            return .appended(firstIndex: first, term: term)
        default:
            guard let leader else { throw .noLeader }
            send(.propose(batch), to: leader)
            return .forwarded(to: leader)
        }
    }

    /// Asks for a linearizable read point. A ``ReadState`` with `context` comes out of a later ``Ready`` once
    /// the leader confirmed its leadership after this call (§6.4).
    public mutating func readIndex(_ context: ReadContext) throws(RaftError) {
        precondition(outstandingReady == nil, "input between ready() and advance()")
        if role == .leader {
            enqueueRead(context, requester: id)
        } else if let leader {
            send(.readIndex(context), to: leader)
        } else {
            throw .noLeader
        }
    }

    /// Starts an election now, on an operator's request. It is a forced election: voters grant it despite a
    /// live leader (as for leadership transfer), but still only to a candidate whose log is up to date.
    public mutating func campaign() {
        precondition(outstandingReady == nil, "input between ready() and advance()")
        guard role != .leader, canCampaign else { return }
        startElection(reason: .operatorRequest, force: true)
    }

    /// Hands leadership to `target` (§3.10): catch it up, then send it TimeoutNow. On a follower the request
    /// is forwarded to the leader.
    public mutating func transferLeadership(to target: NodeID) throws(RaftError) {
        precondition(outstandingReady == nil, "input between ready() and advance()")
        guard membership?.isVoter(target) == true else { throw .unknownNode(target) }
        if role != .leader {
            guard let leader else { throw .noLeader }
            if target != leader { send(.transferLeader(target), to: leader) }
            return
        }
        startTransfer(to: target)
    }

    /// The runtime saw the connection to `peer` closed by the other side (FIN or RST, not a timeout) and could
    /// not reconnect. If `peer` is our leader, start a pre-vote now instead of waiting out the election timeout,
    /// and stop honouring its lease when others ask for votes. Safety is unaffected: only timing changes.
    public mutating func reportLeaderConnectionClosed(by peer: NodeID) {
        precondition(outstandingReady == nil, "input between ready() and advance()")
        guard role != .leader, peer == leader else { return }
        leaderSuspectedDead = true
        if role == .follower {
            startElection(reason: .leaderConnectionClosed, force: false)
        }
    }

    /// The shell finished sending the InstallSnapshot it was given for `peer`: in full (`sent`), or not (the
    /// connection failed or the frames were dropped), in which case the leader starts over from a probe. Only
    /// with ``RaftConfig/snapshotSendsReported``; a report for no snapshot in flight is ignored.
    public mutating func reportSnapshot(to peer: NodeID, sent: Bool) {
        precondition(outstandingReady == nil, "input between ready() and advance()")
        guard role == .leader, var p = progress[peer], case .snapshot = p.state else { return }
        if sent {
            p.snapshotSent = true
            p.snapshotElapsedTicks = 0
        } else {
            p.becomeProbe()
        }
        progress[peer] = p
    }

    /// The shell could not deliver to `peer`: replicate to it from its last known match again.
    public mutating func reportUnreachable(_ peer: NodeID) {
        precondition(outstandingReady == nil, "input between ready() and advance()")
        guard role == .leader, var p = progress[peer] else { return }
        if case .replicate = p.state { p.becomeProbe() }
        progress[peer] = p
    }

    /// The application took `snapshot` of its state at an applied index: drop the log prefix it covers and use
    /// it for followers that fall behind that point.
    public mutating func compact(_ snapshot: Snapshot) {
        precondition(outstandingReady == nil, "input between ready() and advance()")
        let index = snapshot.metadata.index
        guard index > log.snapshotIndex, index <= log.applied, log.term(at: index) == snapshot.metadata.term,
            let atIndex = membership(at: index)
        else {
            return
        }
        // The snapshot carries the membership at its index, whatever the application filled in.
        var snapshot = snapshot
        snapshot.metadata.voters = atIndex.voters
        snapshot.metadata.learners = atIndex.learners
        snapshot.metadata.context = membershipContext(at: index)
        log.compact(through: index)
        baseContext = snapshot.metadata.context
        baseMembership = atIndex
        configurations.removeAll { $0.index <= index }
        latestSnapshot = snapshot
        events.append(.logCompacted(through: index))
    }

    // MARK: - Internals shared by the role handlers

    /// Stops the node for good (see ``halted``), dropping whatever it was about to send.
    mutating func halt(_ event: RaftEvent) {
        halted = true
        events.append(event)
        messagesNow.removeAll()
        gatedMessages.removeAll()
        setRole(.follower)
        setLeader(nil)
    }

    mutating func send(_ body: Message.Body, to peer: NodeID, term messageTerm: Term? = nil) {
        let message = Message(from: id, to: peer, term: messageTerm ?? term, body: body)
        if body.announcesDurableState {
            gatedMessages.append(message)
        } else {
            messagesNow.append(message)
        }
    }

    mutating func resetElectionTimer() {
        electionElapsed = 0
        let range = config.electionTimeoutTicks
        randomizedElectionTimeout = Int.random(in: range, using: &rng)
    }

    mutating func setRole(_ newRole: Role) {
        if role != newRole {
            events.append(.roleChanged(from: role, to: newRole, term: term))
            role = newRole
        }
    }

    mutating func setLeader(_ newLeader: NodeID?) {
        if leader != newLeader {
            leader = newLeader
            events.append(.leaderChanged(leader: newLeader, term: term))
        }
    }

    mutating func setTerm(_ newTerm: Term) {
        precondition(newTerm >= term, "term moved backwards from \(term) to \(newTerm)")
        if newTerm > term {
            term = newTerm
            vote = nil
        }
    }

    mutating func recordVote(for candidate: NodeID) {
        precondition(vote == nil || vote == candidate, "second vote in term \(term): had \(vote!), now \(candidate)")
        vote = candidate
    }

    /// Becomes a follower in `newTerm` (which may equal the current term) of `newLeader`.
    mutating func becomeFollower(term newTerm: Term, leader newLeader: NodeID?) {
        let wasLeader = role == .leader
        setTerm(newTerm)
        setRole(.follower)
        setLeader(newLeader)
        resetElectionTimer()
        votes.removeAll()
        if wasLeader { dropLeaderState() }
    }

    mutating func dropLeaderState() {
        progress.removeAll()
        if let target = leadTransferee {
            events.append(.transferAborted(to: target, term: term))
            leadTransferee = nil
        }
        for read in pendingReads {
            if read.requester == id { failedReads.append(read.context) }
        }
        pendingReads.removeAll()
        readRoundRequested = false
        broadcastRequested = false
    }
}

extension Message.Body {
    /// Messages that report state this node must have made durable first: a vote, or entries held.
    var announcesDurableState: Bool {
        switch self {
        case .requestVote(let v): !v.preVote
        case .requestVoteResponse(let r): !r.preVote
        case .appendEntriesResponse: true
        default: false
        }
    }
}
