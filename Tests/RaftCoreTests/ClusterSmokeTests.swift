import RaftCore
import RaftTestKit
import Testing

@Suite struct ClusterSmokeTests {
    @Test func threeNodesElectALeaderAndReplicateAWrite() throws {
        let cluster = Cluster(size: 3)
        let ticks = cluster.advance(until: { cluster.leader != nil }, maxTicks: 100)
        #expect(ticks != nil)
        let leader = try #require(cluster.leader)
        try cluster.put("a", "1", on: leader)
        cluster.stabilize()
        cluster.advance(ticks: 10)
        for id in cluster.ids {
            #expect(cluster.value(of: "a", on: id) == "1")
        }
        #expect(cluster.violations.isEmpty, "\(cluster.violations)")
    }

    @Test func aFollowerForwardsProposalsAndReadsLinearizably() throws {
        let cluster = Cluster(size: 3)
        cluster.advance(until: { cluster.leader != nil })
        let leader = try #require(cluster.leader)
        let follower = try #require(cluster.ids.first { $0 != leader })
        try cluster.put("k", "v", on: follower)
        cluster.stabilize()
        try cluster.readIndex(ReadContext(7), on: follower)
        cluster.stabilize()
        let reads = cluster.takeReadStates(on: follower)
        #expect(reads.map(\.context) == [ReadContext(7)])
        #expect(cluster[follower].stateMachine.appliedIndex >= reads[0].index)
        #expect(cluster.value(of: "k", on: follower) == "v")
    }
}
