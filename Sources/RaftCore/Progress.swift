/// How a leader is currently replicating to one follower (the states of etcd-raft's progress tracker).
public enum ReplicationState: Sendable, Hashable, CustomStringConvertible {
    /// The leader does not know where the follower's log matches: one AppendEntries at a time.
    case probe
    /// The follower is known to match: AppendEntries are pipelined up to the in-flight window.
    case replicate
    /// An InstallSnapshot at this index is in flight; nothing else is sent until it is acknowledged.
    case snapshot(LogIndex)

    public var description: String {
        switch self {
        case .probe: "probe"
        case .replicate: "replicate"
        case .snapshot(let index): "snapshot(\(index))"
        }
    }
}

/// The leader's view of one follower. Invariant: `match < next`.
struct Progress: Sendable {
    var match: LogIndex = .zero
    var next: LogIndex
    var state: ReplicationState = .probe
    /// In probe state: an AppendEntries was sent and not yet answered (nor a heartbeat answered since).
    var probeSent = false
    /// Last index of each AppendEntries in flight, oldest first (replicate state only).
    var inflights = Inflights()
    /// Heard from since the last CheckQuorum round.
    var recentActive = false
    /// Ticks since the follower last sent anything: a membership change counts it live while this is under the
    /// election timeout (unlike ``recentActive``, it does not reset each CheckQuorum round).
    var inactiveTicks = 0
    /// Highest heartbeat round this follower echoed; ReadIndex counts these.
    var ackedRound: UInt64 = 0
    /// Ticks since the snapshot in flight was sent (or, when sends are reported, since it was reported sent), to
    /// retry one that was lost.
    var snapshotElapsedTicks = 0
    /// The shell reported the snapshot in flight handed to the network in full (``RaftConfig/snapshotSendsReported``).
    var snapshotSent = false

    init(next: LogIndex) {
        self.next = next
    }

    func isPaused(maxInflight: Int, maxInflightBytes: Int) -> Bool {
        switch state {
        case .probe: probeSent
        case .replicate: inflights.isFull(maxCount: maxInflight, maxBytes: maxInflightBytes)
        case .snapshot: true
        }
    }

    /// Records a successful append through `index`; returns whether `match` moved.
    mutating func update(match index: LogIndex) -> Bool {
        var moved = false
        if index > match {
            match = index
            moved = true
            probeSent = false
        }
        if index.next > next { next = index.next }
        return moved
    }

    mutating func becomeProbe() {
        if case .snapshot(let pending) = state {
            next = max(match.next, pending.next)
        } else {
            next = match.next
        }
        state = .probe
        probeSent = false
        inflights.removeAll()
    }

    mutating func becomeReplicate() {
        state = .replicate
        next = match.next
        probeSent = false
        inflights.removeAll()
    }

    mutating func becomeSnapshot(_ index: LogIndex) {
        state = .snapshot(index)
        snapshotElapsedTicks = 0
        snapshotSent = false
        inflights.removeAll()
    }
}

/// A FIFO of in-flight AppendEntries, identified by their last index, with their payload bytes; freed as
/// acknowledgements arrive. Invariant: `bytes` is the sum of the sizes of the messages from `head` on.
struct Inflights: Sendable {
    private var buffer: [(lastIndex: LogIndex, bytes: Int)] = []
    private var head = 0
    /// Payload bytes of the messages in flight.
    private(set) var bytes = 0

    var count: Int { buffer.count - head }

    /// No more may be sent: `maxCount` messages or `maxBytes` payload bytes are in flight.
    func isFull(maxCount: Int, maxBytes: Int) -> Bool {
        count >= maxCount || (count > 0 && bytes >= maxBytes)
    }

    mutating func add(_ lastIndex: LogIndex, bytes size: Int) {
        buffer.append((lastIndex, size))
        bytes += size
    }

    /// Frees every message whose last index is at or below `index`.
    mutating func free(through index: LogIndex) {
        while head < buffer.count, buffer[head].lastIndex <= index {
            bytes -= buffer[head].bytes
            head += 1
        }
        compactIfNeeded()
    }

    mutating func freeFirst() {
        if head < buffer.count {
            bytes -= buffer[head].bytes
            head += 1
        }
        compactIfNeeded()
    }

    mutating func removeAll() {
        buffer.removeAll(keepingCapacity: true)
        head = 0
        bytes = 0
    }

    private mutating func compactIfNeeded() {
        if head == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            head = 0
            bytes = 0
        } else if head > 64 && head * 2 > buffer.count {
            buffer.removeFirst(head)
            head = 0
        }
    }
}
