import Foundation
import Glibc
import RaftClient
import Testing

extension RaftdIntegrationTests {
    @Suite("Client API semantics")
    struct ClientSemantics {
        @Test("Keys are percent-decoded, values are opaque bytes up to --max-value-bytes, empty values are kept")
        func keysAndValuesRoundTrip() async throws {
            let cluster = try LocalCluster(
                size: 1, extraArguments: ["--max-key-bytes", "64", "--max-value-bytes", "4096"])
            defer { cluster.shutdown() }
            try await cluster.start("n1")
            _ = try await cluster.waitForLeader()
            let port = cluster.port("n1")

            let binary = (0...255).map { UInt8($0) } + (0...255).map { UInt8(255 - $0) }
            try Expect.written(
                try HTTPClient.request(port: port, "PUT", "/v1/kv/bin", body: binary), "PUT 512 arbitrary bytes")
            #expect(try HTTPClient.get(port: port, "bin").body == binary)

            try Expect.written(try HTTPClient.put(port: port, "a%2Fb%20c%C3%A9", "slash"), "PUT an encoded key")
            #expect(try HTTPClient.get(port: port, "a%2fb%20c%c3%a9").text == "slash", "escapes are case-insensitive")
            #expect(try HTTPClient.get(port: port, "a").status == 404, "a/b is one key, not a path")
            let entries = try cluster.admin("n1").entries()
            #expect(entries.contains { $0.command == "put a/b cé=slash" }, "\(entries)")

            try Expect.written(try HTTPClient.put(port: port, "empty", ""), "PUT an empty value")
            let empty = try HTTPClient.get(port: port, "empty")
            #expect(empty.status == 200 && empty.body.isEmpty, "an empty value exists: \(empty)")

            let limit = [UInt8](repeating: 7, count: 4096)
            try Expect.written(
                try HTTPClient.request(port: port, "PUT", "/v1/kv/full", body: limit), "a value of exactly the limit")
            #expect(try HTTPClient.get(port: port, "full").body == limit)
            Expect.error(
                try HTTPClient.request(port: port, "PUT", "/v1/kv/over", body: limit + [7]), 413,
                code: "value_too_large", "one byte over --max-value-bytes")
            Expect.error(
                try HTTPClient.put(port: port, String(repeating: "k", count: 65), "v"), 400, code: "bad_key",
                "a key over --max-key-bytes")
            Expect.error(try HTTPClient.request(port: port, "GET", "/v1/kv/"), 400, code: "bad_key", "an empty key")

            try Expect.written(try HTTPClient.put(port: port, "sp", "a b&c"), "PUT a value with spaces")
            try Expect.written(
                try HTTPClient.put(port: port, "sp", "next", query: "?prevValue=a%20b%26c"),
                "prevValue is percent-decoded")
            Expect.error(
                try HTTPClient.put(port: port, "sp", "x", query: "?prevExist=maybe"), 400, code: "bad_query",
                "prevExist")
            Expect.error(
                try HTTPClient.request(port: port, "GET", "/v1/kv/sp?consistency=eventual"), 400, code: "bad_query",
                "unknown consistency")
        }

        @Test("Keep-alive and pipelined requests on one connection are answered in order")
        func pipelinedRequestsAreAnsweredInOrder() async throws {
            let cluster = try LocalCluster()
            defer { cluster.shutdown() }
            try await cluster.startAll()
            let leader = try await cluster.waitForLeader()
            let follower = cluster.ids.first { $0 != leader }!
            let connection = try SocketConnection.loopback(port: cluster.port(follower))
            // A write (forwarded to the leader, answered once applied) then a read of it, sent back to back.
            let requests =
                "PUT /v1/kv/pipe HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nfirst"
                + "GET /v1/kv/pipe HTTP/1.1\r\nHost: x\r\n\r\n"
                + "PUT /v1/kv/pipe HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nsecond"
                + "GET /v1/kv/pipe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            connection.send(Array(requests.utf8))
            let received = connection.receive(timeout: 5)
            var rest = received.bytes
            var responses: [HTTPResponse] = []
            while let response = HTTPClient.parseResponse(rest) {
                responses.append(response)
                let headEnd = (0...(rest.count - 4)).first { rest[$0..<$0 + 4].elementsEqual([13, 10, 13, 10]) }!
                rest.removeFirst(headEnd + 4 + response.body.count)
            }
            #expect(received.closed, "the server closes after Connection: close")
            try #require(responses.count == 4, "\(responses)")
            #expect(responses[0].status == 200 && responses[0].json?["created"] as? Bool == true, "\(responses[0])")
            #expect(responses[1].status == 200 && responses[1].text == "first", "\(responses[1])")
            #expect(responses[2].status == 200 && responses[2].json?["created"] as? Bool == false, "\(responses[2])")
            #expect(responses[3].status == 200 && responses[3].text == "second", "\(responses[3])")
        }

        @Test("Expect: 100-continue is answered before the body is sent (100 Continue, or 413 for an oversized one)")
        func expectContinueIsAnsweredBeforeTheBody() async throws {
            let cluster = try LocalCluster(size: 1)
            defer { cluster.shutdown() }
            try await cluster.start("n1")
            _ = try await cluster.waitForLeader()
            let port = cluster.port("n1")
            let endOfHead: ([UInt8]) -> Bool = { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }

            let connection = try SocketConnection.loopback(port: port)
            let head = "PUT /v1/kv/e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
            connection.send(Array(head.utf8))
            // Clients such as curl wait (1 s) for this before sending the body; without it every such PUT stalls.
            let interim = connection.receive(timeout: 3, until: endOfHead)
            #expect(
                String(decoding: interim.bytes, as: UTF8.self).hasPrefix("HTTP/1.1 100 Continue\r\n"),
                "no interim response to Expect: 100-continue: \(String(decoding: interim.bytes, as: UTF8.self))")
            connection.send(Array("hello".utf8))
            var rest = connection.receive(timeout: 5) { HTTPClient.parseResponse(Self.afterInterim($0)) != nil }.bytes
            rest = Self.afterInterim(interim.bytes + rest)
            let final = try #require(HTTPClient.parseResponse(rest), "\(String(decoding: rest, as: UTF8.self))")
            try Expect.written(final, "PUT with Expect: 100-continue")
            #expect(try HTTPClient.get(port: port, "e").text == "hello")

            let tooLarge = try SocketConnection.loopback(port: port)
            let bigHead = "PUT /v1/kv/f HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\nExpect: 100-continue\r\n\r\n"
            tooLarge.send(Array(bigHead.utf8))
            let refused = tooLarge.receive(timeout: 3) { HTTPClient.parseResponse($0) != nil }
            let answer = try #require(
                HTTPClient.parseResponse(refused.bytes), "no answer to an oversized Expect request")
            Expect.error(answer, 413, code: "value_too_large", "oversized body announced with Expect")
        }

        @Test("Chunked bodies are reassembled, and refused with 413 once they exceed the limit; HTTP/1.0 works")
        func chunkedBodiesAndHTTP10() async throws {
            let cluster = try LocalCluster(size: 1, extraArguments: ["--max-value-bytes", "100"])
            defer { cluster.shutdown() }
            try await cluster.start("n1")
            _ = try await cluster.waitForLeader()
            let port = cluster.port("n1")
            let chunked =
                "PUT /v1/kv/c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
            try Expect.written(try HTTPClient.exchange(port: port, Array(chunked.utf8)), "chunked PUT")
            #expect(try HTTPClient.get(port: port, "c").text == "hello world")

            let chunk = String(repeating: "z", count: 60)
            let oversized =
                "PUT /v1/kv/d HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3c\r\n\(chunk)\r\n3c\r\n\(chunk)\r\n0\r\n\r\n"
            Expect.error(
                try HTTPClient.exchange(port: port, Array(oversized.utf8)), 413, code: "value_too_large",
                "120 chunked bytes over a limit of 100")
            #expect(try HTTPClient.get(port: port, "d").status == 404)

            let old = try HTTPClient.exchange(port: port, Array("GET /v1/kv/c HTTP/1.0\r\n\r\n".utf8))
            #expect(old.status == 200 && old.text == "hello world", "\(old)")
        }

        @Test("Concurrent compare-and-swaps from three nodes: exactly one wins each round")
        func concurrentCompareAndSwapHasOneWinner() async throws {
            let cluster = try LocalCluster()
            defer { cluster.shutdown() }
            try await cluster.startAll()
            _ = try await cluster.waitForLeader()
            let ports = cluster.ids.map { cluster.port($0) }
            try Expect.written(try HTTPClient.put(port: ports[0], "token", "0"), "PUT token=0")
            for round in 1...8 {
                let query = "?prevValue=\(round - 1)"
                async let a = onThread { try HTTPClient.put(port: ports[0], "token", "\(round)", query: query) }
                async let b = onThread { try HTTPClient.put(port: ports[1], "token", "\(round)", query: query) }
                async let c = onThread { try HTTPClient.put(port: ports[2], "token", "\(round)", query: query) }
                let statuses = try await [a, b, c].map(\.status)
                #expect(statuses.sorted() == [200, 412, 412], "round \(round): \(statuses)")
            }
            #expect(try HTTPClient.get(port: ports[2], "token").text == "8")
        }

        /// The bytes after a leading `100 Continue` interim response, if there is one.
        static func afterInterim(_ bytes: [UInt8]) -> [UInt8] {
            let text = String(decoding: bytes, as: UTF8.self)
            guard text.hasPrefix("HTTP/1.1 100"), let end = text.range(of: "\r\n\r\n") else { return bytes }
            return Array(bytes[text.utf8.distance(from: text.startIndex, to: end.upperBound)...])
        }

        @Test("Without a quorum, writes and linearizable reads answer 503 with Retry-After (or 504), never 200")
        func noQuorumAnswersUnavailable() async throws {
            let cluster = try LocalCluster(extraArguments: ["--request-timeout", "1s"])
            defer { cluster.shutdown() }
            try await cluster.startAll()
            let leader = try await cluster.waitForLeader()
            try Expect.written(try HTTPClient.put(port: cluster.port(leader), "k", "old"), "PUT before")
            let survivor = leader
            for id in cluster.ids where id != survivor { cluster.kill(id) }
            _ = try await cluster.eventually("\(survivor) to notice it lost its quorum") {
                let status = try cluster.status(survivor)
                return status.role != "leader" && status.leader == nil ? true : nil
            }

            let write = try HTTPClient.put(port: cluster.port(survivor), "k", "new", timeout: 5)
            Expect.error(write, 503, code: "unavailable", "write without a leader")
            #expect(write.headers["retry-after"] != nil, "503 carries Retry-After: \(write.headers)")
            let read = try HTTPClient.get(port: cluster.port(survivor), "k")
            #expect([503, 504].contains(read.status) && read.isJSONError, "linearizable read without quorum: \(read)")
            let stale = try HTTPClient.get(port: cluster.port(survivor), "k", stale: true)
            #expect(stale.status == 200 && stale.text == "old", "stale reads still serve local state: \(stale)")
            #expect(try cluster.status(survivor).lastLogIndex == (try cluster.status(survivor).commitIndex))

            for id in cluster.ids where id != survivor { try await cluster.start(id) }
            _ = try await cluster.waitForLeader()
            #expect(try HTTPClient.get(port: cluster.port(survivor), "k").text == "old", "the refused write stays out")
        }

        @Test("A follower cut off from the cluster does not serve linearizable reads of an old value")
        func isolatedFollowerRefusesLinearizableReads() async throws {
            let cluster = try LocalCluster(extraArguments: ["--request-timeout", "1s"])
            defer { cluster.shutdown() }
            try await cluster.startAll()
            let leader = try await cluster.waitForLeader()
            let isolated = cluster.ids.first { $0 != leader }!
            let others = cluster.ids.filter { $0 != isolated }
            try Expect.written(try HTTPClient.put(port: cluster.port(leader), "k", "old"), "PUT old")
            try await cluster.waitForApplied(isolated, atLeast: try cluster.status(leader).commitIndex)

            _ = try cluster.admin(isolated).result("set-blocked", ["in": others, "out": others])
            try Expect.written(try HTTPClient.put(port: cluster.port(leader), "k", "new"), "PUT new via the majority")
            let read = try HTTPClient.get(port: cluster.port(isolated), "k")
            #expect(read.status != 200, "a linearizable read must not return the old value: \(read)")
            #expect([503, 504].contains(read.status) && read.isJSONError, "\(read)")
            #expect(try HTTPClient.get(port: cluster.port(isolated), "k", stale: true).text == "old")

            _ = try cluster.admin(isolated).result("heal")
            _ = try await cluster.eventually("the healed follower to read the new value", timeout: 5) {
                let read = try HTTPClient.get(port: cluster.port(isolated), "k")
                return read.status == 200 ? read.text : nil
            }
            #expect(try HTTPClient.get(port: cluster.port(isolated), "k").text == "new")
        }
    }
}
