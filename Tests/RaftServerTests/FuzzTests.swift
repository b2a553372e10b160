import Foundation
import Glibc
import RaftClient
import RaftCore
import RaftWire
import Testing

extension RaftdIntegrationTests {
    /// A seeded random test of what a live raftd is sent: mutated HTTP requests on the client port, and, after a
    /// genuine handshake, mutated Raft messages on the peer port (extreme indexes and terms among them). The node
    /// must survive every one and still serve. Bounded by count; `FUZZ_SEED=N` replays a run.
    @Suite("Fuzzing a live node")
    struct Fuzz {
        static let seed: UInt64 = {
            if let text = getenv("FUZZ_SEED").map({ String(cString: $0) }), let seed = UInt64(text) { return seed }
            return 0xF0_22ED
        }()

        static func bytes(_ count: Int, _ random: inout SplitMix64) -> [UInt8] {
            (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        }

        /// A request built from valid pieces, then cut, flipped or padded at random.
        static func request(_ random: inout SplitMix64) -> [UInt8] {
            let methods = ["GET", "PUT", "DELETE", "POST", "PATCH", "HEAD", "OPTIONS", "G\u{0}T", ""]
            let paths = [
                "/v1/kv/k", "/v1/kv/%ZZ", "/v1/kv/", "/v1/kv/k?prevValue=%", "/v1/kv/k?prevExist=maybe",
                "/v1/kv/" + String(repeating: "a", count: 2_000), "/v1/status", "/metrics", "/", "*",
                "/v1/kv/k?consistency=x",
                "/v1/kv/%00%ff?consistency=stale",
            ]
            let headers = [
                "Content-Length: 3", "Content-Length: -1", "Content-Length: 99999999999", "Idempotency-Key: ",
                "Idempotency-Key: " + String(repeating: "i", count: 300), "Transfer-Encoding: chunked",
                "Expect: 100-continue", "Connection: close", "Host: x",
            ]
            var text = methods[Int(random.next() % UInt64(methods.count))] + " "
            text += paths[Int(random.next() % UInt64(paths.count))] + " HTTP/1.1\r\n"
            for _ in 0..<(random.next() % 4) { text += headers[Int(random.next() % UInt64(headers.count))] + "\r\n" }
            text += "\r\nabc"
            var raw = Array(text.utf8)
            switch random.next() % 4 {
            case 0: raw = Array(raw.prefix(Int(random.next() % UInt64(raw.count + 1))))
            case 1:
                for _ in 0..<(1 + random.next() % 3) {
                    raw[Int(random.next() % UInt64(raw.count))] = UInt8(truncatingIfNeeded: random.next())
                }
            case 2: raw += bytes(Int(random.next() % 64), &random)
            default: break
            }
            return raw
        }

        static func value(_ random: inout SplitMix64) -> UInt64 {
            switch random.next() % 4 {
            case 0: UInt64.max - random.next() % 4
            case 1: (random.next() % 2 == 0 ? UInt64(Int64.max) : 1 << 62) + random.next() % 3 - 1
            case 2: random.next() % 8
            default: random.next()
            }
        }

        /// A Raft message from n2 to n1 with random kinds and field values.
        static func message(_ random: inout SplitMix64) -> Message {
            let index = LogIndex(value(&random))
            let term = Term(value(&random))
            let bodies: [Message.Body] = [
                .appendEntries(
                    AppendEntries(
                        prevLogIndex: index, prevLogTerm: term,
                        entries: [Entry(index: LogIndex(value(&random)), term: term, data: [1])],
                        leaderCommit: LogIndex(value(&random)))),
                .appendEntriesResponse(
                    AppendEntriesResponse(
                        index: index, success: random.next() % 2 == 0, conflictIndex: index, conflictTerm: term)),
                // A heartbeat's commit beyond the node's log is how a leader tells a member it lost what it
                // acknowledged: the node halts on it by design (exit 65; LostDataTests and the raftd lost-data
                // test), so the fuzzed heartbeats carry none.
                .heartbeat(Heartbeat(commit: .zero, round: random.next())),
                .heartbeatResponse(HeartbeatResponse(round: random.next())),
                .requestVote(
                    RequestVote(lastLogIndex: index, lastLogTerm: term, preVote: random.next() % 2 == 0, force: false)),
                .requestVoteResponse(RequestVoteResponse(granted: true, preVote: random.next() % 2 == 0)),
                .installSnapshot(
                    Snapshot(
                        metadata: SnapshotMetadata(index: index, term: term, voters: [1, 2, 3]), data: bytes(8, &random)
                    )),
                .readIndexResponse(ReadIndexResponse(context: ReadContext(random.next()), index: index)),
                .propose([bytes(Int(random.next() % 16), &random)]), .readIndex(ReadContext(random.next())),
                .timeoutNow, .transferLeader(NodeID(random.next() % 5)),
            ]
            return Message(
                from: 2, to: 1, term: Term(value(&random)), body: bodies[Int(random.next() % UInt64(bodies.count))])
        }

        @Test(
            "400 mutated HTTP requests and 400 random Raft messages with extreme values: the node survives and serves")
        func liveNodeSurvivesFuzzing() async throws {
            // Only n1 of three runs: every peer connection to it is ours.
            let cluster = try LocalCluster()
            defer { cluster.shutdown() }
            try await cluster.start("n1")
            let node = cluster.node("n1")
            var random = SplitMix64(seed: Self.seed)

            for round in 0..<400 {
                let connection = try SocketConnection.loopback(port: node.clientPort)
                connection.send(Self.request(&random))
                connection.shutdownWrite()
                _ = connection.receive(timeout: 2)
                #expect(kill(node.pid!, 0) == 0, "seed \(Self.seed): n1 died at HTTP request \(round)")
            }

            let afterHTTP = try await cluster.eventually("n1 to answer its status after the HTTP fuzzing") {
                try? cluster.status("n1")
            }
            let clusterText = try #require(afterHTTP.clusterID)
            let clusterID = try #require(UInt64(clusterText, radix: 16))
            let codec = PeerFrameCodec()
            let handshake = codec.encode(
                .handshake(Handshake(clusterID: ClusterID(clusterID), from: NodeID(2), to: NodeID(1))))
            for batch in 0..<40 {
                let connection = try SocketConnection.loopback(port: node.peerPort)
                var frames = handshake
                for _ in 0..<10 { frames += codec.encode(.message(Self.message(&random))) }
                connection.send(frames)
                _ = connection.receive(timeout: 0.05)
                #expect(kill(node.pid!, 0) == 0, "seed \(Self.seed): n1 died at peer batch \(batch)")
            }
            let status = try await cluster.eventually("n1 to answer its status after the fuzzing") {
                try? cluster.status("n1")
            }
            #expect(status.pid == Int(node.pid!))
            #expect(status.term <= Message.largestAcceptedValue + 1_000, "a peer cannot push the term past 2^62")

            #expect(!cluster.logTail("n1", lines: 400).contains("Fatal error"))
        }
    }
}
