import RaftAPI
import RaftCore
import RaftStorage

/// A `host:port` pair as given on the command line.
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` (IPv6 as `[::1]:port`).
    public init?(parsing text: some StringProtocol) {
        let text = String(text)
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        guard let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port), !host.isEmpty else {
            return nil
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Everything one raftd node needs to start, validated.
///
/// Invariants (``validate()``): `nodeID` is in `peers`; heartbeat < election minimum ≤ maximum; every
/// duration and limit is positive and a multiple of the tick where it must be; the admin socket path fits in
/// `sun_path` (107 bytes).
public struct NodeConfiguration: Sendable {
    public var nodeID: NodeID
    public var clusterID: ClusterID
    public var dataDirectory: String
    /// Every member's peer address, this node's included.
    public var peers: [NodeID: HostPort]
    public var peerListen: HostPort
    public var clientListen: HostPort
    public var adminSocketPath: String
    public var electionTimeoutMilliseconds: ClosedRange<Int> = 150...300
    public var heartbeatMilliseconds = 50
    /// The length of one core tick; timeouts are rounded to whole ticks.
    public var tickMilliseconds = 10
    public var syncPolicy: SyncPolicy = .always
    public var snapshotThresholdEntries = 10_000
    public var retainedSnapshots = 2
    /// Bytes of applied entries the core keeps in memory (``RaftConfig/entryCacheBytes``).
    public var entryCacheBytes = 8 << 20
    public var segmentSizeBytes = StorageOptions.defaultSegmentSizeBytes
    public var maxKeyBytes = 1024
    public var maxValueBytes = 1 << 20
    public var requestTimeoutMilliseconds = 5_000
    public var logLevel: String = "info"
    /// The space alarm is raised when the data directory's file system has less free space than this (0: never)…
    public var alarmMinimumFreeBytes: UInt64 = 256 << 20
    /// …or less than this share of its size, in percent (0: never); the larger of the two applies.
    public var alarmMinimumFreePercent: UInt64 = 5
    /// The space alarm is raised when the WAL and snapshots take more than this (nil: no quota).
    public var quotaBackendBytes: UInt64?
    /// A WAL write or sync that fails ends the process with ``NodeConfiguration/storageFailureExitStatus`` (true
    /// in raftd, so that a supervisor restarts it and recovery repairs the log); false only for embedders that
    /// restart the node themselves.
    public var exitOnStorageFailure = true
    /// `existing`: a node that starts with no Raft state joins as a new member (``RaftConfig/joining``).
    public var initialClusterState: InitialClusterState = .new
    /// Whether the admin socket may arm the `unsafe-` failpoints, which break the node's guarantees on purpose.
    public var allowUnsafeFailpoints = false
    /// A sync slower than this is logged (etcd's "slow fdatasync") and counted.
    public var slowSyncWarningMilliseconds = 1_000
    /// Applying one committed entry slower than this is logged and recorded as a `slow-apply` event (etcd's
    /// "apply request took too long", `--warning-apply-duration`).
    public var slowApplyWarningMilliseconds = 100
    /// Seeds election jitter; raftd draws it from the system's random source unless given.
    public var randomSeed: UInt64 = UInt64.random(in: 1...UInt64.max)

    public init(
        nodeID: NodeID, clusterID: ClusterID, dataDirectory: String, peers: [NodeID: HostPort],
        peerListen: HostPort? = nil, clientListen: HostPort, adminSocketPath: String? = nil
    ) {
        self.nodeID = nodeID
        self.clusterID = clusterID
        self.dataDirectory = dataDirectory
        self.peers = peers
        self.peerListen = peerListen ?? peers[nodeID] ?? HostPort(host: "127.0.0.1", port: 2380)
        self.clientListen = clientListen
        self.adminSocketPath = adminSocketPath ?? Self.join(dataDirectory, "admin.sock")
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// raftd's exit status after a storage failure (`EX_IOERR` of sysexits.h), documented in raftd(8).
    public static let storageFailureExitStatus: Int32 = 74
    /// raftd's exit status when the node found it lost entries it had acknowledged, and at every start after
    /// (while ``haltedMarkerName`` is in its data directory): sysexits' EX_DATAERR.
    public static let lostDataExitStatus: Int32 = 65
    /// The file a node that lost acknowledged entries leaves in its data directory, saying why; raftd refuses to
    /// start while it is there, and raftctl shows the node as halted.
    public static let haltedMarkerName = "HALTED"

    public static let maxSocketPathBytes = AdminProtocol.maxSocketPathBytes

    /// Describes the first invalid setting, or returns nil.
    public func validate() -> String? {
        if peers[nodeID] == nil {
            let ids = peers.keys.sorted().map(\.description).joined(separator: ",")
            return "node id \(nodeID) is not in the peer list (\(ids))"
        }
        if adminSocketPath.utf8.count > Self.maxSocketPathBytes {
            return "admin socket path is \(adminSocketPath.utf8.count) bytes, over the Unix limit of"
                + " \(Self.maxSocketPathBytes): \(adminSocketPath) (use --admin-socket with a shorter path)"
        }
        if tickMilliseconds < 1 { return "the tick must be at least 1 ms" }
        if heartbeatMilliseconds < tickMilliseconds {
            return
                "the heartbeat interval (\(heartbeatMilliseconds) ms) must be at least one tick (\(tickMilliseconds) ms)"
        }
        if electionTimeoutMilliseconds.lowerBound <= heartbeatMilliseconds {
            return "the election timeout (\(electionTimeoutMilliseconds.lowerBound) ms) must exceed the heartbeat"
                + " interval (\(heartbeatMilliseconds) ms)"
        }
        if snapshotThresholdEntries < 1 || retainedSnapshots < 1 { return "snapshot settings must be positive" }
        if entryCacheBytes < 1 { return "the entry cache must be positive" }
        if segmentSizeBytes < 4096 { return "the segment size must be at least 4096 bytes" }
        if maxKeyBytes < 1 || maxValueBytes < 1 { return "key and value limits must be positive" }
        if requestTimeoutMilliseconds < 1 { return "the request timeout must be positive" }
        if slowSyncWarningMilliseconds < 1 { return "the slow-sync warning threshold must be positive" }
        if slowApplyWarningMilliseconds < 1 { return "the slow-apply warning threshold must be positive" }
        if alarmMinimumFreePercent > 90 { return "the free-space alarm share must be at most 90 percent" }
        return nil
    }

    /// The core's configuration: milliseconds turned into ticks.
    public var raftConfig: RaftConfig {
        var config = RaftConfig(id: nodeID, voters: peers.keys.sorted(), randomSeed: randomSeed)
        // The timeout is drawn from [LOW, HIGH), as in the Raft paper and etcd: HIGH itself is never drawn.
        let low = max(2, electionTimeoutMilliseconds.lowerBound / tickMilliseconds)
        let high = max(low, (electionTimeoutMilliseconds.upperBound - 1) / tickMilliseconds)
        config.electionTimeoutTicks = low...high
        config.heartbeatIntervalTicks = max(1, min(low - 1, heartbeatMilliseconds / tickMilliseconds))
        // The peer transport reports when a snapshot's last chunk is written (or could not be).
        config.snapshotSendsReported = true
        config.entryCacheBytes = entryCacheBytes
        // The largest proposal must fit one message, and one message one peer frame.
        config.maxMessageBytes = max(1 << 20, maxValueBytes + maxKeyBytes + 4096)
        return config
    }

    public var storageOptions: StorageOptions {
        StorageOptions(
            directory: dataDirectory, clusterID: clusterID, nodeID: nodeID, segmentSizeBytes: segmentSizeBytes,
            syncPolicy: syncPolicy, snapshotThresholdEntries: snapshotThresholdEntries,
            retainedSnapshotCount: retainedSnapshots)
    }
}
