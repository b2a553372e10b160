import Dispatch
import Glibc
import Logging
import NIOCore
import RaftCore
import RaftKV
import RaftStorage
import RaftWire

/// Why a client request could not be answered with a result.
public enum ClientError: Error, Sendable, Hashable {
    /// No leader is known, or the leader lost its quorum: retry later (HTTP 503).
    case unavailable(String)
    /// The request did not complete in time; its outcome is unknown (HTTP 504).
    case timeout
    /// The leader this write was forwarded to was replaced before the write was seen applied; it may or may not
    /// be applied later (HTTP 504; safe to retry with the same Idempotency-Key).
    case outcomeUnknown(String)
    /// Storage failed; this node accepts no more writes (HTTP 503).
    case storageFailed(String)
}

/// A recorded core event, as the admin socket streams it.
public struct EventRecord: Sendable, Codable, Hashable {
    public var time: String
    public var node: String
    public var term: UInt64
    public var kind: String
    public var detail: String
}

/// The shell around one ``RaftNode``: the only place the core, its storage and the key-value store live.
///
/// Everything runs on one event loop (`loop`), so the core sees one input at a time and is never re-entered.
/// Inputs (peer messages, client requests, ticks) are queued onto the loop; a flush, scheduled once per batch
/// of inputs, runs the Ready cycle: send what may go now, persist with one sync, send what waited for it,
/// apply, answer clients. Inputs that arrive during the sync wait and share the next one (group commit).
///
/// `@unchecked Sendable`: every `var` is read and written only on `loop` (entry points hop there and
/// `assertOnLoop()` checks it); the `let`s are immutable or thread-safe themselves.
final class NodeShell: @unchecked Sendable {
    let loop: EventLoop
    let config: NodeConfiguration
    let logger: Logger
    let sink: LogSink
    let storage: NodeStorage
    private(set) var raft: RaftNode
    private(set) var kv: KVStore
    var transport: PeerTransport?

    private var flushScheduled = false
    private var nextSequence = UInt64.random(in: 1...(UInt64.max >> 1))
    private var pendingWrites: [UInt64: PendingWrite] = [:]
    private var nextReadContext: UInt64 = 1
    private var pendingReads: [UInt64: PendingRead] = [:]
    /// Confirmed reads waiting for the state machine to reach their index.
    private var readsAwaitingApply: [(index: LogIndex, context: UInt64)] = []
    private(set) var storageFailure: String?
    private var lastSnapshotIndex: LogIndex
    /// Size of the last snapshot taken or installed, and payload bytes applied since: see `snapshotDue`.
    private var lastSnapshotBytes = 0
    private var appliedBytesSinceSnapshot = 0
    /// A snapshot is being encoded and written off the loop; at most one at a time.
    private var snapshotInProgress = false
    private var snapshotWaiters: [EventLoopPromise<LogIndex>] = []
    private static let snapshotQueue = DispatchQueue(label: "raftd.snapshot")
    private var ticker: RepeatedTask?
    private var ticks: UInt64 = 0
    private(set) var blockedInbound: Set<NodeID> = []
    private(set) var blockedOutbound: Set<NodeID> = []
    private var recentEvents: [EventRecord] = []
    private var eventSubscribers: [UInt64: @Sendable (EventRecord) -> Void] = [:]
    private var entrySubscribers: [UInt64: @Sendable ([Entry]) -> Void] = [:]
    private var nextSubscriber: UInt64 = 0
    private var stopped = false

    struct PendingWrite {
        var promise: EventLoopPromise<KVApplyResult>
        var deadlineTick: UInt64
        /// Where this node appended it as leader; nil when it was forwarded to a leader.
        var index: LogIndex?
    }

    /// Writes this node appended as leader, by index: if another entry is applied there, ours was overwritten.
    private var pendingWriteIndexes: [LogIndex: UInt64] = [:]

    struct PendingRead {
        var key: [UInt8]
        var promise: EventLoopPromise<[UInt8]?>
        var deadlineTick: UInt64
    }

    init(loop: EventLoop, config: NodeConfiguration, storage: NodeStorage, sink: LogSink, logger: Logger) throws {
        self.loop = loop
        self.config = config
        self.storage = storage
        self.sink = sink
        self.logger = logger
        let state = storage.recovery.state
        var kv = KVStore()
        if let snapshot = state.snapshot {
            do {
                try kv.restore(from: snapshot.data)
            } catch {
                throw StartupError(
                    "the snapshot at index \(snapshot.metadata.index) in \(config.dataDirectory) does not decode (\(error)); restore the data directory from a backup or remove it to rejoin empty"
                )
            }
        }
        self.kv = kv
        self.lastSnapshotIndex = state.snapshot?.metadata.index ?? .zero
        self.lastSnapshotBytes = state.snapshot?.data.count ?? 0
        self.raft = RaftNode(config: config.raftConfig, restoring: state)
        sink.setTerm(raft.currentTerm)
        for repair in storage.recovery.repairs {
            logger.warning("storage recovery: \(repair)")
        }
        logger.info(
            "recovered",
            metadata: [
                "term": "\(state.hardState.term.rawValue)", "commit": "\(state.hardState.commit)",
                "entries": "\(state.entries.count)", "snapshot": "\(lastSnapshotIndex)",
            ])
    }

    func assertOnLoop() {
        loop.preconditionInEventLoop()
    }

    private var requestTimeoutTicks: UInt64 {
        UInt64(max(1, config.requestTimeoutMilliseconds / config.tickMilliseconds))
    }

    // MARK: - Lifecycle

    func start() {
        loop.execute {
            let tick = TimeAmount.milliseconds(Int64(self.config.tickMilliseconds))
            self.ticker = self.loop.scheduleRepeatedTask(initialDelay: tick, delay: tick) { _ in self.onTick() }
            self.scheduleFlush()
        }
    }

    /// Ticks follow the monotonic clock, not the timer: a repeating task waits its delay after each run ends, so
    /// ticks counted from it drift late, and so would election timeouts. At most two ticks catch up per wake-up:
    /// after a long stall the node should first read the heartbeats waiting for it, not time out on the spot.
    private func onTick() {
        guard !stopped else { return }
        let tickNanoseconds = UInt64(config.tickMilliseconds) * 1_000_000
        let now = Self.monotonicNanoseconds()
        if tickOrigin == 0 { tickOrigin = now - tickNanoseconds }
        let due = (now - tickOrigin) / tickNanoseconds
        var fired = 0
        repeat {
            ticks += 1
            fired += 1
            if storageFailure == nil { raft.tick() }
            if ticks % 10 == 0 { expireRequests() }
        } while ticks < due && fired < 3
        if ticks < due { tickOrigin += (due - ticks) * tickNanoseconds }
        flush()
    }

    private var tickOrigin: UInt64 = 0

    static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// Hands leadership away if this node leads, then stops ticking and fails what is still pending.
    func shutdown() -> EventLoopFuture<Void> {
        loop.flatSubmit {
            let promise = self.loop.makePromise(of: Void.self)
            if self.raft.currentRole == .leader, self.storageFailure == nil, let target = self.bestTransferTarget() {
                self.logger.info("shutting down: transferring leadership to \(target)")
                try? self.raft.transferLeadership(to: target)
                self.flush()
                let deadline = self.ticks + UInt64(self.raft.config.electionTimeoutTicks.upperBound)
                self.waitForHandover(until: deadline, promise)
            } else {
                promise.succeed(())
            }
            return promise.futureResult.map { self.stop() }
        }
    }

    private func waitForHandover(until deadline: UInt64, _ promise: EventLoopPromise<Void>) {
        if raft.currentRole != .leader || ticks >= deadline {
            promise.succeed(())
            return
        }
        loop.scheduleTask(in: .milliseconds(Int64(config.tickMilliseconds))) {
            self.waitForHandover(until: deadline, promise)
        }
    }

    private func bestTransferTarget() -> NodeID? {
        raft.status.followers.filter { !blockedOutbound.contains($0.id) && $0.recentlyActive }
            .max { $0.matchIndex < $1.matchIndex }?.id
    }

    private func stop() {
        stopped = true
        ticker?.cancel()
        // A pending write was appended here or forwarded to the leader: it may commit after we stop, so its outcome
        // is unknown (504), never "unavailable" (503), which tells the client it was not applied.
        for (_, write) in pendingWrites {
            write.promise.fail(ClientError.outcomeUnknown("the node shut down while the write was in flight"))
        }
        for (_, read) in pendingReads { read.promise.fail(ClientError.unavailable("the node is shutting down")) }
        pendingWrites.removeAll()
        pendingWriteIndexes.removeAll()
        pendingReads.removeAll()
        storage.close()
    }

    // MARK: - Inputs

    /// A message from a peer (already checked at the wire layer).
    func receive(_ message: Message) {
        loop.execute {
            guard !self.stopped, self.storageFailure == nil, !self.blockedInbound.contains(message.from) else { return }
            self.raft.step(message)
            self.scheduleFlush()
        }
    }

    /// The connection to `peer` was closed by the other side and an immediate reconnect failed.
    func peerConnectionLost(_ peer: NodeID) {
        loop.execute {
            guard !self.stopped, self.storageFailure == nil, !self.blockedInbound.contains(peer),
                self.raft.currentLeader == peer
            else { return }
            self.logger.info("connection to leader \(peer) closed and reconnect refused: starting an election now")
            self.raft.reportLeaderConnectionClosed(by: peer)
            self.scheduleFlush()
        }
    }

    /// Proposes a write; the future completes when it is applied here (or fails).
    func write(_ build: KVCommand) -> EventLoopFuture<KVApplyResult> {
        loop.flatSubmit {
            if let failure = self.storageFailure {
                return self.loop.makeFailedFuture(ClientError.storageFailed(failure))
            }
            if self.stopped { return self.loop.makeFailedFuture(ClientError.unavailable("the node is shutting down")) }
            var command = build
            let sequence = self.nextSequence
            self.nextSequence += 1
            command.origin = self.config.nodeID
            command.sequence = sequence
            command.timestampMilliseconds = Self.wallClockMilliseconds()
            let outcome: ProposeOutcome
            do {
                outcome = try self.raft.propose(command.encoded())
            } catch {
                return self.loop.makeFailedFuture(ClientError.unavailable("\(error)"))
            }
            var index: LogIndex?
            if case .appended(let first, _) = outcome {
                index = first
                self.pendingWriteIndexes[first] = sequence
            }
            let promise = self.loop.makePromise(of: KVApplyResult.self)
            self.pendingWrites[sequence] = PendingWrite(
                promise: promise, deadlineTick: self.ticks + self.requestTimeoutTicks, index: index)
            self.scheduleFlush()
            return promise.futureResult
        }
    }

    /// Reads a key: linearizably through ReadIndex, or from local state when `stale`.
    func read(_ key: [UInt8], stale: Bool) -> EventLoopFuture<[UInt8]?> {
        loop.flatSubmit {
            if stale { return self.loop.makeSucceededFuture(self.kv.value(for: key)) }
            if self.stopped { return self.loop.makeFailedFuture(ClientError.unavailable("the node is shutting down")) }
            let context = self.nextReadContext
            self.nextReadContext += 1
            do {
                try self.raft.readIndex(ReadContext(context))
            } catch {
                return self.loop.makeFailedFuture(ClientError.unavailable("\(error)"))
            }
            let promise = self.loop.makePromise(of: [UInt8]?.self)
            self.pendingReads[context] = PendingRead(
                key: key, promise: promise, deadlineTick: self.ticks + self.requestTimeoutTicks)
            self.scheduleFlush()
            return promise.futureResult
        }
    }

    /// Runs `body` on the loop with the core, then flushes; for operator requests.
    func withRaft<T: Sendable>(_ body: @escaping @Sendable (inout RaftNode) throws -> T) -> EventLoopFuture<T> {
        loop.submit {
            if let failure = self.storageFailure { throw ClientError.storageFailed(failure) }
            defer { self.scheduleFlush() }
            return try body(&self.raft)
        }
    }

    func setBlocked(inbound: Set<NodeID>, outbound: Set<NodeID>) -> EventLoopFuture<Void> {
        loop.submit {
            self.blockedInbound = inbound
            self.blockedOutbound = outbound
            self.logger.notice(
                "fault filter",
                metadata: [
                    "blocked_in": "\(inbound.sorted().map(\.description))",
                    "blocked_out": "\(outbound.sorted().map(\.description))",
                ])
        }
    }

    /// Takes a snapshot at the applied index now (or joins the one in progress); completes once it is durable.
    func snapshotNow() -> EventLoopFuture<LogIndex> {
        loop.flatSubmit {
            if let failure = self.storageFailure {
                return self.loop.makeFailedFuture(ClientError.storageFailed(failure))
            }
            let promise = self.loop.makePromise(of: LogIndex.self)
            self.snapshotWaiters.append(promise)
            if !self.snapshotInProgress && !self.startSnapshot() {
                self.answerSnapshotWaiters(.success(self.lastSnapshotIndex))
            }
            return promise.futureResult
        }
    }

    // MARK: - The Ready cycle

    func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        loop.execute { self.flush() }
    }

    private func flush() {
        flushScheduled = false
        guard !stopped, storageFailure == nil else { return }
        while raft.hasReady {
            let ready = raft.ready()
            transport?.send(ready.messagesNow.filter { !blockedOutbound.contains($0.to) })
            let work = ready.persist
            if !work.isEmpty {
                do {
                    try storage.save(hardState: work.hardState, snapshot: work.snapshot, entries: work.entries)
                } catch {
                    enterStorageFailure("\(error)")
                    return
                }
            }
            let receipt = work.markDurable()
            transport?.send(ready.messages(after: receipt).filter { !blockedOutbound.contains($0.to) })
            if let snapshot = work.snapshot {
                do {
                    try kv.restore(from: snapshot.data)
                    lastSnapshotIndex = snapshot.metadata.index
                    lastSnapshotBytes = snapshot.data.count
                    appliedBytesSinceSnapshot = 0
                } catch {
                    enterStorageFailure(
                        "snapshot from the leader at \(snapshot.metadata.index) does not decode: \(error)")
                    return
                }
            }
            if !work.entries.isEmpty {
                for subscriber in entrySubscribers.values { subscriber(work.entries) }
            }
            for entry in ready.committedEntries {
                appliedBytesSinceSnapshot += entry.sizeBytes
                let result = kv.apply(entry)
                if let sequence = pendingWriteIndexes.removeValue(forKey: entry.index),
                    result?.origin != config.nodeID || result?.sequence != sequence,
                    let lost = pendingWrites.removeValue(forKey: sequence)
                {
                    // A new leader overwrote the entry we appended: it was never committed and never will be.
                    lost.promise.fail(
                        ClientError.unavailable("leadership changed before the write committed; it was not applied"))
                }
                guard let result else { continue }
                if case .malformed(let reason) = result.outcome {
                    logger.warning("skipped a malformed command at \(entry.index): \(reason)")
                }
                if result.origin == config.nodeID, let pending = pendingWrites.removeValue(forKey: result.sequence) {
                    if let index = pending.index { pendingWriteIndexes[index] = nil }
                    pending.promise.succeed(result)
                }
            }
            for state in ready.readStates {
                readsAwaitingApply.append((state.index, state.context.rawValue))
            }
            for context in ready.failedReads {
                pendingReads.removeValue(forKey: context.rawValue)?.promise.fail(
                    ClientError.unavailable("leadership changed before the read was confirmed"))
            }
            serveConfirmedReads()
            for event in ready.events {
                record(event)
                if case .leaderChanged = event { failForwardedWrites() }
            }
            raft.advance(ready)
            if snapshotDue { startSnapshot() }
        }
    }

    /// Writes forwarded to a leader that is no longer the leader were most likely lost with it: answer now rather
    /// than at the timeout. Their outcome is unknown, so the client retries with its Idempotency-Key.
    private func failForwardedWrites() {
        for (sequence, write) in pendingWrites where write.index == nil {
            pendingWrites[sequence] = nil
            write.promise.fail(ClientError.outcomeUnknown("the leader changed while the write was in flight"))
        }
    }

    private func serveConfirmedReads() {
        guard !readsAwaitingApply.isEmpty else { return }
        var waiting: [(index: LogIndex, context: UInt64)] = []
        for read in readsAwaitingApply {
            if kv.appliedIndex >= read.index {
                if let pending = pendingReads.removeValue(forKey: read.context) {
                    pending.promise.succeed(kv.value(for: pending.key))
                }
            } else {
                waiting.append(read)
            }
        }
        readsAwaitingApply = waiting
    }

    /// A snapshot is due once `snapshotThresholdEntries` entries were applied since the last one and the log they
    /// make up has reached a quarter of that snapshot's size. The second rule (the dissertation's §5.1.1 policy)
    /// changes nothing for a small state; for a large one it stops the node from rewriting, say, a 30 MB state
    /// for every 10,000 small writes, while the log still stays below a quarter of the state.
    private var snapshotDue: Bool {
        !snapshotInProgress
            && kv.appliedIndex.rawValue >= lastSnapshotIndex.rawValue + UInt64(config.snapshotThresholdEntries)
            && appliedBytesSinceSnapshot >= lastSnapshotBytes / 4
    }

    /// Captures the state machine (copy-on-write: no copying here) and encodes and writes it on a background
    /// queue, so a large snapshot never stalls the consensus loop; ``finishSnapshot(_:)`` compacts on the loop.
    /// Returns false when there is nothing new to snapshot.
    @discardableResult
    private func startSnapshot() -> Bool {
        guard !snapshotInProgress, kv.appliedIndex > lastSnapshotIndex else { return false }
        snapshotInProgress = true
        let store = kv
        let metadata = SnapshotMetadata(index: kv.appliedIndex, term: kv.appliedTerm, voters: raft.config.voters)
        let options = storage.options
        let fileSystem = storage.fileSystem
        Self.snapshotQueue.async {
            let result = Result { () throws -> Snapshot in
                let snapshot = Snapshot(metadata: metadata, data: store.snapshotData())
                try NodeStorage.writeSnapshotFile(
                    snapshot, options: options, fileSystem: fileSystem, pauseBetweenSlicesMicroseconds: 2_000)
                return snapshot
            }
            self.loop.execute { self.finishSnapshot(result) }
        }
        return true
    }

    private func finishSnapshot(_ result: Result<Snapshot, any Error>) {
        snapshotInProgress = false
        guard !stopped, storageFailure == nil else {
            answerSnapshotWaiters(.failure(ClientError.unavailable("the node stopped while taking a snapshot")))
            return
        }
        switch result {
        case .failure(let error):
            enterStorageFailure("snapshot failed: \(error)")
            answerSnapshotWaiters(.failure(ClientError.storageFailed("\(error)")))
        case .success(let snapshot):
            let index = snapshot.metadata.index
            // A snapshot from the leader may have replaced the log meanwhile; ours is then outdated.
            guard index > lastSnapshotIndex, storage.term(at: index) == snapshot.metadata.term else {
                answerSnapshotWaiters(.success(lastSnapshotIndex))
                return
            }
            do {
                try storage.saveSnapshot(snapshot)
            } catch {
                enterStorageFailure("snapshot failed: \(error)")
                answerSnapshotWaiters(.failure(ClientError.storageFailed("\(error)")))
                return
            }
            raft.compact(snapshot)
            lastSnapshotIndex = index
            lastSnapshotBytes = snapshot.data.count
            appliedBytesSinceSnapshot = 0
            logger.info("snapshot taken", metadata: ["index": "\(index)", "bytes": "\(snapshot.data.count)"])
            record(.logCompacted(through: index))
            answerSnapshotWaiters(.success(index))
            scheduleFlush()
        }
    }

    private func answerSnapshotWaiters(_ result: Result<LogIndex, any Error>) {
        let waiters = snapshotWaiters
        snapshotWaiters.removeAll()
        for waiter in waiters { waiter.completeWith(result) }
    }

    private func enterStorageFailure(_ reason: String) {
        storageFailure = reason
        logger.critical("storage failed; this node accepts no more writes: \(reason)")
        // Writes already appended or forwarded may still commit elsewhere: their outcome is unknown.
        for (_, write) in pendingWrites {
            write.promise.fail(ClientError.outcomeUnknown("storage failed while the write was in flight: \(reason)"))
        }
        pendingWrites.removeAll()
        pendingWriteIndexes.removeAll()
        for (_, read) in pendingReads { read.promise.fail(ClientError.storageFailed(reason)) }
        pendingReads.removeAll()
    }

    private func expireRequests() {
        for (sequence, write) in pendingWrites where write.deadlineTick <= ticks {
            pendingWrites[sequence] = nil
            if let index = write.index { pendingWriteIndexes[index] = nil }
            write.promise.fail(ClientError.timeout)
        }
        for (context, read) in pendingReads where read.deadlineTick <= ticks {
            pendingReads[context] = nil
            read.promise.fail(ClientError.timeout)
        }
    }

    // MARK: - Events and observation

    private func record(_ event: RaftEvent) {
        let term = raft.currentTerm
        sink.setTerm(term)
        let (kind, detail) = Self.describe(event)
        let record = EventRecord(
            time: LogSink.timestamp(), node: config.nodeID.description, term: term.rawValue, kind: kind, detail: detail)
        logger.info("\(kind): \(detail)")
        recentEvents.append(record)
        if recentEvents.count > 1_000 { recentEvents.removeFirst(recentEvents.count - 1_000) }
        for subscriber in eventSubscribers.values { subscriber(record) }
    }

    static func describe(_ event: RaftEvent) -> (String, String) {
        switch event {
        case .roleChanged(let from, let to, _): ("role", "\(from) -> \(to)")
        case .leaderChanged(let leader, _): ("leader", leader?.description ?? "none")
        case .electionStarted(let term, let preVote, let reason):
            (preVote ? "pre-vote" : "election", "started for term \(term.rawValue) (\(reason.rawValue))")
        case .electionWon(let term): ("elected", "won term \(term.rawValue)")
        case .steppedDown(_, let reason): ("stepped-down", reason)
        case .transferStarted(let to, _): ("transfer", "to \(to) started")
        case .transferAborted(let to, _): ("transfer", "to \(to) aborted")
        case .snapshotInstalled(let index, let term):
            ("snapshot", "installed from leader at \(index) (term \(term.rawValue))")
        case .logCompacted(let through): ("snapshot", "log compacted through \(through)")
        case .messageRejected(let from, let reason): ("rejected", "message from \(from): \(reason)")
        }
    }

    /// Returns recent events and subscribes to later ones (when `follow`), atomically on the loop.
    func events(follow: Bool, _ handler: @escaping @Sendable (EventRecord) -> Void) -> EventLoopFuture<
        (backlog: [EventRecord], token: UInt64?)
    > {
        loop.submit {
            guard follow else { return (self.recentEvents, nil) }
            let token = self.nextSubscriber
            self.nextSubscriber += 1
            self.eventSubscribers[token] = handler
            return (self.recentEvents, token)
        }
    }

    /// Entries from `index` that this node still holds, and (when `follow`) every entry persisted later.
    func entries(from index: LogIndex, limit: Int, follow: Bool, _ handler: @escaping @Sendable ([Entry]) -> Void)
        -> EventLoopFuture<(backlog: [Entry], firstAvailable: LogIndex, token: UInt64?)>
    {
        loop.submit {
            let first = max(index, self.storage.firstIndex)
            let last = self.storage.lastIndex
            var backlog: [Entry] = []
            if first <= last {
                let end = LogIndex(min(last.rawValue, first.rawValue + UInt64(max(0, limit)) - 1))
                if first <= end { backlog = self.storage.entries(in: first...end) }
            }
            var token: UInt64?
            if follow {
                token = self.nextSubscriber
                self.nextSubscriber += 1
                self.entrySubscribers[token!] = handler
            }
            return (backlog, self.storage.firstIndex, token)
        }
    }

    func unsubscribe(_ token: UInt64) {
        loop.execute {
            self.eventSubscribers[token] = nil
            self.entrySubscribers[token] = nil
        }
    }

    func status() -> EventLoopFuture<NodeStatus> {
        loop.submit { self.makeStatus() }
    }

    private func makeStatus() -> NodeStatus {
        let status = raft.status
        let connected = transport?.connectedPeers() ?? []
        let progress = Dictionary(uniqueKeysWithValues: status.followers.map { ($0.id, $0) })
        let peers = config.peers.keys.sorted().filter { $0 != config.nodeID }.map { id in
            NodeStatus.Peer(
                id: id.description, address: config.peers[id]!.description, connected: connected.contains(id),
                matchIndex: progress[id]?.matchIndex.rawValue, nextIndex: progress[id]?.nextIndex.rawValue,
                replication: progress[id]?.state.description, blockedIn: blockedInbound.contains(id),
                blockedOut: blockedOutbound.contains(id))
        }
        return NodeStatus(
            id: config.nodeID.description, clusterID: config.clusterID.description, pid: Int(getpid()),
            role: status.role.rawValue, term: status.term.rawValue, leader: status.leader?.description,
            vote: status.vote?.description, commitIndex: status.commitIndex.rawValue,
            appliedIndex: kv.appliedIndex.rawValue, lastLogIndex: status.lastIndex.rawValue,
            firstLogIndex: status.firstIndex.rawValue, snapshotIndex: lastSnapshotIndex.rawValue,
            keys: kv.count, clientURL: "http://\(config.clientListen)", peerAddress: config.peerListen.description,
            storage: storageFailure.map { "failed: \($0)" } ?? "ok",
            leadTransferee: status.leadTransferee?.description, peers: peers)
    }

    static func wallClockMilliseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec / 1_000_000)
    }
}

/// A problem that stops raftd from starting, with a message that says what to do.
public struct StartupError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
