import Glibc
import RaftCore

/// A node's durable storage: the write-ahead log of entries and hard state, and its snapshots.
///
/// Not thread-safe: exactly one owner (the node's shell loop, or ``GroupCommitLog``'s flusher) calls it. Every
/// write call is one batch made durable by one `fdatasync` (with ``SyncPolicy/always``) before it returns; if it
/// returns without throwing, everything in it survives a crash. The one exception: a batch that only moves the
/// commit index is written but not synced (see ``save(hardState:snapshot:entries:)``).
///
/// Invariants:
/// - The in-memory index holds exactly the entries `firstIndex...lastIndex`, contiguous, and they are what
///   recovery would return after a crash right now. It holds each entry's term and where its record is in the
///   WAL, not the entry: the node's core holds the log, and storage reads an entry back from disk on request
///   (``entries(in:)``), so the log is in memory once.
/// - After any write or sync fails, ``failure`` is set and every later write throws ``StorageError/failed(cause:)``;
///   reads keep working. A failed sync is never retried: the kernel may have dropped the pages already.
/// - The directory is locked (`flock` on `LOCK`, which holds the owner's pid) from open until ``close()``.
///
/// Hard state lives in the WAL as a record type, replayed last-wins, so a vote and the entries of one batch are
/// made durable by the same sync; every new segment starts with a copy of the current hard state, so deleting
/// old segments never loses it.
public final class NodeStorage: EntryStorage {
    struct Segment {
        var sequence: UInt64
        var path: String
        /// Largest entry or log-reset index recorded in the segment; 0 for none. A segment can be deleted once
        /// this is at or below a durable snapshot's index.
        var maxIndex: UInt64
    }

    /// Where one entry's WAL record is: 16 bytes per entry in memory instead of the entry (its term is in
    /// `terms`).
    struct EntryLocation {
        var segmentSequence: UInt64
        var byteOffset: UInt32
        var recordBytes: UInt32
    }

    public let options: StorageOptions
    public let fileSystem: any FileSystem
    /// What recovery found when this storage was opened. Its `state` shares the recovered entries; call
    /// ``releaseRecoveredState()`` once the core has them, so that compaction can free their memory.
    public private(set) var recovery: RecoveryReport
    public private(set) var hardState: HardState
    /// The newest durable snapshot's metadata; the log starts right after it.
    public private(set) var snapshotMetadata: SnapshotMetadata?
    /// Set by the first failed write or sync; from then on the storage is read-only.
    public private(set) var failure: StorageError?
    /// Successful data syncs of the WAL (for benchmarks and tests of group commit).
    public private(set) var walSyncCount = 0
    /// Entries read back from the WAL since opening (``entries(in:)``), for tests and the simulation's stats.
    public private(set) var entriesReadBack = 0

    /// Where each entry of `firstIndex...lastIndex` is, in index order.
    private var entries: [EntryLocation]
    /// The term of each entry of `firstIndex...lastIndex`.
    private var terms: TermRuns
    private var segments: [Segment]
    private var activeFile: OpenFile?
    private var activeSizeBytes: UInt64
    /// Bytes of the active segment file, at least ``activeSizeBytes``: those past it are zeros written ahead of the
    /// log (``StorageOptions/preallocationStepBytes``).
    private var activeAllocatedBytes: UInt64
    /// Size of the active segment before any batch was written to it (header and carried-over hard state).
    private var activeInitialSizeBytes: UInt64
    private var lockFile: OpenFile?
    /// ``hardState`` moved only its commit index since it was last written: it goes out with the next batch.
    private var hardStateWritePending = false

    static let lockFileName = "LOCK"

    // MARK: Opening and recovery

    /// Opens (creating if needed) the data directory, locks it and recovers its durable state.
    ///
    /// Throws ``StorageError/locked(directory:holderPID:)`` if another process uses the directory,
    /// ``StorageError/foreignDirectory(path:reason:)`` if it belongs to another cluster or node, and
    /// ``StorageError/corrupt(path:byteOffset:reason:)`` for damage that is not a torn tail.
    public init(options: StorageOptions, fileSystem: any FileSystem = PosixFileSystem()) throws {
        self.options = options
        self.fileSystem = fileSystem
        let directory = options.directory
        do {
            try fileSystem.createDirectory(at: directory)
            // A new directory's own entry must be durable too, or a power cut could take the whole log with it.
            if options.syncPolicy == .always { try fileSystem.syncDirectory(at: parentDirectory(of: directory)) }
            lockFile = try Self.lock(directory: directory, fileSystem: fileSystem)
            var recovered = try Recovery(options: options, fileSystem: fileSystem)
            try recovered.run()
            hardState = recovered.hardState
            snapshotMetadata = recovered.snapshot?.metadata
            entries = recovered.locations
            terms = TermRuns(
                startingAt: (recovered.snapshot?.metadata.index ?? .zero).next,
                terms: recovered.entries.lazy.map(\.term))
            segments = recovered.segments
            activeFile = recovered.activeFile
            activeSizeBytes = recovered.activeSizeBytes
            // Recovery cut the file to its records.
            activeAllocatedBytes = recovered.activeSizeBytes
            // A reopened segment with records in it counts as used, so the size limit applies to it at once.
            activeInitialSizeBytes = min(
                recovered.activeSizeBytes, UInt64(WALFormat.segmentHeaderBytes + WALFormat.recordHeaderBytes + 36))
            // A version 1 segment is never appended to: the next write starts a version 2 segment.
            if recovered.activeVersion < WALFormat.version, let file = recovered.activeFile {
                fileSystem.close(file)
                activeFile = nil
            }
            recovery = RecoveryReport(
                state: PersistentState(
                    hardState: hardState, snapshot: recovered.snapshot, entries: recovered.entries),
                repairs: recovered.repairs, segmentCount: segments.count)
        } catch {
            if let lockFile { fileSystem.close(lockFile) }
            throw Self.storageError(error)
        }
        if activeFile == nil {
            do {
                try startSegment(sequence: (segments.last?.sequence ?? 0) + 1)
            } catch {
                close()
                throw Self.storageError(error)
            }
        }
    }

    deinit {
        close()
    }

    private static func lock(directory: String, fileSystem: any FileSystem) throws -> OpenFile {
        let path = joinPath(directory, lockFileName)
        let file = try fileSystem.open(path, options: .createOrOpen)
        do {
            try fileSystem.lockExclusive(file)
        } catch {
            let contents = (try? fileSystem.readAll(file)) ?? []
            fileSystem.close(file)
            if error.errno == EWOULDBLOCK {
                let text = String(decoding: contents, as: UTF8.self).split(separator: "\n").first ?? ""
                throw StorageError.locked(directory: directory, holderPID: Int32(text))
            }
            throw error
        }
        do {
            try fileSystem.truncate(file, toSizeBytes: 0)
            try fileSystem.write(file, at: 0, bytes: Array("\(getpid())\n".utf8))
        } catch {
            fileSystem.close(file)
            throw error
        }
        return file
    }

    static func storageError(_ error: any Error) -> StorageError {
        if let error = error as? StorageError { return error }
        if let error = error as? FileSystemError { return .io(error) }
        return .io(FileSystemError(operation: "\(error)", path: "", errno: EIO))
    }

    /// Releases the directory lock and closes files, first writing a commit index not yet written (best effort: it
    /// is safe to lose). Further writes throw ``StorageError/closed``.
    public func close() {
        if let activeFile {
            if hardStateWritePending && failure == nil {
                var batch: [UInt8] = []
                let start = WALFormat.beginBatch(into: &batch)
                WALFormat.appendHardState(hardState, to: &batch)
                WALFormat.finishBatch(startingAt: start, in: &batch)
                _ = try? writeBatch(batch)
            }
            fileSystem.close(activeFile)
        }
        hardStateWritePending = false
        activeFile = nil
        if let lockFile { fileSystem.close(lockFile) }
        lockFile = nil
    }

    /// Drops the copy of the recovered entries and snapshot held in ``recovery`` (the repairs stay).
    public func releaseRecoveredState() {
        recovery.state = PersistentState()
    }

    // MARK: Reads

    public var snapshotIndex: LogIndex { snapshotMetadata?.index ?? .zero }
    /// The first index held in the log (one past the snapshot); greater than ``lastIndex`` when the log is empty.
    public var firstIndex: LogIndex { snapshotIndex.next }
    public var lastIndex: LogIndex { LogIndex(snapshotIndex.rawValue + UInt64(entries.count)) }

    /// The term of the entry at `index`: from the log, or the snapshot's term at its index; 0 at index 0.
    public func term(at index: LogIndex) -> Term? {
        if index == .zero { return .zero }
        if index == snapshotIndex { return snapshotMetadata?.term }
        return terms.term(at: index)
    }

    /// The entry at `index`, read back from the WAL; nil outside `firstIndex...lastIndex`.
    public func entry(at index: LogIndex) throws -> Entry? {
        try entries(in: index...index).first
    }

    /// Entries in `range` that are in the log (the part of `range` outside `firstIndex...lastIndex` is ignored),
    /// read back from the WAL: each record's checksum is verified again, and damage throws
    /// ``StorageError/corrupt(path:byteOffset:reason:)``. Records that lie next to each other in a segment are read
    /// with one read of up to ``maxReadBytes``.
    public func entries(in range: ClosedRange<LogIndex>) throws -> [Entry] {
        let low = max(range.lowerBound, firstIndex)
        let high = min(range.upperBound, lastIndex)
        guard low <= high else { return [] }
        let base = firstIndex.rawValue
        var result: [Entry] = []
        result.reserveCapacity(Int(high.rawValue - low.rawValue + 1))
        var openSegment: (sequence: UInt64, file: OpenFile)?
        defer { if let openSegment { fileSystem.close(openSegment.file) } }
        var position = Int(low.rawValue - base)
        let last = Int(high.rawValue - base)
        while position <= last {
            // A run: the records from `position` on that follow each other in one segment.
            let first = entries[position]
            var runEnd = position
            var runBytes = Int(first.recordBytes)
            while runEnd < last {
                let previous = entries[runEnd]
                let next = entries[runEnd + 1]
                guard next.segmentSequence == first.segmentSequence,
                    UInt64(next.byteOffset) == UInt64(previous.byteOffset) + UInt64(previous.recordBytes),
                    runBytes + Int(next.recordBytes) <= Self.maxReadBytes
                else { break }
                runEnd += 1
                runBytes += Int(next.recordBytes)
            }
            let path = joinPath(options.directory, WALFormat.segmentName(sequence: first.segmentSequence))
            do {
                if openSegment?.sequence != first.segmentSequence {
                    if let openSegment { fileSystem.close(openSegment.file) }
                    openSegment = nil
                    openSegment = (first.segmentSequence, try fileSystem.open(path, options: .readOnly))
                }
                let bytes = try fileSystem.read(openSegment!.file, at: UInt64(first.byteOffset), count: runBytes)
                var offset = 0
                for index in position...runEnd {
                    let location = entries[index]
                    let decoded =
                        bytes.count >= offset + Int(location.recordBytes)
                        ? bytes.withUnsafeBytes { WALFormat.decode($0, at: offset) } : nil
                    guard case .record(.entry(let entry), _)? = decoded,
                        entry.index.rawValue == base + UInt64(index), entry.term == terms.term(at: entry.index)
                    else {
                        throw StorageError.corrupt(
                            path: path, byteOffset: UInt64(location.byteOffset),
                            reason: "the entry at index \(base + UInt64(index)) does not read back")
                    }
                    result.append(entry)
                    entriesReadBack += 1
                    offset += Int(location.recordBytes)
                }
            } catch {
                throw Self.storageError(error)
            }
            position = runEnd + 1
        }
        return result
    }

    /// Entries from `from` through at most `through`, as many as fit in `maxBytes` (counted as ``Entry/sizeBytes``,
    /// at least one): the core's ``EntryStorage`` read.
    public func entries(from: LogIndex, through: LogIndex, maxBytes: Int) throws -> [Entry] {
        let low = max(from, firstIndex)
        let high = min(through, lastIndex)
        guard low <= high else { return [] }
        // A record is a little larger than its entry's `sizeBytes` estimate, so this stays within `maxBytes`.
        var end = low
        var bytes = Int(entries[Int(low.rawValue - firstIndex.rawValue)].recordBytes)
        while end < high {
            let next = Int(entries[Int(end.rawValue - firstIndex.rawValue) + 1].recordBytes)
            if bytes + next > maxBytes { break }
            bytes += next
            end = end.next
        }
        return try entries(in: low...end)
    }

    /// The largest single read ``entries(in:)`` makes.
    static let maxReadBytes = 4 << 20

    /// The path of the newest snapshot file, for ``SnapshotChunkReader``.
    public var newestSnapshotPath: String? {
        snapshotMetadata.map { joinPath(options.directory, SnapshotFormat.fileName(index: $0.index, term: $0.term)) }
    }

    /// A chunked reader of the newest snapshot file (chunks of ``StorageOptions/snapshotChunkSizeBytes``), for
    /// sending it to a follower; nil without a snapshot.
    public func newestSnapshotReader() throws -> SnapshotChunkReader? {
        guard let path = newestSnapshotPath else { return nil }
        return try SnapshotChunkReader(
            path: path, chunkSizeBytes: options.snapshotChunkSizeBytes, fileSystem: fileSystem)
    }

    /// The path of the snapshot file for `metadata` in this node's data directory (it may not exist).
    public func snapshotPath(for metadata: SnapshotMetadata) -> String {
        joinPath(options.directory, SnapshotFormat.fileName(index: metadata.index, term: metadata.term))
    }

    /// A verifying chunked reader of the data of the snapshot file for `metadata` (the newest one by default),
    /// for restoring a state machine without holding the whole snapshot; nil without a snapshot.
    public func snapshotDataReader(for metadata: SnapshotMetadata? = nil) throws -> SnapshotDataReader? {
        guard let metadata = metadata ?? snapshotMetadata else { return nil }
        return try SnapshotDataReader(
            path: snapshotPath(for: metadata), clusterID: options.clusterID,
            chunkSizeBytes: options.snapshotChunkSizeBytes, fileSystem: fileSystem)
    }

    /// Deletes a snapshot file a transfer installed that the core then did not take (it was stale): never the
    /// file of the stored snapshot or an older one (compaction sees to those).
    public func discardStagedSnapshot(_ metadata: SnapshotMetadata) {
        guard metadata.index > snapshotIndex else { return }
        try? fileSystem.removeFile(at: snapshotPath(for: metadata))
    }

    /// A stager receiving a snapshot from the leader into this node's data directory.
    public func makeSnapshotStager() throws -> SnapshotStager {
        try SnapshotStager(
            directory: options.directory, clusterID: options.clusterID, syncPolicy: options.syncPolicy,
            fileSystem: fileSystem)
    }

    /// Reads and verifies the newest snapshot file.
    public func loadNewestSnapshot() throws -> Snapshot? {
        guard let path = newestSnapshotPath else { return nil }
        return try Self.loadSnapshot(path: path, options: options, fileSystem: fileSystem)
    }

    static func loadSnapshot(path: String, options: StorageOptions, fileSystem: any FileSystem) throws -> Snapshot {
        do {
            let file = try fileSystem.open(path, options: .readOnly)
            defer { fileSystem.close(file) }
            return try SnapshotFormat.decode(try fileSystem.readAll(file), path: path, clusterID: options.clusterID)
        } catch {
            throw storageError(error)
        }
    }

    // MARK: Writes

    /// Persists one `Ready` batch as one write: a snapshot received from the leader (the log restarts after it),
    /// then entries (those at or after the first new index are replaced), then the hard state, last.
    ///
    /// The order is the core's contract (``PersistWork``) and is what makes a torn batch safe: a crash that keeps
    /// only a prefix of the write keeps a prefix of the entries, and never a hard state whose commit index covers
    /// entries that did not reach the disk. (Hard state first would let a follower recover commit 7 over the old
    /// entries 5–7 it was replacing, apply them, and diverge.)
    ///
    /// The batch is written as one checksummed WAL batch and synced, but only when it must be, as etcd-raft's
    /// `MustSync` and raft-rs's `must_sync` decide: when it has entries or a snapshot, or changes the term or the
    /// vote. A hard state that only moves the commit index costs no write and no sync: it goes out with the next
    /// batch (or at ``close()``). Losing it loses nothing: the commit index is learned again from the leader.
    /// Never leaving a write unsynced is also what lets recovery tell a torn tail from corruption.
    ///
    /// Preconditions (contract with the core): `entries` are contiguous; the first is at most `lastIndex + 1`
    /// (after `snapshot`, exactly `snapshot.metadata.index + 1` at most) and above the snapshot index.
    ///
    /// A `snapshot` whose file ``SnapshotStager`` already installed may come with empty `data`: the installed
    /// file is kept. Otherwise the snapshot file is written from `data`, durably, before the WAL records the reset.
    public func save(
        hardState newHardState: HardState? = nil, snapshot: Snapshot? = nil, entries newEntries: [Entry] = []
    )
        throws
    {
        try checkWritable()
        var baseLastIndex = lastIndex
        var baseSnapshotIndex = snapshotIndex
        if let snapshot {
            precondition(
                snapshot.metadata.index >= snapshotIndex,
                "snapshot \(snapshot.metadata) is older than the stored snapshot at \(snapshotIndex)")
            baseLastIndex = snapshot.metadata.index
            baseSnapshotIndex = snapshot.metadata.index
        }
        if let first = newEntries.first {
            precondition(
                first.index <= baseLastIndex.next,
                "entries start at \(first.index), leaving a gap after \(baseLastIndex)")
            precondition(
                first.index > baseSnapshotIndex, "entries start at \(first.index), inside snapshot \(baseSnapshotIndex)"
            )
            for position in newEntries.indices.dropFirst() {
                precondition(
                    newEntries[position].index == newEntries[position - 1].index.next,
                    "entries not contiguous at \(newEntries[position].index)")
            }
        }
        let mustSync =
            snapshot != nil || !newEntries.isEmpty
            || newHardState.map { $0.term != hardState.term || $0.vote != hardState.vote } == true
        if !mustSync {
            if let newHardState, newHardState != hardState {
                hardState = newHardState
                hardStateWritePending = true
            }
            return
        }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(newEntries.reduce(76) { $0 + $1.data.count + 29 })
        let batchStart = WALFormat.beginBatch(into: &buffer)
        if let snapshot {
            WALFormat.appendLogReset(index: snapshot.metadata.index, term: snapshot.metadata.term, to: &buffer)
        }
        var positions: [(start: Int, bytes: Int)] = []
        positions.reserveCapacity(newEntries.count)
        for entry in newEntries {
            let start = buffer.count
            WALFormat.appendEntry(entry, to: &buffer)
            positions.append((start, buffer.count - start))
        }
        if let state = newHardState ?? (hardStateWritePending ? hardState : nil) {
            WALFormat.appendHardState(state, to: &buffer)
        }
        WALFormat.finishBatch(startingAt: batchStart, in: &buffer)
        let written: (sequence: UInt64, byteOffset: UInt64)
        do {
            // The snapshot file must be durable before the WAL says the log restarts after it.
            if let snapshot { try writeSnapshotFile(snapshot) }
            written = try writeBatch(buffer)
        } catch {
            throw enterFailedState(error)
        }
        if let newHardState { hardState = newHardState }
        hardStateWritePending = false
        if let snapshot {
            snapshotMetadata = snapshot.metadata
            entries.removeAll()
            terms.reset(startingAt: snapshot.metadata.index.next)
        }
        if let first = newEntries.first {
            let keptCount = Int(first.index.rawValue - firstIndex.rawValue)
            entries.removeLast(entries.count - keptCount)
            terms.removeSuffix(from: first.index)
            for (entry, position) in zip(newEntries, positions) {
                terms.append(entry.term)
                entries.append(
                    EntryLocation(
                        segmentSequence: written.sequence,
                        byteOffset: UInt32(written.byteOffset + UInt64(position.start)),
                        recordBytes: UInt32(position.bytes)))
            }
        }
        let maxIndex = max(snapshot?.metadata.index.rawValue ?? 0, newEntries.last?.index.rawValue ?? 0)
        segments[segments.count - 1].maxIndex = max(segments[segments.count - 1].maxIndex, maxIndex)
        if snapshot != nil {
            do {
                try compact()
            } catch {
                throw enterFailedState(error)
            }
        }
    }

    /// Appends entries (see ``save(hardState:snapshot:entries:)``).
    public func append(_ newEntries: [Entry]) throws {
        try save(entries: newEntries)
    }

    /// Saves a snapshot the application took of its state machine at `snapshot.metadata.index` (an index in the
    /// log), atomically; then deletes segments it makes unnecessary and snapshots beyond the retention count.
    public func saveSnapshot(_ snapshot: Snapshot) throws {
        try checkWritable()
        let index = snapshot.metadata.index
        precondition(index <= lastIndex, "snapshot at \(index) beyond the last index \(lastIndex)")
        if index <= snapshotIndex { return }
        precondition(
            term(at: index) == snapshot.metadata.term,
            "snapshot term \(snapshot.metadata.term) differs from the log's term \(String(describing: term(at: index)))"
        )
        do {
            try writeSnapshotFile(snapshot)
            entries.removeFirstReleasingSpace(Int(index.rawValue - snapshotIndex.rawValue))
            terms.removePrefix(through: index)
            snapshotMetadata = snapshot.metadata
            try compact()
        } catch {
            throw enterFailedState(error)
        }
    }

    private func checkWritable() throws {
        if let failure { throw failure }
        if activeFile == nil { throw StorageError.closed }
    }

    private func enterFailedState(_ error: any Error) -> StorageError {
        let failed = StorageError.failed(cause: Self.storageError(error))
        failure = failed
        return failed
    }

    private var syncs: Bool { options.syncPolicy == .always }

    /// Writes one batch record (``WALFormat/beginBatch(into:)``) and syncs (with ``SyncPolicy/always``): the only
    /// way anything reaches the WAL.
    /// Returns the segment and the offset the batch was written at.
    @discardableResult
    private func writeBatch(_ buffer: [UInt8]) throws -> (sequence: UInt64, byteOffset: UInt64) {
        if activeSizeBytes > activeInitialSizeBytes
            && activeSizeBytes + UInt64(buffer.count) > UInt64(options.segmentSizeBytes)
        {
            try finishActiveSegment()
            try startSegment(sequence: segments[segments.count - 1].sequence + 1)
        }
        guard let activeFile else { throw StorageError.closed }
        let byteOffset = activeSizeBytes
        let end = activeSizeBytes + UInt64(buffer.count)
        if syncs && options.preallocationStepBytes > 0 && end > activeAllocatedBytes {
            // Zeros up to the next step past the batch, made durable by the batch's own sync. A crash before it
            // leaves zeros or a torn batch, both of which recovery reads as the end of the log.
            let step = UInt64(options.preallocationStepBytes)
            let target = min((end + step - 1) / step * step, max(end, UInt64(options.segmentSizeBytes)))
            try writeZeros(activeFile, from: end, to: target)
            activeAllocatedBytes = target
        }
        try fileSystem.write(activeFile, at: activeSizeBytes, bytes: buffer)
        activeSizeBytes = end
        activeAllocatedBytes = max(activeAllocatedBytes, end)
        if syncs {
            try fileSystem.syncData(activeFile)
            walSyncCount += 1
        }
        return (segments[segments.count - 1].sequence, byteOffset)
    }

    /// Cuts the zeros written ahead off the active segment before the next one starts, so that only the last
    /// segment ever ends in unused space, and damage at the end of any earlier one is still reported as damage.
    private func finishActiveSegment() throws {
        guard let activeFile, activeAllocatedBytes > activeSizeBytes else { return }
        try fileSystem.truncate(activeFile, toSizeBytes: activeSizeBytes)
        if syncs { try fileSystem.syncData(activeFile) }
        activeAllocatedBytes = activeSizeBytes
    }

    private func writeZeros(_ file: OpenFile, from start: UInt64, to end: UInt64) throws {
        var offset = start
        while offset < end {
            let count = Int(min(end - offset, UInt64(Self.zeroPiece.count)))
            try Self.zeroPiece.withUnsafeBytes { zeros in
                try fileSystem.write(file, at: offset, bytes: UnsafeRawBufferPointer(rebasing: zeros[..<count]))
            }
            offset += UInt64(count)
        }
    }

    private static let zeroPiece = [UInt8](repeating: 0, count: 1 << 20)

    /// Creates the next segment: header plus the current hard state, durable (file and directory) before use.
    private func startSegment(sequence: UInt64) throws {
        let path = joinPath(options.directory, WALFormat.segmentName(sequence: sequence))
        var bytes = WALFormat.segmentHeader(clusterID: options.clusterID, nodeID: options.nodeID, sequence: sequence)
        let batchStart = WALFormat.beginBatch(into: &bytes)
        WALFormat.appendHardState(hardState, to: &bytes)
        WALFormat.finishBatch(startingAt: batchStart, in: &bytes)
        let file = try fileSystem.open(path, options: .createNew)
        do {
            try fileSystem.write(file, at: 0, bytes: bytes)
            if syncs {
                try fileSystem.syncData(file)
                try fileSystem.syncDirectory(at: options.directory)
            }
        } catch {
            fileSystem.close(file)
            throw error
        }
        if let activeFile { fileSystem.close(activeFile) }
        // The new segment carries the current hard state: nothing is pending any more.
        hardStateWritePending = false
        activeFile = file
        activeSizeBytes = UInt64(bytes.count)
        activeAllocatedBytes = activeSizeBytes
        activeInitialSizeBytes = activeSizeBytes
        segments.append(Segment(sequence: sequence, path: path, maxIndex: 0))
    }

    /// Temp file, sync, rename, sync directory: a snapshot file is either complete or absent after a crash.
    private func writeSnapshotFile(_ snapshot: Snapshot) throws {
        try Self.writeSnapshotFile(snapshot, options: options, fileSystem: fileSystem)
    }

    /// Bytes written between two data syncs of a snapshot file.
    static let snapshotWriteSliceBytes = 1 << 20

    /// Writes a snapshot file atomically (temporary file, sync, rename, directory sync) without touching any
    /// `NodeStorage` state, so a node can encode and write a large snapshot off its main loop. A later
    /// ``saveSnapshot(_:)`` of the same snapshot finds the file in place and only compacts the log.
    /// `pauseBetweenSlicesMicroseconds` spaces the 1 MiB slices out, for a background writer that should leave the
    /// disk to the log's own syncs.
    public static func writeSnapshotFile(
        _ snapshot: Snapshot, options: StorageOptions, fileSystem: any FileSystem,
        pauseBetweenSlicesMicroseconds: UInt32 = 0
    ) throws {
        try writeSnapshotFile(
            metadata: snapshot.metadata, options: options, fileSystem: fileSystem,
            pauseBetweenSlicesMicroseconds: pauseBetweenSlicesMicroseconds
        ) { emit in try emit(snapshot.data) }
    }

    /// Writes a snapshot file whose data `produce` hands over in pieces (to the `emit` it is given), so the whole
    /// state never has to be one array: memory is bounded by the largest piece. Returns the data's length.
    ///
    /// The header's length field and the checksum are known only at the end: the length is patched in, then the
    /// file is read back (from the page cache) for the checksum. Atomic like the other form: temporary file, sync,
    /// rename, directory sync. If the file already exists (a transfer installed it), nothing is written.
    @discardableResult
    public static func writeSnapshotFile(
        metadata: SnapshotMetadata, options: StorageOptions, fileSystem: any FileSystem,
        pauseBetweenSlicesMicroseconds: UInt32 = 0,
        data produce: (_ emit: ([UInt8]) throws -> Void) throws -> Void
    ) throws -> UInt64 {
        let syncs = options.syncPolicy == .always
        let name = SnapshotFormat.fileName(index: metadata.index, term: metadata.term)
        let path = joinPath(options.directory, name)
        // A transfer installed through SnapshotStager is already in place and verified.
        if fileSystem.fileExists(at: path) {
            return try SnapshotDataReader(
                path: path, clusterID: options.clusterID, fileSystem: fileSystem
            ).dataLengthBytes
        }
        let temporaryPath = path + ".tmp"
        let file = try fileSystem.open(temporaryPath, options: .createOrTruncate)
        let dataLength: UInt64
        do {
            let header = SnapshotFormat.encodeHeader(metadata, clusterID: options.clusterID, dataLengthBytes: 0)
            try fileSystem.write(file, at: 0, bytes: header)
            var offset = UInt64(header.count)
            var unsynced = 0
            // Written and synced a piece at a time: on ext4 a WAL fdatasync waits for the journal, and the journal
            // for every dirty block it orders, so one large unsynced write would stall the log's small syncs.
            try produce { piece in
                var start = 0
                while start < piece.count {
                    let end = min(piece.count, start + snapshotWriteSliceBytes - unsynced)
                    try piece.withUnsafeBytes { raw in
                        try fileSystem.write(
                            file, at: offset, bytes: UnsafeRawBufferPointer(rebasing: raw[start..<end]))
                    }
                    offset += UInt64(end - start)
                    unsynced += end - start
                    start = end
                    if unsynced >= snapshotWriteSliceBytes {
                        unsynced = 0
                        if syncs { try fileSystem.syncData(file) }
                        if pauseBetweenSlicesMicroseconds > 0 { usleep(pauseBetweenSlicesMicroseconds) }
                    }
                }
            }
            dataLength = offset - UInt64(header.count)
            var length: [UInt8] = []
            length.appendLittleEndian(dataLength)
            try fileSystem.write(file, at: UInt64(header.count - 8), bytes: length)
            var crc: UInt32 = 0
            var readOffset: UInt64 = 0
            while readOffset < offset {
                let count = Int(min(UInt64(snapshotWriteSliceBytes), offset - readOffset))
                let bytes = try fileSystem.read(file, at: readOffset, count: count)
                guard bytes.count == count else {
                    throw StorageError.snapshotTransfer(reason: "\(temporaryPath) shrank while being written")
                }
                crc = bytes.withUnsafeBytes { CRC32C.update(crc, $0) }
                readOffset += UInt64(count)
            }
            var trailer: [UInt8] = []
            trailer.appendLittleEndian(crc)
            try fileSystem.write(file, at: offset, bytes: trailer)
            if syncs { try fileSystem.sync(file) }
        } catch {
            fileSystem.close(file)
            try? fileSystem.removeFile(at: temporaryPath)
            throw error
        }
        fileSystem.close(file)
        try fileSystem.rename(from: temporaryPath, to: path)
        if syncs { try fileSystem.syncDirectory(at: options.directory) }
        return dataLength
    }

    /// Deletes the oldest segments whose every entry the durable snapshot covers (never the active one), and
    /// snapshot files beyond the retention count (never the newest).
    private func compact() throws {
        var removedAny = false
        while segments.count > 1 && segments[0].maxIndex <= snapshotIndex.rawValue {
            try fileSystem.removeFile(at: segments[0].path)
            segments.removeFirst()
            removedAny = true
        }
        let snapshotNames = try fileSystem.contentsOfDirectory(at: options.directory)
            .compactMap { name in SnapshotFormat.parseFileName(name).map { (name: name, index: $0.index) } }
            .sorted { $0.index > $1.index }
        for old in snapshotNames.dropFirst(options.retainedSnapshotCount) where old.index < snapshotIndex {
            try fileSystem.removeFile(at: joinPath(options.directory, old.name))
            removedAny = true
        }
        if removedAny && syncs { try fileSystem.syncDirectory(at: options.directory) }
    }
}

/// Rebuilds the durable state from the files of a data directory.
private struct Recovery {
    let options: StorageOptions
    let fileSystem: any FileSystem
    var hardState = HardState()
    var snapshot: Snapshot?
    var entries: [Entry] = []
    /// Where each of `entries` is, for ``NodeStorage``'s index.
    var locations: [NodeStorage.EntryLocation] = []
    var segments: [NodeStorage.Segment] = []
    var activeFile: OpenFile?
    var activeSizeBytes: UInt64 = 0
    var activeVersion = WALFormat.version
    var repairs: [RecoveryRepair] = []

    /// The last index of the log as the writer saw it at this point of the replay (may be below the snapshot).
    private var liveLastIndex: UInt64 = 0
    /// The term the replayed log had at the snapshot index, when known (§7 check).
    private var termAtSnapshotIndex: Term?

    init(options: StorageOptions, fileSystem: any FileSystem) throws {
        self.options = options
        self.fileSystem = fileSystem
    }

    var snapshotIndex: UInt64 { snapshot?.metadata.index.rawValue ?? 0 }

    mutating func run() throws {
        let directory = options.directory
        let names = try fileSystem.contentsOfDirectory(at: directory).sorted()
        for name in names where name.hasSuffix(".tmp") {
            let path = joinPath(directory, name)
            try fileSystem.removeFile(at: path)
            repairs.append(.removedTemporaryFile(path: path))
        }
        let snapshots = names.compactMap { name in SnapshotFormat.parseFileName(name).map { (name, $0.index) } }
            .sorted { $0.1 > $1.1 }
        if let newest = snapshots.first {
            // A damaged newest snapshot is an error, not a fallback: the log before it may already be gone.
            // Verified a chunk at a time and not kept: the state machine restores from the file the same way.
            let reader = try SnapshotDataReader(
                path: joinPath(directory, newest.0), clusterID: options.clusterID,
                chunkSizeBytes: options.snapshotChunkSizeBytes, fileSystem: fileSystem)
            try reader.verifyRest()
            snapshot = Snapshot(metadata: reader.metadata, data: [])
        }
        liveLastIndex = snapshotIndex
        termAtSnapshotIndex = nil
        let sequences = names.compactMap(WALFormat.parseSegmentName).sorted()
        for (position, sequence) in sequences.enumerated() {
            let path = joinPath(directory, WALFormat.segmentName(sequence: sequence))
            if position > 0 && sequence != sequences[position - 1] + 1 {
                throw StorageError.corrupt(
                    path: path, byteOffset: 0,
                    reason: "segment \(WALFormat.segmentName(sequence: sequences[position - 1] + 1)) is missing")
            }
            try replaySegment(path: path, sequence: sequence, isLast: position == sequences.count - 1)
        }
        if let snapshot, !entries.isEmpty, let termAtSnapshotIndex, termAtSnapshotIndex != snapshot.metadata.term {
            repairs.append(
                .discardedEntriesSupersededBySnapshot(snapshotIndex: snapshot.metadata.index, count: entries.count))
            entries.removeAll()
            locations.removeAll()
        }
    }

    private mutating func replaySegment(path: String, sequence: UInt64, isLast: Bool) throws {
        let file = try fileSystem.open(path, options: isLast ? .readWrite : .readOnly)
        var keepOpen = false
        defer { if !keepOpen { fileSystem.close(file) } }
        let bytes = try fileSystem.readAll(file)
        let headerBytes = WALFormat.segmentHeaderBytes
        let headerIsBlank = bytes.prefix(headerBytes).allSatisfy { $0 == 0 }
        if isLast && (bytes.count < headerBytes || (headerIsBlank && bytes.allSatisfy { $0 == 0 })) {
            // Created, but the crash came before its header was durable: it never held a record.
            try fileSystem.removeFile(at: path)
            try fileSystem.syncDirectory(at: options.directory)
            repairs.append(.removedIncompleteSegment(path: path, sizeBytes: UInt64(bytes.count)))
            return
        }
        let header: WALFormat.SegmentHeader
        switch WALFormat.parseSegmentHeader(bytes) {
        case .success(let parsed): header = parsed
        case .failure(.incomplete):
            throw StorageError.corrupt(path: path, byteOffset: UInt64(bytes.count), reason: "segment header incomplete")
        case .failure(.badMagic):
            throw StorageError.corrupt(path: path, byteOffset: 0, reason: "not a WAL segment (bad magic)")
        case .failure(.badChecksum):
            throw StorageError.corrupt(path: path, byteOffset: 40, reason: "segment header checksum mismatch")
        }
        guard WALFormat.readableVersions.contains(header.version) else {
            throw StorageError.unsupportedVersion(path: path, version: header.version)
        }
        guard header.clusterID == options.clusterID else {
            throw StorageError.foreignDirectory(
                path: options.directory,
                reason: "\(path) belongs to cluster \(header.clusterID), this node is in cluster \(options.clusterID)")
        }
        guard header.nodeID == options.nodeID else {
            throw StorageError.foreignDirectory(
                path: options.directory,
                reason: "\(path) belongs to node \(header.nodeID), this node is \(options.nodeID)")
        }
        guard header.sequence == sequence else {
            throw StorageError.corrupt(
                path: path, byteOffset: 32, reason: "header names sequence \(header.sequence), file name \(sequence)")
        }
        var maxIndex: UInt64 = 0
        let end = try WALFormat.scan(bytes, path: path, version: header.version, isLastSegment: isLast) {
            record, offset in
            try apply(record, path: path, sequence: sequence, byteOffset: offset, maxIndex: &maxIndex)
        }
        var sizeBytes = UInt64(bytes.count)
        switch end {
        case .clean: break
        case .unusedTail(let offset):
            // Zeros the writer put ahead of the log (or a write that left nothing on the disk): cut them, so that
            // the file holds just its records, as the writer expects of a reopened segment.
            try fileSystem.truncate(file, toSizeBytes: UInt64(offset))
            try fileSystem.syncData(file)
            sizeBytes = UInt64(offset)
        case .tornTail(let offset, let reason):
            try fileSystem.truncate(file, toSizeBytes: UInt64(offset))
            try fileSystem.syncData(file)
            sizeBytes = UInt64(offset)
            repairs.append(
                .truncatedTornTail(
                    path: path, byteOffset: UInt64(offset), discardedBytes: UInt64(bytes.count - offset), reason: reason
                ))
        }
        segments.append(NodeStorage.Segment(sequence: sequence, path: path, maxIndex: maxIndex))
        if isLast {
            // What the crash left in the page cache may not be on the disk yet: make it durable before anything
            // is appended, so that only the newest write can ever be torn.
            if case .clean = end, options.syncPolicy == .always { try fileSystem.syncData(file) }
            keepOpen = true
            activeFile = file
            activeSizeBytes = sizeBytes
            activeVersion = header.version
        }
    }

    private mutating func apply(
        _ record: WALRecord, path: String, sequence: UInt64, byteOffset: Int, maxIndex: inout UInt64
    ) throws {
        let snapshotIndex = self.snapshotIndex
        switch record {
        case .batch:
            throw StorageError.corrupt(
                path: path, byteOffset: UInt64(byteOffset), reason: "a batch record in a version 1 segment")
        case .hardState(let state):
            hardState = state
        case .logReset(let index, let term):
            maxIndex = max(maxIndex, index.rawValue)
            guard index.rawValue <= snapshotIndex else {
                throw StorageError.corrupt(
                    path: path, byteOffset: UInt64(byteOffset),
                    reason: "the log was reset to a snapshot at index \(index), but the newest snapshot file is at"
                        + " \(snapshotIndex): that snapshot file is missing")
            }
            entries.removeAll()
            locations.removeAll()
            liveLastIndex = index.rawValue
            termAtSnapshotIndex = index.rawValue == snapshotIndex ? term : nil
        case .entry(let entry):
            let index = entry.index.rawValue
            maxIndex = max(maxIndex, index)
            if index <= snapshotIndex {
                // Covered by the snapshot; it still truncates whatever the replay held after it.
                entries.removeAll()
                locations.removeAll()
                liveLastIndex = index
                termAtSnapshotIndex = index == snapshotIndex ? entry.term : nil
                return
            }
            // The log may also continue right after the snapshot when what the WAL holds ends inside it: a
            // follower that staged its leader's snapshot and crashed before its core took it adopts the file at the
            // next start, with no log reset in the WAL, and appends after it. The snapshot covers the gap.
            guard index <= max(liveLastIndex, snapshotIndex) + 1, index > 0 else {
                throw StorageError.corrupt(
                    path: path, byteOffset: UInt64(byteOffset),
                    reason: "entry \(index) leaves a gap after index \(liveLastIndex)")
            }
            let keptCount = Int(index - snapshotIndex - 1)
            if keptCount < entries.count {
                entries.removeLast(entries.count - keptCount)
                locations.removeLast(locations.count - keptCount)
            }
            entries.append(entry)
            locations.append(
                NodeStorage.EntryLocation(
                    segmentSequence: sequence, byteOffset: UInt32(byteOffset),
                    recordBytes: UInt32(WALFormat.recordHeaderBytes + 17 + entry.data.count)))
            liveLastIndex = index
        }
    }
}
