/// A key as ``KVStore`` holds it: up to 23 bytes inline in the map's slot, so that a short key costs no heap
/// allocation of its own (an array of 16 bytes takes 64 bytes of heap: its header and the allocator's rounding);
/// a longer key in an array.
///
/// Invariant: a key of at most ``inlineCapacity`` bytes is always `.inline`, a longer one always `.heap`; the
/// inline words hold the bytes in order (little-endian) and zeros after them, and the top byte of the last word
/// holds the length. So equal byte strings have equal representations, and the derived equality and hashing are
/// those of the bytes.
enum StoredKey: Hashable, Sendable {
    case inline(UInt64, UInt64, UInt64)
    case heap([UInt8])

    static let inlineCapacity = 23

    init(_ bytes: [UInt8]) {
        guard bytes.count <= Self.inlineCapacity else {
            self = .heap(bytes)
            return
        }
        var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &words) { raw in
            for (i, byte) in bytes.enumerated() { raw[i] = byte }
            raw[23] = UInt8(bytes.count)
        }
        self = .inline(words.0.littleEndian, words.1.littleEndian, words.2.littleEndian)
    }

    var bytes: [UInt8] {
        switch self {
        case .heap(let bytes):
            return bytes
        case .inline(let a, let b, let c):
            let words = (UInt64(littleEndian: a), UInt64(littleEndian: b), UInt64(littleEndian: c))
            return withUnsafeBytes(of: words) { raw in Array(raw[0..<Int(raw[23])]) }
        }
    }
}
