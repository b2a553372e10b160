import RaftCore

/// A directed link between two nodes, for one-way faults.
public struct Link: Hashable, Sendable, CustomStringConvertible {
    public var from: NodeID
    public var to: NodeID

    public init(_ from: NodeID, _ to: NodeID) {
        self.from = from
        self.to = to
    }

    public var description: String { "\(from)->\(to)" }
}

/// An in-memory cluster of ``SimNode``s over a network with no latency, for scenario tests and scripts.
///
/// Time moves only through ``tick(_:)`` / ``advance(ticks:)``; messages move only through ``deliver(where:)``,
/// ``deliverAll()`` and ``stabilize()``. Every applied entry and every leader is checked by a ``SafetyChecker``
/// as it happens, so a test only has to assert `violations.isEmpty` (``assertSafe()``).
public final class Cluster {
    public private(set) var nodes: [NodeID: SimNode] = [:]
    public let ids: [NodeID]
    /// Messages sent and not yet delivered, oldest first.
    public var pending: [Message] = []
    /// Directed links whose messages are dropped at delivery.
    public var blocked: Set<Link> = []
    /// Every event any node reported, in order.
    public private(set) var eventLog: [(node: NodeID, event: RaftEvent)] = []
    public private(set) var checker = SafetyChecker()
    /// Messages dropped because their link was blocked or their receiver was down.
    public private(set) var droppedCount = 0

    /// Creates `size` nodes `n1…nN`. `configure` adjusts each node's config (seeded from `seed` and its id).
    /// With `durableStorage`, every node also persists through the real `RaftStorage` (see ``DurableBackend``)
    /// and recovers from it when restarted. With `entryCacheBytes`, each core keeps that many bytes of applied
    /// entries and reads older ones through an ``EntryStorage`` (see ``SimNode/entryStorage``).
    public init(
        size: Int, seed: UInt64 = 1, snapshotEveryEntries: Int? = nil, durableStorage: Bool = false,
        entryCacheBytes: Int? = nil, configure: (inout RaftConfig) -> Void = { _ in }
    ) {
        precondition(size >= 1, "a cluster needs at least one node")
        ids = (1...UInt64(size)).map { NodeID($0) }
        for id in ids {
            var config = RaftConfig(id: id, voters: ids, randomSeed: seed &* 1_000_003 &+ id.rawValue)
            configure(&config)
            var node = SimNode(
                config: config, snapshotEveryEntries: snapshotEveryEntries, entryCacheBytes: entryCacheBytes)
            if durableStorage { node.durable = DurableBackend(nodeID: id) }
            nodes[id] = node
        }
    }

    public subscript(id: NodeID) -> SimNode {
        nodes[id]!
    }

    public var violations: [String] { checker.violations }

    // MARK: - Driving

    /// Runs the node's Ready loop, queues its messages and checks what it applied.
    public func drain(_ id: NodeID) {
        let (messages, applied) = nodes[id]!.drain()
        let node = nodes[id]!
        for event in node.events { eventLog.append((id, event)) }
        nodes[id]!.events.removeAll()
        checker.observe(node: id, raft: node.raft, applied: applied)
        pending.append(contentsOf: messages)
    }

    public func drainAll() {
        for id in ids { drain(id) }
    }

    /// Delivers the pending messages that match `predicate` (in order); returns how many were delivered.
    @discardableResult
    public func deliver(where predicate: (Message) -> Bool = { _ in true }) -> Int {
        let batch = pending
        pending.removeAll()
        var delivered = 0
        for message in batch {
            guard predicate(message) else {
                pending.append(message)
                continue
            }
            if blocked.contains(Link(message.from, message.to)) || !(nodes[message.to]?.isRunning ?? false) {
                droppedCount += 1
                continue
            }
            nodes[message.to]!.step(message)
            delivered += 1
        }
        return delivered
    }

    @discardableResult
    public func deliverAll() -> Int { deliver() }

    /// Drops pending messages matching `predicate`; returns how many.
    @discardableResult
    public func drop(where predicate: (Message) -> Bool) -> Int {
        let before = pending.count
        pending.removeAll(where: predicate)
        return before - pending.count
    }

    /// Drains and delivers until no node has work and no message is pending.
    public func stabilize(maxRounds: Int = 10_000) {
        for _ in 0..<maxRounds {
            drainAll()
            if pending.isEmpty { return }
            deliverAll()
        }
        preconditionFailure("cluster did not stabilize within \(maxRounds) rounds")
    }

    public func tick(_ id: NodeID, times: Int = 1) {
        for _ in 0..<times {
            nodes[id]!.tick()
            stabilize()
        }
    }

    /// Ticks one node and runs its Ready loop, leaving what it sent pending: scripts deliver it step by step.
    public func tickWithoutDelivery(_ id: NodeID) {
        nodes[id]!.tick()
        drain(id)
    }

    /// Moves time forward on every running node, delivering all traffic instantly after each tick.
    public func advance(ticks: Int) {
        for _ in 0..<ticks {
            for id in ids { nodes[id]!.tick() }
            stabilize()
        }
    }

    /// Moves time forward one tick on every running node and queues what they send in ``pending`` without
    /// delivering it, so a test can lose, duplicate, delay or reorder messages before ``deliverAll()``.
    public func tickWithoutDelivery() {
        for id in ids {
            nodes[id]!.tick()
            drain(id)
        }
    }

    /// Ticks until `condition` holds (checked after each tick); returns the ticks it took, or nil.
    @discardableResult
    public func advance(until condition: () -> Bool, maxTicks: Int = 1_000) -> Int? {
        if condition() { return 0 }
        for elapsed in 1...maxTicks {
            advance(ticks: 1)
            if condition() { return elapsed }
        }
        return nil
    }

    // MARK: - Inputs on one node

    @discardableResult
    public func propose(_ data: [UInt8], on id: NodeID) throws(RaftError) -> ProposeOutcome? {
        let outcome = try nodes[id]!.withRaft { (raft) throws(RaftError) in try raft.propose(data) }
        drain(id)
        return outcome
    }

    public func put(_ key: String, _ value: String, on id: NodeID) throws(RaftError) {
        try propose(KVStateMachine.putCommand(key, value), on: id)
    }

    public func readIndex(_ context: ReadContext, on id: NodeID) throws(RaftError) {
        _ = try nodes[id]!.withRaft { (raft) throws(RaftError) in try raft.readIndex(context) }
        drain(id)
    }

    public func campaign(_ id: NodeID) {
        _ = try? nodes[id]!.withRaft { raft in raft.campaign() }
        drain(id)
    }

    public func transferLeadership(from id: NodeID, to target: NodeID) throws(RaftError) {
        _ = try nodes[id]!.withRaft { (raft) throws(RaftError) in try raft.transferLeadership(to: target) }
        drain(id)
    }

    /// Proposes a membership change on `id` (which must lead); returns the index of its configuration entry.
    @discardableResult
    public func changeMembership(_ change: MembershipChange, on id: NodeID, force: Bool = false) throws(RaftError)
        -> LogIndex?
    {
        let index = try nodes[id]!.withRaft { (raft) throws(RaftError) in
            try raft.proposeMembershipChange(change, force: force)
        }
        drain(id)
        return index
    }

    /// The shell of `id` finished sending an InstallSnapshot to `peer` (see ``RaftNode/reportSnapshot(to:sent:)``).
    public func reportSnapshot(on id: NodeID, to peer: NodeID, sent: Bool) {
        _ = try? nodes[id]!.withRaft { raft in raft.reportSnapshot(to: peer, sent: sent) }
        drain(id)
    }

    public func reportLeaderConnectionClosed(on id: NodeID, by peer: NodeID) {
        _ = try? nodes[id]!.withRaft { raft in raft.reportLeaderConnectionClosed(by: peer) }
        drain(id)
    }

    public func takeSnapshot(on id: NodeID) {
        nodes[id]!.takeSnapshot()
        drain(id)
    }

    public func takeReadStates(on id: NodeID) -> [ReadState] {
        defer { nodes[id]!.readStates.removeAll() }
        return nodes[id]!.readStates
    }

    public func takeFailedReads(on id: NodeID) -> [ReadContext] {
        defer { nodes[id]!.failedReads.removeAll() }
        return nodes[id]!.failedReads
    }

    // MARK: - Faults

    public func crash(_ id: NodeID) {
        nodes[id]!.crash()
        pending.removeAll { $0.to == id || $0.from == id }
    }

    public func restart(_ id: NodeID) {
        nodes[id]!.restart()
        checker.noteRestart(of: id)
        drain(id)
    }

    /// Cuts every link between different groups, both ways; nodes in no group form one more group.
    public func partition(_ groups: [[NodeID]]) {
        var all = groups
        let named = Set(groups.flatMap { $0 })
        let rest = ids.filter { !named.contains($0) }
        if !rest.isEmpty { all.append(rest) }
        blocked.removeAll()
        for (i, a) in all.enumerated() {
            for (j, b) in all.enumerated() where i != j {
                for from in a { for to in b { blocked.insert(Link(from, to)) } }
            }
        }
    }

    public func isolate(_ id: NodeID) {
        partition([[id]])
    }

    /// Drops messages from `from` to `to` only (a one-way link failure).
    public func block(from: NodeID, to: NodeID) {
        blocked.insert(Link(from, to))
    }

    public func heal() {
        blocked.removeAll()
    }

    // MARK: - Queries

    /// The running leader with the highest term, if any.
    public var leader: NodeID? {
        ids.filter { nodes[$0]!.isRunning && nodes[$0]!.raft.currentRole == .leader }
            .max { nodes[$0]!.raft.currentTerm < nodes[$1]!.raft.currentTerm }
    }

    /// Running nodes that consider themselves leader.
    public var leaders: [NodeID] {
        ids.filter { nodes[$0]!.isRunning && nodes[$0]!.raft.currentRole == .leader }
    }

    /// How many running nodes have applied an entry whose command is `data` (0 if none).
    public func appliedCount(_ data: [UInt8]) -> Int {
        ids.filter { id in
            let node = nodes[id]!
            return node.isRunning && node.stateMachine.appliedEntries.values.contains { $0.data == data }
        }.count
    }

    public func value(of key: String, on id: NodeID) -> String? {
        nodes[id]!.stateMachine.values[key]
    }
}
