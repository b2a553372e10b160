import RaftCore
import Testing

/// The log's terms held as runs: every lookup answers what one term per entry would, through appends,
/// truncations (a follower replacing a conflicting suffix) and compactions, while memory follows the leaderships.
@Suite struct TermRunsTests {
    /// The same operations on the runs and on a plain array of terms, compared after every step.
    struct Model {
        var runs: TermRuns
        var first: UInt64
        var terms: [UInt64] = []

        init(first: UInt64) {
            runs = TermRuns(startingAt: LogIndex(first))
            self.first = first
        }

        mutating func append(_ term: UInt64) {
            runs.append(Term(term))
            terms.append(term)
        }

        mutating func removeSuffix(from index: UInt64) {
            runs.removeSuffix(from: LogIndex(index))
            if index < first + UInt64(terms.count) { terms.removeLast(terms.count - Int(index - first)) }
        }

        mutating func removePrefix(through index: UInt64) {
            runs.removePrefix(through: LogIndex(index))
            guard index >= first else { return }
            terms.removeFirst(min(terms.count, Int(index - first + 1)))
            first = index + 1
        }

        func check(_ step: String) {
            #expect(runs.firstIndex == LogIndex(first), "\(step)")
            #expect(runs.count == terms.count, "\(step)")
            #expect(runs.lastIndex.rawValue == first + UInt64(terms.count) - 1, "\(step)")
            #expect(runs.last == terms.last.map { Term($0) }, "\(step)")
            #expect(runs.term(at: LogIndex(first - 1)) == nil, "\(step): before the range")
            #expect(runs.term(at: LogIndex(first + UInt64(terms.count))) == nil, "\(step): past the range")
            var start = 0
            for (offset, term) in terms.enumerated() {
                let index = LogIndex(first + UInt64(offset))
                if offset > 0 && terms[offset - 1] != term { start = offset }
                guard runs.term(at: index) == Term(term),
                    runs.runStart(containing: index) == LogIndex(first + UInt64(start))
                else {
                    let said =
                        "\(String(describing: runs.term(at: index))) from"
                        + " \(String(describing: runs.runStart(containing: index)))"
                    Issue.record("\(step): at \(index) the runs say \(said), not \(term) from \(first + UInt64(start))")
                    return
                }
            }
            // One run per change of term: the memory is the leaderships', not the entries'.
            let changes = zip(terms, terms.dropFirst()).filter { $0 != $1 }.count
            #expect(runs.runCount == (terms.isEmpty ? 0 : changes + 1), "\(step)")
        }
    }

    @Test("a log of a million entries in three terms is three runs, and every term reads back")
    func longRunsStayFew() {
        var model = Model(first: 1)
        for term: UInt64 in [1, 2, 5] {
            for _ in 0..<333_333 { model.append(term) }
        }
        #expect(model.runs.runCount == 3)
        #expect(model.runs.term(at: LogIndex(333_333)) == Term(1))
        #expect(model.runs.term(at: LogIndex(333_334)) == Term(2))
        #expect(model.runs.term(at: LogIndex(999_999)) == Term(5))
        #expect(model.runs.runStart(containing: LogIndex(500_000)) == LogIndex(333_334))
        model.removePrefix(through: 400_000)
        model.check("after compaction into the second run")
        model.removeSuffix(from: 600_000)
        model.check("after truncating back into the second run")
        #expect(model.runs.runCount == 1)
    }

    @Test("random appends, truncations and compactions read back as an array of terms would")
    func randomOperationsMatchAnArray() {
        var random = SplitMix64(seed: 2026)
        for round in 0..<200 {
            var model = Model(first: 1 + random.next() % 50)
            var term: UInt64 = 1
            for step in 0..<60 {
                let lastIndex = model.first + UInt64(model.terms.count) - 1
                switch random.next() % 6 {
                case 0, 1, 2:
                    if random.next() % 4 == 0 { term += 1 + random.next() % 3 }
                    for _ in 0...(random.next() % 5) { model.append(term) }
                case 3 where !model.terms.isEmpty:
                    model.removeSuffix(from: model.first + random.next() % UInt64(model.terms.count + 1))
                case 4:
                    model.removePrefix(through: model.first - 1 + random.next() % UInt64(model.terms.count + 2))
                case 5:
                    // A new leader's entries replace a suffix in a higher term.
                    if !model.terms.isEmpty {
                        model.removeSuffix(from: max(model.first, lastIndex - random.next() % 3))
                    }
                    term += 1
                    model.append(term)
                default:
                    break
                }
                model.check("round \(round) step \(step)")
            }
        }
    }

    @Test("emptied by compaction through its end, the range starts after it")
    func compactionThroughTheEndEmpties() {
        var runs = TermRuns(startingAt: 11, terms: [Term(3), Term(3), Term(4)])
        runs.removePrefix(through: 13)
        #expect(runs.isEmpty && runs.count == 0 && runs.last == nil)
        #expect(runs.firstIndex == 14 && runs.lastIndex == 13)
        runs.append(Term(4))
        #expect(runs.term(at: 14) == Term(4))
        runs.reset(startingAt: 100)
        #expect(runs.isEmpty && runs.firstIndex == 100 && runs.term(at: 14) == nil)
    }
}

/// Removing a prefix frees the memory the array held for its longest past.
@Suite struct ReleasingSpaceTests {
    @Test("an array emptied of a burst gives its buffer back; the survivors keep their order")
    func burstIsReleased() {
        var values = Array(0..<200_000)
        values.removeFirstReleasingSpace(190_000)
        #expect(values == Array(190_000..<200_000))
        #expect(values.capacity < 50_000, "capacity \(values.capacity) kept after the burst")
        values.removeFirstReleasingSpace(10_000)
        #expect(values.isEmpty)
    }

    @Test("a mostly full array shifts in place")
    func smallRemovalKeepsTheBuffer() {
        var values = Array(0..<100_000)
        let capacity = values.capacity
        values.removeFirstReleasingSpace(10)
        #expect(values.first == 10 && values.count == 99_990)
        #expect(values.capacity == capacity)
    }
}
