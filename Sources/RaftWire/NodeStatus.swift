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
}
