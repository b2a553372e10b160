import RaftCore

/// Why storage refused to open, or refused a write.
///
/// Every case names the file or directory involved and, where there is one, what the operator should do.
public enum StorageError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A system call failed; the log has entered the failed state if this happened on the write path.
    case io(FileSystemError)
    /// Bytes that were once written completely no longer verify: bad checksum, bad header, a record that breaks
    /// the log's order. Nothing is repaired automatically because acknowledged data could be lost.
    case corrupt(path: String, byteOffset: UInt64, reason: String)
    /// The directory belongs to another cluster or node.
    case foreignDirectory(path: String, reason: String)
    /// Another process (or another open ``NodeStorage`` in this process) holds the directory lock.
    case locked(directory: String, holderPID: Int32?)
    /// An earlier write or sync failed; no further writes are accepted until the node restarts and recovers.
    indirect case failed(cause: StorageError)
    /// A file has a format version this build cannot read.
    case unsupportedVersion(path: String, version: UInt32)
    /// The storage (or group-commit front end) was closed.
    case closed
    /// A snapshot transfer delivered bytes out of order or that do not verify.
    case snapshotTransfer(reason: String)

    public var description: String {
        switch self {
        case .io(let error):
            return "storage I/O error: \(error)"
        case .corrupt(let path, let byteOffset, let reason):
            return "corrupt data in \(path) at byte offset \(byteOffset): \(reason). The node stops rather than"
                + " drop data that may have been acknowledged. Restore this data directory from a backup, or remove"
                + " the node from the cluster, delete its data directory and add it back so it catches up from the"
                + " leader"
        case .foreignDirectory(let path, let reason):
            return "data directory \(path) is not this node's: \(reason). Check --data-dir, the cluster id and the"
                + " node id"
        case .locked(let directory, let holderPID):
            let holder = holderPID.map { "process \($0)" } ?? "another process"
            return "data directory \(directory) is locked by \(holder); is another node running on it?"
        case .failed(let cause):
            return "storage is in the failed state and accepts no more writes (cause: \(cause)); restart the node"
                + " after fixing the disk"
        case .unsupportedVersion(let path, let version):
            return "\(path) has format version \(version), which this build cannot read"
        case .closed:
            return "storage is closed"
        case .snapshotTransfer(let reason):
            return "snapshot transfer failed: \(reason)"
        }
    }
}
