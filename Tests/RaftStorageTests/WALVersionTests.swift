import RaftCore
import RaftStorage
import Testing

/// Version 1 of the WAL (records at the top level, before batches) as a byte writer, to check that logs written
/// by earlier releases still open.
struct Version1Writer {
    var bytes: [UInt8] = []

    mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }

    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        Array(bytes).withUnsafeBytes { CRC32C.update(0, $0) }
    }

    init(sequence: UInt64) {
        bytes = Array("RAFT-WAL".utf8)
        u32(1)
        u32(0)
        u64(testCluster.rawValue)
        u64(testNode.rawValue)
        u64(sequence)
        u32(Self.checksum(bytes[0..<40]))
        u32(0)
    }

    mutating func record(type: UInt8, _ payload: [UInt8]) {
        let start = bytes.count
        u32(0)
        u32(UInt32(payload.count))
        bytes += [type, 0, 0, 0]
        bytes += payload
        let crc = Self.checksum(bytes[(start + 4)...])
        withUnsafeBytes(of: crc.littleEndian) { bytes.replaceSubrange(start..<(start + 4), with: $0) }
    }

    mutating func hardState(term: UInt64, vote: UInt64, commit: UInt64) {
        var payload = Version1Writer(empty: ())
        payload.u64(term)
        payload.u64(vote)
        payload.u64(commit)
        record(type: 2, payload.bytes)
    }

    mutating func entry(_ entry: Entry) {
        var payload = Version1Writer(empty: ())
        payload.u64(entry.index.rawValue)
        payload.u64(entry.term.rawValue)
        payload.bytes.append(entry.kind.rawValue)
        payload.bytes += entry.data
        record(type: 1, payload.bytes)
    }

    private init(empty: Void) {}
}

@Suite("WAL versions")
struct WALVersionTests {
    @Test func aVersion1LogStillOpensAndIsNeverAppendedTo() throws {
        let fileSystem = InMemoryFileSystem()
        try fileSystem.createDirectory(at: testDirectory)
        var v1 = Version1Writer(sequence: 1)
        v1.hardState(term: 3, vote: 2, commit: 2)
        for entry in makeEntries(1...3, term: 3) { v1.entry(entry) }
        let firstSegment = testDirectory + "/wal-0000000000000001.log"
        fileSystem.setContents(of: firstSegment, to: v1.bytes)

        let storage = try NodeStorage(options: options(), fileSystem: fileSystem)
        #expect(storage.recovery.state.entries == makeEntries(1...3, term: 3))
        #expect(storage.recovery.state.hardState == HardState(term: 3, vote: 2, commit: 2))
        try storage.append(makeEntries(4...4, term: 3))
        storage.close()
        #expect(fileSystem.contents(of: firstSegment) == v1.bytes, "a version 1 segment is never written to")
        #expect(try segmentPaths(fileSystem).count == 2)

        fileSystem.simulateCrash()
        let reopened = try NodeStorage(options: options(), fileSystem: fileSystem)
        #expect(reopened.recovery.state.entries == makeEntries(1...4, term: 3))
        #expect(reopened.recovery.state.hardState == HardState(term: 3, vote: 2, commit: 2))
    }
}
