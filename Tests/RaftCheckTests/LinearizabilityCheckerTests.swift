import Testing

@testable import RaftCheck

/// Builds histories by hand: `op(process, call, invoke, complete)`.
func op(
    _ process: Int, _ call: HistoryOperation.Call, _ invoke: UInt64, _ complete: UInt64?,
    status: HistoryOperation.Status = .ok, read: String? = nil, cas: Bool? = nil, key: String = "k"
) -> HistoryOperation {
    HistoryOperation(
        line: Int(invoke), process: process, key: key, call: call, status: status, output: read, casSucceeded: cas,
        invoke: invoke, complete: complete)
}

func verdict(_ history: [HistoryOperation]) -> LinearizabilityChecker.Verdict {
    let results = LinearizabilityChecker.check(history, budgetSeconds: 10)
    if let bad = results.first(where: { if case .violation = $0.verdict { true } else { false } }) {
        return bad.verdict
    }
    return results.first { $0.verdict == .unknown }?.verdict ?? .linearizable
}

func isValid(_ history: [HistoryOperation]) -> Bool { verdict(history) == .linearizable }

@Suite("linearizability checker: hand-made histories")
struct HandMadeHistoryTests {
    @Test("sequential writes and reads, and overlapping ones in either order, are valid")
    func valid() {
        #expect(isValid([op(1, .write("1"), 0, 10), op(2, .read, 20, 30, read: "1")]))
        #expect(isValid([op(1, .write("1"), 0, 10), op(2, .read, 5, 30, read: nil)]), "the read overlaps the write")
        #expect(isValid([op(1, .read, 0, 5, read: nil), op(1, .delete, 6, 7), op(2, .read, 8, 9, read: nil)]))
        #expect(isValid([]))
    }

    @Test("a stale read (the old value after a newer write completed) is caught, with the reason")
    func staleRead() throws {
        let history = [
            op(1, .write("1"), 0, 10), op(1, .write("2"), 11, 20), op(2, .read, 30, 40, read: "1"),
        ]
        guard case .violation(let violation) = verdict(history) else {
            Issue.record("a stale read passed")
            return
        }
        #expect(violation.failing == history[2])
        #expect(violation.reason == "read returned 1 but the register holds 2", "\(violation.reason)")
        #expect(violation.prefix.map(\.summary) == ["write 1", "write 2"])
    }

    @Test("a lost write (acknowledged, then never seen) is caught")
    func lostWrite() {
        #expect(!isValid([op(1, .write("1"), 0, 10), op(2, .read, 20, 30, read: nil)]))
    }

    @Test("a write applied twice (its value back after a later write) is caught")
    func doubleApply() {
        #expect(
            !isValid([
                op(1, .write("1"), 0, 10), op(2, .write("2"), 20, 30), op(3, .read, 40, 50, read: "1"),
            ]))
    }

    @Test("two compare-and-sets from the same old value cannot both succeed")
    func doubleCAS() {
        let base = op(1, .write("0"), 0, 10)
        #expect(
            !isValid([
                base, op(2, .cas(old: "0", new: "a"), 20, 40, cas: true),
                op(3, .cas(old: "0", new: "b"), 20, 40, cas: true),
            ]))
        #expect(
            isValid([
                base, op(2, .cas(old: "0", new: "a"), 20, 40, cas: true),
                op(3, .cas(old: "0", new: "b"), 20, 40, cas: false),
            ]))
    }

    @Test("a read of a value nobody wrote is caught")
    func phantom() {
        #expect(!isValid([op(1, .write("1"), 0, 10), op(2, .read, 20, 30, read: "7")]))
    }

    @Test("an info write may take effect later, or never; a fail write never does")
    func unknownOutcomes() {
        // Seen after its client gave up: it took effect late.
        #expect(
            isValid([
                op(1, .write("1"), 0, nil, status: .info), op(2, .read, 50, 60, read: nil),
                op(2, .read, 70, 80, read: "1"),
            ]))
        // Never seen: it never took effect.
        #expect(isValid([op(1, .write("1"), 0, nil, status: .info), op(2, .read, 50, 60, read: nil)]))
        // It cannot take effect before it was invoked.
        #expect(!isValid([op(2, .read, 0, 10, read: "1"), op(1, .write("1"), 20, nil, status: .info)]))
        // A fail write did not happen.
        #expect(!isValid([op(1, .write("1"), 0, 10, status: .fail), op(2, .read, 50, 60, read: "1")]))
        // Once seen and then gone without any other write, it was not a single application.
        #expect(
            !isValid([
                op(1, .write("1"), 0, nil, status: .info), op(2, .read, 50, 60, read: "1"),
                op(2, .read, 70, 80, read: nil),
            ]))
    }

    @Test("what a write or delete was told about the key before it is checked too, when given")
    func creationAndDeletionOutcomes() {
        var second = op(2, .write("2"), 20, 30)
        second.createdKey = true
        #expect(!isValid([op(1, .write("1"), 0, 10), second]), "told it created a key that held 1")
        second.createdKey = false
        #expect(isValid([op(1, .write("1"), 0, 10), second]))
        var delete = op(1, .delete, 0, 10)
        delete.deletedExisting = true
        #expect(!isValid([delete]), "told it deleted a value from an absent key")
        guard case .violation(let violation) = verdict([delete]) else { return }
        #expect(violation.reason == "a delete was told it deleted a value but the key is absent")
    }

    @Test("keys are checked apart and named")
    func perKey() {
        let results = LinearizabilityChecker.check([
            op(1, .write("1"), 0, 10, key: "a"), op(2, .read, 20, 30, read: "1", key: "a"),
            op(1, .write("1"), 0, 10, key: "b"), op(2, .read, 20, 30, read: "2", key: "b"),
        ])
        #expect(results.map(\.key) == ["a", "b"])
        #expect(results[0].verdict == .linearizable)
        if case .violation(let violation) = results[1].verdict {
            #expect(violation.key == "b")
        } else {
            Issue.record("key b passed")
        }
    }

    @Test("a search past its budget is unknown, never valid or invalid")
    func budget() {
        // Many concurrent info writes: the search space explodes.
        var history: [HistoryOperation] = []
        for n in 0..<400 { history.append(op(n, .write("\(n % 7)"), UInt64(n), nil, status: .info)) }
        for n in 0..<400 {
            history.append(op(1000 + n, .read, 10_000 + UInt64(n) * 10, 10_005 + UInt64(n) * 10, read: "\(n % 5)"))
        }
        let results = LinearizabilityChecker.check(history, budgetSeconds: 0)
        #expect(results.first?.verdict == .unknown)
    }
}

/// Checks the checker against brute force on small random histories: every order of the operations that respects
/// real time (an info operation may also be left out) is tried on the register.
@Suite("linearizability checker: randomized cross-check against brute force")
struct BruteForceCrossCheckTests {
    struct Generator {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    static func randomHistory(_ random: inout Generator) -> [HistoryOperation] {
        let values = ["1", "2"]
        var history: [HistoryOperation] = []
        for process in 0..<3 {
            var time = UInt64(random.next(5))
            for _ in 0..<random.next(3) + 1 where history.count < 7 {
                let invoke = time
                let complete = invoke + UInt64(random.next(12) + 1)
                time = complete + UInt64(random.next(4) + 1)
                let status: HistoryOperation.Status = [.ok, .ok, .ok, .info, .fail][random.next(5)]
                let call: HistoryOperation.Call
                var read: String?
                var cas: Bool?
                switch random.next(4) {
                case 0:
                    call = .read
                    read = [nil, "1", "2"][random.next(3)]
                case 1: call = .write(values[random.next(2)])
                case 2:
                    call = .cas(old: values[random.next(2)], new: values[random.next(2)])
                    cas = random.next(2) == 0
                default: call = .delete
                }
                history.append(
                    op(
                        process, call, invoke, status == .info ? nil : complete, status: status,
                        read: status == .ok ? read : nil, cas: status == .ok ? cas : nil))
            }
        }
        return history
    }

    static func bruteForce(_ history: [HistoryOperation]) -> Bool {
        let operations = history.filter { $0.status != .fail }
        func search(_ done: [Bool], _ state: String?, _ count: Int) -> Bool {
            // Every ok operation placed: the remaining info ones are left out (they never took effect).
            if operations.indices.allSatisfy({ done[$0] || operations[$0].status == .info }) { return true }
            for candidate in operations.indices where !done[candidate] {
                // Real time: nothing still open may have completed before this one was invoked.
                let blocked = operations.indices.contains { other in
                    !done[other] && other != candidate && operations[other].status == .ok
                        && operations[other].complete! < operations[candidate].invoke
                }
                if blocked { continue }
                if let next = LinearizabilityChecker.step(state, operations[candidate]) {
                    var now = done
                    now[candidate] = true
                    if search(now, next, count + 1) { return true }
                }
            }
            return false
        }
        return search([Bool](repeating: false, count: operations.count), nil, 0)
    }

    @Test("2,000 random small histories: the checker and brute force agree on every one")
    func agree() {
        var random = Generator(state: 20_261_128)
        var valid = 0
        for _ in 0..<2_000 {
            let history = Self.randomHistory(&random)
            let expected = Self.bruteForce(history)
            let got = isValid(history)
            #expect(
                got == expected,
                "checker says \(got), brute force \(expected):\n\(history.map(\.description).joined(separator: "\n"))")
            if expected { valid += 1 }
        }
        // Both kinds must be well represented, or the cross-check proves little.
        #expect(valid > 200 && valid < 1_800, "valid: \(valid)")
    }
}
