import RaftCheck

/// Decides whether a history of key-value operations is linearizable, key by key, from what clients saw alone.
///
/// The search is the product's own (`RaftCheck.LinearizabilityChecker`, which `raftctl check` runs): this adapter
/// only turns the simulator's byte-valued operations into its register operations, with what clients were told
/// about creations and deletions kept as constraints, and bounds the search by work so the verdict is a function of
/// the seed.
///
/// An operation with an unknown outcome is treated as returning after everything else: it may take effect at any
/// point after its call, or in effect never (when it is ordered last).
public enum KVLinearizabilityChecker {
    /// The result for one key: nil when linearizable, otherwise the key's operations for a person to read.
    public struct Violation: Sendable, CustomStringConvertible {
        public var key: String
        public var operations: [KVOperation]
        public var description: String {
            "key \(key) is not linearizable; its history:\n" + operations.map { "  \($0)" }.joined(separator: "\n")
        }
    }

    /// Checks every key of `history`; returns the keys that are not linearizable (empty when all are).
    /// `budget` bounds the states explored per key; a key that exceeds it counts as checked (and is reported
    /// in `inconclusive`), never as a violation.
    public static func check(_ history: [KVOperation], budget: Int = 10_000_000) -> (
        violations: [Violation], inconclusive: [String]
    ) {
        var byKey: [String: [KVOperation]] = [:]
        for operation in history { byKey[operation.key, default: []].append(operation) }
        var violations: [Violation] = []
        var inconclusive: [String] = []
        for result in RaftCheck.LinearizabilityChecker.check(history.map(register), maxSteps: budget) {
            switch result.verdict {
            case .linearizable: break
            case .violation: violations.append(Violation(key: result.key, operations: byKey[result.key] ?? []))
            case .unknown: inconclusive.append(result.key)
            }
        }
        return (violations, inconclusive)
    }

    /// One simulated operation as a register operation: an unknown outcome is `info`; what the client was told
    /// about the key before a put or a delete is kept.
    static func register(_ operation: KVOperation) -> HistoryOperation {
        func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
        let call: HistoryOperation.Call
        switch operation.kind {
        case .read: call = .read
        case .put(let value): call = .write(text(value))
        case .delete: call = .delete
        case .compareAndSet(let expected, let new): call = .cas(old: text(expected), new: text(new))
        }
        var result = HistoryOperation(
            process: operation.client, key: operation.key, call: call,
            status: operation.returned == nil ? .info : .ok, invoke: operation.invokedAt,
            complete: operation.returned?.at)
        switch operation.returned?.output {
        case .value(let value)?: result.output = value.map(text)
        case .stored(let created)?:
            if case .compareAndSet = operation.kind { result.casSucceeded = true } else { result.createdKey = created }
        case .conditionFailed?: result.casSucceeded = false
        case .deleted?: result.deletedExisting = true
        case .notFound?: result.deletedExisting = false
        case nil: break
        }
        return result
    }
}
