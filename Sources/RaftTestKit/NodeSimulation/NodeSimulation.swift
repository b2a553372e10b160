import Glibc
import RaftCore
import RaftKV
import RaftRuntime
import RaftStorage

/// A seeded, deterministic simulation of a whole cluster that runs the production node: real ``NodeRuntime``s
/// with the real ``KVStore`` over the real ``NodeStorage`` on ``InMemoryFileSystem``s, driven by simulated
/// clients through the same proposal path raftd's HTTP handler uses, in the style of FoundationDB's simulator and
/// TigerBeetle's VOPR.
///
/// Faults, all drawn from the seed: message loss, duplication, reordering and delay; partitions and one-way link
/// cuts; process crashes (`kill -9`); power loss of one node or of all (unsynced writes lost or torn at a random
/// byte); fsync failures and failed or short writes (EIO, ENOSPC), after which the node serves nothing until it is
/// restarted; wall-clock skew and jumps; restarts with client requests in flight.
///
/// Checked after every step: at most one leader per term, and every node applies the same entry at each index.
/// At the end: every idempotency key executed at most once; every acknowledged write is in the log at the index
/// and term its client was told; the client-visible history is linearizable, key by key; and after healing the
/// cluster converges (all nodes apply everything) within a bound.
///
/// Invariant: the run is a function of the seed alone (no clock, no hashing order, no threads), so
/// `NodeSimulation(seed:).run()` replays it exactly.
public final class NodeSimulation {
    public let options: NodeSimulationOptions
    var random: SplitMix64
    var hosts: [SimulatedNodeHost] = []
    let recorder = ApplyRecorder()
    var stats = NodeSimulationStats()
    var violations: [String] = []
    let traceSink: ((String) -> Void)?

    var tick = 0
    var wallClockMilliseconds: Int64 = 1_800_000_000_000
    /// The global order of client events: every invocation and return takes the next value.
    private var eventClock: UInt64 = 0

    // Network.
    private struct InFlight {
        var deliverAt: Int
        var sequence: Int
        var message: Message
        /// An InstallSnapshot's file, read from the sender's disk when it was sent (the core's snapshot carries
        /// metadata only, as in raftd, whose transport streams the file).
        var snapshotFile: [UInt8]?
    }
    private var inFlight: [InFlight] = []
    private var messageSequence = 0
    private var group: [NodeID: Int] = [:]
    private var partitionEndsAt: Int?
    private var cutLinks: [(from: NodeID, to: NodeID, until: Int)] = []

    private var timers: [(at: Int, sequence: Int, action: () -> Void)] = []
    private var timerSequence = 0

    // Clients.
    private var clients: [SimulatedClient] = []
    private var completions: [(client: Int, operation: Int, attempt: Int, result: ClientResult)] = []
    var history: [KVOperation] = []
    private var acknowledgedWrites: [(operation: Int, index: LogIndex, term: Term, idempotencyKey: String)] = []
    private var leaders: [Term: NodeID] = [:]

    public init(seed: UInt64, trace: ((String) -> Void)? = nil) {
        options = NodeSimulationOptions(seed: seed)
        random = SplitMix64(seed: seed)
        traceSink = trace
    }

    /// A run with the given options (for scenarios such as ``NodeSimulationOptions/fullDiskFollower(seed:)``).
    public init(options: NodeSimulationOptions, trace: ((String) -> Void)? = nil) {
        self.options = options
        random = SplitMix64(seed: options.seed)
        traceSink = trace
    }

    // The full-disk story (see `NodeSimulationOptions.fullDiskFollowerTicks`).
    private var fullDisk: (host: SimulatedNodeHost, leader: NodeID, term: Term)?
    private var fullDiskReported = false

    func trace(_ line: @autoclosure () -> String) {
        traceSink?("[\(tick)] \(line())")
    }

    func random(in range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
    func chance(_ probability: Double) -> Bool {
        probability > 0 && Double.random(in: 0..<1, using: &random) < probability
    }

    func schedule(afterTicks delay: Int, _ action: @escaping () -> Void) {
        timerSequence += 1
        timers.append((tick + max(1, delay), timerSequence, action))
    }

    var voters: [NodeID] { hosts.map(\.id) }

    // MARK: - Running

    public func run() -> NodeSimulationResult {
        hosts = (1...options.nodeCount).map { SimulatedNodeHost(id: NodeID(UInt64($0)), simulation: self) }
        for host in hosts {
            host.clockSkewMilliseconds = Int64.random(
                in: -options.maxClockSkewMilliseconds...options.maxClockSkewMilliseconds, using: &random)
            start(host)
        }
        clients = (0..<options.clientCount).map { SimulatedClient(id: $0) }
        let healAt = options.faultPhaseTicks
        let clientsStopAt = healAt + 200
        let end = healAt + options.convergenceBoundTicks
        var convergedAt: Int?
        while tick < end {
            tick += 1
            wallClockMilliseconds += 10
            if tick < healAt { injectFaults() } else if tick == healAt { heal() }
            if tick < healAt && chance(options.membershipChurnRate) { churnMembership() }
            if tick >= healAt { restoreFullMembership() }
            driveFullDisk()
            restartDueNodes()
            for host in hosts { host.runtime?.tick() }
            runDueTimers()
            deliverDueMessages()
            flushAll()
            stepClients(mayStart: tick < clientsStopAt)
            flushAll()
            processCompletions()
            checkLeaders()
            if tick > clientsStopAt && converged() {
                convergedAt = tick
                break
            }
        }
        stats.ticks = tick
        if convergedAt == nil {
            violations.append(
                "no convergence within \(options.convergenceBoundTicks) ticks of healing: " + describeNodes())
        } else {
            stats.convergenceTicks = tick - healAt
        }
        finalChecks()
        for host in hosts {
            countEntryReads(host)
            host.runtime?.stop()
        }
        return NodeSimulationResult(
            seed: options.seed, options: options, violations: recorder.violations + violations, stats: stats,
            history: history)
    }

    // MARK: - Nodes

    func start(_ host: SimulatedNodeHost) {
        countEntryReads(host)
        host.incarnation += 1
        host.downUntil = nil
        host.failureHandled = false
        var raft = RaftConfig(id: host.id, voters: voters, randomSeed: random.next())
        raft.electionTimeoutTicks = options.electionTimeoutTicks
        raft.heartbeatIntervalTicks = options.heartbeatIntervalTicks
        raft.entryCacheBytes = options.entryCacheBytes
        let runtimeOptions = RuntimeOptions(
            raft: raft, requestTimeoutTicks: options.requestTimeoutTicks,
            snapshotThresholdEntries: options.snapshotThresholdEntries)
        let storageOptions = StorageOptions(
            directory: "/data/\(host.id)", clusterID: ClusterID(0x51_0D), nodeID: host.id,
            segmentSizeBytes: options.segmentSizeBytes, syncPolicy: .always)
        do {
            let storage = try NodeStorage(options: storageOptions, fileSystem: host.fileSystem)
            host.runtime = try NodeRuntime(
                options: runtimeOptions, storage: storage,
                emptyStateMachine: CheckedKVStore(recorder: recorder, node: host.id), environment: host)
            trace("\(host.id) started (incarnation \(host.incarnation))")
        } catch  where fullDisk?.host === host && fullDiskIsFull {
            // What a supervisor sees when a node cannot start on a full disk: it tries again later.
            stats.failedRestarts += 1
            trace("\(host.id) cannot start on its full disk: \(error)")
            host.runtime = nil
            host.downUntil = tick + 25
        } catch {
            violations.append("\(host.id) cannot restart after its crash: \(error)")
            host.runtime = nil
            host.downUntil = Int.max
        }
    }

    /// Adds the entries the core of `host`'s current process read back from its WAL to the stats.
    func countEntryReads(_ host: SimulatedNodeHost) {
        stats.entriesReadBack += host.runtime?.storage.entriesReadBack ?? 0
    }

    /// Stops a node's process. With `powerLoss`, what it did not sync is lost, the unsynced tail torn at a
    /// random byte; without, the page cache keeps everything it wrote.
    func crash(_ host: SimulatedNodeHost, powerLoss: Bool, downFor ticks: Int) {
        countEntryReads(host)
        host.runtime = nil
        host.powerCutArmed = false
        if powerLoss {
            if chance(0.5) {
                host.fileSystem.simulateCrash(tearingUnsyncedWritesWith: &random)
            } else {
                host.fileSystem.simulateCrash(losingPagesWith: &random)
            }
            stats.powerLosses += 1
        } else {
            host.fileSystem.simulateProcessCrash()
            stats.processCrashes += 1
        }
        host.incarnation += 1
        host.downUntil = tick + ticks
        trace("\(host.id) \(powerLoss ? "lost power" : "crashed"), down for \(ticks) ticks")
    }

    private var fullDiskIsFull: Bool {
        guard let window = options.fullDiskFollowerTicks else { return false }
        return window.contains(tick)
    }

    /// Fills a follower's disk once the window opens and a leader exists, frees it when the window closes, and
    /// checks meanwhile that the leader keeps its leadership and nobody's term rises.
    private func driveFullDisk() {
        guard let window = options.fullDiskFollowerTicks, tick >= window.lowerBound else { return }
        if fullDisk == nil {
            guard tick < window.upperBound,
                let leader = hosts.first(where: { $0.runtime?.raft.currentRole == .leader }),
                let follower = hosts.filter({ $0 !== leader && $0.isRunning }).randomElement(using: &random)
            else { return }
            fullDisk = (follower, leader.id, leader.runtime!.raft.currentTerm)
            follower.fileSystem.setCapacity(bytes: follower.fileSystem.usedBytes)
            trace("\(follower.id): disk full (leader \(leader.id))")
            return
        }
        guard let (host, leader, term) = fullDisk else { return }
        if tick == window.upperBound {
            host.fileSystem.setCapacity(bytes: nil)
            trace("\(host.id): space is back")
        }
        guard !fullDiskReported else { return }
        for other in hosts {
            guard let runtime = other.runtime else { continue }
            if runtime.raft.currentTerm != term {
                violations.append(
                    "\(other.id) is at term \(runtime.raft.currentTerm), not \(term), while only \(host.id)'s disk was full"
                )
                fullDiskReported = true
            } else if other.id == leader && runtime.raft.currentRole != .leader {
                violations.append("\(leader) lost its leadership while only \(host.id)'s disk was full")
                fullDiskReported = true
            }
        }
    }

    private func restartDueNodes() {
        for host in hosts {
            if let until = host.downUntil, until <= tick { start(host) }
            // A node whose storage failed serves nothing; its operator restarts it. Whether the failed write
            // reached the disk is unknown, so the restart follows a power loss.
            if let runtime = host.runtime, runtime.storageFailure != nil, host.powerCutArmed {
                host.powerCutArmed = false
                crash(host, powerLoss: true, downFor: random(in: options.downtimeTicks))
                continue
            }
            if let runtime = host.runtime, runtime.storageFailure != nil, !host.failureHandled {
                host.failureHandled = true
                let downtime = random(in: options.downtimeTicks)
                schedule(afterTicks: random(in: 1...20)) { [self] in
                    if host.runtime === runtime { crash(host, powerLoss: true, downFor: downtime) }
                }
            }
        }
    }

    private func flushAll() {
        for host in hosts { host.runtime?.flush() }
    }

    private func runDueTimers() {
        let due = timers.filter { $0.at <= tick }.sorted { ($0.at, $0.sequence) < ($1.at, $1.sequence) }
        timers.removeAll { $0.at <= tick }
        for timer in due { timer.action() }
    }

    // MARK: - Faults

    private func injectFaults() {
        let running = hosts.filter(\.isRunning)
        if let host = running.randomElement(using: &random), chance(options.processCrashRate) {
            crash(host, powerLoss: false, downFor: random(in: options.downtimeTicks))
        }
        if let host = hosts.filter(\.isRunning).randomElement(using: &random), chance(options.powerLossRate) {
            crash(host, powerLoss: true, downFor: random(in: options.downtimeTicks))
        }
        if chance(options.clusterPowerLossRate) {
            stats.clusterPowerLosses += 1
            for host in hosts where host.isRunning {
                crash(host, powerLoss: true, downFor: random(in: options.downtimeTicks))
            }
        }
        if let host = hosts.filter(\.isRunning).randomElement(using: &random), chance(options.storageFaultRate) {
            stats.storageFaultsInjected += 1
            switch random(in: 0...5) {
            case 3...5:
                // The power fails while the node writes: the bytes before the cut reach the disk, nothing after.
                host.fileSystem.injectWriteCut(afterBytes: random(in: 0...400), errno: EIO, partialIsDurable: true)
                host.powerCutArmed = true
                trace("\(host.id): power fails during its next write")
            case 0:
                host.fileSystem.injectSyncFailure(errno: EIO)
                trace("\(host.id): next fsync fails")
            case 1:
                host.fileSystem.injectWriteCut(afterBytes: random(in: 0...300), errno: ENOSPC, partialIsDurable: false)
                trace("\(host.id): disk full soon")
            default:
                host.fileSystem.injectWriteCut(afterBytes: random(in: 0...300), errno: EIO, partialIsDurable: false)
                trace("\(host.id): next write fails")
            }
        }
        if partitionEndsAt == nil, chance(options.partitionRate) {
            for host in hosts { group[host.id] = random(in: 0...1) }
            partitionEndsAt = tick + random(in: options.faultDurationTicks)
            stats.partitions += 1
            trace("partition \(hosts.map { "\($0.id):\(group[$0.id]!)" })")
        }
        if let end = partitionEndsAt, end <= tick {
            group.removeAll()
            partitionEndsAt = nil
        }
        if chance(options.linkCutRate), let from = hosts.randomElement(using: &random),
            let to = hosts.filter({ $0.id != from.id }).randomElement(using: &random)
        {
            cutLinks.append((from.id, to.id, tick + random(in: options.faultDurationTicks)))
            stats.linkCuts += 1
        }
        cutLinks.removeAll { $0.until <= tick }
        if chance(options.clockJumpRate), let host = hosts.randomElement(using: &random) {
            host.clockSkewMilliseconds += Int64.random(in: -600_000...600_000, using: &random)
            stats.clockJumps += 1
        }
    }

    /// The running leader of the highest term, if exactly one runs at that term.
    private func soleLeader() -> SimulatedNodeHost? {
        let leaders = hosts.filter { $0.runtime?.raft.currentRole == .leader }
        guard let top = leaders.compactMap({ $0.runtime?.raft.currentTerm }).max() else { return nil }
        let atTop = leaders.filter { $0.runtime?.raft.currentTerm == top }
        return atTop.count == 1 ? atTop[0] : nil
    }

    /// The operator changes the membership through the leader (refusals counted, not failures): a node outside
    /// it is added as a learner, a learner promoted, a voter or learner removed, the leader too.
    private func churnMembership() {
        guard let leader = soleLeader(), let runtime = leader.runtime, let membership = runtime.raft.membership,
            let target = hosts.randomElement(using: &random)?.id
        else { return }
        let change: MembershipChange =
            !membership.contains(target)
            ? .addLearner(target) : membership.isLearner(target) ? .promote(target) : .remove(target)
        do {
            let index = try runtime.withRaft { raft in try raft.proposeMembershipChange(change) }
            stats.membershipChanges += 1
            trace("\(leader.id) operator: \(change) at \(index)")
        } catch {
            trace("\(leader.id) operator: \(change) refused: \(error)")
        }
        runtime.flush()
    }

    /// After healing: the leader brings every node back as a voter, one change at a time, so that the
    /// convergence check can ask all of them.
    private func restoreFullMembership() {
        guard let leader = soleLeader(), let runtime = leader.runtime, let membership = runtime.raft.membership,
            let missing = hosts.map(\.id).first(where: { !membership.isVoter($0) })
        else { return }
        let change: MembershipChange = membership.isLearner(missing) ? .promote(missing) : .addLearner(missing)
        if (try? runtime.withRaft({ raft in try raft.proposeMembershipChange(change) })) != nil {
            trace("\(leader.id) operator: \(change) (restoring the full membership)")
            runtime.flush()
        }
    }

    private func heal() {
        group.removeAll()
        partitionEndsAt = nil
        cutLinks.removeAll()
        for host in hosts where !host.isRunning && host.downUntil != Int.max { host.downUntil = tick }
        trace("healed")
    }

    private func linkIsUp(from: NodeID, to: NodeID) -> Bool {
        if let a = group[from], let b = group[to], a != b { return false }
        return !cutLinks.contains { $0.from == from && $0.to == to }
    }

    // MARK: - Network

    func transmit(_ messages: [Message], from sender: SimulatedNodeHost) {
        let faulty = tick < options.faultPhaseTicks
        for message in messages {
            stats.messagesSent += 1
            var snapshotFile: [UInt8]?
            if case .installSnapshot(let snapshot) = message.body, let runtime = sender.runtime {
                // Read whole here: the simulation's snapshots are small. raftd streams the file in chunks.
                let path = runtime.snapshotFilePath(for: snapshot.metadata)
                guard let file = try? sender.fileSystem.open(path, options: .readOnly) else { continue }
                snapshotFile = try? sender.fileSystem.readAll(file)
                sender.fileSystem.close(file)
                if snapshotFile == nil { continue }
            }
            if faulty && chance(options.lossRate) { continue }
            let copies = faulty && chance(options.duplicateRate) ? 2 : 1
            for _ in 0..<copies {
                var delay = random(in: options.messageDelayTicks)
                if faulty && chance(options.reorderRate) { delay += random(in: 1...10) }
                messageSequence += 1
                inFlight.append(
                    InFlight(
                        deliverAt: tick + delay, sequence: messageSequence, message: message, snapshotFile: snapshotFile
                    ))
            }
        }
    }

    private func deliverDueMessages() {
        let due = inFlight.filter { $0.deliverAt <= tick }.sorted {
            ($0.deliverAt, $0.sequence) < ($1.deliverAt, $1.sequence)
        }
        inFlight.removeAll { $0.deliverAt <= tick }
        for item in due {
            let message = item.message
            guard linkIsUp(from: message.from, to: message.to),
                let host = hosts.first(where: { $0.id == message.to }), let runtime = host.runtime
            else { continue }
            stats.messagesDelivered += 1
            if let file = item.snapshotFile {
                receiveSnapshotFile(file, message, at: host, runtime)
            } else {
                runtime.receive(message)
            }
        }
    }

    /// Stages a transferred snapshot file on the receiver's disk in chunks, as raftd's transport does, and hands
    /// the InstallSnapshot to its runtime. Now and then the receiver crashes mid-transfer (a power loss or a
    /// process crash): the restarted node must find no partial snapshot.
    private func receiveSnapshotFile(
        _ file: [UInt8], _ message: Message, at host: SimulatedNodeHost, _ runtime: NodeRuntime<CheckedKVStore>
    ) {
        let chunkBytes = random(in: 64...4096)
        let crashAfter = chance(options.snapshotTransferCrashRate) ? random(in: 0...(file.count / chunkBytes)) : nil
        do {
            let stager = try runtime.storage.makeSnapshotStager()
            var offset = 0
            var chunks = 0
            while offset < file.count {
                if chunks == crashAfter {
                    stats.snapshotTransfersInterrupted += 1
                    trace("\(host.id) crashes receiving a snapshot from \(message.from) at byte \(offset)")
                    crash(host, powerLoss: chance(0.5), downFor: random(in: options.downtimeTicks))
                    return
                }
                let end = min(file.count, offset + chunkBytes)
                try stager.receive(offsetBytes: UInt64(offset), bytes: Array(file[offset..<end]))
                offset = end
                chunks += 1
            }
            _ = try stager.finish()
        } catch {
            trace("\(host.id) failed to stage a snapshot from \(message.from): \(error)")
            // An injected power cut fired in the transfer's write: the machine loses power there.
            if host.powerCutArmed {
                host.powerCutArmed = false
                crash(host, powerLoss: true, downFor: random(in: options.downtimeTicks))
            }
            return
        }
        runtime.receiveStagedSnapshot(message)
    }

    // MARK: - Clients

    private func nextEventTime() -> UInt64 {
        eventClock += 1
        return eventClock
    }

    private func stepClients(mayStart: Bool) {
        for index in clients.indices {
            if var operation = clients[index].current {
                if let retryAt = operation.retryAt, retryAt <= tick {
                    operation.retryAt = nil
                    clients[index].current = operation
                    attempt(client: index)
                } else if operation.retryAt == nil, operation.attemptDeadline <= tick {
                    failAttempt(client: index, reason: "no answer in time")
                }
            } else if mayStart && chance(options.clientRate) {
                begin(client: index)
            }
        }
    }

    /// A stale read (`?consistency=stale`): the node's local state, at once. It promises no recency, so it is not
    /// in the linearizability history; it must still return a value some client wrote to that key, or nothing.
    private func staleRead(client index: Int) {
        let key = "k\(random(in: 0...(options.keyCount - 1)))"
        let host = hosts[random(in: 0...(hosts.count - 1))]
        guard let runtime = host.runtime, runtime.isServing else { return }
        stats.staleReads += 1
        guard let value = runtime.stateMachine.store.value(for: Array(key.utf8)) else { return }
        let written = history.contains { operation in
            guard operation.key == key else { return false }
            switch operation.kind {
            case .put(let put): return put == value
            case .compareAndSet(_, let new): return new == value
            default: return false
            }
        }
        if !written {
            violations.append("a stale read of \(key) on \(host.id) returned \(KVOperation.text(value)), never written")
        }
    }

    private func begin(client index: Int) {
        if chance(0.1) { return staleRead(client: index) }
        clients[index].operationCount += 1
        let number = clients[index].operationCount
        let key = "k\(random(in: 0...(options.keyCount - 1)))"
        let value = Array("c\(index)-\(number)".utf8)
        let kind: KVOperation.Kind
        switch random(in: 0...99) {
        case 0..<40: kind = .read
        case 40..<75: kind = .put(value)
        case 75..<90:
            let expected = clients[index].lastSeen[key] ?? Array("none".utf8)
            kind = .compareAndSet(expected: expected, new: value)
        default: kind = .delete
        }
        history.append(
            KVOperation(client: index, key: key, kind: kind, invokedAt: nextEventTime(), returned: nil))
        clients[index].current = SimulatedClient.Operation(
            historyIndex: history.count - 1, key: key, kind: kind, idempotencyKey: "c\(index)-op\(number)",
            attempts: 0, attempt: 0, attemptDeadline: 0, retryAt: nil)
        stats.operations += 1
        attempt(client: index)
    }

    /// Sends the client's current operation to a random node, as a new attempt.
    private func attempt(client index: Int) {
        guard var operation = clients[index].current else { return }
        operation.attempts += 1
        operation.attempt += 1
        operation.attemptDeadline = tick + Int(options.attemptTimeoutTicks)
        clients[index].current = operation
        let host = hosts[random(in: 0...(hosts.count - 1))]
        guard let runtime = host.runtime else {
            return failAttempt(client: index, reason: "\(host.id) is down")
        }
        let attemptNumber = operation.attempt
        let historyIndex = operation.historyIndex
        let key = Array(operation.key.utf8)
        switch operation.kind {
        case .read:
            runtime.linearizableRead { [self] result in
                switch result {
                case .success:
                    // Read now, inside the callback: the state machine is at or past the read index.
                    let value = runtime.stateMachine.store.value(for: key)
                    completions.append((index, historyIndex, attemptNumber, .read(value)))
                case .failure(let error):
                    completions.append((index, historyIndex, attemptNumber, .failed(error)))
                }
            }
        case .put, .delete, .compareAndSet:
            let command: KVCommand
            switch operation.kind {
            case .put(let value):
                command = KVCommand(
                    operation: .put, key: key, value: value, origin: host.id, sequence: 0,
                    idempotencyKey: operation.idempotencyKey, timestampMilliseconds: 0)
            case .compareAndSet(let expected, let new):
                command = KVCommand(
                    operation: .put, key: key, value: new, condition: .previousValue(expected), origin: host.id,
                    sequence: 0, idempotencyKey: operation.idempotencyKey, timestampMilliseconds: 0)
            default:
                command = KVCommand(
                    operation: .delete, key: key, origin: host.id, sequence: 0,
                    idempotencyKey: operation.idempotencyKey, timestampMilliseconds: 0)
            }
            runtime.propose({ proposal, now in command.encoded(as: proposal, at: now) }) { [self] result in
                switch result {
                case .success(let applied): completions.append((index, historyIndex, attemptNumber, .write(applied)))
                case .failure(let error): completions.append((index, historyIndex, attemptNumber, .failed(error)))
                }
            }
        }
    }

    /// The current attempt failed without an answer: retry soon with the same idempotency key, or give up.
    private func failAttempt(client index: Int, reason: String) {
        guard var operation = clients[index].current else { return }
        if operation.attempts >= options.maxAttempts {
            // Outcome unknown: the history keeps no return, so it may take effect at any later time, or never.
            stats.abandoned += 1
            trace("c\(index) gives up on \(history[operation.historyIndex]) (\(reason))")
            clients[index].current = nil
            return
        }
        operation.retryAt = tick + random(in: 1...10)
        clients[index].current = operation
    }

    private func processCompletions() {
        while !completions.isEmpty {
            let batch = completions
            completions.removeAll()
            for item in batch { complete(item.client, item.operation, item.attempt, item.result) }
        }
    }

    private func complete(_ index: Int, _ historyIndex: Int, _ attemptNumber: Int, _ result: ClientResult) {
        guard let operation = clients[index].current, operation.historyIndex == historyIndex else { return }
        let output: KVOperation.Output
        switch result {
        case .failed(let error):
            // An answer to an attempt the client already gave up on is not news.
            guard attemptNumber == operation.attempt, operation.retryAt == nil else { return }
            stats.failedAttempts += 1
            return failAttempt(client: index, reason: "\(error)")
        case .read(let value):
            output = .value(value)
            if let value { clients[index].lastSeen[operation.key] = value }
        case .write(let applied):
            switch applied.outcome {
            case .stored(let created): output = .stored(created: created)
            case .deleted: output = .deleted
            case .notFound: output = .notFound
            case .conditionFailed: output = .conditionFailed
            default:
                violations.append("\(history[historyIndex]) got \(applied.outcome), which no retry here should get")
                clients[index].current = nil
                return
            }
            acknowledgedWrites.append((historyIndex, applied.index, applied.term, operation.idempotencyKey))
            if case .put(let value) = operation.kind { clients[index].lastSeen[operation.key] = value }
            if case .compareAndSet(_, let new) = operation.kind, output == .stored(created: false) {
                clients[index].lastSeen[operation.key] = new
            }
        }
        history[historyIndex].returned = (nextEventTime(), output)
        stats.completed += 1
        clients[index].current = nil
    }

    // MARK: - Checks

    private func checkLeaders() {
        for host in hosts {
            guard let runtime = host.runtime, runtime.raft.currentRole == .leader else { continue }
            let term = runtime.raft.currentTerm
            if let other = leaders[term], other != host.id {
                violations.append("two leaders in term \(term): \(other) and \(host.id)")
            } else {
                leaders[term] = host.id
            }
        }
    }

    /// Healed and quiet: every node runs and has applied the same index, at least every acknowledged write,
    /// and no client operation is open.
    private func converged() -> Bool {
        guard clients.allSatisfy({ $0.current == nil }) else { return false }
        let applied = hosts.map { $0.runtime?.stateMachine.appliedIndex }
        guard let first = applied.first, let index = first, applied.allSatisfy({ $0 == index }) else { return false }
        let needed = acknowledgedWrites.map(\.index).max() ?? .zero
        let commits = hosts.compactMap { $0.runtime?.raft.status.commitIndex }
        return index >= needed && commits.allSatisfy { $0 == index }
    }

    private func describeNodes() -> String {
        hosts.map { host in
            guard let runtime = host.runtime else { return "\(host.id) down" }
            let status = runtime.raft.status
            return "\(host.id) \(status.role) term \(status.term) commit \(status.commitIndex) applied"
                + " \(runtime.stateMachine.appliedIndex)\(runtime.storageFailure.map { " storage failed: \($0)" } ?? "")"
        }.joined(separator: "; ")
    }

    private func finalChecks() {
        if options.fullDiskFollowerTicks != nil {
            if fullDisk == nil { violations.append("no leader during the full-disk window") }
            if stats.storageFailures == 0 { violations.append("the full disk never failed a write") }
        }
        for write in acknowledgedWrites {
            guard let entry = recorder.entry(at: write.index) else {
                violations.append("acknowledged \(history[write.operation]) at \(write.index): no node applied it")
                continue
            }
            let key = (try? KVCommand(decoding: entry.data))?.idempotencyKey
            if entry.term != write.term || key != write.idempotencyKey {
                violations.append(
                    "acknowledged \(history[write.operation]) at \(write.index) term \(write.term), but the entry"
                        + " there is of term \(entry.term) with key \(key ?? "none")")
            }
        }
        let (problems, inconclusive) = KVLinearizabilityChecker.check(history)
        violations.append(contentsOf: problems.map(\.description))
        stats.inconclusiveKeys = inconclusive.count
        stats.applications = recorder.applications
    }
}

/// What a simulated client got back from a node for one attempt.
enum ClientResult {
    case read([UInt8]?)
    case write(KVApplyResult)
    case failed(ClientError)
}

/// A client with at most one operation open, which it retries (same idempotency key) until it gets an answer or
/// gives up.
struct SimulatedClient {
    struct Operation {
        var historyIndex: Int
        var key: String
        var kind: KVOperation.Kind
        var idempotencyKey: String
        var attempts: Int
        var attempt: Int
        var attemptDeadline: Int
        var retryAt: Int?
    }

    var id: Int
    var current: Operation?
    var operationCount = 0
    /// The last value this client saw per key, for its compare-and-set guesses.
    var lastSeen: [String: [UInt8]] = [:]
}

/// Counts of what a run did, to show the faults were exercised.
public struct NodeSimulationStats: Sendable, Hashable {
    public var ticks = 0
    public var messagesSent = 0
    public var messagesDelivered = 0
    public var elections = 0
    public var snapshotsTaken = 0
    public var snapshotsInstalled = 0
    public var processCrashes = 0
    public var powerLosses = 0
    public var clusterPowerLosses = 0
    public var storageFaultsInjected = 0
    public var storageFailures = 0
    /// Receivers crashed in the middle of a snapshot transfer.
    public var snapshotTransfersInterrupted = 0
    /// Starts that failed on a full disk and were retried (the full-disk story).
    public var failedRestarts = 0
    /// Entries the cores read back from their WALs (outside their entry cache).
    public var entriesReadBack = 0
    public var partitions = 0
    public var linkCuts = 0
    public var clockJumps = 0
    public var membershipChanges = 0
    public var operations = 0
    public var completed = 0
    public var abandoned = 0
    public var failedAttempts = 0
    public var staleReads = 0
    public var applications = 0
    public var inconclusiveKeys = 0
    public var convergenceTicks: Int?

    public init() {}

    public static func += (total: inout NodeSimulationStats, run: NodeSimulationStats) {
        total.ticks += run.ticks
        total.elections += run.elections
        total.snapshotsTaken += run.snapshotsTaken
        total.snapshotsInstalled += run.snapshotsInstalled
        total.processCrashes += run.processCrashes
        total.powerLosses += run.powerLosses
        total.clusterPowerLosses += run.clusterPowerLosses
        total.storageFaultsInjected += run.storageFaultsInjected
        total.storageFailures += run.storageFailures
        total.snapshotTransfersInterrupted += run.snapshotTransfersInterrupted
        total.entriesReadBack += run.entriesReadBack
        total.failedRestarts += run.failedRestarts
        total.membershipChanges += run.membershipChanges
        total.partitions += run.partitions
        total.clockJumps += run.clockJumps
        total.operations += run.operations
        total.completed += run.completed
        total.abandoned += run.abandoned
        total.staleReads += run.staleReads
        total.inconclusiveKeys += run.inconclusiveKeys
    }
}

/// The outcome of one ``NodeSimulation`` run.
public struct NodeSimulationResult: Sendable {
    public var seed: UInt64
    public var options: NodeSimulationOptions
    public var violations: [String]
    public var stats: NodeSimulationStats
    public var history: [KVOperation]

    public var passed: Bool { violations.isEmpty }

    /// One line: the seed, the shape and what happened; equal for equal runs.
    public var summary: String {
        "seed=\(seed) \(options.nodeCount) nodes, \(stats.ticks) ticks, \(stats.elections) elections,"
            + " \(stats.processCrashes) crashes, \(stats.powerLosses) power losses, \(stats.storageFailures) storage"
            + " failures, \(stats.snapshotsInstalled) snapshots installed (\(stats.snapshotTransfersInterrupted) transfers"
            + " cut by a crash), \(stats.entriesReadBack) entries read back from WALs, \(stats.completed)/\(stats.operations)"
            + " operations answered, \(stats.applications) applications"
    }

    public var report: String {
        var lines = [
            summary, "options: \(options)",
            options.fullDiskFollowerTicks == nil
                ? "replay: RAFT_NODESIM_SEED=\(seed) swift test --filter NodeSimulationTests/replay"
                : "replay: RAFT_NODESIM_SEED=\(seed) swift test --filter NodeSimulationTests/fullDiskFollower",
        ]
        lines += violations.map { "VIOLATION: \($0)" }
        return lines.joined(separator: "\n")
    }
}
