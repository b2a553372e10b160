import FoundationEssentials
import Glibc
import RaftAPI
import RaftREPL

/// Talks to one node's admin socket: one request, one response; or one request and a stream of items.
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

    /// Sends `request` and decodes the single response's `result`.
    public func call<Result: Decodable>(_ request: AdminRequest, as _: Result.Type = Result.self) throws(RaftctlError)
        -> Result
    {
        guard let connection = SocketConnection.unix(path: socketPath) else {
            throw .failed("cannot connect to \(socketPath) (is the node running?)")
        }
        try send(request, on: connection)
        guard let line = connection.readLine(timeoutMilliseconds: timeoutMilliseconds) else {
            throw .failed("no answer from \(socketPath) within \(timeoutMilliseconds) ms (is the node paused?)")
        }
        let envelope: Envelope<Result>
        do {
            envelope = try JSONDecoder().decode(Envelope<Result>.self, from: Data(line.utf8))
        } catch {
            throw .failed("unreadable answer from \(socketPath): \(line)")
        }
        if let error = envelope.error { throw .failed(error.message) }
        guard envelope.ok, let result = envelope.result else { throw .failed("empty answer from \(socketPath)") }
        return result
    }

    /// Sends `request` and hands each streamed line (raw JSON) to `handle` until `end`, the connection closes, or
    /// `handle` returns false. Without `follow`, a missing `end` within the timeout is an error.
    public func stream(_ request: AdminRequest, follow: Bool, _ handle: (String) -> Bool) throws(RaftctlError) {
        guard let connection = SocketConnection.unix(path: socketPath) else {
            throw .failed("cannot connect to \(socketPath) (is the node running?)")
        }
        try send(request, on: connection)
        while true {
            let next: String?
            if follow {
                next = connection.takeBufferedLine()
                if next == nil {
                    // In the REPL, Ctrl-C does not kill the process: a following stream must notice it and end.
                    if REPL.commandInterrupted { return }
                    guard SocketConnection.waitFor(connection.fd, events: Int16(POLLIN), 200) else { continue }
                    guard connection.fill(timeoutMilliseconds: 0) else { return }
                    continue
                }
            } else {
                next = connection.readLine(timeoutMilliseconds: timeoutMilliseconds)
            }
            guard let line = next else {
                throw .failed(
                    "no complete answer from \(socketPath) within \(timeoutMilliseconds) ms (is the node paused?)")
            }
            if line.contains("\"end\":true") { return }
            if line.contains("\"ok\":false") {
                let message = (try? JSONDecoder().decode(Envelope<Empty>.self, from: Data(line.utf8)))?.error?.message
                throw .failed(message ?? line)
            }
            if !handle(line) { return }
        }
    }

    /// Opens a following stream and returns the connection, for callers that multiplex several nodes.
    func openStream(_ request: AdminRequest) throws(RaftctlError) -> SocketConnection {
        guard let connection = SocketConnection.unix(path: socketPath) else {
            throw .failed("cannot connect to \(socketPath) (is the node running?)")
        }
        try send(request, on: connection)
        return connection
    }

    private func send(_ request: AdminRequest, on connection: SocketConnection) throws(RaftctlError) {
        guard let data = try? JSONEncoder().encode(request) else { throw .failed("cannot encode the request") }
        guard connection.writeAll(Array(data) + [UInt8(ascii: "\n")], timeoutMilliseconds: timeoutMilliseconds) else {
            throw .failed("cannot write to \(socketPath)")
        }
    }

    public func status() throws(RaftctlError) -> NodeStatus {
        try call(AdminRequest(op: "status", id: .number(1)), as: NodeStatus.self)
    }
}

/// A minimal HTTP/1.1 client for the node's client API (one request per connection).
public struct HTTPClient: Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: [UInt8]

        public var text: String { String(decoding: body, as: UTF8.self) }

        /// The `message` of a JSON error body, or the body itself.
        public var errorMessage: String {
            if let decoded = try? JSONDecoder().decode(ErrorAnswer.self, from: Data(body)) {
                return decoded.error.message
            }
            return text
        }
    }

    public static func request(
        method: String, host: String, port: Int, path: String, body: [UInt8] = [], headers: [String: String] = [:],
        timeoutMilliseconds: Int
    ) -> Response? {
        guard let connection = SocketConnection.tcp(host: host, port: port, timeoutMilliseconds: timeoutMilliseconds)
        else { return nil }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        head += "Content-Length: \(body.count)\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        guard connection.writeAll(Array(head.utf8) + body, timeoutMilliseconds: timeoutMilliseconds),
            let raw = connection.readToEnd(timeoutMilliseconds: timeoutMilliseconds)
        else { return nil }
        return parse(raw)
    }

    /// How one request ended, for callers that must tell "never sent" from "sent, no answer".
    public enum Exchange: Sendable {
        /// No connection: the request certainly never reached the node.
        case notSent
        /// Sent (at least partly), but no complete answer came: it may or may not have taken effect.
        case noAnswer
        case answered(Response)
    }

    /// One request on a fresh connection, telling apart what `request` reports as nil.
    public static func exchange(
        method: String, host: String, port: Int, path: String, body: [UInt8] = [], headers: [String: String] = [:],
        timeoutMilliseconds: Int
    ) -> Exchange {
        guard let connection = SocketConnection.tcp(host: host, port: port, timeoutMilliseconds: timeoutMilliseconds)
        else { return .notSent }
        var head =
            "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        guard connection.writeAll(Array(head.utf8) + body, timeoutMilliseconds: timeoutMilliseconds),
            let raw = connection.readToEnd(timeoutMilliseconds: timeoutMilliseconds), let response = parse(raw)
        else { return .noAnswer }
        return .answered(response)
    }

    static func parse(_ raw: [UInt8]) -> Response? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let headerEnd = raw.indices.first(where: { raw[$0...].starts(with: separator) }) else { return nil }
        let headText = String(decoding: raw[..<headerEnd], as: UTF8.self)
        let lines = headText.split(separator: "\r\n")
        guard let statusLine = lines.first else { return nil }
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingPrefixSpaces()
        }
        return Response(status: status, headers: headers, body: Array(raw[(headerEnd + 4)...]))
    }
}

extension Substring {
    fileprivate func trimmingPrefixSpaces() -> String {
        String(drop { $0 == " " })
    }
}
