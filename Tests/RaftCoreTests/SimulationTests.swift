import Foundation
import RaftCore
import RaftProcess
import RaftTestKit
import Testing

/// Seeded simulation of whole clusters under faults (see ``Simulator``).
///
/// - `RAFT_SIM_SEEDS=N`: run N seeds instead of the fixed CI set, from `RAFT_SIM_SEED_START` (default 1).
/// - `RAFT_SIM_SEED=X`: replay one seed verbosely (`replay`); `RAFT_SIM_TRACE=1` prints every event.
@Suite struct SimulationTests {
    /// Seeds run on every CI run; sized so the suite takes well under a minute in a debug build.
    static let ciSeedCount = 100

    static func environment(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name]
    }

    /// Writes a line to standard error, which is unbuffered: it survives a trap that kills the process.
    static func announce(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// The seeds run on a thread of their own (``runOnDedicatedThread(_:_:)``), off the cooperative pool, so the
    /// real-process tests running beside them are not starved.
    @Test func randomClustersUnderFaultsStaySafeAndConvergeOnceHealed() async {
        let count = Self.environment("RAFT_SIM_SEEDS").flatMap { Int($0) } ?? Self.ciSeedCount
        let start = Self.environment("RAFT_SIM_SEED_START").flatMap { UInt64($0) } ?? 1
        let soak = Self.environment("RAFT_SIM_SEEDS") != nil
        let sweep = await runOnDedicatedThread("simulation") { Self.sweep(seeds: start..<(start + UInt64(count))) }
        for (seed, report) in sweep.failures {
            print(report)
            Issue.record("simulation seed \(seed) failed:\n\(report)")
        }
        let sizesText = "3-node: \(sweep.sizes[3] ?? 0), 5-node: \(sweep.sizes[5] ?? 0)"
        let slowest = sweep.slowestConvergence
        let outcome =
            "\(sweep.failures.count) failed \(sweep.failures.map(\.seed)), slowest convergence \(slowest.ticks)"
            + " of \(slowest.bound) ticks allowed (seed \(slowest.seed))"
        let totals = sweep.totals
        let coverage: String =
            "\(totals.elections) elections, \(totals.crashes) crashes, \(totals.partitions) partitions, "
            + "\(totals.snapshotsInstalled) snapshots installed, \(totals.completedWrites) writes, "
            + "\(totals.servedReads) reads"
        print(
            "simulation: \(count) seeds from \(start) (\(sizesText)), \(outcome), \(sweep.elapsed); totals: \(coverage)"
        )
        #expect(sweep.failures.isEmpty)
        if !soak {
            #expect((sweep.sizes[3] ?? 0) > 0 && (sweep.sizes[5] ?? 0) > 0, "the CI seeds cover both cluster sizes")
        }
    }

    /// What a run of many seeds found.
    struct Sweep: Sendable {
        var sizes: [Int: Int] = [:]
        var failures: [(seed: UInt64, report: String)] = []
        var slowestConvergence = (ticks: 0, bound: 0, seed: UInt64(0))
        var totals = SimulationStats()
        var elapsed = Duration.zero
    }

    static func sweep(seeds: Range<UInt64>) -> Sweep {
        var sweep = Sweep()
        let clock = ContinuousClock()
        let began = clock.now
        for seed in seeds {
            // Written first and unbuffered, so that even a trap inside the core names the seed that caused it.
            Self.announce("RAFT_SIM_SEED=\(seed) running")
            let result = Simulator(seed: seed).run()
            sweep.sizes[result.options.nodeCount, default: 0] += 1
            if let ticks = result.stats.livenessTicks, ticks > sweep.slowestConvergence.ticks {
                sweep.slowestConvergence = (ticks, result.options.livenessBoundTicks, seed)
            }
            sweep.totals.crashes += result.stats.crashes
            sweep.totals.partitions += result.stats.partitions
            sweep.totals.elections += result.stats.elections
            sweep.totals.snapshotsInstalled += result.stats.snapshotsInstalled
            sweep.totals.completedWrites += result.stats.completedWrites
            sweep.totals.servedReads += result.stats.servedReads
            if !result.passed { sweep.failures.append((seed, result.report)) }
        }
        sweep.elapsed = clock.now - began
        return sweep
    }

    /// `RAFT_SIM_SEED=X swift test --filter SimulationTests/replay` replays one seed (seed 1 when unset).
    @Test("replay: RAFT_SIM_SEED replays one seed verbosely") func replay() {
        let seed = Self.environment("RAFT_SIM_SEED").flatMap { UInt64($0) } ?? 1
        let verbose = Self.environment("RAFT_SIM_SEED") != nil
        if verbose { Self.announce("RAFT_SIM_SEED=\(seed) replaying") }
        let traced = Self.environment("RAFT_SIM_TRACE") == "1"
        let result = Simulator(seed: seed, trace: traced ? { print($0) } : nil).run()
        if verbose || !result.passed { print(result.report) }
        #expect(result.passed, "\(result.report)")
    }

    @Test func theSameSeedReplaysTheIdenticalTraceAndFingerprint() async {
        struct Runs: Sendable {
            var seed: UInt64
            var a: SimulationResult
            var b: SimulationResult
            var untraced: SimulationResult
            var first: [String]
            var second: [String]
        }
        let runs = await runOnDedicatedThread("simulation-replay") {
            [7, 8].map { (seed: UInt64) -> Runs in
                var first: [String] = []
                var second: [String] = []
                let a = Simulator(seed: seed, trace: { first.append($0) }).run()
                let b = Simulator(seed: seed, trace: { second.append($0) }).run()
                return Runs(seed: seed, a: a, b: b, untraced: Simulator(seed: seed).run(), first: first, second: second)
            }
        }
        for run in runs {
            #expect(run.a.fingerprint == run.b.fingerprint, "seed \(run.seed)")
            #expect(run.a.stats == run.b.stats)
            #expect(run.first.count == run.second.count)
            #expect(
                run.first == run.second,
                "first difference at line \(Array(zip(run.first, run.second)).firstIndex { $0.0 != $0.1 } ?? -1)")
            // Tracing must not change behaviour.
            #expect(run.untraced.fingerprint == run.a.fingerprint)
        }
        #expect(runs[0].a.fingerprint != runs[1].a.fingerprint)
    }

    /// Swift seeds `Set` and `Dictionary` hashing per process, so iteration order differs between processes:
    /// only a replay in another process proves that no such order leaks into the simulation.
    @Test func aSeedReplaysIdenticallyInAnotherProcess() async throws {
        let seed: UInt64 = 11
        let expected = await runOnDedicatedThread("simulation-replay") { Simulator(seed: seed).run() }
        var environment = ProcessInfo.processInfo.environment
        environment["RAFT_SIM_SEED"] = String(seed)
        environment["RAFT_SIM_TRACE"] = nil
        let outcome = try ChildProcess.run(
            executable: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"),
            arguments: ["--testing-library", "swift-testing", "--filter", "SimulationTests/replay"],
            environment: environment.map { "\($0.key)=\($0.value)" }, timeout: .seconds(300))
        let text = outcome.stdout
        let summary = try #require(text.split(separator: "\n").first { $0.hasPrefix("seed=\(seed) ") })
        #expect(String(summary) == expected.summary)
    }

    @Test func optionsAreDrawnFromTheSeedWithinSensibleRanges() {
        var sizes: Set<Int> = []
        for seed: UInt64 in 0..<500 {
            let options = SimulationOptions(seed: seed)
            #expect(options == SimulationOptions(seed: seed))
            sizes.insert(options.nodeCount)
            #expect(options.heartbeatIntervalTicks >= 1)
            #expect(options.heartbeatIntervalTicks < options.electionTimeoutTicks.lowerBound)
            #expect(
                options.heartbeatIntervalTicks + 2 * options.messageDelayTicks.upperBound
                    < options.electionTimeoutTicks.lowerBound)
        }
        #expect(sizes == [3, 5])
    }

    // MARK: - The checkers can fail

    @Test func linearizabilityCheckerFlagsAReadOlderThanACompletedWrite() {
        var checker = LinearizabilityChecker()
        checker.writeInvoked(key: "k", value: "v1")
        checker.writeApplied(key: "k", value: "v1", index: 5)
        checker.writeInvoked(key: "k", value: "v2")
        checker.writeApplied(key: "k", value: "v2", index: 7)
        checker.readInvoked(id: 1, key: "k")
        checker.readServed(id: 1, value: "v1")
        #expect(checker.violations.count == 1)
        #expect(checker.violations.first?.contains("stale read") == true)
    }

    @Test func linearizabilityCheckerFlagsAReadOlderThanAnEarlierRead() {
        var checker = LinearizabilityChecker()
        checker.writeInvoked(key: "k", value: "v1")
        checker.writeInvoked(key: "k", value: "v2")
        checker.readInvoked(id: 1, key: "k")
        checker.writeApplied(key: "k", value: "v1", index: 3)
        checker.writeApplied(key: "k", value: "v2", index: 4)
        // Both reads were invoked before v2 completed... no: r1 was, so any value is fine for it.
        checker.readServed(id: 1, value: "v2")
        #expect(checker.violations.isEmpty)
        checker.readInvoked(id: 2, key: "k")
        checker.readServed(id: 2, value: "v1")
        #expect(checker.violations.count == 1)
        // A read of absent state after a completed write is stale too.
        checker.readInvoked(id: 3, key: "k")
        checker.readServed(id: 3, value: nil)
        #expect(checker.violations.count == 2)
    }

    @Test func linearizabilityCheckerAcceptsConcurrentReadsAndFlagsInventedValues() {
        var checker = LinearizabilityChecker()
        checker.writeInvoked(key: "k", value: "v1")
        checker.readInvoked(id: 1, key: "k")
        checker.writeApplied(key: "k", value: "v1", index: 2)
        // The write completed after the read began: the read may miss it.
        checker.readServed(id: 1, value: nil)
        #expect(checker.violations.isEmpty)
        checker.readInvoked(id: 2, key: "k")
        checker.readServed(id: 2, value: "never-written")
        checker.writeApplied(key: "k", value: "v1", index: 9)
        #expect(checker.violations.count == 2)
    }

    @Test func safetyCheckerFlagsTwoLeadersInOneTerm() {
        // Two single-node "clusters" each elect themselves in term 1: seen as one cluster, that is two leaders.
        var a = RaftNode(config: RaftConfig(id: 1, voters: [1], randomSeed: 1))
        var b = RaftNode(config: RaftConfig(id: 2, voters: [2], randomSeed: 2))
        a.campaign()
        b.campaign()
        #expect(a.currentRole == .leader && b.currentRole == .leader && a.currentTerm == b.currentTerm)
        var checker = SafetyChecker()
        checker.observe(node: 1, raft: a, applied: [])
        #expect(checker.violations.isEmpty)
        checker.observe(node: 2, raft: b, applied: [])
        #expect(checker.violations.count == 1)
        #expect(checker.violations.first?.contains("election safety") == true)
    }

    @Test func safetyCheckerFlagsTwoDifferentEntriesAppliedAtOneIndex() {
        let node = RaftNode(config: RaftConfig(id: 1, voters: [1, 2, 3], randomSeed: 1))
        var checker = SafetyChecker()
        checker.observe(node: 1, raft: node, applied: [Entry(index: 1, term: 1, data: Array("put k a".utf8))])
        checker.observe(node: 2, raft: node, applied: [Entry(index: 1, term: 1, data: Array("put k b".utf8))])
        #expect(checker.violations.contains { $0.contains("state machine safety") })
    }

    @Test func logMatchingCheckerFlagsLogsThatAgreeOnATermButDifferBelowIt() {
        func view(_ id: NodeID, _ entries: [Entry]) -> LogView {
            LogView(node: id, firstIndex: 1, lastIndex: LogIndex(UInt64(entries.count))) { index in
                entries.first { $0.index == index }
            }
        }
        let common = [Entry(index: 1, term: 1), Entry(index: 2, term: 1, data: [1])]
        let a = view(1, common + [Entry(index: 3, term: 2)])
        let b = view(2, [common[0], Entry(index: 2, term: 1, data: [2]), Entry(index: 3, term: 2)])
        let c = view(3, common + [Entry(index: 3, term: 3)])
        #expect(!LogMatchingChecker.check(a, b, at: [1, 2, 3]).isEmpty)
        // Logs that diverge only after their last common term are fine.
        #expect(LogMatchingChecker.check(a, c, at: [1, 2, 3]).isEmpty)
        // Same index and term, different command.
        #expect(!LogMatchingChecker.check(a, b, at: [2]).isEmpty)
    }
}

extension SimulationTests {
    /// End to end: the simulator's checkers fail a run whose harness serves reads before applying them.
    @Test func simulatorReportsStaleReadsWhenReadsAreServedBeforeTheReadIndexIsApplied() {
        let caught = (1...20 as ClosedRange<UInt64>).first { seed in
            let result = Simulator(seed: seed, injecting: .serveReadsBeforeApplied).run()
            return result.violations.contains { $0.hasPrefix("linearizability: stale read") }
        }
        print("serveReadsBeforeApplied caught by seed \(caught.map(String.init) ?? "none")")
        #expect(caught != nil)
    }

    /// End to end: the simulator's checkers fail a run whose nodes forget what they persisted.
    @Test func simulatorReportsSafetyViolationsWhenRestartedNodesForgetTheirStorage() {
        let caught = (1...20 as ClosedRange<UInt64>).lazy.map {
            Simulator(seed: $0, injecting: .amnesiaOnRestart).run()
        }
        .first { result in
            result.violations.contains {
                $0.hasPrefix("election safety") || $0.hasPrefix("committed entry changed")
                    || $0.hasPrefix("state machine safety") || $0.hasPrefix("leader completeness")
                    || $0.hasPrefix("log matching") || $0.hasPrefix("contract")
            }
        }
        print("amnesiaOnRestart caught by \(caught.map { "seed \($0.seed): \($0.violations.first!)" } ?? "no seed")")
        #expect(caught != nil)
    }
}
