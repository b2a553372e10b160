/// Why bytes from a peer, a client or a log entry could not be decoded. Decoders throw it instead of trapping:
/// bad input closes one connection or fails one request, never the node.
public enum WireError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The input ended before the value did.
    case truncated(needed: Int, available: Int)
    /// A length field exceeds its limit.
    case tooLarge(what: String, size: Int, limit: Int)
    /// A field holds a value the format does not allow.
    case invalid(String)

    public var description: String {
        switch self {
        case .truncated(let needed, let available): "truncated: needed \(needed) more bytes, \(available) available"
        case .tooLarge(let what, let size, let limit): "\(what) of \(size) bytes exceeds the limit of \(limit)"
        case .invalid(let reason): "invalid: \(reason)"
        }
    }
}

/// Appends big-endian integers and length-prefixed byte strings to a buffer.
public struct ByteWriter: Sendable {
    /// Stored under another name so that the generic writes below can be inlined (and so specialised) in the
    /// modules that call them, while `bytes` stays read-only to them.
    @usableFromInline var storage: [UInt8]

    public var bytes: [UInt8] { storage }

    public init(capacity: Int = 64) {
        storage = []
        storage.reserveCapacity(capacity)
    }

    /// Inlinable: called for every integer of every message and entry, and unspecialised across modules it went
    /// through the generic integer witnesses (a few per cent of a busy node's CPU).
    @inlinable
    public mutating func write<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { storage.append(contentsOf: $0) }
    }

    public mutating func write(_ flag: Bool) {
        storage.append(flag ? 1 : 0)
    }

    /// A 32-bit length, then the bytes.
    public mutating func writeBlob(_ blob: [UInt8]) {
        write(UInt32(blob.count))
        storage.append(contentsOf: blob)
    }

    /// A 32-bit length, then the bytes (from memory the caller holds during the call).
    public mutating func writeBlob(_ blob: UnsafeRawBufferPointer) {
        write(UInt32(blob.count))
        storage.append(contentsOf: blob)
    }

    public mutating func writeRaw(_ raw: [UInt8]) {
        storage.append(contentsOf: raw)
    }

    /// Overwrites a 32-bit big-endian value at `offset` (for length prefixes written after their payload).
    public mutating func patch(_ value: UInt32, at offset: Int) {
        withUnsafeBytes(of: value.bigEndian) { raw in
            for (i, byte) in raw.enumerated() { storage[offset + i] = byte }
        }
    }
}

/// Reads what ``ByteWriter`` wrote, checking every length against the bytes that remain.
///
/// Invariant: `offset <= bytes.count`. A failed read throws and leaves the reader where it was.
public struct ByteReader: Sendable {
    public let bytes: ArraySlice<UInt8>
    /// Stored under another name so that ``read(_:)`` can be inlined into its callers; see ``ByteWriter``.
    @usableFromInline var position: Int

    public var offset: Int { position }

    public init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.position = bytes.startIndex
    }

    public init(_ bytes: [UInt8]) {
        self.init(bytes[...])
    }

    public var remaining: Int { bytes.endIndex - offset }
    public var isAtEnd: Bool { offset == bytes.endIndex }

    @inlinable
    public mutating func read<T: FixedWidthInteger>(_: T.Type = T.self) throws(WireError) -> T {
        let size = MemoryLayout<T>.size
        let available = bytes.endIndex - position
        guard available >= size else { throw .truncated(needed: size, available: available) }
        var value: T = 0
        for i in 0..<size {
            value = (value << 8) | T(bytes[position + i])
        }
        position += size
        return value
    }

    public mutating func readBool() throws(WireError) -> Bool {
        switch try read(UInt8.self) {
        case 0: return false
        case 1: return true
        case let other: throw .invalid("boolean byte \(other)")
        }
    }

    /// A 32-bit length then that many bytes, refusing lengths over `limit` before allocating.
    public mutating func readBlob(limit: Int, what: String = "field") throws(WireError) -> [UInt8] {
        let length = Int(try read(UInt32.self))
        guard length <= limit else {
            position -= 4
            throw .tooLarge(what: what, size: length, limit: limit)
        }
        guard remaining >= length else {
            position -= 4
            throw .truncated(needed: length, available: remaining)
        }
        defer { position += length }
        return Array(bytes[offset..<offset + length])
    }

    public mutating func readRaw(count: Int) throws(WireError) -> [UInt8] {
        guard remaining >= count else { throw .truncated(needed: count, available: remaining) }
        defer { position += count }
        return Array(bytes[offset..<offset + count])
    }

    /// Throws unless every byte was consumed: trailing garbage means a malformed message.
    public func expectEnd() throws(WireError) {
        guard isAtEnd else { throw .invalid("\(remaining) unexpected trailing bytes") }
    }
}
