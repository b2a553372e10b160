import RaftCore
import RaftRuntime

/// The key-value store is the state machine raftd replicates.
extension KVStore: StateMachine {
    public mutating func apply(committed entry: Entry) -> Applied<KVApplyResult>? {
        guard let result = apply(entry) else { return nil }
        return Applied(proposal: ProposalID(origin: result.origin, sequence: result.sequence), output: result)
    }

    public mutating func restore(fromSnapshot data: [UInt8]) throws {
        try restore(from: data)
    }

    public func writeSnapshot(_ emit: ([UInt8]) throws -> Void) throws {
        try writeSnapshot(pieceBytes: 1 << 20, emit)
    }

    public mutating func restore(fromSnapshotOf totalBytes: UInt64, chunks next: @escaping () throws -> [UInt8]?)
        throws
    {
        try restore(totalBytes: totalBytes, chunks: next)
    }

    /// Keeps only the windows (a restore takes the snapshot's).
    public mutating func releaseBeforeRestore() {
        self = emptyWithSameWindows
    }
}

extension KVCommand {
    /// The bytes the runtime appends for this command proposed as `proposal` at wall-clock time `now`: raftd's
    /// HTTP handler and the simulator's clients both propose through this.
    public func encoded(as proposal: ProposalID, at now: UInt64) -> [UInt8] {
        var command = self
        command.origin = proposal.origin
        command.sequence = proposal.sequence
        command.timestampMilliseconds = now
        return command.encoded()
    }
}
