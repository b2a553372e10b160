import ArgumentParser
import Glibc
import RaftCore
import RaftStorage
import RaftText

/// `raftd`: runs one member of a Raft cluster. The executable's `main` only calls this command.
public struct RaftdCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "raftd",
        abstract: "Run one member of a Raft key-value cluster.",
        discussion: """
            raftd replicates a key-value store with Raft. It talks to its peers over TCP, serves clients over HTTP \
            (/v1/kv/{key}, /v1/status) and is operated through newline-delimited JSON on a Unix socket \
            (see raftd(8)). Every option can also be given in a file passed with --config, one "name = value" per \
            line (names as the long options, without dashes); options on the command line win.
            """)

    @Option(name: .long, help: "This node's id (n1, n2, …; must appear in --peers).")
    var id: String

    @Option(name: .long, help: "Every member's peer address: n1=HOST:PORT,n2=HOST:PORT,…")
    var peers: String

    @Option(
        name: .long, help: "Directory for the write-ahead log, snapshots, raftd.log and admin.sock (created mode 0700)."
    )
    var dataDir: String

    @Option(
        name: .long,
        help: "Cluster id (16 hex digits). Default: derived from --peers, so members started with the same list agree.")
    var clusterId: String?

    @Option(
        name: .long,
        help: """
            new: bootstrap with --peers as the voters (a node with data just restarts). existing: join a cluster \
            that already runs: with an empty data directory the node has no membership of its own, never \
            campaigns, and waits to be added (raftctl add-node); --peers then only gives addresses.
            """)
    var initialClusterState: InitialClusterState = .new

    @Option(name: .long, help: "Address to accept peer connections on. Default: this node's entry in --peers.")
    var peerListen: String?

    @Option(name: .long, help: "Address of the HTTP client API.")
    var clientListen: String = "127.0.0.1:2379"

    @Option(name: .long, help: "Path of the admin socket (at most 107 bytes). Default: DATA-DIR/admin.sock.")
    var adminSocket: String?

    @Option(name: .long, help: "Randomized election timeout range, e.g. 150ms-300ms (drawn from [LOW, HIGH)).")
    var electionTimeout: String = "150ms-300ms"

    @Option(name: .long, help: "Leader heartbeat interval, e.g. 50ms.")
    var heartbeat: String = "50ms"

    @Option(
        name: .long,
        help: ArgumentHelp("Length of one consensus tick; timeouts are rounded to whole ticks.", visibility: .hidden))
    var tick: String = "10ms"

    @Option(
        name: .long,
        help:
            "When to fsync the log: always (safe), or never (UNSAFE: acknowledged writes can be lost on a crash; for tests and benchmarks only)."
    )
    var fsync: FsyncOption = .always

    @Option(
        name: .long,
        help:
            "Take a snapshot after this many applied entries (and once the log since the last one is a quarter of its size)."
    )
    var snapshotThreshold: Int = 10_000

    @Option(name: .long, help: "Snapshots to keep on disk.")
    var snapshotRetain: Int = 2

    @Option(
        name: .long,
        help:
            "Applied log entries kept in memory, e.g. 8MiB; older ones are read back from the write-ahead log (for a follower that lags)."
    )
    var entryCache: String = "8MiB"

    @Option(name: .long, help: "Rotate WAL segments at this size, in bytes.")
    var segmentSize: Int = StorageOptions.defaultSegmentSizeBytes

    @Option(name: .long, help: "Largest key, in bytes.")
    var maxKeyBytes: Int = 1024

    @Option(name: .long, help: "Largest value, in bytes.")
    var maxValueBytes: Int = 1 << 20

    @Option(
        name: .long,
        help:
            "Raise the space alarm (writes refused with 507 no_space) when the data directory's file system has less free space than this, e.g. 256MiB (0: never)."
    )
    var minFreeSpace: String = "256MiB"

    @Option(
        name: .long,
        help: "…or less free space than this percentage of its size (0: never); the larger threshold applies.")
    var minFreePercent: Int = 5

    @Option(
        name: .long,
        help: "Raise the space alarm when the WAL and snapshots take more than this, e.g. 2GiB (0: no quota).")
    var quotaBackendBytes: String = "0"

    @Option(
        name: .long,
        help:
            "Log and count a sync of the WAL or a snapshot that takes longer than this, e.g. 1s (etcd's slow fdatasync)."
    )
    var slowSyncWarning: String = "1s"

    @Option(
        name: .long,
        help: "Log a committed entry whose apply takes longer than this, e.g. 100ms (etcd's --warning-apply-duration)."
    )
    var slowApplyWarning: String = "100ms"

    @Option(
        name: .long,
        help: "Seed the randomized election timeouts, for runs that repeat (default: drawn from the system).")
    var randomSeed: UInt64?

    @Flag(
        name: .long,
        help:
            "Let the admin socket arm the unsafe- failpoints, which break linearizability on purpose (to test checkers only)."
    )
    var allowUnsafeFailpoints = false

    @Option(name: .long, help: "Time a client request may wait before it is answered 504, e.g. 5s.")
    var requestTimeout: String = "5s"

    @Option(name: .long, help: "Log level.")
    var logLevel: LogLevelOption = .info

    @Option(name: .long, help: "Read options from this file (name = value per line).")
    var config: String?

    public init() {}

    public func validate() throws {
        _ = try makeConfiguration()
    }

    public func run() throws {
        let configuration = try makeConfiguration()
        let server: RaftdServer
        do {
            server = try RaftdServer.start(configuration)
        } catch let error as StartupError {
            if error.exitStatus != 1 {
                // Storage that cannot be written (a full disk, an I/O error) is a storage failure like one in
                // service: its own status, so that a supervisor retries with backoff instead of giving up.
                let line = "Error: \(error.description)\n"
                _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
                Glibc.exit(error.exitStatus)
            }
            throw ValidationErrorLike(message: error.description)
        }
        server.runUntilSignalled()
    }

    /// Turns the options into a validated configuration, with messages that name the offending option.
    func makeConfiguration() throws -> NodeConfiguration {
        guard let nodeID = NodeID(parsing: id) else {
            throw ValidationError("--id must look like n1 or 1, not \"\(id)\"")
        }
        var peerMap: [NodeID: HostPort] = [:]
        for item in peers.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let peer = NodeID(parsing: parts[0]), let address = HostPort(parsing: parts[1])
            else {
                throw ValidationError("--peers entry \"\(item)\" is not ID=HOST:PORT (for example n1=127.0.0.1:2380)")
            }
            guard peerMap[peer] == nil else { throw ValidationError("--peers names \(peer) twice") }
            peerMap[peer] = address
        }
        guard !peerMap.isEmpty else { throw ValidationError("--peers is empty") }
        guard let client = HostPort(parsing: clientListen) else {
            throw ValidationError("--client-listen must be HOST:PORT, not \"\(clientListen)\"")
        }
        var peerAddress: HostPort?
        if let peerListen {
            guard let parsed = HostPort(parsing: peerListen) else {
                throw ValidationError("--peer-listen must be HOST:PORT, not \"\(peerListen)\"")
            }
            peerAddress = parsed
        }
        let cluster: ClusterID
        if let clusterId {
            guard let value = UInt64(clusterId, radix: 16) else {
                throw ValidationError("--cluster-id must be hexadecimal, not \"\(clusterId)\"")
            }
            cluster = ClusterID(value)
        } else {
            cluster = Self.derivedClusterID(peerMap)
        }
        var config = NodeConfiguration(
            nodeID: nodeID, clusterID: cluster, dataDirectory: dataDir, peers: peerMap, peerListen: peerAddress,
            clientListen: client, adminSocketPath: adminSocket)
        config.initialClusterState = initialClusterState
        guard let election = DurationText.range(electionTimeout) else {
            throw ValidationError("--election-timeout must be a range like 150ms-300ms, not \"\(electionTimeout)\"")
        }
        guard let heartbeatMilliseconds = DurationText.milliseconds(heartbeat) else {
            throw ValidationError("--heartbeat must be a duration like 50ms, not \"\(heartbeat)\"")
        }
        guard let tickMilliseconds = DurationText.milliseconds(tick), tickMilliseconds > 0 else {
            throw ValidationError("--tick must be a duration like 10ms, not \"\(tick)\"")
        }
        guard let timeout = DurationText.milliseconds(requestTimeout) else {
            throw ValidationError("--request-timeout must be a duration like 5s, not \"\(requestTimeout)\"")
        }
        config.electionTimeoutMilliseconds = election
        config.heartbeatMilliseconds = heartbeatMilliseconds
        config.tickMilliseconds = tickMilliseconds
        config.requestTimeoutMilliseconds = timeout
        config.syncPolicy = fsync == .always ? .always : .never
        guard let minimumFree = ByteSizeText.bytes(minFreeSpace) else {
            throw ValidationError("--min-free-space must be a size like 256MiB, not \"\(minFreeSpace)\"")
        }
        guard (0...90).contains(minFreePercent) else {
            throw ValidationError("--min-free-percent must be between 0 and 90, not \(minFreePercent)")
        }
        guard let quota = ByteSizeText.bytes(quotaBackendBytes) else {
            throw ValidationError("--quota-backend-bytes must be a size like 2GiB, not \"\(quotaBackendBytes)\"")
        }
        guard let slowSync = DurationText.milliseconds(slowSyncWarning), slowSync > 0 else {
            throw ValidationError("--slow-sync-warning must be a duration like 1s, not \"\(slowSyncWarning)\"")
        }
        config.slowSyncWarningMilliseconds = slowSync
        guard let slowApply = DurationText.milliseconds(slowApplyWarning), slowApply > 0 else {
            throw ValidationError("--slow-apply-warning must be a duration like 100ms, not \"\(slowApplyWarning)\"")
        }
        config.slowApplyWarningMilliseconds = slowApply
        if let randomSeed { config.randomSeed = randomSeed }
        config.allowUnsafeFailpoints = allowUnsafeFailpoints
        config.alarmMinimumFreeBytes = minimumFree
        config.alarmMinimumFreePercent = UInt64(minFreePercent)
        config.quotaBackendBytes = quota == 0 ? nil : quota
        config.snapshotThresholdEntries = snapshotThreshold
        config.retainedSnapshots = snapshotRetain
        guard let cache = ByteSizeText.bytes(entryCache), cache > 0, cache <= UInt64(Int.max) else {
            throw ValidationError("--entry-cache must be a positive size like 8MiB, not \"\(entryCache)\"")
        }
        config.entryCacheBytes = Int(cache)
        config.segmentSizeBytes = segmentSize
        config.maxKeyBytes = maxKeyBytes
        config.maxValueBytes = maxValueBytes
        config.logLevel = logLevel.rawValue
        if let problem = config.validate() { throw ValidationError(problem) }
        return config
    }

    /// FNV-1a over the sorted peer list: equal lists give equal ids.
    static func derivedClusterID(_ peers: [NodeID: HostPort]) -> ClusterID {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for id in peers.keys.sorted() {
            for byte in "\(id)=\(peers[id]!);".utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01b3
            }
        }
        return ClusterID(hash)
    }

    /// The options that are flags (no value on the command line).
    static let flags: Set<String> = ["allow-unsafe-failpoints"]

    /// Merges `--config FILE` options under the command line's own (command line wins).
    public static func argumentsWithConfigFile(_ arguments: [String]) throws -> [String] {
        guard let flag = arguments.firstIndex(where: { $0 == "--config" || $0.hasPrefix("--config=") }) else {
            return arguments
        }
        let path: String
        if arguments[flag].hasPrefix("--config=") {
            path = String(arguments[flag].dropFirst("--config=".count))
        } else {
            guard flag + 1 < arguments.count else { return arguments }
            path = arguments[flag + 1]
        }
        guard let file = fopen(path, "r") else {
            throw ValidationError("cannot read the config file \(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var text = ""
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), file) != nil {
            text += String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        var merged = arguments
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: " \t\r")
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else {
                throw ValidationError("\(path):\(number + 1): expected \"name = value\", got \"\(line)\"")
            }
            let name = parts[0].trimmingCharacters(in: " \t")
            let value = parts[1].trimmingCharacters(in: " \t\"")
            let option = "--" + name
            if !arguments.contains(where: { $0 == option || $0.hasPrefix(option + "=") }) {
                if Self.flags.contains(name) {
                    // A flag takes no value on the command line: `name = true` sets it, `false` leaves it off.
                    guard value == "true" || value == "false" else {
                        throw ValidationError("\(path):\(number + 1): \(name) is true or false, not \"\(value)\"")
                    }
                    if value == "true" { merged.append(option) }
                } else {
                    merged.append(contentsOf: [option, value])
                }
            }
        }
        return merged
    }
}

/// A startup failure reported like a usage error: one line on stderr and exit status 1.
struct ValidationErrorLike: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        var slice = Substring(self)
        while let first = slice.first, characters.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, characters.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}

/// `--initial-cluster-state` (etcd's flag of the same name).
public enum InitialClusterState: String, CaseIterable, ExpressibleByArgument, Sendable {
    case new, existing
}

/// `--fsync`: typed, so that help and completions list the values.
public enum FsyncOption: String, CaseIterable, ExpressibleByArgument, Sendable {
    case always, never
}

/// `--log-level`: swift-log's levels, typed for help and completions.
public enum LogLevelOption: String, CaseIterable, ExpressibleByArgument, Sendable {
    case trace, debug, info, notice, warning, error, critical
}
