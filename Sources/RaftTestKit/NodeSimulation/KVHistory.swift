/// What clients of a key-value store did and saw, for ``KVLinearizabilityChecker``.
///
/// Each operation touches one key. Times are positions in one global order of events (the simulator's step and a
/// sequence number), so "returned before invoked" is exact. An operation whose outcome the client never learned
/// (it gave up after timeouts) has no return: it may have taken effect at any time after its invocation, or never.
public struct KVOperation: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case read
        case put([UInt8])
        case delete
        /// Compare-and-set: store `new` only if the key holds exactly `expected`.
        case compareAndSet(expected: [UInt8], new: [UInt8])
    }

    /// What the client was told.
    public enum Output: Sendable, Hashable {
        /// A read's value (nil: the key did not exist).
        case value([UInt8]?)
        /// A put or a successful compare-and-set; `created` says whether the key was new.
        case stored(created: Bool)
        case deleted
        /// A delete of a key that did not exist.
        case notFound
        /// A compare-and-set whose expected value did not match; nothing changed.
        case conditionFailed
    }

    public var client: Int
    public var key: String
    public var kind: Kind
    public var invokedAt: UInt64
    /// When the answer arrived and what it was; nil for an operation whose outcome is unknown.
    public var returned: (at: UInt64, output: Output)?

    public init(client: Int, key: String, kind: Kind, invokedAt: UInt64, returned: (at: UInt64, output: Output)?) {
        self.client = client
        self.key = key
        self.kind = kind
        self.invokedAt = invokedAt
        self.returned = returned
    }

    public static func == (a: KVOperation, b: KVOperation) -> Bool {
        a.client == b.client && a.key == b.key && a.kind == b.kind && a.invokedAt == b.invokedAt
            && a.returned?.at == b.returned?.at && a.returned?.output == b.returned?.output
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(client)
        hasher.combine(invokedAt)
    }

    public var description: String {
        let what: String
        switch kind {
        case .read: what = "get \(key)"
        case .put(let value): what = "put \(key)=\(Self.text(value))"
        case .delete: what = "delete \(key)"
        case .compareAndSet(let expected, let new): what = "cas \(key) \(Self.text(expected))->\(Self.text(new))"
        }
        let outcome: String
        switch returned?.output {
        case nil: outcome = "unknown"
        case .value(let value)?: outcome = value.map(Self.text) ?? "(none)"
        case .stored(let created)?: outcome = created ? "created" : "stored"
        case .deleted?: outcome = "deleted"
        case .notFound?: outcome = "not found"
        case .conditionFailed?: outcome = "condition failed"
        }
        let end = returned.map { "\($0.at)" } ?? "∞"
        return "c\(client) [\(invokedAt), \(end)] \(what) -> \(outcome)"
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
