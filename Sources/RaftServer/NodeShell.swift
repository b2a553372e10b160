import CSystemMemory
import Dispatch
import Glibc
import Logging
import NIOCore
import RaftAPI
import RaftCore
import RaftKV
import RaftRuntime
import RaftStorage
import RaftText
import Synchronization

/// A recorded core event, as the admin socket streams it.
public struct EventRecord: Sendable, Codable, Hashable {
    public var time: String
    public var node: String
    public var term: UInt64
    public var kind: String
    public var detail: String
}

/// raftd's adapter around one ``NodeRuntime``: it plugs SwiftNIO, the system clocks and a background queue into
/// the runtime, and turns its callbacks into futures for the HTTP, admin and peer handlers.
///
/// Everything touching the runtime runs on one event loop (`loop`), so the core sees one input at a time and is
/// never re-entered. Inputs are queued onto the loop; a flush, scheduled once per batch of inputs, runs the
/// runtime's Ready cycle. Inputs that arrive during its sync wait and share the next one (group commit).
///
/// `@unchecked Sendable`: every `var` (and the runtime) is read and written only on `loop` (entry points hop there
/// and `assertOnLoop()` checks it); the `let`s are immutable or thread-safe themselves.
final class NodeShell: @unchecked Sendable {
    let loop: EventLoop
    let config: NodeConfiguration
    let logger: Logger
    let sink: LogSink
    let storage: NodeStorage
    /// Times (and on request delays) this node's syncs; see NodeShell+Disk.swift.
    let syncMonitor: SyncMonitor
    /// This node's metrics, exposed at `GET /metrics`.
    let metrics: NodeMetrics
    /// Slow applies not yet reported as an event (one event a second at most, counting the rest).
    /// The commit index last logged as progress, and when (see `logProgress`).
    private var loggedCommitIndex: UInt64 = 0
    private var loggedCommitNanoseconds: UInt64 = 0
    /// The last round trip measured to each peer (see NodeShell+Probes.swift).
    var lastRoundTripNanoseconds: [NodeID: UInt64] = [:]
    private var unreportedSlowApplies = 0
    private var lastSlowApplyReportNanoseconds: UInt64 = 0
    /// Set at the end of `init` (the runtime's environment is this shell, so it cannot exist before it); never nil
    /// after that.
    private(set) var runtime: NodeRuntime<KVStore>!
    var transport: PeerTransport?
    /// Where each member is reached: `--peers` at start, then the addresses the newest configuration entry
    /// carries (see NodeShell+Membership.swift).
    var addressBook: [NodeID: HostPort]
    /// Members' client URLs, where known (this node's own, and those configuration entries carry).
    var clientURLs: [NodeID: String]
    /// The configuration context last adopted into the address book.
    var adoptedContext: [UInt8] = []
    /// The ids a peer connection may come from: readable from any thread (peer connections are accepted on
    /// other event loops).
    let knownPeers: Mutex<Set<NodeID>>

    private var flushScheduled = false
    private static let snapshotQueue = DispatchQueue(label: "raftd.snapshot")
    private var ticker: RepeatedTask?
    private var tickOrigin: UInt64 = 0
    private var recentEvents: [EventRecord] = []
    private var eventSubscribers: [UInt64: @Sendable (EventRecord) -> Void] = [:]
    private var entrySubscribers: [UInt64: @Sendable ([Entry]) -> Void] = [:]
    private var nextSubscriber: UInt64 = 0
    /// The disk and the alarms this node knows of (see NodeShell+Disk.swift).
    var spaceAlarm: SpaceAlarm
    var diskReading: DiskReading?
    var lastFreeSpaceCheckNanoseconds: UInt64 = 0
    var clusterAlarms = ClusterAlarms()
    var healthTicker: RepeatedTask?

    init(
        loop: EventLoop, config: NodeConfiguration, storage: NodeStorage, sink: LogSink, logger: Logger,
        syncMonitor: SyncMonitor, metrics: NodeMetrics
    ) throws {
        self.loop = loop
        self.addressBook = config.peers
        self.clientURLs = [config.nodeID: "http://\(config.clientListen)"]
        self.knownPeers = Mutex(Set(config.peers.keys))
        self.syncMonitor = syncMonitor
        self.metrics = metrics
        self.config = config
        self.storage = storage
        self.sink = sink
        self.logger = logger
        self.spaceAlarm = SpaceAlarm(
            minimumFreeBytes: config.alarmMinimumFreeBytes, minimumFreePercent: config.alarmMinimumFreePercent,
            quotaBytes: config.quotaBackendBytes)
        let state = storage.recovery.state
        var raftConfig = config.raftConfig
        // A node with no state started into an existing cluster is a newcomer: no membership until a leader's
        // log or snapshot gives it one.
        raftConfig.joining = config.initialClusterState == .existing && state.isEmpty
        let options = RuntimeOptions(
            raft: raftConfig,
            requestTimeoutTicks: UInt64(max(1, config.requestTimeoutMilliseconds / config.tickMilliseconds)),
            snapshotThresholdEntries: config.snapshotThresholdEntries, snapshotSlicePauseMicroseconds: 2_000)
        do {
            runtime = try NodeRuntime(
                options: options, storage: storage, emptyStateMachine: KVStore(), environment: self)
        } catch {
            throw StartupError(
                "\(error) in \(config.dataDirectory); restore the data directory from a backup, or replace the node"
                    + " (raftctl replace-node \(config.nodeID)): a member must never rejoin with emptied data"
            )
        }
        sink.setTerm(runtime.raft.currentTerm)
        adoptMembershipContext()
        for repair in storage.recovery.repairs {
            logger.warning("storage recovery: \(repair)")
        }
        logger.info(
            "recovered",
            metadata: [
                "term": "\(state.hardState.term.rawValue)", "commit": "\(state.hardState.commit)",
                "entries": "\(state.entries.count)", "snapshot": "\(runtime.lastSnapshotIndex)",
            ])
        Self.releaseFreedMemory()
    }

    /// Hands the memory that restoring a snapshot or compacting the log freed back to the system, off the loop.
    /// glibc keeps freed memory inside its arenas: after a restore of a 300 MB state that was about 250 MB of
    /// resident memory nobody used (`kv-memory-bench --restore`).
    static func releaseFreedMemory() {
        DispatchQueue.global(qos: .utility).async { _ = raft_release_free_memory() }
    }

    func assertOnLoop() {
        loop.preconditionInEventLoop()
    }

    /// Fault-filter state, for the admin handler (on the loop).
    var blockedInbound: Set<NodeID> { runtime.blockedInbound }
    var blockedOutbound: Set<NodeID> { runtime.blockedOutbound }

    // MARK: - Lifecycle

    func start() {
        loop.execute {
            let tick = TimeAmount.milliseconds(Int64(self.config.tickMilliseconds))
            self.ticker = self.loop.scheduleRepeatedTask(initialDelay: tick, delay: tick) { _ in self.onTick() }
            self.measureDisk(full: true)
            self.healthTicker = self.loop.scheduleRepeatedTask(
                initialDelay: Self.healthInterval, delay: Self.healthInterval
            ) { _ in
                self.measureDisk(full: true)
                self.broadcastHealth()
                self.sendProbes()
                self.logProgress()
            }
            self.scheduleFlush()
        }
    }

    /// Ticks follow the monotonic clock, not the timer: a repeating task waits its delay after each run ends, so
    /// ticks counted from it drift late, and so would election timeouts. At most two ticks catch up per wake-up:
    /// after a long stall the node should first read the heartbeats waiting for it, not time out on the spot.
    private func onTick() {
        guard runtime.isServing else { return }
        let tickNanoseconds = UInt64(config.tickMilliseconds) * 1_000_000
        let now = Self.monotonicNanoseconds()
        if tickOrigin == 0 { tickOrigin = now - tickNanoseconds }
        let due = (now - tickOrigin) / tickNanoseconds
        var fired = 0
        repeat {
            runtime.tick()
            fired += 1
        } while runtime.ticks < due && fired < 3
        if runtime.ticks < due { tickOrigin += (due - runtime.ticks) * tickNanoseconds }
        flush()
    }

    static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// Hands leadership away if this node leads, then stops ticking and fails what is still pending.
    func shutdown() -> EventLoopFuture<Void> {
        loop.flatSubmit {
            let promise = self.loop.makePromise(of: Void.self)
            if let handover = self.runtime.beginHandover() {
                self.logger.info("shutting down: transferring leadership to \(handover.target)")
                self.waitForHandover(until: handover.deadlineTick, promise)
            } else {
                promise.succeed(())
            }
            return promise.futureResult.map {
                self.ticker?.cancel()
                self.healthTicker?.cancel()
                self.runtime.stop()
            }
        }
    }

    private func waitForHandover(until deadline: UInt64, _ promise: EventLoopPromise<Void>) {
        if runtime.raft.currentRole != .leader || runtime.ticks >= deadline || !runtime.isServing {
            promise.succeed(())
            return
        }
        loop.scheduleTask(in: .milliseconds(Int64(config.tickMilliseconds))) {
            self.waitForHandover(until: deadline, promise)
        }
    }

    // MARK: - Inputs

    /// A message from a peer (already checked at the wire layer).
    func receive(_ message: Message) {
        loop.execute {
            self.runtime.receive(message)
            self.scheduleFlush()
        }
    }

    /// An InstallSnapshot whose file a ``SnapshotReceiver`` installed in the data directory.
    func receiveStagedSnapshot(_ message: Message) {
        loop.execute {
            self.runtime.receiveStagedSnapshot(message)
            self.scheduleFlush()
        }
    }

    /// Where the snapshot file for `metadata` is (for sending it). On the loop.
    func snapshotFilePath(for metadata: SnapshotMetadata) -> String {
        runtime.snapshotFilePath(for: metadata)
    }

    /// The connection to `peer` was closed by the other side and an immediate reconnect failed.
    func peerConnectionLost(_ peer: NodeID) {
        loop.execute {
            if self.runtime.leaderConnectionLost(peer) {
                self.logger.info("connection to leader \(peer) closed and reconnect refused: starting an election now")
                self.scheduleFlush()
            }
        }
    }

    /// Proposes a write; the future completes when it is applied here (or fails).
    func write(_ build: KVCommand) -> EventLoopFuture<KVApplyResult> {
        loop.flatSubmit {
            if let refusal = self.writeRefusal(build) {
                self.metrics.proposalsFailed.increment()
                return self.loop.makeFailedFuture(refusal)
            }
            let promise = self.loop.makePromise(of: KVApplyResult.self)
            self.runtime.propose(
                { proposal, now in build.encoded(as: proposal, at: now) },
                completion: { result in
                    switch result {
                    case .success: self.metrics.proposalsCommitted.increment()
                    case .failure: self.metrics.proposalsFailed.increment()
                    }
                    promise.completeWith(result.mapError { self.explain($0) })
                })
            self.scheduleFlush()
            return promise.futureResult
        }
    }

    /// Reads a key: linearizably through ReadIndex, or from local state when `stale`.
    func read(_ key: [UInt8], stale: Bool) -> EventLoopFuture<[UInt8]?> {
        loop.flatSubmit {
            if stale {
                if let failure = self.runtime.storageFailure {
                    return self.loop.makeFailedFuture(ClientError.storageFailed(failure))
                }
                return self.loop.makeSucceededFuture(self.runtime.stateMachine.value(for: key))
            }
            let promise = self.loop.makePromise(of: [UInt8]?.self)
            let started = Self.monotonicNanoseconds()
            self.runtime.linearizableRead { result in
                switch result {
                case .success:
                    self.metrics.readIndexDuration.recordNanoseconds(
                        Int64(clamping: Self.monotonicNanoseconds() - started))
                    promise.succeed(self.runtime.stateMachine.value(for: key))
                case .failure(let error): promise.fail(error)
                }
            }
            self.scheduleFlush()
            return promise.futureResult
        }
    }

    /// Runs `body` on the loop with the core, then flushes; for operator requests.
    func withRaft<T: Sendable>(_ body: @escaping @Sendable (inout RaftNode) throws -> T) -> EventLoopFuture<T> {
        loop.submit {
            defer { self.scheduleFlush() }
            return try self.runtime.withRaft(body)
        }
    }

    /// The transport finished sending an InstallSnapshot to `peer` (see ``RaftNode/reportSnapshot(to:sent:)``).
    /// From any thread; always after the current flush, never inside it.
    func snapshotSendFinished(to peer: NodeID, sent: Bool) {
        loop.execute {
            self.runtime.snapshotSendFinished(to: peer, sent: sent)
            self.scheduleFlush()
        }
    }

    func setBlocked(inbound: Set<NodeID>, outbound: Set<NodeID>) -> EventLoopFuture<Void> {
        loop.submit {
            self.runtime.setBlocked(inbound: inbound, outbound: outbound)
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
            let promise = self.loop.makePromise(of: LogIndex.self)
            self.runtime.snapshotNow { promise.completeWith($0.mapError { $0 as any Error }) }
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
        runtime.flush()
        // Free space is checked after writing, at most every 10 ms: a node filling its disk at full speed must
        // raise the alarm well before the disk is full, not at the next half-second report.
        if Self.monotonicNanoseconds() - lastFreeSpaceCheckNanoseconds >= 10_000_000 { measureDisk(full: false) }
    }

    // MARK: - Events and observation

    /// The leader logs its commit index at most once a second when it moved (`progress: commit N applied M`):
    /// the record `raftctl timeline` draws the commit line from. Only the leader, so a busy cluster adds one line a
    /// second to one log.
    private func logProgress() {
        let status = runtime.raft.status
        let now = Self.monotonicNanoseconds()
        guard status.role == .leader, status.commitIndex.rawValue != loggedCommitIndex,
            now - loggedCommitNanoseconds >= 1_000_000_000
        else { return }
        loggedCommitIndex = status.commitIndex.rawValue
        loggedCommitNanoseconds = now
        logger.info("progress: commit \(status.commitIndex) applied \(runtime.stateMachine.appliedIndex)")
    }

    private func record(_ event: RaftEvent, term: Term) {
        sink.setTerm(term)
        if case .lostAcknowledgedEntries(let leader, let acknowledged, let lastIndex) = event {
            handleLostData(leader: leader, acknowledged: acknowledged, lastIndex: lastIndex)
        }
        if case .leaderChanged(.some, _) = event { metrics.leaderChanges.increment() }
        if case .membershipChanged = event { adoptMembershipContext() }
        let (kind, detail) = Self.describe(event)
        recordEvent(kind: kind, detail: detail, term: term)
    }

    /// Records an event of this node (a core event, or one of raftd's own such as an alarm) for `events`.
    func recordEvent(kind: String, detail: String, term: Term? = nil, level: Logger.Level = .info) {
        let term = term ?? runtime.raft.currentTerm
        let record = EventRecord(
            time: LogSink.timestamp(), node: config.nodeID.description, term: term.rawValue, kind: kind, detail: detail)
        logger.log(level: level, "\(kind): \(detail)")
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
        case .membershipChanged(let membership, let index): ("membership", "\(membership) (index \(index))")
        case .removedFromCluster: ("removed", "this node is no longer a member of the cluster")
        case .lostAcknowledgedEntries(let leader, let acknowledged, let lastIndex):
            (
                "lost-data",
                "\(leader) says this node acknowledged entries through \(acknowledged), but its log ends at \(lastIndex)"
            )
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
                if first <= end { backlog = try self.storage.entries(in: first...end) }
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
        let status = runtime.raft.status
        let connected = transport?.connectedPeers() ?? []
        let progress = Dictionary(uniqueKeysWithValues: status.followers.map { ($0.id, $0) })
        let membership = status.membership
        let peers = addressBook.keys.sorted().filter { $0 != config.nodeID }.map { id in
            var peer = NodeStatus.Peer(
                id: id.description, address: addressBook[id]!.description, connected: connected.contains(id),
                matchIndex: progress[id]?.matchIndex.rawValue, nextIndex: progress[id]?.nextIndex.rawValue,
                replication: progress[id]?.state.description, blockedIn: blockedInbound.contains(id),
                blockedOut: blockedOutbound.contains(id),
                roundTripMicroseconds: lastRoundTripNanoseconds[id].map { $0 / 1_000 })
            peer.kind = membership.flatMap { $0.isVoter(id) ? "voter" : $0.isLearner(id) ? "learner" : nil }
            return peer
        }
        var answer = NodeStatus(
            id: config.nodeID.description, clusterID: config.clusterID.description, pid: Int(getpid()),
            role: status.role.rawValue, term: status.term.rawValue, leader: status.leader?.description,
            vote: status.vote?.description, commitIndex: status.commitIndex.rawValue,
            appliedIndex: runtime.stateMachine.appliedIndex.rawValue, lastLogIndex: status.lastIndex.rawValue,
            firstLogIndex: status.firstIndex.rawValue, snapshotIndex: runtime.lastSnapshotIndex.rawValue,
            keys: runtime.stateMachine.count, clientURL: "http://\(config.clientListen)",
            peerAddress: config.peerListen.description,
            storage: runtime.storageFailure.map { "failed: \($0)" } ?? "ok",
            leadTransferee: status.leadTransferee?.description, peers: peers, disk: diskStatus,
            alarms: clusterAlarms.statusAlarms(nowMilliseconds: Self.monotonicMilliseconds()),
            snapshotInProgress: runtime.snapshotInProgress)
        answer.voters = membership?.voters.map(\.description)
        answer.learners = membership?.learners.map(\.description)
        answer.kind =
            membership.map { $0.isVoter(config.nodeID) ? "voter" : $0.isLearner(config.nodeID) ? "learner" : "removed" }
            ?? "joining"
        return answer
    }

    static func wallClockMilliseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec / 1_000_000)
    }
}

/// The runtime's world, as raftd provides it: NIO for peers, the system's wall clock, a dispatch queue for
/// snapshot writes. Called on `loop` only.
extension NodeShell: NodeEnvironment {
    func send(_ messages: [Message]) {
        transport?.send(messages)
    }

    func wallClockMilliseconds() -> UInt64 { Self.wallClockMilliseconds() }

    func runSnapshotJob(_ job: SnapshotJob) {
        Self.snapshotQueue.async {
            let started = Self.monotonicNanoseconds()
            let result = job.run()
            if case .success = result {
                self.metrics.snapshotDuration.recordNanoseconds(Int64(clamping: Self.monotonicNanoseconds() - started))
            }
            self.loop.execute {
                if case .success(let snapshot) = result {
                    self.logger.info(
                        "snapshot taken",
                        metadata: ["index": "\(snapshot.metadata.index)", "bytes": "\(snapshot.dataBytes)"])
                }
                self.runtime.snapshotWritten(result)
            }
        }
    }

    func eventOccurred(_ event: RaftEvent, term: Term) {
        record(event, term: term)
        switch event {
        case .snapshotInstalled, .logCompacted: Self.releaseFreedMemory()
        default: break
        }
    }

    func entriesPersisted(_ entries: [Entry]) {
        for subscriber in entrySubscribers.values { subscriber(entries) }
    }

    func storageFailed(_ reason: String) {
        handleStorageFailure(reason)
    }

    func applying(_ index: LogIndex, _ apply: () -> Void) {
        let started = Self.monotonicNanoseconds()
        apply()
        let elapsed = Self.monotonicNanoseconds() - started
        metrics.applyDuration.recordNanoseconds(Int64(clamping: elapsed))
        if elapsed > UInt64(config.slowApplyWarningMilliseconds) * 1_000_000 { slowApply(index, nanoseconds: elapsed) }
    }

    /// An apply took longer than the warning threshold: counted always, reported as an event at most once a second
    /// (with the number of others since the last report), so a slow state machine does not flood the log.
    private func slowApply(_ index: LogIndex, nanoseconds: UInt64) {
        metrics.slowApplies.increment()
        let now = Self.monotonicNanoseconds()
        guard now - lastSlowApplyReportNanoseconds >= 1_000_000_000 else {
            unreportedSlowApplies += 1
            return
        }
        let others = unreportedSlowApplies > 0 ? " (and \(unreportedSlowApplies) more since the last report)" : ""
        unreportedSlowApplies = 0
        lastSlowApplyReportNanoseconds = now
        let threshold = DurationText.format(milliseconds: config.slowApplyWarningMilliseconds)
        recordEvent(
            kind: "slow-apply",
            detail: "applying entry \(index) took \(Self.seconds(nanoseconds)), over the \(threshold) warning threshold"
                + others,
            level: .warning)
    }

    /// The metrics as Prometheus text, with the gauges read now (on the loop).
    func metricsExposition() -> EventLoopFuture<[UInt8]> {
        loop.submit {
            let status = self.runtime.raft.status
            return self.metrics.exposition(
                NodeMetrics.Gauges(
                    hasLeader: status.leader != nil, isLeader: status.role == .leader, term: status.term.rawValue,
                    commitIndex: status.commitIndex.rawValue,
                    appliedIndex: self.runtime.stateMachine.appliedIndex.rawValue,
                    proposalsPending: self.runtime.pendingWriteCount))
        }
    }
}

/// A problem that stops raftd from starting, with a message that says what to do.
public struct StartupError: Error, CustomStringConvertible {
    public var description: String
    /// raftd's exit status: 1, or ``NodeConfiguration/storageFailureExitStatus`` when the data directory could
    /// not be written.
    public var exitStatus: Int32
    public init(_ description: String, exitStatus: Int32 = 1) {
        self.description = description
        self.exitStatus = exitStatus
    }
}
