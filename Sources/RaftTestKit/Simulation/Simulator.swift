import RaftCore

/// A seeded, deterministic simulation of a 3- or 5-node cluster running the real ``RaftNode`` core, in the
/// spirit of TigerBeetle's VOPR and FoundationDB's simulator. The seed is the only input: every option
/// (``SimulationOptions``) and every random choice is drawn from it with ``SplitMix64``; nothing reads a clock,
/// a global random source, or iterates a `Set` or `Dictionary` in an order that matters. One seed therefore
/// replays one run exactly, and ``SimulationResult/fingerprint`` proves it.
///
/// **What is simulated.** Time is a tick counter; every running node ticks once per tick (or, with clock
/// jitter, sometimes zero or two times). Nodes are ``SimNode``s (core + ``MemoryStorage`` + ``KVStateMachine``),
/// which persist synchronously in `drain()` before sending. The network delivers each message after a random
/// delay, in (due tick, send order) order, and may lose, duplicate or hold back (reorder) it. Faults: random
/// partitions into groups, one-way link cuts, node crashes (a node keeps only what it persisted) with
/// restarts after a random downtime, including crashes in the middle of a Ready: after it was persisted but
/// before its messages went out, or after its `messagesNow` went out but before it was persisted. Clients propose unique values for a few keys on random nodes and issue ReadIndex reads on random
/// nodes; nodes snapshot and compact automatically and on demand; operators occasionally transfer
/// leadership or force a campaign; the transport sometimes reports undeliverable messages and a crashed
/// leader's closed connection (which lifts the leader lease).
///
/// **Phases.** Phase 1 (safety) runs ``SimulationOptions/safetyPhaseTicks`` ticks with faults on. Phase 2
/// (liveness) heals every link, restarts every crashed node and stops losses, duplicates, extra reordering,
/// crashes and operator actions; within ``SimulationOptions/livenessBoundTicks`` a single leader must be known
/// to every node, a new proposal must be applied everywhere, all nodes must converge to the same applied index
/// and key-value state, and then a ReadIndex read on every node must be served.
///
/// **Checked properties**, after every drain of a node (every tick, every delivery, every client action):
/// - ``SafetyChecker``: Election Safety, State Machine Safety, committed entries never lost or changed,
///   Leader Completeness;
/// - ``LogMatchingChecker``: Log Matching between running nodes (sampled indexes every tick, all common
///   indexes every 64 ticks);
/// - ``LinearizabilityChecker``: reads never return a value older than a completed write or an earlier read,
///   nor a value never written; no write is applied at two indexes. A write completes when the first node
///   applies it (stricter than an acknowledgement from the node it was proposed on); a read is invoked when the
///   client asks a node and served when that node has applied the read index, from its state machine;
/// - ``ContractChecker``: votes and acknowledgements leave a node only once persisted, no node votes twice in a
///   term (across restarts), durable terms never go back, Leader Append-Only.
///
/// **Environment (read by `SimulationTests`).** `RAFT_SIM_SEEDS=N` runs N seeds (a soak), starting at
/// `RAFT_SIM_SEED_START`; `RAFT_SIM_SEED=X` replays one seed verbosely, with a full event trace when
/// `RAFT_SIM_TRACE=1`. A failure prints the seed first, then the violations, then the replay command:
/// `RAFT_SIM_SEED=X RAFT_SIM_TRACE=1 swift test --filter SimulationTests/replay`.
///
/// Invariant: a simulator runs once (``run()``); create a new one, from the same seed, to replay.
public final class Simulator {
    public let options: SimulationOptions
    private var nodes: [SimNode]
    private let ids: [NodeID]
    private var network = SimulatedNetwork()
    private var safety = SafetyChecker()
    private var reads = LinearizabilityChecker()
    private var contract = ContractChecker()
    private var violations: [String] = []
    private var trace: ((String) -> Void)?
    private var fingerprint = Fingerprint()
    private var stats = SimulationStats()
    private let bug: InjectedBug

    private var now = 0
    private var faultRNG: SplitMix64
    private var clientRNG: SplitMix64
    private var networkRNG: SplitMix64
    private var checkRNG: SplitMix64
    private var churnRNG: SplitMix64

    // Faults in force.
    private var faultsEnabled = true
    private var partitionGroup: [Int]
    private var partitionEndsAt: Int?
    /// `linkCutUntil[from][to]`: the link drops messages until this tick.
    private var linkCutUntil: [[Int]]
    private var restartAt: [Int?]
    /// A crash that strikes at the node's next Ready (nil: none pending).
    private var pendingCrash: [CrashPoint?]

    private enum CrashPoint {
        /// After the Ready was persisted, before any of its messages went out.
        case afterPersisting
        /// After `messagesNow` went out, before the Ready was persisted (§10.2.1 allows that order).
        case beforePersisting
    }

    // Clients.
    private var clientsEnabled = true
    private var nextValue = 0
    private var nextReadID: UInt64 = 0
    /// Per node: reads asked there and not yet served, oldest first.
    private var openReads: [[OpenRead]]
    /// Per node: the liveness phase's read that has yet to be served.
    private var livenessReads: [UInt64?]

    private struct OpenRead {
        var id: UInt64
        var key: String
        var index: LogIndex?
    }

    /// Creates the cluster for `seed`. `trace`, when given, receives one line per simulated event. `bug` breaks
    /// the harness on purpose, only to prove that the checkers catch what it breaks.
    public init(seed: UInt64, trace: ((String) -> Void)? = nil, injecting bug: InjectedBug = .none) {
        let options = SimulationOptions(seed: seed)
        self.options = options
        self.trace = trace
        self.bug = bug
        faultRNG = SplitMix64(seed: seed ^ 0xFA17_FA17_FA17_FA17)
        clientRNG = SplitMix64(seed: seed ^ 0xC11E_17C1_1E17_C11E)
        networkRNG = SplitMix64(seed: seed ^ 0x0E7_0E7_0E7_0E7)
        checkRNG = SplitMix64(seed: seed ^ 0xC4EC_C4EC_C4EC_C4EC)
        churnRNG = SplitMix64(seed: seed ^ 0x3E3B_E125_3E3B_E125)
        let count = options.nodeCount
        ids = (1...UInt64(count)).map { NodeID($0) }
        nodes = ids.map { id in
            var config = RaftConfig(id: id, voters: (1...UInt64(count)).map { NodeID($0) }, randomSeed: 0)
            config.randomSeed = seed &* 0x9E37_79B9_7F4A_7C15 &+ id.rawValue
            config.electionTimeoutTicks = options.electionTimeoutTicks
            config.heartbeatIntervalTicks = options.heartbeatIntervalTicks
            config.preVote = options.preVote
            config.checkQuorum = options.checkQuorum
            config.maxInflightMessages = options.maxInflightMessages
            config.maxMessageBytes = options.maxMessageBytes
            config.maxApplyBytes = options.maxApplyBytes
            config.maxUncommittedEntries = options.maxUncommittedEntries
            var node = SimNode(
                config: config, snapshotEveryEntries: options.snapshotEveryEntries,
                entryCacheBytes: options.entryCacheBytes)
            if options.durableStorage { node.durable = DurableBackend(nodeID: id) }
            return node
        }
        partitionGroup = Array(repeating: 0, count: count)
        linkCutUntil = Array(repeating: Array(repeating: 0, count: count), count: count)
        restartAt = Array(repeating: nil, count: count)
        pendingCrash = Array(repeating: nil, count: count)
        openReads = Array(repeating: [], count: count)
        livenessReads = Array(repeating: nil, count: count)
    }

    /// Runs both phases, stopping at the first step that found a violation.
    public func run() -> SimulationResult {
        precondition(now == 0, "a Simulator runs once; create another from the same seed to replay")
        log("options \(options)")
        while now < options.safetyPhaseTicks && violations.isEmpty {
            step()
        }
        if violations.isEmpty { runLivenessPhase() }
        stats.ticks = now
        stats.maxTerm = nodes.map { $0.raft.currentTerm.rawValue }.max() ?? 0
        stats.committedIndex = safety.committedIndex.rawValue
        stats.completedWrites = reads.completedWrites
        stats.servedReads = reads.servedReads
        return SimulationResult(
            options: options, violations: violations, fingerprint: fingerprint.value, stats: stats)
    }

    // MARK: - One tick

    private func step() {
        now += 1
        fingerprint.mix(now)
        if faultsEnabled { injectFaults() }
        restartDueNodes()
        for i in nodes.indices where nodes[i].isRunning {
            var ticks = 1
            if faultRNG.chance(options.tickJitterRate) { ticks = faultRNG.chance(0.5) ? 0 : 2 }
            for _ in 0..<ticks { nodes[i].tick() }
            drain(i)
        }
        if clientsEnabled { clientActions() }
        if faultsEnabled && churnRNG.chance(options.membershipChurnRate) { churnMembership() }
        deliverDueMessages()
        checkLogMatching(full: now % 64 == 0)
        collectViolations()
    }

    private func deliverDueMessages() {
        var delivered = 0
        while let message = network.popDue(atOrBefore: now) {
            delivered += 1
            if delivered > 100_000 {
                violations.append("simulator: more than 100000 deliveries in tick \(now) (a message storm)")
                return
            }
            let to = index(of: message.to)
            let from = index(of: message.from)
            guard nodes[to].isRunning else {
                stats.droppedMessages += 1
                continue
            }
            if !linkIsUp(from, to) {
                stats.droppedMessages += 1
                if nodes[from].isRunning && networkRNG.chance(options.transportReportRate) {
                    log("\(message.from) transport: \(message.to) unreachable")
                    _ = try? nodes[from].withRaft { raft in raft.reportUnreachable(message.to) }
                    drain(from)
                }
                continue
            }
            stats.deliveredMessages += 1
            fingerprint.mix(message.from.rawValue &<< 8 | message.to.rawValue)
            fingerprint.mix(message.term.rawValue)
            fingerprint.mix(message.body.kindTag)
            if trace != nil { log("deliver \(message)") }
            nodes[to].step(message)
            drain(to)
        }
    }

    /// Runs the node's Ready loop, checks what it did, and puts its messages on the network.
    private func drain(_ i: Int) {
        guard nodes[i].isRunning else { return }
        if pendingCrash[i] == .beforePersisting, let sent = nodes[i].crashAfterSendingBeforePersisting() {
            log("\(ids[i]) crashes after sending \(sent.count) messages, before persisting")
            for message in sent {
                contract.observeSend(message, storage: nodes[i].storage, raft: nodes[i].raft)
                send(message)
            }
            crash(i)
            return
        }
        let (messages, applied) = nodes[i].drain()
        let id = ids[i]
        for event in nodes[i].events {
            switch event {
            case .snapshotInstalled: stats.snapshotsInstalled += 1
            case .electionWon: stats.elections += 1
            default: break
            }
            log("\(id) \(event)")
        }
        if trace != nil {
            for entry in applied { log("\(id) apply \(LogMatchingChecker.describe(entry))") }
        }
        nodes[i].events.removeAll()
        safety.observe(node: id, raft: nodes[i].raft, applied: applied)
        contract.observe(node: id, raft: nodes[i].raft, storage: nodes[i].storage)
        for entry in applied {
            fingerprint.mix(entry.index.rawValue &<< 16 | entry.term.rawValue &<< 4 | id.rawValue)
            guard entry.kind == .command else { continue }
            let parts = String(decoding: entry.data, as: UTF8.self).split(separator: " ")
            guard parts.count == 3 else {
                violations.append("simulator: \(id) applied an entry the clients never wrote: \(entry)")
                continue
            }
            reads.writeApplied(key: String(parts[1]), value: String(parts[2]), index: entry.index)
        }
        serveReads(i)
        if pendingCrash[i] == .afterPersisting && !messages.isEmpty {
            log("\(id) crashes after persisting, before sending \(messages.count) messages")
            crash(i)
            return
        }
        for message in messages {
            contract.observeSend(message, storage: nodes[i].storage, raft: nodes[i].raft)
            send(message)
        }
    }

    private func send(_ message: Message) {
        stats.sentMessages += 1
        if faultsEnabled && networkRNG.chance(options.lossRate) {
            stats.droppedMessages += 1
            return
        }
        var copies = 1
        if faultsEnabled && networkRNG.chance(options.duplicateRate) {
            if case .propose = message.body {} else { copies = 2 }
        }
        for _ in 0..<copies {
            var delay = networkRNG.int(in: options.messageDelayTicks)
            if faultsEnabled && networkRNG.chance(options.reorderRate) {
                delay += networkRNG.int(in: 1...options.reorderExtraDelayTicks)
            }
            network.send(message, dueTick: now + delay)
        }
    }

    // MARK: - Reads

    /// Records the read states the node produced, and serves every read whose index the node has applied.
    private func serveReads(_ i: Int) {
        if openReads[i].isEmpty {
            // Nothing to serve; drop read states for reads we no longer track (see below).
            if !nodes[i].readStates.isEmpty { nodes[i].readStates.removeAll() }
            if !nodes[i].failedReads.isEmpty { nodes[i].failedReads.removeAll() }
            return
        }
        if !nodes[i].failedReads.isEmpty {
            for context in nodes[i].failedReads {
                if let position = openReads[i].firstIndex(where: { $0.id == context.rawValue }) {
                    reads.readAbandoned(id: context.rawValue)
                    openReads[i].remove(at: position)
                }
            }
            nodes[i].failedReads.removeAll()
        }
        for state in nodes[i].readStates {
            // A read state for a read we no longer track (its node crashed since) is ignored.
            if let position = openReads[i].firstIndex(where: { $0.id == state.context.rawValue }) {
                openReads[i][position].index = state.index
            }
        }
        nodes[i].readStates.removeAll()
        let applied = nodes[i].stateMachine.appliedIndex
        var remaining: [OpenRead] = []
        for read in openReads[i] {
            guard let index = read.index, index <= applied || bug == .serveReadsBeforeApplied else {
                remaining.append(read)
                continue
            }
            let value = nodes[i].stateMachine.values[read.key]
            log("\(ids[i]) serve r\(read.id) \(read.key)=\(value ?? "nil") at index \(index) applied \(applied)")
            fingerprint.mix(read.id &<< 20 | index.rawValue)
            reads.readServed(id: read.id, value: value)
            if livenessReads[i] == read.id { livenessReads[i] = nil }
        }
        openReads[i] = remaining
    }

    // MARK: - Clients and operators

    /// Each action picks among the nodes running at that moment: an earlier action's drain may have crashed one.
    private func clientActions() {
        if clientRNG.chance(options.proposalRate), let i = pickRunningNode() {
            let key = "k\(clientRNG.int(in: 0...(options.keyCount - 1)))"
            propose(key: key, on: i)
        }
        if clientRNG.chance(options.readRate), let i = pickRunningNode() {
            let key = "k\(clientRNG.int(in: 0...(options.keyCount - 1)))"
            read(key: key, on: i)
        }
        if clientRNG.chance(options.manualSnapshotRate), let i = pickRunningNode() {
            log("\(ids[i]) takes a snapshot at \(nodes[i].stateMachine.appliedIndex)")
            nodes[i].takeSnapshot()
            drain(i)
        }
        if faultsEnabled && clientRNG.chance(options.transferRate), let i = pickRunningNode() {
            let target = clientRNG.pick(ids)
            log("\(ids[i]) operator: transfer leadership to \(target)")
            _ = try? nodes[i].withRaft { (raft) throws(RaftError) in try raft.transferLeadership(to: target) }
            drain(i)
        }
        if faultsEnabled && clientRNG.chance(options.campaignRate), let i = pickRunningNode() {
            log("\(ids[i]) operator: campaign")
            _ = try? nodes[i].withRaft { raft in raft.campaign() }
            drain(i)
        }
    }

    /// The operator changes the membership through the current leader: a node outside it is added as a
    /// learner, a learner promoted, a voter or learner removed (the leader too). The core refuses what is
    /// unsafe or premature (a change pending, a learner behind, no live quorum left); that is counted, not a
    /// failure.
    private func churnMembership() {
        guard
            let leader = nodes.indices.filter({ nodes[$0].isRunning && nodes[$0].raft.currentRole == .leader })
                .max(by: { nodes[$0].raft.currentTerm < nodes[$1].raft.currentTerm }),
            let membership = nodes[leader].raft.membership
        else { return }
        let target = churnRNG.pick(ids)
        let change: MembershipChange =
            !membership.contains(target)
            ? .addLearner(target) : membership.isLearner(target) ? .promote(target) : .remove(target)
        do {
            let index = try nodes[leader].withRaft { (raft) throws(RaftError) in
                try raft.proposeMembershipChange(change)
            }
            stats.membershipChanges += 1
            log("\(ids[leader]) operator: \(change) at \(index.map(String.init(describing:)) ?? "-")")
        } catch {
            stats.membershipChangesRefused += 1
            log("\(ids[leader]) operator: \(change) refused: \(error)")
        }
        drain(leader)
    }

    /// In the liveness phase: the leader brings every node back as a voter, one change at a time (a learner
    /// first, promoted once caught up), retrying what it refuses. Returns whether all are voters.
    private func restoreFullMembership(leader: Int) -> Bool {
        guard let membership = nodes[leader].raft.membership else { return false }
        guard let missing = ids.first(where: { !membership.isVoter($0) }) else { return true }
        let change: MembershipChange = membership.isLearner(missing) ? .promote(missing) : .addLearner(missing)
        if (try? nodes[leader].withRaft({ (raft) throws(RaftError) in try raft.proposeMembershipChange(change) }))
            != nil
        {
            log("\(ids[leader]) operator: \(change) (restoring the full membership)")
        }
        drain(leader)
        return false
    }

    private func pickRunningNode() -> Int? {
        let running = nodes.indices.filter { nodes[$0].isRunning }
        return running.isEmpty ? nil : clientRNG.pick(running)
    }

    /// Proposes a fresh value for `key` on node `i`; returns whether the core accepted it.
    @discardableResult
    private func propose(key: String, on i: Int, prefix: String = "v") -> String? {
        nextValue += 1
        let value = "\(prefix)\(nextValue)"
        do {
            let outcome = try nodes[i].withRaft { (raft) throws(RaftError) in
                try raft.propose(KVStateMachine.putCommand(key, value))
            }
            guard outcome != nil else { return nil }
            stats.proposals += 1
            reads.writeInvoked(key: key, value: value)
            log("\(ids[i]) client: put \(key)=\(value)")
        } catch {
            log("\(ids[i]) client: put \(key)=\(value) refused: \(error)")
            return nil
        }
        drain(i)
        return value
    }

    /// Asks node `i` for a ReadIndex read of `key`; returns its id, or nil if the node refused it.
    @discardableResult
    private func read(key: String, on i: Int) -> UInt64? {
        nextReadID += 1
        let id = nextReadID
        do {
            _ = try nodes[i].withRaft { (raft) throws(RaftError) in try raft.readIndex(ReadContext(id)) }
        } catch {
            log("\(ids[i]) client: read r\(id) \(key) refused: \(error)")
            return nil
        }
        stats.reads += 1
        log("\(ids[i]) client: read r\(id) \(key)")
        reads.readInvoked(id: id, key: key)
        openReads[i].append(OpenRead(id: id, key: key, index: nil))
        drain(i)
        return id
    }

    // MARK: - Faults

    private func injectFaults() {
        let count = nodes.count
        if let end = partitionEndsAt, now >= end {
            healPartition()
        }
        if partitionEndsAt == nil && faultRNG.chance(options.partitionRate) {
            let groups = faultRNG.int(in: 2...(count == 5 ? 3 : 2))
            partitionGroup = (0..<count).map { _ in faultRNG.int(in: 0...(groups - 1)) }
            partitionEndsAt = now + faultRNG.int(in: options.partitionDurationTicks)
            stats.partitions += 1
            log("partition \(partitionDescription) until \(partitionEndsAt!)")
        }
        if faultRNG.chance(options.linkCutRate) {
            let from = faultRNG.int(in: 0...(count - 1))
            var to = faultRNG.int(in: 0...(count - 2))
            if to >= from { to += 1 }
            linkCutUntil[from][to] = now + faultRNG.int(in: options.linkCutDurationTicks)
            stats.linkCuts += 1
            log("cut \(ids[from])->\(ids[to]) until \(linkCutUntil[from][to])")
        }
        if faultRNG.chance(options.crashRate) {
            let running = nodes.indices.filter { nodes[$0].isRunning && pendingCrash[$0] == nil }
            if !running.isEmpty {
                let i = faultRNG.pick(running)
                restartAt[i] = now + faultRNG.int(in: options.downtimeTicks)
                if faultRNG.chance(options.crashMidReadyShare) {
                    pendingCrash[i] = faultRNG.chance(0.5) ? .afterPersisting : .beforePersisting
                    log("\(ids[i]) will crash \(pendingCrash[i]!) its next Ready, restart at \(restartAt[i]!)")
                } else {
                    log("\(ids[i]) crashes, restart at \(restartAt[i]!)")
                    crash(i)
                }
            }
        }
    }

    private var partitionDescription: String {
        let groups = Set(partitionGroup).sorted()
        return groups.map { g in ids.indices.filter { partitionGroup[$0] == g }.map { "\(ids[$0])" } }
            .map { "[" + $0.joined(separator: " ") + "]" }.joined(separator: " ")
    }

    private func healPartition() {
        partitionGroup = Array(repeating: 0, count: nodes.count)
        partitionEndsAt = nil
        log("partition healed")
    }

    private func crash(_ i: Int) {
        stats.crashes += 1
        fingerprint.mix(0xDEAD &<< 8 | ids[i].rawValue)
        if nodes[i].isRunning { nodes[i].crash() }
        contract.noteCrash(of: ids[i])
        pendingCrash[i] = nil
        for read in openReads[i] { reads.readAbandoned(id: read.id) }
        openReads[i].removeAll()
        // The dead process's connections close; followers that can still reach it may notice at once.
        for j in nodes.indices where j != i && nodes[j].isRunning && linkIsUp(i, j) {
            guard nodes[j].raft.currentLeader == ids[i], networkRNG.chance(options.transportReportRate) else {
                continue
            }
            log("\(ids[j]) transport: leader \(ids[i]) closed the connection")
            _ = try? nodes[j].withRaft { raft in raft.reportLeaderConnectionClosed(by: ids[i]) }
            drain(j)
        }
    }

    private func restartDueNodes() {
        for i in nodes.indices {
            guard let at = restartAt[i], now >= at else { continue }
            restartAt[i] = nil
            if pendingCrash[i] != nil {
                // The crash never struck (no Ready came): cancel it.
                pendingCrash[i] = nil
                continue
            }
            restart(i)
        }
    }

    private func restart(_ i: Int) {
        log("\(ids[i]) restarts")
        fingerprint.mix(0xB007 &<< 8 | ids[i].rawValue)
        if bug == .amnesiaOnRestart {
            nodes[i] = SimNode(
                config: nodes[i].config, snapshotEveryEntries: options.snapshotEveryEntries,
                entryCacheBytes: options.entryCacheBytes)
        } else {
            nodes[i].restart()
        }
        safety.noteRestart(of: ids[i])
        drain(i)
    }

    // MARK: - Liveness

    private func runLivenessPhase() {
        log("liveness phase: heal everything, restart crashed nodes, stop faults")
        faultsEnabled = false
        clientsEnabled = false
        healPartition()
        for from in nodes.indices { for to in nodes.indices { linkCutUntil[from][to] = 0 } }
        for i in nodes.indices where !nodes[i].isRunning || pendingCrash[i] != nil {
            pendingCrash[i] = nil
            restartAt[i] = nil
            restart(i)
        }
        let start = now
        let deadline = now + options.livenessBoundTicks
        let retryTicks = 3 * options.electionTimeoutTicks.upperBound
        var probeProposedAt: Int?
        var probes: [String] = []
        var converged = false
        var livenessReadAskedAt = Array(repeating: 0, count: nodes.count)
        while now < deadline && violations.isEmpty {
            step()
            if converged {
                // Then a ReadIndex read on every node must be served (the checker judges its value).
                // A read request (or its answer) dies with a leadership change: the core drops reads pending at a
                // deposed leader for other nodes, as etcd-raft does, and clients retry after a timeout.
                var pending = false
                for i in nodes.indices {
                    guard let id = livenessReads[i] else { continue }
                    pending = true
                    let open = openReads[i].contains { $0.id == id }
                    if open && now - livenessReadAskedAt[i] < retryTicks { continue }
                    if open {
                        log("\(ids[i]) client: read r\(id) timed out")
                        reads.readAbandoned(id: id)
                        openReads[i].removeAll { $0.id == id }
                    }
                    livenessReads[i] = read(key: "probe", on: i)
                    livenessReadAskedAt[i] = now
                }
                if !pending {
                    stats.livenessTicks = now - start
                    log("liveness: reads served after \(now - start) ticks")
                    return
                }
                continue
            }
            // Nodes outside the membership never hear from the leader: bring them back first.
            if let leader = soleLeader(), !restoreFullMembership(leader: leader) { continue }
            guard let leader = stableLeader() else { continue }
            let probeApplied = probes.contains { nodes[leader].stateMachine.values["probe"] == $0 }
            if !probeApplied && (probeProposedAt.map { now - $0 >= retryTicks } ?? true) {
                if let value = propose(key: "probe", on: leader, prefix: "p") { probes.append(value) }
                probeProposedAt = now
            }
            if probeApplied && hasConverged(leader: leader) {
                log("liveness: converged after \(now - start) ticks, leader \(ids[leader])")
                converged = true
                for i in nodes.indices {
                    livenessReads[i] = read(key: "probe", on: i)
                    livenessReadAskedAt[i] = now
                }
            }
        }
        guard violations.isEmpty else { return }
        violations.append(
            "liveness: no convergence within \(options.livenessBoundTicks) ticks after healing"
                + " (probes proposed: \(probes), converged: \(converged), reads pending: \(livenessReads))")
        for node in nodes {
            let s = node.raft.status
            violations.append(
                "liveness:   \(s.id) \(s.role) term=\(s.term.rawValue) leader=\(s.leader?.description ?? "-")"
                    + " commit=\(s.commitIndex) applied=\(node.stateMachine.appliedIndex) last=\(s.lastIndex)@"
                    + "\(s.lastTerm.rawValue) probe=\(node.stateMachine.values["probe"] ?? "-")")
        }
    }

    /// The one leader every node knows, all in its term, if there is one.
    private func stableLeader() -> Int? {
        guard nodes.allSatisfy({ $0.isRunning }) else { return nil }
        let leaders = nodes.indices.filter { nodes[$0].raft.currentRole == .leader }
        guard leaders.count == 1, let leader = leaders.first else { return nil }
        let term = nodes[leader].raft.currentTerm
        let known = nodes.allSatisfy { $0.raft.currentTerm == term && $0.raft.currentLeader == ids[leader] }
        return known ? leader : nil
    }

    /// The one running leader of the highest term among running leaders, if there is exactly one.
    private func soleLeader() -> Int? {
        let leaders = nodes.indices.filter { nodes[$0].isRunning && nodes[$0].raft.currentRole == .leader }
        guard let top = leaders.map({ nodes[$0].raft.currentTerm }).max() else { return nil }
        let atTop = leaders.filter { nodes[$0].raft.currentTerm == top }
        return atTop.count == 1 ? atTop[0] : nil
    }

    private func hasConverged(leader: Int) -> Bool {
        let last = nodes[leader].raft.lastIndex
        let values = nodes[leader].stateMachine.values
        return nodes.allSatisfy {
            $0.raft.commitIndex == last && $0.stateMachine.appliedIndex == last && $0.stateMachine.values == values
        }
    }

    // MARK: - Checks

    private func checkLogMatching(full: Bool) {
        let running = nodes.indices.filter { nodes[$0].isRunning }
        guard running.count >= 2 else { return }
        var pairs: [(Int, Int)] = []
        if full {
            for a in running { for b in running where b > a { pairs.append((a, b)) } }
        } else {
            let a = checkRNG.pick(running)
            var b = checkRNG.pick(running)
            if a == b { b = running[(running.firstIndex(of: a)! + 1) % running.count] }
            pairs.append((a, b))
        }
        for (a, b) in pairs {
            let x = LogView(nodes[a].raft)
            let y = LogView(nodes[b].raft)
            let low = max(x.firstIndex, y.firstIndex)
            let high = min(x.lastIndex, y.lastIndex)
            guard low <= high else { continue }
            var indexes: [LogIndex]
            if full {
                indexes = Array(low...high)
            } else {
                indexes = [low, high]
                for _ in 0..<4 {
                    indexes.append(LogIndex(UInt64(checkRNG.int(in: Int(low.rawValue)...Int(high.rawValue)))))
                }
            }
            violations.append(contentsOf: LogMatchingChecker.check(x, y, at: indexes))
        }
    }

    private var reportedSafety = 0
    private var reportedReads = 0
    private var reportedContract = 0

    private func collectViolations() {
        if safety.violations.count > reportedSafety {
            violations.append(contentsOf: safety.violations[reportedSafety...])
            reportedSafety = safety.violations.count
        }
        if reads.violations.count > reportedReads {
            violations.append(contentsOf: reads.violations[reportedReads...])
            reportedReads = reads.violations.count
        }
        if contract.violations.count > reportedContract {
            violations.append(contentsOf: contract.violations[reportedContract...])
            reportedContract = contract.violations.count
        }
        if !violations.isEmpty { log("violation found at tick \(now)") }
    }

    // MARK: - Helpers

    private func index(of id: NodeID) -> Int { Int(id.rawValue) - 1 }

    private func linkIsUp(_ from: Int, _ to: Int) -> Bool {
        partitionGroup[from] == partitionGroup[to] && linkCutUntil[from][to] <= now
    }

    private func log(_ line: @autoclosure () -> String) {
        guard let trace else { return }
        trace("t=\(now) \(line())")
    }
}

/// A deliberate defect in the harness, for testing that the checkers fail when they should.
public enum InjectedBug: Sendable, Hashable {
    case none
    /// Serve a ReadIndex read as soon as its read state arrives, without waiting for the node to apply the
    /// read index: reads on lagging followers go stale.
    case serveReadsBeforeApplied
    /// Restart crashed nodes with empty storage, as if nothing had been persisted: votes and acknowledged
    /// entries are forgotten, so terms can get two leaders and committed entries can be lost.
    case amnesiaOnRestart
}

/// Counters describing one run, for reports and for choosing how many seeds fit a time budget.
public struct SimulationStats: Sendable, Hashable {
    public var ticks = 0
    public var sentMessages = 0
    public var deliveredMessages = 0
    public var droppedMessages = 0
    public var proposals = 0
    public var completedWrites = 0
    public var reads = 0
    public var servedReads = 0
    public var crashes = 0
    public var partitions = 0
    public var linkCuts = 0
    public var elections = 0
    public var snapshotsInstalled = 0
    public var membershipChanges = 0
    public var membershipChangesRefused = 0
    public var maxTerm: UInt64 = 0
    public var committedIndex: UInt64 = 0
    /// Ticks from healing until every node converged and served a read (nil if that did not happen).
    public var livenessTicks: Int?

    public init() {}
}

/// The outcome of one seed. ``report`` puts the seed first and the replay command last.
public struct SimulationResult: Sendable {
    public let options: SimulationOptions
    public let violations: [String]
    /// A hash of the run's observable behaviour (deliveries, applied entries, served reads, faults).
    public let fingerprint: UInt64
    public let stats: SimulationStats

    public var passed: Bool { violations.isEmpty }
    public var seed: UInt64 { options.seed }

    /// The command that replays this seed with a full trace.
    public var replayCommand: String {
        "RAFT_SIM_SEED=\(seed) RAFT_SIM_TRACE=1 swift test --filter SimulationTests/replay"
    }

    public var summary: String {
        "seed=\(seed) nodes=\(options.nodeCount) ticks=\(stats.ticks) term=\(stats.maxTerm)"
            + " commit=\(stats.committedIndex) writes=\(stats.completedWrites)/\(stats.proposals)"
            + " reads=\(stats.servedReads)/\(stats.reads) msgs=\(stats.deliveredMessages)/\(stats.sentMessages)"
            + " crashes=\(stats.crashes) partitions=\(stats.partitions) cuts=\(stats.linkCuts)"
            + " elections=\(stats.elections) snapshotsInstalled=\(stats.snapshotsInstalled)"
            + " converged=\(stats.livenessTicks.map(String.init) ?? "-")"
            + " fingerprint=\(String(fingerprint, radix: 16))"
    }

    /// Seed, options, violations, replay command: in that order.
    public var report: String {
        var lines = ["RAFT_SIM_SEED=\(seed) " + (passed ? "passed" : "FAILED"), "options: \(options)", summary]
        lines += violations.map { "violation: " + $0 }
        lines.append("replay: " + replayCommand)
        return lines.joined(separator: "\n")
    }
}
