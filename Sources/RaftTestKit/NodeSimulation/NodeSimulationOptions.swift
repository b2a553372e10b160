import RaftCore

/// Every knob of one run of ``NodeSimulation``, drawn from the seed alone, so the seed replays the run.
/// Rates are probabilities per tick (faults, clients) or per message (network).
public struct NodeSimulationOptions: Sendable, Hashable, CustomStringConvertible {
    public var seed: UInt64
    public var nodeCount: Int
    public var electionTimeoutTicks: ClosedRange<Int>
    public var heartbeatIntervalTicks: Int
    public var requestTimeoutTicks: UInt64
    public var snapshotThresholdEntries: Int
    public var segmentSizeBytes: Int

    /// Faults are injected for this many ticks; then the cluster is healed and must converge.
    public var faultPhaseTicks: Int
    /// After healing, every node must apply every acknowledged write within this many ticks.
    public var convergenceBoundTicks: Int

    public var messageDelayTicks: ClosedRange<Int>
    public var lossRate: Double
    public var duplicateRate: Double
    public var reorderRate: Double
    public var partitionRate: Double
    public var linkCutRate: Double
    public var faultDurationTicks: ClosedRange<Int>

    /// A running node is killed (`kill -9`: what it wrote survives in the page cache).
    public var processCrashRate: Double
    /// A running node loses power: what it did not sync is lost, the last unsynced writes torn at a random byte.
    public var powerLossRate: Double
    /// Every node loses power at once.
    public var clusterPowerLossRate: Double
    /// The next fsync of a running node fails (EIO), or its next write fails (EIO or ENOSPC).
    public var storageFaultRate: Double
    public var downtimeTicks: ClosedRange<Int>
    /// A node's wall clock is off by up to this much, and jumps (forward or back) at `clockJumpRate`.
    public var maxClockSkewMilliseconds: Int64
    public var clockJumpRate: Double

    public var clientCount: Int
    public var keyCount: Int
    /// Per client and tick, the chance to start an operation when idle.
    public var clientRate: Double
    /// A client gives up on an operation (its outcome stays unknown) after this many attempts.
    public var maxAttempts: Int
    /// A client's own deadline for one attempt (the node may have crashed with the request).
    public var attemptTimeoutTicks: UInt64
    /// The full-disk story: from the first tick of this window at which there is a leader, one of its followers'
    /// disk is full (every write that grows a file fails with ENOSPC, also while it restarts); at its end space is
    /// back. Nil in the random runs.
    public var fullDiskFollowerTicks: ClosedRange<Int>?
    /// Per-tick probability that the operator asks the leader for a membership change (add a learner, promote
    /// it, remove a voter or learner, the leader included). Half the seeds churn; drawn from the seed without
    /// consuming the random stream, so the other options of every seed stay as they were.
    public var membershipChurnRate: Double = 0
    /// The chance that a node receiving a snapshot crashes part-way through the transfer (from its own stream of
    /// randomness, so the other choices of a seed stay as they were).
    public var snapshotTransferCrashRate: Double = 0
    /// The core's entry cache (``RaftConfig/entryCacheBytes``): most seeds keep it a few entries small, so that
    /// replication, catch-up and replay after a restart read entries back from the WAL (from a stream of its own).
    public var entryCacheBytes: Int = 8 << 20

    /// A run with no random faults at all in which one follower's disk fills and is later freed: the follower
    /// fails, is restarted (again and again while the disk stays full) and catches up, and the leader keeps
    /// its leadership and term throughout, since a majority stays healthy.
    public static func fullDiskFollower(seed: UInt64) -> NodeSimulationOptions {
        var options = NodeSimulationOptions(seed: seed)
        options.lossRate = 0
        options.duplicateRate = 0
        options.reorderRate = 0
        options.partitionRate = 0
        options.linkCutRate = 0
        options.processCrashRate = 0
        options.powerLossRate = 0
        options.clusterPowerLossRate = 0
        options.storageFaultRate = 0
        options.clockJumpRate = 0
        options.membershipChurnRate = 0
        options.snapshotTransferCrashRate = 0
        options.faultPhaseTicks = max(options.faultPhaseTicks, 1_000)
        options.fullDiskFollowerTicks = 200...(options.faultPhaseTicks - 100)
        return options
    }

    public init(seed: UInt64) {
        var random = SplitMix64(seed: seed ^ 0x4E0D_E5EE_D000_0001)
        func pick(_ range: ClosedRange<Double>) -> Double { Double.random(in: range, using: &random) }
        func pick(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
        self.seed = seed
        nodeCount = pick(0...2) == 0 ? 5 : 3
        heartbeatIntervalTicks = pick(1...3)
        let low = pick(10...16)
        electionTimeoutTicks = low...(low + pick(6...14))
        requestTimeoutTicks = UInt64(pick(40...120))
        snapshotThresholdEntries = pick(15...80)
        segmentSizeBytes = pick(4...16) * 1024
        faultPhaseTicks = pick(800...1_600)
        convergenceBoundTicks = 1_500
        messageDelayTicks = 1...pick(1...3)
        lossRate = pick(0.0...0.06)
        duplicateRate = pick(0.0...0.04)
        reorderRate = pick(0.0...0.08)
        partitionRate = pick(0.0...0.004)
        linkCutRate = pick(0.0...0.004)
        faultDurationTicks = 20...pick(60...300)
        processCrashRate = pick(0.0...0.004)
        powerLossRate = pick(0.0...0.003)
        clusterPowerLossRate = pick(0.0...0.0006)
        storageFaultRate = pick(0.0...0.006)
        downtimeTicks = 5...pick(20...200)
        maxClockSkewMilliseconds = Int64(pick(0...600_000))
        clockJumpRate = pick(0.0...0.002)
        clientCount = pick(2...5)
        keyCount = pick(1...4)
        clientRate = pick(0.1...0.6)
        maxAttempts = pick(3...8)
        attemptTimeoutTicks = UInt64(pick(60...200))
        var churn = SplitMix64(seed: seed ^ 0xC4A2_6E00_0000_0002)
        if churn.next() % 2 == 0 { membershipChurnRate = Double(churn.next() % 1_000) / 100_000 + 0.002 }
        var transfers = SplitMix64(seed: seed ^ 0x5A9_7F3E_0000_0003)
        snapshotTransferCrashRate = Double(transfers.next() % 30) / 100
        var cache = SplitMix64(seed: seed ^ 0xCAC4_E000_0000_0004)
        entryCacheBytes = [256, 2_048, 16_384, 8 << 20][Int(cache.next() % 4)]
    }

    public var description: String {
        "\(nodeCount) nodes, election \(electionTimeoutTicks) ticks, heartbeat \(heartbeatIntervalTicks),"
            + " snapshot every \(snapshotThresholdEntries), segments \(segmentSizeBytes) B, faults for"
            + " \(faultPhaseTicks) ticks, \(clientCount) clients on \(keyCount) keys"
            + (membershipChurnRate > 0 ? ", membership churn" : "") + ", entry cache \(entryCacheBytes) B"
    }
}
