// Moves one large snapshot through the whole file path raftd uses, in this process alone, and reports its memory:
// the leader writes it from pieces (`NodeStorage.writeSnapshotFile(metadata:…data:)`), a `SnapshotChunkReader`
// reads it in 1 MiB chunks, a `SnapshotStager` stages and verifies it on the follower, the follower's storage
// takes it, and a `SnapshotDataReader` streams its data back, as a state machine's restore does. The data is
// seeded pseudo-random bytes, checked at the far end with a running checksum.
//
// Usage: snapshot-transfer-probe <directory> <megabytes>
// Prints one line: `snapshot_bytes=… chunk_bytes=… baseline_rss_kib=… peak_rss_kib=… verified=true|false`. The
// peak is the kernel's high-water mark (VmHWM), so nothing between samples is missed.
import Glibc
import RaftCore
import RaftStorage

/// A field of /proc/self/status in KiB (a line such as `VmHWM:\t   13568 kB`), or -1.
func statusKiB(_ field: String) -> Int {
    guard let file = fopen("/proc/self/status", "r") else { return -1 }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, Int32(line.count), file) != nil {
        let words = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).split(
            whereSeparator: \.isWhitespace)
        if words.count >= 2, words[0] == field + ":" { return Int(words[1]) ?? -1 }
    }
    return -1
}

/// `count` bytes (a multiple of 8) of the seeded generator's output: the probe's data, reproducible piece by piece.
func piece(_ count: Int, from generator: inout SplitMix64) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    bytes.withUnsafeMutableBytes { raw in
        for word in 0..<(count / 8) { raw.storeBytes(of: generator.next(), toByteOffset: word * 8, as: UInt64.self) }
    }
    return bytes
}

let arguments = CommandLine.arguments
guard arguments.count == 3, let megabytes = Int(arguments[2]), megabytes > 0 else {
    print("usage: snapshot-transfer-probe <directory> <megabytes>")
    exit(2)
}
let root = arguments[1]
let cluster = ClusterID(0x5EED)
let fileSystem = PosixFileSystem()
func storageOptions(_ name: String, _ node: NodeID) -> StorageOptions {
    StorageOptions(directory: root + "/" + name, clusterID: cluster, nodeID: node, syncPolicy: .never)
}
do {
    let leader = try NodeStorage(options: storageOptions("leader", 1), fileSystem: fileSystem)
    let follower = try NodeStorage(options: storageOptions("follower", 2), fileSystem: fileSystem)
    try leader.append((1...3).map { Entry(index: LogIndex(UInt64($0)), term: 1) })
    let metadata = SnapshotMetadata(index: 3, term: 1, voters: [1, 2, 3])
    let baseline = statusKiB("VmRSS")

    var generator = SplitMix64(seed: 42)
    var sentChecksum: UInt32 = 0
    let pieceBytes = 64 * 1024
    let dataBytes = try NodeStorage.writeSnapshotFile(
        metadata: metadata, options: leader.options, fileSystem: fileSystem
    ) {
        emit in
        for _ in 0..<(megabytes * 1024 * 1024 / pieceBytes) {
            let piece = piece(pieceBytes, from: &generator)
            sentChecksum = piece.withUnsafeBytes { CRC32C.update(sentChecksum, $0) }
            try emit(piece)
        }
    }
    try leader.saveSnapshot(Snapshot(metadata: metadata, data: []))

    let reader = try require(try leader.newestSnapshotReader())
    let stager = try follower.makeSnapshotStager()
    while let chunk = try reader.nextChunk() {
        try stager.receive(offsetBytes: chunk.offsetBytes, bytes: chunk.bytes)
    }
    let installed = try stager.finish()
    try follower.save(
        hardState: HardState(term: 1, vote: nil, commit: 3), snapshot: Snapshot(metadata: installed, data: []))

    let data = try require(try follower.snapshotDataReader())
    var receivedChecksum: UInt32 = 0
    var receivedBytes: UInt64 = 0
    while let chunk = try data.nextChunk() {
        receivedChecksum = chunk.withUnsafeBytes { CRC32C.update(receivedChecksum, $0) }
        receivedBytes += UInt64(chunk.count)
    }
    let verified = receivedChecksum == sentChecksum && receivedBytes == dataBytes && installed == metadata
    print(
        "snapshot_bytes=\(reader.totalBytes) chunk_bytes=\(leader.options.snapshotChunkSizeBytes)"
            + " baseline_rss_kib=\(baseline) peak_rss_kib=\(statusKiB("VmHWM")) verified=\(verified)")
} catch {
    print("error: \(error)")
    exit(1)
}

func require<T>(_ value: T?) throws -> T {
    guard let value else { throw ProbeError() }
    return value
}
struct ProbeError: Error {}
