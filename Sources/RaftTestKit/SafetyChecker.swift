import RaftCore

/// Watches a cluster step by step and records every breach of Raft's safety properties (§5.2, Figure 3):
///
/// - Election Safety: at most one leader per term.
/// - State Machine Safety: no two nodes apply different entries at one index.
/// - Committed entries never change or disappear: every node's committed prefix agrees with every other's
///   (which, with the check below, covers Log Matching on the committed prefix).
/// - Leader Completeness: a new leader holds every entry committed before its term.
///
/// It never traps: it collects messages so that a failing test (or simulation seed) can print them all.
public struct SafetyChecker: Sendable {
    public private(set) var violations: [String] = []
    private var leaderByTerm: [Term: NodeID] = [:]
    private var appliedAt: [LogIndex: Entry] = [:]
    private var committedAt: [LogIndex: Entry] = [:]
    private var highestCommitted: LogIndex = .zero
    private var checkedCommit: [NodeID: LogIndex] = [:]

    public init() {}

    /// The highest index known committed anywhere.
    public var committedIndex: LogIndex { highestCommitted }

    /// The committed entry at `index`, as first observed.
    public func committedEntry(at index: LogIndex) -> Entry? { committedAt[index] }

    public mutating func observe(node id: NodeID, raft: RaftNode, applied: [Entry]) {
        let status = raft.status
        if status.role == .leader {
            if let other = leaderByTerm[status.term], other != id {
                record("election safety: \(other) and \(id) are both leader in term \(status.term.rawValue)")
            } else if leaderByTerm[status.term] == nil {
                leaderByTerm[status.term] = id
                checkLeaderCompleteness(id, raft)
            }
        }
        for entry in applied {
            if let prior = appliedAt[entry.index] {
                if prior != entry {
                    record(
                        "state machine safety: \(id) applied \(entry) at \(entry.index), another node applied \(prior)")
                }
            } else {
                appliedAt[entry.index] = entry
            }
            noteCommitted(entry, by: id)
        }
        // Everything at or below this node's commit index that it still holds must agree with what is committed.
        var index = max(checkedCommit[id] ?? .zero, status.snapshotIndex).next
        while index <= status.commitIndex {
            if let entry = raft.entry(at: index) { noteCommitted(entry, by: id) }
            index = index.next
        }
        checkedCommit[id] = max(checkedCommit[id] ?? .zero, status.commitIndex)
    }

    /// A restarted node rebuilds its log from storage; re-check its committed prefix from the start.
    public mutating func noteRestart(of id: NodeID) {
        checkedCommit[id] = nil
    }

    private mutating func noteCommitted(_ entry: Entry, by id: NodeID) {
        if let prior = committedAt[entry.index] {
            if prior != entry {
                record("committed entry changed: \(id) holds \(entry) at \(entry.index) but \(prior) was committed")
            }
        } else {
            committedAt[entry.index] = entry
            if entry.index > highestCommitted { highestCommitted = entry.index }
        }
    }

    private mutating func checkLeaderCompleteness(_ id: NodeID, _ raft: RaftNode) {
        let status = raft.status
        var index = status.snapshotIndex.next
        while index <= highestCommitted {
            if let committed = committedAt[index], committed.term < status.term {
                guard let mine = raft.entry(at: index) else {
                    record(
                        "leader completeness: leader \(id) of term \(status.term.rawValue) lacks committed \(committed)"
                    )
                    return
                }
                if mine != committed {
                    record(
                        "leader completeness: leader \(id) of term \(status.term.rawValue) has \(mine) where \(committed) was committed"
                    )
                    return
                }
            }
            index = index.next
        }
    }

    private mutating func record(_ violation: String) {
        if violations.count < 50 { violations.append(violation) }
    }
}
