/// Why a request to a node could not be made or answered, in words for the person who asked.
public struct ClientError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    /// The node's error code (`not_leader`, `would_lose_quorum`, …) when the node refused the request.
    public var code: String?

    public init(_ message: String, code: String? = nil) {
        self.message = message
        self.code = code
    }

    public var description: String { message }
}
