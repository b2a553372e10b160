/// The JSON bodies of the HTTP client API, as raftd encodes them and clients decode them (one definition for
/// both). raftd(8), HTTP API, documents each.

/// The answer to an executed write: where it was committed, whether it was replayed from the idempotency record,
/// and (for a PUT) whether it created the key.
public struct WriteAnswer: Codable, Sendable, Hashable {
    public var index: UInt64
    public var term: UInt64
    public var replayed: Bool
    /// PUT only.
    public var created: Bool?

    public init(index: UInt64, term: UInt64, replayed: Bool, created: Bool? = nil) {
        self.index = index
        self.term = term
        self.replayed = replayed
        self.created = created
    }

    /// The body raftd sends: the bytes `JSONEncoder` makes with sorted keys, written out directly because every
    /// acknowledged write goes through here (the encoder took 4 % of a busy leader's CPU).
    public var jsonBytes: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(72)
        func append(_ text: StaticString) {
            text.withUTF8Buffer { bytes.append(contentsOf: $0) }
        }
        func append(_ flag: Bool) { append(flag ? "true" : "false") }
        append("{")
        if let created {
            append("\"created\":")
            append(created)
            append(",")
        }
        append("\"index\":")
        bytes.append(contentsOf: String(index).utf8)
        append(",\"replayed\":")
        append(replayed)
        append(",\"term\":")
        bytes.append(contentsOf: String(term).utf8)
        append("}")
        return bytes
    }
}

/// Every error: `{"error": {"code", "message"}}`, with `replayed` on an executed write's failure (404, 412) and
/// `nodes` on a refusal naming the nodes at fault (507 `no_space`, 503 `storage_failed`).
public struct ErrorAnswer: Codable, Sendable, Hashable {
    public struct Detail: Codable, Sendable, Hashable {
        public var code: String
        public var message: String
    }

    /// A node whose disk is why a write was refused.
    public struct Node: Codable, Sendable, Hashable {
        public var id: String
        public var freeBytes: UInt64
        public var alarmBelowFreeBytes: UInt64
        public var message: String

        public init(id: String, freeBytes: UInt64, alarmBelowFreeBytes: UInt64, message: String) {
            self.id = id
            self.freeBytes = freeBytes
            self.alarmBelowFreeBytes = alarmBelowFreeBytes
            self.message = message
        }
    }

    public var error: Detail
    public var replayed: Bool?
    public var nodes: [Node]?

    public init(code: String, message: String, replayed: Bool? = nil, nodes: [Node]? = nil) {
        self.error = Detail(code: code, message: message)
        self.replayed = replayed
        self.nodes = nodes
    }
}
