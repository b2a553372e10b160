import RaftCore
import RaftTestKit
import Testing

/// A leader sends a follower that fell behind its compacted log one snapshot at a time. When the shell reports
/// how each send ended (raftd does), a transfer still being written is never sent again on a timer: a snapshot too
/// large to send within an election timeout used to be sent over and over, each copy held in memory.
@Suite struct SnapshotSendTests {
    /// Ticks `rounds` times, dropping InstallSnapshot messages to n3 (a send that has not finished) and delivering
    /// everything else; returns how many were sent.
    func snapshotsSentWhileUnfinished(_ cluster: Cluster, rounds: Int) -> Int {
        var sent = 0
        for _ in 0..<rounds {
            cluster.tickWithoutDelivery()
            sent += cluster.drop { if case .installSnapshot = $0.body, $0.to == 3 { true } else { false } }
            cluster.deliverAll()
            cluster.drainAll()
        }
        return sent
    }

    func clusterWithAFollowerBehindTheSnapshot(reported: Bool) throws -> Cluster {
        let cluster = Cluster(size: 3, seed: 5, snapshotEveryEntries: 5) { $0.snapshotSendsReported = reported }
        cluster.campaign(1)
        cluster.stabilize()
        cluster.isolate(3)
        for n in 0..<12 {
            try cluster.put("k\(n)", "v", on: 1)
            cluster.stabilize()
        }
        #expect(cluster[1].raft.status.snapshotIndex > .zero)
        cluster.heal()
        return cluster
    }

    @Test func anUnfinishedSendIsNotRepeatedAndAFailedOneIsRetried() throws {
        let cluster = try clusterWithAFollowerBehindTheSnapshot(reported: true)
        // 300 ticks: more than ten election timeouts of 15 to 30 ticks.
        #expect(snapshotsSentWhileUnfinished(cluster, rounds: 300) == 1, "one transfer, however long it takes")
        cluster.reportSnapshot(on: 1, to: 3, sent: false)
        #expect(snapshotsSentWhileUnfinished(cluster, rounds: 60) >= 1, "a failed send is sent again")
    }

    @Test func withoutReportsTheSnapshotIsSentAgainEachElectionTimeout() throws {
        let cluster = try clusterWithAFollowerBehindTheSnapshot(reported: false)
        #expect(snapshotsSentWhileUnfinished(cluster, rounds: 300) > 3)
    }

    @Test func aSnapshotReportedSentIsInstalledAndAcknowledged() throws {
        let cluster = try clusterWithAFollowerBehindTheSnapshot(reported: true)
        _ = cluster.advance(until: { cluster.value(of: "k11", on: 3) == "v" }, maxTicks: 300)
        #expect(cluster.value(of: "k11", on: 3) == "v", "delivered at once, the snapshot needs no report")
        #expect(cluster.violations.isEmpty, "\(cluster.violations)")
    }
}
