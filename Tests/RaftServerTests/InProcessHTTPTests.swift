import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import RaftAPI
import RaftCore
import RaftStorage
import Testing

@testable import RaftServer

/// One raftd node in this process, on an `EmbeddedEventLoop` and an in-memory file system: its HTTP handler
/// driven byte by byte through an `EmbeddedChannel`, with no socket, process or timer involved. Single-threaded and
/// deterministic: every task runs when `run()` is called.
final class EmbeddedNode {
    let loop = EmbeddedEventLoop()
    let shell: NodeShell
    let logDirectory: String

    /// One node, n1, of a cluster of `size` (the others exist only as names: nothing is sent anywhere).
    init(size: Int = 1, configure: (inout NodeConfiguration) -> Void = { _ in }) throws {
        var template = Array("/tmp/raftd-embedded-XXXXXX".utf8CString)
        logDirectory = String(cString: mkdtemp(&template)!)
        let id = NodeID(1)
        var peers: [NodeID: HostPort] = [:]
        for n in 1...UInt64(size) { peers[NodeID(n)] = HostPort(host: "127.0.0.1", port: Int(n)) }
        var config = NodeConfiguration(
            nodeID: id, clusterID: ClusterID(7), dataDirectory: "/data", peers: peers,
            clientListen: HostPort(host: "127.0.0.1", port: 2))
        config.maxValueBytes = 1_024
        configure(&config)
        let sink = LogSink(nodeID: id, filePath: logDirectory + "/raftd.log", echoToStderr: false)
        let logger = Logger(label: "raftd") { _ in SinkLogHandler(sink: sink, level: .info) }
        let monitor = SyncMonitor(thresholdMilliseconds: 1_000) { _, _, _ in }
        let storage = try NodeStorage(
            options: config.storageOptions, fileSystem: InstrumentedFileSystem(InMemoryFileSystem(), monitor: monitor))
        shell = try NodeShell(
            loop: loop, config: config, storage: storage, sink: sink, logger: logger, syncMonitor: monitor,
            metrics: NodeMetrics(peers: []))
    }

    deinit {
        try? FileManager.default.removeItem(atPath: logDirectory)
    }

    /// Makes the node the leader of its one-node cluster at once (no election timeout to wait for).
    func lead() throws {
        let elected = shell.withRaft { $0.campaign() }
        loop.run()
        try elected.wait()
        loop.run()
    }

    /// A fresh connection: the HTTP server pipeline with the node's handler.
    func connection() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: false)
        try channel.pipeline.syncOperations.addHandler(HTTPAPIHandler(shell: shell))
        // An EmbeddedChannel is inactive until "connected", and the handler writes only to active channels.
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        return channel
    }
}

/// What came back on a connection: parsed responses, in order.
struct EmbeddedResponse {
    var status: Int
    var headers: [String: String]
    var body: String
}

extension EmbeddedChannel {
    /// Sends raw request bytes, runs the loop until nothing is left to do, and returns every response written.
    func exchange(_ request: String, on loop: EmbeddedEventLoop) throws -> [EmbeddedResponse] {
        try writeInbound(ByteBuffer(string: request))
        for _ in 0..<5 { loop.run() }
        var raw = ""
        while let part = try readOutbound(as: IOData.self) {
            if case .byteBuffer(let buffer) = part { raw += String(buffer: buffer) }
        }
        return Self.parse(raw)
    }

    static func parse(_ raw: String) -> [EmbeddedResponse] {
        var responses: [EmbeddedResponse] = []
        var rest = Substring(raw)
        while let headEnd = rest.range(of: "\r\n\r\n") {
            let lines = rest[..<headEnd.lowerBound].split(separator: "\r\n")
            let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = String(line[line.index(after: colon)...]).trimmingCharacters(
                    in: .whitespaces)
            }
            let length = Int(headers["content-length"] ?? "0") ?? 0
            let bodyStart = headEnd.upperBound
            let bodyEnd = rest.index(bodyStart, offsetBy: length, limitedBy: rest.endIndex) ?? rest.endIndex
            responses.append(
                EmbeddedResponse(status: status, headers: headers, body: String(rest[bodyStart..<bodyEnd])))
            rest = rest[bodyEnd...]
        }
        return responses
    }
}

@Suite("HTTP handler in process (EmbeddedChannel, in-memory storage)")
struct InProcessHTTPTests {
    /// A leading node and one connection to it.
    static func leading(configure: (inout NodeConfiguration) -> Void = { _ in }) throws -> (
        EmbeddedNode, EmbeddedChannel
    ) {
        let node = try EmbeddedNode(configure: configure)
        try node.lead()
        return (node, try node.connection())
    }

    static func error(_ response: EmbeddedResponse?) -> ErrorAnswer? {
        try? JSONDecoder().decode(ErrorAnswer.self, from: Data((response?.body ?? "").utf8))
    }

    static func put(_ path: String, _ value: String, headers: String = "") -> String {
        "PUT \(path) HTTP/1.1\r\nContent-Length: \(value.utf8.count)\r\n\(headers)\r\n\(value)"
    }

    @Test("a write and a read on one keep-alive connection; the write's answer says where it was committed")
    func writeThenRead() throws {
        let (node, channel) = try Self.leading()
        let put = try channel.exchange(Self.put("/v1/kv/a", "v"), on: node.loop)
        #expect(put.count == 1 && put.first?.status == 200, "\(put)")
        let answer = try JSONDecoder().decode(WriteAnswer.self, from: Data((put.first?.body ?? "").utf8))
        #expect(answer.created == true && !answer.replayed && answer.index == 2 && answer.term == 1)
        let get = try channel.exchange("GET /v1/kv/a HTTP/1.1\r\n\r\n", on: node.loop)
        #expect(get.first?.status == 200 && get.first?.body == "v", "\(get)")
        #expect(get.first?.headers["content-type"] == "application/octet-stream")
        let again = try channel.exchange(Self.put("/v1/kv/a", "w"), on: node.loop)
        let second = try JSONDecoder().decode(WriteAnswer.self, from: Data((again.first?.body ?? "").utf8))
        #expect(second.created == false && second.index == 3)
        let stale = try channel.exchange("GET /v1/kv/a?consistency=stale HTTP/1.1\r\n\r\n", on: node.loop)
        #expect(stale.first?.body == "w")
        let delete = try channel.exchange("DELETE /v1/kv/a HTTP/1.1\r\n\r\n", on: node.loop)
        #expect(delete.first?.status == 200, "\(delete)")
        let gone = try channel.exchange("GET /v1/kv/a HTTP/1.1\r\n\r\n", on: node.loop)
        #expect(gone.first?.status == 404 && Self.error(gone.first)?.error.code == "key_not_found")
        let deleteAgain = try channel.exchange("DELETE /v1/kv/a HTTP/1.1\r\n\r\n", on: node.loop)
        #expect(deleteAgain.first?.status == 404 && Self.error(deleteAgain.first)?.replayed == false)
    }

    @Test("conditions: prevValue and prevExist, 412 when they do not hold, 400 when they do not parse")
    func conditions() throws {
        let (node, channel) = try Self.leading()
        _ = try channel.exchange(Self.put("/v1/kv/c", "1"), on: node.loop)
        let swap = try channel.exchange(Self.put("/v1/kv/c?prevValue=1", "2"), on: node.loop)
        #expect(swap.first?.status == 200)
        let stale = try channel.exchange(Self.put("/v1/kv/c?prevValue=1", "3"), on: node.loop)
        #expect(stale.first?.status == 412 && Self.error(stale.first)?.error.code == "precondition_failed")
        let absent = try channel.exchange(Self.put("/v1/kv/c?prevExist=false", "4"), on: node.loop)
        #expect(absent.first?.status == 412)
        let created = try channel.exchange(Self.put("/v1/kv/new?prevExist=false", "5"), on: node.loop)
        #expect(created.first?.status == 200)
        let bad = try channel.exchange(Self.put("/v1/kv/c?prevExist=maybe", "6"), on: node.loop)
        #expect(bad.first?.status == 400 && Self.error(bad.first)?.error.code == "bad_query")
        let value = try channel.exchange("GET /v1/kv/c HTTP/1.1\r\n\r\n", on: node.loop)
        #expect(value.first?.body == "2")
    }

    @Test("Idempotency-Key: a retry is replayed (header and body), another request under the key is 422")
    func idempotency() throws {
        let (node, channel) = try Self.leading()
        let first = try channel.exchange(
            Self.put("/v1/kv/i", "1", headers: "Idempotency-Key: k1\r\n"), on: node.loop)
        #expect(first.first?.status == 200 && first.first?.headers["idempotent-replayed"] == nil)
        let retry = try channel.exchange(
            Self.put("/v1/kv/i", "1", headers: "Idempotency-Key: k1\r\n"), on: node.loop)
        let answer = try JSONDecoder().decode(WriteAnswer.self, from: Data((retry.first?.body ?? "").utf8))
        #expect(answer.replayed && retry.first?.headers["idempotent-replayed"] == "true", "\(retry)")
        let original = try JSONDecoder().decode(WriteAnswer.self, from: Data((first.first?.body ?? "").utf8))
        #expect(answer.index == original.index, "the original answer, not a new write")
        let reused = try channel.exchange(
            Self.put("/v1/kv/i", "2", headers: "Idempotency-Key: k1\r\n"), on: node.loop)
        #expect(reused.first?.status == 422 && Self.error(reused.first)?.error.code == "idempotency_key_reused")
        for key in ["", String(repeating: "k", count: 257)] {
            let bad = try channel.exchange(
                Self.put("/v1/kv/i", "3", headers: "Idempotency-Key: \(key)\r\n"), on: node.loop)
            #expect(bad.first?.status == 400 && Self.error(bad.first)?.error.code == "bad_idempotency_key")
        }
    }

    @Test("bad keys, queries, methods and paths get their documented status and code")
    func badRequests() throws {
        let (node, channel) = try Self.leading()
        let cases: [(String, Int, String)] = [
            ("GET /v1/kv/%ZZ HTTP/1.1\r\n\r\n", 400, "bad_key"),
            ("GET /v1/kv/ HTTP/1.1\r\n\r\n", 400, "bad_key"),
            ("GET /v1/kv/\(String(repeating: "k", count: 1_025)) HTTP/1.1\r\n\r\n", 400, "bad_key"),
            ("GET /v1/kv/k?consistency=sometimes HTTP/1.1\r\n\r\n", 400, "bad_query"),
            ("GET /v1/kv/k?prevValue=%G HTTP/1.1\r\n\r\n", 400, "bad_query"),
            ("PATCH /v1/kv/k HTTP/1.1\r\n\r\n", 405, "method_not_allowed"),
            ("POST /v1/status HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405, "method_not_allowed"),
            ("DELETE /metrics HTTP/1.1\r\n\r\n", 405, "method_not_allowed"),
            ("GET /v2/keys/k HTTP/1.1\r\n\r\n", 404, "not_found"),
        ]
        for (request, status, code) in cases {
            let response = try channel.exchange(request, on: node.loop)
            #expect(response.first?.status == status, "\(request): \(response)")
            #expect(Self.error(response.first)?.error.code == code, "\(request): \(response)")
            #expect(response.first?.headers["content-type"] == "application/json")
        }
        let notAllowed = try channel.exchange("PATCH /v1/kv/k HTTP/1.1\r\n\r\n", on: node.loop)
        #expect(notAllowed.first?.headers["allow"] == "GET, PUT, DELETE")
        // The connection survived every one of them.
        let put = try channel.exchange(Self.put("/v1/kv/ok", "1"), on: node.loop)
        #expect(put.first?.status == 200)
    }

    @Test("a body over --max-value-bytes is 413, headers too large are 431, a malformed request is 400; each closes")
    func oversizedAndMalformed() throws {
        let (node, _) = try Self.leading()
        let big = try node.connection()
        let tooLarge = try big.exchange("PUT /v1/kv/b HTTP/1.1\r\nContent-Length: 2048\r\n\r\n", on: node.loop)
        #expect(tooLarge.first?.status == 413 && Self.error(tooLarge.first)?.error.code == "value_too_large")
        #expect(!big.isActive, "the connection is closed after a 413")

        let chunked = try node.connection()
        let chunks = try chunked.exchange(
            "PUT /v1/kv/b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n"
                + String(repeating: "x", count: 2048) + "\r\n0\r\n\r\n", on: node.loop)
        #expect(chunks.first?.status == 413, "a chunked body over the limit: \(chunks)")

        let headers = try node.connection()
        let huge = try headers.exchange(
            "GET /v1/kv/k HTTP/1.1\r\nX-Big: \(String(repeating: "h", count: 100_000))\r\n\r\n", on: node.loop)
        #expect(huge.first?.status == 431 && Self.error(huge.first)?.error.code == "header_too_large", "\(huge)")

        let garbage = try node.connection()
        let bad = try garbage.exchange("\u{1}\u{2} nonsense\r\n\r\n", on: node.loop)
        #expect(bad.first?.status == 400 && Self.error(bad.first)?.error.code == "bad_request", "\(bad)")
        #expect(!garbage.isActive)
    }

    @Test("pipelined requests are answered in order; Connection: close and HTTP/1.0 close after the answer")
    func pipeliningAndKeepAlive() throws {
        let (node, channel) = try Self.leading()
        let answers = try channel.exchange(
            Self.put("/v1/kv/p", "1") + "GET /v1/kv/p HTTP/1.1\r\n\r\n" + Self.put("/v1/kv/p", "2")
                + "GET /v1/kv/p HTTP/1.1\r\n\r\n", on: node.loop)
        #expect(answers.map(\.status) == [200, 200, 200, 200], "\(answers)")
        #expect(answers[1].body == "1" && answers[3].body == "2", "reads see the writes before them")
        #expect(channel.isActive)

        let closing = try node.connection()
        let last = try closing.exchange("GET /v1/kv/p HTTP/1.1\r\nConnection: close\r\n\r\n", on: node.loop)
        #expect(last.first?.headers["connection"] == "close" && !closing.isActive)

        let old = try node.connection()
        let ten = try old.exchange("GET /v1/kv/p HTTP/1.0\r\n\r\n", on: node.loop)
        #expect(ten.first?.status == 200 && !old.isActive, "HTTP/1.0 without keep-alive closes")
    }

    @Test("Expect: 100-continue gets 100 Continue before the body, then the answer")
    func expectContinue() throws {
        let (node, channel) = try Self.leading()
        let interim = try channel.exchange(
            "PUT /v1/kv/e HTTP/1.1\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\n", on: node.loop)
        #expect(interim.first?.status == 100, "\(interim)")
        let final = try channel.exchange("x", on: node.loop)
        #expect(final.first?.status == 200, "\(final)")
    }

    @Test("without a leader a write is 503 unavailable with Retry-After; status and metrics still answer")
    func noLeader() throws {
        let node = try EmbeddedNode()
        let channel = try node.connection()
        let put = try channel.exchange(Self.put("/v1/kv/x", "1"), on: node.loop)
        #expect(put.first?.status == 503 && Self.error(put.first)?.error.code == "unavailable", "\(put)")
        #expect(put.first?.headers["retry-after"] == "1")
        let status = try channel.exchange("GET /v1/status HTTP/1.1\r\n\r\n", on: node.loop)
        let document = try JSONDecoder().decode(NodeStatus.self, from: Data((status.first?.body ?? "").utf8))
        #expect(document.role == "follower" && document.leader == nil)
        let metrics = try channel.exchange("GET /metrics HTTP/1.1\r\n\r\n", on: node.loop)
        #expect(metrics.first?.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        #expect(metrics.first?.body.contains("raft_has_leader 0.0") == true, "\(metrics.first?.body ?? "")")
        #expect(metrics.first?.body.contains("raft_http_requests_total{method=\"PUT\",code=\"503\"} 1") == true)
    }
}
