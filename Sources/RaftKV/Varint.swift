/// Unsigned LEB128 lengths, as ``CompactMap``'s records and ``ByteStringQueue``'s strings store them: one byte
/// below 128, one more per further 7 bits.
enum Varint {
    static func size(_ value: Int) -> Int {
        var size = 1
        var rest = value >> 7
        while rest > 0 {
            size += 1
            rest >>= 7
        }
        return size
    }

    static func append(_ value: Int, to bytes: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// The value at `position`, which it moves past it. The caller wrote the bytes: they hold a whole varint.
    static func read(_ bytes: some RandomAccessCollection<UInt8>, _ position: inout Int) -> Int {
        var value = 0
        var shift = 0
        while true {
            let byte = bytes[bytes.index(bytes.startIndex, offsetBy: position)]
            position += 1
            value |= Int(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }
}
