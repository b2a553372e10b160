import RaftCore
import RaftStorage
import Testing

/// Storage keeps where each entry is, not the entry (the core holds the log): what it reads back must be exactly
/// what was written, across segments, truncations and restarts, and damage on disk must be named.
@Suite("Entry index")
struct EntryIndexTests {
    @Test func entriesReadBackFromTheWALAcrossSegmentsTruncationsAndRestarts() throws {
        let fileSystem = InMemoryFileSystem()
        let small = options(segmentSizeBytes: 4096)
        var storage = try NodeStorage(options: small, fileSystem: fileSystem)
        for batch in 0..<20 {
            let first = UInt64(batch * 10 + 1)
            try storage.append(makeEntries(first...(first + 9), payloadBytes: 60))
        }
        // A conflicting suffix from a new leader replaces 150...200.
        try storage.save(entries: makeEntries(150...170, term: 2, payloadBytes: 90))
        let expected = makeEntries(1...149, payloadBytes: 60) + makeEntries(150...170, term: 2, payloadBytes: 90)
        #expect(try storage.entries(in: 1...500) == expected)
        #expect(try storage.entry(at: 160) == expected[159])
        #expect(try storage.entry(at: 171) == nil)
        #expect(storage.term(at: 149) == Term(1) && storage.term(at: 150) == Term(2))
        storage.close()
        storage = try NodeStorage(options: small, fileSystem: fileSystem)
        #expect(storage.recovery.segmentCount > 5)
        #expect(storage.recovery.state.entries == expected)
        #expect(try storage.entries(in: 1...500) == expected)
        // After a snapshot the index starts after it and the rest still reads back.
        try storage.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: 100, term: 1, voters: [1]), data: [1]))
        #expect(try storage.entries(in: 1...500) == Array(expected[100...]))
    }

    /// The core's ``EntryStorage`` read: a byte budget (at least one entry), records that lie next to each
    /// other read together, the same entries whatever the budget.
    @Test func theCoresReadStopsAtItsByteBudget() throws {
        let fileSystem = InMemoryFileSystem()
        let storage = try NodeStorage(options: options(segmentSizeBytes: 4096), fileSystem: fileSystem)
        for batch in 0..<10 {
            let first = UInt64(batch * 20 + 1)
            try storage.append(makeEntries(first...(first + 19), payloadBytes: 100))
        }
        let all = makeEntries(1...200, payloadBytes: 100)
        #expect(try storage.entries(from: 5, through: 200, maxBytes: 1) == [all[4]])
        let some = try storage.entries(from: 5, through: 200, maxBytes: 2_000)
        #expect(some.count >= 10 && some.count < 2_000 / 100, "\(some.count) entries in 2,000 bytes")
        #expect(some == Array(all[4..<(4 + some.count)]))
        #expect(try storage.entries(from: 1, through: 200, maxBytes: .max) == all)
        #expect(try storage.entries(from: 190, through: 500, maxBytes: .max) == Array(all[189...]))
        #expect(storage.entriesReadBack == 1 + some.count + 200 + 11)
    }

    @Test func aDamagedRecordIsNamedWhenReadBack() throws {
        let fileSystem = InMemoryFileSystem()
        let storage = try NodeStorage(options: options(), fileSystem: fileSystem)
        try storage.append(makeEntries(1...5, payloadBytes: 50))
        let path = testDirectory + "/wal-0000000000000001.log"
        var bytes = try #require(fileSystem.contents(of: path))
        bytes[bytes.count - 20] ^= 0x01  // inside entry 5's payload
        fileSystem.setContents(of: path, to: bytes)
        #expect(try storage.entries(in: 1...4) == makeEntries(1...4, payloadBytes: 50))
        let error = #expect(throws: StorageError.self) { try storage.entries(in: 1...5) }
        guard case .corrupt(let named, _, let reason) = error else {
            Issue.record("expected corruption, got \(String(describing: error))")
            return
        }
        #expect(named == path)
        #expect(reason.contains("index 5"))
    }
}
