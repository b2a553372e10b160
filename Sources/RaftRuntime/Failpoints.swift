import RaftCore

/// Named points in the node runtime where an operator can inject a fault on purpose, in the spirit of etcd's
/// gofail and FoundationDB's BUGGIFY. All are off by default and cost one check of an empty dictionary when off.
///
/// The `unsafe-` ones break the node's guarantees on purpose, so that a checker can be shown to catch a broken
/// cluster; raftd refuses them unless started with `--allow-unsafe-failpoints`.
public enum FailpointName: String, CaseIterable, Sendable, Hashable {
    /// On the leader, before it syncs its own log.
    case beforeLeaderSync = "before-leader-sync"
    /// On the leader, after its log is synced, before what waited on the sync is sent.
    case afterLeaderSync = "after-leader-sync"
    /// On the leader, when a follower's acknowledgement of an append arrives, before it is counted (drop: ignore it).
    case afterAppendSent = "after-append-sent"
    /// After entries are committed, before they are applied.
    case afterCommitBeforeApply = "after-commit-before-apply"
    /// While a committed entry is applied (pause: a slow state machine, which raftd reports as a slow apply).
    case duringApply = "during-apply"
    /// After a write is applied, before its client is answered (drop: the answer is never sent; the client times
    /// out with 504).
    case afterApplyBeforeReply = "after-apply-before-reply"
    /// On a follower, before it acknowledges an append (drop: the acknowledgement is not sent).
    case beforeFollowerAck = "before-follower-ack"
    /// Before a snapshot from the leader is installed (drop: it is ignored).
    case beforeSnapshotInstall = "before-snapshot-install"
    /// UNSAFE: linearizable reads are answered from this node's local state at once, without ReadIndex.
    case unsafeStaleReads = "unsafe-stale-reads"

    public var isUnsafe: Bool { rawValue.hasPrefix("unsafe-") }
}

/// What a failpoint does when reached.
public enum FailpointAction: Sendable, Hashable, CustomStringConvertible {
    /// End the process at once (as `kill -9`).
    case crash
    /// Stop the node's loop for this long, as a stall would.
    case pause(milliseconds: Int)
    /// Drop the message or the answer at this point (where there is one).
    case drop
    /// Turn an unsafe behaviour on.
    case on

    public var description: String {
        switch self {
        case .crash: "crash"
        case .pause(let milliseconds): "pause \(milliseconds)ms"
        case .drop: "drop"
        case .on: "on"
        }
    }
}

extension NodeRuntime {
    /// Arms `name` with `action`, or disarms it (nil).
    public func setFailpoint(_ name: FailpointName, _ action: FailpointAction?) {
        failpoints[name] = action
    }

    /// True when the message or answer at `name` must be dropped; crashes or pauses (through the environment)
    /// when armed so.
    func reach(_ name: FailpointName) -> Bool {
        guard !failpoints.isEmpty, let action = failpoints[name] else { return false }
        switch action {
        case .crash, .pause:
            environment?.failpointReached(name, action)
            return false
        case .drop: return true
        case .on: return false
        }
    }

    func isOn(_ name: FailpointName) -> Bool {
        !failpoints.isEmpty && failpoints[name] == .on
    }
}
