import RaftCore
import RaftTestKit
import Testing

/// The core's log through its ``EntryStorage``: every term in memory, entries only in a bounded cache once
/// durable and applied, older ones read back from storage when a follower or a restart needs them.
@Suite struct EntryCacheTests {
    static let value = String(repeating: "v", count: 100)

    /// A 3-node cluster with a 2 KiB entry cache whose leader appended 300 writes of about 110 bytes while
    /// `lagging` was cut off.
    static func clusterWithALaggingFollower() throws -> (Cluster, leader: NodeID, lagging: NodeID) {
        let cluster = Cluster(size: 3, entryCacheBytes: 2_048)
        cluster.advance(until: { cluster.leader != nil })
        let leader = try #require(cluster.leader)
        let lagging = try #require(cluster.ids.first { $0 != leader })
        cluster.isolate(lagging)
        for i in 0..<300 {
            try cluster.put("k\(i)", value, on: leader)
            cluster.stabilize()
        }
        return (cluster, leader, lagging)
    }

    @Test("a leader holds at most its cache of applied entries; a follower cut off meanwhile catches up from storage")
    func aLaggingFollowerCatchesUpThroughStorage() throws {
        let (cluster, leader, lagging) = try Self.clusterWithALaggingFollower()
        for id in cluster.ids where id != lagging {
            let raft = cluster[id].raft
            #expect(raft.lastIndex.rawValue >= 301)
            #expect(raft.cachedEntryBytes <= 2_048, "\(id) holds \(raft.cachedEntryBytes) bytes of entries")
            #expect(raft.cachedFromIndex.rawValue > 250, "\(id) holds entries from \(raft.cachedFromIndex)")
        }
        let readsBefore = try #require(cluster[leader].entryStorage).reads
        cluster.heal()
        let caughtUp = cluster.advance(until: {
            cluster[lagging].stateMachine.appliedIndex == cluster[leader].stateMachine.appliedIndex
        })
        #expect(caughtUp != nil)
        #expect(try #require(cluster[leader].entryStorage).reads > readsBefore, "old entries came from storage")
        for i in [0, 150, 299] { #expect(cluster.value(of: "k\(i)", on: lagging) == Self.value) }
        // Entries the leader no longer caches still read back, the same on every node.
        for index in [LogIndex(2), LogIndex(100)] {
            let entry = try #require(cluster[leader].raft.entry(at: index))
            #expect(cluster[lagging].raft.entry(at: index) == entry)
        }
        #expect(cluster.violations.isEmpty, "\(cluster.violations)")
    }

    /// Before, every node held its full cache of applied entries for good: a node idle after a burst of writes kept
    /// `entryCacheBytes` (8 MiB in raftd) of entries nobody would read from memory again.
    @Test("entries every follower acknowledged leave the cache at once; a leader keeps only what a follower lacks")
    func acknowledgedEntriesLeaveTheCache() throws {
        let cluster = Cluster(size: 3, entryCacheBytes: 1 << 20)
        cluster.advance(until: { cluster.leader != nil })
        let leader = try #require(cluster.leader)
        for i in 0..<100 { try cluster.put("k\(i)", Self.value, on: leader) }
        cluster.stabilize()
        cluster.advance(ticks: 20)
        for id in cluster.ids {
            #expect(cluster[id].raft.cachedEntryBytes == 0, "\(id) holds \(cluster[id].raft.cachedEntryBytes) bytes")
        }

        let lagging = try #require(cluster.ids.first { $0 != leader })
        let other = try #require(cluster.ids.first { $0 != leader && $0 != lagging })
        cluster.isolate(lagging)
        let firstMissing = cluster[leader].raft.lastIndex.next
        for i in 100..<150 { try cluster.put("k\(i)", Self.value, on: leader) }
        cluster.stabilize()
        cluster.advance(ticks: 20)
        let held = cluster[leader].raft
        #expect(held.cachedFromIndex <= firstMissing && held.cachedEntryBytes >= 50 * 100, "\(held.cachedEntryBytes)")
        #expect(cluster[other].raft.cachedEntryBytes == 0, "a follower sends no entries, so keeps none")

        cluster.heal()
        let caughtUp = cluster.advance(until: {
            cluster[lagging].stateMachine.appliedIndex == cluster[leader].stateMachine.appliedIndex
                && cluster[leader].raft.cachedEntryBytes == 0
        })
        #expect(caughtUp != nil, "the leader's cache empties once the lagging follower has every entry")
        #expect(cluster.value(of: "k149", on: lagging) == Self.value)
        #expect(cluster.violations.isEmpty, "\(cluster.violations)")
    }

    @Test("a restarted node replays its log, then trims it to the cache")
    func aRestartReplaysThenTrims() throws {
        let (cluster, _, lagging) = try Self.clusterWithALaggingFollower()
        let node = try #require(cluster.ids.first { $0 != lagging && $0 != cluster.leader })
        let applied = cluster[node].stateMachine.appliedIndex
        cluster.crash(node)
        cluster.restart(node)
        cluster.advance(until: { cluster[node].stateMachine.appliedIndex >= applied })
        #expect(cluster.value(of: "k299", on: node) == Self.value)
        #expect(cluster[node].raft.cachedEntryBytes <= 2_048)
        #expect(cluster.violations.isEmpty, "\(cluster.violations)")
    }

    @Test("an entry that cannot be read back stops the leader from sending it, and says so")
    func aDamagedLogIsReportedNotSent() throws {
        let (cluster, leader, lagging) = try Self.clusterWithALaggingFollower()
        let laggingLast = cluster[lagging].raft.lastIndex
        try #require(cluster[leader].entryStorage).damaged = true
        cluster.heal()
        cluster.advance(ticks: 50)
        let failure = try #require(cluster[leader].raft.entryReadFailure)
        #expect(failure.contains("not in storage") || failure.contains("entries"))
        #expect(cluster[lagging].raft.lastIndex == laggingLast, "nothing the leader could not read reached it")
        #expect(cluster.violations.isEmpty, "\(cluster.violations)")
    }

    @Test("without an entry storage the whole log stays in memory")
    func noStorageKeepsEverything() throws {
        let cluster = Cluster(size: 1)
        cluster.advance(until: { cluster.leader != nil })
        for i in 0..<100 { try cluster.put("k\(i)", Self.value, on: NodeID(1)) }
        cluster.stabilize()
        #expect(cluster[NodeID(1)].raft.cachedFromIndex == LogIndex(1))
    }

    @Test("MemoryEntryStorage returns at least one entry and stops at the byte limit")
    func memoryStorageLimits() throws {
        let entries = (1...10).map {
            Entry(index: LogIndex(UInt64($0)), term: Term(1), data: Array(repeating: 0, count: 76))
        }
        let storage = MemoryEntryStorage(entries: entries)
        #expect(try storage.entries(from: 3, through: 10, maxBytes: 1).map(\.index) == [3])
        #expect(try storage.entries(from: 3, through: 10, maxBytes: 300).count == 3)
        #expect(try storage.entries(from: 3, through: 4, maxBytes: .max).count == 2)
        storage.compact(through: 5)
        #expect(throws: MemoryEntryStorageError.self) { try storage.entries(from: 5, through: 6, maxBytes: .max) }
        storage.append([Entry(index: 8, term: Term(2), data: [])])
        #expect(try storage.entries(from: 6, through: 8, maxBytes: .max).map(\.term) == [Term(1), Term(1), Term(2)])
        #expect(throws: MemoryEntryStorageError.self) { try storage.entries(from: 9, through: 9, maxBytes: .max) }
    }
}

/// A storage that can be made to answer one entry short: what the core must refuse to send or apply.
final class ShiftingEntryStorage: EntryStorage {
    let stored = MemoryEntryStorage()
    var dropsFirst = false

    func entries(from: LogIndex, through: LogIndex, maxBytes: Int) throws -> [Entry] {
        let read = try stored.entries(from: from, through: through, maxBytes: maxBytes)
        return dropsFirst ? Array(read.dropFirst()) : read
    }
}

@Suite struct EntryStorageAnswerTests {
    /// Node 1 leading voters 1, 2 and 3 with a 64-byte cache over `storage`, 20 entries committed (with node 2) and
    /// applied; node 3 never answered.
    static func leader(over storage: ShiftingEntryStorage) -> RaftNode {
        var node = RaftNode(
            config: ruleConfig(1, voters: [1, 2, 3]) { $0.entryCacheBytes = 64 }, entryStorage: storage)
        func drive() -> [Message] {
            var sent: [Message] = []
            while node.hasReady {
                let ready = node.ready()
                storage.stored.append(ready.persist.entries)
                sent += ready.allMessages(after: ready.persist.markDurable())
                node.advance(ready)
            }
            return sent
        }
        /// Node 2 acknowledges everything node 1 sends it, until node 1 has nothing more to say.
        func driveWithAcks() {
            var sent = drive()
            while let last = sent.compactMap({ message -> LogIndex? in
                guard message.to == NodeID(2), case .appendEntries(let a) = message.body else { return nil }
                return a.entries.last?.index ?? a.prevLogIndex
            }).max() {
                node.step(ack(2, 1, term: 1, index: last.rawValue))
                sent = drive()
            }
        }
        node.campaign()
        _ = drive()
        node.step(vote(2, 1, term: 1))
        driveWithAcks()
        for n in 0..<20 {
            _ = try? node.propose(Array("write \(n) with some bytes".utf8))
            driveWithAcks()
        }
        return node
    }

    @Test("a storage that answers other entries than asked for is caught: nothing is sent and the node says why")
    func aShortAnswerIsRefused() throws {
        let storage = ShiftingEntryStorage()
        var node = Self.leader(over: storage)
        #expect(node.lastIndex == LogIndex(21) && node.commitIndex == LogIndex(21))
        #expect(node.cachedFromIndex > LogIndex(15), "the cache starts at \(node.cachedFromIndex)")

        storage.dropsFirst = true
        #expect(node.entry(at: 2) == nil, "an entry read back as another one is not handed out")
        storage.dropsFirst = false
        #expect(node.entry(at: 2)?.index == LogIndex(2))
        storage.dropsFirst = true
        // Node 3 answers the leader's probe at last: its log is empty, so it needs everything from index 1, which
        // only storage holds.
        node.step(
            message(3, 1, 1, .appendEntriesResponse(AppendEntriesResponse(index: 0, success: false, conflictIndex: 1))))
        var sent: [Message] = []
        while node.hasReady {
            let ready = node.ready()
            sent += ready.allMessages(after: ready.persist.markDurable())
            node.advance(ready)
        }
        let failure = try #require(node.entryReadFailure)
        #expect(failure.contains("storage answered entries 1"), "\(failure)")
        #expect(
            !sent.contains { message in
                if case .appendEntries(let a) = message.body { return !a.entries.isEmpty }
                return false
            })
    }
}
