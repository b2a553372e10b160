/// A node's status as `GET /v1/status` and the admin `status` operation report it.
public struct NodeStatus: Sendable, Codable, Hashable {
    public struct Peer: Sendable, Codable, Hashable {
        public var id: String
        public var address: String
        public var connected: Bool
        public var matchIndex: UInt64?
        public var nextIndex: UInt64?
        public var replication: String?
        public var blockedIn: Bool
        public var blockedOut: Bool

        public init(
            id: String, address: String, connected: Bool, matchIndex: UInt64?, nextIndex: UInt64?,
            replication: String?, blockedIn: Bool, blockedOut: Bool
        ) {
            self.id = id
            self.address = address
            self.connected = connected
            self.matchIndex = matchIndex
            self.nextIndex = nextIndex
            self.replication = replication
            self.blockedIn = blockedIn
            self.blockedOut = blockedOut
        }
    }

    public var id: String
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

    public init(
        id: String, clusterID: String, pid: Int, role: String, term: UInt64, leader: String?, vote: String?,
        commitIndex: UInt64, appliedIndex: UInt64, lastLogIndex: UInt64, firstLogIndex: UInt64, snapshotIndex: UInt64,
        keys: Int, clientURL: String, peerAddress: String, storage: String, leadTransferee: String?, peers: [Peer]
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
    }
}
