import Foundation
import RaftCore
import RaftProcess
import RaftStorage
import Testing

/// Snapshot files written from pieces and read back in chunks, transfers cut by a crash, and the memory a large
/// transfer takes.
@Suite("Snapshot streaming")
struct SnapshotStreamingTests {
    /// Data of `count` bytes that differs at every position (a shifted piece would show).
    static func data(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
    }

    @Test func aSnapshotWrittenInPiecesIsReadBackInChunksAndVerified() throws {
        let fileSystem = InMemoryFileSystem()
        var small = options()
        small.snapshotChunkSizeBytes = 1_000
        let storage = try NodeStorage(options: small, fileSystem: fileSystem)
        try storage.append(makeEntries(1...9, term: 2))
        let metadata = SnapshotMetadata(index: 9, term: 2, voters: [1, 2, 3], learners: [4], context: [7, 7])
        let data = Self.data(300_000)
        var pieces = 0
        let written = try NodeStorage.writeSnapshotFile(metadata: metadata, options: small, fileSystem: fileSystem) {
            emit in
            var offset = 0
            while offset < data.count {
                let end = min(data.count, offset + 1 + pieces * 97 % 20_000)
                try emit(Array(data[offset..<end]))
                offset = end
                pieces += 1
            }
        }
        #expect(pieces > 20)
        #expect(written == UInt64(data.count))
        try storage.saveSnapshot(Snapshot(metadata: metadata, data: []))
        // The same file as one written whole: the reader of whole files decodes it.
        #expect(try storage.loadNewestSnapshot() == Snapshot(metadata: metadata, data: data))

        let reader = try #require(try storage.snapshotDataReader())
        #expect(reader.metadata == metadata && reader.dataLengthBytes == UInt64(data.count))
        var read: [UInt8] = []
        while let chunk = try reader.nextChunk() {
            #expect(chunk.count <= 1_000)
            read += chunk
        }
        #expect(read == data)

        // A flipped bit in the data: every chunk still comes out, and the end throws naming file and offset.
        let path = storage.snapshotPath(for: metadata)
        var bytes = try #require(fileSystem.contents(of: path))
        bytes[bytes.count / 2] ^= 0x10
        fileSystem.setContents(of: path, to: bytes)
        let damaged = try #require(try storage.snapshotDataReader())
        var chunks = 0
        let error = #expect(throws: StorageError.self) {
            while try damaged.nextChunk() != nil { chunks += 1 }
        }
        #expect(chunks == 300)
        #expect(
            error == .corrupt(path: path, byteOffset: UInt64(bytes.count - 4), reason: "snapshot checksum mismatch"))
    }

    @Test func recoveryRefusesADamagedSnapshotNamingItsFile() throws {
        let fileSystem = InMemoryFileSystem()
        let storage = try NodeStorage(options: options(), fileSystem: fileSystem)
        try storage.append(makeEntries(1...4))
        let snapshot = Snapshot(metadata: SnapshotMetadata(index: 4, term: 1, voters: [1]), data: Self.data(50_000))
        try storage.saveSnapshot(snapshot)
        storage.close()
        let path = storage.snapshotPath(for: snapshot.metadata)
        var bytes = try #require(fileSystem.contents(of: path))
        bytes[30_000] ^= 1
        fileSystem.setContents(of: path, to: bytes)
        let error = #expect(throws: StorageError.self) { try NodeStorage(options: options(), fileSystem: fileSystem) }
        #expect(error?.description.contains(path) == true)
        #expect(error?.description.contains("checksum") == true)
    }

    /// The receiver crashes part-way (its staged bytes are durable or not), then the sender stops part-way: neither
    /// leaves a snapshot installed or a staging file behind, and the transfer that follows installs the snapshot.
    @Test func aTransferCutByACrashOfEitherSideInstallsNothingAndTheNextOneSucceeds() throws {
        let leaderFS = InMemoryFileSystem()
        var leaderOptions = options(directory: "/leader", node: 2)
        leaderOptions.snapshotChunkSizeBytes = 4_096
        let leader = try NodeStorage(options: leaderOptions, fileSystem: leaderFS)
        try leader.append(makeEntries(1...30, term: 3))
        let snapshot = Snapshot(
            metadata: SnapshotMetadata(index: 30, term: 3, voters: [1, 2]), data: Self.data(20_000))
        try leader.saveSnapshot(snapshot)

        let followerFS = InMemoryFileSystem()
        var follower = try NodeStorage(options: options(), fileSystem: followerFS)
        try follower.append(makeEntries(1...2, term: 1))
        func send(_ stager: SnapshotStager, stoppingAfter chunks: Int?) throws -> Bool {
            let reader = try #require(try leader.newestSnapshotReader())
            var sent = 0
            while let chunk = try reader.nextChunk() {
                if sent == chunks { return false }
                try stager.receive(offsetBytes: chunk.offsetBytes, bytes: chunk.bytes)
                sent += 1
            }
            return true
        }
        // 1. The receiver crashes after 3 of the leader's chunks.
        let cut = try follower.makeSnapshotStager()
        #expect(try send(cut, stoppingAfter: 3) == false)
        follower.close()
        followerFS.simulateCrash()
        follower = try NodeStorage(options: options(), fileSystem: followerFS)
        #expect(follower.recovery.state.snapshot == nil)
        #expect(follower.recovery.state.entries == makeEntries(1...2, term: 1))
        #expect(try followerFS.contentsOfDirectory(at: testDirectory).allSatisfy { !$0.hasSuffix(".tmp") })

        // 2. The sender stops after 2 chunks: the receiver's connection closes and it abandons the transfer.
        let stopped = try follower.makeSnapshotStager()
        #expect(try send(stopped, stoppingAfter: 2) == false)
        stopped.abort()
        #expect(try followerFS.contentsOfDirectory(at: testDirectory).allSatisfy { !$0.hasSuffix(".tmp") })
        #expect(try follower.snapshotDataReader() == nil)

        // 3. A whole transfer installs it.
        let whole = try follower.makeSnapshotStager()
        #expect(try send(whole, stoppingAfter: nil))
        let metadata = try whole.finish()
        try follower.save(
            hardState: HardState(term: 3, vote: nil, commit: 30), snapshot: Snapshot(metadata: metadata, data: []))
        follower.close()
        followerFS.simulateCrash()
        let recovered = try NodeStorage(options: options(), fileSystem: followerFS)
        #expect(recovered.recovery.state.snapshot?.metadata == snapshot.metadata)
        #expect(try recovered.loadNewestSnapshot() == snapshot)
    }

    /// A snapshot 128 times the transfer chunk goes through the whole file path (written from pieces, read in
    /// chunks, staged, verified, installed, streamed back) in a process of its own, which reports the kernel's
    /// high-water mark of its resident memory: the growth must stay far below the snapshot's size.
    @Test(.timeLimit(.minutes(3)))
    func aLargeSnapshotMovesThroughBoundedMemory() throws {
        let executable = try fixtureExecutable("snapshot-transfer-probe")
        let temporary = TemporaryDirectory("snapshot-probe")
        defer { temporary.remove() }
        let outcome = try ChildProcess.run(
            executable: executable, arguments: [temporary.path, "128"], timeout: .seconds(150))
        #expect(outcome.status == 0, "\(outcome.stdout) \(outcome.stderr)")
        var fields: [String: String] = [:]
        for pair in outcome.stdout.split(whereSeparator: \.isWhitespace) {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        let snapshotBytes = try #require(fields["snapshot_bytes"].flatMap { Int($0) })
        let chunkBytes = try #require(fields["chunk_bytes"].flatMap { Int($0) })
        let baseline = try #require(fields["baseline_rss_kib"].flatMap { Int($0) })
        let peak = try #require(fields["peak_rss_kib"].flatMap { Int($0) })
        #expect(fields["verified"] == "true")
        #expect(snapshotBytes >= 128 * chunkBytes)
        // Holding the snapshot once would take 128 MiB; the streams take a few chunks. 32 MiB leaves room for
        // allocator slack.
        #expect((peak - baseline) * 1024 < 32 << 20, "peak \(peak) KiB against a baseline of \(baseline) KiB")
    }
}
