import Foundation
import RaftClient
import Testing

extension RaftdIntegrationTests {
    @Suite("Network partitions through the admin socket")
    struct Partitions {
        @Test("An isolated leader cannot commit; the majority elects and commits; after heal its entry is gone")
        func isolatedLeaderLosesItsUncommittedEntry() async throws {
            // A longer election timeout keeps the isolated leader in office (CheckQuorum) until our write reaches it.
            let cluster = try LocalCluster(extraArguments: [
                "--request-timeout", "1s", "--election-timeout", "300ms-600ms",
            ])
            defer { cluster.shutdown() }
            try await cluster.startAll()
            let old = try await cluster.waitForLeader()
            let majority = cluster.ids.filter { $0 != old }
            try Expect.written(try HTTPClient.put(port: cluster.port(old), "shared", "before"), "PUT before")

            _ = try cluster.admin(old).result("set-blocked", ["in": majority, "out": majority])
            for id in majority { _ = try cluster.admin(id).result("set-blocked", ["in": [old], "out": [old]]) }

            let sentAt = ContinuousClock.now
            let minorityWrite = try HTTPClient.put(port: cluster.port(old), "minority", "lost", timeout: 5)
            let elapsed = millisecondsSince(sentAt)
            print("raftd partition: the isolated leader answered \(minorityWrite.status) after \(elapsed) ms")
            #expect([503, 504].contains(minorityWrite.status), "a minority must not commit: \(minorityWrite)")
            #expect(minorityWrite.isJSONError, "\(minorityWrite)")
            #expect(elapsed < 4_000, "the answer must come within about the 1 s request timeout")
            let appended = try cluster.admin(old).entries().contains { $0.command == "put minority=lost" }
            #expect(appended, "the isolated leader should have appended the write it could not commit")

            let newLeader = try await cluster.waitForLeader(among: majority)
            try Expect.written(try HTTPClient.put(port: cluster.port(newLeader), "shared", "after"), "majority PUT")
            _ = try await cluster.eventually("the isolated leader to step down") {
                try cluster.status(old).role != "leader" ? true : nil
            }

            for id in cluster.ids { _ = try cluster.admin(id).result("heal") }
            let healedLeader = try await cluster.waitForLeader()
            #expect(healedLeader != old, "the old leader's log is behind; it cannot win")
            try await cluster.waitForApplied(old, atLeast: try cluster.status(healedLeader).commitIndex)
            let entries = try cluster.admin(old).entries()
            #expect(!entries.contains { $0.command == "put minority=lost" }, "uncommitted entry survived: \(entries)")
            #expect(entries.contains { $0.command == "put shared=after" }, "\(entries)")
            Expect.error(try HTTPClient.get(port: cluster.port(old), "minority"), 404, "the lost write is not readable")
            #expect(try HTTPClient.get(port: cluster.port(old), "shared", stale: true).text == "after")
        }

        @Test("An old leader with a conflicting uncommitted tail is repaired by a snapshot, also across a restart")
        func snapshotReplacesAConflictingTailDurably() async throws {
            let cluster = try LocalCluster(extraArguments: [
                "--request-timeout", "1s", "--election-timeout", "300ms-600ms", "--snapshot-threshold", "20",
            ])
            defer { cluster.shutdown() }
            try await cluster.startAll()
            let old = try await cluster.waitForLeader()
            let majority = cluster.ids.filter { $0 != old }
            for id in cluster.ids {
                _ = try cluster.admin(id).result(
                    "set-blocked", ["in": id == old ? majority : [old], "out": id == old ? majority : [old]])
            }
            // Uncommitted entries on the isolated leader, each answered 503/504.
            let oldPort = cluster.port(old)
            async let lost = onThread { () -> [Int] in
                (0..<3).map { n in
                    (try? HTTPClient.put(port: oldPort, "minority-\(n)", "x", timeout: 3))?.status ?? -1
                }
            }
            let newLeader = try await cluster.waitForLeader(among: majority)
            for n in 0..<60 {
                try Expect.written(try HTTPClient.put(port: cluster.port(newLeader), "major-\(n)", "v\(n)"), "PUT \(n)")
            }
            let statuses = try await lost
            #expect(statuses.allSatisfy { $0 != 200 }, "\(statuses)")
            let oldEntries = try cluster.admin(old).entries()
            #expect(oldEntries.contains { $0.command?.hasPrefix("put minority-") == true }, "\(oldEntries)")
            let leaderStatus = try await cluster.eventually("the new leader to compact past the old leader's log") {
                let status = try cluster.status(newLeader)
                return status.firstLogIndex > oldEntries.count + 1 ? status : nil
            }

            for id in cluster.ids { _ = try cluster.admin(id).result("heal") }
            try await cluster.waitForApplied(old, atLeast: leaderStatus.commitIndex)
            func check(_ when: String) throws {
                let status = try cluster.status(old)
                #expect(status.snapshotIndex > 0, "\(when): the old leader installed a snapshot: \(status)")
                #expect(status.keys == 60, "\(when): \(status)")
                for n in 0..<3 {
                    let read = try HTTPClient.get(port: cluster.port(old), "minority-\(n)", stale: true)
                    #expect(read.status == 404, "\(when): an uncommitted write resurfaced: \(read)")
                }
                let entries = try cluster.admin(old).entries()
                #expect(!entries.contains { $0.command?.hasPrefix("put minority-") == true }, "\(when): \(entries)")
            }
            try check("after catching up")
            cluster.kill(old)
            try await cluster.start(old)
            try check("after a restart")
            _ = try await cluster.waitForLeader()
            try Expect.written(try HTTPClient.put(port: cluster.port(old), "after", "restart"), "PUT after")
        }

        @Test("A follower rejoining after a long partition does not depose the leader or raise the term (pre-vote)")
        func rejoiningFollowerDoesNotDisrupt() async throws {
            // Roomier timeouts than the default: a loaded machine must not cause a real election during the test.
            let cluster = try LocalCluster(extraArguments: ["--election-timeout", "400ms-800ms"])
            defer { cluster.shutdown() }
            try await cluster.startAll()
            let leader = try await cluster.waitForLeader()
            let term = try cluster.status(leader).term
            let loner = cluster.ids.first { $0 != leader }!
            let others = cluster.ids.filter { $0 != loner }
            let preVotesBefore = cluster.logCount(loner, containing: "pre-vote: started")
            _ = try cluster.admin(loner).result("set-blocked", ["in": others, "out": others])
            // Cut off, it times out and asks for pre-votes again and again: wait for three such rounds.
            _ = try await cluster.eventually("\(loner) to start three pre-vote rounds while cut off", timeout: 60) {
                cluster.logCount(loner, containing: "pre-vote: started") >= preVotesBefore + 3 ? true : nil
            }
            try Expect.written(try HTTPClient.put(port: cluster.port(leader), "k", "v"), "PUT during the partition")
            let cutOff = try cluster.status(loner)
            #expect(cutOff.term == term, "pre-vote keeps an isolated node's term: \(cutOff)")

            _ = try cluster.admin(loner).result("heal")
            try await cluster.waitForApplied(loner, atLeast: try cluster.status(leader).commitIndex)
            #expect(try await cluster.waitForLeader() == leader, "the leader keeps its office")
            #expect(try cluster.status(leader).term == term, "no election happened")
        }

        @Test("A leader that cannot hear its followers (inbound blocked) steps down and another node leads")
        func leaderThatHearsNobodyStepsDown() async throws {
            let cluster = try LocalCluster()
            defer { cluster.shutdown() }
            try await cluster.startAll()
            let old = try await cluster.waitForLeader()
            let others = cluster.ids.filter { $0 != old }

            _ = try cluster.admin(old).result("block", ["peers": others, "direction": "in"])
            let blockedAt = ContinuousClock.now
            let replacement = try await cluster.eventually("a node other than \(old) to become leader") {
                try others.first { try cluster.status($0).role == "leader" }
            }
            print("raftd check-quorum: \(replacement) became leader \(millisecondsSince(blockedAt)) ms after the block")
            _ = try await cluster.eventually("\(old) to stop acting as leader") {
                try cluster.status(old).role != "leader" ? true : nil
            }
            try Expect.written(try HTTPClient.put(port: cluster.port(replacement), "k", "v"), "PUT via the new leader")

            _ = try cluster.admin(old).result("heal")
            _ = try await cluster.waitForLeader()
            #expect(try HTTPClient.get(port: cluster.port(old), "k").text == "v")
        }
    }
}
