/// The admin protocol (version 1): newline-delimited JSON over the node's Unix socket (`<data-dir>/admin.sock`,
/// mode 0600). Each request line is an ``AdminRequest``; each response line an ``AdminResponse`` carrying the
/// request's `id`. Streaming operations (`logs`, `entries`, `events`) answer with one line per item, then a line
/// with `"end": true` unless they follow; a following stream ends when the client closes the connection.
public enum AdminProtocol {
    public static let version = 1
    /// The longest Unix socket path the kernel accepts (`sun_path` is 108 bytes with the terminating NUL).
    public static let maxSocketPathBytes = 107
    /// Longest request line accepted; a longer one gets an error and the connection is closed.
    public static let maxLineBytes = 64 * 1024
    public static let operations = [
        "status", "campaign", "transfer-leader", "block", "unblock", "set-blocked", "heal", "snapshot", "logs",
        "entries", "events", "slow-disk", "failpoint", "members", "add-member", "remove-member", "promote",
    ]
}

/// A request id: any JSON number or string the client chose, echoed back.
public enum AdminRequestID: Codable, Sendable, Hashable {
    case number(Int64)
    case text(String)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int64.self) {
            self = .number(number)
        } else {
            self = .text(try container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let number): try container.encode(number)
        case .text(let text): try container.encode(text)
        }
    }
}

/// One admin request. Fields not used by `op` are ignored.
///
/// - `status`, `campaign`, `heal`, `snapshot`: no arguments.
/// - `transfer-leader`: `to` (a node id like `n2`).
/// - `block` / `unblock`: `peers` and `direction` (`both`, the default; `in`: drop what they send us; `out`: drop
///   what we send them).
/// - `set-blocked`: replaces the whole filter with `in` and `out`.
/// - `logs`: `last` (default 100) lines, then new ones if `follow`.
/// - `entries`: from index `from` (default 1), at most `limit` (default 1000), then new ones if `follow`.
/// - `events`: recent events (the `last` ones, default all kept), then new ones if `follow`.
/// - `slow-disk`: `delay`, a duration (`500ms`, `2s`; `0` or `off` clears) injected before every sync.
/// - `members`: the membership this node follows, with addresses (a ``MembersAnswer``).
/// - `add-member` (on the leader): `node`, `peer` (`HOST:PORT`), optional `client` (`HOST:PORT`); a learner
///   unless `voter` is true, in which case it is promoted once it has caught up (within `wait`, default 30s).
///   Answered once the change is committed.
/// - `remove-member` (on the leader): `node`; refused if it would leave no live quorum, unless `force`.
/// - `promote` (on the leader): `node`, a learner that has caught up.
/// - `failpoint`: without `name`, lists every failpoint and its action; with `name` and `action` (`crash`,
///   `pause:DURATION`, `drop`, `on`, `off`), arms or disarms one.
public struct AdminRequest: Codable, Sendable, Hashable {
    public var v: Int?
    public var id: AdminRequestID?
    public var op: String
    public var to: String?
    public var peers: [String]?
    public var direction: String?
    public var `in`: [String]?
    public var out: [String]?
    public var last: Int?
    public var from: UInt64?
    public var limit: Int?
    public var follow: Bool?
    public var delay: String?
    public var name: String?
    public var action: String?
    public var node: String?
    public var peer: String?
    public var client: String?
    public var voter: Bool?
    public var force: Bool?
    public var wait: String?

    public init(op: String, id: AdminRequestID? = nil) {
        self.v = AdminProtocol.version
        self.op = op
        self.id = id
    }
}

/// An error in an admin response.
public struct AdminError: Codable, Sendable, Hashable, Error {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}

/// One Raft log entry as `entries` streams it.
public struct AdminEntry: Codable, Sendable, Hashable {
    public var index: UInt64
    public var term: UInt64
    /// `command`, `noop` or `configuration` (a membership change: `command` reads `members voters=… learners=…`).
    public var type: String
    /// The decoded command, e.g. `put key=value` (long values are cut).
    public var command: String?
    /// The Idempotency-Key the client sent with the command, if any.
    public var idempotencyKey: String?

    public init(index: UInt64, term: UInt64, type: String, command: String?, idempotencyKey: String? = nil) {
        self.index = index
        self.term = term
        self.idempotencyKey = idempotencyKey
        self.type = type
        self.command = command
    }
}

/// One core event as `events` streams it.
public struct AdminEvent: Codable, Sendable, Hashable {
    public var time: String
    public var node: String
    public var term: UInt64
    public var kind: String
    public var detail: String

    public init(time: String, node: String, term: UInt64, kind: String, detail: String) {
        self.time = time
        self.node = node
        self.term = term
        self.kind = kind
        self.detail = detail
    }
}

/// The filter state after a fault operation.
public struct AdminBlocked: Codable, Sendable, Hashable {
    public var `in`: [String]
    public var out: [String]

    public init(in inbound: [String], out outbound: [String]) {
        self.in = inbound
        self.out = outbound
    }
}
