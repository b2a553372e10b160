import RaftCore

/// Something recovery changed on disk to make the data directory consistent. The library logs nothing; the
/// caller should log every repair, because each one means a crash interrupted a write.
public enum RecoveryRepair: Sendable, Hashable, CustomStringConvertible {
    /// The last segment ended in an incomplete or unverifiable record that no valid record follows: a write the
    /// crash interrupted, never acknowledged. The file was cut back to `byteOffset`.
    case truncatedTornTail(path: String, byteOffset: UInt64, discardedBytes: UInt64, reason: String)
    /// The last segment was created but its header never became complete; it held no records.
    case removedIncompleteSegment(path: String, sizeBytes: UInt64)
    /// A temporary file of an interrupted snapshot write or transfer.
    case removedTemporaryFile(path: String)
    /// Entries after a snapshot whose term differs from the log's entry at the snapshot index: the snapshot came
    /// from a leader and supersedes them (Raft §7: "discard the entire log"); a crash hit before the log reset was
    /// recorded.
    case discardedEntriesSupersededBySnapshot(snapshotIndex: LogIndex, count: Int)

    public var description: String {
        switch self {
        case .truncatedTornTail(let path, let byteOffset, let discardedBytes, let reason):
            "truncated torn tail of \(path) at byte offset \(byteOffset) (\(discardedBytes) bytes discarded: \(reason))"
        case .removedIncompleteSegment(let path, let sizeBytes):
            "removed incomplete segment \(path) (\(sizeBytes) bytes, header never completed)"
        case .removedTemporaryFile(let path):
            "removed temporary file \(path)"
        case .discardedEntriesSupersededBySnapshot(let snapshotIndex, let count):
            "discarded \(count) entries after snapshot at \(snapshotIndex) that the snapshot supersedes"
        }
    }
}

/// What ``NodeStorage`` found on open: the durable state to hand to the consensus core, and the repairs made.
public struct RecoveryReport: Sendable {
    /// The recovered hard state and log. Its snapshot carries the metadata only (empty `data`): recovery verifies
    /// the snapshot file a chunk at a time and keeps none of it. Read the bytes with
    /// ``NodeStorage/snapshotDataReader(for:)`` (in chunks) or ``NodeStorage/loadNewestSnapshot()`` (whole).
    public var state: PersistentState
    public var repairs: [RecoveryRepair]
    public var segmentCount: Int
}
