import Glibc
import RaftCore
import RaftStorage

let testCluster = ClusterID(0xC1)
let testNode = NodeID(1)
let testDirectory = "/data/n1"

func options(
    directory: String = testDirectory, cluster: ClusterID = testCluster, node: NodeID = testNode,
    segmentSizeBytes: Int = StorageOptions.defaultSegmentSizeBytes, syncPolicy: SyncPolicy = .always,
    retainedSnapshotCount: Int = 2, preallocationStepBytes: Int = 0
) -> StorageOptions {
    // No preallocation unless asked for: most tests here check the log's exact bytes. PreallocationTests runs the
    // crash and damage cases again with it.
    StorageOptions(
        directory: directory, clusterID: cluster, nodeID: node, segmentSizeBytes: segmentSizeBytes,
        syncPolicy: syncPolicy, retainedSnapshotCount: retainedSnapshotCount,
        preallocationStepBytes: preallocationStepBytes)
}

/// Entries `range` in `term`, each with a payload that names its index so that a mix-up is visible.
func makeEntries(_ range: ClosedRange<UInt64>, term: UInt64 = 1, payloadBytes: Int = 20) -> [Entry] {
    range.map { index in
        var data = Array("entry-\(index)-t\(term)-".utf8)
        while data.count < payloadBytes { data.append(UInt8(truncatingIfNeeded: index &+ UInt64(data.count))) }
        return Entry(index: LogIndex(index), term: Term(term), data: data)
    }
}

func snapshot(at index: UInt64, term: UInt64, payload: String = "state") -> Snapshot {
    Snapshot(
        metadata: SnapshotMetadata(index: LogIndex(index), term: Term(term), voters: [1, 2, 3]),
        data: Array("\(payload)@\(index)".utf8))
}

func segmentPaths(_ fileSystem: InMemoryFileSystem, directory: String = testDirectory) throws -> [String] {
    try fileSystem.contentsOfDirectory(at: directory).filter { $0.hasPrefix("wal-") }.sorted()
        .map { directory + "/" + $0 }
}

/// SplitMix64: a tiny seeded generator so every randomized test replays from its printed seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Size of the WAL record of one entry made by `makeEntries` with `payloadBytes`.
func entryRecordBytes(payloadBytes: Int = 20) -> Int { 12 + 17 + payloadBytes }

/// Size of the header of a WAL batch (one write: the records of one `save`).
let batchHeaderBytes = 12

/// Byte offset of the first batch after a segment's header and the batch with its carried-over hard state.
let firstRecordOffset = 48 + batchHeaderBytes + 12 + 24

/// Size of a batch of `count` entries made by `makeEntries`.
func entryBatchBytes(_ count: Int, payloadBytes: Int = 20) -> Int {
    batchHeaderBytes + count * entryRecordBytes(payloadBytes: payloadBytes)
}
/// The seed for randomized tests: `SEED` from the environment (to replay or explore), else `fixed`.
func testSeed(default fixed: UInt64) -> UInt64 {
    getenv("SEED").flatMap { UInt64(String(cString: $0)) } ?? fixed
}
