import RaftCore
import Testing

/// A node never traps on what a peer sends it: indexes and terms at the edge of their range (a corrupt or hostile
/// frame that passed the wire checks) are compared and refused, not overflowed.
@Suite struct ExtremeValueTests {
    static let huge = UInt64.max
    static let large = UInt64(Int64.max) + 1

    @Test func indexesBeyondIntMaxCompareAndMeasureWithoutTrapping() {
        let top = LogIndex(Self.huge)
        #expect(top == LogIndex(Self.huge))
        #expect(top != LogIndex(Self.large))
        #expect(LogIndex(0) < top)
        #expect(LogIndex(0).distance(to: top) == Int.max, "saturates instead of trapping")
        #expect(top.distance(to: LogIndex(0)) == Int.min)
        #expect(top.advanced(by: 5) == top, "saturates at the top")
        #expect(LogIndex(3).advanced(by: -10) == LogIndex(0), "saturates at zero")
        #expect(LogIndex(Self.large).advanced(by: -1) == LogIndex(Self.large - 1))
    }

    @Test(arguments: [UInt64.max, UInt64(Int64.max) + 1, UInt64.max - 1, UInt64(Int64.max), UInt64(1) << 62 + 1])
    func aFollowerGivenAbsurdIndexesRefusesThemAndCarriesOn(value: UInt64) {
        var node = followerOf(2, 1)
        node.step(appendEntries(2, 1, term: 1, prev: (value, 1), entries: [], commit: value))
        node.drive()
        node.step(
            appendEntries(
                2, 1, term: 1, prev: (0, 0), entries: [Entry(index: LogIndex(value), term: 1, data: [])], commit: value)
        )
        node.drive()
        node.step(heartbeat(2, 1, term: 1, commit: value))
        node.drive()
        node.step(voteRequest(3, 1, term: 1, last: (value, value)))
        node.drive()
        node.step(
            message(
                2, 1, 1,
                .installSnapshot(
                    Snapshot(metadata: SnapshotMetadata(index: LogIndex(value), term: 1, voters: [1, 2, 3]), data: [])))
        )
        node.drive()
        #expect(node.currentRole == .follower)
        #expect(node.commitIndex < LogIndex(value) || node.status.lastIndex == LogIndex(value))
    }

    @Test(arguments: [UInt64.max, UInt64(Int64.max) + 1])
    func aLeaderGivenAbsurdAcknowledgementsIgnoresThem(value: UInt64) {
        var node = electedLeader()
        node.step(ack(2, 1, term: 1, index: value))
        node.drive()
        node.step(
            message(
                2, 1, 1,
                .appendEntriesResponse(
                    AppendEntriesResponse(
                        index: LogIndex(value), success: false, conflictIndex: LogIndex(value),
                        conflictTerm: Term(value)))))
        node.drive()
        node.step(
            message(2, 1, 1, .readIndexResponse(ReadIndexResponse(context: ReadContext(1), index: LogIndex(value)))))
        node.drive()
        #expect(node.currentRole == .leader)
        #expect(node.commitIndex == LogIndex(1), "nothing the leader does not hold is committed")
    }
}
