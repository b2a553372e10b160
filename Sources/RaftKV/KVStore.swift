import HashTreeCollections
import RaftCore
import RaftWire

/// The replicated key-value state machine: every node applies the same committed entries in the same order
/// and so holds the same map.
///
/// Exactly-once writes: a command carrying an idempotency key that was already applied is not applied again;
/// the original outcome is returned. The table of seen keys is replicated state (it is in snapshots) with two
/// bounds: records older than ``idempotencyTTLMilliseconds`` (by the proposers' timestamps, so every node
/// expires the same records at the same entry) and at most ``maxIdempotencyRecords`` records (oldest first).
///
/// The maps are persistent hash tries: a copy (the node snapshots a copy off its main loop) costs nothing, and the
/// first write after it copies one path instead of the whole map.
public struct KVStore: Sendable {
    public private(set) var values: TreeDictionary<[UInt8], [UInt8]> = [:]
    public private(set) var appliedIndex: LogIndex = .zero
    public private(set) var appliedTerm: Term = .zero
    public let idempotencyTTLMilliseconds: UInt64
    public let maxIdempotencyRecords: Int

    struct Record: Sendable, Hashable {
        var key: String
        var outcome: KVOutcome
        var index: LogIndex
        var term: Term
        var timestampMilliseconds: UInt64
    }

    private var records: TreeDictionary<String, Record> = [:]
    /// Keys in the order they were recorded; `recordOrder[recordHead...]` are live or already evicted.
    private var recordOrder: [String] = []
    private var recordHead = 0
    /// The newest proposer timestamp applied: the store's notion of "now", identical on every node.
    private var clockMilliseconds: UInt64 = 0

    public init(idempotencyTTLMilliseconds: UInt64 = 10 * 60 * 1000, maxIdempotencyRecords: Int = 100_000) {
        self.idempotencyTTLMilliseconds = idempotencyTTLMilliseconds
        self.maxIdempotencyRecords = maxIdempotencyRecords
    }

    public func value(for key: [UInt8]) -> [UInt8]? { values[key] }

    /// Equal contents: values, applied position and idempotency records (not their encoding order).
    public func hasSameState(as other: KVStore) -> Bool {
        values == other.values && appliedIndex == other.appliedIndex && appliedTerm == other.appliedTerm
            && clockMilliseconds == other.clockMilliseconds && records == other.records
    }
    public var count: Int { values.count }
    public var idempotencyRecordCount: Int { records.count }

    /// Applies one committed entry; returns the result for a command (nil for a no-op entry).
    public mutating func apply(_ entry: Entry) -> KVApplyResult? {
        precondition(entry.index == appliedIndex.next, "applied \(entry.index) after \(appliedIndex)")
        appliedIndex = entry.index
        appliedTerm = entry.term
        guard entry.kind == .command else { return nil }
        let command: KVCommand
        do {
            command = try KVCommand(decoding: entry.data)
        } catch {
            return KVApplyResult(
                origin: NodeID(0), sequence: 0, outcome: .malformed(error.description), index: entry.index,
                term: entry.term, replayed: false)
        }
        clockMilliseconds = max(clockMilliseconds, command.timestampMilliseconds)
        expireRecords()
        if let key = command.idempotencyKey, let record = records[key] {
            return KVApplyResult(
                origin: command.origin, sequence: command.sequence, outcome: record.outcome, index: record.index,
                term: record.term, replayed: true)
        }
        let outcome = execute(command)
        if let key = command.idempotencyKey {
            records[key] = Record(
                key: key, outcome: outcome, index: entry.index, term: entry.term,
                timestampMilliseconds: command.timestampMilliseconds)
            recordOrder.append(key)
            expireRecords()
        }
        return KVApplyResult(
            origin: command.origin, sequence: command.sequence, outcome: outcome, index: entry.index, term: entry.term,
            replayed: false)
    }

    private mutating func execute(_ command: KVCommand) -> KVOutcome {
        let current = values[command.key]
        switch command.condition {
        case .none: break
        case .previousValue(let expected): if current != expected { return .conditionFailed }
        case .previousExists(let exists): if (current != nil) != exists { return .conditionFailed }
        }
        switch command.operation {
        case .put:
            values[command.key] = command.value
            return .stored(created: current == nil)
        case .delete:
            guard current != nil else { return .notFound }
            values[command.key] = nil
            return .deleted
        }
    }

    private mutating func expireRecords() {
        while recordHead < recordOrder.count {
            let key = recordOrder[recordHead]
            guard let record = records[key] else {
                recordHead += 1
                continue
            }
            let expired = record.timestampMilliseconds + idempotencyTTLMilliseconds < clockMilliseconds
            guard expired || records.count > maxIdempotencyRecords else { break }
            records[key] = nil
            recordHead += 1
        }
        if recordHead > 1024 && recordHead * 2 > recordOrder.count {
            recordOrder.removeFirst(recordHead)
            recordHead = 0
        }
    }

    // MARK: - Snapshots

    static let snapshotVersion: UInt8 = 1

    /// The whole state (map, idempotency records, applied position) as bytes. Keys come in the map's own order:
    /// sorting them cost more than the rest of the encoding, and restoring does not depend on order.
    public func snapshotData() -> [UInt8] {
        var size = 64
        for (key, value) in values { size += key.count + value.count + 8 }
        var w = ByteWriter(capacity: size)
        w.write(Self.snapshotVersion)
        w.write(appliedIndex.rawValue)
        w.write(appliedTerm.rawValue)
        w.write(clockMilliseconds)
        w.write(UInt64(values.count))
        for (key, value) in values {
            w.writeBlob(key)
            w.writeBlob(value)
        }
        // A key recorded again after it expired appears twice in `recordOrder`: keep its latest position.
        var seen = Set<String>()
        let live = recordOrder[recordHead...].reversed().filter { records[$0] != nil && seen.insert($0).inserted }
            .reversed()
        w.write(UInt64(live.count))
        for key in live {
            let record = records[key]!
            w.writeBlob(Array(key.utf8))
            w.write(record.index.rawValue)
            w.write(record.term.rawValue)
            w.write(record.timestampMilliseconds)
            switch record.outcome {
            case .stored(let created): w.write(UInt8(created ? 1 : 2))
            case .deleted: w.write(UInt8(3))
            case .notFound: w.write(UInt8(4))
            case .conditionFailed: w.write(UInt8(5))
            case .malformed: w.write(UInt8(6))
            }
        }
        return w.bytes
    }

    /// Replaces the state with a snapshot's. Throws (leaving the store unchanged) if the bytes are malformed.
    public mutating func restore(from data: [UInt8]) throws(WireError) {
        var r = ByteReader(data)
        let version = try r.read(UInt8.self)
        guard version == Self.snapshotVersion else { throw .invalid("snapshot format version \(version)") }
        var restored = KVStore(
            idempotencyTTLMilliseconds: idempotencyTTLMilliseconds, maxIdempotencyRecords: maxIdempotencyRecords)
        restored.appliedIndex = LogIndex(try r.read(UInt64.self))
        restored.appliedTerm = Term(try r.read(UInt64.self))
        restored.clockMilliseconds = try r.read()
        let valueCount = try r.read(UInt64.self)
        guard valueCount <= UInt64(r.remaining / 8) else { throw .invalid("value count \(valueCount)") }
        for _ in 0..<valueCount {
            let key = try r.readBlob(limit: Int(UInt32.max), what: "key")
            restored.values[key] = try r.readBlob(limit: Int(UInt32.max), what: "value")
        }
        let recordCount = try r.read(UInt64.self)
        guard recordCount <= UInt64(r.remaining / 29) else { throw .invalid("record count \(recordCount)") }
        for _ in 0..<recordCount {
            let key = String(decoding: try r.readBlob(limit: 1 << 16, what: "idempotency key"), as: UTF8.self)
            let index = LogIndex(try r.read(UInt64.self))
            let term = Term(try r.read(UInt64.self))
            let timestamp = try r.read(UInt64.self)
            let outcome: KVOutcome
            switch try r.read(UInt8.self) {
            case 1: outcome = .stored(created: true)
            case 2: outcome = .stored(created: false)
            case 3: outcome = .deleted
            case 4: outcome = .notFound
            case 5: outcome = .conditionFailed
            case 6: outcome = .malformed("replayed")
            case let other: throw .invalid("record outcome \(other)")
            }
            restored.records[key] = Record(
                key: key, outcome: outcome, index: index, term: term, timestampMilliseconds: timestamp)
            restored.recordOrder.append(key)
        }
        try r.expectEnd()
        self = restored
    }
}
