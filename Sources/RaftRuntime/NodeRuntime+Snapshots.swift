import RaftCore
import RaftStorage

/// Snapshots the node takes of its own state machine: when (the policy) and how (off the loop).
extension NodeRuntime {
    /// A snapshot is due once `snapshotThresholdEntries` entries were applied since the last one and the log they
    /// make up has reached a quarter of that snapshot's size. The second rule (the dissertation's §5.1.1 policy)
    /// changes nothing for a small state; for a large one it stops the node from rewriting, say, a 30 MB state
    /// for every 10,000 small writes, while the log still stays below a quarter of the state.
    var snapshotDue: Bool {
        !snapshotInProgress
            && stateMachine.appliedIndex.rawValue
                >= lastSnapshotIndex.rawValue + UInt64(options.snapshotThresholdEntries)
            && appliedBytesSinceSnapshot >= lastSnapshotBytes / 4
    }

    /// Takes a snapshot at the applied index now (or joins the one in progress); `completion` gets the index
    /// the newest snapshot covers once it is durable.
    public func snapshotNow(completion: @escaping (Result<LogIndex, ClientError>) -> Void) {
        if let failure = storageFailure { return completion(.failure(.storageFailed(failure))) }
        if stopped { return completion(.failure(.unavailable("the node is shutting down"))) }
        snapshotWaiters.append(completion)
        if !snapshotInProgress && !startSnapshot() {
            answerSnapshotWaiters(.success(lastSnapshotIndex))
        }
    }

    /// Captures the state machine (a copy-on-write copy: nothing is copied here) and hands the encoding and writing
    /// to the environment, so a large snapshot never stalls the loop. Returns false when there is nothing new.
    @discardableResult
    func startSnapshot() -> Bool {
        guard !snapshotInProgress, stateMachine.appliedIndex > lastSnapshotIndex, let environment else {
            return false
        }
        snapshotInProgress = true
        let machine = stateMachine
        // The snapshot carries the membership in effect at its index (a configuration entry may follow it).
        let membership = raft.membership(at: machine.appliedIndex) ?? Membership(voters: raft.config.voters)
        let metadata = SnapshotMetadata(
            index: machine.appliedIndex, term: machine.appliedTerm, voters: membership.voters,
            learners: membership.learners, context: raft.membershipContext(at: machine.appliedIndex))
        let storageOptions = storage.options
        let fileSystem = storage.fileSystem
        let pause = options.snapshotSlicePauseMicroseconds
        environment.runSnapshotJob(
            SnapshotJob(metadata: metadata) {
                try NodeStorage.writeSnapshotFile(
                    metadata: metadata, options: storageOptions, fileSystem: fileSystem,
                    pauseBetweenSlicesMicroseconds: pause
                ) { emit in try machine.writeSnapshot(emit) }
            })
        return true
    }

    /// The environment finished a ``SnapshotJob``: compact the log through it (on the loop).
    public func snapshotWritten(_ result: Result<WrittenSnapshot, any Error>) {
        snapshotInProgress = false
        guard isServing else {
            answerSnapshotWaiters(.failure(.unavailable("the node stopped while taking a snapshot")))
            return
        }
        switch result {
        case .failure(let error):
            enterStorageFailure("snapshot failed: \(error)")
            answerSnapshotWaiters(.failure(.storageFailed("\(error)")))
        case .success(let snapshot):
            let index = snapshot.metadata.index
            // A snapshot from the leader may have replaced the log meanwhile; ours is then outdated.
            guard index > lastSnapshotIndex, storage.term(at: index) == snapshot.metadata.term else {
                answerSnapshotWaiters(.success(lastSnapshotIndex))
                return
            }
            do {
                // The file is in place: this only records it and compacts.
                try storage.saveSnapshot(Snapshot(metadata: snapshot.metadata, data: []))
            } catch {
                enterStorageFailure("snapshot failed: \(error)")
                answerSnapshotWaiters(.failure(.storageFailed("\(error)")))
                return
            }
            // The core keeps the metadata only; the environment sends the file (see `snapshotFilePath(for:)`).
            raft.compact(Snapshot(metadata: snapshot.metadata, data: []))
            lastSnapshotIndex = index
            lastSnapshotBytes = Int(clamping: snapshot.dataBytes)
            appliedBytesSinceSnapshot = 0
            environment?.eventOccurred(.logCompacted(through: index), term: raft.currentTerm)
            answerSnapshotWaiters(.success(index))
            flush()
        }
    }

    func answerSnapshotWaiters(_ result: Result<LogIndex, ClientError>) {
        let waiters = snapshotWaiters
        snapshotWaiters.removeAll()
        for waiter in waiters { waiter(result) }
    }
}
