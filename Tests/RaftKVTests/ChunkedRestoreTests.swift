import RaftCore
import RaftKV
import RaftWire
import Testing

/// A snapshot restored from a stream, as a node restores from its file or its leader's: whatever the chunk
/// boundaries, the same state as the store it was taken from.
@Suite("restore from chunks")
struct ChunkedRestoreTests {
    /// A store with empty, small and multi-chunk values, idempotency records, and a few keys deleted.
    private func sampleStore() -> KVStore {
        var store = KVStore()
        var index: UInt64 = 0
        func apply(_ command: KVCommand) {
            index += 1
            _ = store.apply(Entry(index: LogIndex(index), term: Term(2), data: command.encoded()))
        }
        for n in 0..<600 {
            let size = n % 50 == 0 ? 5_000 : n % 7
            apply(
                KVCommand(
                    operation: .put, key: Array("key-\(n)".utf8),
                    value: [UInt8](repeating: UInt8(truncatingIfNeeded: n), count: size), origin: NodeID(1),
                    sequence: UInt64(n + 1), idempotencyKey: n % 3 == 0 ? "c1-\(n)" : nil, timestampMilliseconds: 0))
        }
        for n in stride(from: 0, to: 600, by: 11) {
            apply(
                KVCommand(
                    operation: .delete, key: Array("key-\(n)".utf8), value: [], origin: NodeID(1),
                    sequence: UInt64(1_000 + n), idempotencyKey: nil, timestampMilliseconds: 0))
        }
        return store
    }

    @Test("chunks of 1, 7, 64, 4096 bytes and 1 MiB all restore the same state", arguments: [1, 7, 64, 4096, 1 << 20])
    func anyChunkSize(chunkBytes: Int) throws {
        let store = sampleStore()
        let bytes = store.snapshotData()
        var offset = 0
        var restored = KVStore()
        try restored.restore(totalBytes: UInt64(bytes.count)) {
            guard offset < bytes.count else { return nil }
            defer { offset += chunkBytes }
            return Array(bytes[offset..<min(bytes.count, offset + chunkBytes)])
        }
        #expect(restored.hasSameState(as: store))
        #expect(restored.count == store.count && restored.value(for: Array("key-1".utf8)) == [1])
        #expect(restored.value(for: Array("key-0".utf8)) == nil, "a deleted key came back")
    }

    @Test("a stream cut short throws and leaves the store as it was")
    func truncatedStream() {
        let store = sampleStore()
        let bytes = store.snapshotData()
        var target = KVStore()
        var served = false
        #expect(throws: (any Error).self) {
            try target.restore(totalBytes: UInt64(bytes.count)) {
                if served { return nil }
                served = true
                return Array(bytes[0..<(bytes.count / 2)])
            }
        }
        #expect(target.count == 0 && target.appliedIndex == .zero)
    }
}
