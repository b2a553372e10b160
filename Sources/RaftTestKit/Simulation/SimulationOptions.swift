import RaftCore

/// Every knob of one simulation run, all drawn from the seed (``init(seed:)``), so that the seed alone replays
/// the run. Rates are probabilities per tick (faults, clients) or per message (network).
///
/// Invariants: `nodeCount` is 3 or 5; `1 <= heartbeatIntervalTicks < electionTimeoutTicks.lowerBound`, and the
/// election timeout exceeds a heartbeat interval plus a worst-case (non-reordered) round trip, so a healed
/// cluster with a live leader is not disrupted by ordinary delays.
public struct SimulationOptions: Sendable, Hashable, CustomStringConvertible {
    public var seed: UInt64
    public var nodeCount: Int

    // Core configuration.
    public var electionTimeoutTicks: ClosedRange<Int>
    public var heartbeatIntervalTicks: Int
    public var preVote: Bool
    public var checkQuorum: Bool
    public var maxInflightMessages: Int
    public var maxMessageBytes: Int
    public var maxApplyBytes: Int
    public var maxUncommittedEntries: Int

    // Phases.
    /// Length of the safety phase (faults on).
    public var safetyPhaseTicks: Int
    /// After healing, a single leader must be elected and a new proposal applied everywhere within this bound.
    public var livenessBoundTicks: Int

    // Network.
    public var messageDelayTicks: ClosedRange<Int>
    /// Probability that a message is lost.
    public var lossRate: Double
    /// Probability that a message is delivered twice (each copy with its own delay). Forwarded proposals are
    /// never duplicated: a real client layer deduplicates them by session and the core does not.
    public var duplicateRate: Double
    /// Probability that a message is held back by up to ``reorderExtraDelayTicks`` more, overtaking later ones.
    public var reorderRate: Double
    public var reorderExtraDelayTicks: Int
    /// Per-tick probability of cutting the cluster into random groups (when none is in force).
    public var partitionRate: Double
    public var partitionDurationTicks: ClosedRange<Int>
    /// Per-tick probability of cutting one random directed link.
    public var linkCutRate: Double
    public var linkCutDurationTicks: ClosedRange<Int>
    /// Probability that the transport tells a node what a real one would notice: that a message could not be
    /// delivered (`reportUnreachable`) or that its crashed leader's connection closed
    /// (`reportLeaderConnectionClosed`, which lifts the leader lease: safety must not depend on it).
    public var transportReportRate: Double

    // Nodes.
    /// Per-tick probability that one random running node crashes.
    public var crashRate: Double
    /// Share of crashes that strike in the middle of the node's next Ready (half after persisting it but before
    /// sending its messages, half after sending its `messagesNow` but before persisting it).
    public var crashMidReadyShare: Double
    public var downtimeTicks: ClosedRange<Int>
    /// Per-node, per-tick probability that a node's clock skips a tick or ticks twice.
    public var tickJitterRate: Double
    /// Automatic snapshot and compaction every this many applied entries (nil: only manual snapshots).
    public var snapshotEveryEntries: Int?
    /// Nodes also persist through the real `RaftStorage` on a crash-simulating in-memory file system and recover
    /// from it on restart (one seed in four; chosen from the seed without consuming the random stream, so the
    /// other options of every seed stay as they were).
    public var durableStorage: Bool
    /// The core's entry cache limit with an ``EntryStorage`` to read the rest from (half the seeds, most of them a
    /// few entries small); nil keeps the whole log in the core. Drawn without consuming the random stream.
    public var entryCacheBytes: Int?
    /// Per-tick probability of a manual snapshot on a random node.
    public var manualSnapshotRate: Double
    /// Per-tick probabilities of an operator's leadership transfer and forced campaign.
    public var transferRate: Double
    public var campaignRate: Double
    /// Per-tick probability that the operator asks the leader for a membership change (add a learner, promote
    /// it, remove a voter or learner, the leader included). Half the seeds churn; drawn from the seed without
    /// consuming the random stream, so the other options of every seed stay as they were.
    public var membershipChurnRate: Double

    // Clients.
    public var proposalRate: Double
    public var readRate: Double
    public var keyCount: Int

    /// Draws every option from `seed`.
    public init(seed: UInt64) {
        var rng = SplitMix64(seed: seed ^ 0x5EED_0F0B_7100_A5E5)
        self.seed = seed
        nodeCount = rng.chance(0.5) ? 3 : 5

        let minDelay = rng.int(in: 0...1)
        let maxDelay = rng.int(in: minDelay...3)
        messageDelayTicks = minDelay...maxDelay
        heartbeatIntervalTicks = rng.int(in: 1...4)
        let electionMin = heartbeatIntervalTicks + 2 * maxDelay + rng.int(in: 3...14)
        electionTimeoutTicks = electionMin...(electionMin + rng.int(in: max(2, electionMin / 2)...(2 * electionMin)))
        preVote = rng.chance(0.85)
        checkQuorum = rng.chance(0.85)
        maxInflightMessages = rng.chance(0.5) ? rng.int(in: 1...8) : rng.int(in: 9...256)
        maxMessageBytes = rng.chance(0.5) ? rng.int(in: 30...200) : rng.int(in: 201...65_536)
        maxApplyBytes = rng.chance(0.5) ? rng.int(in: 30...200) : rng.int(in: 201...65_536)
        maxUncommittedEntries = rng.chance(0.3) ? rng.int(in: 1...20) : 100_000

        safetyPhaseTicks = rng.int(in: 1_500...3_500)
        let electionMax = electionTimeoutTicks.upperBound
        livenessBoundTicks = 20 * electionMax + 200

        lossRate = rng.chance(0.2) ? 0 : rng.double(below: 0.15)
        duplicateRate = rng.chance(0.3) ? 0 : rng.double(below: 0.05)
        reorderRate = rng.chance(0.3) ? 0 : rng.double(below: 0.1)
        reorderExtraDelayTicks = rng.int(in: 1...electionMin)
        partitionRate = rng.chance(0.2) ? 0 : rng.double(below: 1.0 / 150)
        partitionDurationTicks = 5...(rng.int(in: 2...12) * electionMax)
        linkCutRate = rng.chance(0.3) ? 0 : rng.double(below: 1.0 / 150)
        linkCutDurationTicks = 5...(rng.int(in: 2...12) * electionMax)

        crashRate = rng.chance(0.2) ? 0 : rng.double(below: 1.0 / 100)
        crashMidReadyShare = rng.double(below: 1)
        downtimeTicks = 1...(rng.int(in: 1...10) * electionMax)
        tickJitterRate = rng.chance(0.5) ? 0 : rng.double(below: 0.1)
        snapshotEveryEntries = rng.chance(0.3) ? nil : rng.int(in: 2...60)
        manualSnapshotRate = rng.chance(0.5) ? 0 : rng.double(below: 0.02)
        transferRate = rng.chance(0.5) ? 0 : rng.double(below: 0.005)
        campaignRate = rng.chance(0.7) ? 0 : rng.double(below: 0.002)

        proposalRate = rng.double(below: 0.5) + 0.01
        readRate = rng.double(below: 0.4) + 0.01
        keyCount = rng.int(in: 1...3)
        transportReportRate = rng.chance(0.3) ? 0 : rng.double(below: 1)
        durableStorage = seed % 4 == 0
        var churn = SplitMix64(seed: seed ^ 0xC4A2_6E00_C4A2_6E00)
        membershipChurnRate = churn.chance(0.5) ? churn.double(below: 0.03) + 0.002 : 0
        var cache = SplitMix64(seed: seed ^ 0xCAC4_E000_CAC4_E000)
        entryCacheBytes = cache.chance(0.5) ? [64, 256, 1_024, 65_536][cache.int(in: 0...3)] : nil
    }

    public var description: String {
        func pct(_ rate: Double) -> String {
            let tenths = Int(rate * 1000 + 0.5)
            return "\(tenths / 10).\(tenths % 10)%"
        }
        return "nodes=\(nodeCount) election=\(electionTimeoutTicks) heartbeat=\(heartbeatIntervalTicks)"
            + " preVote=\(preVote) checkQuorum=\(checkQuorum) inflight=\(maxInflightMessages)"
            + " msgBytes=\(maxMessageBytes) applyBytes=\(maxApplyBytes) uncommitted=\(maxUncommittedEntries)"
            + " ticks=\(safetyPhaseTicks)+\(livenessBoundTicks) delay=\(messageDelayTicks) loss=\(pct(lossRate))"
            + " dup=\(pct(duplicateRate)) reorder=\(pct(reorderRate))/+\(reorderExtraDelayTicks)"
            + " partition=\(pct(partitionRate))/\(partitionDurationTicks) cut=\(pct(linkCutRate))/\(linkCutDurationTicks)"
            + " crash=\(pct(crashRate))/\(downtimeTicks) crashMidReady=\(pct(crashMidReadyShare))"
            + " jitter=\(pct(tickJitterRate)) snapshotEvery=\(snapshotEveryEntries.map(String.init) ?? "-")"
            + " manualSnapshot=\(pct(manualSnapshotRate)) transfer=\(pct(transferRate)) campaign=\(pct(campaignRate))"
            + " propose=\(pct(proposalRate)) read=\(pct(readRate)) keys=\(keyCount)"
            + " transportReports=\(pct(transportReportRate)) durableStorage=\(durableStorage)"
            + " membershipChurn=\(pct(membershipChurnRate)) entryCache=\(entryCacheBytes.map(String.init) ?? "-")"
    }
}

extension SplitMix64 {
    /// True with probability `probability`.
    mutating func chance(_ probability: Double) -> Bool {
        probability > 0 && double(below: 1) < probability
    }

    /// Uniform in `0..<bound`, from the top 53 bits (exact, platform-independent).
    mutating func double(below bound: Double) -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) * bound
    }

    /// Uniform in `range` (tiny modulo bias is irrelevant here; what matters is that it is deterministic).
    mutating func int(in range: ClosedRange<Int>) -> Int {
        let span = UInt64(range.upperBound - range.lowerBound) &+ 1
        return range.lowerBound + Int(next() % span)
    }

    /// A uniformly chosen element of a non-empty array.
    mutating func pick<T>(_ values: [T]) -> T {
        values[int(in: 0...(values.count - 1))]
    }
}
