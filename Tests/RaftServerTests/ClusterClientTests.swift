import Foundation
import Glibc
import RaftClient
import Synchronization
import Testing

/// RaftClient's cluster client against scripted stand-in nodes (listening sockets that answer what the test says),
/// so that what a retry sends can be seen byte for byte.
@Suite("RaftClient: leader-following and idempotent retries")
struct ClusterClientTests {
    /// A stand-in node: accepts connections one at a time on a loopback port, records each request's head and
    /// answers with the next scripted response (the last one repeats); `nil` closes without answering.
    final class StandIn: Sendable {
        let port: Int
        let listener: Int32
        let heads = Mutex<[String]>([])
        let script: [String?]

        init(_ script: [String?]) throws {
            (listener, port) = try Sockets.listen(port: 0)
            self.script = script
            let thread = Thread { [self] in serve() }
            thread.start()
        }

        static func answer(_ status: Int, _ body: String) -> String {
            "HTTP/1.1 \(status) X\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        }

        private func serve() {
            while true {
                let fd = accept(listener, nil, nil)
                guard fd >= 0 else { return }
                var bytes: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 65536)
                while !bytes.contains(subsequence: [13, 10, 13, 10]) {
                    let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                    guard count > 0 else { break }
                    bytes += chunk[0..<count]
                }
                let served = heads.withLock { heads in
                    heads.append(String(decoding: bytes, as: UTF8.self))
                    return heads.count
                }
                if let response = script[min(served, script.count) - 1] {
                    _ = Array(response.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                }
                close(fd)
            }
        }

        var idempotencyKeys: [String] {
            heads.withLock { heads in
                heads.compactMap { head in
                    head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("idempotency-key:") }
                        .map { String($0.dropFirst("idempotency-key:".count).drop { $0 == " " }) }
                }
            }
        }

        deinit { shutdown(listener, Int32(SHUT_RDWR)) }
    }

    @Test("a 503 and a silent node are retried on the next node with the same Idempotency-Key; the answer comes back")
    func retriesKeepTheKey() throws {
        let unavailable = StandIn.answer(503, #"{"error":{"code":"unavailable","message":"no leader"}}"#)
        let leader = try StandIn([unavailable, StandIn.answer(200, #"{"index":7}"#)])
        let silent = try StandIn([nil])
        let client = ClusterClient(attemptMilliseconds: 2_000) {
            [.init(name: "n1", port: leader.port), .init(name: "n2", port: silent.port)]
        }
        let response = try client.send(method: "PUT", path: "/v1/kv/a", body: Array("1".utf8))
        #expect(response.status == 200 && response.text == #"{"index":7}"#)
        let keys = leader.idempotencyKeys + silent.idempotencyKeys
        // n1 (503), n2 (no answer), then a shuffled round that reaches n1 (200), perhaps after n2 again.
        #expect(leader.idempotencyKeys.count == 2 && (1...2).contains(silent.idempotencyKeys.count), "\(keys)")
        #expect(Set(keys).count == 1 && !keys[0].isEmpty, "every attempt carries one key: \(keys)")
    }

    @Test("a write's own key is kept; a read carries none; out of time, the error names the last problem")
    func ownKeyAndGivingUp() throws {
        let unavailable = StandIn.answer(503, #"{"error":{"code":"unavailable","message":"no leader yet"}}"#)
        let node = try StandIn([unavailable])
        let client = ClusterClient(attemptMilliseconds: 500) { [.init(name: "n1", port: node.port)] }
        #expect(throws: ClientError.self) {
            try client.send(method: "DELETE", path: "/v1/kv/a", idempotencyKey: "mine", timeoutMilliseconds: 400)
        }
        do {
            _ = try client.send(method: "GET", path: "/v1/kv/a", timeoutMilliseconds: 300)
            Issue.record("a read answered 503 until the deadline must fail")
        } catch {
            #expect(error.message.contains("n1: no leader yet"), "\(error.message)")
        }
        let keys = node.idempotencyKeys
        #expect(
            !keys.isEmpty && keys.allSatisfy { $0 == "mine" }, "only the DELETEs carry a key, the caller's: \(keys)")
    }

    @Test("responses are parsed by Content-Length: two pipelined answers are told apart, a partial one waits")
    func parsing() throws {
        let two = Array((StandIn.answer(200, "ab") + StandIn.answer(404, "c")).utf8)
        let (first, used) = try #require(HTTPClient.parse(two))
        #expect(first.status == 200 && first.text == "ab" && first.headers["content-type"] == "application/json")
        let (second, _) = try #require(HTTPClient.parse(Array(two[used...])))
        #expect(second.status == 404 && second.text == "c")
        #expect(HTTPClient.parse(Array(two[..<(used - 1)])) == nil)
        let unsized = Array("HTTP/1.1 200 OK\r\n\r\nrest".utf8)
        #expect(HTTPClient.parse(unsized) == nil)
        #expect(HTTPClient.parse(unsized, atEnd: true)?.0.text == "rest")
    }
}

extension Array where Element == UInt8 {
    fileprivate func contains(subsequence: [UInt8]) -> Bool {
        count >= subsequence.count
            && (0...(count - subsequence.count)).contains {
                self[$0..<$0 + subsequence.count].elementsEqual(subsequence)
            }
    }
}
