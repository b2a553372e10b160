/// Identifies one member of a cluster.
///
/// Ids are positive integers; operators see them as `n1`, `n2`, … (see ``description``). Zero is never a
/// valid member id, which lets wire formats use it as "none".
public struct NodeID: RawRepresentable, Hashable, Comparable, Sendable, ExpressibleByIntegerLiteral,
    CustomStringConvertible
{
    public let rawValue: UInt64

    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public init(_ rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public init(integerLiteral value: UInt64) {
        self.rawValue = value
    }

    /// Parses `n3` or `3`; returns nil for anything else, including `n0`.
    public init?(parsing text: some StringProtocol) {
        let all = Substring(text)
        let digits = all.hasPrefix("n") ? all.dropFirst() : all
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = UInt64(digits),
            value > 0
        else { return nil }
        self.rawValue = value
    }

    public var description: String { "n\(rawValue)" }

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A Raft term: the logical clock that orders leaderships (§5.1). Terms only ever grow on a node.
public struct Term: RawRepresentable, Hashable, Comparable, Sendable, ExpressibleByIntegerLiteral,
    CustomStringConvertible
{
    public let rawValue: UInt64

    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public init(_ rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public init(integerLiteral value: UInt64) {
        self.rawValue = value
    }

    public static let zero = Term(0)

    public var next: Term { Term(rawValue + 1) }

    public var description: String { "t\(rawValue)" }

    public static func < (lhs: Term, rhs: Term) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A position in the replicated log. Index 0 is the empty prefix before the first entry.
public struct LogIndex: RawRepresentable, Hashable, Comparable, Strideable, Sendable, ExpressibleByIntegerLiteral,
    CustomStringConvertible
{
    public let rawValue: UInt64

    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public init(_ rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public init(integerLiteral value: UInt64) {
        self.rawValue = value
    }

    public static let zero = LogIndex(0)

    public var next: LogIndex { LogIndex(rawValue + 1) }
    public var previous: LogIndex {
        precondition(rawValue > 0, "index 0 has no predecessor")
        return LogIndex(rawValue - 1)
    }

    public var description: String { String(rawValue) }

    public static func < (lhs: LogIndex, rhs: LogIndex) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Equality of the raw values. Declared, not inherited from `Strideable`, whose default goes through
    /// `distance(to:)`.
    public static func == (lhs: LogIndex, rhs: LogIndex) -> Bool { lhs.rawValue == rhs.rawValue }

    /// Saturates at `Int.min`/`Int.max` instead of trapping: indexes come from peers, and any `UInt64` may arrive.
    public func distance(to other: LogIndex) -> Int { Int(clamping: Int128(other.rawValue) - Int128(rawValue)) }
    /// Saturates at 0 and `UInt64.max` instead of trapping.
    public func advanced(by n: Int) -> LogIndex { LogIndex(UInt64(clamping: Int128(rawValue) + Int128(n))) }
}

/// Identifies a whole cluster. Storage and the peer transport use it to refuse data directories and peers
/// that belong to another cluster; the core itself never looks at it.
public struct ClusterID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64

    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public init(_ rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// Sixteen lowercase hex digits.
    public var description: String {
        let hex = String(rawValue, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
