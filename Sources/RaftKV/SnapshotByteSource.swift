import RaftWire

/// Where ``KVStore`` decodes a snapshot from: a whole array (``ByteReader``) or a file read a chunk at a time
/// (``ChunkedByteReader``). One decoder serves both, so a snapshot restored from a stream is the same as one
/// restored from bytes.
protocol SnapshotByteSource {
    /// Bytes not read yet (for sanity checks on counts before anything is allocated for them).
    var remainingBytes: UInt64 { get }
    mutating func read<T: FixedWidthInteger>(_: T.Type) throws -> T
    /// A 32-bit length then that many bytes, refusing lengths over `limit` or past the end before allocating.
    mutating func readBlob(limit: Int, what: String) throws -> [UInt8]
    /// Throws unless every byte was consumed (and, for a stream, verified).
    mutating func expectEnd() throws
    /// The next two blobs (a key and its value) handed to `body`: straight from the source's memory when both are
    /// in it, copied otherwise. A restore reads a million of these; copying each into two arrays first was most of
    /// its allocations.
    mutating func readBlobPair(
        limit: Int, what: (String, String), _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void
    ) throws
}

extension SnapshotByteSource {
    mutating func readBlobPair(
        limit: Int, what: (String, String), _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void
    ) throws {
        try readBlobPairCopying(limit: limit, what: what, body)
    }

    /// Two ``readBlob(limit:what:)`` calls: every source's way, and the chunked reader's when a pair is not in one
    /// chunk.
    mutating func readBlobPairCopying(
        limit: Int, what: (String, String), _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void
    ) throws {
        let first = try readBlob(limit: limit, what: what.0)
        let second = try readBlob(limit: limit, what: what.1)
        first.withUnsafeBytes { first in second.withUnsafeBytes { second in body(first, second) } }
    }
}

extension ByteReader: SnapshotByteSource {
    var remainingBytes: UInt64 { UInt64(remaining) }
}

/// Big-endian reads across the chunks of a stream of known length; holds one chunk (plus at most one value that
/// straddles two chunks).
///
/// Invariant: `position <= chunk.count`; `consumed + (chunk.count - position)` bytes have been pulled from `next`.
struct ChunkedByteReader: SnapshotByteSource {
    private let totalBytes: UInt64
    private let next: () throws -> [UInt8]?
    private var chunk: [UInt8] = []
    private var position = 0
    private var consumed: UInt64 = 0

    /// `next` returns the stream's chunks in order and nil at the end (it may throw, for instance on a checksum
    /// mismatch found at the end).
    init(totalBytes: UInt64, next: @escaping () throws -> [UInt8]?) {
        self.totalBytes = totalBytes
        self.next = next
    }

    var remainingBytes: UInt64 { totalBytes - consumed }

    /// Copies the next `count` bytes out (`count <= remaining`).
    private mutating func take(_ count: Int) throws -> [UInt8] {
        guard UInt64(count) <= remainingBytes else {
            throw WireError.truncated(needed: count, available: Int(clamping: remainingBytes))
        }
        if chunk.count - position >= count {
            defer { position += count }
            consumed += UInt64(count)
            return Array(chunk[position..<position + count])
        }
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            if position == chunk.count {
                guard let more = try next(), !more.isEmpty else {
                    throw WireError.truncated(needed: count - out.count, available: 0)
                }
                chunk = more
                position = 0
            }
            let n = min(count - out.count, chunk.count - position)
            out.append(contentsOf: chunk[position..<position + n])
            position += n
        }
        consumed += UInt64(count)
        return out
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let size = MemoryLayout<T>.size
        var value: T = 0
        // Straight from the chunk when it holds all of it: a restore reads two lengths per key, and copying each
        // into an array of its own would allocate millions of times.
        if chunk.count - position >= size && UInt64(size) <= remainingBytes {
            for index in position..<(position + size) { value = (value << 8) | T(chunk[index]) }
            position += size
            consumed += UInt64(size)
            return value
        }
        for byte in try take(size) { value = (value << 8) | T(byte) }
        return value
    }

    mutating func readBlobPair(
        limit: Int, what: (String, String), _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void
    ) throws {
        // Both lengths and both blobs inside the chunk: no copy. Anything else (a pair across two chunks, a length
        // over the limit) goes the way of two readBlob calls, which also throws what they throw.
        let available = chunk.count - position
        if available >= 8, let first = peekLength(at: position), first <= limit, available >= 8 + first,
            let second = peekLength(at: position + 4 + first), second <= limit, available >= 8 + first + second,
            UInt64(8 + first + second) <= remainingBytes
        {
            chunk.withUnsafeBytes { raw in
                body(
                    UnsafeRawBufferPointer(rebasing: raw[(position + 4)..<(position + 4 + first)]),
                    UnsafeRawBufferPointer(rebasing: raw[(position + 8 + first)..<(position + 8 + first + second)]))
            }
            position += 8 + first + second
            consumed += UInt64(8 + first + second)
            return
        }
        try readBlobPairCopying(limit: limit, what: what, body)
    }

    /// The big-endian 32-bit length at `index` of the chunk, if the chunk holds all four bytes.
    private func peekLength(at index: Int) -> Int? {
        guard chunk.count - index >= 4 else { return nil }
        var value = 0
        for offset in index..<(index + 4) { value = value << 8 | Int(chunk[offset]) }
        return value
    }

    mutating func readBlob(limit: Int, what: String) throws -> [UInt8] {
        let length = Int(try read(UInt32.self))
        guard length <= limit else { throw WireError.tooLarge(what: what, size: length, limit: limit) }
        return try take(length)
    }

    mutating func expectEnd() throws {
        guard remainingBytes == 0, position == chunk.count else {
            throw WireError.invalid("\(remainingBytes) unexpected trailing bytes")
        }
        // Drains the stream: its end is where a file's checksum is verified.
        while let more = try next() {
            guard more.isEmpty else { throw WireError.invalid("\(more.count) bytes past the stated length") }
        }
    }
}
