import RaftCore
import Testing

/// Everything one or more ``Ready`` batches held, with the messages that had to wait for persistence kept
/// apart from those that could go out at once.
struct Output {
    var messagesNow: [Message] = []
    /// Messages released only by ``Ready/messages(after:)``, i.e. after the batch was made durable.
    var gated: [Message] = []
    var hardStates: [HardState] = []
    var persistedEntries: [Entry] = []
    var snapshots: [Snapshot] = []
    var committed: [Entry] = []
    var readStates: [ReadState] = []
    var failedReads: [ReadContext] = []
    var events: [RaftEvent] = []

    var all: [Message] { messagesNow + gated }

    func to(_ peer: NodeID) -> [Message] { all.filter { $0.to == peer } }

    /// AppendEntries bodies sent to `peer`, in order.
    func appends(to peer: NodeID) -> [AppendEntries] {
        to(peer).compactMap { if case .appendEntries(let a) = $0.body { a } else { nil } }
    }

    func appendResponses(to peer: NodeID) -> [AppendEntriesResponse] {
        to(peer).compactMap { if case .appendEntriesResponse(let r) = $0.body { r } else { nil } }
    }

    func voteResponses(to peer: NodeID) -> [(term: Term, response: RequestVoteResponse)] {
        to(peer).compactMap {
            if case .requestVoteResponse(let r) = $0.body { ($0.term, r) } else { nil }
        }
    }

    func voteRequests() -> [(to: NodeID, term: Term, request: RequestVote)] {
        all.compactMap { if case .requestVote(let r) = $0.body { ($0.to, $0.term, r) } else { nil } }
    }

    func heartbeats(to peer: NodeID) -> [Heartbeat] {
        to(peer).compactMap { if case .heartbeat(let h) = $0.body { h } else { nil } }
    }

    mutating func merge(_ other: Output) {
        messagesNow += other.messagesNow
        gated += other.gated
        hardStates += other.hardStates
        persistedEntries += other.persistedEntries
        snapshots += other.snapshots
        committed += other.committed
        readStates += other.readStates
        failedReads += other.failedReads
        events += other.events
    }
}

extension RaftNode {
    /// Handles one ``Ready`` as a shell with instant, synchronous storage would, and returns what it held.
    mutating func driveOnce() -> Output {
        let ready = ready()
        var out = Output()
        out.messagesNow = ready.messagesNow
        out.gated = ready.messages(after: ready.persist.markDurable())
        if let hs = ready.persist.hardState { out.hardStates.append(hs) }
        out.persistedEntries = ready.persist.entries
        if let snapshot = ready.persist.snapshot { out.snapshots.append(snapshot) }
        out.committed = ready.committedEntries
        out.readStates = ready.readStates
        out.failedReads = ready.failedReads
        out.events = ready.events
        advance(ready)
        return out
    }

    /// Handles Ready batches until the node has nothing more to hand out.
    @discardableResult
    mutating func drive() -> Output {
        var out = Output()
        while hasReady { out.merge(driveOnce()) }
        return out
    }
}

/// A configuration for node `id` among `voters`, with the defaults (15–30 tick election timeout, 5 tick
/// heartbeat, PreVote and CheckQuorum on) unless `configure` changes them.
func ruleConfig(
    _ id: NodeID, voters: [NodeID] = [1, 2, 3], configure: (inout RaftConfig) -> Void = { _ in }
) -> RaftConfig {
    var config = RaftConfig(id: id, voters: voters, randomSeed: 42 &+ id.rawValue)
    configure(&config)
    return config
}

/// A node restored with a log whose entries have the given terms (indexes 1, 2, …).
func restoredNode(
    _ id: NodeID, voters: [NodeID] = [1, 2, 3], term: Term, vote: NodeID? = nil, commit: LogIndex = .zero,
    logTerms: [UInt64], configure: (inout RaftConfig) -> Void = { _ in }
) -> RaftNode {
    RaftNode(
        config: ruleConfig(id, voters: voters, configure: configure),
        restoring: PersistentState(
            hardState: HardState(term: term, vote: vote, commit: commit), entries: entries(logTerms)))
}

/// Entries with the given terms starting at `first`.
func entries(_ terms: [UInt64], from first: UInt64 = 1) -> [Entry] {
    terms.enumerated().map { Entry(index: LogIndex(first + UInt64($0.offset)), term: Term($0.element)) }
}

func message(_ from: NodeID, _ to: NodeID, _ term: Term, _ body: Message.Body) -> Message {
    Message(from: from, to: to, term: term, body: body)
}

func appendEntries(
    _ from: NodeID, _ to: NodeID, term: Term, prev: (index: UInt64, term: UInt64), entries: [Entry] = [],
    commit: UInt64 = 0
) -> Message {
    message(
        from, to, term,
        .appendEntries(
            AppendEntries(
                prevLogIndex: LogIndex(prev.index), prevLogTerm: Term(prev.term), entries: entries,
                leaderCommit: LogIndex(commit))))
}

func ack(_ from: NodeID, _ to: NodeID, term: Term, index: UInt64) -> Message {
    message(from, to, term, .appendEntriesResponse(AppendEntriesResponse(index: LogIndex(index), success: true)))
}

func voteRequest(
    _ from: NodeID, _ to: NodeID, term: Term, last: (index: UInt64, term: UInt64) = (0, 0), preVote: Bool = false,
    force: Bool = false
) -> Message {
    message(
        from, to, term,
        .requestVote(
            RequestVote(
                lastLogIndex: LogIndex(last.index), lastLogTerm: Term(last.term), preVote: preVote, force: force)))
}

func vote(_ from: NodeID, _ to: NodeID, term: Term, granted: Bool = true, preVote: Bool = false) -> Message {
    message(from, to, term, .requestVoteResponse(RequestVoteResponse(granted: granted, preVote: preVote)))
}

func heartbeat(_ from: NodeID, _ to: NodeID, term: Term, commit: UInt64 = 0, round: UInt64 = 1) -> Message {
    message(from, to, term, .heartbeat(Heartbeat(commit: LogIndex(commit), round: round)))
}

/// A follower of `leader` in `term` that has just heard from it (so it is inside the leader lease).
func followerOf(
    _ leader: NodeID, _ id: NodeID, term: Term = 1, voters: [NodeID] = [1, 2, 3],
    configure: (inout RaftConfig) -> Void = { _ in }
) -> RaftNode {
    var node = RaftNode(config: ruleConfig(id, voters: voters, configure: configure))
    node.step(heartbeat(leader, id, term: term))
    node.drive()
    return node
}

/// Node 1 as the leader of term 1, elected by the lowest-numbered peers' votes, with its noop committed on every follower (so
/// every follower is in the replicate state).
func electedLeader(
    voters: [NodeID] = [1, 2, 3], configure: (inout RaftConfig) -> Void = { _ in }
) -> RaftNode {
    var node = RaftNode(config: ruleConfig(1, voters: voters, configure: configure))
    node.campaign()
    node.drive()
    for peer in voters where peer != 1 && node.currentRole != .leader {
        node.step(vote(peer, 1, term: 1))
        node.drive()
    }
    precondition(node.currentRole == .leader)
    for peer in voters where peer != 1 { node.step(ack(peer, 1, term: 1, index: 1)) }
    node.drive()
    precondition(node.commitIndex == LogIndex(1))
    return node
}
