/// An opaque token the application attaches to a ReadIndex request, returned in the matching ``ReadState``.
public struct ReadContext: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "r\(rawValue)" }
}

/// A message between two cluster members. The core never sees a message it did not validate structurally at
/// the wire layer; it still treats every field as untrusted input and never traps on one.
public struct Message: Sendable, Hashable, CustomStringConvertible {
    public var from: NodeID
    public var to: NodeID
    /// The sender's term (for a pre-vote request: the term the sender would campaign in).
    public var term: Term
    public var body: Body

    public init(from: NodeID, to: NodeID, term: Term, body: Body) {
        self.from = from
        self.to = to
        self.term = term
        self.body = body
    }

    /// The kinds of message in the protocol, named as in the Raft paper.
    public enum Body: Sendable, Hashable {
        case requestVote(RequestVote)
        case requestVoteResponse(RequestVoteResponse)
        case appendEntries(AppendEntries)
        case appendEntriesResponse(AppendEntriesResponse)
        case heartbeat(Heartbeat)
        case heartbeatResponse(HeartbeatResponse)
        case installSnapshot(Snapshot)
        /// Leadership transfer: the receiver campaigns at once, exempt from leader leases (§3.10).
        case timeoutNow
        /// A follower forwards proposals to the leader it knows.
        case propose([[UInt8]])
        /// A follower asks the leader for a read index (§6.4).
        case readIndex(ReadContext)
        case readIndexResponse(ReadIndexResponse)
        /// A follower forwards an operator's transfer request to the leader.
        case transferLeader(NodeID)
    }

    public var description: String {
        "\(from)->\(to) \(term) \(body)"
    }
}

public struct RequestVote: Sendable, Hashable {
    public var lastLogIndex: LogIndex
    public var lastLogTerm: Term
    /// A pre-vote asks "would you vote for me?" without anyone changing term (§9.6).
    public var preVote: Bool
    /// Set for elections started by leadership transfer or an operator: voters grant despite a live leader.
    public var force: Bool

    public init(lastLogIndex: LogIndex, lastLogTerm: Term, preVote: Bool, force: Bool) {
        self.lastLogIndex = lastLogIndex
        self.lastLogTerm = lastLogTerm
        self.preVote = preVote
        self.force = force
    }
}

public struct RequestVoteResponse: Sendable, Hashable {
    public var granted: Bool
    public var preVote: Bool

    public init(granted: Bool, preVote: Bool) {
        self.granted = granted
        self.preVote = preVote
    }
}

public struct AppendEntries: Sendable, Hashable {
    public var prevLogIndex: LogIndex
    public var prevLogTerm: Term
    public var entries: [Entry]
    public var leaderCommit: LogIndex

    public init(prevLogIndex: LogIndex, prevLogTerm: Term, entries: [Entry], leaderCommit: LogIndex) {
        self.prevLogIndex = prevLogIndex
        self.prevLogTerm = prevLogTerm
        self.entries = entries
        self.leaderCommit = leaderCommit
    }
}

public struct AppendEntriesResponse: Sendable, Hashable {
    /// On success: the follower's log matches the leader's through this index (and it is durable).
    /// On rejection: the `prevLogIndex` that did not match.
    public var index: LogIndex
    public var success: Bool
    /// Rejection hint for fast backtracking: the first index of ``conflictTerm`` in the follower's log, or
    /// one past its last index if its log is too short.
    public var conflictIndex: LogIndex
    /// The term of the follower's entry at `prevLogIndex`, or nil if it has no entry there.
    public var conflictTerm: Term?

    public init(index: LogIndex, success: Bool, conflictIndex: LogIndex = .zero, conflictTerm: Term? = nil) {
        self.index = index
        self.success = success
        self.conflictIndex = conflictIndex
        self.conflictTerm = conflictTerm
    }
}

public struct Heartbeat: Sendable, Hashable {
    /// The leader's commit index, capped at what the receiver is known to hold.
    public var commit: LogIndex
    /// The leader's heartbeat round, echoed back; ReadIndex waits for a quorum to echo a round started after
    /// the read arrived.
    public var round: UInt64

    public init(commit: LogIndex, round: UInt64) {
        self.commit = commit
        self.round = round
    }
}

public struct HeartbeatResponse: Sendable, Hashable {
    public var round: UInt64
    public init(round: UInt64) { self.round = round }
}

public struct ReadIndexResponse: Sendable, Hashable {
    public var context: ReadContext
    public var index: LogIndex
    public init(context: ReadContext, index: LogIndex) {
        self.context = context
        self.index = index
    }
}

extension Message.Body: CustomStringConvertible {
    public var description: String {
        switch self {
        case .requestVote(let v):
            "\(v.preVote ? "PreVote" : "RequestVote") last=\(v.lastLogIndex)@\(v.lastLogTerm.rawValue)"
                + (v.force ? " force" : "")
        case .requestVoteResponse(let r):
            "\(r.preVote ? "PreVoteResponse" : "RequestVoteResponse") \(r.granted ? "granted" : "rejected")"
        case .appendEntries(let a):
            "AppendEntries prev=\(a.prevLogIndex)@\(a.prevLogTerm.rawValue) entries=\(a.entries.map(\.description)) commit=\(a.leaderCommit)"
        case .appendEntriesResponse(let r):
            r.success
                ? "AppendEntriesResponse ok index=\(r.index)"
                : "AppendEntriesResponse reject index=\(r.index) hint=\(r.conflictIndex)@\(r.conflictTerm.map { String($0.rawValue) } ?? "-")"
        case .heartbeat(let h): "Heartbeat commit=\(h.commit) round=\(h.round)"
        case .heartbeatResponse(let h): "HeartbeatResponse round=\(h.round)"
        case .installSnapshot(let s): "InstallSnapshot \(s.metadata.index)@\(s.metadata.term.rawValue)"
        case .timeoutNow: "TimeoutNow"
        case .propose(let p): "Propose count=\(p.count)"
        case .readIndex(let c): "ReadIndex \(c)"
        case .readIndexResponse(let r): "ReadIndexResponse \(r.context) index=\(r.index)"
        case .transferLeader(let t): "TransferLeader to=\(t)"
        }
    }
}

extension Message {
    /// The largest index or term a message may carry: 2^62. No log reaches that many entries and no cluster that
    /// many terms; refusing anything beyond at the door means no index or term arithmetic in the core (`next`,
    /// distances, a campaign's next term) can overflow on what a peer sent, and every index and term stays far
    /// inside what JSON readers and `Int` hold.
    public static let largestAcceptedValue: UInt64 = 1 << 62

    /// Whether every index and term in the message is at most ``largestAcceptedValue``.
    public var isWithinBounds: Bool {
        let limit = Self.largestAcceptedValue
        guard term.rawValue <= limit else { return false }
        switch body {
        case .requestVote(let v): return v.lastLogIndex.rawValue <= limit && v.lastLogTerm.rawValue <= limit
        case .appendEntries(let a):
            return a.prevLogIndex.rawValue <= limit && a.prevLogTerm.rawValue <= limit
                && a.leaderCommit.rawValue <= limit
                && a.entries.allSatisfy { $0.index.rawValue <= limit && $0.term.rawValue <= limit }
        case .appendEntriesResponse(let r):
            return r.index.rawValue <= limit && r.conflictIndex.rawValue <= limit
                && (r.conflictTerm?.rawValue ?? 0) <= limit
        case .heartbeat(let h): return h.commit.rawValue <= limit
        case .installSnapshot(let s): return s.metadata.index.rawValue <= limit && s.metadata.term.rawValue <= limit
        case .readIndexResponse(let r): return r.index.rawValue <= limit
        case .requestVoteResponse, .heartbeatResponse, .timeoutNow, .propose, .readIndex, .transferLeader:
            return true
        }
    }
}
