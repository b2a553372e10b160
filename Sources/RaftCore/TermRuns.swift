/// The terms of a contiguous range of log entries, held as runs of equal terms.
///
/// A log's terms change only when leadership does, so a log of a million entries usually has a handful of runs:
/// holding one term per entry (8 bytes each, and an array keeps the capacity of its longest past) would cost
/// megabytes for what a few runs say.
///
/// Invariants: `runs` is empty exactly when the range is; run starts increase and the first is `firstIndex`;
/// adjacent runs have different terms; every run ends before the next one starts, and the last ends at
/// `lastIndex`. Terms need not increase (a damaged or hostile log may hold any terms, and storage still has to
/// describe it).
public struct TermRuns: Sendable, Equatable {
    private struct Run: Sendable, Equatable {
        var first: LogIndex
        var term: Term
    }

    private var runs: [Run] = []
    /// The first index the range holds, or would hold once an entry is appended.
    public private(set) var firstIndex: LogIndex
    /// The last index held; `firstIndex.previous` when empty.
    public private(set) var lastIndex: LogIndex

    /// An empty range whose first entry will be at `firstIndex`.
    public init(startingAt firstIndex: LogIndex) {
        self.firstIndex = firstIndex
        self.lastIndex = firstIndex.previous
    }

    /// The range of `terms`, the first at `firstIndex`.
    public init(startingAt firstIndex: LogIndex, terms: some Sequence<Term>) {
        self.init(startingAt: firstIndex)
        for term in terms { append(term) }
    }

    public var isEmpty: Bool { runs.isEmpty }
    public var count: Int { Int(lastIndex.rawValue &- firstIndex.rawValue &+ 1) }
    /// The term of the last entry.
    public var last: Term? { runs.last?.term }
    /// How many runs hold the terms (what the memory is proportional to).
    public var runCount: Int { runs.count }

    /// The term of the entry at `index`, or nil outside `firstIndex...lastIndex`.
    public func term(at index: LogIndex) -> Term? {
        guard index >= firstIndex, index <= lastIndex, let lastRun = runs.last else { return nil }
        // Most lookups are of recent entries, in the last run.
        if index >= lastRun.first { return lastRun.term }
        return runs[runIndex(containing: index)].term
    }

    /// The first index of the run of equal terms that holds `index`, or nil outside `firstIndex...lastIndex`.
    public func runStart(containing index: LogIndex) -> LogIndex? {
        guard index >= firstIndex, index <= lastIndex else { return nil }
        return runs[runIndex(containing: index)].first
    }

    /// Appends the term of the entry at `lastIndex + 1`.
    public mutating func append(_ term: Term) {
        lastIndex = lastIndex.next
        if runs.last?.term != term { runs.append(Run(first: lastIndex, term: term)) }
    }

    /// Drops the entries from `index` on (nothing when `index` is past the end); `index` may be `firstIndex`.
    public mutating func removeSuffix(from index: LogIndex) {
        guard index <= lastIndex else { return }
        precondition(index >= firstIndex, "removing from \(index), before the first index \(firstIndex)")
        lastIndex = index.previous
        while let lastRun = runs.last, lastRun.first > lastIndex { runs.removeLast() }
    }

    /// Drops the entries through `index`: the range then starts at `index + 1` (empty if that is past the end).
    public mutating func removePrefix(through index: LogIndex) {
        guard index >= firstIndex else { return }
        if index >= lastIndex {
            reset(startingAt: index.next)
            return
        }
        let keep = runIndex(containing: index.next)
        runs.removeFirst(keep)
        runs[0].first = index.next
        firstIndex = index.next
    }

    /// Empties the range; the next entry appended will be at `firstIndex`.
    public mutating func reset(startingAt firstIndex: LogIndex) {
        runs.removeAll()
        self.firstIndex = firstIndex
        self.lastIndex = firstIndex.previous
    }

    /// The position in `runs` of the run holding `index` (which must be in the range).
    private func runIndex(containing index: LogIndex) -> Int {
        // The last run whose start is at or before `index`.
        var low = 0
        var high = runs.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if runs[middle].first <= index { low = middle } else { high = middle - 1 }
        }
        return low
    }
}
