import Glibc
import Logging
import NIOCore
import RaftAPI
import RaftCore
import RaftKV
import RaftRuntime
import RaftText
import RaftWire

/// The shell's watch over disks: its own free space and usage against the space alarm, the health reports it
/// sends and receives, the writes it refuses because of them, and the exit that follows a storage failure.
/// Everything here runs on `loop`.
extension NodeShell {
    static let healthInterval = TimeAmount.milliseconds(500)

    static func monotonicMilliseconds() -> UInt64 { monotonicNanoseconds() / 1_000_000 }

    /// Measures free space (and, when `full`, what the WAL and snapshots take), updates the alarm, and tells the
    /// peers at once when it was raised or cleared.
    func measureDisk(full: Bool) {
        lastFreeSpaceCheckNanoseconds = Self.monotonicNanoseconds()
        guard let space = DiskProbe.freeSpace(config.dataDirectory) else { return }
        let used =
            full || diskReading == nil ? DiskProbe.usedBytes(config.dataDirectory) : diskReading?.usedBytes ?? 0
        let reading = DiskReading(freeBytes: space.free, totalBytes: space.total, usedBytes: used)
        diskReading = reading
        let changed = spaceAlarm.update(reading)
        clusterAlarms.record(
            ownHealth(to: config.nodeID), nowMilliseconds: Self.monotonicMilliseconds(), timestamp: LogSink.timestamp())
        if full, spaceAlarm.raised, let quota = spaceAlarm.quotaBytes, reading.usedBytes > quota - quota / 10,
            runtime.stateMachine.appliedIndex > runtime.lastSnapshotIndex
        {
            // Over the quota, only compaction gives log space back: snapshot what was applied since (deletes
            // among it) so the segments behind it can go. A snapshot in progress is joined, not repeated.
            runtime.snapshotNow { _ in }
        }
        guard changed else { return }
        if spaceAlarm.raised {
            recordEvent(
                kind: "alarm", detail: "no space raised: \(spaceAlarm.reason); writes are refused (507 no_space)",
                level: .warning)
        } else {
            recordEvent(
                kind: "alarm",
                detail: "no space cleared: \(ByteSizeText.format(reading.freeBytes)) free; writes are accepted again",
                level: .notice)
        }
        broadcastHealth()
    }

    /// This node's report, addressed to `peer`.
    func ownHealth(to peer: NodeID) -> NodeHealth {
        let threshold = diskReading.map { spaceAlarm.threshold(totalBytes: $0.totalBytes) } ?? 0
        let free = diskReading?.freeBytes ?? 0
        if let failure = runtime.storageFailure {
            return NodeHealth(
                from: config.nodeID, to: peer, state: .storageFailed, freeBytes: free, alarmBelowFreeBytes: threshold,
                message: failure)
        }
        return NodeHealth(
            from: config.nodeID, to: peer, state: spaceAlarm.raised ? .noSpace : .ok, freeBytes: free,
            alarmBelowFreeBytes: threshold, message: spaceAlarm.reason)
    }

    func broadcastHealth() {
        transport?.sendHealth({ self.ownHealth(to: $0) }, skipping: runtime.blockedOutbound)
    }

    /// A peer's health report (already checked at the wire layer). Reports across a cut are dropped, as the cut's
    /// messages are.
    func healthReported(_ health: NodeHealth) {
        loop.execute {
            guard !self.runtime.blockedInbound.contains(health.from) else { return }
            let previous = self.clusterAlarms.reports[health.from]?.health.state
            let changed = self.clusterAlarms.record(
                health, nowMilliseconds: Self.monotonicMilliseconds(), timestamp: LogSink.timestamp())
            guard changed else { return }
            switch health.state {
            case .noSpace:
                self.recordEvent(
                    kind: "alarm", detail: "no space raised on \(health.from): \(health.message)", level: .warning)
            case .storageFailed:
                self.recordEvent(
                    kind: "alarm", detail: "storage failed on \(health.from): \(health.message)", level: .warning)
            case .ok where previous == .noSpace:
                self.recordEvent(kind: "alarm", detail: "no space cleared on \(health.from)", level: .notice)
            case .ok where previous == .storageFailed:
                self.recordEvent(
                    kind: "alarm", detail: "\(health.from) is back after its storage failure", level: .notice)
            case .ok:
                break
            }
        }
    }

    /// Why a write must be refused before it is proposed, if it must: any member's space alarm (as with etcd's
    /// NOSPACE alarm, the whole cluster takes only reads and deletes, which free space once compacted), or failed
    /// storage on a majority of the voters (no write could commit).
    func writeRefusal(_ command: KVCommand) -> WriteRefusal? {
        let now = Self.monotonicMilliseconds()
        let noSpace = clusterAlarms.inForce(.noSpace, nowMilliseconds: now)
        if !noSpace.isEmpty && command.operation != .delete { return .noSpace(noSpace.map(\.health)) }
        let failed = clusterAlarms.inForce(.storageFailed, nowMilliseconds: now)
        let voters = Set(runtime.raft.membership?.voters ?? Array(config.peers.keys))
        if failed.filter({ voters.contains($0.health.from) }).count > voters.count / 2 {
            return .storageFailed(failed.map(\.health))
        }
        return nil
    }

    /// A failed write's error, with the cause named when storage failures explain it: "no leader is known" while
    /// members' storage failed becomes `storage_failed` with their ids (still certainly not applied).
    func explain(_ error: ClientError) -> any Error {
        guard case .unavailable = error else { return error }
        let failed = clusterAlarms.inForce(.storageFailed, nowMilliseconds: Self.monotonicMilliseconds())
        return failed.isEmpty ? error : WriteRefusal.storageFailed(failed.map(\.health))
    }

    var diskStatus: NodeStatus.Disk? {
        guard let reading = diskReading else { return nil }
        return NodeStatus.Disk(
            freeBytes: reading.freeBytes, totalBytes: reading.totalBytes, usedBytes: reading.usedBytes,
            alarmBelowFreeBytes: spaceAlarm.threshold(totalBytes: reading.totalBytes),
            quotaBytes: spaceAlarm.quotaBytes, slowSyncs: syncMonitor.slowSyncs,
            slowSyncThresholdMilliseconds: syncMonitor.thresholdMilliseconds,
            syncDelayMilliseconds: syncMonitor.delayMilliseconds)
    }

    /// A sync took longer than the warning threshold (called on the thread that synced).
    func slowSync(nanoseconds: UInt64, injectedMilliseconds delay: Int, what: String) {
        let threshold = DurationText.format(milliseconds: syncMonitor.thresholdMilliseconds)
        let injected = delay > 0 ? " (\(DurationText.format(milliseconds: delay)) of it injected by slow-disk)" : ""
        loop.execute {
            self.recordEvent(
                kind: "slow-disk",
                detail: "slow fdatasync: \(what) took \(Self.seconds(nanoseconds)), over the \(threshold) warning"
                    + " threshold\(injected)",
                level: .warning)
        }
    }

    /// `1.234 s`.
    static func seconds(_ nanoseconds: UInt64) -> String {
        let milliseconds = nanoseconds / 1_000_000
        let fraction = String(milliseconds % 1_000)
        return "\(milliseconds / 1_000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction) s"
    }

    /// The core found that this node lost entries it had acknowledged (its data directory was wiped or cut
    /// short). Going on could vote twice in a term or acknowledge entries it does not hold, so it halts for good:
    /// it leaves a marker saying why (raftd refuses to start while it is there, and raftctl shows it) and exits
    /// with ``NodeConfiguration/lostDataExitStatus``.
    func handleLostData(leader: NodeID, acknowledged: LogIndex, lastIndex: LogIndex) {
        let status = NodeConfiguration.lostDataExitStatus
        let reason =
            "\(config.nodeID) lost entries it had acknowledged: \(leader), the leader, says it holds through"
            + " \(acknowledged), but its log in \(config.dataDirectory) ends at \(lastIndex) (the data directory was"
            + " emptied or cut short). It must not rejoin under its own identity: replace it"
            + " (raftctl replace-node \(config.nodeID)), or restore the data directory from a backup and remove the"
            + " \(NodeConfiguration.haltedMarkerName) file."
        let marker = NodeConfiguration.join(config.dataDirectory, NodeConfiguration.haltedMarkerName)
        let fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        if fd >= 0 {
            _ = Array((reason + "\n").utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            fsync(fd)
            close(fd)
        }
        recordEvent(kind: "halted", detail: reason, level: .critical)
        guard config.exitOnStorageFailure else { return }
        loop.scheduleTask(in: .milliseconds(50)) { _exit(status) }
    }

    /// A WAL write or sync failed: what is on disk may differ from what this process believes, so it must not go
    /// on. It says why (naming the file), tells its peers, and exits with a status of its own so that its
    /// supervisor restarts it; recovery at the next start repairs a torn tail.
    func handleStorageFailure(_ reason: String) {
        let status = NodeConfiguration.storageFailureExitStatus
        let ending = config.exitOnStorageFailure ? "exiting with status \(status) to be restarted" : "serving nothing"
        recordEvent(kind: "storage", detail: "failed: \(reason); \(ending)", level: .critical)
        clusterAlarms.record(
            ownHealth(to: config.nodeID), nowMilliseconds: Self.monotonicMilliseconds(), timestamp: LogSink.timestamp())
        broadcastHealth()
        guard config.exitOnStorageFailure else { return }
        // The pending requests were answered 503 storage_failed and the reports flushed to the sockets; a moment
        // lets the kernel deliver them. `_exit`: no atexit work that could touch the failed disk or block.
        loop.scheduleTask(in: .milliseconds(50)) { _exit(status) }
    }
}
