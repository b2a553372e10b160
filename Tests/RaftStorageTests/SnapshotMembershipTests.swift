import RaftCore
import RaftStorage
import Testing

/// A snapshot file carries the membership at its index, learners and the configuration's context included, and
/// a file without either stays in the version-1 layout that earlier builds read.
@Suite struct SnapshotMembershipTests {
    @Test func learnersAndContextSurviveARestart() throws {
        let fileSystem = InMemoryFileSystem()
        let metadata = SnapshotMetadata(
            index: 7, term: 2, voters: [1, 2, 3], learners: [4, 9], context: Array(#"{"members":{}}"#.utf8))
        let saved = Snapshot(metadata: metadata, data: Array("state".utf8))
        do {
            let storage = try NodeStorage(options: options(), fileSystem: fileSystem)
            try storage.save(hardState: HardState(term: 2, vote: 1, commit: 7), entries: makeEntries(1...7, term: 2))
            try storage.saveSnapshot(saved)
            storage.close()
        }
        let reopened = try NodeStorage(options: options(), fileSystem: fileSystem)
        // Recovery keeps the metadata; the bytes stay in the verified file.
        #expect(reopened.recovery.state.snapshot?.metadata == saved.metadata)
        #expect(try reopened.loadNewestSnapshot() == saved)
        #expect(
            reopened.recovery.state.snapshot?.metadata.membership == Membership(voters: [1, 2, 3], learners: [4, 9]))
    }

    @Test func aSnapshotWithoutLearnersIsWrittenInTheFirstLayout() throws {
        let fileSystem = InMemoryFileSystem()
        let storage = try NodeStorage(options: options(), fileSystem: fileSystem)
        try storage.save(hardState: HardState(term: 1, vote: 1, commit: 5), entries: makeEntries(1...5))
        try storage.saveSnapshot(snapshot(at: 5, term: 1))
        let name = try #require(try fileSystem.contentsOfDirectory(at: testDirectory).first { $0.hasSuffix(".snap") })
        let file = try fileSystem.open(testDirectory + "/" + name, options: .readOnly)
        defer { fileSystem.close(file) }
        #expect(try fileSystem.read(file, at: 8, count: 4) == [1, 0, 0, 0], "version 1")
    }
}
