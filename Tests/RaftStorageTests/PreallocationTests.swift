import Glibc
import RaftCore
import RaftStorage
import Testing

/// The active segment is filled with zeros ahead of the log (``StorageOptions/preallocationStepBytes``), so that
/// most syncs write data only. Recovery must read those zeros as unused space in the last segment, and as damage
/// anywhere else; a torn write inside them must still be repaired, never half-applied.
@Suite("WAL preallocation")
struct PreallocationTests {
    static let step = 4096

    static func preallocated(segmentSizeBytes: Int = StorageOptions.defaultSegmentSizeBytes) -> StorageOptions {
        options(segmentSizeBytes: segmentSizeBytes, preallocationStepBytes: step)
    }

    @Test func theProductDefaultPreallocatesAStepOfAMebibyte() {
        let defaults = StorageOptions(directory: "/d", clusterID: testCluster, nodeID: testNode)
        #expect(defaults.preallocationStepBytes == 1 << 20)
    }

    @Test func theFileRunsAheadOfTheLogAndAReopenReadsItsZerosAsUnusedNotAsARepair() throws {
        let fileSystem = InMemoryFileSystem()
        do {
            let storage = try NodeStorage(options: Self.preallocated(), fileSystem: fileSystem)
            for index in 1...50 as ClosedRange<UInt64> { try storage.append(makeEntries(index...index)) }
        }
        let segment = try segmentPaths(fileSystem).last!
        let logBytes = firstRecordOffset + 50 * entryBatchBytes(1)
        let fileBytes = fileSystem.contents(of: segment)!.count
        #expect(fileBytes > logBytes && fileBytes % Self.step == 0, "\(fileBytes) bytes for \(logBytes) of log")
        fileSystem.simulateCrash()
        // The zeros were synced with the batches: a power cut keeps them.
        #expect(fileSystem.contents(of: segment)!.count == fileBytes)

        let reopened = try NodeStorage(options: Self.preallocated(), fileSystem: fileSystem)
        #expect(reopened.recovery.state.entries == makeEntries(1...50))
        #expect(reopened.recovery.repairs.isEmpty, "unused space is not damage: \(reopened.recovery.repairs)")
        // Appending after the reopen continues right after the last record, and reads back.
        try reopened.append(makeEntries(51...60))
        #expect(try reopened.entries(in: LogIndex(45)...LogIndex(60)) == makeEntries(45...60))
        fileSystem.simulateCrash()
        let again = try NodeStorage(options: Self.preallocated(), fileSystem: fileSystem)
        #expect(again.recovery.state.entries == makeEntries(1...60))
        #expect(again.recovery.repairs.isEmpty)
    }

    /// A cut at every byte of a write, including the writes that extend the file: the reopened log holds the old
    /// entries, or (when the cut fell in the batch's own trailing zeros) all of them; never something between.
    @Test func aTornWriteInPreallocatedSpaceLeavesAllOrNothingOfIt() throws {
        for entriesBefore: UInt64 in [5, 36] {
            let before = makeEntries(1...entriesBefore)
            let batch = makeEntries((entriesBefore + 1)...(entriesBefore + 3), term: 2)
            let writeBytes = Self.step + entryBatchBytes(3) + 36
            for cutBytes in 0..<writeBytes {
                let fileSystem = InMemoryFileSystem()
                let storage = try NodeStorage(options: Self.preallocated(), fileSystem: fileSystem)
                try storage.save(hardState: HardState(term: 1, vote: 1, commit: 0), entries: before)
                fileSystem.injectWriteCut(afterBytes: cutBytes)
                _ = try? storage.save(hardState: HardState(term: 2, vote: 2, commit: 2), entries: batch)
                fileSystem.simulateCrash()
                let state = try NodeStorage(options: Self.preallocated(), fileSystem: fileSystem).recovery.state
                let label = "\(entriesBefore) entries before, cut after \(cutBytes) bytes"
                #expect(state.entries == before || state.entries == before + batch, "\(label)")
                #expect(
                    state.hardState == HardState(term: 1, vote: 1, commit: 0)
                        || (state.hardState == HardState(term: 2, vote: 2, commit: 2)
                            && state.entries == before + batch),
                    "\(label)")
            }
        }
    }

    /// Random power cuts with some of each unsynced write on the disk: everything synced survives.
    @Test func powerCutsNeverLoseASyncedEntry() throws {
        for seed: UInt64 in 0..<200 {
            var random = SeededGenerator(seed: seed)
            let fileSystem = InMemoryFileSystem()
            let options = Self.preallocated(segmentSizeBytes: 3 * Self.step)
            let storage = try NodeStorage(options: options, fileSystem: fileSystem)
            let synced = UInt64.random(in: 1...120, using: &random)
            for index in 1...synced { try storage.append(makeEntries(index...index, payloadBytes: 60)) }
            fileSystem.injectSyncFailure(errno: EIO)
            _ = try? storage.append(makeEntries((synced + 1)...(synced + 4), payloadBytes: 60))
            fileSystem.simulateCrash(tearingUnsyncedWritesWith: &random)
            let reopened = try NodeStorage(options: options, fileSystem: fileSystem)
            let entries = reopened.recovery.state.entries
            #expect(
                entries == makeEntries(1...synced, payloadBytes: 60)
                    || entries == makeEntries(1...(synced + 4), payloadBytes: 60),
                "seed \(seed): \(entries.count) entries after \(synced) synced")
        }
    }

    /// Only the last segment may end in zeros: rotation cuts them off the one before, so a zeroed last write there
    /// is damage that stops the node, not unused space to skip.
    @Test func rotationCutsTheZerosOffAndZerosInAnEarlierSegmentAreDamage() throws {
        let fileSystem = InMemoryFileSystem()
        let options = Self.preallocated(segmentSizeBytes: 3 * Self.step)
        var next: UInt64 = 1
        do {
            let storage = try NodeStorage(options: options, fileSystem: fileSystem)
            while try segmentPaths(fileSystem).count < 3 {
                try storage.append(makeEntries(next...next, payloadBytes: 200))
                next += 1
            }
        }
        let paths = try segmentPaths(fileSystem)
        let first = fileSystem.contents(of: paths[0])!
        // Just its records: single-entry batches after the header, nothing after them.
        let lastBatch = entryBatchBytes(1, payloadBytes: 200)
        #expect(first.count < 3 * Self.step && (first.count - firstRecordOffset) % lastBatch == 0, "\(first.count)")
        fileSystem.simulateCrash()
        #expect(try NodeStorage(options: options, fileSystem: fileSystem).recovery.state.entries.count == Int(next - 1))

        // Zero the last batch of the first segment, as a lost write of a disk would: no repair may hide it.
        var damaged = first
        for offset in (first.count - lastBatch)..<first.count { damaged[offset] = 0 }
        fileSystem.setContents(of: paths[0], to: damaged)
        let error = #expect(throws: StorageError.self) { try NodeStorage(options: options, fileSystem: fileSystem) }
        guard case .corrupt(let path, let offset, _) = error else {
            Issue.record("expected .corrupt, got \(String(describing: error))")
            return
        }
        #expect(path == paths[0] && offset == UInt64(first.count - lastBatch))
    }

    /// A full disk while extending the file fails the write cleanly, as any full disk does, and loses nothing
    /// synced before it.
    @Test func aFullDiskWhileExtendingKeepsWhatWasSynced() throws {
        let fileSystem = InMemoryFileSystem()
        let storage = try NodeStorage(options: Self.preallocated(), fileSystem: fileSystem)
        try storage.append(makeEntries(1...5))
        fileSystem.setCapacity(bytes: fileSystem.usedBytes + 10)
        var index: UInt64 = 6
        var failure: StorageError?
        while failure == nil && index < 1_000 {
            do { try storage.append(makeEntries(index...index)) } catch { failure = error as? StorageError }
            if failure == nil { index += 1 }
        }
        #expect(failure?.description.contains("ENOSPC") == true)
        fileSystem.setCapacity(bytes: nil)
        fileSystem.simulateCrash()
        let reopened = try NodeStorage(options: Self.preallocated(), fileSystem: fileSystem)
        #expect(reopened.recovery.state.entries == makeEntries(1...(index - 1)))
    }
}
