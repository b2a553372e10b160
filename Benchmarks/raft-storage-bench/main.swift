// Durable-append and recovery benchmark for RaftStorage. Not a test: it reports numbers, it asserts nothing.
//
// Usage: raft-storage-bench [--dir <parent directory, default /tmp>] [--seconds <per run, default 2>]
//                           [--recovery-entries <default 1000000>] [--preallocation-step <bytes, default 1 MiB>]
// Run it on the disk you care about, from a release build, on a quiet machine.
import Glibc
import RaftCore
import RaftStorage

struct BenchmarkOptions {
    var parentDirectory = "/tmp"
    var secondsPerRun = 2.0
    var recoveryEntryCount = 1_000_000
    /// `StorageOptions.preallocationStepBytes` of the durable appends; 0 appends to the file as it grows.
    var preallocationStepBytes = StorageOptions.defaultPreallocationStepBytes
    let payloadBytes = 100

    init(arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--dir": parentDirectory = iterator.next() ?? parentDirectory
            case "--seconds": secondsPerRun = iterator.next().flatMap(Double.init) ?? secondsPerRun
            case "--recovery-entries": recoveryEntryCount = iterator.next().flatMap(Int.init) ?? recoveryEntryCount
            case "--preallocation-step":
                preallocationStepBytes = iterator.next().flatMap(Int.init) ?? preallocationStepBytes
            default:
                print(
                    "usage: raft-storage-bench [--dir PARENT] [--seconds PER_RUN] [--recovery-entries N]"
                        + " [--preallocation-step BYTES]\n"
                        + "Appends use fsync policy `always`; the recovery log is written with `never` (UNSAFE, only to"
                        + " build it quickly) and then reopened.")
                exit(argument == "--help" ? 0 : 2)
            }
        }
    }
}

let options = BenchmarkOptions(arguments: CommandLine.arguments)
let cluster = ClusterID(0xBE7C)

/// The options of the durable appends measured (fsync policy `always`).
func durableOptions(_ directory: String) -> StorageOptions {
    StorageOptions(
        directory: directory, clusterID: cluster, nodeID: 1, preallocationStepBytes: options.preallocationStepBytes)
}

func makeDirectory(_ label: String) -> String {
    var template = Array("\(options.parentDirectory)/raft-storage-bench-\(label)-XXXXXX".utf8CString)
    guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
        print("cannot create a directory under \(options.parentDirectory): \(String(cString: strerror(errno)))")
        exit(1)
    }
    return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

func removeDirectory(_ path: String) {
    let fileSystem = PosixFileSystem()
    for name in (try? fileSystem.contentsOfDirectory(at: path)) ?? [] { unlink(path + "/" + name) }
    rmdir(path)
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func payload(_ seed: Int) -> [UInt8] {
    (0..<options.payloadBytes).map { UInt8(truncatingIfNeeded: seed &+ $0) }
}

/// One 100-byte entry and one fdatasync per append: the rate the disk allows without group commit.
final class RawSyncWriter {
    let directory = makeDirectory("raw")
    let storage: NodeStorage
    var elapsedSeconds = 0.0

    init() throws {
        storage = try NodeStorage(options: durableOptions(directory))
    }

    func run(seconds duration: Double) throws {
        let clock = ContinuousClock()
        let start = clock.now
        while seconds(clock.now - start) < duration {
            let index = storage.lastIndex.next
            try storage.append([Entry(index: index, term: 1, data: payload(Int(index.rawValue)))])
        }
        elapsedSeconds += seconds(clock.now - start)
    }

    var syncsPerSecond: Double { Double(storage.walSyncCount) / elapsedSeconds }

    func close() {
        storage.close()
        removeDirectory(directory)
    }
}

struct GroupCommitResult {
    var writers: Int
    var entriesPerSecond: Double
    var syncsPerSecond: Double
    /// The raw single-writer fsync rate measured in slices interleaved with this run's slices, so that both see
    /// the same disk (a shared disk's sync latency drifts by an order of magnitude within seconds).
    var rawSyncsPerSecond: Double
}

/// Alternates slices of raw single-writer appends and of `writers` concurrent group-commit appends.
func measureGroupCommit(writers: Int, slices: Int = 4) async throws -> GroupCommitResult {
    let directory = makeDirectory("group\(writers)")
    defer { removeDirectory(directory) }
    let raw = try RawSyncWriter()
    defer { raw.close() }
    let log = GroupCommitLog(
        storage: try NodeStorage(options: durableOptions(directory)))
    let clock = ContinuousClock()
    let sliceSeconds = options.secondsPerRun / Double(slices)
    var groupSeconds = 0.0
    let data = payload(7)
    for _ in 0..<slices {
        try raw.run(seconds: sliceSeconds)
        let start = clock.now
        let deadline = start.advanced(by: .milliseconds(Int(sliceSeconds * 1000)))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<writers {
                group.addTask {
                    while clock.now < deadline { _ = try await log.append(term: 1, data: data) }
                }
            }
            try await group.waitForAll()
        }
        groupSeconds += seconds(clock.now - start)
    }
    let statistics = log.statistics
    log.close()
    return GroupCommitResult(
        writers: writers, entriesPerSecond: Double(statistics.entryCount) / groupSeconds,
        syncsPerSecond: Double(statistics.flushCount) / groupSeconds, rawSyncsPerSecond: raw.syncsPerSecond)
}

/// Builds a log of `count` entries, then times opening it (read, verify every checksum, rebuild the index).
func measureRecovery(count: Int) throws -> (seconds: [Double], segmentCount: Int, logBytes: Int) {
    let directory = makeDirectory("recovery")
    defer { removeDirectory(directory) }
    let unsafeOptions = StorageOptions(directory: directory, clusterID: cluster, nodeID: 1, syncPolicy: .never)
    do {
        let storage = try NodeStorage(options: unsafeOptions)
        var next = 1
        while next <= count {
            let batchCount = min(1000, count - next + 1)
            try storage.append(
                (next..<(next + batchCount)).map { Entry(index: LogIndex(UInt64($0)), term: 1, data: payload($0)) })
            next += batchCount
        }
        storage.close()
    }
    var timings: [Double] = []
    var segmentCount = 0
    for _ in 0..<3 {
        let clock = ContinuousClock()
        let start = clock.now
        let storage = try NodeStorage(options: StorageOptions(directory: directory, clusterID: cluster, nodeID: 1))
        timings.append(seconds(clock.now - start))
        precondition(storage.recovery.state.entries.count == count, "recovered \(storage.lastIndex) of \(count)")
        segmentCount = storage.recovery.segmentCount
        storage.close()
    }
    let logBytes = ((try? PosixFileSystem().contentsOfDirectory(at: directory)) ?? []).reduce(0) { total, name in
        var status = stat()
        return total + (stat(directory + "/" + name, &status) == 0 ? Int(status.st_size) : 0)
    }
    return (timings, segmentCount, logBytes)
}

func format(_ value: Double) -> String {
    let rounded = (value * 10).rounded() / 10
    return value >= 100 ? String(Int(value.rounded())) : String(rounded)
}

do {
    print(
        "raft-storage-bench: \(options.payloadBytes)-byte entries, fsync policy always, \(options.secondsPerRun) s per run,"
            + " preallocation step \(options.preallocationStepBytes) bytes, directory \(options.parentDirectory)")
    var results: [GroupCommitResult] = []
    for writers in [1, 4, 16, 64] { results.append(try await measureGroupCommit(writers: writers)) }
    print("")
    print("| writers | entries/s | fsyncs/s | entries per fsync | raw fsync rate (interleaved) | entries/s ÷ raw |")
    print("|---:|---:|---:|---:|---:|---:|")
    for result in results {
        let perSync = result.entriesPerSecond / max(result.syncsPerSecond, 1)
        print(
            "| \(result.writers) | \(format(result.entriesPerSecond)) | \(format(result.syncsPerSecond))"
                + " | \(format(perSync)) | \(format(result.rawSyncsPerSecond))"
                + " | \(format(result.entriesPerSecond / result.rawSyncsPerSecond))× |")
    }
    let last = results.last!
    print("")
    print("64 writers vs raw fsync rate: \(format(last.entriesPerSecond / last.rawSyncsPerSecond))× (target ≥ 20×)")
    let recovery = try measureRecovery(count: options.recoveryEntryCount)
    let best = recovery.seconds.min()!
    let median = recovery.seconds.sorted()[1]
    print("")
    print("| recovery | entries | log bytes | segments | best s | median s | entries/s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(
        "| open + verify + index | \(options.recoveryEntryCount) | \(recovery.logBytes) | \(recovery.segmentCount)"
            + " | \(String(format3(best))) | \(String(format3(median))) | \(format(Double(options.recoveryEntryCount) / best)) |"
    )
    print("")
    if options.recoveryEntryCount == 1_000_000 {
        print("recovery target: under 1 s for 1,000,000 entries: \(best < 1 ? "met" : "NOT met")")
    }
} catch {
    print("benchmark failed: \(error)")
    exit(1)
}

func format3(_ value: Double) -> String {
    let milli = Int((value * 1000).rounded())
    let fraction = String(milli % 1000)
    return "\(milli / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
}
