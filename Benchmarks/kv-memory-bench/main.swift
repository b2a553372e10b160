// Heap bytes per key of the replicated key-value state, against the raw size of the data it holds.
//
// Usage: swift run -c release kv-memory-bench [keys=200000]
//
// For 16-byte keys with 100- and 1,000-byte values it applies `keys` committed PUTs through `KVStore.apply` (the
// path every replica takes), without and with an idempotency key per write (raftctl sends one; a plain HTTP client
// does not), and prints the heap growth per key (mallinfo2) and its ratio to the raw bytes (key + value).
import CMallocCounter
import Glibc
import RaftCore
import RaftKV

let keyCount = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 200_000 : 200_000

func key(_ i: Int) -> [UInt8] {
    var bytes = Array("k".utf8)
    let digits = Array(String(i).utf8)
    bytes += Array(repeating: UInt8(ascii: "0"), count: 15 - digits.count) + digits
    return bytes
}

func measure(valueBytes: Int, idempotent: Bool) -> (perKey: Double, raw: Int) {
    var store = KVStore()
    let value = [UInt8](repeating: 0x61, count: valueBytes)
    // The entries are built one at a time and dropped after applying, as a replica applies them.
    let before = malloc_counter_bytes_in_use()
    for i in 0..<keyCount {
        let command = KVCommand(
            operation: .put, key: key(i), value: value, origin: NodeID(1), sequence: UInt64(i + 1),
            idempotencyKey: idempotent ? "c1-\(i)-abcdefghijklmnop" : nil, timestampMilliseconds: 0)
        _ = store.apply(Entry(index: LogIndex(UInt64(i + 1)), term: Term(1), data: command.encoded()))
    }
    let after = malloc_counter_bytes_in_use()
    precondition(store.count == keyCount)
    withExtendedLifetime(store) {}
    return (Double(after - before) / Double(keyCount), 16 + valueBytes)
}

print("kv-memory-bench: \(keyCount) keys of 16 bytes")
print("value  idempotency-key  heap/key  raw/key  overhead")
for valueBytes in [100, 1_000] {
    for idempotent in [false, true] {
        let (perKey, raw) = measure(valueBytes: valueBytes, idempotent: idempotent)
        let line =
            "\(valueBytes)".padding(6) + " " + (idempotent ? "yes" : "no").padding(16) + " "
            + "\(Int(perKey.rounded())) B".padding(9) + " " + "\(raw) B".padding(8) + " "
            + "\(Double(Int(perKey / Double(raw) * 100)) / 100)x"
        print(line)
    }
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
