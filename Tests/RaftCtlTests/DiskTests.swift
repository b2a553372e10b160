import ChildProcessTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A value of about 100 KB (under the kernel's 128 KiB limit for one command-line argument) naming its write.
func largeValue(_ n: Int) -> String {
    "value \(n) " + String(repeating: Character(UnicodeScalar(UInt8(97 + n % 26))), count: 100_000)
}

extension RaftctlEndToEndTests {
    @Test(
        "space alarm: raised before any disk is full; writes get 507, reads work; it clears by itself when space is back",
        .enabled(if: Tmpfs.unavailableReason == nil, "\(Tmpfs.unavailableReason ?? "")"))
    func spaceAlarmOnASmallDisk() throws {
        let cluster = try TestCluster()
        // The whole cluster directory (three nodes' WALs and logs) on one 24 MB file system, each node alarming
        // under 6 MiB free (passed through each node's raftd.conf).
        let disk = try Tmpfs(at: cluster.directory, megabytes: 24)
        defer {
            cluster.close()
            disk.unmount()
            try? FileManager.default.removeItem(atPath: cluster.root)
        }
        for id in ["n1", "n2", "n3"] {
            try FileManager.default.createDirectory(
                atPath: "\(cluster.directory)/\(id)", withIntermediateDirectories: true)
            try "min-free-space = 6MiB\nmin-free-percent = 0\n".write(
                toFile: "\(cluster.directory)/\(id)/raftd.conf", atomically: true, encoding: .utf8)
        }
        try cluster.up()
        let before = try cluster.settledLeader()

        var acknowledged: [Int] = []
        var refusal: CommandResult?
        for n in 0..<200 {
            let put = try cluster.ctl("put", "k\(n)", largeValue(n))
            guard put.status == 0 else {
                refusal = put
                break
            }
            acknowledged.append(n)
        }
        let refused = try #require(refusal, "24 MB never filled after 200 writes of 100 KB")
        #expect(refused.stderr.contains("HTTP 507"), "\(refused)")
        #expect(refused.stderr.contains("space alarm"), "\(refused)")
        #expect(acknowledged.count >= 20, "18 MB of room before the alarm should take ~60 writes")

        // No node ran out of space: none failed, none restarted.
        let alarmed = try cluster.waitForStatus("the no_space alarm in status") { status in
            !status.alarms.filter { $0.kind == "no_space" }.isEmpty
        }
        #expect(!alarmed.alarms.contains { $0.kind == "storage_failed" }, "\(alarmed.alarms)")
        #expect(alarmed.nodes.map(\.pid) == before.nodes.map(\.pid), "a node restarted")
        #expect(alarmed.nodes.allSatisfy { $0.storage == "ok" })
        for id in ["n1", "n2", "n3"] {
            #expect(!cluster.tail("\(cluster.directory)/\(id)/raftd.log", lines: 10_000).contains("ENOSPC"))
        }
        let table = try cluster.ok("status").stdout
        #expect(table.contains("is out of space"), "status table:\n\(table)")
        #expect(table.contains("507 no_space"), "status table:\n\(table)")
        let events = try cluster.ok("events").stdout
        #expect(events.contains("no space raised"), "events:\n\(events)")

        // Reads keep working during the alarm.
        #expect(try cluster.ok("get", "k0").stdout == largeValue(0) + "\n")

        // Space comes back: the alarm clears by itself and writes resume, with no restart.
        try disk.resize(megabytes: 64)
        let cleared = try cluster.waitForStatus("the alarm cleared", timeout: .seconds(15)) { $0.alarms.isEmpty }
        #expect(cleared.nodes.map(\.pid) == before.nodes.map(\.pid), "a node restarted")
        try cluster.ok("put", "after", "the alarm")
        #expect(try cluster.ok("events").stdout.contains("no space cleared"))
        for n in acknowledged {
            let read = try cluster.ctl("get", "k\(n)")
            #expect(read.status == 0 && read.stdout == largeValue(n) + "\n", "acknowledged k\(n)")
        }
    }

    @Test(
        "ENOSPC on one follower: it exits and is restarted once space is back, catches up; the leader never changes",
        .enabled(if: Tmpfs.unavailableReason == nil, "\(Tmpfs.unavailableReason ?? "")"))
    func followerOutOfSpaceIsRestartedAndCatchesUp() throws {
        try withCluster { cluster in
            let before = try cluster.settledLeader()
            let leader = try #require(before.leader)
            let victim = try #require(before.nodes.map(\.id).first { $0 != leader })

            // Move the follower onto a 3 MB disk of its own, its space alarm off so that the disk really fills.
            try cluster.ok("stop", victim)
            let nodeDirectory = "\(cluster.directory)/\(victim)"
            let saved = "\(cluster.root)/saved-\(victim)"
            try FileManager.default.moveItem(atPath: nodeDirectory, toPath: saved)
            let disk = try Tmpfs(at: nodeDirectory, megabytes: 3)
            defer { disk.unmount() }
            for name in try FileManager.default.contentsOfDirectory(atPath: saved) {
                try FileManager.default.copyItem(atPath: "\(saved)/\(name)", toPath: "\(nodeDirectory)/\(name)")
            }
            try "min-free-space = 0\nmin-free-percent = 0\n".write(
                toFile: "\(nodeDirectory)/raftd.conf", atomically: true, encoding: .utf8)
            try cluster.ok("start", victim)

            // Writes go on while the follower fails (the other two are a majority), until peers report it.
            var failed: StatusDocument.Alarm?
            for n in 0..<150 where failed == nil {
                try cluster.ok("put", "k\(n)", largeValue(n))
                if n % 5 == 4 {
                    let status = try cluster.status()
                    #expect(status.leader == leader && status.term == before.term, "leadership changed: \(status)")
                    failed = status.alarms.first { $0.node == victim && $0.kind == "storage_failed" }
                }
            }
            let alarm = try #require(failed, "\(victim) never reported a storage failure on a 3 MB disk")
            #expect(alarm.message.contains("ENOSPC"), "\(alarm.message)")
            let table = try cluster.ok("status").stdout
            #expect(table.contains("warning: \(victim) storage failed"), "status table:\n\(table)")

            // Space comes back: the supervisor restarts it (with backoff) and it catches up.
            try disk.resize(megabytes: 64)
            let target = try #require(try cluster.status().node(leader)?.commitIndex)
            let healed = try cluster.waitForStatus("\(victim) restarted and caught up", timeout: .seconds(45)) {
                status in
                status.node(victim)?.process == "running" && (status.node(victim)?.appliedIndex ?? 0) >= target
            }
            #expect(healed.leader == leader && healed.term == before.term, "leadership changed: \(healed)")
            let supervisorLog = cluster.tail("\(cluster.directory)/supervisor.log", lines: 1_000)
            #expect(supervisorLog.contains("\(victim) exited on its own; restarting"), "\(supervisorLog)")
            try cluster.ok("stop", victim)
        }
    }
}

extension RaftctlEndToEndTests {
    @Test("slow-disk: a follower's delayed syncs are logged and counted as slow; writes go on through the majority")
    func slowDiskFollower() throws {
        try withCluster { cluster in
            let before = try cluster.settledLeader()
            let leader = try #require(before.leader)
            let follower = try #require(before.nodes.map(\.id).first { $0 != leader })

            let slowed = try cluster.ok("slow-disk", follower, "1200ms")
            #expect(slowed.stdout == "\(follower) syncs are delayed by 1200 ms (slow syncs so far: 0)\n", "\(slowed)")
            // The leader and the other follower are a majority: every write is still acknowledged.
            for n in 0..<8 { try cluster.ok("put", "slow\(n)", "v\(n)") }
            let log = "\(cluster.directory)/\(follower)/raftd.log"
            try cluster.waitFor("a slow fdatasync warning in \(follower)'s log") {
                cluster.tail(log, lines: 10_000).contains("slow fdatasync") ? true : nil
            }
            #expect(cluster.tail(log, lines: 10_000).contains("injected by slow-disk"))

            let cleared = try cluster.ok("slow-disk", follower, "off")
            #expect(
                cleared.stdout.hasPrefix("\(follower) syncs are no longer delayed (slow syncs so far: "), "\(cleared)")
            let status = try cluster.waitForStatus("\(follower) answering again, caught up") { status in
                status.node(follower)?.appliedIndex == status.node(leader)?.appliedIndex
                    && status.node(follower)?.disk != nil
            }
            let disk = try #require(status.node(follower)?.disk)
            #expect(disk.slowSyncs >= 1 && disk.syncDelayMilliseconds == 0, "\(disk)")
            #expect(disk.slowSyncThresholdMilliseconds == 1_000)
            let events = try cluster.ok("events").stdout
            #expect(events.contains("slow-disk") && events.contains("slow fdatasync"), "events:\n\(events)")

            let bad = try cluster.ctl("slow-disk", follower, "soon")
            #expect(bad.status == 2, "\(bad)")
        }
    }
}
