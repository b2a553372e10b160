import Testing

@testable import RaftKV

@Suite("Stored keys")
struct StoredKeyTests {
    @Test func everyLengthRoundTripsAndEqualBytesAreEqualKeys() {
        var seen: [StoredKey: [UInt8]] = [:]
        for length in 0...40 {
            for fill: UInt8 in [0, 0x61, 0xFF] {
                let bytes = (0..<length).map { UInt8(truncatingIfNeeded: Int(fill) &+ $0 &* 37) }
                let key = StoredKey(bytes)
                #expect(key.bytes == bytes)
                #expect(key == StoredKey(Array(bytes)))
                #expect(key.hashValue == StoredKey(Array(bytes)).hashValue)
                if length <= StoredKey.inlineCapacity {
                    guard case .inline = key else { Issue.record("\(length) bytes not inline"); continue }
                } else {
                    guard case .heap = key else { Issue.record("\(length) bytes not on the heap"); continue }
                }
                #expect(seen.updateValue(bytes, forKey: key) == nil || bytes.isEmpty, "\(bytes) collides")
            }
        }
        // Trailing zero bytes are part of the key: "a" and "a\0" are different keys.
        #expect(StoredKey([0x61]) != StoredKey([0x61, 0]))
        #expect(StoredKey([]) != StoredKey([0]))
    }
}
