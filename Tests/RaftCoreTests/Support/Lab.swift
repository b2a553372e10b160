import RaftCore
import RaftTestKit
import Testing

/// A ``Cluster`` seen through the vocabulary of the MIT 6.824 Raft lab tests: servers are disconnected and
/// reconnected one by one, time advances tick by tick, and the network can be made unreliable (loss,
/// duplication, delay and reordering, all drawn from one seeded generator so a failure replays exactly).
///
/// Every message that is about to reach a running, connected node passes ``tap`` first, which lets a test
/// count the traffic a repair needs. The ``Cluster``'s ``SafetyChecker`` still watches every step.
final class Lab {
    let cluster: Cluster
    private(set) var disconnected: Set<NodeID> = []
    private var rng: SplitMix64
    /// Percent of messages lost, duplicated and delayed by one to five ticks while ``unreliable`` is set.
    var lossPercent = 10
    var duplicatePercent = 10
    var delayPercent = 20
    var unreliable = false
    /// Called for every message just before it is delivered.
    var tap: ((Message) -> Void)?
    private var delayed: [(due: Int, message: Message)] = []
    private(set) var now = 0

    init(
        servers: Int, seed: UInt64, unreliable: Bool = false, snapshotEveryEntries: Int? = nil,
        configure: (inout RaftConfig) -> Void = { _ in }
    ) {
        cluster = Cluster(size: servers, seed: seed, snapshotEveryEntries: snapshotEveryEntries, configure: configure)
        rng = SplitMix64(seed: seed ^ 0x5EED_1AB)
        self.unreliable = unreliable
    }

    var ids: [NodeID] { cluster.ids }
    var connected: [NodeID] { ids.filter { !disconnected.contains($0) } }

    func random(_ bound: Int) -> Int { Int(rng.next() % UInt64(bound)) }
    func randomID() -> NodeID { ids[random(ids.count)] }

    // MARK: - Network

    func disconnect(_ id: NodeID) {
        disconnected.insert(id)
        rebuildLinks()
    }

    func connect(_ id: NodeID) {
        disconnected.remove(id)
        rebuildLinks()
    }

    func connectAll() {
        disconnected.removeAll()
        rebuildLinks()
    }

    private func rebuildLinks() {
        cluster.blocked.removeAll()
        for a in ids {
            for b in ids where a != b && (disconnected.contains(a) || disconnected.contains(b)) {
                cluster.blocked.insert(Link(a, b))
            }
        }
    }

    // MARK: - Time

    func advance(ticks: Int) {
        for _ in 0..<ticks { tick() }
    }

    /// One tick on every node, then the network runs: to quiescence when reliable, a few hops when not (so a
    /// hop costs about a tick, like a real round-trip time, and delayed messages really arrive late).
    func tick() {
        now += 1
        cluster.tickWithoutDelivery()
        if unreliable {
            for _ in 0..<3 { deliverUnreliably() }
        } else {
            settle()
        }
    }

    /// Delivers everything queued, and what that causes, until the network is quiet (reliable network only).
    func settle() {
        precondition(!unreliable, "settle() is for the reliable network")
        for _ in 0..<10_000 {
            cluster.drainAll()
            if cluster.pending.isEmpty { return }
            observe(cluster.pending)
            cluster.deliverAll()
        }
        preconditionFailure("network did not settle")
    }

    private func deliverUnreliably() {
        cluster.drainAll()
        var batch: [Message] = []
        for message in cluster.pending {
            let roll = random(100)
            if roll < lossPercent { continue }
            if roll < lossPercent + delayPercent {
                delayed.append((now + 1 + random(5), message))
                continue
            }
            batch.append(message)
            if random(100) < duplicatePercent { batch.append(message) }
        }
        let due = delayed.filter { $0.due <= now }
        delayed.removeAll { $0.due <= now }
        batch.append(contentsOf: due.map(\.message))
        batch.shuffle(using: &rng)
        cluster.pending = batch
        observe(batch)
        cluster.deliverAll()
    }

    private func observe(_ messages: [Message]) {
        guard let tap else { return }
        for message in messages
        where !cluster.blocked.contains(Link(message.from, message.to)) && cluster[message.to].isRunning {
            tap(message)
        }
    }

    // MARK: - Faults

    func crash(_ id: NodeID) {
        cluster.crash(id)
    }

    func restart(_ id: NodeID) {
        cluster.restart(id)
    }

    func isRunning(_ id: NodeID) -> Bool { cluster[id].isRunning }

    // MARK: - Observations

    /// Running, connected nodes that believe they lead, by term.
    func leadersByTerm() -> [Term: [NodeID]] {
        var result: [Term: [NodeID]] = [:]
        for id in connected where isRunning(id) && cluster[id].raft.currentRole == .leader {
            result[cluster[id].raft.currentTerm, default: []].append(id)
        }
        return result
    }

    /// The 6.824 `checkOneLeader`: waits until the connected nodes have a leader; never more than one per term.
    /// Returns nil (after recording an issue) if none appears within `maxTicks`.
    @discardableResult
    func checkOneLeader(
        maxTicks: Int = 300, sourceLocation: SourceLocation = #_sourceLocation
    ) -> NodeID? {
        for _ in 0...maxTicks {
            let leaders = leadersByTerm()
            for (term, nodes) in leaders where nodes.count > 1 {
                Issue.record("term \(term) has leaders \(nodes)", sourceLocation: sourceLocation)
            }
            if let newest = leaders.keys.max() { return leaders[newest]![0] }
            tick()
        }
        Issue.record("no leader among \(connected) within \(maxTicks) ticks", sourceLocation: sourceLocation)
        return nil
    }

    /// The 6.824 `checkNoLeader`: no connected node believes it leads.
    func checkNoLeader(sourceLocation: SourceLocation = #_sourceLocation) {
        let leaders = leadersByTerm()
        #expect(leaders.isEmpty, "unexpected leaders \(leaders)", sourceLocation: sourceLocation)
    }

    /// Terms of all connected running nodes; the 6.824 `checkTerms` demands they agree.
    func agreedTerm(sourceLocation: SourceLocation = #_sourceLocation) -> Term? {
        let terms = Set(connected.filter(isRunning).map { cluster[$0].raft.currentTerm })
        #expect(terms.count == 1, "servers disagree on the term: \(terms)", sourceLocation: sourceLocation)
        return terms.first
    }

    /// How many running nodes applied an entry at `index`, and its command. Records an issue if two nodes
    /// applied different entries there (the 6.824 `nCommitted`).
    func nCommitted(_ index: LogIndex, sourceLocation: SourceLocation = #_sourceLocation) -> (Int, [UInt8]?) {
        var count = 0
        var data: [UInt8]?
        for id in ids where isRunning(id) {
            guard let entry = cluster[id].stateMachine.appliedEntries[index] else { continue }
            if let data, data != entry.data {
                Issue.record("committed values at \(index) differ", sourceLocation: sourceLocation)
            }
            data = entry.data
            count += 1
        }
        return (count, data)
    }

    /// The 6.824 `one`: submits `command` to whichever node leads until `expectedServers` nodes applied it;
    /// returns its index. With `retry` false, a proposal that a leader accepted is never resubmitted elsewhere.
    @discardableResult
    func one(
        _ command: [UInt8], expectedServers: Int, retry: Bool = true, maxTicks: Int = 1_000,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> LogIndex? {
        var elapsed = 0
        while elapsed < maxTicks {
            var index: LogIndex?
            for id in connected where isRunning(id) && cluster[id].raft.currentRole == .leader {
                if case .appended(let first, _)? = try? cluster.propose(command, on: id) {
                    index = first
                    break
                }
            }
            if let index {
                for _ in 0..<60 {
                    let (count, data) = nCommitted(index)
                    if count >= expectedServers && data == command { return index }
                    tick()
                    elapsed += 1
                }
                if !retry {
                    Issue.record("command at \(index) did not reach agreement", sourceLocation: sourceLocation)
                    return nil
                }
            } else {
                tick()
                elapsed += 1
            }
        }
        Issue.record(
            "\(String(decoding: command, as: UTF8.self)) not applied by \(expectedServers) in \(maxTicks) ticks",
            sourceLocation: sourceLocation)
        return nil
    }

    /// Ticks until every running node applied everything through `index` (or `maxTicks` pass).
    func waitApplied(through index: LogIndex, maxTicks: Int = 500) -> Bool {
        for _ in 0...maxTicks {
            if ids.filter(isRunning).allSatisfy({ cluster[$0].stateMachine.appliedIndex >= index }) { return true }
            tick()
        }
        return false
    }

    func expectSafe(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(cluster.violations.isEmpty, "\(cluster.violations)", sourceLocation: sourceLocation)
    }
}

func command(_ text: String) -> [UInt8] { Array(text.utf8) }
