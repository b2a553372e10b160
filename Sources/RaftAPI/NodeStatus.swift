/// A node's status as `GET /v1/status` and the admin `status` operation report it.
public struct NodeStatus: Sendable, Codable, Hashable {
    public struct Peer: Sendable, Codable, Hashable {
        public var id: String
        public var address: String
        /// `voter` or `learner` in the membership this node follows; nil for a node outside it (removed).
        public var kind: String?
        public var connected: Bool
        public var matchIndex: UInt64?
        public var nextIndex: UInt64?
        public var replication: String?
        public var blockedIn: Bool
        public var blockedOut: Bool
        /// The last round trip measured by a probe to this peer over the peer connections, twice a second (nil
        /// before the first answer; a cut in either direction stops new measurements).
        public var roundTripMicroseconds: UInt64?

        public init(
            id: String, address: String, connected: Bool, matchIndex: UInt64?, nextIndex: UInt64?,
            replication: String?, blockedIn: Bool, blockedOut: Bool, roundTripMicroseconds: UInt64? = nil
        ) {
            self.id = id
            self.address = address
            self.connected = connected
            self.matchIndex = matchIndex
            self.nextIndex = nextIndex
            self.replication = replication
            self.blockedIn = blockedIn
            self.blockedOut = blockedOut
            self.roundTripMicroseconds = roundTripMicroseconds
        }
    }

    public var id: String
    /// This node in the membership it follows: `voter`, `learner`, `joining` (started into an existing cluster
    /// and not yet given a membership) or `removed`.
    public var kind: String?
    /// The membership this node follows (the newest configuration in its log).
    public var voters: [String]?
    public var learners: [String]?
    public var clusterID: String
    public var pid: Int
    public var role: String
    public var term: UInt64
    public var leader: String?
    public var vote: String?
    public var commitIndex: UInt64
    public var appliedIndex: UInt64
    public var lastLogIndex: UInt64
    public var firstLogIndex: UInt64
    public var snapshotIndex: UInt64
    public var keys: Int
    public var clientURL: String
    public var peerAddress: String
    public var storage: String
    public var leadTransferee: String?
    public var peers: [Peer]
    /// This node's disk, as it last measured it (nil before the first measurement).
    public var disk: Disk?
    /// The alarms in force as this node knows them: its own and those its peers reported, sorted by node.
    public var alarms: [Alarm] = []
    /// A snapshot is being encoded and written in the background (nil from nodes that do not say).
    public var snapshotInProgress: Bool?

    /// Free space of the file system holding the data directory, what the WAL and snapshots take, the alarm's
    /// thresholds, and how the disk's syncs have behaved.
    public struct Disk: Sendable, Codable, Hashable {
        public var freeBytes: UInt64
        public var totalBytes: UInt64
        /// Bytes in WAL segments and snapshot files.
        public var usedBytes: UInt64
        /// The space alarm is raised when `freeBytes` falls below this (0: no free-space alarm).
        public var alarmBelowFreeBytes: UInt64
        /// The space alarm is raised when `usedBytes` exceeds this (nil: no quota).
        public var quotaBytes: UInt64?
        /// Syncs that took longer than `slowSyncThresholdMilliseconds` since the node started.
        public var slowSyncs: UInt64
        public var slowSyncThresholdMilliseconds: Int
        /// A delay injected before every sync (`raftctl slow-disk`); 0 when the disk is not slowed.
        public var syncDelayMilliseconds: Int

        public init(
            freeBytes: UInt64, totalBytes: UInt64, usedBytes: UInt64, alarmBelowFreeBytes: UInt64, quotaBytes: UInt64?,
            slowSyncs: UInt64 = 0, slowSyncThresholdMilliseconds: Int = 1_000, syncDelayMilliseconds: Int = 0
        ) {
            self.freeBytes = freeBytes
            self.totalBytes = totalBytes
            self.usedBytes = usedBytes
            self.alarmBelowFreeBytes = alarmBelowFreeBytes
            self.quotaBytes = quotaBytes
            self.slowSyncs = slowSyncs
            self.slowSyncThresholdMilliseconds = slowSyncThresholdMilliseconds
            self.syncDelayMilliseconds = syncDelayMilliseconds
        }
    }

    /// A condition that stops the cluster from taking writes, or part of it from working.
    public struct Alarm: Sendable, Codable, Hashable {
        /// The node the alarm is about.
        public var node: String
        /// `no_space` (free space below the threshold, or the quota exceeded) or `storage_failed` (a WAL write or
        /// sync failed; the node exits and is restarted).
        public var kind: String
        public var message: String
        /// Free bytes on that node's disk, for `no_space`.
        public var freeBytes: UInt64?
        /// When this node learned of it (UTC).
        public var since: String

        public init(node: String, kind: String, message: String, freeBytes: UInt64?, since: String) {
            self.node = node
            self.kind = kind
            self.message = message
            self.freeBytes = freeBytes
            self.since = since
        }
    }

    public init(
        id: String, clusterID: String, pid: Int, role: String, term: UInt64, leader: String?, vote: String?,
        commitIndex: UInt64, appliedIndex: UInt64, lastLogIndex: UInt64, firstLogIndex: UInt64, snapshotIndex: UInt64,
        keys: Int, clientURL: String, peerAddress: String, storage: String, leadTransferee: String?, peers: [Peer],
        disk: Disk? = nil, alarms: [Alarm] = [], snapshotInProgress: Bool? = nil
    ) {
        self.id = id
        self.clusterID = clusterID
        self.pid = pid
        self.role = role
        self.term = term
        self.leader = leader
        self.vote = vote
        self.commitIndex = commitIndex
        self.appliedIndex = appliedIndex
        self.lastLogIndex = lastLogIndex
        self.firstLogIndex = firstLogIndex
        self.snapshotIndex = snapshotIndex
        self.keys = keys
        self.clientURL = clientURL
        self.peerAddress = peerAddress
        self.storage = storage
        self.leadTransferee = leadTransferee
        self.peers = peers
        self.disk = disk
        self.alarms = alarms
        self.snapshotInProgress = snapshotInProgress
    }
}
