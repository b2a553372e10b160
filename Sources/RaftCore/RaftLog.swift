/// The in-memory view of one node's log: a snapshot boundary followed by contiguous entries.
///
/// Invariants: `entries[i].index == snapshotIndex + 1 + i`; terms never decrease along the log;
/// `snapshotIndex <= applied <= committed`; `committed` never decreases; `persisted <= lastIndex`.
struct RaftLog: Sendable {
    /// The last index covered by the snapshot (0 when there is none).
    private(set) var snapshotIndex: LogIndex
    private(set) var snapshotTerm: Term
    private(set) var entries: [Entry]
    var committed: LogIndex
    /// Entries through this index have been handed to the application (confirmed by `advance`).
    var applied: LogIndex
    /// Entries through this index are durable on this node.
    var persisted: LogIndex
    /// The first index not yet handed out for persistence.
    var unstableFrom: LogIndex

    init(snapshot: SnapshotMetadata?, entries: [Entry], committed: LogIndex) {
        self.snapshotIndex = snapshot?.index ?? .zero
        self.snapshotTerm = snapshot?.term ?? .zero
        self.entries = entries
        let last = LogIndex(snapshotIndex.rawValue + UInt64(entries.count))
        self.committed = min(max(committed, snapshotIndex), last)
        self.applied = snapshotIndex
        self.persisted = last
        self.unstableFrom = last.next
    }

    var firstIndex: LogIndex { snapshotIndex.next }
    var lastIndex: LogIndex { LogIndex(snapshotIndex.rawValue + UInt64(entries.count)) }
    var lastTerm: Term { entries.last?.term ?? snapshotTerm }

    /// The term of the entry at `index`, or nil if it was compacted away or does not exist yet.
    func term(at index: LogIndex) -> Term? {
        if index == snapshotIndex { return snapshotTerm }
        guard index > snapshotIndex, index <= lastIndex else { return nil }
        return entries[offset(index)].term
    }

    func matchTerm(_ index: LogIndex, _ term: Term) -> Bool {
        self.term(at: index) == term
    }

    func entry(at index: LogIndex) -> Entry? {
        guard index > snapshotIndex, index <= lastIndex else { return nil }
        return entries[offset(index)]
    }

    /// The election restriction (§5.4.1): a candidate's log is at least as up-to-date as ours.
    func isUpToDate(lastIndex candidateIndex: LogIndex, lastTerm candidateTerm: Term) -> Bool {
        candidateTerm > lastTerm || (candidateTerm == lastTerm && candidateIndex >= lastIndex)
    }

    /// Entries in `from...through`, stopping once `maxBytes` is exceeded (always at least one entry).
    func slice(from: LogIndex, through: LogIndex, maxBytes: Int) -> [Entry] {
        guard from <= through, from > snapshotIndex, through <= lastIndex else { return [] }
        var bytes = 0
        var end = offset(from)
        let limit = offset(through)
        while end <= limit {
            bytes += entries[end].sizeBytes
            if bytes > maxBytes && end > offset(from) { break }
            end += 1
        }
        return Array(entries[offset(from)..<end])
    }

    /// The first entry of `incoming` whose index is past our log or whose term differs from ours.
    func firstConflict(in incoming: [Entry]) -> Int? {
        for (position, entry) in incoming.enumerated() where !matchTerm(entry.index, entry.term) {
            return position
        }
        return nil
    }

    /// Appends entries, first discarding any of ours at or after `newEntries[0].index` (§5.3).
    mutating func append(_ newEntries: some Collection<Entry>) {
        guard let first = newEntries.first else { return }
        precondition(
            first.index > snapshotIndex && first.index <= lastIndex.next,
            "append at \(first.index) leaves a gap or rewrites the snapshot (snapshot \(snapshotIndex), last \(lastIndex))"
        )
        precondition(
            first.index > committed, "append at \(first.index) would rewrite committed entries (commit \(committed))")
        if first.index <= lastIndex {
            entries.removeSubrange(offset(first.index)...)
            if first.index < unstableFrom { unstableFrom = first.index }
            if first.index <= persisted { persisted = first.index.previous }
        }
        entries.append(contentsOf: newEntries)
    }

    /// The highest index in `...atOrBefore` whose term is `term`, scanning back over higher terms only.
    func lastIndex(ofTerm term: Term, atOrBefore limit: LogIndex) -> LogIndex? {
        var index = min(limit, lastIndex)
        while index >= snapshotIndex {
            guard let t = self.term(at: index) else { return nil }
            if t == term { return index }
            if t < term { return nil }
            if index == .zero { return nil }
            index = index.previous
        }
        return nil
    }

    /// The first index of the run of entries that share the term of the entry at `index`.
    func firstIndex(ofTermAt index: LogIndex) -> LogIndex {
        guard let t = term(at: index) else { return index }
        var first = index
        while first > firstIndex, term(at: first.previous) == t {
            first = first.previous
        }
        return first
    }

    /// Drops entries through `index` after the application took a snapshot there.
    mutating func compact(through index: LogIndex) {
        guard index > snapshotIndex else { return }
        precondition(index <= applied, "compaction through \(index) passes the applied index \(applied)")
        let t = term(at: index)!
        entries.removeFirst(offset(index) + 1)
        snapshotIndex = index
        snapshotTerm = t
    }

    /// Replaces the whole log with a snapshot received from the leader.
    mutating func restore(_ metadata: SnapshotMetadata) {
        entries.removeAll()
        snapshotIndex = metadata.index
        snapshotTerm = metadata.term
        committed = metadata.index
        unstableFrom = metadata.index.next
        persisted = min(persisted, metadata.index)
    }

    /// Marks the entries handed out for persistence as durable.
    mutating func markPersisted(through index: LogIndex) {
        if index <= lastIndex, index > persisted { persisted = index }
    }

    private func offset(_ index: LogIndex) -> Int {
        Int(index.rawValue - snapshotIndex.rawValue - 1)
    }
}
