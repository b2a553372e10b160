import RaftCore
import RaftStorage
import Testing

@Suite("Round trip and recovery")
struct RoundTripTests {
    @Test func crc32cMatchesTheStandardCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        let bytes = Array("hello, group commit".utf8)
        let chained = bytes.withUnsafeBytes { raw in
            CRC32C.update(
                CRC32C.update(0, UnsafeRawBufferPointer(rebasing: raw[0..<5])),
                UnsafeRawBufferPointer(rebasing: raw[5...]))
        }
        #expect(chained == CRC32C.checksum(bytes))
    }

    @Test func freshDirectoryRecoversEmptyState() throws {
        let fileSystem = InMemoryFileSystem()
        let storage = try NodeStorage(options: options(), fileSystem: fileSystem)
        #expect(storage.recovery.state.entries.isEmpty)
        #expect(storage.recovery.state.snapshot == nil)
        #expect(storage.recovery.state.hardState == HardState())
        #expect(storage.lastIndex == .zero)
        #expect(storage.firstIndex == 1)
    }

    @Test func entriesAndHardStateSurviveRestart() throws {
        let fileSystem = InMemoryFileSystem()
        do {
            let storage = try NodeStorage(options: options(), fileSystem: fileSystem)
            try storage.save(hardState: HardState(term: 2, vote: 3, commit: 0), entries: makeEntries(1...5, term: 2))
            try storage.save(hardState: HardState(term: 2, vote: 3, commit: 4))
        }
        fileSystem.simulateCrash()
        let reopened = try NodeStorage(options: options(), fileSystem: fileSystem)
        #expect(reopened.recovery.state.entries == makeEntries(1...5, term: 2))
        #expect(reopened.recovery.state.hardState == HardState(term: 2, vote: 3, commit: 4))
        #expect(reopened.recovery.repairs.isEmpty)
        #expect(reopened.term(at: 5) == 2)
    }

    @Test func conflictTruncationSurvivesRestart() throws {
        let fileSystem = InMemoryFileSystem()
        do {
            let storage = try NodeStorage(options: options(), fileSystem: fileSystem)
            try storage.append(makeEntries(1...10, term: 1))
            try storage.append(makeEntries(6...7, term: 2))
            #expect(storage.lastIndex == 7)
        }
        fileSystem.simulateCrash()
        let reopened = try NodeStorage(options: options(), fileSystem: fileSystem)
        #expect(reopened.recovery.state.entries == makeEntries(1...5, term: 1) + makeEntries(6...7, term: 2))
    }

    @Test func segmentRotationKeepsEveryEntryAndTheHardState() throws {
        let fileSystem = InMemoryFileSystem()
        do {
            let storage = try NodeStorage(options: options(segmentSizeBytes: 4096), fileSystem: fileSystem)
            try storage.save(hardState: HardState(term: 1, vote: 1, commit: 0))
            for index in stride(from: UInt64(1), through: 300, by: 3) {
                try storage.append(makeEntries(index...(index + 2), payloadBytes: 100))
            }
        }
        #expect(try segmentPaths(fileSystem).count > 5)
        fileSystem.simulateCrash()
        let reopened = try NodeStorage(options: options(segmentSizeBytes: 4096), fileSystem: fileSystem)
        #expect(reopened.recovery.state.entries == makeEntries(1...300, payloadBytes: 100))
        #expect(reopened.recovery.state.hardState == HardState(term: 1, vote: 1, commit: 0))
        #expect(reopened.recovery.segmentCount == (try segmentPaths(fileSystem).count))
    }

    @Test func snapshotCompactsSegmentsAndRestartsAfterIt() throws {
        let fileSystem = InMemoryFileSystem()
        let small = options(segmentSizeBytes: 4096)
        do {
            let storage = try NodeStorage(options: small, fileSystem: fileSystem)
            try storage.save(hardState: HardState(term: 1, vote: 2, commit: 0))
            for index in 1...200 as ClosedRange<UInt64> {
                try storage.append(makeEntries(index...index, payloadBytes: 100))
            }
            let before = try segmentPaths(fileSystem).count
            try storage.saveSnapshot(snapshot(at: 150, term: 1))
            #expect(try segmentPaths(fileSystem).count < before)
            #expect(storage.firstIndex == 151)
            #expect(storage.lastIndex == 200)
            #expect(try storage.entries(in: 1...300) == makeEntries(151...200, payloadBytes: 100))
            #expect(storage.term(at: 150) == 1)
            try storage.append(makeEntries(201...210, payloadBytes: 100))
        }
        fileSystem.simulateCrash()
        let reopened = try NodeStorage(options: small, fileSystem: fileSystem)
        // Recovery keeps the metadata; the bytes stay in the verified file.
        #expect(reopened.recovery.state.snapshot?.metadata == (snapshot(at: 150, term: 1)).metadata)
        #expect(try reopened.loadNewestSnapshot() == snapshot(at: 150, term: 1))
        #expect(reopened.recovery.state.entries == makeEntries(151...210, payloadBytes: 100))
        #expect(reopened.recovery.state.hardState == HardState(term: 1, vote: 2, commit: 0))
    }

    @Test func snapshotRetentionKeepsTheConfiguredCount() throws {
        let fileSystem = InMemoryFileSystem()
        let storage = try NodeStorage(options: options(retainedSnapshotCount: 2), fileSystem: fileSystem)
        try storage.append(makeEntries(1...40))
        for index in [10, 20, 30, 40] as [UInt64] { try storage.saveSnapshot(snapshot(at: index, term: 1)) }
        let names = try fileSystem.contentsOfDirectory(at: testDirectory).filter { $0.hasPrefix("snap-") }.sorted()
        #expect(names.count == 2)
        #expect(names.last!.contains("0000000000000028"))
        #expect(try storage.loadNewestSnapshot() == snapshot(at: 40, term: 1))
    }

    @Test func installedSnapshotResetsTheLog() throws {
        let fileSystem = InMemoryFileSystem()
        do {
            let storage = try NodeStorage(options: options(), fileSystem: fileSystem)
            try storage.append(makeEntries(1...30, term: 1))
            // The leader's snapshot at 20 (term 3) conflicts with our entries after it: all are discarded.
            try storage.save(
                hardState: HardState(term: 3, vote: nil, commit: 20), snapshot: snapshot(at: 20, term: 3),
                entries: makeEntries(21...22, term: 3))
            #expect(storage.lastIndex == 22)
            #expect(try storage.entries(in: 1...100) == makeEntries(21...22, term: 3))
        }
        fileSystem.simulateCrash()
        let reopened = try NodeStorage(options: options(), fileSystem: fileSystem)
        // Recovery keeps the metadata; the bytes stay in the verified file.
        #expect(reopened.recovery.state.snapshot?.metadata == (snapshot(at: 20, term: 3)).metadata)
        #expect(try reopened.loadNewestSnapshot() == snapshot(at: 20, term: 3))
        #expect(reopened.recovery.state.entries == makeEntries(21...22, term: 3))
        #expect(reopened.recovery.state.hardState.commit == 20)
    }

    @Test func snapshotFileWithoutLogResetSupersedesConflictingEntries() throws {
        // Crash after the snapshot file became durable but before the WAL recorded the reset (Raft §7).
        let fileSystem = InMemoryFileSystem()
        do {
            let storage = try NodeStorage(options: options(), fileSystem: fileSystem)
            try storage.append(makeEntries(1...30, term: 1))
        }
        let stager = try SnapshotStager(directory: testDirectory, clusterID: testCluster, fileSystem: fileSystem)
        let encoded = try encodedSnapshotFile(snapshot(at: 20, term: 3))
        try stager.receive(offsetBytes: 0, bytes: encoded)
        _ = try stager.finish()
        fileSystem.simulateCrash()
        let reopened = try NodeStorage(options: options(), fileSystem: fileSystem)
        // Recovery keeps the metadata; the bytes stay in the verified file.
        #expect(reopened.recovery.state.snapshot?.metadata == (snapshot(at: 20, term: 3)).metadata)
        #expect(try reopened.loadNewestSnapshot() == snapshot(at: 20, term: 3))
        #expect(reopened.recovery.state.entries.isEmpty)
        #expect(reopened.recovery.repairs == [.discardedEntriesSupersededBySnapshot(snapshotIndex: 20, count: 10)])
    }
}

/// The bytes of a snapshot file as another node would send them.
func encodedSnapshotFile(_ snapshot: Snapshot) throws -> [UInt8] {
    let fileSystem = InMemoryFileSystem()
    let storage = try NodeStorage(options: options(directory: "/leader", node: 9), fileSystem: fileSystem)
    try storage.append(makeEntries(1...snapshot.metadata.index.rawValue, term: snapshot.metadata.term.rawValue))
    try storage.saveSnapshot(snapshot)
    return fileSystem.contents(of: storage.newestSnapshotPath!)!
}

@Suite("Recovered state hand-off")
struct RecoveredStateTests {
    @Test func releasingTheRecoveredStateKeepsTheLogAndTheRepairs() throws {
        let fileSystem = InMemoryFileSystem()
        do {
            let storage = try NodeStorage(options: options(), fileSystem: fileSystem)
            try storage.append(makeEntries(1...4))
        }
        fileSystem.setContents(of: testDirectory + "/leftover.tmp", to: [0])
        let storage = try NodeStorage(options: options(), fileSystem: fileSystem)
        #expect(storage.recovery.state.entries.count == 4)
        storage.releaseRecoveredState()
        #expect(storage.recovery.state.entries.isEmpty)
        #expect(storage.recovery.repairs == [.removedTemporaryFile(path: testDirectory + "/leftover.tmp")])
        #expect(try storage.entries(in: 1...4) == makeEntries(1...4))
    }
}
