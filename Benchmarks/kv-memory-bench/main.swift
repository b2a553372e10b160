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

let keyCount = CommandLine.arguments.dropFirst().compactMap { Int($0) }.first ?? 200_000

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

/// The state of `keyCount` keys with 256-byte values restored from its snapshot, streamed in 1 MiB chunks as a node
/// restores on restart or from its leader: heap and resident memory of the restored store, against the store
/// that was built by applying writes.
func restoreFootprint() {
    var store = KVStore()
    let value = [UInt8](repeating: 0x62, count: 256)
    for i in 0..<keyCount {
        let command = KVCommand(
            operation: .put, key: key(i), value: value, origin: NodeID(1), sequence: UInt64(i + 1),
            timestampMilliseconds: 0)
        _ = store.apply(Entry(index: LogIndex(UInt64(i + 1)), term: Term(1), data: command.encoded()))
    }
    var pieces: [[UInt8]] = []
    store.writeSnapshot(pieceBytes: 1 << 20) { (piece: [UInt8]) throws(Never) in pieces.append(piece) }
    let total = pieces.reduce(0) { $0 + UInt64($1.count) }
    let built = malloc_counter_bytes_in_use()
    var restored = KVStore()
    let before = malloc_counter_bytes_in_use()
    var next = 0
    try! restored.restore(totalBytes: total) {
        defer { next += 1 }
        return next < pieces.count ? pieces[next] : nil
    }
    let after = malloc_counter_bytes_in_use()
    let rss = residentKiB()
    _ = malloc_counter_trim()
    let trimmed = residentKiB()
    precondition(restored.hasSameState(as: store))
    print(
        "restore of \(keyCount) keys of 256 B: the restored store holds \(Int(Double(after - before) / Double(keyCount))) B/key"
            + " of heap (the applied one \(Int(Double(built) / Double(keyCount))) B/key with everything else);"
            + " RSS \(rss / 1024) MB, \(trimmed / 1024) MB after malloc_trim")
}

/// Resident memory in KiB, from /proc/self/statm (its second field, in pages).
func residentKiB() -> Int {
    guard let file = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 128)
    guard fgets(&line, Int32(line.count), file) != nil else { return 0 }
    let fields = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).split(
        separator: " ")
    guard fields.count >= 2, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE))) / 1024
}

if CommandLine.arguments.contains("--restore") { restoreFootprint() }

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
