import RaftCore
import RaftStorage

let testCluster = ClusterID(0xC1)
let testNode = NodeID(1)
let testDirectory = "/data/n1"

func options(
    directory: String = testDirectory, cluster: ClusterID = testCluster, node: NodeID = testNode,
    segmentSizeBytes: Int = StorageOptions.defaultSegmentSizeBytes, syncPolicy: SyncPolicy = .always,
    retainedSnapshotCount: Int = 2
) -> StorageOptions {
    StorageOptions(
        directory: directory, clusterID: cluster, nodeID: node, segmentSizeBytes: segmentSizeBytes,
        syncPolicy: syncPolicy, retainedSnapshotCount: retainedSnapshotCount)
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
