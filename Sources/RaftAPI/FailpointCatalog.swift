/// The failpoint names raftd knows, for raftctl's completion and help (raftd's own list is `FailpointName` in
/// RaftRuntime; a test keeps the two equal).
public enum FailpointCatalog {
    public static let names = [
        "before-leader-sync", "after-leader-sync", "after-append-sent", "after-commit-before-apply",
        "during-apply", "after-apply-before-reply", "before-follower-ack", "before-snapshot-install",
        "unsafe-stale-reads",
    ]
    public static let actions = ["crash", "pause:500ms", "drop", "on", "off"]
}
