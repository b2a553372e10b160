// Appends entries through the group-commit front end with fsync always, and prints `<index> <writer> <sequence>`
// on stdout once the append of that entry returned (is durable). The SIGKILL durability test runs it, kills it
// at a random moment, and checks that every printed entry survived, intact.
//
// Usage: wal-crash-writer <directory> [writers=4] [payload-bytes=100] [max-entries]
//
// With max-entries, the writers stop appending once that many entries were reported durable, print `done`, and
// wait to be killed: the test's work is bounded by a count, however late a loaded machine lets it send the kill.
import Glibc
import RaftCore
import RaftStorage

/// The payload of writer `writer`'s `sequence`-th entry: recognisable and checkable without the index.
func crashWriterPayload(writer: Int, sequence: Int, payloadBytes: Int) -> [UInt8] {
    var data = Array("w\(writer)-s\(sequence)-".utf8)
    while data.count < payloadBytes { data.append(UInt8(truncatingIfNeeded: writer &* 31 &+ sequence &+ data.count)) }
    return data
}

func printLine(_ line: String) {
    // One write(2) per line: it reaches the pipe or file whole even if the process is killed right after.
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    printLine("usage: wal-crash-writer <directory> [writers=4] [payload-bytes=100]")
    exit(2)
}
let directory = arguments[1]
let writerCount = arguments.count > 2 ? Int(arguments[2]) ?? 4 : 4
let payloadBytes = arguments.count > 3 ? Int(arguments[3]) ?? 100 : 100
let maxEntries = arguments.count > 4 ? Int(arguments[4]) : nil

/// Hands out the right to append one more entry until `maxEntries` have been handed out.
actor Budget {
    private var remaining: Int?
    init(_ limit: Int?) { remaining = limit }
    func take() -> Bool {
        guard let left = remaining else { return true }
        if left == 0 { return false }
        remaining = left - 1
        return true
    }
}
let budget = Budget(maxEntries)

let storage: NodeStorage
do {
    storage = try NodeStorage(
        options: StorageOptions(
            directory: directory, clusterID: ClusterID(0xC4A5), nodeID: NodeID(1), segmentSizeBytes: 256 * 1024,
            syncPolicy: .always))
} catch {
    printLine("error \(error)")
    exit(1)
}
printLine("ready \(storage.lastIndex) repairs=\(storage.recovery.repairs.count)")
let log = GroupCommitLog(storage: storage)
await withTaskGroup(of: Void.self) { group in
    for writer in 0..<writerCount {
        group.addTask {
            var sequence = 0
            while await budget.take() {
                let data = crashWriterPayload(writer: writer, sequence: sequence, payloadBytes: payloadBytes)
                do {
                    let index = try await log.append(term: 1, data: data)
                    printLine("\(index) \(writer) \(sequence)")
                } catch {
                    printLine("error \(error)")
                    exit(1)
                }
                sequence += 1
            }
        }
    }
}
printLine("done")
while true { pause() }
