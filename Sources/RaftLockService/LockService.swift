import RaftCore
import RaftRuntime

/// A replicated lock service: named locks, each held by at most one owner, with fencing tokens. It is the
/// smallest useful ``StateMachine`` beside the key-value store, and shows how to embed ``NodeRuntime`` in a
/// server of your own: encode commands, propose them, and answer clients from ``Applied`` outputs.
///
/// A lock's fencing token is the log index of the command that granted it: tokens only grow, so a resource that
/// remembers the largest token it has seen can refuse a holder whose lock has since passed to someone else.
///
/// Invariants: `appliedIndex` is the index of the last entry applied; every lock in `holders` was granted by an
/// applied `acquire` and not released since.
public struct LockService: StateMachine {
    /// What a client asks for.
    public enum Command: Sendable, Hashable {
        case acquire(lock: String, owner: String)
        case release(lock: String, owner: String)
    }

    /// What it gets back.
    public enum Output: Sendable, Hashable {
        /// The owner holds the lock (newly, or already), under this fencing token.
        case acquired(token: UInt64)
        /// Someone else holds it.
        case heldBy(owner: String)
        case released
        /// A release by an owner that does not hold the lock: nothing changed.
        case notHeld
        /// The entry is not a command of this service.
        case malformed
    }

    public struct Holder: Sendable, Hashable {
        public var owner: String
        public var token: UInt64

        public init(owner: String, token: UInt64) {
            self.owner = owner
            self.token = token
        }
    }

    public private(set) var holders: [String: Holder] = [:]
    public private(set) var appliedIndex: LogIndex = .zero
    public private(set) var appliedTerm: Term = .zero

    public init() {}

    public mutating func apply(committed entry: Entry) -> Applied<Output>? {
        appliedIndex = entry.index
        appliedTerm = entry.term
        guard entry.kind == .command else { return nil }
        guard let (proposal, command) = Self.decode(entry.data) else {
            return Applied(proposal: nil, output: .malformed)
        }
        let output: Output
        switch command {
        case .acquire(let lock, let owner):
            if let holder = holders[lock] {
                output = holder.owner == owner ? .acquired(token: holder.token) : .heldBy(owner: holder.owner)
            } else {
                holders[lock] = Holder(owner: owner, token: entry.index.rawValue)
                output = .acquired(token: entry.index.rawValue)
            }
        case .release(let lock, let owner):
            if holders[lock]?.owner == owner {
                holders[lock] = nil
                output = .released
            } else {
                output = .notHeld
            }
        }
        return Applied(proposal: proposal, output: output)
    }

    // MARK: Encoding

    /// The bytes of `command` proposed as `proposal`: what ``NodeRuntime/propose(_:completion:)`` appends.
    public static func encode(_ command: Command, as proposal: ProposalID) -> [UInt8] {
        var bytes: [UInt8] = []
        let (kind, lock, owner): (UInt8, String, String) =
            switch command {
            case .acquire(let lock, let owner): (1, lock, owner)
            case .release(let lock, let owner): (2, lock, owner)
            }
        bytes.append(kind)
        append(proposal.origin.rawValue, to: &bytes)
        append(proposal.sequence, to: &bytes)
        append(lock, to: &bytes)
        append(owner, to: &bytes)
        return bytes
    }

    static func decode(_ bytes: [UInt8]) -> (ProposalID, Command)? {
        var reader = Reader(bytes: bytes)
        guard let kind = reader.byte(), let origin = reader.u64(), let sequence = reader.u64(),
            let lock = reader.string(), let owner = reader.string(), reader.atEnd
        else { return nil }
        let proposal = ProposalID(origin: NodeID(origin), sequence: sequence)
        switch kind {
        case 1: return (proposal, .acquire(lock: lock, owner: owner))
        case 2: return (proposal, .release(lock: lock, owner: owner))
        default: return nil
        }
    }

    // MARK: Snapshots

    public func snapshotData() -> [UInt8] {
        var bytes: [UInt8] = [1]
        Self.append(appliedIndex.rawValue, to: &bytes)
        Self.append(appliedTerm.rawValue, to: &bytes)
        Self.append(UInt64(holders.count), to: &bytes)
        for lock in holders.keys.sorted() {
            Self.append(lock, to: &bytes)
            Self.append(holders[lock]!.owner, to: &bytes)
            Self.append(holders[lock]!.token, to: &bytes)
        }
        return bytes
    }

    public mutating func restore(fromSnapshot data: [UInt8]) throws {
        var reader = Reader(bytes: data)
        guard reader.byte() == 1, let index = reader.u64(), let term = reader.u64(), let count = reader.u64(),
            count <= UInt64(data.count)
        else { throw LockServiceSnapshotError() }
        var holders: [String: Holder] = [:]
        for _ in 0..<count {
            guard let lock = reader.string(), let owner = reader.string(), let token = reader.u64() else {
                throw LockServiceSnapshotError()
            }
            holders[lock] = Holder(owner: owner, token: token)
        }
        guard reader.atEnd else { throw LockServiceSnapshotError() }
        self.holders = holders
        appliedIndex = LogIndex(index)
        appliedTerm = Term(term)
    }

    private static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private static func append(_ text: String, to bytes: inout [UInt8]) {
        let utf8 = Array(text.utf8)
        append(UInt64(utf8.count), to: &bytes)
        bytes += utf8
    }

    /// A bounds-checked reader: malformed bytes give nil, never a trap.
    struct Reader {
        var bytes: [UInt8]
        var offset = 0
        var atEnd: Bool { offset == bytes.count }

        mutating func byte() -> UInt8? {
            guard offset < bytes.count else { return nil }
            offset += 1
            return bytes[offset - 1]
        }

        mutating func u64() -> UInt64? {
            guard bytes.count - offset >= 8 else { return nil }
            var value: UInt64 = 0
            for shift in 0..<8 { value |= UInt64(bytes[offset + shift]) << (8 * UInt64(shift)) }
            offset += 8
            return value
        }

        mutating func string() -> String? {
            guard let count = u64(), count <= UInt64(bytes.count - offset) else { return nil }
            defer { offset += Int(count) }
            return String(decoding: bytes[offset..<(offset + Int(count))], as: UTF8.self)
        }
    }
}

/// A lock-service snapshot that does not decode.
public struct LockServiceSnapshotError: Error, Sendable {}
