import Glibc
import RaftCore

/// Thread-safe front end that lets many concurrent writers share one `fdatasync` (group commit).
///
/// Writers call ``append(term:kind:data:)``; each gets the next log index at once and resumes only after the
/// batch holding its entry is durable. A dedicated flusher thread takes everything queued, writes it as one
/// batch with one sync, releases all its writers, and repeats; while it syncs, new writers queue up for the
/// next batch. So the sync rate stays at what the disk can do and the entry rate grows with concurrency.
///
/// Invariants: indexes are assigned in queue order, contiguous from `storage.lastIndex + 1`; an append that
/// returns is durable; once a batch fails, that batch and every later append throw (the storage is in the
/// failed state) — nothing queued after a failure is written.
///
/// The flusher owns the ``NodeStorage`` exclusively; use ``close()`` to stop it and close the storage.
public final class GroupCommitLog: @unchecked Sendable {
    // @unchecked Sendable, because the compiler cannot see these two facts:
    // - `queue`, `waiters`, `nextIndex`, `failure`, `closed`, `flushCount`, `flushedEntryCount` are read and
    //   written only while `mutex` is held (every access is inside `locked { }`);
    // - `storage` is used only by the flusher thread between `pthread_create` (which orders the initializer's
    //   writes before the thread's reads) and `pthread_join` in `close()` (which orders the thread's last use
    //   before `close()` touches it again).
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var thread = pthread_t()
    private var threadStarted = false

    private let storage: NodeStorage
    private var queue: [Entry] = []
    private var waiters: [CheckedContinuation<Void, any Error>] = []
    private var nextIndex: LogIndex
    private var failure: StorageError?
    private var closed = false
    private var flushCount = 0
    private var flushedEntryCount = 0

    /// Takes over `storage`; nobody else may use it until ``close()`` returns.
    public init(storage: sending NodeStorage) {
        self.storage = storage
        nextIndex = storage.lastIndex.next
        failure = storage.failure
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        pthread_cond_init(condition, nil)
        let context = Unmanaged.passRetained(self).toOpaque()
        let result = pthread_create(
            &thread, nil,
            { context in
                let log = Unmanaged<GroupCommitLog>.fromOpaque(context!).takeRetainedValue()
                log.runFlusher()
                return nil
            }, context)
        precondition(result == 0, "pthread_create failed: \(errnoName(result))")
        threadStarted = true
    }

    deinit {
        pthread_cond_destroy(condition)
        condition.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Appends one entry at the next index and returns that index once the entry is durable.
    ///
    /// Not cancellable: once queued, the entry is written whether or not the calling task is cancelled, so the
    /// caller always learns its fate.
    ///
    /// Throws ``StorageError/failed(cause:)`` if the batch's write or sync failed (the entry may or may not be on
    /// disk, but it was never reported durable), or ``StorageError/closed``.
    public func append(term: Term, kind: EntryKind = .command, data: [UInt8]) async throws -> LogIndex {
        var assigned = LogIndex.zero
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let refusal: StorageError? = locked {
                if let failure { return failure }
                if closed { return .closed }
                assigned = nextIndex
                nextIndex = nextIndex.next
                queue.append(Entry(index: assigned, term: term, kind: kind, data: data))
                waiters.append(continuation)
                pthread_cond_signal(condition)
                return nil
            }
            if let refusal { continuation.resume(throwing: refusal) }
        }
        return assigned
    }

    /// Batches written and synced so far, and the entries in them.
    public var statistics: (flushCount: Int, entryCount: Int) {
        locked { (flushCount, flushedEntryCount) }
    }

    /// The last index handed out (durable once its writer was released).
    public var lastAssignedIndex: LogIndex { locked { nextIndex.previous } }

    private func runFlusher() {
        while true {
            let (batch, batchWaiters, stop): ([Entry], [CheckedContinuation<Void, any Error>], Bool) = locked {
                while queue.isEmpty && !closed { pthread_cond_wait(condition, mutex) }
                if queue.isEmpty { return ([], [], true) }
                defer {
                    queue = []
                    waiters = []
                }
                return (queue, waiters, false)
            }
            if stop { return }
            var outcome: StorageError?
            do {
                try storage.append(batch)
            } catch {
                outcome = NodeStorage.storageError(error)
            }
            let failed = outcome
            // Refuse everything queued behind a failed batch: it must not be written after a failed sync.
            let abandoned: [CheckedContinuation<Void, any Error>] = locked {
                flushCount += 1
                guard let failed else {
                    flushedEntryCount += batch.count
                    return []
                }
                failure = failed
                defer {
                    queue = []
                    waiters = []
                }
                return waiters
            }
            for waiter in batchWaiters + abandoned {
                if let failed { waiter.resume(throwing: failed) } else { waiter.resume() }
            }
        }
    }

    /// Flushes what is queued, stops the flusher thread and closes the storage. Blocks the calling thread until
    /// the last batch is durable; call it once.
    public func close() {
        let wasStarted: Bool = locked {
            closed = true
            pthread_cond_signal(condition)
            return threadStarted
        }
        if wasStarted {
            pthread_join(thread, nil)
            threadStarted = false
        }
        storage.close()
    }
}
