/// Where the core reads stable entries it no longer keeps in memory: the node's write-ahead log (raftd's
/// `NodeStorage`), as etcd-raft's `Storage` and raft-rs's `Storage` trait.
///
/// The core keeps every entry's term, and the entries themselves only from a recent point on (the unstable
/// tail and a bounded cache, see ``RaftConfig/entryCacheBytes``); older ones, which a lagging follower or a
/// restart's replay needs, it reads here. It asks only for entries it has handed out for persistence and seen
/// made durable (``RaftNode/advance(_:)``), after the snapshot index, so the storage holds every one it asks for.
///
/// A read runs on the caller's thread, inside the core's step or ``RaftNode/ready()``: it must not call back into
/// the node. An error (a damaged record) stops the node: see ``RaftNode/entryReadFailure``.
public protocol EntryStorage: AnyObject {
    /// The entries from `from` on, through at most `through`, stopping once their ``Entry/sizeBytes`` exceed
    /// `maxBytes` (at least one entry is always returned).
    func entries(from: LogIndex, through: LogIndex, maxBytes: Int) throws -> [Entry]
}

/// An ``EntryStorage`` in memory: what the core's tests and the pure simulations give a node whose cache they
/// keep small, so that replication and replay read through the interface.
public final class MemoryEntryStorage: EntryStorage {
    /// The entries, contiguous; `entries[0]` is at ``firstIndex``.
    public private(set) var entries: [Entry] = []
    public private(set) var firstIndex = LogIndex(1)
    /// Reads served, for tests that check the cache was bypassed.
    public private(set) var reads = 0
    /// Set by a test: every read fails, as reads of a damaged log do.
    public var damaged = false

    public init(entries: [Entry] = []) {
        self.entries = entries
        firstIndex = entries.first?.index ?? LogIndex(1)
    }

    /// Stores `newEntries`, replacing what was stored from the first one's index on (as a WAL does).
    public func append(_ newEntries: [Entry]) {
        guard let first = newEntries.first else { return }
        if entries.isEmpty {
            firstIndex = first.index
        } else {
            let keep = Int(first.index.rawValue) - Int(firstIndex.rawValue)
            precondition(keep >= 0 && keep <= entries.count, "append at \(first.index) leaves a gap")
            entries.removeLast(entries.count - keep)
        }
        entries.append(contentsOf: newEntries)
    }

    /// Drops every entry: a snapshot at `index` replaced the log.
    public func reset(after index: LogIndex) {
        entries.removeAll()
        firstIndex = index.next
    }

    /// Drops the entries through `index` (a snapshot covers them).
    public func compact(through index: LogIndex) {
        let drop = min(entries.count, max(0, Int(index.rawValue) - Int(firstIndex.rawValue) + 1))
        entries.removeFirst(drop)
        firstIndex = index.next
    }

    public func entries(from: LogIndex, through: LogIndex, maxBytes: Int) throws -> [Entry] {
        reads += 1
        if damaged { throw MemoryEntryStorageError(from: from, through: through) }
        guard from >= firstIndex, through >= from,
            Int(through.rawValue - firstIndex.rawValue) < entries.count
        else { throw MemoryEntryStorageError(from: from, through: through) }
        var result: [Entry] = []
        var bytes = 0
        for position in Int(from.rawValue - firstIndex.rawValue)...Int(through.rawValue - firstIndex.rawValue) {
            bytes += entries[position].sizeBytes
            if bytes > maxBytes && !result.isEmpty { break }
            result.append(entries[position])
        }
        return result
    }
}

/// A read outside what a ``MemoryEntryStorage`` holds: the core asked for an entry it should still have.
public struct MemoryEntryStorageError: Error, CustomStringConvertible {
    public var from: LogIndex
    public var through: LogIndex
    public var description: String { "entries \(from)…\(through) are not in storage" }
}

/// An ``EntryStorage`` answered with other entries than those asked for (missing, out of order, or of other terms
/// than the log's): the core uses none of them.
public struct EntryStorageMismatch: Error, CustomStringConvertible {
    public var from: LogIndex
    public var through: LogIndex
    public var got: [LogIndex]
    public var description: String {
        "storage answered entries \(from)…\(through) with \(got.first.map { "\($0)" } ?? "none")"
            + (got.count > 1 ? "…\(got.last!) (\(got.count) entries)" : "") + " or with other terms than the log's"
    }
}
