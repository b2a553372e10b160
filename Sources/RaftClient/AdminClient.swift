import FoundationEssentials
import Glibc
import RaftAPI

/// Talks to one node's admin socket (newline-delimited JSON): one request per connection, answered by one line, or
/// by a stream of lines up to `end`. Every wait is bounded by `timeoutMilliseconds`.
public struct AdminClient: Sendable {
    public let socketPath: String
    public let timeoutMilliseconds: Int

    public init(socketPath: String, timeoutMilliseconds: Int = 1_000) {
        self.socketPath = socketPath
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    struct Envelope<Result: Decodable>: Decodable {
        var ok: Bool
        var result: Result?
        var error: AdminError?
    }

    struct Empty: Codable {}

    /// Sends `request` and decodes the single answer's `result`; a refusal throws the node's own message.
    public func call<Result: Decodable>(_ request: AdminRequest, as _: Result.Type = Result.self) throws(ClientError)
        -> Result
    {
        let connection = try open(request)
        guard let line = connection.readLine(timeoutMilliseconds: timeoutMilliseconds) else {
            throw ClientError("no answer from \(socketPath) within \(timeoutMilliseconds) ms (is the node paused?)")
        }
        let envelope: Envelope<Result>
        do {
            envelope = try JSONDecoder().decode(Envelope<Result>.self, from: Data(line.utf8))
        } catch {
            throw ClientError("unreadable answer from \(socketPath): \(line)")
        }
        if let error = envelope.error { throw ClientError(error.message, code: error.code) }
        guard envelope.ok, let result = envelope.result else { throw ClientError("empty answer from \(socketPath)") }
        return result
    }

    /// Sends `request` and hands each streamed line (raw JSON) to `handle` until `end`, the connection closes, or
    /// `handle` returns false. Without `follow`, a missing `end` within the timeout is an error; with it, the stream
    /// waits for more until `shouldStop` says so (checked five times a second).
    public func stream(
        _ request: AdminRequest, follow: Bool, shouldStop: () -> Bool = { false }, _ handle: (String) -> Bool
    ) throws(ClientError) {
        let connection = try open(request)
        while true {
            let next: String?
            if follow {
                next = connection.takeBufferedLine()
                if next == nil {
                    if shouldStop() { return }
                    guard SocketConnection.waitFor(connection.fd, events: Int16(POLLIN), 200) else { continue }
                    guard connection.fill(timeoutMilliseconds: 0) else { return }
                    continue
                }
            } else {
                next = connection.readLine(timeoutMilliseconds: timeoutMilliseconds)
            }
            guard let line = next else {
                throw ClientError(
                    "no complete answer from \(socketPath) within \(timeoutMilliseconds) ms (is the node paused?)")
            }
            if line.contains("\"end\":true") { return }
            if line.contains("\"ok\":false") {
                let message = (try? JSONDecoder().decode(Envelope<Empty>.self, from: Data(line.utf8)))?.error?.message
                throw ClientError(message ?? line)
            }
            if !handle(line) { return }
        }
    }

    /// Connects and sends `request`, returning the connection to read the answer from (for callers that multiplex
    /// the streams of several nodes).
    public func open(_ request: AdminRequest) throws(ClientError) -> SocketConnection {
        let connection: SocketConnection
        do {
            connection = try SocketConnection.unix(path: socketPath)
        } catch {
            throw ClientError("cannot connect to \(socketPath) (is the node running?)")
        }
        guard let data = try? JSONEncoder().encode(request) else { throw ClientError("cannot encode the request") }
        guard connection.send(Array(data) + [UInt8(ascii: "\n")], timeoutMilliseconds: timeoutMilliseconds) else {
            throw ClientError("cannot write to \(socketPath)")
        }
        return connection
    }

    /// The node's status document.
    public func status() throws(ClientError) -> NodeStatus {
        try call(AdminRequest(op: "status", id: .number(1)), as: NodeStatus.self)
    }
}
