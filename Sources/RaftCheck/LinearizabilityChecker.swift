import Glibc

/// Decides whether a history is linearizable against a register per key (read, write, compare-and-set, delete),
/// and explains a violation.
///
/// The search is Wing & Gong's with Lowe's memoization, as in porcupine: walk the events in time order, linearize
/// an open call at the earliest point it fits, backtrack when a return is reached before its call was placed, and
/// remember every (set of placed operations, register value) already explored so each is explored once. Keys are
/// independent (P-compositionality), so each is checked alone. A `fail` operation did not happen and is left out;
/// an `info` one returns after everything else: it may take effect at any point after its call, or never.
public enum LinearizabilityChecker {
    /// What the check found for one key.
    public enum Verdict: Sendable, Hashable {
        case linearizable
        case violation(Violation)
        /// The search did not finish within the budget.
        case unknown
    }

    /// The longest linearization the search found, the operation that could not be placed after it, and why.
    public struct Violation: Sendable, Hashable {
        public var key: String
        /// The operations in the order they were linearized.
        public var prefix: [HistoryOperation]
        public var failing: HistoryOperation
        public var reason: String
        /// The register's value after `prefix` (nil: absent).
        public var valueAfterPrefix: String?
    }

    public struct KeyResult: Sendable, Hashable {
        public var key: String
        public var operations: Int
        public var verdict: Verdict
    }

    /// Checks every key, in key order. `budgetSeconds` bounds the search per key; `maxSteps`, when given, bounds
    /// it by work instead, so that the verdict does not depend on the machine (the simulator needs that).
    public static func check(_ history: [HistoryOperation], budgetSeconds: Double = 30, maxSteps: Int? = nil)
        -> [KeyResult]
    {
        var byKey: [String: [HistoryOperation]] = [:]
        for operation in history where operation.status != .fail { byKey[operation.key, default: []].append(operation) }
        return byKey.keys.sorted().map { key in
            let operations = byKey[key]!
            return KeyResult(
                key: key, operations: operations.count,
                verdict: checkKey(key, operations, budgetSeconds: budgetSeconds, maxSteps: maxSteps))
        }
    }

    /// The register's value after `operation` from `state`, if it could have produced what its client saw (any
    /// outcome, when unknown). `.some(nil)` is "absent"; nil is "impossible".
    static func step(_ state: String?, _ operation: HistoryOperation) -> String?? {
        let known = operation.status == .ok
        switch operation.call {
        case .read:
            guard known else { return .some(state) }
            return operation.output == state ? .some(state) : nil
        case .write(let value):
            guard known, let created = operation.createdKey else { return .some(value) }
            return (state == nil) == created ? .some(value) : nil
        case .delete:
            guard known, let existed = operation.deletedExisting else { return .some(nil) }
            return (state != nil) == existed ? .some(nil) : nil
        case .cas(let old, let new):
            guard known else { return state == old ? .some(new) : .some(state) }
            if operation.casSucceeded == true { return state == old ? .some(new) : nil }
            return state != old ? .some(state) : nil
        }
    }

    /// Why `operation` cannot follow a prefix that left the register at `state`.
    static func explain(_ operation: HistoryOperation, after state: String?) -> String {
        let holds = state.map { "the register holds \($0)" } ?? "the key is absent"
        switch operation.call {
        case .write where step(state, operation) == nil:
            return operation.createdKey == true
                ? "a write was told it created the key but \(holds)" : "a write was told the key existed but \(holds)"
        case .delete where step(state, operation) == nil:
            return operation.deletedExisting == true
                ? "a delete was told it deleted a value but \(holds)"
                : "a delete was told the key was absent but \(holds)"
        case .read where step(state, operation) == nil:
            return "read returned \(operation.output ?? "nothing (absent)") but \(holds)"
        case .cas(let old, _) where step(state, operation) == nil:
            return operation.casSucceeded == true
                ? "cas from \(old) succeeded but \(holds)" : "cas from \(old) found no match but \(holds)"
        default:
            return
                "it fits after this prefix (\(holds)), but every order that places it here fails later: an operation"
                + " that completed before another began is ordered against it"
        }
    }

    struct CacheKey: Hashable {
        var placed: [UInt64]
        var state: String?
    }

    struct Event {
        var operation: Int
        var isCall: Bool
        var previous: Int
        var next: Int
        /// For a call: the position of its return.
        var match: Int
    }

    static func checkKey(
        _ key: String, _ operations: [HistoryOperation], budgetSeconds: Double, maxSteps: Int? = nil
    ) -> Verdict {
        // Events in time order; at equal times calls come first (they overlap). Unknown outcomes return last.
        var raw: [(operation: Int, isCall: Bool, time: UInt64)] = []
        for (index, operation) in operations.enumerated() {
            raw.append((index, true, operation.invoke))
            let returns = operation.status == .ok ? operation.complete ?? UInt64.max : UInt64.max
            raw.append((index, false, returns))
        }
        raw.sort { a, b in
            if a.time != b.time { return a.time < b.time }
            if a.isCall != b.isCall { return a.isCall }
            return a.operation < b.operation
        }
        var events = [Event(operation: -1, isCall: false, previous: -1, next: 1, match: -1)]
        var returnPosition = [Int](repeating: 0, count: operations.count)
        for (offset, item) in raw.enumerated() {
            let position = offset + 1
            events.append(
                Event(
                    operation: item.operation, isCall: item.isCall, previous: position - 1,
                    next: position < raw.count ? position + 1 : -1, match: -1))
            if !item.isCall { returnPosition[item.operation] = position }
        }
        for position in 1..<events.count where events[position].isCall {
            events[position].match = returnPosition[events[position].operation]
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

        let deadline = now() + budgetSeconds
        var placed = [UInt64](repeating: 0, count: (operations.count + 63) / 64)
        var cache = Set<CacheKey>()
        var stack: [(call: Int, state: String?)] = []
        var state: String? = nil
        // The deepest point a backtrack started from: the best explanation of a violation.
        var best: (prefix: [Int], state: String?, failing: Int)?
        var steps = 0
        var entry = events[0].next
        while entry >= 0 {
            steps += 1
            if let maxSteps, steps > maxSteps { return .unknown }
            if maxSteps == nil && steps & 1023 == 0 && now() > deadline { return .unknown }
            let event = events[entry]
            if event.isCall {
                if let next = step(state, operations[event.operation]) {
                    var bits = placed
                    bits[event.operation / 64] |= 1 << UInt64(event.operation % 64)
                    if cache.insert(CacheKey(placed: bits, state: next)).inserted {
                        stack.append((entry, state))
                        placed = bits
                        state = next
                        lift(entry)
                        entry = events[0].next
                        continue
                    }
                }
                entry = event.next
            } else {
                // A return reached while its call is still open: undo the last choice.
                if stack.count > best?.prefix.count ?? -1 {
                    best = (stack.map { events[$0.call].operation }, state, event.operation)
                }
                guard let (call, previousState) = stack.popLast() else {
                    let deepest = best ?? ([], nil, event.operation)
                    let failing = operations[deepest.failing]
                    return .violation(
                        Violation(
                            key: key, prefix: deepest.prefix.map { operations[$0] }, failing: failing,
                            reason: explain(failing, after: deepest.state), valueAfterPrefix: deepest.state))
                }
                state = previousState
                let operation = events[call].operation
                placed[operation / 64] &= ~(1 << UInt64(operation % 64))
                unlift(call)
                entry = events[call].next
            }
        }
        return .linearizable
    }

    /// Seconds on the monotonic clock.
    public static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
