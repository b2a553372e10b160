import RaftCore

/// Everything a ``NodeRuntime`` needs from the world, given to it: peers, a wall clock, background work and
/// observers. raftd plugs in SwiftNIO, the system clock and a dispatch queue; the simulator plugs in its simulated
/// network, simulated clocks and a seeded scheduler. The runtime itself does no I/O but through its storage (whose
/// file system is given to it too), reads no clock and makes no thread.
///
/// Every method is called on the runtime's loop.
public protocol NodeEnvironment: AnyObject {
    /// Sends messages to peers, best effort (the core retries what matters).
    func send(_ messages: [Message])
    /// Milliseconds since the Unix epoch by this node's wall clock. It may be skewed or jump: the runtime uses it
    /// only to stamp proposals, never to decide anything.
    func wallClockMilliseconds() -> UInt64
    /// Runs `job` away from the loop (it may take long: it encodes and writes a snapshot), then calls
    /// ``NodeRuntime/snapshotWritten(_:)`` with its result, back on the loop.
    func runSnapshotJob(_ job: SnapshotJob)
    /// A core event happened (elections, role changes, compaction…), with the term after it.
    func eventOccurred(_ event: RaftEvent, term: Term)
    /// Entries were made durable in this node's log (for `entries --follow`).
    func entriesPersisted(_ entries: [Entry])
    /// Storage failed: the node serves nothing from now on.
    func storageFailed(_ reason: String)
    /// An armed failpoint was reached with `crash` or `pause`: end the process, or stall the loop.
    func failpointReached(_ name: FailpointName, _ action: FailpointAction)
    /// Runs `apply`, which applies the committed entry at `index` to the state machine, so that the environment
    /// can time it (raftd's apply-duration metric and slow-apply warning). It must call `apply` exactly once.
    func applying(_ index: LogIndex, _ apply: () -> Void)
}

extension NodeEnvironment {
    /// Environments that never arm failpoints (the simulator) need not implement this.
    public func failpointReached(_ name: FailpointName, _ action: FailpointAction) {}
    /// Environments that do not time applies (the simulator) just apply.
    public func applying(_ index: LogIndex, _ apply: () -> Void) { apply() }
}

/// The work of writing one snapshot file: independent of the runtime, so it can run on another thread. It streams
/// a copy of the state machine into the file piece by piece (``StateMachine/writeSnapshot(_:)``).
public struct SnapshotJob: Sendable {
    public let metadata: SnapshotMetadata
    /// Writes the file, durably; returns the data's length.
    let write: @Sendable () throws -> UInt64

    init(metadata: SnapshotMetadata, write: @escaping @Sendable () throws -> UInt64) {
        self.metadata = metadata
        self.write = write
    }

    /// Encodes and writes the snapshot file, durably; returns what was written or the error.
    public func run() -> Result<WrittenSnapshot, any Error> {
        Result { WrittenSnapshot(metadata: metadata, dataBytes: try write()) }
    }
}

/// A snapshot file a ``SnapshotJob`` wrote.
public struct WrittenSnapshot: Sendable {
    public var metadata: SnapshotMetadata
    /// Length of the state machine's data in the file.
    public var dataBytes: UInt64
}
