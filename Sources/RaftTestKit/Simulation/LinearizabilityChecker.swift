import RaftCore

/// Checks ReadIndex reads of a key-value store against the writes the cluster applied, online.
///
/// Every write puts a value never written before, so a value names its write, and a write is ordered by the
/// log index at which it was applied (the same on every node: State Machine Safety). The history is fed as it
/// happens, and the checker's own event order is the real-time order:
///
/// - ``writeInvoked(key:value:)`` when a client submits a write;
/// - ``writeApplied(key:value:index:)`` each time any node applies it. The *first* such call is the write's
///   completion. This is stricter than acknowledging the client only on the node it wrote to (which applies
///   it no earlier), and still sound: a node applies only committed entries, and any leader that later
///   confirms a read holds every committed entry with a commit index past it (§5.4, §6.4);
/// - ``readInvoked(id:key:)`` when a client asks a node for a ReadIndex read;
/// - ``readServed(id:value:)`` when that node's state machine has applied the read index and the value is read;
///   ``readAbandoned(id:)`` when the read failed or its node crashed.
///
/// A read is wrong if it returns a value whose write was applied at a lower index than a write to the same key
/// that completed before the read was invoked, or than the value some read of that key returned before this
/// read was invoked; and if it returns a value never written to that key. A write applied at two different
/// indexes is a violation too (an entry duplicated or changed). Invariant: the checker never traps; it collects
/// ``violations`` (at most 50).
public struct LinearizabilityChecker: Sendable {
    private struct Write: Sendable {
        var key: String
        var appliedIndex: LogIndex?
    }

    private struct Read: Sendable {
        var key: String
        /// The highest write index any correct answer must reach, fixed when the read was invoked.
        var floor: LogIndex
        var floorReason: String
    }

    public private(set) var violations: [String] = []
    private var writes: [String: Write] = [:]
    private var pendingReads: [UInt64: Read] = [:]
    /// Per key: the highest index of a completed write, and of a value a served read returned.
    private var completedWriteFloor: [String: (index: LogIndex, value: String)] = [:]
    private var servedReadFloor: [String: (index: LogIndex, read: UInt64)] = [:]
    public private(set) var completedWrites = 0
    public private(set) var servedReads = 0

    public init() {}

    public mutating func writeInvoked(key: String, value: String) {
        if writes[value] != nil {
            record("history: value \(value) written twice")
            return
        }
        writes[value] = Write(key: key, appliedIndex: nil)
    }

    /// A node applied the write of `value` to `key` at `index`.
    public mutating func writeApplied(key: String, value: String, index: LogIndex) {
        guard var write = writes[value], write.key == key else {
            record("value \(value) for key \(key) applied at \(index) but never written to that key")
            return
        }
        if let prior = write.appliedIndex {
            if prior != index { record("write \(key)=\(value) applied at \(prior) and again at \(index)") }
            return
        }
        write.appliedIndex = index
        writes[value] = write
        completedWrites += 1
        if index > (completedWriteFloor[key]?.index ?? .zero) { completedWriteFloor[key] = (index, value) }
    }

    public mutating func readInvoked(id: UInt64, key: String) {
        let writeFloor = completedWriteFloor[key]
        let readFloor = servedReadFloor[key]
        var floor = LogIndex.zero
        var reason = "nothing completed"
        if let writeFloor, writeFloor.index > floor {
            floor = writeFloor.index
            reason = "write \(key)=\(writeFloor.value)@\(writeFloor.index) had completed"
        }
        if let readFloor, readFloor.index > floor {
            floor = readFloor.index
            reason = "read r\(readFloor.read) had returned the write at \(readFloor.index)"
        }
        pendingReads[id] = Read(key: key, floor: floor, floorReason: reason)
    }

    /// The read `id` returned `value` (nil: the key was absent).
    public mutating func readServed(id: UInt64, value: String?) {
        guard let read = pendingReads.removeValue(forKey: id) else {
            record("history: read r\(id) served but never invoked (or served twice)")
            return
        }
        servedReads += 1
        var index = LogIndex.zero
        if let value {
            guard let write = writes[value], write.key == read.key else {
                record("read r\(id) of \(read.key) returned \(value), which was never written to \(read.key)")
                return
            }
            guard let applied = write.appliedIndex else {
                record("read r\(id) of \(read.key) returned \(value), which no node had applied")
                return
            }
            index = applied
        }
        if index < read.floor {
            record(
                "stale read: r\(id) of \(read.key) returned \(value ?? "nothing") (write at \(index)),"
                    + " but before it was invoked \(read.floorReason)")
        }
        if index > (servedReadFloor[read.key]?.index ?? .zero) { servedReadFloor[read.key] = (index, id) }
    }

    public mutating func readAbandoned(id: UInt64) {
        pendingReads.removeValue(forKey: id)
    }

    private mutating func record(_ violation: String) {
        if violations.count < 50 { violations.append("linearizability: " + violation) }
    }
}
