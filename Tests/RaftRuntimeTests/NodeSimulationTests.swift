import Foundation
import RaftTestKit
import Testing

/// Seeded simulation of whole clusters of real node runtimes (see ``NodeSimulation``).
///
/// - `RAFT_NODESIM_SEEDS=N`: run N seeds instead of the fixed CI set, from `RAFT_NODESIM_SEED_START` (default 1).
/// - `RAFT_NODESIM_SEED=X swift test --filter NodeSimulationTests/replay`: replay one seed, printing its report;
///   `RAFT_NODESIM_TRACE=1` also prints every fault and restart.
@Suite struct NodeSimulationTests {
    /// Seeds run on every CI run.
    static let ciSeedCount = 40

    static func environment(_ name: String) -> String? { ProcessInfo.processInfo.environment[name] }

    /// Written unbuffered, so that even a trap names the seed that caused it.
    static func announce(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    struct Sweep: Sendable {
        var failures: [(seed: UInt64, report: String)] = []
        var totals = NodeSimulationStats()
        var sizes: [Int: Int] = [:]
        var slowestConvergence = (ticks: 0, seed: UInt64(0))
    }

    @Test func realNodesUnderFaultsStayLinearizableExactlyOnceAndConverge() async {
        let count = Self.environment("RAFT_NODESIM_SEEDS").flatMap { Int($0) } ?? Self.ciSeedCount
        let start = Self.environment("RAFT_NODESIM_SEED_START").flatMap { UInt64($0) } ?? 1
        let began = ContinuousClock.now
        let sweep = await runOnDedicatedThread("node-simulation") {
            var sweep = Sweep()
            for seed in start..<(start + UInt64(count)) {
                Self.announce("RAFT_NODESIM_SEED=\(seed) running")
                let result = NodeSimulation(seed: seed).run()
                sweep.totals += result.stats
                sweep.sizes[result.options.nodeCount, default: 0] += 1
                if let ticks = result.stats.convergenceTicks, ticks > sweep.slowestConvergence.ticks {
                    sweep.slowestConvergence = (ticks, seed)
                }
                if !result.passed { sweep.failures.append((seed, result.report)) }
            }
            return sweep
        }
        for failure in sweep.failures {
            print(failure.report)
            Issue.record("node simulation seed \(failure.seed) failed:\n\(failure.report)")
        }
        let t = sweep.totals
        print(
            "node simulation: \(count) seeds from \(start) (3-node: \(sweep.sizes[3] ?? 0), 5-node:"
                + " \(sweep.sizes[5] ?? 0)), \(sweep.failures.count) failed \(sweep.failures.map(\.seed)),"
                + " \(ContinuousClock.now - began); totals: \(t.elections) elections, \(t.processCrashes) crashes,"
                + " \(t.powerLosses) power losses (\(t.clusterPowerLosses) of every node), \(t.storageFailures)"
                + " storage failures, \(t.partitions) partitions, \(t.clockJumps) clock jumps, \(t.membershipChanges) membership changes,"
                + " \(t.snapshotsTaken) snapshots taken, \(t.snapshotsInstalled) installed (\(t.snapshotTransfersInterrupted)"
                + " transfers cut by a crash of the receiver), \(t.entriesReadBack) entries read back from WALs"
                + " (outside the cores' caches), \(t.completed) of"
                + " \(t.operations) client operations answered, \(t.staleReads) stale reads,"
                + " \(t.inconclusiveKeys) keys inconclusive;"
                + " slowest convergence \(sweep.slowestConvergence.ticks) ticks (seed \(sweep.slowestConvergence.seed))"
        )
        #expect(sweep.failures.isEmpty)
        if Self.environment("RAFT_NODESIM_SEEDS") == nil {
            // The fixed set must exercise what it claims to.
            #expect(t.powerLosses > 0 && t.processCrashes > 0 && t.storageFailures > 0 && t.snapshotsInstalled > 0)
            // Replication and replay read through the core's storage interface, not only its cache.
            #expect(t.entriesReadBack > 1_000)
            #expect((sweep.sizes[3] ?? 0) > 0 && (sweep.sizes[5] ?? 0) > 0)
        }
    }

    @Test("replay: RAFT_NODESIM_SEED replays one seed") func replay() async {
        let seed = Self.environment("RAFT_NODESIM_SEED").flatMap { UInt64($0) } ?? 1
        let traced = Self.environment("RAFT_NODESIM_TRACE") == "1"
        let result = await runOnDedicatedThread("node-simulation") {
            NodeSimulation(seed: seed, trace: traced ? { print($0) } : nil).run()
        }
        if Self.environment("RAFT_NODESIM_SEED") != nil || !result.passed { print(result.report) }
        #expect(result.passed, "\(result.report)")
    }

    /// The full-disk story on the real node code: one follower's disk fills (its writes fail with ENOSPC, so does
    /// every restart while it stays full) and is freed later; the follower keeps failing and being restarted,
    /// then catches up; the leader keeps its leadership and term throughout; clients stay linearizable.
    /// `RAFT_NODESIM_SEED=X` runs one seed.
    @Test func fullDiskFollower() async {
        let seeds: [UInt64] = Self.environment("RAFT_NODESIM_SEED").flatMap { UInt64($0) }.map { [$0] } ?? Array(1...8)
        let traced = Self.environment("RAFT_NODESIM_TRACE") == "1"
        let results = await runOnDedicatedThread("node-simulation") {
            seeds.map { seed in
                NodeSimulation(options: .fullDiskFollower(seed: seed), trace: traced ? { print($0) } : nil).run()
            }
        }
        for result in results {
            #expect(result.passed, "\(result.report)")
            #expect(result.stats.storageFailures >= 1, "\(result.report)")
        }
        let failures = results.map(\.stats.storageFailures).reduce(0, +)
        let retries = results.map(\.stats.failedRestarts).reduce(0, +)
        print(
            "full-disk follower: \(results.count) seeds, \(failures) storage failures, \(retries) starts refused by the"
                + " full disk, \(results.filter(\.passed).count) passed")
    }

    @Test func theSameSeedReplaysTheSameRun() async {
        let (a, b) = await runOnDedicatedThread("node-simulation") {
            (NodeSimulation(seed: 5).run(), NodeSimulation(seed: 5).run())
        }
        #expect(a.summary == b.summary)
        #expect(a.history == b.history)
    }
}
