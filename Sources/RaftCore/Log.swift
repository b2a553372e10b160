/// What an ``Entry`` carries.
public enum EntryKind: UInt8, Sendable, Hashable, CustomStringConvertible {
    /// An application command, opaque to the core.
    case command = 1
    /// The empty entry a new leader appends to commit an entry of its own term (§5.4.2, §8).
    case noop = 2
    /// A new membership (a ``ConfigurationEntry``). It takes effect on every node as soon as it is in the node's
    /// log, committed or not (dissertation §4.1); a node whose log loses it goes back to the one before.
    case configuration = 3

    public var description: String {
        switch self {
        case .command: "command"
        case .noop: "noop"
        case .configuration: "configuration"
        }
    }
}

/// One record of the replicated log. Once committed, an entry never changes (State Machine Safety).
public struct Entry: Sendable, Hashable, CustomStringConvertible {
    public var index: LogIndex
    public var term: Term
    public var kind: EntryKind
    /// The application's command bytes; empty for ``EntryKind/noop``.
    public var data: [UInt8]

    public init(index: LogIndex, term: Term, kind: EntryKind = .command, data: [UInt8] = []) {
        self.index = index
        self.term = term
        self.kind = kind
        self.data = data
    }

    /// Bytes this entry counts for in message and batch limits (payload plus a fixed header estimate).
    public var sizeBytes: Int { data.count + 24 }

    public var description: String {
        "\(index)@\(term.rawValue)" + (kind == .noop ? "(noop)" : kind == .configuration ? "(configuration)" : "")
    }
}

/// The state a node must persist before it answers anyone: losing it could let a node vote twice in one
/// term (§5.2, Figure 2 "Persistent state on all servers").
public struct HardState: Sendable, Hashable, CustomStringConvertible {
    public var term: Term
    /// The candidate this node voted for in ``term``, if any.
    public var vote: NodeID?
    /// Highest index known committed. Persisting it is an optimisation (restart re-applies less), not a
    /// safety requirement; it never decreases.
    public var commit: LogIndex

    public init(term: Term = .zero, vote: NodeID? = nil, commit: LogIndex = .zero) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }

    public var description: String { "term=\(term.rawValue) vote=\(vote?.description ?? "-") commit=\(commit)" }
}

/// Describes a snapshot: the state machine's state after applying every entry up to ``index``.
public struct SnapshotMetadata: Sendable, Hashable, CustomStringConvertible {
    public var index: LogIndex
    public var term: Term
    /// The voting members at ``index``.
    public var voters: [NodeID]
    /// The learners at ``index``.
    public var learners: [NodeID]
    /// The application's context of the configuration in effect at ``index`` (see ``ConfigurationEntry``).
    public var context: [UInt8]

    public init(index: LogIndex, term: Term, voters: [NodeID], learners: [NodeID] = [], context: [UInt8] = []) {
        self.index = index
        self.term = term
        self.voters = voters
        self.learners = learners
        self.context = context
    }

    /// The membership at ``index``.
    public var membership: Membership { Membership(voters: voters, learners: learners) }

    public var description: String { "snapshot@\(index)/t\(term.rawValue)" }
}

/// A snapshot handed between the application and the core. The bytes are opaque to the core; a shell that
/// streams snapshot files itself may leave ``data`` empty and attach the bytes at the transport.
public struct Snapshot: Sendable, Hashable {
    public var metadata: SnapshotMetadata
    public var data: [UInt8]

    public init(metadata: SnapshotMetadata, data: [UInt8]) {
        self.metadata = metadata
        self.data = data
    }
}

/// Everything a node had made durable, handed back to the core on restart.
public struct PersistentState: Sendable {
    public var hardState: HardState
    public var snapshot: Snapshot?
    /// Entries after the snapshot (or from index 1), contiguous and in order.
    public var entries: [Entry]

    public init(hardState: HardState = HardState(), snapshot: Snapshot? = nil, entries: [Entry] = []) {
        self.hardState = hardState
        self.snapshot = snapshot
        self.entries = entries
    }

    /// Nothing was ever persisted: a brand-new node, or one whose data directory was emptied.
    public var isEmpty: Bool { hardState == HardState() && snapshot == nil && entries.isEmpty }
}
