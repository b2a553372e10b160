import RaftCore
import RaftWire

/// A write to the key-value store, as it travels through the Raft log.
///
/// `origin` and `sequence` let the node that proposed it find the waiting client when it is applied;
/// `idempotencyKey` makes a retried request apply at most once; `timestampMilliseconds` is the proposer's clock,
/// used only to expire old idempotency records deterministically (every node sees the same value).
public struct KVCommand: Sendable, Hashable {
    public enum Operation: UInt8, Sendable, Hashable {
        case put = 1
        case delete = 2
    }

    /// A compare-and-set guard, checked when the command is applied.
    public enum Condition: Sendable, Hashable {
        case none
        /// Apply only if the key currently holds exactly this value.
        case previousValue([UInt8])
        /// Apply only if the key exists (`true`) or does not (`false`).
        case previousExists(Bool)
    }

    public var operation: Operation
    public var key: [UInt8]
    public var value: [UInt8]
    public var condition: Condition
    public var origin: NodeID
    public var sequence: UInt64
    public var idempotencyKey: String?
    public var timestampMilliseconds: UInt64

    public init(
        operation: Operation, key: [UInt8], value: [UInt8] = [], condition: Condition = .none, origin: NodeID,
        sequence: UInt64, idempotencyKey: String? = nil, timestampMilliseconds: UInt64
    ) {
        self.operation = operation
        self.key = key
        self.value = value
        self.condition = condition
        self.origin = origin
        self.sequence = sequence
        self.idempotencyKey = idempotencyKey
        self.timestampMilliseconds = timestampMilliseconds
    }

    static let formatVersion: UInt8 = 1

    public func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: 48 + key.count + value.count)
        w.write(Self.formatVersion)
        w.write(operation.rawValue)
        w.write(origin.rawValue)
        w.write(sequence)
        w.write(timestampMilliseconds)
        w.writeBlob(Array((idempotencyKey ?? "").utf8))
        w.writeBlob(key)
        w.writeBlob(value)
        switch condition {
        case .none:
            w.write(UInt8(0))
        case .previousValue(let expected):
            w.write(UInt8(1))
            w.writeBlob(expected)
        case .previousExists(let exists):
            w.write(UInt8(exists ? 3 : 2))
        }
        return w.bytes
    }

    /// Decodes a command from a log entry. Entries written by another version or corrupted in transit throw.
    public init(decoding bytes: [UInt8]) throws(WireError) {
        var r = ByteReader(bytes)
        let version = try r.read(UInt8.self)
        guard version == Self.formatVersion else { throw .invalid("command format version \(version)") }
        let rawOperation = try r.read(UInt8.self)
        guard let operation = Operation(rawValue: rawOperation) else { throw .invalid("operation \(rawOperation)") }
        self.operation = operation
        self.origin = NodeID(try r.read(UInt64.self))
        self.sequence = try r.read()
        self.timestampMilliseconds = try r.read()
        let keyBytes = try r.readBlob(limit: 1 << 16, what: "idempotency key")
        self.idempotencyKey = keyBytes.isEmpty ? nil : String(decoding: keyBytes, as: UTF8.self)
        self.key = try r.readBlob(limit: Int(UInt32.max), what: "key")
        self.value = try r.readBlob(limit: Int(UInt32.max), what: "value")
        switch try r.read(UInt8.self) {
        case 0: self.condition = .none
        case 1: self.condition = .previousValue(try r.readBlob(limit: Int(UInt32.max), what: "previous value"))
        case 2: self.condition = .previousExists(false)
        case 3: self.condition = .previousExists(true)
        case let other: throw .invalid("condition \(other)")
        }
        try r.expectEnd()
    }
}

/// What applying a ``KVCommand`` did.
public enum KVOutcome: Sendable, Hashable {
    /// The value was stored; `created` says whether the key was new.
    case stored(created: Bool)
    case deleted
    /// A delete of a key that does not exist.
    case notFound
    /// The command's condition did not hold; nothing changed.
    case conditionFailed
    /// The log entry could not be decoded; nothing changed (it is skipped on every node alike).
    case malformed(String)
}

/// The result of one applied command, for the proposer to hand back to its client.
public struct KVApplyResult: Sendable, Hashable {
    public var origin: NodeID
    public var sequence: UInt64
    public var outcome: KVOutcome
    /// Where the command was (first) applied; for a replayed idempotent request, the original position.
    public var index: LogIndex
    public var term: Term
    /// This was a retry of an idempotency key already applied: nothing changed, the original answer is repeated.
    public var replayed: Bool

    public init(
        origin: NodeID, sequence: UInt64, outcome: KVOutcome, index: LogIndex, term: Term, replayed: Bool
    ) {
        self.origin = origin
        self.sequence = sequence
        self.outcome = outcome
        self.index = index
        self.term = term
        self.replayed = replayed
    }
}
