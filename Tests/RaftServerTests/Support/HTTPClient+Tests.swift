import Foundation
import RaftClient

extension HTTPResponse {
    /// The body parsed as a JSON object, or nil.
    var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }

    /// True when the body is the documented JSON error shape with a non-empty code and message.
    var isJSONError: Bool {
        guard let error = errorAnswer?.error else { return false }
        return !error.code.isEmpty && !error.message.isEmpty
    }
}

/// The tests' shorthand over RaftClient's HTTP client: a loopback port, timeouts in seconds, and a thrown
/// ``HarnessError`` (what was sent, what came back) when no answer arrives.
extension HTTPClient {
    static func request(
        port: Int, _ method: String, _ path: String, body: [UInt8] = [], headers: [(String, String)] = [],
        timeout: Double = 5
    ) throws -> HTTPResponse {
        try exchange(
            port: port,
            requestBytes(method: method, host: "127.0.0.1", port: port, path: path, body: body, headers: headers),
            timeout: timeout)
    }

    static func put(
        port: Int, _ key: String, _ value: String, query: String = "", headers: [(String, String)] = [],
        timeout: Double = 5
    ) throws -> HTTPResponse {
        try request(
            port: port, "PUT", "/v1/kv/\(key)\(query)", body: Array(value.utf8), headers: headers, timeout: timeout)
    }

    static func get(port: Int, _ key: String, stale: Bool = false) throws -> HTTPResponse {
        try request(port: port, "GET", "/v1/kv/\(key)" + (stale ? "?consistency=stale" : ""))
    }

    static func delete(
        port: Int, _ key: String, query: String = "", headers: [(String, String)] = []
    ) throws -> HTTPResponse {
        try request(port: port, "DELETE", "/v1/kv/\(key)\(query)", headers: headers)
    }

    /// Sends `bytes` as is and parses the response; throws if none arrives within `timeout` seconds.
    static func exchange(port: Int, _ bytes: [UInt8], timeout: Double = 5) throws -> HTTPResponse {
        switch exchange(raw: bytes, port: port, timeoutMilliseconds: Int(timeout * 1000)) {
        case .answered(let response): return response
        case .notSent(let problem), .noAnswer(let problem): throw HarnessError("HTTP to port \(port): \(problem)")
        }
    }

    /// A complete response with a `Content-Length` body, or nil if more bytes are needed.
    static func parseResponse(_ bytes: [UInt8]) -> HTTPResponse? {
        parse(bytes, atEnd: false)?.0
    }
}

extension SocketConnection {
    /// A loopback TCP connection to `port`, or a ``HarnessError``.
    static func loopback(port: Int) throws -> SocketConnection {
        do { return try tcp(port: port) } catch { throw HarnessError(error.message) }
    }

    /// A connection to the Unix-domain socket at `path`, or a ``HarnessError``.
    static func unixSocket(_ path: String) throws -> SocketConnection {
        do { return try unix(path: path) } catch { throw HarnessError(error.message) }
    }

    /// Reads until `done` holds, the peer closes, or `timeout` seconds pass.
    func receive(timeout: Double, until done: ([UInt8]) -> Bool = { _ in false }) -> Received {
        receive(timeoutMilliseconds: Int(timeout * 1000), until: done)
    }
}
