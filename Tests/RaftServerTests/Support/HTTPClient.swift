import Foundation
import Glibc

/// One HTTP response as the tests see it: status, lower-cased headers, raw body.
struct HTTPResponse: CustomStringConvertible {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed as a JSON object, or nil.
    var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }

    /// `error.code` of a JSON error body (`{"error":{"code","message"}}`), or nil when the body is not one.
    var errorCode: String? {
        ((json?["error"] as? [String: Any])?["code"]) as? String
    }

    /// True when the body is the documented JSON error shape with a non-empty code and message.
    var isJSONError: Bool {
        guard let error = json?["error"] as? [String: Any] else { return false }
        return !((error["code"] as? String) ?? "").isEmpty && !((error["message"] as? String) ?? "").isEmpty
    }

    var description: String { "HTTP \(status) \(text.prefix(300))" }
}

/// A tiny blocking HTTP/1.1 client over POSIX sockets: one request per connection (`Connection: close`), every
/// wait bounded. It also sends arbitrary bytes, which is what malformed-request tests need.
enum HTTPClient {
    static func request(
        port: Int, _ method: String, _ path: String, body: [UInt8] = [], headers: [(String, String)] = [],
        timeout: Double = 5
    ) throws -> HTTPResponse {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if method != "GET" || !body.isEmpty { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        return try exchange(port: port, Array(head.utf8) + body, timeout: timeout)
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
        let fd = try Sockets.connectTCP(port: port)
        defer { close(fd) }
        // A server that answers early (413, 431) may close before reading everything: keep what it said.
        Sockets.sendAll(fd, bytes)
        let result = Sockets.receive(fd, timeout: timeout) { Self.parse($0) != nil }
        guard let response = parse(result.bytes) else {
            let state = result.timedOut ? "no complete response within \(timeout) s" : "connection closed"
            throw HarnessError(
                "HTTP to port \(port): \(state); got \(result.bytes.count) bytes: "
                    + String(decoding: result.bytes.prefix(200), as: UTF8.self))
        }
        return response
    }

    /// A complete response with a `Content-Length` body, or nil if more bytes are needed.
    static func parse(_ bytes: [UInt8]) -> HTTPResponse? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard bytes.count >= 4,
            let end = (0...(bytes.count - 4)).first(where: { bytes[$0..<$0 + 4].elementsEqual(separator) })
        else { return nil }
        let headText = String(decoding: bytes[..<end], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        let bodyStart = end + 4
        guard bytes.count >= bodyStart + length else { return nil }
        return HTTPResponse(status: status, headers: headers, body: Array(bytes[bodyStart..<bodyStart + length]))
    }
}
