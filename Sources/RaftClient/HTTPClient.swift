import FoundationEssentials
import RaftAPI

/// One HTTP response from a node's client API: status, headers (names lower-cased), raw body.
public struct HTTPResponse: Sendable, CustomStringConvertible {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The documented JSON error body (`{"error":{"code","message"}}`), or nil when the body is not one.
    public var errorAnswer: ErrorAnswer? { try? JSONDecoder().decode(ErrorAnswer.self, from: Data(body)) }

    /// `error.code` of a JSON error body, or nil.
    public var errorCode: String? { errorAnswer?.error.code }

    /// The `message` of a JSON error body, or the body itself.
    public var errorMessage: String { errorAnswer?.error.message ?? text }

    /// 503 (no leader, shutting down) or 504 (not committed in time): the write may be retried with the same
    /// Idempotency-Key, elsewhere or later.
    public var isRetryable: Bool { status == 503 || status == 504 }

    public var description: String { "HTTP \(status) \(text.prefix(300))" }
}

/// A blocking HTTP/1.1 client for the node's client API: one request per connection (`Connection: close`), every
/// wait bounded. It can also send arbitrary bytes, which is what tests of malformed requests need.
public enum HTTPClient {
    /// How one request ended, telling "never sent" from "sent, no answer" (which a write must treat as unknown).
    public enum Exchange: Sendable {
        /// No connection: the request certainly never reached the node.
        case notSent(String)
        /// Sent (at least partly), but no complete answer came: it may or may not have taken effect.
        case noAnswer(String)
        case answered(HTTPResponse)

        public var response: HTTPResponse? {
            if case .answered(let response) = self { return response }
            return nil
        }
    }

    /// The bytes of a request with `Connection: close`; `Content-Length` is sent unless a GET or DELETE has no body.
    public static func requestBytes(
        method: String, host: String, port: Int, path: String, body: [UInt8] = [], headers: [(String, String)] = []
    ) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || (method != "GET" && method != "DELETE" && method != "HEAD") {
            head += "Content-Length: \(body.count)\r\n"
        }
        head += "\r\n"
        return Array(head.utf8) + body
    }

    /// One request on a fresh connection.
    public static func exchange(
        method: String, host: String = "127.0.0.1", port: Int, path: String, body: [UInt8] = [],
        headers: [(String, String)] = [], timeoutMilliseconds: Int
    ) -> Exchange {
        exchange(
            raw: requestBytes(method: method, host: host, port: port, path: path, body: body, headers: headers),
            host: host, port: port, timeoutMilliseconds: timeoutMilliseconds)
    }

    /// One request, nil unless it was answered.
    public static func request(
        method: String, host: String = "127.0.0.1", port: Int, path: String, body: [UInt8] = [],
        headers: [(String, String)] = [], timeoutMilliseconds: Int
    ) -> HTTPResponse? {
        exchange(
            method: method, host: host, port: port, path: path, body: body, headers: headers,
            timeoutMilliseconds: timeoutMilliseconds
        ).response
    }

    /// Sends `bytes` as they are and reads the first response.
    public static func exchange(raw bytes: [UInt8], host: String = "127.0.0.1", port: Int, timeoutMilliseconds: Int)
        -> Exchange
    {
        let connection: SocketConnection
        do {
            connection = try SocketConnection.tcp(host: host, port: port, timeoutMilliseconds: timeoutMilliseconds)
        } catch {
            return .notSent(error.message)
        }
        // A server that answers early (413, 431) may close before reading everything: keep what it said.
        connection.send(bytes, timeoutMilliseconds: timeoutMilliseconds)
        let received = connection.receive(timeoutMilliseconds: timeoutMilliseconds) { parse($0) != nil }
        if let (response, _) = parse(received.bytes, atEnd: received.closed) { return .answered(response) }
        let state = received.timedOut ? "no complete answer within \(timeoutMilliseconds) ms" : "connection closed"
        return .noAnswer(
            "\(host):\(port): \(state) after \(received.bytes.count) bytes"
                + (received.bytes.isEmpty ? "" : ": " + String(decoding: received.bytes.prefix(200), as: UTF8.self)))
    }

    /// The first complete response in `bytes` and how many bytes it took; nil if more are needed. Without
    /// `Content-Length` the body runs to the end of the stream, so it is complete only `atEnd`.
    public static func parse(_ bytes: [UInt8], atEnd: Bool = false) -> (HTTPResponse, Int)? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard bytes.count >= 4,
            let end = (0...(bytes.count - 4)).first(where: { bytes[$0..<$0 + 4].elementsEqual(separator) })
        else { return nil }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).split(separator: "\r\n")
        guard let statusLine = lines.first else { return nil }
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = String(line[line.index(after: colon)...].drop { $0 == " " })
        }
        let bodyStart = end + 4
        let bodyEnd: Int
        if let text = headers["content-length"] {
            guard let length = Int(text), length >= 0 else { return nil }
            bodyEnd = bodyStart + length
            guard bytes.count >= bodyEnd else { return nil }
        } else {
            guard atEnd else { return nil }
            bodyEnd = bytes.count
        }
        return (HTTPResponse(status: status, headers: headers, body: Array(bytes[bodyStart..<bodyEnd])), bodyEnd)
    }
}
