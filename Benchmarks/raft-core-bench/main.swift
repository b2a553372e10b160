// Drives a 3-node cluster through the consensus core alone (no I/O, no harness) and reports committed
// entries per second and heap allocations per committed entry. It is a benchmark, never a test: run it in
// release mode on an otherwise idle machine and compare figures from one run.
//
//   swift run -c release raft-core-bench [--entries N] [--batch B] [--payload BYTES] [--rounds R]
import CMallocCounter
import RaftCore

struct Options {
    var entries = 2_000_000
    var batch = 1_000
    var payloadBytes = 100
    var rounds = 3
    var compactEvery = 100_000

    init(arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            guard let text = iterator.next(), let value = Int(text), value > 0 else {
                fatalError("usage: raft-core-bench [--entries N] [--batch B] [--payload BYTES] [--rounds R]")
            }
            switch flag {
            case "--entries": entries = value
            case "--batch": batch = value
            case "--payload": payloadBytes = value
            case "--rounds": rounds = value
            case "--compact-every": compactEvery = value
            default: fatalError("unknown flag \(flag)")
            }
        }
    }
}

/// Three cores wired back to back: every message is delivered at once, persistence is free.
struct BenchCluster {
    var nodes: [RaftNode]
    var applied = [Int](repeating: 0, count: 3)
    var inbox: [[Message]] = [[], [], []]

    init() {
        let ids: [NodeID] = [1, 2, 3]
        nodes = ids.map { id in
            var config = RaftConfig(id: id, voters: ids, randomSeed: id.rawValue)
            config.maxUncommittedEntries = 1_000_000
            config.maxInflightMessages = 64
            return RaftNode(config: config)
        }
    }

    /// Runs ready/advance on every node and delivers messages until nothing moves.
    mutating func pump() {
        var moved = true
        while moved {
            moved = false
            for i in 0..<3 {
                while nodes[i].hasReady {
                    moved = true
                    let ready = nodes[i].ready()
                    let receipt = ready.persist.markDurable()
                    for message in ready.allMessages(after: receipt) {
                        inbox[Int(message.to.rawValue) - 1].append(message)
                    }
                    applied[i] += ready.committedEntries.count
                    nodes[i].advance(ready)
                }
            }
            for i in 0..<3 where !inbox[i].isEmpty {
                moved = true
                let messages = inbox[i]
                inbox[i].removeAll(keepingCapacity: true)
                for message in messages { nodes[i].step(message) }
            }
        }
    }

    mutating func compactAll() {
        for i in 0..<3 {
            let status = nodes[i].status
            let index = status.appliedIndex
            guard index > status.snapshotIndex, let entry = nodes[i].entry(at: index) else { continue }
            nodes[i].compact(
                Snapshot(metadata: SnapshotMetadata(index: index, term: entry.term, voters: [1, 2, 3]), data: []))
        }
    }
}

func run(_ options: Options) -> (entriesPerSecond: Double, allocationsPerEntry: Double, seconds: Double) {
    var cluster = BenchCluster()
    cluster.nodes[0].campaign()
    cluster.pump()
    precondition(cluster.nodes[0].currentRole == .leader, "n1 did not win the bench election")
    let payload = [UInt8](repeating: 0x61, count: options.payloadBytes)
    let batch = [[UInt8]](repeating: payload, count: options.batch)
    let startApplied = cluster.applied[0]
    let clock = ContinuousClock()
    let allocationsBefore = malloc_counter_allocations()
    let start = clock.now
    var sinceCompaction = 0
    while cluster.applied[0] - startApplied < options.entries {
        do {
            try cluster.nodes[0].propose(batch: batch)
        } catch {
            fatalError("proposal refused: \(error)")
        }
        cluster.pump()
        sinceCompaction += options.batch
        if sinceCompaction >= options.compactEvery {
            cluster.compactAll()
            sinceCompaction = 0
        }
    }
    let elapsed = clock.now - start
    let allocations = malloc_counter_allocations() - allocationsBefore
    let committed = cluster.applied[0] - startApplied
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    precondition(cluster.applied[1] >= committed && cluster.applied[2] >= committed, "followers did not apply")
    return (Double(committed) / seconds, Double(allocations) / Double(committed), seconds)
}

/// Three decimals without Foundation or libm.
func fixed(_ value: Double) -> String {
    let thousandths = Int(value * 1000 + 0.5)
    let fraction = String(thousandths % 1000)
    return "\(thousandths / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
}

let options = Options(arguments: CommandLine.arguments)
print(
    "raft-core-bench: 3 nodes, in-memory, \(options.entries) entries of \(options.payloadBytes) B per round,"
        + " batches of \(options.batch)")
print("| round | committed entries/s | allocations/entry | seconds |")
print("|---|---|---|---|")
var rates: [Double] = []
for round in 1...options.rounds {
    let result = run(options)
    rates.append(result.entriesPerSecond)
    print(
        "| \(round) | \(Int(result.entriesPerSecond)) | \(fixed(result.allocationsPerEntry)) | \(fixed(result.seconds)) |"
    )
}
let median = rates.sorted()[rates.count / 2]
print("RESULT committed_entries_per_second_median=\(Int(median))")
