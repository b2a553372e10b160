import RaftCore
import RaftWire

/// A write to the key-value store, as it travels through the Raft log.
///
/// `origin` and `sequence` let the node that proposed it find the waiting client when it is applied;
/// `idempotencyKey` makes a retried request apply at most once (see ``KVStore``); `timestampMilliseconds` is the
/// proposer's wall clock, kept for diagnostics only: the state machine never reads it (a skewed clock must not change
/// what is applied or remembered).
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

    /// A digest of what the request asks for (operation, key, value and condition; not the idempotency key, origin,
    /// sequence or timestamp), identical on every node and in every process: a retry has the same digest, a different
    /// request under the same idempotency key (almost surely) not. Never 0 (0 marks "unknown" in ``KVStore``).
    public var requestDigest: UInt64 {
        var digest = StableDigest(domain: 1)
        digest.add(operation.rawValue)
        digest.addBlob(key)
        digest.addBlob(value)
        switch condition {
        case .none:
            digest.add(UInt8(0))
        case .previousValue(let expected):
            digest.add(UInt8(1))
            digest.addBlob(expected)
        case .previousExists(let exists):
            digest.add(UInt8(exists ? 3 : 2))
        }
        return digest.value
    }

    /// The 64-bit digest of an idempotency key that ``KVStore`` keeps as a tombstone once the key's record expired.
    public static func idempotencyKeyDigest(_ idempotencyKey: String) -> UInt64 {
        idempotencyKeyDigest(utf8: Array(idempotencyKey.utf8))
    }

    /// The same digest, of a key's UTF-8 bytes.
    public static func idempotencyKeyDigest(utf8 idempotencyKey: [UInt8]) -> UInt64 {
        var digest = StableDigest(domain: 2)
        digest.addBlob(idempotencyKey)
        return digest.value
    }

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
    /// The idempotency key is recorded for a different request (another operation, key, value or condition);
    /// nothing changed.
    case idempotencyKeyReused
    /// The idempotency key was used more than `recordWindow` applied entries ago: its result is no longer kept, only
    /// a tombstone; nothing changed (the write is not applied a second time).
    case idempotencyKeyExpired(recordWindow: UInt64)
}

/// FNV-1a 64 with its fixed standard offset basis, over a length-prefixed encoding, finished with SplitMix64's
/// mixer: the same bytes give the same value on every machine and in every process (unlike `Hasher`, which is
/// seeded per process), so replicas can store and compare it.
struct StableDigest {
    private var state: UInt64 = 0xcbf2_9ce4_8422_2325

    /// `domain` separates the uses of the digest (requests, idempotency keys) from each other.
    init(domain: UInt8) { add(domain) }

    mutating func add(_ byte: UInt8) {
        state = (state ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
    }

    mutating func add(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { add(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    /// The length, then the bytes: two different field sequences never encode alike.
    mutating func addBlob(_ bytes: [UInt8]) {
        add(UInt64(bytes.count))
        for byte in bytes { add(byte) }
    }

    var value: UInt64 {
        var z = state &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        z ^= z >> 31
        return z == 0 ? 1 : z
    }
}

/// The result of one applied command, for the proposer to hand back to its client.
public struct KVApplyResult: Sendable, Hashable {
    public var origin: NodeID
    public var sequence: UInt64
    public var outcome: KVOutcome
    /// Where the command was (first) applied; for a replayed idempotent request, the original position; for a
    /// command refused because of its idempotency key (reused or expired), the entry that carried it.
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
