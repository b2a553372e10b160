import Foundation
import Glibc
import RaftClient

/// One connection to a node's admin socket (newline-delimited JSON, protocol version 1) over RaftClient's
/// ``SocketConnection``, for tests that send several requests, malformed lines, or arguments the typed
/// ``AdminRequest`` cannot express; answers come back as JSON objects.
///
/// Blocking and bounded: every read waits at most `timeout` seconds. Not thread-safe; one test uses one
/// connection at a time.
final class AdminSession {
    let path: String
    let connection: SocketConnection
    private var nextID = 1

    init(path: String) throws {
        self.path = path
        self.connection = try SocketConnection.unixSocket(path)
    }

    /// Sends raw bytes (for malformed input); false if the node closed the connection first.
    @discardableResult
    func sendRaw(_ bytes: [UInt8]) -> Bool { connection.send(bytes) }

    /// The next response line parsed as a JSON object; nil when the node closed the connection.
    func readLine(timeout: Double = 5) throws -> [String: Any]? {
        let timeoutMilliseconds = Int(timeout * 1000)
        guard let text = connection.readLine(timeoutMilliseconds: timeoutMilliseconds) else {
            // Tell a node that closed the connection (nil) from one that said nothing in time (thrown).
            if SocketConnection.waitFor(connection.fd, events: Int16(POLLIN), 0),
                !connection.fill(timeoutMilliseconds: 0)
            {
                return nil
            }
            throw HarnessError("admin \(path): no response line within \(timeout) s")
        }
        let line = Array(text.utf8)
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] else {
            throw HarnessError("admin \(path): response is not a JSON object: \(String(decoding: line, as: UTF8.self))")
        }
        return object
    }

    /// Sends one request (an `id` is added) and returns its single response line.
    func call(_ op: String, _ arguments: [String: Any] = [:], timeout: Double = 5) throws -> [String: Any] {
        let id = send(op, arguments)
        guard let response = try readLine(timeout: timeout) else {
            throw HarnessError("admin \(path): connection closed before answering \(op)")
        }
        guard (response["id"] as? Int) == id else {
            throw HarnessError("admin \(path): answer to \(op) has the wrong id: \(response)")
        }
        return response
    }

    /// Like ``call(_:_:timeout:)`` but requires `ok: true` and returns `result`.
    func result(_ op: String, _ arguments: [String: Any] = [:]) throws -> [String: Any] {
        let response = try call(op, arguments)
        guard response["ok"] as? Bool == true else { throw HarnessError("admin \(op) failed: \(response)") }
        return response["result"] as? [String: Any] ?? [:]
    }

    /// Items of a non-following stream (`entries`, `logs`, `events`) up to its `end` line.
    func stream(_ op: String, _ arguments: [String: Any] = [:], timeout: Double = 5) throws -> [[String: Any]] {
        let id = send(op, arguments)
        var items: [[String: Any]] = []
        while true {
            guard let line = try readLine(timeout: timeout) else {
                throw HarnessError("admin \(path): connection closed in the middle of \(op)")
            }
            guard (line["id"] as? Int) == id, line["ok"] as? Bool == true else {
                throw HarnessError("admin \(op) failed: \(line)")
            }
            if line["end"] as? Bool == true { return items }
            items.append(line)
        }
    }

    /// The node's log entries as `(index, term, command)`, commands rendered as `put key=value`.
    func entries(from: Int = 1) throws -> [(index: Int, term: Int, command: String?)] {
        try stream("entries", ["from": from, "limit": 100_000]).compactMap { item in
            guard let entry = item["entry"] as? [String: Any], let index = entry["index"] as? Int,
                let term = entry["term"] as? Int
            else { return nil }
            return (index, term, entry["command"] as? String)
        }
    }

    @discardableResult
    private func send(_ op: String, _ arguments: [String: Any]) -> Int {
        let id = nextID
        nextID += 1
        var object = arguments
        object["v"] = 1
        object["id"] = id
        object["op"] = op
        var data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        data.append(UInt8(ascii: "\n"))
        sendRaw(Array(data))
        return id
    }
}
