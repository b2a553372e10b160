import RaftCore
import RaftKV
import RaftRuntime
import Synchronization

/// Watches every entry any node applies, across crashes and restarts, and records what must never happen:
/// two different entries applied at one index (State Machine Safety), or one idempotency key executed at two
/// indexes (exactly-once).
public final class ApplyRecorder: Sendable {
    struct State {
        var applied: [UInt64: (term: Term, data: [UInt8])] = [:]
        var executions: [String: UInt64] = [:]
        var violations: [String] = []
        var applications = 0
    }

    private let state = Mutex(State())

    public init() {}

    public var violations: [String] { state.withLock { $0.violations } }
    public var applications: Int { state.withLock { $0.applications } }

    /// The term and bytes of the entry applied at `index`, if any node applied one.
    public func entry(at index: LogIndex) -> (term: Term, data: [UInt8])? {
        state.withLock { $0.applied[index.rawValue] }
    }

    func record(node: NodeID, entry: Entry, result: KVApplyResult?) {
        state.withLock { state in
            state.applications += 1
            if let earlier = state.applied[entry.index.rawValue] {
                if earlier.term != entry.term || earlier.data != entry.data {
                    Self.add(
                        "\(node) applied entry \(entry.index) of term \(entry.term), another node applied one of term"
                            + " \(earlier.term) there", to: &state)
                }
            } else {
                state.applied[entry.index.rawValue] = (entry.term, entry.data)
            }
            guard let result, !result.replayed, result.executed,
                let command = try? KVCommand(decoding: entry.data), let key = command.idempotencyKey
            else { return }
            if let first = state.executions[key], first != entry.index.rawValue {
                Self.add("idempotency key \(key) executed at \(first) and again at \(entry.index)", to: &state)
            } else {
                state.executions[key] = entry.index.rawValue
            }
        }
    }

    func recordViolation(_ violation: String) {
        state.withLock { Self.add(violation, to: &$0) }
    }

    private static func add(_ violation: String, to state: inout State) {
        if state.violations.count < 50 { state.violations.append(violation) }
    }
}

extension KVApplyResult {
    /// The command ran against the store (whatever its outcome), as opposed to being answered from a record.
    var executed: Bool {
        switch outcome {
        case .stored, .deleted, .notFound, .conditionFailed: true
        default: false
        }
    }
}

/// The real ``KVStore``, reporting each application to an ``ApplyRecorder``: what the simulator's nodes run.
public struct CheckedKVStore: StateMachine {
    public private(set) var store = KVStore()
    let recorder: ApplyRecorder
    let node: NodeID

    public init(recorder: ApplyRecorder, node: NodeID) {
        self.recorder = recorder
        self.node = node
    }

    public var appliedIndex: LogIndex { store.appliedIndex }
    public var appliedTerm: Term { store.appliedTerm }

    public mutating func apply(committed entry: Entry) -> Applied<KVApplyResult>? {
        let applied = store.apply(committed: entry)
        recorder.record(node: node, entry: entry, result: applied?.output)
        return applied
    }

    public func snapshotData() -> [UInt8] { store.snapshotData() }

    public mutating func restore(fromSnapshot data: [UInt8]) throws {
        try store.restore(fromSnapshot: data)
    }

    /// Small pieces, so the simulation's snapshots cross many piece boundaries, as a large state does in raftd.
    public func writeSnapshot(_ emit: ([UInt8]) throws -> Void) throws {
        try store.writeSnapshot(pieceBytes: 256, emit)
    }

    public mutating func restore(fromSnapshotOf totalBytes: UInt64, chunks next: @escaping () throws -> [UInt8]?)
        throws
    {
        // The runtime must have let go of what the store held: restoring beside it would double a large state.
        if store.count > 0 || store.appliedIndex > .zero {
            recorder.recordViolation(
                "\(node) restored a snapshot over a state it still held (\(store.count) keys at \(store.appliedIndex))")
        }
        try store.restore(fromSnapshotOf: totalBytes, chunks: next)
    }

    public mutating func releaseBeforeRestore() { store.releaseBeforeRestore() }
}
