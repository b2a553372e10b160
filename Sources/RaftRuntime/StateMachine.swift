import RaftCore

/// Who proposed a command: the node and its per-node sequence number. The runtime stamps every proposal with
/// one, and the state machine hands it back with the output, so the node that proposed a command can answer the
/// client waiting for it.
public struct ProposalID: Sendable, Hashable, CustomStringConvertible {
    public var origin: NodeID
    public var sequence: UInt64

    public init(origin: NodeID, sequence: UInt64) {
        self.origin = origin
        self.sequence = sequence
    }

    public var description: String { "\(origin)#\(sequence)" }
}

/// What applying one committed command produced.
public struct Applied<Output: Sendable>: Sendable {
    /// The proposal the command came from, when it can be decoded (a malformed entry may have none).
    public var proposal: ProposalID?
    public var output: Output

    public init(proposal: ProposalID?, output: Output) {
        self.proposal = proposal
        self.output = output
    }
}

/// A deterministic replicated state machine that a ``NodeRuntime`` drives: the application's side of Raft, in the
/// spirit of hashicorp/raft's `FSM`.
///
/// Every replica applies the same committed entries in the same order, so the implementation must be a pure
/// function of them: no clocks, no randomness, no iteration over unordered hashing (Swift seeds `Hasher` per
/// process). The runtime calls it only from its own loop, one call at a time.
///
/// Invariants the runtime relies on:
/// - ``apply(committed:)`` is called for every committed entry, no-ops included, in index order, and advances
///   ``appliedIndex`` to that entry's index (and ``appliedTerm`` to its term).
/// - ``snapshotData()`` captures the whole state, ``appliedIndex`` included, and ``restore(fromSnapshot:)`` of those
///   bytes yields an equal state on any replica; ``writeSnapshot(_:)`` and ``restore(fromSnapshotOf:chunks:)`` are
///   the same in pieces. A snapshot is taken off the runtime's loop from a copy of the
///   value, so a copy must be cheap (copy-on-write) and independent of the original.
public protocol StateMachine: Sendable {
    /// What a command returns to the client that proposed it.
    associatedtype Output: Sendable

    var appliedIndex: LogIndex { get }
    var appliedTerm: Term { get }

    /// Applies one committed entry. Returns nil for an entry that is not a command (a leader's no-op); otherwise
    /// the output and the proposal it answers.
    mutating func apply(committed entry: Entry) -> Applied<Output>?

    /// The whole state as bytes, for a snapshot.
    func snapshotData() -> [UInt8]

    /// Replaces the state with a snapshot's. Throws, leaving the state unchanged, if the bytes do not decode.
    mutating func restore(fromSnapshot data: [UInt8]) throws

    /// Hands the bytes of ``snapshotData()`` to `emit` in pieces. The runtime writes snapshot files through this, so
    /// a state machine with a large state should implement it and never hold its whole encoding; the default
    /// emits ``snapshotData()`` as one piece.
    func writeSnapshot(_ emit: ([UInt8]) throws -> Void) throws

    /// Replaces the state with a snapshot's whose bytes `next` hands out a chunk at a time (`totalBytes` in all,
    /// then nil). The runtime restores from files through this; `next` verifies the file's checksum at the end and
    /// throws if it fails, so the state must stay unchanged until `next` returned nil. The default gathers the
    /// chunks and calls ``restore(fromSnapshot:)``.
    mutating func restore(fromSnapshotOf totalBytes: UInt64, chunks next: @escaping () throws -> [UInt8]?) throws

    /// Lets go of the state, which a restore is about to replace. The runtime calls this before it restores a
    /// snapshot over a state it holds (a follower given a leader's snapshot), so that restoring a large state never
    /// holds the old one beside the new one. After it, the machine needs only to be restorable. The default keeps
    /// everything.
    mutating func releaseBeforeRestore()
}

extension StateMachine {
    public mutating func releaseBeforeRestore() {}

    public func writeSnapshot(_ emit: ([UInt8]) throws -> Void) throws {
        try emit(snapshotData())
    }

    public mutating func restore(fromSnapshotOf totalBytes: UInt64, chunks next: @escaping () throws -> [UInt8]?)
        throws
    {
        var data: [UInt8] = []
        data.reserveCapacity(Int(clamping: totalBytes))
        while let chunk = try next() { data.append(contentsOf: chunk) }
        try restore(fromSnapshot: data)
    }
}
