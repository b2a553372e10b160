/// The membership a node follows, with every member's addresses: the answer to the admin `members` operation and
/// to `GET /v1/members`.
public struct MembersAnswer: Sendable, Codable, Hashable {
    public struct Member: Sendable, Codable, Hashable {
        public var id: String
        /// `voter` or `learner`.
        public var kind: String
        /// Where its peers reach it (`HOST:PORT`).
        public var peerAddress: String?
        /// Its HTTP client API (`http://HOST:PORT`), when known.
        public var clientURL: String?
        /// On the leader: the highest index the member is known to hold.
        public var matchIndex: UInt64?

        public init(id: String, kind: String, peerAddress: String?, clientURL: String?, matchIndex: UInt64?) {
            self.id = id
            self.kind = kind
            self.peerAddress = peerAddress
            self.clientURL = clientURL
            self.matchIndex = matchIndex
        }
    }

    /// The node that answered.
    public var node: String
    public var leader: String?
    /// The answering node's commit index, to compare with the members' match indexes.
    public var commitIndex: UInt64
    public var members: [Member]

    public init(node: String, leader: String?, commitIndex: UInt64, members: [Member]) {
        self.node = node
        self.leader = leader
        self.commitIndex = commitIndex
        self.members = members
    }
}

/// What a membership operation answers once its change is committed.
public struct MembershipChangeAnswer: Sendable, Codable, Hashable {
    /// The index of the configuration entry (of the last one, when a learner was also promoted).
    public var index: UInt64
    public var members: MembersAnswer

    public init(index: UInt64, members: MembersAnswer) {
        self.index = index
        self.members = members
    }
}
