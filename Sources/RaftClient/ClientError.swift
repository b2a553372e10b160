/// Why a request to a node could not be made or answered, in words for the person who asked.
public struct ClientError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
