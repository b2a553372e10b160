import ChildProcessTestSupport
import Foundation
import Glibc
import RaftClient
import Testing

extension RaftdIntegrationTests {
    @Suite("A full disk")
    struct FullDisk {
        /// A value of about 200 KB that names its write, so a read can tell which write it came from.
        static func value(_ n: Int) -> String {
            "value \(n) " + String(repeating: Character(UnicodeScalar(UInt8(97 + n % 26))), count: 200_000)
        }

        @Test(
            "a WAL write failing with ENOSPC ends raftd with status 74; once space is back it restarts with every acknowledged write",
            .enabled(if: Tmpfs.unavailableReason == nil, "\(Tmpfs.unavailableReason ?? "")"))
        func enospcExitsWithStatus74AndRecovers() async throws {
            // The space alarm is off, so that the disk really fills.
            let cluster = try LocalCluster(
                size: 1, extraArguments: ["--min-free-space", "0", "--min-free-percent", "0"])
            defer { cluster.shutdown() }
            let disk = try Tmpfs(at: cluster.node("n1").dataDir, megabytes: 2)
            defer { disk.unmount() }
            try await cluster.startAll()
            _ = try await cluster.waitForLeader()

            var acknowledged: [Int] = []
            var refusal: HTTPResponse?
            for n in 0..<100 {
                let response = try? HTTPClient.put(port: cluster.port("n1"), "k\(n)", Self.value(n))
                guard let response, response.status == 200 else {
                    refusal = response
                    break
                }
                acknowledged.append(n)
            }
            #expect(acknowledged.count >= 3, "a 2 MB disk holds a few 200 KB writes")
            #expect(acknowledged.count < 100, "the disk never filled")
            if let refusal {
                // The write in flight when the WAL failed may or may not have reached the disk: outcome unknown.
                // One sent after the failure was certainly not applied.
                let honest =
                    (refusal.status == 504 && refusal.errorCode == "outcome_unknown")
                    || (refusal.status == 503 && refusal.errorCode == "storage_failed")
                #expect(honest, "the write that hit the full disk: \(refusal)")
            }
            let status = try await cluster.waitForExit("n1")
            #expect(status == 74, "raftd's exit status after a storage failure\n\(cluster.output("n1"))")
            let output = cluster.output("n1")
            #expect(output.contains("ENOSPC"), "the cause is named:\n\(output)")
            #expect(output.contains("wal-"), "the file is named:\n\(output)")

            try disk.resize(megabytes: 64)
            try await cluster.start("n1")
            _ = try await cluster.waitForLeader()
            for n in acknowledged {
                let read = try HTTPClient.get(port: cluster.port("n1"), "k\(n)")
                #expect(read.status == 200 && read.text == Self.value(n), "acknowledged k\(n) after the restart")
            }
            try Expect.written(try HTTPClient.put(port: cluster.port("n1"), "after", "space is back"), "PUT after")
        }

        @Test(
            "while the storage of a majority has failed, writes get 503 storage_failed naming the nodes, not \"no leader\"",
            .enabled(if: Tmpfs.unavailableReason == nil, "\(Tmpfs.unavailableReason ?? "")"))
        func majorityStorageFailureIsNamedToClients() async throws {
            let cluster = try LocalCluster(
                size: 3, extraArguments: ["--min-free-space", "0", "--min-free-percent", "0"])
            defer { cluster.shutdown() }
            let disks = try ["n2", "n3"].map { try Tmpfs(at: cluster.node($0).dataDir, megabytes: 2) }
            defer { for disk in disks { disk.unmount() } }
            try await cluster.startAll()
            if try await cluster.waitForLeader() != "n1" {
                _ = try cluster.admin("n1").result("transfer-leader", ["to": "n1"])
                _ = try await cluster.waitForLeader(among: ["n1"])
            }
            // Fill n2's and n3's disks through n1 (nobody restarts them here: no supervisor).
            for n in 0..<100 {
                guard let response = try? HTTPClient.put(port: cluster.port("n1"), "k\(n)", Self.value(n)),
                    response.status == 200
                else { break }
            }
            #expect(try await cluster.waitForExit("n2") == 74)
            #expect(try await cluster.waitForExit("n3") == 74)

            let refused = try await cluster.eventually("a write refused as storage_failed", timeout: 20) {
                let response = try HTTPClient.put(port: cluster.port("n1"), "after", "the failures", timeout: 8)
                return response.errorCode == "storage_failed" ? response : nil
            }
            #expect(refused.status == 503, "\(refused)")
            #expect(refused.headers["retry-after"] == "1", "\(refused)")
            let nodes = (refused.json?["nodes"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(nodes == ["n2", "n3"], "\(refused)")
            #expect(refused.text.contains("ENOSPC"), "the cause travels with the ids: \(refused)")
        }

        @Test("over --quota-backend-bytes writes get 507 but deletes pass; compaction then clears the alarm by itself")
        func quotaAlarmTakesDeletesAndClears() async throws {
            // Small segments, so that compaction can give space back; one retained snapshot, so that the one taken
            // after the deletes replaces the large one.
            let cluster = try LocalCluster(
                size: 1,
                extraArguments: [
                    "--quota-backend-bytes", "3MiB", "--segment-size", "262144", "--snapshot-retain", "1",
                    "--snapshot-threshold", "1000000",
                ])
            defer { cluster.shutdown() }
            try await cluster.startAll()
            _ = try await cluster.waitForLeader()
            var acknowledged: [Int] = []
            var refusal: HTTPResponse?
            for n in 0..<100 {
                let response = try HTTPClient.put(port: cluster.port("n1"), "k\(n)", Self.value(n))
                guard response.status == 200 else {
                    refusal = response
                    break
                }
                acknowledged.append(n)
            }
            let refused = try #require(refusal, "the quota was never reached")
            #expect(refused.status == 507 && refused.errorCode == "no_space", "\(refused)")
            #expect(refused.text.contains("over the quota of 3 MiB"), "\(refused)")
            #expect(acknowledged.count >= 10)
            let status = try cluster.status("n1")
            #expect(status.storage == "ok", "no storage failure: the alarm came first")

            // Maintenance mode, as etcd's: reads and deletes still work.
            let read = try HTTPClient.get(port: cluster.port("n1"), "k0")
            #expect(read.status == 200 && read.text == Self.value(0))
            for n in acknowledged {
                let deleted = try HTTPClient.delete(port: cluster.port("n1"), "k\(n)")
                #expect(deleted.status == 200, "DELETE k\(n) during the alarm: \(deleted)")
            }
            let written = try await cluster.eventually("a write accepted again", timeout: 20) {
                let response = try HTTPClient.put(port: cluster.port("n1"), "after", "compaction")
                return response.status == 200 ? response : nil
            }
            try Expect.written(written, "PUT after the alarm cleared")
            #expect(cluster.logCount("n1", containing: "no space cleared") == 1, "\(cluster.logTail("n1"))")
        }

        @Test(
            "test clusters lower the space alarm only on a nearly full disk",
            .enabled(if: Tmpfs.unavailableReason == nil, "\(Tmpfs.unavailableReason ?? "")"))
        func diskHeadroomOnlyWhenNearlyFull() throws {
            let root = try LocalCluster.makeTemporaryDirectory()
            defer { rmdir(root) }
            let disk = try Tmpfs(at: root, megabytes: 24)
            defer { disk.unmount() }
            #expect(DiskHeadroom.raftdOptions(under: root).map(\.0) == ["min-free-space", "min-free-percent"])
            // 1 TiB of tmpfs (never allocated): plenty of room, so the defaults stay.
            try disk.resize(megabytes: 1 << 20)
            #expect(DiskHeadroom.raftdOptions(under: root).isEmpty)
        }
    }
}
