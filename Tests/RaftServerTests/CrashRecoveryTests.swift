import Foundation
import Glibc
import RaftClient
import Testing

extension RaftdIntegrationTests {
    @Suite("Crashes, restarts and catch-up")
    struct CrashRecovery {
        @Test("kill -9 of the leader: a survivor elects a new leader and takes writes; the old one catches up")
        func leaderCrashFailsOverAndTheNodeCatchesUp() async throws {
            let cluster = try LocalCluster()
            defer { cluster.shutdown() }
            try await cluster.startAll()
            let oldLeader = try await cluster.waitForLeader()
            try Expect.written(try HTTPClient.put(port: cluster.port(oldLeader), "before", "crash"), "PUT before")
            let survivors = cluster.ids.filter { $0 != oldLeader }

            let killedAt = ContinuousClock.now
            cluster.kill(oldLeader)
            let index = try await cluster.eventually("a write through \(survivors[0]) to succeed", timeout: 5) {
                let response = try HTTPClient.put(port: cluster.port(survivors[0]), "after", "crash", timeout: 3)
                return response.status == 200 ? response.json?["index"] as? Int : nil
            }
            print(
                "raftd failover: first write acknowledged \(millisecondsSince(killedAt)) ms after kill -9 of the leader"
            )
            let newLeader = try await cluster.waitForLeader(among: survivors)
            #expect(newLeader != oldLeader)

            for n in 0..<10 {
                try Expect.written(try HTTPClient.put(port: cluster.port(newLeader), "k\(n)", "v\(n)"), "PUT k\(n)")
            }
            try await cluster.start(oldLeader)
            let target = try cluster.status(newLeader).commitIndex
            #expect(target > index)
            try await cluster.waitForApplied(oldLeader, atLeast: target)
            // Stale reads show the restarted node's own state: it holds the writes made while it was down.
            for key in ["before", "after"] + (0..<10).map({ "k\($0)" }) {
                let read = try HTTPClient.get(port: cluster.port(oldLeader), key, stale: true)
                #expect(read.status == 200, "stale GET \(key) on the restarted \(oldLeader): \(read)")
            }
            #expect(try HTTPClient.get(port: cluster.port(oldLeader), "after").text == "crash")
        }

        @Test(
            "A member whose data directory was emptied halts on the leader's first heartbeat: exit 65, a HALTED file naming the fix, and raftd refuses to start it again"
        )
        func aMemberThatLostItsDataHaltsInsteadOfRejoining() async throws {
            let cluster = try LocalCluster()
            defer { cluster.shutdown() }
            try await cluster.startAll()
            let leader = try await cluster.waitForLeader()
            for n in 0..<20 { try Expect.written(try HTTPClient.put(port: cluster.port(leader), "k\(n)", "v"), "PUT") }
            let victim = cluster.ids.first { $0 != leader }!
            try await cluster.waitForApplied(victim, atLeast: try cluster.status(leader).commitIndex)
            cluster.kill(victim, signal: SIGTERM)
            _ = try await cluster.waitForExit(victim)
            // What an operator does to "reset" a broken node: delete its WAL and snapshots.
            let directory = cluster.node(victim).dataDir
            for name in try FileManager.default.contentsOfDirectory(atPath: directory)
            where name.hasPrefix("wal-") || name.hasSuffix(".snap") || name.hasPrefix("hardstate") {
                try FileManager.default.removeItem(atPath: directory + "/" + name)
            }
            try await cluster.start(victim)
            let status = try await cluster.waitForExit(victim, timeout: 10)
            #expect(status == 65, "exit status 65 (EX_DATAERR):\n\(cluster.output(victim))")
            let marker = try String(contentsOfFile: directory + "/HALTED", encoding: .utf8)
            #expect(marker.contains("lost entries it had acknowledged") && marker.contains("raftctl replace-node"))
            let again = try await cluster.runToExit(cluster.arguments(victim))
            #expect(again.status == 65 && again.output.contains("refusing to start"), "\(again.output)")
            // The others never saw a vote or an acknowledgement from it and go on.
            try Expect.written(try HTTPClient.put(port: cluster.port(leader), "after", "v"), "PUT after")
        }

        @Test("Writes acknowledged while the leader is being killed are never lost")
        func writesAcknowledgedAroundALeaderCrashSurvive() async throws {
            let cluster = try LocalCluster()
            defer { cluster.shutdown() }
            try await cluster.startAll()
            let leader = try await cluster.waitForLeader()
            let writer = cluster.ids.first { $0 != leader }!
            let port = cluster.port(writer)
            // Bounded by counts, not by this machine's speed: the leader dies once 20 writes were acknowledged, and
            // the writer stops once 10 more were acknowledged by the survivors (or after 2,000 attempts).
            let stop = StopFlag()
            defer { stop.set() }
            let acknowledgedCount = Counter()
            async let outcomes = onThread { () -> [(key: String, status: Int)] in
                var outcomes: [(key: String, status: Int)] = []
                var n = 0
                while !stop.isSet && n < 2_000 {
                    let key = "w-\(n)"
                    let status = (try? HTTPClient.put(port: port, key, "value-\(n)", timeout: 6))?.status ?? -1
                    outcomes.append((key, status))
                    if status == 200 { acknowledgedCount.increment() }
                    n += 1
                }
                return outcomes
            }
            _ = try await cluster.eventually("20 writes acknowledged before the crash", timeout: 60) {
                acknowledgedCount.value >= 20 ? true : nil
            }
            cluster.kill(leader)
            let beforeCrash = acknowledgedCount.value
            _ = try await cluster.eventually("10 writes acknowledged after the crash", timeout: 60) {
                acknowledgedCount.value >= beforeCrash + 10 ? true : nil
            }
            stop.set()
            let results = try await outcomes
            let acknowledged = results.filter { $0.status == 200 }.map(\.key)
            let other = results.filter { $0.status != 200 }.map { "\($0.key):\($0.status)" }
            print("raftd crash under load: \(acknowledged.count) writes acknowledged, not acknowledged: \(other)")
            #expect(other.allSatisfy { $0.hasSuffix(":503") || $0.hasSuffix(":504") }, "\(other)")

            try await cluster.start(leader)
            let newLeader = try await cluster.waitForLeader()
            // Linearizable reads through the restarted node, which crashed as leader in the middle of the run.
            for key in acknowledged {
                let read = try HTTPClient.get(port: cluster.port(leader), key)
                #expect(read.status == 200, "acknowledged \(key) missing: \(read)")
            }
            let commit = try cluster.status(newLeader).commitIndex
            for id in cluster.ids {
                try await cluster.waitForApplied(id, atLeast: commit)
                #expect(try cluster.status(id).keys >= acknowledged.count, "\(id) holds every acknowledged key")
            }
        }

        @Test("Megabyte values replicate, and a node that missed them catches up through a large snapshot")
        func largeValuesReplicateAndCatchUp() async throws {
            let cluster = try LocalCluster(extraArguments: ["--snapshot-threshold", "3"])
            defer { cluster.shutdown() }
            try await cluster.startAll()
            let leader = try await cluster.waitForLeader()
            let followers = cluster.ids.filter { $0 != leader }
            cluster.kill(followers[1])
            let values = (0..<6).map { n in [UInt8](repeating: UInt8(ascii: "a") + UInt8(n), count: 1 << 20) }
            // As the client contract says: a 503 or 504 (a leader change under load) is retried with the same
            // Idempotency-Key, and the write is applied once.
            for (n, value) in values.enumerated() {
                let written = try cluster.send(
                    "PUT", "/v1/kv/big-\(n)", body: value, idempotencyKey: "big-\(n)", via: [followers[0]])
                try Expect.written(written, "PUT 1 MiB big-\(n)")
            }
            let read = try cluster.send("GET", "/v1/kv/big-5", via: [followers[0]])
            #expect(read.body == values[5])
            _ = try await cluster.eventually("the leader to snapshot") {
                try cluster.status(leader).snapshotIndex > 0 ? true : nil
            }
            try await cluster.start(followers[1])
            try await cluster.waitForApplied(followers[1], atLeast: try cluster.status(leader).commitIndex, timeout: 20)
            // It may catch up from AppendEntries the leader queued while it was down (up to 16 MiB per peer) or from
            // the leader's snapshot; either way it snapshots itself soon after (threshold 3), off its main loop.
            _ = try await cluster.eventually("the caught-up node to hold a snapshot") {
                try cluster.status(followers[1]).snapshotIndex > 0 ? true : nil
            }
            for (n, value) in values.enumerated() {
                let read = try HTTPClient.get(port: cluster.port(followers[1]), "big-\(n)", stale: true)
                #expect(read.status == 200 && read.body == value, "big-\(n) on the caught-up node: \(read.status)")
            }
        }

        /// Snapshots larger than one peer frame (64 MiB) travel as checksummed chunks; before that, a lagging node
        /// never caught up once the state passed 64 MiB. About 70 MiB per node and ~12 s.
        @Test("A node that missed more than 64 MiB of data catches up through a snapshot")
        func snapshotLargerThanOneFrameCatchesUp() async throws {
            // The snapshot is taken after 70 applied entries: 69+ values of 1 MB, over the 64 MiB frame limit.
            let cluster = try LocalCluster(extraArguments: ["--snapshot-threshold", "70"])
            defer { cluster.shutdown() }
            try await cluster.startAll()
            let leader = try await cluster.waitForLeader()
            let lagging = cluster.ids.first { $0 != leader }!
            cluster.kill(lagging)
            let value = [UInt8](repeating: UInt8(ascii: "m"), count: 1_000_000)
            for n in 0..<72 {
                try Expect.written(
                    try HTTPClient.request(port: cluster.port(leader), "PUT", "/v1/kv/m\(n)", body: value), "PUT m\(n)")
            }
            let target = try await cluster.eventually("the leader to snapshot over 64 MiB of values") {
                let status = try cluster.status(leader)
                return status.snapshotIndex >= 70 && status.firstLogIndex > 2 ? status.commitIndex : nil
            }
            try await cluster.start(lagging)
            try await cluster.waitForApplied(lagging, atLeast: target, timeout: 30)
            #expect(try cluster.status(lagging).keys == 72)
        }

        @Test("kill -9 of every node, then restart: every acknowledged write is still there")
        func acknowledgedWritesSurviveAWholeClusterCrash() async throws {
            let cluster = try LocalCluster()
            defer { cluster.shutdown() }
            try await cluster.startAll()
            _ = try await cluster.waitForLeader()
            var acknowledged: [String: String] = [:]
            for n in 0..<30 {
                let via = cluster.ids[n % 3]
                let response = try HTTPClient.put(port: cluster.port(via), "durable-\(n)", "value-\(n)")
                if response.status == 200 { acknowledged["durable-\(n)"] = "value-\(n)" }
            }
            try Expect.written(try HTTPClient.delete(port: cluster.port("n1"), "durable-0"), "DELETE durable-0")
            acknowledged["durable-0"] = nil
            #expect(acknowledged.count == 29, "every write to a healthy cluster should be acknowledged")

            for id in cluster.ids { cluster.kill(id) }
            try await cluster.startAll()
            _ = try await cluster.waitForLeader()
            for id in cluster.ids {
                for (key, value) in acknowledged {
                    let read = try HTTPClient.get(port: cluster.port(id), key)
                    #expect(read.status == 200 && read.text == value, "GET \(key) via \(id) after restart: \(read)")
                }
                #expect(try HTTPClient.get(port: cluster.port(id), "durable-0").status == 404, "deletes are durable")
            }
        }

        @Test("kill -9 of every node in the middle of a stream of writes loses none that was acknowledged")
        func acknowledgedWritesSurviveACrashMidStream() async throws {
            let cluster = try LocalCluster(extraArguments: ["--snapshot-threshold", "40"])
            defer { cluster.shutdown() }
            try await cluster.startAll()
            let leader = try await cluster.waitForLeader()
            let port = cluster.port(leader)
            // Every node dies once 20 writes were acknowledged (bounded by that count, not by elapsed time).
            let stop = StopFlag()
            defer { stop.set() }
            let acknowledgedCount = Counter()
            async let outcomes = onThread { () -> [(key: String, status: Int)] in
                var outcomes: [(key: String, status: Int)] = []
                var n = 0
                while !stop.isSet && n < 2_000 {
                    let status = (try? HTTPClient.put(port: port, "m-\(n)", "value-\(n)", timeout: 3))?.status ?? -1
                    outcomes.append(("m-\(n)", status))
                    if status == 200 { acknowledgedCount.increment() }
                    n += 1
                }
                return outcomes
            }
            _ = try await cluster.eventually("20 writes acknowledged before the crash", timeout: 60) {
                acknowledgedCount.value >= 20 ? true : nil
            }
            for id in cluster.ids { cluster.kill(id) }
            stop.set()
            let acknowledged = try await outcomes.filter { $0.status == 200 }.map(\.key)
            #expect(acknowledged.count >= 20)

            try await cluster.startAll()
            _ = try await cluster.waitForLeader()
            for key in acknowledged {
                let read = try HTTPClient.get(port: cluster.port(leader), key)
                #expect(read.status == 200, "acknowledged \(key) lost in the crash: \(read)")
            }
        }

        @Test("A node down during 200 writes with --snapshot-threshold 50 catches up through InstallSnapshot")
        func laggingNodeCatchesUpThroughASnapshot() async throws {
            let cluster = try LocalCluster(extraArguments: ["--snapshot-threshold", "50", "--snapshot-retain", "1"])
            defer { cluster.shutdown() }
            try await cluster.startAll()
            let leader = try await cluster.waitForLeader()
            let lagging = cluster.ids.first { $0 != leader }!
            let lastBefore = try cluster.status(lagging).lastLogIndex
            cluster.kill(lagging)

            for n in 0..<200 {
                try Expect.written(
                    try HTTPClient.put(port: cluster.port(leader), "snap-\(n)", "value-\(n)"), "PUT \(n)")
            }
            // Both running nodes compact past the lagging one, so whichever leads when it returns (a busy machine
            // may move leadership) must send it a snapshot.
            let leaderStatus = try await cluster.eventually("both running nodes to compact past the lagging node") {
                let statuses = try cluster.ids.filter { $0 != lagging }.map { try cluster.status($0) }
                let compacted = statuses.allSatisfy { $0.snapshotIndex > 0 && $0.firstLogIndex > lastBefore + 1 }
                return compacted ? try cluster.status(leader) : nil
            }
            try await cluster.start(lagging)
            try await cluster.waitForApplied(lagging, atLeast: leaderStatus.commitIndex)
            let caughtUp = try cluster.status(lagging)
            #expect(caughtUp.snapshotIndex > 0, "the lagging node should have installed a snapshot: \(caughtUp)")
            #expect(caughtUp.keys == 200, "\(caughtUp)")
            for n in 0..<200 {
                let read = try HTTPClient.get(port: cluster.port(lagging), "snap-\(n)", stale: true)
                #expect(read.status == 200 && read.text == "value-\(n)", "stale GET snap-\(n) on \(lagging): \(read)")
            }
            // The installed snapshot is durable: a crash right after catching up loses nothing.
            cluster.kill(lagging)
            try await cluster.start(lagging)
            let restarted = try cluster.status(lagging)
            #expect(restarted.snapshotIndex >= caughtUp.snapshotIndex, "\(restarted)")
            // Entries after the snapshot are applied once the node knows they are committed: the commit index
            // alone is persisted lazily (it is re-learned from the leader), so wait for it, never assume it.
            _ = try await cluster.eventually("\(lagging) to hold all 200 keys again") {
                let status = try cluster.status(lagging)
                return status.keys == 200 ? status : nil
            }
            _ = try await cluster.waitForLeader()
            // And the node keeps replicating normally after the snapshot.
            try Expect.written(try HTTPClient.put(port: cluster.port(lagging), "after-snapshot", "yes"), "PUT after")
            #expect(try HTTPClient.get(port: cluster.port(lagging), "after-snapshot").text == "yes")
        }
    }
}
