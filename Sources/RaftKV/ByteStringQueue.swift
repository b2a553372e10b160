/// A first-in first-out queue of byte strings (the idempotency keys of ``KVStore``'s records, oldest first), each
/// kept as a varint length and its bytes in chunks of 64 KiB: a 24-byte key takes 25 bytes, where a queue of
/// `String`s took a heap object per key. The first append after a copy of the store copies one chunk (and the array
/// of chunk references), not the whole queue.
///
/// Invariant: `chunks` holds no chunk that is read to its end; `head` is the offset of the first string in
/// `chunks[0]` when `chunks` is not empty; `count` strings are queued.
struct ByteStringQueue: Sendable, Sequence {
    private static var chunkBytes: Int { 1 << 16 }
    private var chunks: [[UInt8]] = []
    private var head = 0
    private(set) var count = 0

    var first: [UInt8]? {
        guard let chunk = chunks.first else { return nil }
        var position = head
        let length = Varint.read(chunk, &position)
        return Array(chunk[position..<position + length])
    }

    mutating func append(_ bytes: [UInt8]) {
        let size = Varint.size(bytes.count) + bytes.count
        // No binding of the last chunk here: a second reference would make the append copy it.
        if chunks.isEmpty || chunks[chunks.count - 1].count + size > Swift.max(Self.chunkBytes, size) {
            var chunk: [UInt8] = []
            chunk.reserveCapacity(Swift.max(Self.chunkBytes, size))
            chunks.append(chunk)
        }
        Varint.append(bytes.count, to: &chunks[chunks.count - 1])
        chunks[chunks.count - 1].append(contentsOf: bytes)
        count += 1
    }

    mutating func removeFirst() {
        precondition(!chunks.isEmpty, "removeFirst from an empty queue")
        var position = head
        let length = Varint.read(chunks[0], &position)
        head = position + length
        count -= 1
        if head == chunks[0].count {
            chunks.removeFirst()
            head = 0
        }
    }

    func makeIterator() -> some IteratorProtocol<[UInt8]> {
        var chunkIndex = 0
        var position = head
        let chunks = chunks
        return AnyIterator {
            guard chunkIndex < chunks.count else { return nil }
            let chunk = chunks[chunkIndex]
            let length = Varint.read(chunk, &position)
            defer {
                position += length
                if position == chunk.count {
                    chunkIndex += 1
                    position = 0
                }
            }
            return Array(chunk[position..<position + length])
        }
    }
}
