import RaftCore
import RaftStorage

/// The real storage under a simulated node: `NodeStorage` (write-ahead log, snapshots, recovery) on an
/// `InMemoryFileSystem` that forgets every byte not synced when the node crashes.
///
/// A `SimNode` with a backend saves every Ready and snapshot here as well as in its `MemoryStorage` model. On
/// restart the file system crashes, the storage recovers through the same code a real node runs, and the
/// recovered state must equal the model: a write-ahead log or recovery bug then fails the simulation at the
/// restart that exposes it, with the seed.
///
/// `@unchecked Sendable`: a backend belongs to exactly one `SimNode`, and a simulation runs on one thread from
/// start to end; no backend is ever touched by two threads.
public final class DurableBackend: @unchecked Sendable {
    public let fileSystem = InMemoryFileSystem()
    let options: StorageOptions
    private var storage: NodeStorage?
    /// Recoveries so far, and the repairs (torn tails) they made.
    public private(set) var recoveries = 0

    public init(nodeID: NodeID, segmentSizeBytes: Int = 16 * 1024) {
        options = StorageOptions(
            directory: "/data", clusterID: ClusterID(0x5157), nodeID: nodeID, segmentSizeBytes: segmentSizeBytes)
        storage = Self.open(options, fileSystem)
    }

    private static func open(_ options: StorageOptions, _ fileSystem: InMemoryFileSystem) -> NodeStorage {
        do {
            return try NodeStorage(options: options, fileSystem: fileSystem)
        } catch {
            preconditionFailure("durable backend of \(options.nodeID): cannot open storage: \(error)")
        }
    }

    func persist(_ work: PersistWork) {
        guard !work.isEmpty else { return }
        do {
            try storage!.save(hardState: work.hardState, snapshot: work.snapshot, entries: work.entries)
        } catch {
            preconditionFailure("durable backend of \(options.nodeID): save failed: \(error)")
        }
    }

    func saveSnapshot(_ snapshot: Snapshot) {
        do {
            try storage!.saveSnapshot(snapshot)
        } catch {
            preconditionFailure("durable backend of \(options.nodeID): snapshot failed: \(error)")
        }
    }

    /// Crashes the file system (dropping unsynced bytes), reopens the storage and returns what it recovered.
    func crashAndRecover() -> PersistentState {
        storage?.close()
        storage = nil
        fileSystem.simulateCrash()
        let reopened = Self.open(options, fileSystem)
        storage = reopened
        recoveries += 1
        // Recovery keeps only the snapshot's metadata; this core-level simulation hands snapshots around as bytes.
        var state = reopened.recovery.state
        if state.snapshot != nil {
            do {
                state.snapshot = try reopened.loadNewestSnapshot()
            } catch {
                preconditionFailure(
                    "durable backend of \(options.nodeID): the recovered snapshot does not load: \(error)")
            }
        }
        return state
    }
}
