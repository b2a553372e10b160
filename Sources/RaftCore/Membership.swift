/// Who is in the cluster: the voters, whose majority elects leaders and commits entries, and the learners, which
/// receive the log and snapshots but never count toward either.
///
/// Invariants: both lists are sorted, without duplicates, and disjoint; node id 0 is in neither.
public struct Membership: Sendable, Hashable, CustomStringConvertible {
    public private(set) var voters: [NodeID]
    public private(set) var learners: [NodeID]

    public init(voters: [NodeID], learners: [NodeID] = []) {
        self.voters = Array(Set(voters)).sorted()
        self.learners = Array(Set(learners).subtracting(voters)).sorted()
    }

    /// Every member, voters first.
    public var members: [NodeID] { voters + learners }

    public func contains(_ id: NodeID) -> Bool { voters.contains(id) || learners.contains(id) }
    public func isVoter(_ id: NodeID) -> Bool { voters.contains(id) }
    public func isLearner(_ id: NodeID) -> Bool { learners.contains(id) }

    /// A majority of the voters.
    public var quorum: Int { voters.count / 2 + 1 }

    /// The membership after `change`, or why it cannot be made (from this membership, ignoring liveness).
    public func applying(_ change: MembershipChange) -> Result<Membership, RaftError> {
        switch change {
        case .addLearner(let id):
            guard id.rawValue != 0 else { return .failure(.invalidMembershipChange("node id 0 is reserved")) }
            guard !contains(id) else {
                return .failure(.invalidMembershipChange("\(id) is already a \(isVoter(id) ? "voter" : "learner")"))
            }
            return .success(Membership(voters: voters, learners: learners + [id]))
        case .promote(let id):
            guard isLearner(id) else {
                return .failure(
                    .invalidMembershipChange(
                        isVoter(id) ? "\(id) is already a voter" : "\(id) is not a member (add it as a learner first)"))
            }
            return .success(Membership(voters: voters + [id], learners: learners.filter { $0 != id }))
        case .remove(let id):
            guard contains(id) else { return .failure(.unknownNode(id)) }
            guard voters != [id] else {
                return .failure(.invalidMembershipChange("\(id) is the last voter; a cluster needs at least one"))
            }
            return .success(Membership(voters: voters.filter { $0 != id }, learners: learners.filter { $0 != id }))
        }
    }

    public var description: String {
        "voters=" + voters.map(\.description).joined(separator: ",")
            + (learners.isEmpty ? "" : " learners=" + learners.map(\.description).joined(separator: ","))
    }
}

/// One change to the membership. Changes are made one at a time (single-server changes, dissertation §4.1):
/// any two majorities of consecutive configurations overlap, so no change can let two leaders be elected in
/// one term.
public enum MembershipChange: Sendable, Hashable, CustomStringConvertible {
    /// A new member that receives the log without voting, until it is promoted.
    case addLearner(NodeID)
    /// A learner becomes a voter; the leader allows it only once the learner has caught up.
    case promote(NodeID)
    /// A voter or learner leaves. A leader that removes itself leads until the change commits, then steps down.
    case remove(NodeID)

    public var node: NodeID {
        switch self {
        case .addLearner(let id), .promote(let id), .remove(let id): id
        }
    }

    public var description: String {
        switch self {
        case .addLearner(let id): "add learner \(id)"
        case .promote(let id): "promote \(id)"
        case .remove(let id): "remove \(id)"
        }
    }
}

/// What a ``EntryKind/configuration`` entry carries: the whole new membership (not a delta, so the latest such
/// entry in a log alone says who is in the cluster) and the application's context for it, opaque to the core
/// (raftd's peer addresses, so every node can reach a newcomer).
///
/// Encoding: version u8 (1) | voter count u32 | learner count u32 | ids u64… | context length u32 | context,
/// little-endian.
public struct ConfigurationEntry: Sendable, Hashable {
    public var membership: Membership
    public var context: [UInt8]

    public init(membership: Membership, context: [UInt8] = []) {
        self.membership = membership
        self.context = context
    }

    public var encoded: [UInt8] {
        var bytes: [UInt8] = [1]
        func append<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }
        append(UInt32(membership.voters.count))
        append(UInt32(membership.learners.count))
        for id in membership.members { append(id.rawValue) }
        append(UInt32(context.count))
        bytes += context
        return bytes
    }

    /// Decodes an entry's data; nil if it is not a well-formed configuration (a peer's corrupt entry).
    public init?(decoding bytes: [UInt8]) {
        var offset = 0
        func read<T: FixedWidthInteger>(_: T.Type) -> T? {
            guard bytes.count - offset >= MemoryLayout<T>.size else { return nil }
            var value: T = 0
            for i in 0..<MemoryLayout<T>.size { value |= T(bytes[offset + i]) << (8 * i) }
            offset += MemoryLayout<T>.size
            return value
        }
        guard read(UInt8.self) == 1, let voterCount = read(UInt32.self), let learnerCount = read(UInt32.self),
            Int(voterCount) + Int(learnerCount) <= (bytes.count - offset) / 8
        else { return nil }
        var ids: [NodeID] = []
        for _ in 0..<(Int(voterCount) + Int(learnerCount)) {
            guard let raw = read(UInt64.self), raw != 0 else { return nil }
            ids.append(NodeID(raw))
        }
        guard let contextCount = read(UInt32.self), bytes.count - offset == Int(contextCount) else { return nil }
        let voters = Array(ids[..<Int(voterCount)])
        let learners = Array(ids[Int(voterCount)...])
        guard !voters.isEmpty, Set(ids).count == ids.count else { return nil }
        self.init(membership: Membership(voters: voters, learners: learners), context: Array(bytes[offset...]))
    }
}
