import RaftCore
import RaftRuntime
import RaftStorage

/// One simulated machine: its own in-memory disk and, while it runs, a real ``NodeRuntime`` over the real
/// ``NodeStorage`` on that disk. It is the runtime's environment: messages go to the simulated network, the wall
/// clock is the simulation's time plus this machine's skew, and snapshot jobs run a few ticks later.
final class SimulatedNodeHost: NodeEnvironment {
    let id: NodeID
    let fileSystem = InMemoryFileSystem()
    unowned let simulation: NodeSimulation
    var runtime: NodeRuntime<CheckedKVStore>?
    /// Bumped at every start, so that work scheduled for an earlier process (a snapshot job) is dropped.
    var incarnation = 0
    /// While down: the tick at which the machine comes back.
    var downUntil: Int?
    /// A storage failure was seen and a restart is scheduled.
    var failureHandled = false
    /// A write cut that stands for a power failure mid-write is armed: when it fires, the machine loses power.
    var powerCutArmed = false
    var clockSkewMilliseconds: Int64 = 0

    init(id: NodeID, simulation: NodeSimulation) {
        self.id = id
        self.simulation = simulation
    }

    var isRunning: Bool { runtime != nil }

    func send(_ messages: [Message]) {
        simulation.transmit(messages, from: self)
    }

    func wallClockMilliseconds() -> UInt64 {
        UInt64(max(0, simulation.wallClockMilliseconds + clockSkewMilliseconds))
    }

    func runSnapshotJob(_ job: SnapshotJob) {
        let incarnation = self.incarnation
        simulation.schedule(afterTicks: simulation.random(in: 1...8)) { [self] in
            guard self.incarnation == incarnation, let runtime else { return }
            runtime.snapshotWritten(job.run())
        }
    }

    func eventOccurred(_ event: RaftEvent, term: Term) {
        switch event {
        case .electionWon: simulation.stats.elections += 1
        case .snapshotInstalled: simulation.stats.snapshotsInstalled += 1
        case .logCompacted: simulation.stats.snapshotsTaken += 1
        default: break
        }
    }

    func entriesPersisted(_ entries: [Entry]) {}

    func storageFailed(_ reason: String) {
        simulation.stats.storageFailures += 1
        simulation.trace("\(id) storage failed: \(reason)")
    }
}
