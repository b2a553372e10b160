/// Decides whether a history of key-value operations is linearizable, key by key, from what clients saw alone.
///
/// The algorithm is Wing & Gong's search with Lowe's memoization, as in porcupine: walk the history in time order,
/// try to linearize each call that is still open at the earliest point, backtrack when a return is reached before
/// its call could be linearized, and remember every (set of linearized operations, state) pair already explored so
/// each is explored once. Operations on different keys commute, so each key is checked alone (P-compositionality),
/// which keeps the search small.
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
    public static func check(_ history: [KVOperation], budget: Int = 2_000_000) -> (
        violations: [Violation], inconclusive: [String]
    ) {
        var byKey: [String: [KVOperation]] = [:]
        for operation in history { byKey[operation.key, default: []].append(operation) }
        var violations: [Violation] = []
        var inconclusive: [String] = []
        for key in byKey.keys.sorted() {
            let operations = byKey[key]!
            switch checkKey(operations, budget: budget) {
            case .linearizable: break
            case .violation: violations.append(Violation(key: key, operations: operations))
            case .inconclusive: inconclusive.append(key)
            }
        }
        return (violations, inconclusive)
    }

    enum Verdict { case linearizable, violation, inconclusive }

    /// One event of the history: the call or the return of operation `operation`.
    struct Event {
        var operation: Int
        var isCall: Bool
        var time: UInt64
        var previous: Int
        var next: Int
        /// For a call: the index of its return event.
        var match: Int
    }

    /// The model: one key's value. Returns the state after `operation` if it can produce the output the client
    /// saw from `state` (any output, when unknown).
    static func step(_ state: [UInt8]?, _ operation: KVOperation) -> [UInt8]?? {
        let output = operation.returned?.output
        switch operation.kind {
        case .read:
            guard let output else { return .some(state) }
            return output == .value(state) ? .some(state) : nil
        case .put(let value):
            guard let output else { return .some(value) }
            return output == .stored(created: state == nil) ? .some(value) : nil
        case .delete:
            guard let output else { return .some(nil) }
            if output == .deleted && state != nil { return .some(nil) }
            if output == .notFound && state == nil { return .some(nil) }
            return nil
        case .compareAndSet(let expected, let new):
            guard let output else { return state == expected ? .some(new) : .some(state) }
            if output == .stored(created: false) && state == expected { return .some(new) }
            if output == .conditionFailed && state != expected { return .some(state) }
            return nil
        }
    }

    struct CacheKey: Hashable {
        var linearized: [UInt64]
        var state: [UInt8]?
    }

    static func checkKey(_ operations: [KVOperation], budget: Int) -> Verdict {
        let unknownTime = UInt64.max
        // Events sorted by time; a call sorts before a return at the same time (they overlap).
        var raw: [(operation: Int, isCall: Bool, time: UInt64)] = []
        for (index, operation) in operations.enumerated() {
            raw.append((index, true, operation.invokedAt))
            raw.append((index, false, operation.returned?.at ?? unknownTime))
        }
        raw.sort { a, b in
            if a.time != b.time { return a.time < b.time }
            if a.isCall != b.isCall { return a.isCall }
            return a.operation < b.operation
        }
        // A doubly linked list with a sentinel head at index 0.
        var events = [Event(operation: -1, isCall: false, time: 0, previous: -1, next: 1, match: -1)]
        var returnPosition: [Int: Int] = [:]
        for (offset, item) in raw.enumerated() {
            let position = offset + 1
            events.append(
                Event(
                    operation: item.operation, isCall: item.isCall, time: item.time, previous: position - 1,
                    next: position + 1 <= raw.count ? position + 1 : -1, match: -1))
            if !item.isCall { returnPosition[item.operation] = position }
        }
        for position in 1..<events.count where events[position].isCall {
            events[position].match = returnPosition[events[position].operation]!
        }

        func lift(_ call: Int) {
            let ret = events[call].match
            events[events[call].previous].next = events[call].next
            if events[call].next >= 0 { events[events[call].next].previous = events[call].previous }
            events[events[ret].previous].next = events[ret].next
            if events[ret].next >= 0 { events[events[ret].next].previous = events[ret].previous }
        }
        func unlift(_ call: Int) {
            let ret = events[call].match
            events[events[ret].previous].next = ret
            if events[ret].next >= 0 { events[events[ret].next].previous = ret }
            events[events[call].previous].next = call
            if events[call].next >= 0 { events[events[call].next].previous = call }
        }

        let words = (operations.count + 63) / 64
        var linearized = [UInt64](repeating: 0, count: words)
        var cache = Set<CacheKey>()
        var stack: [(call: Int, state: [UInt8]?)] = []
        var state: [UInt8]? = nil
        var explored = 0
        var entry = events[0].next
        while entry >= 0 {
            explored += 1
            if explored > budget { return .inconclusive }
            let event = events[entry]
            if event.isCall {
                if let next = step(state, operations[event.operation]) {
                    var bits = linearized
                    bits[event.operation / 64] |= 1 << UInt64(event.operation % 64)
                    if cache.insert(CacheKey(linearized: bits, state: next)).inserted {
                        stack.append((entry, state))
                        linearized = bits
                        state = next
                        lift(entry)
                        entry = events[0].next
                        continue
                    }
                }
                entry = event.next
            } else {
                // A return reached while its call is still open: undo the last choice.
                guard let (call, previousState) = stack.popLast() else { return .violation }
                state = previousState
                let operation = events[call].operation
                linearized[operation / 64] &= ~(1 << UInt64(operation % 64))
                unlift(call)
                entry = events[call].next
            }
        }
        return .linearizable
    }
}
