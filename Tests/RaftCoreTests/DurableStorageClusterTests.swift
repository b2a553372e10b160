import RaftCore
import RaftTestKit
import Testing

/// The core over the real write-ahead log: nodes persist through `RaftStorage` on an in-memory file system that
/// loses unsynced bytes at every crash, and restart from what its recovery returns (which `SimNode` also checks
/// against everything that was made durable).
@Suite struct DurableStorageClusterTests {
    @Test func committedWritesSurviveRepeatedCrashesOfEveryNodeThroughTheWriteAheadLog() throws {
        let cluster = Cluster(size: 3, seed: 7, snapshotEveryEntries: 5, durableStorage: true)
        cluster.advance(until: { cluster.leader != nil })
        var written = 0
        for round in 0..<6 {
            let leader = try #require(cluster.leader)
            for n in 0..<4 {
                try cluster.put("k\(written)", "v\(round)-\(n)", on: leader)
                written += 1
            }
            cluster.advance(ticks: 5)
            // Crash every node at once, then bring them all back: nothing survives but the file systems.
            for id in cluster.ids { cluster.crash(id) }
            for id in cluster.ids { cluster.restart(id) }
            #expect(cluster.advance(until: { cluster.leader != nil }, maxTicks: 200) != nil)
        }
        try cluster.put("last", "1", on: try #require(cluster.leader))
        cluster.advance(ticks: 10)
        for id in cluster.ids {
            for k in 0..<written {
                #expect(cluster.value(of: "k\(k)", on: id) != nil, "k\(k) on \(id)")
            }
            #expect(cluster.value(of: "last", on: id) == "1")
            #expect(cluster[id].durable?.recoveries == 6, "\(id) recovered from its own storage each time")
        }
        #expect(cluster.violations.isEmpty, "\(cluster.violations)")
    }
}
