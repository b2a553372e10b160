import RaftCore

/// What a simulated node has made durable: exactly what survives a crash.
///
/// It follows the ``PersistWork`` contract (snapshot, then entries with suffix truncation, then hard state).
public struct MemoryStorage: Sendable {
    public private(set) var hardState = HardState()
    public private(set) var snapshot: Snapshot?
    public private(set) var entries: [Entry] = []

    public init() {}

    public var lastIndex: LogIndex { entries.last?.index ?? snapshot?.metadata.index ?? .zero }

    public mutating func persist(_ work: PersistWork) {
        if let snapshot = work.snapshot {
            self.snapshot = snapshot
            entries.removeAll()
        }
        if let first = work.entries.first {
            let base = snapshot?.metadata.index ?? .zero
            precondition(first.index > base && first.index <= lastIndex.next, "storage gap at \(first.index)")
            entries.removeSubrange(Int(first.index.rawValue - base.rawValue - 1)...)
            entries.append(contentsOf: work.entries)
        }
        if let hs = work.hardState { hardState = hs }
    }

    /// Records a snapshot the application took and drops the entries it covers.
    public mutating func saveSnapshot(_ snapshot: Snapshot) {
        let index = snapshot.metadata.index
        guard index > (self.snapshot?.metadata.index ?? .zero) else { return }
        self.snapshot = snapshot
        entries.removeAll { $0.index <= index }
    }

    public var persistentState: PersistentState {
        PersistentState(hardState: hardState, snapshot: snapshot, entries: entries)
    }
}

/// A tiny replicated key-value map used by the tests: commands are `put KEY VALUE` (UTF-8). Every applied
/// entry is recorded so checkers can compare what each node applied at each index.
public struct KVStateMachine: Sendable {
    public private(set) var values: [String: String] = [:]
    public private(set) var appliedIndex: LogIndex = .zero
    public private(set) var appliedTerm: Term = .zero
    /// Entries this node applied one by one (not through a snapshot), by index.
    public private(set) var appliedEntries: [LogIndex: Entry] = [:]

    public init() {}

    public static func putCommand(_ key: String, _ value: String) -> [UInt8] {
        Array("put \(key) \(value)".utf8)
    }

    public mutating func apply(_ entry: Entry) {
        precondition(entry.index == appliedIndex.next, "applied \(entry.index) after \(appliedIndex)")
        appliedIndex = entry.index
        appliedTerm = entry.term
        appliedEntries[entry.index] = entry
        guard entry.kind == .command else { return }
        let parts = String(decoding: entry.data, as: UTF8.self).split(separator: " ", maxSplits: 2)
        if parts.count == 3 && parts[0] == "put" {
            values[String(parts[1])] = String(parts[2])
        }
    }

    public func snapshotData() -> [UInt8] {
        var text = "\(appliedIndex.rawValue) \(appliedTerm.rawValue)\n"
        for key in values.keys.sorted() { text += "\(key) \(values[key]!)\n" }
        return Array(text.utf8)
    }

    public mutating func restore(_ snapshot: Snapshot) {
        let lines = String(decoding: snapshot.data, as: UTF8.self).split(separator: "\n")
        values.removeAll()
        for line in lines.dropFirst() {
            let kv = line.split(separator: " ", maxSplits: 1)
            if kv.count == 2 { values[String(kv[0])] = String(kv[1]) }
        }
        appliedIndex = snapshot.metadata.index
        appliedTerm = snapshot.metadata.term
    }
}

/// One simulated cluster member: the real ``RaftNode`` driven through its Ready/advance contract over
/// ``MemoryStorage`` and a ``KVStateMachine``. Crashing keeps only storage; restarting rebuilds the rest.
public struct SimNode {
    public let config: RaftConfig
    public private(set) var raft: RaftNode
    public private(set) var storage = MemoryStorage()
    public private(set) var stateMachine = KVStateMachine()
    public private(set) var isRunning = true
    /// Reads confirmed by the core, in order; the caller serves them once `stateMachine` has applied `index`.
    public var readStates: [ReadState] = []
    public var failedReads: [ReadContext] = []
    /// Events from the core, oldest first; the owner may clear it.
    public var events: [RaftEvent] = []
    /// Take a snapshot and compact after this many applied entries (nil: never).
    public var snapshotEveryEntries: Int?
    /// When set, everything persisted also goes through the real storage, and restarts recover from it.
    public var durable: DurableBackend?
    private var restarts: UInt64 = 0

    /// The durable entries, for the core to read what it evicted from its cache (with `entryCacheBytes`).
    public private(set) var entryStorage: MemoryEntryStorage?

    /// - Parameter entryCacheBytes: gives the core an ``EntryStorage`` and this cache limit, so that it reads
    ///   older entries back through the interface; nil keeps the whole log in the core.
    public init(config: RaftConfig, snapshotEveryEntries: Int? = nil, entryCacheBytes: Int? = nil) {
        var config = config
        if let entryCacheBytes {
            config.entryCacheBytes = entryCacheBytes
            entryStorage = MemoryEntryStorage()
        }
        self.config = config
        self.raft = RaftNode(config: config, entryStorage: entryStorage)
        self.snapshotEveryEntries = snapshotEveryEntries
    }

    public var id: NodeID { config.id }

    /// Runs Ready cycles until the core has nothing more; returns the messages to put on the network and the
    /// entries applied to the state machine, in order.
    public mutating func drain() -> (messages: [Message], applied: [Entry]) {
        guard isRunning else { return ([], []) }
        var out: [Message] = []
        var applied: [Entry] = []
        while raft.hasReady {
            let ready = raft.ready()
            storage.persist(ready.persist)
            if let entryStorage {
                if let snapshot = ready.persist.snapshot { entryStorage.reset(after: snapshot.metadata.index) }
                entryStorage.append(ready.persist.entries)
            }
            durable?.persist(ready.persist)
            let receipt = ready.persist.markDurable()
            out.append(contentsOf: ready.allMessages(after: receipt))
            if let snapshot = ready.persist.snapshot {
                stateMachine.restore(snapshot)
            }
            for entry in ready.committedEntries { stateMachine.apply(entry) }
            applied.append(contentsOf: ready.committedEntries)
            readStates.append(contentsOf: ready.readStates)
            failedReads.append(contentsOf: ready.failedReads)
            events.append(contentsOf: ready.events)
            raft.advance(ready)
            maybeSnapshot()
        }
        return (out, applied)
    }

    private mutating func maybeSnapshot() {
        guard let every = snapshotEveryEntries else { return }
        let base = storage.snapshot?.metadata.index ?? .zero
        guard stateMachine.appliedIndex.rawValue >= base.rawValue + UInt64(every) else { return }
        takeSnapshot()
    }

    /// Snapshots the state machine at its applied index and compacts the log behind it.
    public mutating func takeSnapshot() {
        let index = stateMachine.appliedIndex
        guard index > (storage.snapshot?.metadata.index ?? .zero) else { return }
        let membership = raft.membership(at: index) ?? Membership(voters: config.voters)
        let snapshot = Snapshot(
            metadata: SnapshotMetadata(
                index: index, term: stateMachine.appliedTerm, voters: membership.voters, learners: membership.learners,
                context: raft.membershipContext(at: index)),
            data: stateMachine.snapshotData())
        storage.saveSnapshot(snapshot)
        entryStorage?.compact(through: index)
        durable?.saveSnapshot(snapshot)
        raft.compact(snapshot)
    }

    public mutating func tick() {
        guard isRunning else { return }
        raft.tick()
    }

    public mutating func step(_ message: Message) {
        guard isRunning else { return }
        raft.step(message)
    }

    /// Applies `body` to the running core (propose, read, campaign, …); a stopped node ignores it.
    public mutating func withRaft<T>(_ body: (inout RaftNode) throws(RaftError) -> T) throws(RaftError) -> T? {
        guard isRunning else { return nil }
        return try body(&raft)
    }

    /// Crashes in the middle of a Ready, as a shell that sends ``Ready/messagesNow`` before its write completes
    /// can (§10.2.1): takes one Ready, stops without persisting or applying any of it, and returns the messages
    /// that had already gone out. Returns nil, and does nothing, when the core has nothing ready.
    public mutating func crashAfterSendingBeforePersisting() -> [Message]? {
        guard isRunning, raft.hasReady else { return nil }
        let ready = raft.ready()
        crash()
        return ready.messagesNow
    }

    /// Loses everything not in storage.
    public mutating func crash() {
        isRunning = false
        readStates.removeAll()
        failedReads.removeAll()
    }

    /// Restarts from storage with a fresh seed, re-applying the snapshot and committed entries.
    public mutating func restart() {
        restarts += 1
        var config = self.config
        config.randomSeed = config.randomSeed &+ restarts &* 0x9E37_79B9
        var state = storage.persistentState
        if let durable {
            let recovered = durable.crashAndRecover()
            precondition(
                recovered.hardState == state.hardState && recovered.snapshot == state.snapshot
                    && recovered.entries == state.entries,
                "\(id): storage recovered \(recovered.hardState), snapshot \(recovered.snapshot?.metadata.description ?? "-"),"
                    + " entries \(recovered.entries.first?.index.description ?? "-")…\(recovered.entries.last?.index.description ?? "-")"
                    + " but \(state.hardState), snapshot \(state.snapshot?.metadata.description ?? "-"),"
                    + " entries \(state.entries.first?.index.description ?? "-")…\(state.entries.last?.index.description ?? "-")"
                    + " were made durable")
            state = recovered
        }
        if entryStorage != nil {
            entryStorage = MemoryEntryStorage(entries: state.entries)
            if state.entries.isEmpty, let snapshot = state.snapshot {
                entryStorage?.reset(after: snapshot.metadata.index)
            }
        }
        raft = RaftNode(config: config, restoring: state, entryStorage: entryStorage)
        stateMachine = KVStateMachine()
        if let snapshot = state.snapshot { stateMachine.restore(snapshot) }
        isRunning = true
    }
}
