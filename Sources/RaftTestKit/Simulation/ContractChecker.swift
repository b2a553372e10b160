import RaftCore

/// Checks the properties that ``SafetyChecker`` does not: that the core keeps its persist-before-send contract
/// (the ``Ready`` rule that makes votes and acknowledgements survive crashes, Figure 2 "Persistent state"), that
/// no node votes twice in a term across restarts (§5.2), and Leader Append-Only (Figure 3).
///
/// It looks at a node's durable ``MemoryStorage`` when the node's messages are about to leave, so a core that
/// announces state it has not handed out for persistence is caught even when no crash happens to expose it.
/// Invariant: it never traps; it collects ``violations`` (at most 50).
public struct ContractChecker: Sendable {
    private struct VoteKey: Hashable, Sendable {
        var node: NodeID
        var term: Term
    }

    private struct LeaderMark: Sendable {
        var term: Term
        var lastIndex: LogIndex
        var lastTerm: Term
    }

    public private(set) var violations: [String] = []
    private var votes: [VoteKey: NodeID] = [:]
    private var highestDurableTerm: [NodeID: Term] = [:]
    private var leaderMarks: [NodeID: LeaderMark] = [:]

    public init() {}

    /// `message` is about to leave `node`, whose durable state is `storage` and in-memory log is `raft`.
    public mutating func observeSend(_ message: Message, storage: MemoryStorage, raft: RaftNode) {
        let id = message.from
        let durable = storage.hardState
        switch message.body {
        case .requestVote(let request) where !request.preVote:
            if durable.term != message.term || durable.vote != id {
                record(
                    "\(id) asked for votes in term \(message.term.rawValue) before persisting its own vote (\(durable))"
                )
            }
        case .requestVoteResponse(let response) where !response.preVote && response.granted:
            if durable.term != message.term || durable.vote != message.to {
                record(
                    "\(id) granted its vote to \(message.to) in term \(message.term.rawValue) before persisting it"
                        + " (\(durable))")
            }
        case .appendEntriesResponse(let response) where response.success:
            if durable.term < message.term {
                record("\(id) acknowledged entries in term \(message.term.rawValue) with durable term \(durable.term)")
            }
            if storage.lastIndex < response.index {
                record(
                    "\(id) acknowledged entries through \(response.index) but persisted only through \(storage.lastIndex)"
                )
            } else if let stored = Self.storedEntry(at: response.index, in: storage),
                let held = raft.entry(at: response.index), stored != held
            {
                record("\(id) acknowledged \(held) at \(response.index) but persisted \(stored) there")
            }
        default:
            break
        }
    }

    /// Called after every drain of a running node.
    public mutating func observe(node id: NodeID, raft: RaftNode, storage: MemoryStorage) {
        let durable = storage.hardState
        if let highest = highestDurableTerm[id], durable.term < highest {
            record("\(id)'s durable term went back from \(highest.rawValue) to \(durable.term.rawValue)")
        }
        highestDurableTerm[id] = max(highestDurableTerm[id] ?? .zero, durable.term)
        if let vote = durable.vote {
            let key = VoteKey(node: id, term: durable.term)
            if let prior = votes[key], prior != vote {
                record("\(id) voted for \(prior) and then for \(vote) in term \(durable.term.rawValue)")
            } else {
                votes[key] = vote
            }
        }
        if raft.currentRole == .leader {
            let term = raft.currentTerm
            let last = raft.lastIndex
            if let mark = leaderMarks[id], mark.term == term {
                // A leader's own entries are never compacted before it appended them, so the mark is still held
                // unless a snapshot covers it (then it was committed and cannot have changed).
                let heldTerm = raft.entry(at: mark.lastIndex)?.term ?? mark.lastTerm
                if last < mark.lastIndex || heldTerm != mark.lastTerm {
                    record(
                        "leader append-only: \(id), leader of term \(term.rawValue), had \(mark.lastIndex)@"
                            + "\(mark.lastTerm.rawValue) and now ends at \(last)")
                }
            }
            let lastTerm = raft.entry(at: last)?.term ?? term
            leaderMarks[id] = LeaderMark(term: term, lastIndex: last, lastTerm: lastTerm)
        } else {
            leaderMarks[id] = nil
        }
    }

    /// A crash ends any leadership; a restarted node starts a fresh mark.
    public mutating func noteCrash(of id: NodeID) {
        leaderMarks[id] = nil
    }

    private static func storedEntry(at index: LogIndex, in storage: MemoryStorage) -> Entry? {
        let base = storage.snapshot?.metadata.index ?? .zero
        guard index > base, index <= storage.lastIndex else { return nil }
        return storage.entries[Int(index.rawValue - base.rawValue - 1)]
    }

    private mutating func record(_ violation: String) {
        if violations.count < 50 { violations.append("contract: " + violation) }
    }
}
