/// Settings for one ``RaftNode``. All times are in logical ticks; the shell decides how long a tick is
/// (raftd uses 10 ms, so the defaults are a 150–300 ms election timeout and a 50 ms heartbeat).
///
/// Invariants (checked by ``validate()``): the member list contains ``id`` and has no duplicates,
/// `1 <= heartbeatIntervalTicks < electionTimeoutTicks.lowerBound`, and every limit is positive.
public struct RaftConfig: Sendable, Hashable {
    public var id: NodeID
    /// Every voting member, including ``id``.
    public var voters: [NodeID]
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
    /// Proposals are refused once the leader holds this many uncommitted entries.
    public var maxUncommittedEntries: Int = 100_000
    /// Payload bytes of committed entries handed out in one ``Ready``.
    public var maxApplyBytes: Int = 64 << 20
    /// Seeds the generator that draws election timeouts; the only source of randomness in the core.
    public var randomSeed: UInt64

    public init(id: NodeID, voters: [NodeID], randomSeed: UInt64) {
        self.id = id
        self.voters = voters
        self.randomSeed = randomSeed
    }

    /// A quorum: a majority of the voters.
    public var quorum: Int { voters.count / 2 + 1 }

    /// Describes the first setting that breaks an invariant, or returns nil.
    public func validate() -> String? {
        if !voters.contains(id) { return "node \(id) is not in the member list \(voters)" }
        if Set(voters).count != voters.count { return "the member list \(voters) names a node twice" }
        if voters.contains(where: { $0.rawValue == 0 }) { return "node id 0 is reserved" }
        if heartbeatIntervalTicks < 1 { return "the heartbeat interval must be at least one tick" }
        if electionTimeoutTicks.lowerBound <= heartbeatIntervalTicks {
            return "the election timeout (\(electionTimeoutTicks)) must exceed the heartbeat interval"
                + " (\(heartbeatIntervalTicks))"
        }
        if maxInflightMessages < 1 || maxMessageBytes < 1 || maxUncommittedEntries < 1 || maxApplyBytes < 1 {
            return "message, in-flight, uncommitted and apply limits must be positive"
        }
        return nil
    }
}
