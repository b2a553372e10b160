/// Settings for one ``RaftNode``. All times are in logical ticks; the shell decides how long a tick is
/// (raftd uses 10 ms, so the defaults are a 150–300 ms election timeout and a 50 ms heartbeat).
///
/// Invariants (checked by ``validate()``): the member list contains ``id`` (unless ``joining``) and has no duplicates,
/// `1 <= heartbeatIntervalTicks < electionTimeoutTicks.lowerBound`, and every limit is positive.
public struct RaftConfig: Sendable, Hashable {
    public var id: NodeID
    /// The voting members the cluster started with, including ``id``. A configuration entry in the log or a
    /// snapshot's membership takes precedence: this is only the membership before the first change.
    public var voters: [NodeID]
    /// The learners the cluster started with.
    public var learners: [NodeID] = []
    /// A new member of a cluster that already exists: it starts with no membership of its own (``voters`` and
    /// ``learners`` are ignored), never campaigns, and learns who is in the cluster from the leader's log or
    /// snapshot (etcd's `--initial-cluster-state existing`).
    public var joining: Bool = false
    /// A follower that hears nothing from a leader for a duration drawn uniformly from this range starts an
    /// election (§5.2). The lower bound is also the leader lease used by CheckQuorum and PreVote.
    public var electionTimeoutTicks: ClosedRange<Int> = 15...30
    public var heartbeatIntervalTicks: Int = 5
    /// Ask "would you vote for me?" before bumping the term (§9.6).
    public var preVote: Bool = true
    /// A leader that has not heard from a quorum for an election timeout steps down (§6.2).
    public var checkQuorum: Bool = true
    /// AppendEntries messages in flight to one follower in the replicate state.
    public var maxInflightMessages: Int = 256
    /// Payload bytes per AppendEntries message (at least one entry is always sent).
    public var maxMessageBytes: Int = 1 << 20
    /// Payload bytes of AppendEntries in flight to one follower in the replicate state (as etcd-raft's
    /// `MaxInflightBytes`): what bounds the leader's memory while a follower catches up a long log, where
    /// ``maxInflightMessages`` full messages alone would allow hundreds of megabytes at once.
    public var maxInflightBytes: Int = 16 << 20
    /// At most this many bytes (``Entry/sizeBytes``) of durable, applied entries are kept in memory when the core
    /// has an ``EntryStorage``: what replication to followers a little behind needs. Entries every follower has
    /// acknowledged are dropped at once (and a follower keeps none), so an idle node holds none of them. Older
    /// entries are read from storage; without one the whole log since the snapshot stays in memory.
    public var entryCacheBytes: Int = 8 << 20
    /// Proposals are refused once the leader holds this many uncommitted entries.
    public var maxUncommittedEntries: Int = 100_000
    /// Payload bytes of committed entries handed out in one ``Ready``.
    public var maxApplyBytes: Int = 64 << 20
    /// The shell calls ``RaftNode/reportSnapshot(to:sent:)`` for every InstallSnapshot it sends. The leader then
    /// waits for a transfer to finish instead of sending the snapshot again each election timeout: a large
    /// snapshot that takes longer than that to send (or to install) is sent once, not over and over.
    public var snapshotSendsReported: Bool = false
    /// Seeds the generator that draws election timeouts; the only source of randomness in the core.
    public var randomSeed: UInt64

    public init(id: NodeID, voters: [NodeID], randomSeed: UInt64) {
        self.id = id
        self.voters = voters
        self.randomSeed = randomSeed
    }

    /// The membership before any configuration entry: none for a joining node.
    public var initialMembership: Membership? {
        joining ? nil : Membership(voters: voters, learners: learners)
    }

    /// Describes the first setting that breaks an invariant, or returns nil.
    public func validate() -> String? {
        if id.rawValue == 0 { return "node id 0 is reserved" }
        if !joining {
            if !voters.contains(id) && !learners.contains(id) {
                return "node \(id) is not in the member list \(voters + learners)"
            }
            if voters.isEmpty { return "a cluster needs at least one voter" }
            if Set(voters + learners).count != voters.count + learners.count {
                return "the member list \(voters + learners) names a node twice"
            }
            if (voters + learners).contains(where: { $0.rawValue == 0 }) { return "node id 0 is reserved" }
        }
        if heartbeatIntervalTicks < 1 { return "the heartbeat interval must be at least one tick" }
        if electionTimeoutTicks.lowerBound <= heartbeatIntervalTicks {
            return "the election timeout (\(electionTimeoutTicks)) must exceed the heartbeat interval"
                + " (\(heartbeatIntervalTicks))"
        }
        if maxInflightMessages < 1 || maxMessageBytes < 1 || maxInflightBytes < 1 || maxUncommittedEntries < 1
            || maxApplyBytes < 1 || entryCacheBytes < 1
        {
            return "message, in-flight, uncommitted, apply and entry cache limits must be positive"
        }
        return nil
    }
}
