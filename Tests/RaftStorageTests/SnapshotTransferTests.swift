import RaftCore
import RaftStorage
import Testing

@Suite("Snapshot transfer")
struct SnapshotTransferTests {
    /// A leader's storage holding a snapshot with `payloadBytes` of state.
    func leaderWithSnapshot(payloadBytes: Int) throws -> (InMemoryFileSystem, NodeStorage, Snapshot) {
        let fileSystem = InMemoryFileSystem()
        let storage = try NodeStorage(options: options(directory: "/leader", node: 2), fileSystem: fileSystem)
        try storage.append(makeEntries(1...50, term: 4))
        let state = Snapshot(
            metadata: SnapshotMetadata(index: 40, term: 4, voters: [1, 2, 3]),
            data: (0..<payloadBytes).map { UInt8(truncatingIfNeeded: $0 * 7) })
        try storage.saveSnapshot(state)
        return (fileSystem, storage, state)
    }

    /// A follower's storage holding `followerEntries`, and a stager that received the leader's newest snapshot
    /// from a reader of `chunkBytes` chunks; the sizes of the chunks it received.
    func stageLeadersSnapshot(
        _ leaderFS: InMemoryFileSystem, _ leader: NodeStorage, chunkBytes: Int, followerEntries: [Entry]
    ) throws -> (InMemoryFileSystem, NodeStorage, SnapshotStager, chunkSizes: [Int], totalBytes: UInt64) {
        let reader = try SnapshotChunkReader(
            path: leader.newestSnapshotPath!, chunkSizeBytes: chunkBytes, fileSystem: leaderFS)
        let followerFS = InMemoryFileSystem()
        let follower = try NodeStorage(options: options(), fileSystem: followerFS)
        try follower.append(followerEntries)
        let stager = try SnapshotStager(directory: testDirectory, clusterID: testCluster, fileSystem: followerFS)
        var sizes: [Int] = []
        while let chunk = try reader.nextChunk() {
            try stager.receive(offsetBytes: chunk.offsetBytes, bytes: chunk.bytes)
            sizes.append(chunk.bytes.count)
        }
        return (followerFS, follower, stager, sizes, reader.totalBytes)
    }

    @Test func chunkedTransferInstallsTheSnapshotOnTheFollower() throws {
        let (leaderFS, leader, state) = try leaderWithSnapshot(payloadBytes: 10_000)
        let (followerFS, follower, stager, sizes, totalBytes) = try stageLeadersSnapshot(
            leaderFS, leader, chunkBytes: 777, followerEntries: makeEntries(1...3, term: 1))
        #expect(sizes.allSatisfy { $0 <= 777 })
        #expect(sizes.count == Int((totalBytes + 776) / 777))
        let metadata = try stager.finish()
        #expect(metadata == state.metadata)
        // The core hands the snapshot back in Ready, without the bytes: storage finds the installed file.
        try follower.save(
            hardState: HardState(term: 4, vote: nil, commit: 40), snapshot: Snapshot(metadata: metadata, data: []))
        follower.close()
        followerFS.simulateCrash()
        let reopened = try NodeStorage(options: options(), fileSystem: followerFS)
        // Recovery keeps the metadata; the bytes stay in the verified file.
        #expect(reopened.recovery.state.snapshot?.metadata == state.metadata)
        #expect(try reopened.loadNewestSnapshot() == state)
        #expect(reopened.recovery.state.entries.isEmpty)
        #expect(reopened.lastIndex == 40)
    }

    /// A follower that staged the leader's snapshot and crashed before its core took it: the next start adopts
    /// the file (its log ends before it), the node appends after it, and every later start must still recover.
    /// Found by the node simulation with a one-byte entry cache (seed 1115): the WAL held entries 1–32, then
    /// 36–58 after the adopted snapshot at 35, and the second restart refused it as a gap after 32.
    @Test func aStagedSnapshotAdoptedAtStartStaysRecoverableAfterMoreEntries() throws {
        let (leaderFS, leader, state) = try leaderWithSnapshot(payloadBytes: 3_000)
        let (followerFS, follower, stager, _, _) = try stageLeadersSnapshot(
            leaderFS, leader, chunkBytes: 1_000, followerEntries: makeEntries(1...30, term: 4))
        _ = try stager.finish()
        follower.close()  // the crash: the core never saw the InstallSnapshot
        followerFS.simulateCrash()

        let adopted = try NodeStorage(options: options(), fileSystem: followerFS)
        #expect(adopted.recovery.state.snapshot?.metadata == state.metadata)
        #expect(adopted.recovery.state.entries.isEmpty && adopted.lastIndex == 40)
        try adopted.append(makeEntries(41...45, term: 4))
        adopted.close()
        followerFS.simulateCrash()

        let again = try NodeStorage(options: options(), fileSystem: followerFS)
        #expect(again.recovery.state.snapshot?.metadata == state.metadata)
        #expect(again.recovery.state.entries == makeEntries(41...45, term: 4))
        #expect(try again.entries(in: 41...45) == makeEntries(41...45, term: 4))
    }

    @Test func corruptedChunkIsRejectedAndNothingIsInstalled() throws {
        let (leaderFS, leader, _) = try leaderWithSnapshot(payloadBytes: 5_000)
        let reader = try SnapshotChunkReader(
            path: leader.newestSnapshotPath!, chunkSizeBytes: 1024, fileSystem: leaderFS)
        let followerFS = InMemoryFileSystem()
        try followerFS.createDirectory(at: testDirectory)
        let stager = try SnapshotStager(directory: testDirectory, clusterID: testCluster, fileSystem: followerFS)
        while var chunk = try reader.nextChunk() {
            if chunk.offsetBytes == 2048 { chunk.bytes[100] ^= 0x40 }
            try stager.receive(offsetBytes: chunk.offsetBytes, bytes: chunk.bytes)
        }
        let error = #expect(throws: StorageError.self) { try stager.finish() }
        #expect(error?.description.contains("checksum mismatch") == true)
        #expect(try followerFS.contentsOfDirectory(at: testDirectory).isEmpty)
    }

    /// The stager checks the running CRC over every byte but the last four received, whatever the chunk sizes: a
    /// chunk shorter than the trailer, or one that ends inside it, must neither fail a good file nor pass a bad one.
    @Test(arguments: [1, 2, 3, 4, 5, 777])
    func anyChunkSizeVerifiesAndEveryFlippedByteIsCaught(chunkBytes: Int) throws {
        let (leaderFS, leader, state) = try leaderWithSnapshot(payloadBytes: 600)
        let (_, _, stager, sizes, totalBytes) = try stageLeadersSnapshot(
            leaderFS, leader, chunkBytes: chunkBytes, followerEntries: [])
        #expect(sizes.reduce(0, +) == Int(totalBytes))
        #expect(try stager.finish() == state.metadata)
        // A byte flipped near the end (in the trailer, just before it, in the last chunk) or at the start.
        let file = try #require(leaderFS.contents(of: leader.newestSnapshotPath!))
        for position in [0, file.count - 1, file.count - 4, file.count - 5, file.count - 6, file.count / 2] {
            let followerFS = InMemoryFileSystem()
            try followerFS.createDirectory(at: testDirectory)
            let damaged = try SnapshotStager(directory: testDirectory, clusterID: testCluster, fileSystem: followerFS)
            var bytes = file
            bytes[position] ^= 0x01
            for offset in stride(from: 0, to: bytes.count, by: chunkBytes) {
                try damaged.receive(
                    offsetBytes: UInt64(offset), bytes: Array(bytes[offset..<min(offset + chunkBytes, bytes.count)]))
            }
            #expect(throws: StorageError.self, "byte \(position) of \(bytes.count) flipped") { try damaged.finish() }
            #expect(try followerFS.contentsOfDirectory(at: testDirectory).isEmpty)
        }
    }

    @Test func outOfOrderChunkIsRejected() throws {
        let (leaderFS, leader, _) = try leaderWithSnapshot(payloadBytes: 5_000)
        let reader = try SnapshotChunkReader(
            path: leader.newestSnapshotPath!, chunkSizeBytes: 1024, fileSystem: leaderFS)
        let followerFS = InMemoryFileSystem()
        try followerFS.createDirectory(at: testDirectory)
        let stager = try SnapshotStager(directory: testDirectory, clusterID: testCluster, fileSystem: followerFS)
        _ = try reader.nextChunk()
        let second = try reader.nextChunk()!
        let error = #expect(throws: StorageError.self) {
            try stager.receive(offsetBytes: second.offsetBytes, bytes: second.bytes)
        }
        #expect(error?.description.contains("expected offset 0") == true)
    }

    @Test func snapshotOfAnotherClusterIsRejected() throws {
        let (leaderFS, leader, _) = try leaderWithSnapshot(payloadBytes: 100)
        let followerFS = InMemoryFileSystem()
        try followerFS.createDirectory(at: testDirectory)
        let stager = try SnapshotStager(directory: testDirectory, clusterID: ClusterID(0xFFFF), fileSystem: followerFS)
        try stager.receive(offsetBytes: 0, bytes: leaderFS.contents(of: leader.newestSnapshotPath!)!)
        let error = #expect(throws: StorageError.self) { try stager.finish() }
        #expect(error?.description.contains("cluster") == true)
    }
}

@Suite("Snapshot reader")
struct SnapshotReaderTests {
    @Test func readerUsesTheConfiguredChunkSizeAndReassemblesTheFile() throws {
        let fileSystem = InMemoryFileSystem()
        var small = options()
        small.snapshotChunkSizeBytes = 100
        let storage = try NodeStorage(options: small, fileSystem: fileSystem)
        #expect(try storage.newestSnapshotReader() == nil)
        try storage.append(makeEntries(1...5))
        try storage.saveSnapshot(
            Snapshot(metadata: SnapshotMetadata(index: 5, term: 1, voters: [1]), data: Array(repeating: 9, count: 950)))
        let reader = try #require(try storage.newestSnapshotReader())
        var bytes: [UInt8] = []
        while let chunk = try reader.nextChunk() {
            #expect(chunk.bytes.count <= 100)
            bytes += chunk.bytes
        }
        #expect(bytes == fileSystem.contents(of: storage.newestSnapshotPath!))
    }
}
