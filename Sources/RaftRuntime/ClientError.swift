/// Why a client request could not be answered with a result.
public enum ClientError: Error, Sendable, Hashable {
    /// No leader is known, or the leader lost its quorum: nothing was applied; retry later (HTTP 503).
    case unavailable(String)
    /// The request did not complete in time; its outcome is unknown (HTTP 504).
    case timeout
    /// The write may or may not be applied later (the leader it was forwarded to changed, or the node stopped or
    /// failed with it in flight): HTTP 504; safe to retry with the same Idempotency-Key.
    case outcomeUnknown(String)
    /// Storage failed; this node accepts no more requests (HTTP 503).
    case storageFailed(String)
}
