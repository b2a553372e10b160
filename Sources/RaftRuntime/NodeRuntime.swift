import RaftCore
import RaftStorage

/// One Raft node: the core, its storage, the state machine and the clients waiting on them, driven by one
/// deterministic loop that raftd and the simulator both run.
///
/// The runtime is single-threaded and owns no thread, clock or socket: its owner calls it on one loop (raftd: a
/// SwiftNIO event loop; the simulator: its scheduler), and it reaches the world only through its
/// ``NodeEnvironment`` and its ``NodeStorage`` (whose file system is given to it). So the same code runs over
/// real sockets and disks, and under a seeded simulator with a simulated network and an in-memory file system.
///
/// Inputs (``receive(_:)``, ``tick()``, client requests, operator requests) change the core; ``flush()`` then
/// runs the Ready cycle: send what may go now, persist with one sync, send what waited for it, apply, answer
/// clients. Owners call ``flush()`` once per batch of inputs, which is what gives group commit.
///
/// Invariants:
/// - The core never sees an input between `ready()` and `advance()`: every input path checks ``isServing``
///   first, and a storage failure stops the node for good (later inputs are refused, never stepped).
/// - Callbacks run in an order that depends only on the inputs (pending requests are visited in key order,
///   never in hashing order), so a seeded simulation replays identically in any process.
/// - Every client request is answered exactly once: with its result, or with a ``ClientError``.
/// - Read contexts and proposal sequences start at a random value drawn at each start (from the core's seeded
///   randomness), so an answer addressed to an earlier incarnation of this node never matches a new request.
public final class NodeRuntime<Machine: StateMachine> {
    public let options: RuntimeOptions
    public let storage: NodeStorage
    public internal(set) var raft: RaftNode
    public internal(set) var stateMachine: Machine
    /// Who the runtime talks to; held weakly (the owner usually is the environment, and owns the runtime).
    public private(set) weak var environment: (any NodeEnvironment)?

    /// Ticks since this runtime started.
    public private(set) var ticks: UInt64 = 0
    /// Set once storage failed; the node then serves nothing.
    public internal(set) var storageFailure: String?
    /// Set once ``stop()`` ran.
    public private(set) var stopped = false
    /// Peers whose messages this node drops (fault injection), by direction.
    public private(set) var blockedInbound: Set<NodeID> = []
    public private(set) var blockedOutbound: Set<NodeID> = []
    /// The index of the newest snapshot taken or installed.
    public internal(set) var lastSnapshotIndex: LogIndex

    var nextSequence: UInt64
    var pendingWrites: [UInt64: PendingWrite] = [:]
    /// Writes this node appended as leader, by index: if another entry is applied there, ours was overwritten.
    var pendingWriteIndexes: [LogIndex: UInt64] = [:]
    var nextReadContext: UInt64
    var pendingReads: [UInt64: PendingRead] = [:]
    /// Confirmed reads waiting for the state machine to reach their index.
    var readsAwaitingApply: [(index: LogIndex, context: UInt64)] = []

    /// Size of the last snapshot taken or installed, and payload bytes applied since: see `snapshotDue`.
    var lastSnapshotBytes: Int
    var appliedBytesSinceSnapshot = 0
    /// A snapshot is being encoded and written in the background.
    public internal(set) var snapshotInProgress = false
    var snapshotWaiters: [(Result<LogIndex, ClientError>) -> Void] = []
    /// Armed failpoints (see Failpoints.swift); empty in normal operation.
    public internal(set) var failpoints: [FailpointName: FailpointAction] = [:]

    struct PendingWrite {
        var completion: (Result<Machine.Output, ClientError>) -> Void
        var deadlineTick: UInt64
        /// Where this node appended it as leader; nil when it was forwarded to a leader.
        var index: LogIndex?
    }

    struct PendingRead {
        var completion: (Result<Void, ClientError>) -> Void
        var deadlineTick: UInt64
    }

    /// Builds the node from what `storage` recovered: the state machine restored from the newest snapshot, the
    /// core from the hard state and log. Throws if the snapshot does not decode.
    ///
    /// - Parameter emptyStateMachine: the state machine before any entry (the snapshot, if any, is restored
    ///   into it).
    public init(
        options: RuntimeOptions, storage: NodeStorage, emptyStateMachine: Machine, environment: any NodeEnvironment
    ) throws {
        self.options = options
        self.storage = storage
        self.environment = environment
        let state = storage.recovery.state
        var machine = emptyStateMachine
        var snapshotBytes = 0
        if let snapshot = state.snapshot {
            do {
                // Streamed from the file: recovery verified it and kept only its metadata.
                snapshotBytes = try Self.restore(&machine, from: storage, snapshot.metadata)
            } catch {
                throw RuntimeStartupError.snapshotDoesNotDecode(index: snapshot.metadata.index, reason: "\(error)")
            }
        }
        stateMachine = machine
        lastSnapshotIndex = state.snapshot?.metadata.index ?? .zero
        lastSnapshotBytes = snapshotBytes
        // The core keeps a bounded cache of entries and reads older ones back from the WAL.
        raft = RaftNode(config: options.raft, restoring: state, entryStorage: storage)
        // The core and the state machine have what recovery found: the storage's extra copy would otherwise pin
        // the recovered entries and snapshot bytes for the life of the process, even after compaction.
        storage.releaseRecoveredState()
        // Fresh per start, from the node's seeded randomness: a reply meant for an earlier incarnation of this node
        // (a ReadIndex answer still in flight when it restarted) cannot match a request of this one.
        var random = SplitMix64(seed: options.raft.randomSeed ^ 0x5EED_0F_1C_A7_10)
        nextSequence = random.next() >> 1 | 1
        nextReadContext = random.next() >> 1 | 1
    }

    /// Client writes proposed through this node and not yet answered.
    public var pendingWriteCount: Int { pendingWrites.count }

    /// True while the node takes inputs: not stopped, storage healthy.
    public var isServing: Bool { !stopped && storageFailure == nil }

    // MARK: - Inputs

    /// One tick of the logical clock; expires client requests past their deadline every 10 ticks.
    public func tick() {
        guard isServing else { return }
        ticks += 1
        raft.tick()
        if ticks % 10 == 0 { expireRequests() }
    }

    /// A message from a peer (already checked at the wire layer). Dropped when the sender is blocked.
    public func receive(_ message: Message) {
        guard isServing, !blockedInbound.contains(message.from) else { return }
        if !failpoints.isEmpty {
            switch message.body {
            case .appendEntriesResponse where raft.currentRole == .leader:
                if reach(.afterAppendSent) { return }
            case .installSnapshot:
                if reach(.beforeSnapshotInstall) { return }
            default: break
            }
        }
        raft.step(message)
    }

    /// An InstallSnapshot whose file the environment already received and installed in the data directory with
    /// ``NodeStorage/makeSnapshotStager()`` (the message's snapshot carries the metadata only). Stepped like
    /// ``receive(_:)``; when the core does not take the snapshot (it is stale), the file is deleted again.
    public func receiveStagedSnapshot(_ message: Message) {
        guard case .installSnapshot(let snapshot) = message.body else { return receive(message) }
        receive(message)
        if raft.snapshotAwaitingInstall != snapshot.metadata && !snapshotInProgress {
            storage.discardStagedSnapshot(snapshot.metadata)
        }
    }

    /// The path of the snapshot file an InstallSnapshot for `metadata` sends (for the environment to stream).
    public func snapshotFilePath(for metadata: SnapshotMetadata) -> String {
        storage.snapshotPath(for: metadata)
    }

    /// Restores `machine` from the snapshot file for `metadata`, a chunk at a time; returns the data's length.
    static func restore(_ machine: inout Machine, from storage: NodeStorage, _ metadata: SnapshotMetadata) throws -> Int
    {
        guard let reader = try storage.snapshotDataReader(for: metadata) else { return 0 }
        // The snapshot replaces the state, and one that does not decode stops the node: nothing needs the old state
        // from here, and a follower of a large state would otherwise hold two of it while restoring.
        machine.releaseBeforeRestore()
        try machine.restore(fromSnapshotOf: reader.dataLengthBytes) { try reader.nextChunk() }
        return Int(clamping: reader.dataLengthBytes)
    }

    /// The connection to the leader `peer` was closed by the other side and a reconnect failed: campaign now.
    /// Returns whether it did.
    @discardableResult
    public func leaderConnectionLost(_ peer: NodeID) -> Bool {
        guard isServing, !blockedInbound.contains(peer), raft.currentLeader == peer else { return false }
        raft.reportLeaderConnectionClosed(by: peer)
        return true
    }

    /// The environment finished sending an InstallSnapshot to `peer`, in full or not (see
    /// ``RaftNode/reportSnapshot(to:sent:)``).
    public func snapshotSendFinished(to peer: NodeID, sent: Bool) {
        guard isServing else { return }
        raft.reportSnapshot(to: peer, sent: sent)
    }

    /// Proposes a command. `encode` builds its bytes from the proposal id and this node's wall clock; the
    /// completion gets the state machine's output once the command is applied here, or an error.
    public func propose(
        _ encode: (ProposalID, UInt64) -> [UInt8],
        completion: @escaping (Result<Machine.Output, ClientError>) -> Void
    ) {
        if let failure = storageFailure { return completion(.failure(.storageFailed(failure))) }
        if stopped { return completion(.failure(.unavailable("the node is shutting down"))) }
        let sequence = nextSequence
        nextSequence += 1
        let now = environment?.wallClockMilliseconds() ?? 0
        let data = encode(ProposalID(origin: options.nodeID, sequence: sequence), now)
        let outcome: ProposeOutcome
        do {
            outcome = try raft.propose(data)
        } catch {
            return completion(.failure(.unavailable("\(error)")))
        }
        var index: LogIndex?
        if case .appended(let first, _) = outcome {
            index = first
            pendingWriteIndexes[first] = sequence
        }
        pendingWrites[sequence] = PendingWrite(
            completion: completion, deadlineTick: ticks + options.requestTimeoutTicks, index: index)
    }

    /// A linearizable read (ReadIndex, §6.4): the completion runs, on the loop, once the state machine has
    /// applied everything committed before the read began; read ``stateMachine`` in it.
    public func linearizableRead(completion: @escaping (Result<Void, ClientError>) -> Void) {
        if let failure = storageFailure { return completion(.failure(.storageFailed(failure))) }
        if stopped { return completion(.failure(.unavailable("the node is shutting down"))) }
        if isOn(.unsafeStaleReads) { return completion(.success(())) }
        let context = nextReadContext
        nextReadContext += 1
        do {
            try raft.readIndex(ReadContext(context))
        } catch {
            return completion(.failure(.unavailable("\(error)")))
        }
        pendingReads[context] = PendingRead(completion: completion, deadlineTick: ticks + options.requestTimeoutTicks)
    }

    /// Runs an operator's request against the core (campaign, transfer…). Throws ``ClientError/storageFailed(_:)``
    /// or ``ClientError/unavailable(_:)`` when the node does not serve.
    public func withRaft<T>(_ body: (inout RaftNode) throws -> T) throws -> T {
        if let failure = storageFailure { throw ClientError.storageFailed(failure) }
        if stopped { throw ClientError.unavailable("the node is shutting down") }
        return try body(&raft)
    }

    /// Replaces the fault filter: messages from `inbound` peers are dropped on receipt, messages to `outbound`
    /// peers are never sent.
    public func setBlocked(inbound: Set<NodeID>, outbound: Set<NodeID>) {
        blockedInbound = inbound
        blockedOutbound = outbound
    }

    // MARK: - The Ready cycle

    /// Handles every pending Ready of the core: send, persist, send what waited, apply, answer clients.
    public func flush() {
        // An input may have made the core read a damaged entry (to send it): it sent nothing, and the node stops.
        if isServing, let failure = raft.entryReadFailure { return enterStorageFailure(failure) }
        while isServing, raft.hasReady {
            let ready = raft.ready()
            if let failure = raft.entryReadFailure {
                // Reading entries to apply failed. The Ready stays outstanding for good, as after a failed write.
                enterStorageFailure(failure)
                return
            }
            send(ready.messagesNow)
            let work = ready.persist
            if !work.isEmpty {
                let leading = !failpoints.isEmpty && raft.currentRole == .leader
                if leading { _ = reach(.beforeLeaderSync) }
                defer { if leading { _ = reach(.afterLeaderSync) } }
                do {
                    try storage.save(hardState: work.hardState, snapshot: work.snapshot, entries: work.entries)
                } catch {
                    // The Ready stays outstanding for good: `isServing` is false from here on, so the core is
                    // never stepped again.
                    enterStorageFailure("\(error)")
                    return
                }
            }
            send(ready.messages(after: work.markDurable()))
            if let snapshot = work.snapshot {
                do {
                    // The file is in place (a transfer staged it, or `save` wrote it from `data`): restore from it
                    // a chunk at a time.
                    lastSnapshotBytes = try Self.restore(&stateMachine, from: storage, snapshot.metadata)
                    lastSnapshotIndex = snapshot.metadata.index
                    appliedBytesSinceSnapshot = 0
                } catch {
                    enterStorageFailure(
                        "snapshot from the leader at \(snapshot.metadata.index) does not decode: \(error)")
                    return
                }
            }
            if !work.entries.isEmpty { environment?.entriesPersisted(work.entries) }
            if !ready.committedEntries.isEmpty { _ = reach(.afterCommitBeforeApply) }
            for entry in ready.committedEntries { apply(entry) }
            for state in ready.readStates {
                readsAwaitingApply.append((state.index, state.context.rawValue))
            }
            for context in ready.failedReads {
                pendingReads.removeValue(forKey: context.rawValue)?.completion(
                    .failure(.unavailable("leadership changed before the read was confirmed")))
            }
            serveConfirmedReads()
            for event in ready.events {
                environment?.eventOccurred(event, term: raft.currentTerm)
                if case .leaderChanged = event { failForwardedWrites() }
            }
            raft.advance(ready)
            if snapshotDue { startSnapshot() }
        }
    }

    private func send(_ messages: [Message]) {
        guard !messages.isEmpty else { return }
        var allowed = blockedOutbound.isEmpty ? messages : messages.filter { !blockedOutbound.contains($0.to) }
        if !failpoints.isEmpty {
            allowed = allowed.filter { message in
                guard case .appendEntriesResponse = message.body else { return true }
                return !reach(.beforeFollowerAck)
            }
        }
        if !allowed.isEmpty { environment?.send(allowed) }
    }

    private func apply(_ entry: Entry) {
        appliedBytesSinceSnapshot += entry.sizeBytes
        var applied: Applied<Machine.Output>?
        if let environment {
            environment.applying(entry.index) {
                _ = reach(.duringApply)
                applied = stateMachine.apply(committed: entry)
            }
        } else {
            applied = stateMachine.apply(committed: entry)
        }
        if let sequence = pendingWriteIndexes.removeValue(forKey: entry.index),
            applied?.proposal != ProposalID(origin: options.nodeID, sequence: sequence),
            let lost = pendingWrites.removeValue(forKey: sequence)
        {
            // A new leader overwrote the entry we appended: it was never committed and never will be.
            lost.completion(.failure(.unavailable("leadership changed before the write committed; it was not applied")))
        }
        guard let applied, let proposal = applied.proposal, proposal.origin == options.nodeID,
            let pending = pendingWrites.removeValue(forKey: proposal.sequence)
        else { return }
        if let index = pending.index { pendingWriteIndexes[index] = nil }
        if reach(.afterApplyBeforeReply) {
            // The answer is lost: the request waits, applied but unanswered, until its deadline (504).
            pendingWrites[proposal.sequence] = PendingWrite(
                completion: pending.completion, deadlineTick: pending.deadlineTick, index: nil)
            return
        }
        pending.completion(.success(applied.output))
    }

    /// Writes forwarded to a leader that is no longer the leader were most likely lost with it: answer now rather
    /// than at the timeout. Their outcome is unknown, so the client retries with its Idempotency-Key.
    private func failForwardedWrites() {
        for sequence in pendingWrites.keys.sorted() where pendingWrites[sequence]!.index == nil {
            let write = pendingWrites.removeValue(forKey: sequence)!
            write.completion(.failure(.outcomeUnknown("the leader changed while the write was in flight")))
        }
    }

    private func serveConfirmedReads() {
        guard !readsAwaitingApply.isEmpty else { return }
        var waiting: [(index: LogIndex, context: UInt64)] = []
        for read in readsAwaitingApply {
            if stateMachine.appliedIndex >= read.index {
                pendingReads.removeValue(forKey: read.context)?.completion(.success(()))
            } else {
                waiting.append(read)
            }
        }
        readsAwaitingApply = waiting
    }

    private func expireRequests() {
        for sequence in pendingWrites.keys.sorted() where pendingWrites[sequence]!.deadlineTick <= ticks {
            let write = pendingWrites.removeValue(forKey: sequence)!
            if let index = write.index { pendingWriteIndexes[index] = nil }
            write.completion(.failure(.timeout))
        }
        for context in pendingReads.keys.sorted() where pendingReads[context]!.deadlineTick <= ticks {
            let read = pendingReads.removeValue(forKey: context)!
            read.completion(.failure(.timeout))
        }
    }

    func enterStorageFailure(_ reason: String) {
        storageFailure = reason
        environment?.storageFailed(reason)
        failEveryPendingRequest(
            write: .outcomeUnknown("storage failed while the write was in flight: \(reason)"),
            read: .storageFailed(reason))
    }

    /// Answers every waiting request, in key order. Writes get `write`: one already appended or forwarded may
    /// still commit elsewhere, so its outcome is unknown (504), never "unavailable" (503: not applied).
    private func failEveryPendingRequest(write writeError: ClientError, read readError: ClientError) {
        let writes = pendingWrites
        let reads = pendingReads
        pendingWrites.removeAll()
        pendingWriteIndexes.removeAll()
        pendingReads.removeAll()
        readsAwaitingApply.removeAll()
        for (_, write) in writes.sorted(by: { $0.key < $1.key }) { write.completion(.failure(writeError)) }
        for (_, read) in reads.sorted(by: { $0.key < $1.key }) { read.completion(.failure(readError)) }
    }

    // MARK: - Stopping

    /// The peer to hand leadership to on shutdown: the most caught-up recently active follower we can reach.
    public var bestTransferTarget: NodeID? {
        raft.status.followers.filter { !blockedOutbound.contains($0.id) && $0.recentlyActive }
            .max { $0.matchIndex < $1.matchIndex }?.id
    }

    /// Starts handing leadership away if this node leads and can; returns the target and the tick by which to
    /// give up waiting.
    public func beginHandover() -> (target: NodeID, deadlineTick: UInt64)? {
        guard isServing, raft.currentRole == .leader, let target = bestTransferTarget else { return nil }
        try? raft.transferLeadership(to: target)
        flush()
        return (target, ticks + UInt64(raft.config.electionTimeoutTicks.upperBound))
    }

    /// Stops serving: fails what is still pending and closes storage. Idempotent.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        failEveryPendingRequest(
            write: .outcomeUnknown("the node shut down while the write was in flight"),
            read: .unavailable("the node is shutting down"))
        answerSnapshotWaiters(.failure(.unavailable("the node stopped while taking a snapshot")))
        storage.close()
    }
}

/// Why a ``NodeRuntime`` could not start.
public enum RuntimeStartupError: Error, Sendable, CustomStringConvertible {
    case snapshotDoesNotDecode(index: LogIndex, reason: String)

    public var description: String {
        switch self {
        case .snapshotDoesNotDecode(let index, let reason):
            "the snapshot at index \(index) does not decode (\(reason))"
        }
    }
}
