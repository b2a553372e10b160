import RaftCore

/// How a ``NodeRuntime`` behaves, in ticks and counts: nothing in it depends on a real clock.
public struct RuntimeOptions: Sendable {
    /// The core's configuration (this node's id, the voters, timeouts in ticks).
    public var raft: RaftConfig
    /// A client request not answered within this many ticks fails with ``ClientError/timeout``.
    public var requestTimeoutTicks: UInt64
    /// A snapshot is taken once this many entries were applied since the last one (and see
    /// ``NodeRuntime``'s size rule).
    public var snapshotThresholdEntries: Int
    /// Pause between the 1 MiB slices of a snapshot file write, to leave the disk to the log's own syncs.
    public var snapshotSlicePauseMicroseconds: UInt32

    public init(
        raft: RaftConfig, requestTimeoutTicks: UInt64, snapshotThresholdEntries: Int,
        snapshotSlicePauseMicroseconds: UInt32 = 0
    ) {
        self.raft = raft
        self.requestTimeoutTicks = max(1, requestTimeoutTicks)
        self.snapshotThresholdEntries = snapshotThresholdEntries
        self.snapshotSlicePauseMicroseconds = snapshotSlicePauseMicroseconds
    }

    public var nodeID: NodeID { raft.id }
}
