import RaftCore

/// A read-only view of one node's log, for ``LogMatchingChecker``. Indexes outside
/// `firstIndex...lastIndex` (compacted away or not yet written) are never asked for.
public struct LogView {
    public var node: NodeID
    public var firstIndex: LogIndex
    public var lastIndex: LogIndex
    public var entry: (LogIndex) -> Entry?

    public init(node: NodeID, firstIndex: LogIndex, lastIndex: LogIndex, entry: @escaping (LogIndex) -> Entry?) {
        self.node = node
        self.firstIndex = firstIndex
        self.lastIndex = lastIndex
        self.entry = entry
    }

    /// The in-memory log of a running core (including entries not yet durable: Log Matching holds for them too).
    public init(_ raft: RaftNode) {
        let status = raft.status
        self.init(node: raft.id, firstIndex: status.firstIndex, lastIndex: status.lastIndex) { raft.entry(at: $0) }
    }
}

/// Log Matching (§5.3, Figure 3): if two logs hold an entry with the same index and term, the logs are
/// identical in all entries up through that index.
///
/// Checking every index of every pair after every step would cost more than the simulation itself, so the
/// check looks at chosen indexes within the range both nodes still hold: at the highest index where the terms
/// agree among those asked, every asked index at or below it must hold the same entry (term, kind and data) on
/// both nodes. The simulator asks for the highest common index, the lowest, and a few random ones on every
/// step, and for every common index periodically.
public enum LogMatchingChecker {
    /// Violations found between `a` and `b` at `indexes` (others are ignored).
    public static func check(_ a: LogView, _ b: LogView, at indexes: [LogIndex]) -> [String] {
        let low = max(a.firstIndex, b.firstIndex)
        let high = min(a.lastIndex, b.lastIndex)
        guard low <= high else { return [] }
        let asked = Array(Set(indexes.filter { $0 >= low && $0 <= high })).sorted(by: >)
        var matchedAt: LogIndex?
        var violations: [String] = []
        for index in asked {
            guard let x = a.entry(index), let y = b.entry(index) else {
                violations.append(
                    "log matching: \(a.node) or \(b.node) has no entry at \(index) inside \(low)...\(high)")
                continue
            }
            if let matched = matchedAt {
                if x != y {
                    violations.append(
                        "log matching: \(a.node) and \(b.node) agree on term at \(matched) but differ at \(index):"
                            + " \(describe(x)) vs \(describe(y))")
                    break
                }
            } else if x.term == y.term {
                matchedAt = index
                if x != y {
                    violations.append(
                        "log matching: \(a.node) and \(b.node) hold different entries with the same index and term:"
                            + " \(describe(x)) vs \(describe(y))")
                    break
                }
            }
        }
        return violations
    }

    static func describe(_ entry: Entry) -> String {
        "\(entry) \"\(String(decoding: entry.data, as: UTF8.self))\""
    }
}
