import Foundation
import RaftClient
import Testing

extension RaftdIntegrationTests {
    @Suite("Replication and the HTTP contract")
    struct Replication {
        @Test("3 nodes elect one leader; writes through any node are read back linearizably from every node")
        func writesThroughEveryNodeAreReadableEverywhere() async throws {
            let cluster = try LocalCluster()
            defer { cluster.shutdown() }
            try await cluster.startAll()
            let leader = try await cluster.waitForLeader()
            let statuses = try cluster.ids.map { try cluster.status($0) }
            #expect(statuses.filter { $0.role == "leader" }.map(\.id) == [leader], "\(statuses)")

            for writer in cluster.ids {
                let key = "from-\(writer)"
                try Expect.written(
                    try HTTPClient.put(port: cluster.port(writer), key, "value-\(writer)"), "PUT \(key) via \(writer)")
                // Linearizable: a read that starts after the write was acknowledged sees it, on every node.
                for reader in cluster.ids {
                    let read = try HTTPClient.get(port: cluster.port(reader), key)
                    #expect(read.status == 200 && read.text == "value-\(writer)", "GET \(key) via \(reader): \(read)")
                }
            }
            // Stale reads come from each node's own state: they converge without a round trip to the leader.
            for reader in cluster.ids {
                _ = try await cluster.eventually("stale reads on \(reader) to see every write", timeout: 5) {
                    try cluster.ids.allSatisfy { writer in
                        let read = try HTTPClient.get(port: cluster.port(reader), "from-\(writer)", stale: true)
                        return read.status == 200 && read.text == "value-\(writer)"
                    } ? true : nil
                }
            }
        }

        @Test("Status reports the leader's view of its peers: connected, and matched up to the last write")
        func statusReportsPeerReplication() async throws {
            let cluster = try LocalCluster()
            defer { cluster.shutdown() }
            try await cluster.startAll()
            let leader = try await cluster.waitForLeader()
            let index = try Expect.written(try HTTPClient.put(port: cluster.port(leader), "k", "v"), "PUT")
            let followers = cluster.ids.filter { $0 != leader }
            _ = try await cluster.eventually("the leader to see both followers match index \(index)") {
                let peers = try cluster.status(leader).peers
                return peers.map(\.id).sorted() == followers
                    && peers.allSatisfy { $0.connected && ($0.matchIndex ?? 0) >= index } ? true : nil
            }
            cluster.kill(followers[0])
            _ = try await cluster.eventually("the leader to report \(followers[0]) disconnected") {
                try cluster.status(leader).peers.first { $0.id == followers[0] }?.connected == false ? true : nil
            }
        }

        @Test("Conditional PUT and DELETE: 412 when the condition fails, 404 for a missing key, 200 otherwise")
        func conditionalWritesAndDeletes() async throws {
            let cluster = try LocalCluster()
            defer { cluster.shutdown() }
            try await cluster.startAll()
            let leader = try await cluster.waitForLeader()
            let follower = cluster.ids.first { $0 != leader }!
            let port = cluster.port(follower)

            let created = try HTTPClient.put(port: port, "cas", "one", query: "?prevExist=false")
            try Expect.written(created, "create with prevExist=false")
            #expect(created.json?["created"] as? Bool == true, "\(created)")
            Expect.error(
                try HTTPClient.put(port: port, "cas", "again", query: "?prevExist=false"), 412,
                code: "precondition_failed", "prevExist=false on an existing key")
            Expect.error(
                try HTTPClient.put(port: port, "cas", "two", query: "?prevValue=wrong"), 412,
                code: "precondition_failed", "prevValue mismatch")
            #expect(try HTTPClient.get(port: port, "cas").text == "one", "a failed condition must not write")

            let swapped = try HTTPClient.put(port: port, "cas", "two", query: "?prevValue=one")
            try Expect.written(swapped, "prevValue match")
            #expect(swapped.json?["created"] as? Bool == false, "\(swapped)")
            #expect(try HTTPClient.get(port: cluster.port(leader), "cas").text == "two")
            Expect.error(
                try HTTPClient.put(port: port, "absent", "x", query: "?prevExist=true"), 412,
                code: "precondition_failed", "prevExist=true on a missing key")

            Expect.error(
                try HTTPClient.delete(port: port, "cas", query: "?prevValue=one"), 412, code: "precondition_failed",
                "DELETE with a stale prevValue")
            try Expect.written(try HTTPClient.delete(port: port, "cas"), "DELETE existing key")
            for id in cluster.ids {
                Expect.error(
                    try HTTPClient.get(port: cluster.port(id), "cas"), 404, code: "key_not_found", "GET deleted")
            }
            Expect.error(try HTTPClient.delete(port: port, "cas"), 404, code: "key_not_found", "DELETE missing key")
        }

        @Test(
            "A follower down while 40 MiB was written (past the leader's 8 MiB entry cache and the 16 MiB queued for it, no snapshot) catches up from the leader's WAL"
        )
        func aFollowerCatchesUpFromTheLeadersWAL() async throws {
            // The default cache, set explicitly: the option reaches the core.
            let cluster = try LocalCluster(extraArguments: ["--entry-cache", "8MiB"])
            defer { cluster.shutdown() }
            try await cluster.startAll()
            let leader = try await cluster.waitForLeader()
            let follower = try #require(cluster.ids.first { $0 != leader })
            cluster.kill(follower)
            // 160 values of 256 KiB. The leader keeps the newest 8 MiB of entries in memory and its transport
            // queues 16 MiB for a peer that is down; the entries in between it must read back from its WAL.
            func value(_ n: Int) -> String {
                String(repeating: Character(UnicodeScalar(UInt8(97 + n % 26))), count: 256 << 10)
            }
            var last = 0
            for n in 0..<160 {
                last = try Expect.written(
                    try HTTPClient.put(port: cluster.port(leader), "big-\(n)", value(n)), "PUT \(n)")
            }
            #expect(try cluster.status(leader).snapshotIndex == 0, "the catch-up must come from the log")
            try await cluster.start(follower)
            try await cluster.waitForApplied(follower, atLeast: last, timeout: 60)
            for n in [0, 1, 70, 100, 159] {
                let read = try HTTPClient.get(port: cluster.port(follower), "big-\(n)", stale: true)
                #expect(read.status == 200 && read.text == value(n), "big-\(n) on \(follower)")
            }
        }

        @Test("A write retried with the same Idempotency-Key through another node is applied once")
        func idempotentRetryIsAppliedOnce() async throws {
            let cluster = try LocalCluster()
            defer { cluster.shutdown() }
            try await cluster.startAll()
            _ = try await cluster.waitForLeader()
            let key = [("Idempotency-Key", "order-42")]

            let first = try HTTPClient.put(port: cluster.port("n1"), "counter", "1", headers: key)
            let firstIndex = try Expect.written(first, "first PUT counter=1")
            try Expect.written(try HTTPClient.put(port: cluster.port("n2"), "counter", "2"), "PUT counter=2")
            // The client did not see the first answer and retries through another node.
            let retry = try HTTPClient.put(port: cluster.port("n3"), "counter", "1", headers: key)
            let retryIndex = try Expect.written(retry, "retried PUT counter=1")
            #expect(retryIndex == firstIndex, "the retry must get the original answer: \(first) vs \(retry)")
            #expect(first.json?["replayed"] as? Bool == false && retry.json?["replayed"] as? Bool == true)
            #expect(
                retry.text == first.text.replacingOccurrences(of: "\"replayed\":false", with: "\"replayed\":true"),
                "the whole answer is the original one, marked as replayed: \(first) vs \(retry)")
            for id in cluster.ids {
                let read = try HTTPClient.get(port: cluster.port(id), "counter")
                #expect(read.text == "2", "the retry must not overwrite the later write (via \(id)): \(read)")
            }
        }
    }
}
