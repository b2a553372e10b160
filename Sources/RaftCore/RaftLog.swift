/// One node's log: a snapshot boundary followed by contiguous entries. Every entry's term is held; the entries
/// themselves are held from ``cacheStart`` on, and read from ``storage`` before that.
///
/// Invariants: `terms` holds the term of every entry `snapshotIndex + 1 ... lastIndex`; terms never decrease;
/// `cache[i].index == cacheStart + i` and the cache runs through `lastIndex`; `snapshotIndex <= applied <=
/// committed`; `committed` never decreases; `persisted <= lastIndex`; every entry after `persisted` (not yet
/// durable, so not readable from storage) is in the cache; without a storage the cache holds the whole log.
struct RaftLog {
    /// The last index covered by the snapshot (0 when there is none).
    private(set) var snapshotIndex: LogIndex
    private(set) var snapshotTerm: Term
    /// The term of every entry after the snapshot, as runs (a few bytes for the whole log), so term checks never
    /// read storage.
    private var terms: TermRuns
    /// The newest entries, from `cacheStart` through `lastIndex`.
    private var cache: [Entry]
    private(set) var cacheStart: LogIndex
    /// The ``Entry/sizeBytes`` of `cache`.
    private(set) var cacheBytes = 0
    /// Where entries before `cacheStart` are read; nil keeps every entry in memory.
    let storage: (any EntryStorage)?
    /// The cache is trimmed to this many bytes of durable, applied entries.
    let cacheLimitBytes: Int
    var committed: LogIndex
    /// Entries through this index have been handed to the application (confirmed by `advance`).
    var applied: LogIndex
    /// Entries through this index are durable on this node.
    var persisted: LogIndex
    /// The first index not yet handed out for persistence.
    var unstableFrom: LogIndex

    init(
        snapshot: SnapshotMetadata?, entries: [Entry], committed: LogIndex, storage: (any EntryStorage)? = nil,
        cacheLimitBytes: Int = .max
    ) {
        self.snapshotIndex = snapshot?.index ?? .zero
        self.snapshotTerm = snapshot?.term ?? .zero
        self.terms = TermRuns(startingAt: (snapshot?.index ?? .zero).next, terms: entries.lazy.map(\.term))
        self.storage = storage
        self.cacheLimitBytes = storage == nil ? .max : cacheLimitBytes
        self.cache = entries
        self.cacheStart = snapshotIndex.next
        self.cacheBytes = entries.reduce(0) { $0 + $1.sizeBytes }
        let last = LogIndex(snapshotIndex.rawValue + UInt64(entries.count))
        self.committed = min(max(committed, snapshotIndex), last)
        self.applied = snapshotIndex
        self.persisted = last
        self.unstableFrom = last.next
    }

    var firstIndex: LogIndex { snapshotIndex.next }
    var lastIndex: LogIndex { terms.lastIndex }
    var lastTerm: Term { terms.last ?? snapshotTerm }

    /// The term of the entry at `index`, or nil if it was compacted away or does not exist yet.
    func term(at index: LogIndex) -> Term? {
        if index == snapshotIndex { return snapshotTerm }
        return terms.term(at: index)
    }

    func matchTerm(_ index: LogIndex, _ term: Term) -> Bool {
        self.term(at: index) == term
    }

    /// The entry at `index`, from the cache or storage; nil when the log does not hold it (or storage failed).
    func entry(at index: LogIndex) -> Entry? {
        guard index > snapshotIndex, index <= lastIndex else { return nil }
        if index >= cacheStart { return cache[cacheOffset(index)] }
        return try? slice(from: index, through: index, maxBytes: .max).first
    }

    /// The election restriction (§5.4.1): a candidate's log is at least as up-to-date as ours.
    func isUpToDate(lastIndex candidateIndex: LogIndex, lastTerm candidateTerm: Term) -> Bool {
        candidateTerm > lastTerm || (candidateTerm == lastTerm && candidateIndex >= lastIndex)
    }

    /// Entries in `from...through`, stopping once `maxBytes` is exceeded (always at least one entry). A range that
    /// starts before the cache is read from storage and ends where the cache begins.
    func slice(from: LogIndex, through: LogIndex, maxBytes: Int) throws -> [Entry] {
        guard from <= through, from > snapshotIndex, through <= lastIndex else { return [] }
        if from < cacheStart, let storage {
            let through = min(through, cacheStart.previous)
            let read = try storage.entries(from: from, through: through, maxBytes: maxBytes)
            // What goes into a message or to the state machine must be exactly the entries asked for.
            guard let first = read.first, first.index == from, let last = read.last, last.index <= through,
                last.index.rawValue - first.index.rawValue + 1 == UInt64(read.count),
                read.allSatisfy({ term(at: $0.index) == $0.term })
            else { throw EntryStorageMismatch(from: from, through: through, got: read.map(\.index)) }
            return read
        }
        var bytes = 0
        var end = cacheOffset(from)
        let limit = cacheOffset(through)
        while end <= limit {
            bytes += cache[end].sizeBytes
            if bytes > maxBytes && end > cacheOffset(from) { break }
            end += 1
        }
        return Array(cache[cacheOffset(from)..<end])
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
        let replacing = first.index <= lastIndex
        if replacing {
            terms.removeSuffix(from: first.index)
            if first.index < unstableFrom { unstableFrom = first.index }
            if first.index <= persisted { persisted = first.index.previous }
        }
        if first.index < cacheStart {
            // Everything cached is replaced: the cache starts again at the new entries.
            cache.removeAll()
            cacheBytes = 0
            cacheStart = first.index
        } else if replacing {
            let dropped = cache[cacheOffset(first.index)...]
            cacheBytes -= dropped.reduce(0) { $0 + $1.sizeBytes }
            cache.removeSubrange(cacheOffset(first.index)...)
        }
        for entry in newEntries {
            terms.append(entry.term)
            cacheBytes += entry.sizeBytes
        }
        cache.append(contentsOf: newEntries)
    }

    /// Drops the oldest cached entries, keeping every entry not yet durable or not yet applied (a restart replays
    /// its recovered log from memory, then trims it):
    /// - those before `replicationNeeds` (a leader: the entry after the lowest match of its followers; anyone
    ///   else: nil, since only a leader sends entries), whatever the limit: nobody will read them from the cache
    ///   again, and a node sitting idle after a burst of writes would otherwise hold its whole cache of them;
    /// - then, while the cache is over its limit, more, down to three quarters of the limit, so the entries
    ///   shifted per trim are paid for by the bytes appended since the last one.
    mutating func trimCache(replicationNeeds: LogIndex?) {
        guard storage != nil else { return }
        let settled = min(persisted, applied).next
        let unneeded = min(settled, replicationNeeds ?? settled)
        let overLimit = cacheBytes > cacheLimitBytes
        var dropCount = 0
        var bytes = cacheBytes
        while dropCount < cache.count, cache[dropCount].index < settled,
            cache[dropCount].index < unneeded || (overLimit && bytes > cacheLimitBytes / 4 * 3)
        {
            bytes -= cache[dropCount].sizeBytes
            dropCount += 1
        }
        guard dropCount > 0 else { return }
        cache.removeFirstReleasingSpace(dropCount)
        cacheBytes = bytes
        cacheStart = LogIndex(cacheStart.rawValue + UInt64(dropCount))
    }

    /// The highest index in `...atOrBefore` whose term is `term`, scanning back over higher terms only (a run of
    /// equal terms at a time).
    func lastIndex(ofTerm term: Term, atOrBefore limit: LogIndex) -> LogIndex? {
        var index = min(limit, lastIndex)
        while index > snapshotIndex {
            let t = terms.term(at: index)!
            if t == term { return index }
            if t < term { return nil }
            index = terms.runStart(containing: index)!.previous
        }
        return index == snapshotIndex && snapshotTerm == term ? index : nil
    }

    /// The first index of the run of entries that share the term of the entry at `index`.
    func firstIndex(ofTermAt index: LogIndex) -> LogIndex {
        terms.runStart(containing: index) ?? index
    }

    /// Drops entries through `index` after the application took a snapshot there.
    mutating func compact(through index: LogIndex) {
        guard index > snapshotIndex else { return }
        precondition(index <= applied, "compaction through \(index) passes the applied index \(applied)")
        let t = term(at: index)!
        terms.removePrefix(through: index)
        if index >= cacheStart {
            let dropped = cache[..<cacheOffset(index.next)]
            cacheBytes -= dropped.reduce(0) { $0 + $1.sizeBytes }
            cache.removeFirstReleasingSpace(dropped.count)
            cacheStart = index.next
        }
        snapshotIndex = index
        snapshotTerm = t
    }

    /// Replaces the whole log with a snapshot received from the leader.
    mutating func restore(_ metadata: SnapshotMetadata) {
        terms.reset(startingAt: metadata.index.next)
        cache.removeAll()
        cacheBytes = 0
        cacheStart = metadata.index.next
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

    private func cacheOffset(_ index: LogIndex) -> Int {
        Int(index.rawValue - cacheStart.rawValue)
    }
}
