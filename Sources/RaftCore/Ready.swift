/// A read that the leader has confirmed linearizable: serve it once the state machine has applied `index`.
public struct ReadState: Sendable, Hashable {
    public var context: ReadContext
    public var index: LogIndex

    public init(context: ReadContext, index: LogIndex) {
        self.context = context
        self.index = index
    }
}

/// What must be made durable, all of it, before ``Ready/messages(after:)`` may be sent.
///
/// A shell MUST write, in this order, ``snapshot`` (if any: the log before it is gone), ``entries`` (the first
/// entry's index may be at or below the last stored one: every stored entry from that index on is discarded
/// first) and ``hardState``, then sync, then call ``markDurable()``.
public struct PersistWork: Sendable {
    public let hardState: HardState?
    public let snapshot: Snapshot?
    public let entries: [Entry]
    let readyNumber: UInt64

    /// Nothing to persist: the receipt can be taken at once.
    public var isEmpty: Bool { hardState == nil && snapshot == nil && entries.isEmpty }

    /// Declares that everything in this batch is on stable storage. Call it only after the sync returned.
    public func markDurable() -> PersistReceipt {
        PersistReceipt(readyNumber: readyNumber)
    }
}

/// Proof, by construction from ``PersistWork/markDurable()``, that one ``Ready``'s state is durable.
public struct PersistReceipt: Sendable {
    let readyNumber: UInt64
}

/// One batch of work from the core, in the spirit of etcd-raft's `Ready`.
///
/// A shell handles it in this order:
/// 1. send ``messagesNow`` (they never depend on this batch being durable: a leader may replicate entries
///    while it writes them itself, §10.2.1);
/// 2. persist ``persist`` and sync, then send ``messages(after:)`` with the receipt;
/// 3. install ``persist``'s snapshot into the state machine (if any), then apply ``committedEntries`` in order;
/// 4. serve the ``readStates`` whose index has been applied; fail ``failedReads``;
/// 5. call ``RaftNode/advance(_:)`` with this value before stepping the node again.
public struct Ready: Sendable {
    public let persist: PersistWork
    public let messagesNow: [Message]
    private let gatedMessages: [Message]
    /// Entries committed by the cluster, to apply to the state machine in order.
    public let committedEntries: [Entry]
    public let readStates: [ReadState]
    /// Reads this node accepted that can no longer be confirmed (it lost leadership): answer them with an error.
    public let failedReads: [ReadContext]
    public let events: [RaftEvent]
    let number: UInt64
    let persistThrough: LogIndex
    let applyThrough: LogIndex

    init(
        number: UInt64, persist: PersistWork, messagesNow: [Message], gatedMessages: [Message],
        committedEntries: [Entry], readStates: [ReadState], failedReads: [ReadContext], events: [RaftEvent],
        persistThrough: LogIndex, applyThrough: LogIndex
    ) {
        self.number = number
        self.persist = persist
        self.messagesNow = messagesNow
        self.gatedMessages = gatedMessages
        self.committedEntries = committedEntries
        self.readStates = readStates
        self.failedReads = failedReads
        self.events = events
        self.persistThrough = persistThrough
        self.applyThrough = applyThrough
    }

    /// Messages that announce this batch's state (votes, acknowledgements of appended entries): they may be
    /// sent only once ``persist`` is durable, which the receipt attests.
    public func messages(after receipt: PersistReceipt) -> [Message] {
        precondition(receipt.readyNumber == number, "receipt for ready \(receipt.readyNumber) used on ready \(number)")
        return gatedMessages
    }

    /// Every message in the batch, for harnesses that persist synchronously before sending anything.
    public func allMessages(after receipt: PersistReceipt) -> [Message] {
        messagesNow + messages(after: receipt)
    }
}

/// The role a node plays in its current term.
public enum Role: String, Sendable, Hashable, CustomStringConvertible {
    case follower
    case preCandidate = "pre-candidate"
    case candidate
    case leader

    public var description: String { rawValue }
}

/// Why an election started.
public enum ElectionReason: String, Sendable, Hashable {
    case timeout
    /// The runtime reported that the leader closed its connection (fast failover).
    case leaderConnectionClosed = "leader-connection-closed"
    case transfer
    case operatorRequest = "operator"
}

/// Something observable happened inside the core. The core logs nothing; shells render these.
public enum RaftEvent: Sendable, Hashable, CustomStringConvertible {
    case roleChanged(from: Role, to: Role, term: Term)
    case leaderChanged(leader: NodeID?, term: Term)
    case electionStarted(term: Term, preVote: Bool, reason: ElectionReason)
    case electionWon(term: Term)
    case steppedDown(term: Term, reason: String)
    case transferStarted(to: NodeID, term: Term)
    case transferAborted(to: NodeID, term: Term)
    case snapshotInstalled(index: LogIndex, term: Term)
    case logCompacted(through: LogIndex)
    /// A peer sent a message that breaks the protocol; it was dropped.
    case messageRejected(from: NodeID, reason: String)
    /// The membership this node follows changed: a configuration entry at `index` was appended (or a snapshot
    /// installed), or a log truncation went back to an earlier one.
    case membershipChanged(Membership, index: LogIndex)
    /// This node is no longer a member: a leader once its own removal committed (it steps down), any other node
    /// when its log holds the configuration that removed it. It no longer campaigns.
    case removedFromCluster(term: Term)
    /// The leader says this node holds entries through `acknowledged` (it caps the commit it sends at what the
    /// node acknowledged), but its log ends at `lastIndex`: the node lost entries, and perhaps the vote, it had
    /// made durable (a wiped or truncated data directory). It has halted: it never votes, acknowledges or
    /// campaigns again. It must leave the membership and rejoin as a new member, or be restored from a backup.
    case lostAcknowledgedEntries(leader: NodeID, acknowledged: LogIndex, lastIndex: LogIndex)

    public var description: String {
        switch self {
        case .roleChanged(let from, let to, let term): "role \(from) -> \(to) term=\(term.rawValue)"
        case .leaderChanged(let leader, let term): "leader \(leader?.description ?? "none") term=\(term.rawValue)"
        case .electionStarted(let term, let preVote, let reason):
            "\(preVote ? "pre-vote" : "election") started term=\(term.rawValue) reason=\(reason.rawValue)"
        case .electionWon(let term): "election won term=\(term.rawValue)"
        case .steppedDown(let term, let reason): "stepped down term=\(term.rawValue) reason=\(reason)"
        case .transferStarted(let to, let term): "transfer to \(to) started term=\(term.rawValue)"
        case .transferAborted(let to, let term): "transfer to \(to) aborted term=\(term.rawValue)"
        case .snapshotInstalled(let index, let term): "snapshot installed index=\(index) term=\(term.rawValue)"
        case .logCompacted(let through): "log compacted through=\(through)"
        case .messageRejected(let from, let reason): "message from \(from) rejected: \(reason)"
        case .membershipChanged(let membership, let index): "membership \(membership) at index=\(index)"
        case .removedFromCluster(let term): "removed from the cluster term=\(term.rawValue)"
        case .lostAcknowledgedEntries(let leader, let acknowledged, let lastIndex):
            "lost acknowledged entries: \(leader) says this node holds through \(acknowledged), its log ends at"
                + " \(lastIndex); halted"
        }
    }
}

/// A point-in-time description of a node, for status queries and tests.
public struct RaftStatus: Sendable, Hashable {
    public var id: NodeID
    public var role: Role
    public var term: Term
    public var vote: NodeID?
    public var leader: NodeID?
    public var commitIndex: LogIndex
    public var appliedIndex: LogIndex
    public var firstIndex: LogIndex
    public var lastIndex: LogIndex
    public var lastTerm: Term
    public var snapshotIndex: LogIndex
    public var leadTransferee: NodeID?
    /// The membership this node follows (the newest configuration in its log), or nil for a joining node that has
    /// not heard from a leader yet.
    public var membership: Membership?
    /// Only on a leader: each follower's (and learner's) replication progress.
    public var followers: [FollowerStatus]
}

/// One follower as its leader sees it.
public struct FollowerStatus: Sendable, Hashable {
    public var id: NodeID
    public var matchIndex: LogIndex
    public var nextIndex: LogIndex
    public var state: ReplicationState
    public var recentlyActive: Bool
    /// A learner: replicated to, never counted toward elections or commit.
    public var isLearner: Bool
}

/// Why the core refused a proposal or a request.
public enum RaftError: Error, Sendable, Hashable, CustomStringConvertible {
    case noLeader
    case transferInProgress(to: NodeID)
    case tooManyUncommitted(limit: Int)
    case unknownNode(NodeID)
    case notLeader(leader: NodeID?)
    /// The change is not possible from the current membership (already a member, not a learner, the last voter).
    case invalidMembershipChange(String)
    /// One membership change at a time: the previous one, at this index, is not committed yet.
    case membershipChangePending(at: LogIndex)
    /// A new leader must commit an entry of its own term before it changes the membership.
    case leaderNotReady
    /// A learner is promoted only once it holds every committed entry.
    case learnerBehind(NodeID, match: LogIndex, commit: LogIndex)
    /// The change would leave fewer live voters than a quorum of the new membership (unless forced).
    case wouldLoseQuorum(String)

    public var description: String {
        switch self {
        case .noLeader: "no leader is known; retry once one is elected"
        case .transferInProgress(let to): "leadership is being transferred to \(to); retry shortly"
        case .tooManyUncommitted(let limit): "the leader already holds \(limit) uncommitted entries; retry shortly"
        case .unknownNode(let id): "\(id) is not a member of this cluster"
        case .notLeader(let leader): "this node is not the leader (leader: \(leader?.description ?? "unknown"))"
        case .invalidMembershipChange(let reason): reason
        case .membershipChangePending(let index):
            "a membership change at index \(index) is not committed yet; one change at a time"
        case .leaderNotReady: "the leader has not committed an entry of its term yet; retry shortly"
        case .learnerBehind(let id, let match, let commit):
            "\(id) has not caught up (it holds through \(match), the commit index is \(commit)); retry once it has"
        case .wouldLoseQuorum(let reason): reason
        }
    }
}

/// What became of a proposal the core accepted.
public enum ProposeOutcome: Sendable, Hashable {
    /// This node is the leader and appended the entries, the first at this index.
    case appended(firstIndex: LogIndex, term: Term)
    /// Sent on to the leader; the application learns the outcome when the entry is applied.
    case forwarded(to: NodeID)
}
