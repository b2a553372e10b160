import Foundation
import Glibc
import RaftClient
import RaftCore
import RaftWire
import Testing

extension RaftdIntegrationTests {
    @Suite("Malformed input on every port")
    struct BadInput {
        /// Sends `bytes` on a fresh TCP connection and reports whether the node closed it within `timeout` seconds.
        static func closesConnection(port: Int, after bytes: [UInt8], timeout: Double = 3) throws -> Bool {
            let connection = try SocketConnection.loopback(port: port)
            connection.send(bytes)
            return connection.receive(timeout: timeout).closed
        }

        @Test("Peer port: garbage, a huge length prefix and another cluster's handshake are refused; node stays up")
        func peerPortRefusesBadFrames() async throws {
            // Only n1 runs: nothing else talks to its peer port, so every connection there is ours.
            let cluster = try LocalCluster()
            defer { cluster.shutdown() }
            try await cluster.start("n1")
            let peerPort = cluster.node("n1").peerPort
            let clusterText = try #require(try cluster.status("n1").clusterID)
            let clusterID = try #require(UInt64(clusterText, radix: 16))
            let codec = PeerFrameCodec()

            #expect(try Self.closesConnection(port: peerPort, after: [0, 0, 0, 5, 0xff, 1, 2, 3, 4]), "unknown type")
            #expect(try Self.closesConnection(port: peerPort, after: Array("GET / HTTP/1.1\r\n\r\n".utf8)), "HTTP")
            #expect(try Self.closesConnection(port: peerPort, after: [0xff, 0xff, 0xff, 0xff, 0, 1]), "huge length")
            let foreign = codec.encode(
                .handshake(Handshake(clusterID: ClusterID(clusterID ^ 1), from: NodeID(2), to: NodeID(1))))
            #expect(try Self.closesConnection(port: peerPort, after: foreign), "another cluster's handshake")
            _ = try await cluster.eventually("n1 to log the refused handshake", timeout: 3) {
                cluster.logTail("n1", lines: 50).contains("handshake refused") ? true : nil
            }
            #expect(cluster.logTail("n1", lines: 50).contains("cluster \(ClusterID(clusterID ^ 1))"))

            // Control: the same handshake with the right cluster id is accepted (the connection stays open).
            let genuine = codec.encode(
                .handshake(Handshake(clusterID: ClusterID(clusterID), from: NodeID(2), to: NodeID(1))))
            #expect(try !Self.closesConnection(port: peerPort, after: genuine, timeout: 0.5), "a valid handshake")

            // A correct handshake followed by a frame that does not decode is cut off too.
            #expect(
                try Self.closesConnection(port: peerPort, after: genuine + [0, 0, 0, 2, 3, 0]), "truncated message")
            // A message claiming to come from another node than the handshake named is refused.
            let forged = codec.encode(
                .message(Message(from: NodeID(3), to: NodeID(1), term: Term(99), body: .timeoutNow)))
            #expect(try Self.closesConnection(port: peerPort, after: genuine + forged), "sender differs from handshake")
            #expect(try cluster.status("n1").term < 99, "a refused message must not reach the core")

            let status = try cluster.status("n1")
            #expect(status.pid == Int(cluster.node("n1").pid!), "n1 still serves status: \(status)")
        }

        @Test("Idle connections that never send a byte do not stop the node from serving others")
        func idleConnectionsDoNotBlockService() async throws {
            let cluster = try LocalCluster(size: 1)
            defer { cluster.shutdown() }
            try await cluster.start("n1")
            _ = try await cluster.waitForLeader()
            let node = cluster.node("n1")
            var idle: [SocketConnection] = []
            for _ in 0..<40 {
                idle.append(try SocketConnection.loopback(port: node.clientPort))
                idle.append(try SocketConnection.loopback(port: node.peerPort))
                idle.append(try SocketConnection.unixSocket(node.adminSocket))
            }
            // Half-sent requests as well: a request line without the end of its headers.
            for connection in idle.prefix(30) { connection.send(Array("GET /v1/kv/x HTTP/1.1\r\nHost:".utf8)) }
            try Expect.written(try HTTPClient.put(port: node.clientPort, "k", "v"), "PUT next to 120 idle connections")
            #expect(try HTTPClient.get(port: node.clientPort, "k").text == "v")
            #expect(try cluster.admin("n1").result("status")["role"] as? String == "leader")
        }

        @Test("Admin socket: garbage, non-JSON, unknown op and a 100 KB line get JSON errors; the node keeps serving")
        func adminSocketAnswersBadRequestsWithErrors() async throws {
            let cluster = try LocalCluster(size: 1)
            defer { cluster.shutdown() }
            try await cluster.start("n1")
            let admin = try cluster.admin("n1")

            func expectError(_ line: String, code: String, id: Int? = nil) throws {
                admin.sendRaw(Array((line + "\n").utf8))
                let response = try #require(try admin.readLine(), "connection closed after \(line)")
                #expect(response["ok"] as? Bool == false, "\(line): \(response)")
                let error = response["error"] as? [String: Any]
                #expect(error?["code"] as? String == code, "\(line): \(response)")
                let message = error?["message"] as? String ?? ""
                #expect(!message.isEmpty, "\(line): \(response)")
                if let id { #expect(response["id"] as? Int == id, "\(line): \(response)") }
            }
            try expectError("hello", code: "bad_request")
            try expectError("\u{1}\u{2}\u{ff}garbage", code: "bad_request")
            try expectError("{not json", code: "bad_request")
            try expectError("[1,2,3]", code: "bad_request")
            try expectError(#"{"id":7}"#, code: "bad_request")
            try expectError(#"{"v":1,"id":8,"op":"frobnicate"}"#, code: "unknown_op", id: 8)
            try expectError(#"{"v":99,"id":9,"op":"status"}"#, code: "unsupported_version", id: 9)
            try expectError(#"{"v":1,"id":10,"op":"transfer-leader","to":"n9"}"#, code: "unknown_node", id: 10)
            // The same connection still works after all of that.
            #expect(try admin.result("status")["id"] as? String == "n1")

            let flooding = try cluster.admin("n1")
            flooding.sendRaw(Array(String(repeating: "x", count: 100 * 1024).utf8) + [10])
            let answer = try #require(try flooding.readLine(), "no answer to a 100 KB line")
            #expect((answer["error"] as? [String: Any])?["code"] as? String == "line_too_long", "\(answer)")
            #expect(try flooding.readLine() == nil, "the connection is closed after an over-long line")

            #expect(try admin.result("status")["id"] as? String == "n1", "other connections keep working")
            #expect(try cluster.admin("n1").result("status")["id"] as? String == "n1", "new connections work")
        }

        @Test(
            "HTTP: bad request line 400, bad percent-encoding 400, wrong method 405, 2 MiB body 413, 100 KB header 431")
        func httpRejectsMalformedRequestsWithDocumentedStatuses() async throws {
            let cluster = try LocalCluster(size: 1)
            defer { cluster.shutdown() }
            try await cluster.start("n1")
            _ = try await cluster.waitForLeader()
            let port = cluster.port("n1")

            Expect.error(try HTTPClient.exchange(port: port, Array("NONSENSE\r\n\r\n".utf8)), 400, "bad request line")
            Expect.error(
                try HTTPClient.exchange(port: port, Array("GET /v1/kv/a HTTP/9.9\r\nHost: x\r\n\r\n".utf8)), 400,
                "bad HTTP version")
            Expect.error(try HTTPClient.get(port: port, "%zz"), 400, code: "bad_key", "bad percent-encoding")
            Expect.error(try HTTPClient.get(port: port, "a%2"), 400, code: "bad_key", "truncated percent-encoding")
            Expect.error(try HTTPClient.request(port: port, "GET", "/v1/nowhere"), 404, "unknown endpoint")
            let absolute = try HTTPClient.exchange(
                port: port, Array("GET http://127.0.0.1:\(port)/v1/status HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            #expect(absolute.status == 200, "an absolute-form request target is served (RFC 9112 §3.2.2)")

            let post = try HTTPClient.request(port: port, "POST", "/v1/kv/x", body: Array("v".utf8))
            Expect.error(post, 405, code: "method_not_allowed", "POST on a key")
            #expect(post.headers["allow"]?.contains("PUT") == true, "405 names the allowed methods: \(post.headers)")
            Expect.error(try HTTPClient.request(port: port, "PUT", "/v1/status"), 405, "PUT on /v1/status")

            let big = [UInt8](repeating: UInt8(ascii: "v"), count: 2 << 20)
            Expect.error(try HTTPClient.request(port: port, "PUT", "/v1/kv/big", body: big), 413, "2 MiB value")
            let header = [("X-Padding", String(repeating: "h", count: 100 * 1024))]
            Expect.error(try HTTPClient.request(port: port, "GET", "/v1/status", headers: header), 431, "100 KB header")

            // Still serving, and none of the rejected writes happened.
            #expect(try cluster.status("n1").role == "leader")
            Expect.error(try HTTPClient.get(port: port, "big"), 404, "the 413 value was not stored")
            try Expect.written(try HTTPClient.put(port: port, "fine", "ok"), "a good PUT afterwards")
            #expect(try HTTPClient.get(port: port, "fine").text == "ok")
        }
    }
}
