import RaftAPI
import RaftCore
import RaftWire

/// The alarms a node knows of: its own and those its peers reported in their health frames.
///
/// Reports are soft state, never written to the log: a report lapses unless it is renewed (peers report twice a
/// second), so the alarm of a node that went away does not hold the cluster for ever: a `no_space` report lapses
/// after ``noSpaceLifetimeMilliseconds``, a `storage_failed` one (whose sender exits) after
/// ``storageFailedLifetimeMilliseconds`` or as soon as the restarted node reports again.
struct ClusterAlarms: Sendable {
    struct Report: Sendable, Hashable {
        var health: NodeHealth
        var receivedAtMilliseconds: UInt64
        /// When the sender first reported this state (UTC), for people.
        var since: String
    }

    static let noSpaceLifetimeMilliseconds: UInt64 = 3_000
    static let storageFailedLifetimeMilliseconds: UInt64 = 30_000

    private(set) var reports: [NodeID: Report] = [:]

    /// Records a report (from a peer, or this node's own); returns true when the sender's state changed.
    @discardableResult
    mutating func record(_ health: NodeHealth, nowMilliseconds: UInt64, timestamp: String) -> Bool {
        let previous = reports[health.from]
        let changed = previous?.health.state != health.state
        reports[health.from] = Report(
            health: health, receivedAtMilliseconds: nowMilliseconds,
            since: changed ? timestamp : previous?.since ?? timestamp)
        return changed
    }

    /// The reports in force of the given state, by node id.
    func inForce(_ state: NodeHealth.State, nowMilliseconds: UInt64) -> [Report] {
        let lifetime =
            state == .storageFailed ? Self.storageFailedLifetimeMilliseconds : Self.noSpaceLifetimeMilliseconds
        return reports.values.filter {
            $0.health.state == state && nowMilliseconds - $0.receivedAtMilliseconds <= lifetime
        }.sorted { $0.health.from < $1.health.from }
    }

    /// Every alarm in force, as the status document shows them.
    func statusAlarms(nowMilliseconds: UInt64) -> [NodeStatus.Alarm] {
        let all =
            inForce(.noSpace, nowMilliseconds: nowMilliseconds)
            + inForce(.storageFailed, nowMilliseconds: nowMilliseconds)
        return all.sorted { $0.health.from < $1.health.from }.map { report in
            let health = report.health
            return NodeStatus.Alarm(
                node: health.from.description, kind: health.state == .noSpace ? "no_space" : "storage_failed",
                message: health.message, freeBytes: health.state == .noSpace ? health.freeBytes : nil,
                since: report.since)
        }
    }
}

/// A write refused before it was proposed (so certainly not applied), because of the cluster's disks.
enum WriteRefusal: Error, Sendable {
    /// The space alarm is raised on these nodes: the cluster takes no writes until it clears.
    case noSpace([NodeHealth])
    /// The storage of these nodes failed (a majority of the voters, or the write found no leader).
    case storageFailed([NodeHealth])
}
