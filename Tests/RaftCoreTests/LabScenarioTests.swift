import RaftCore
import RaftTestKit
import Testing

/// Scenarios modelled on the MIT 6.824 Raft lab tests (2A election, 2B agreement, 2C persistence), run on the
/// in-memory ``Cluster`` through ``Lab``. Every scenario uses fixed seeds and ends by asserting that the
/// ``SafetyChecker`` saw no violation. Times are in ticks: the default election timeout is 15–30 ticks.
@Suite struct LabScenarioTests {
    // MARK: - 2A: leader election

    @Test(arguments: [1, 2, 3] as [UInt64])
    func initialElectionChoosesOneLeaderAndTheTermStaysPutWhileNothingFails(seed: UInt64) {
        let lab = Lab(servers: 3, seed: seed)
        let leader = lab.checkOneLeader(maxTicks: 100)
        #expect(leader != nil)
        let term = lab.agreedTerm()
        #expect(term != nil && term! >= Term(1))

        lab.advance(ticks: 200)
        #expect(lab.agreedTerm() == term, "the term changed although nothing failed")
        #expect(lab.checkOneLeader() == leader)
        lab.expectSafe()
    }

    @Test func aNewLeaderIsElectedWhenTheLeaderFailsAndTheOldOneRejoinsWithoutDisruption() throws {
        let lab = Lab(servers: 3, seed: 11)
        let leader1 = try #require(lab.checkOneLeader())

        lab.disconnect(leader1)
        let leader2 = try #require(lab.checkOneLeader())
        #expect(leader2 != leader1)
        let term2 = lab.cluster[leader2].raft.currentTerm

        // The old leader rejoins: it becomes a follower and does not force a new election.
        lab.connect(leader1)
        lab.advance(ticks: 100)
        #expect(lab.checkOneLeader() == leader2)
        #expect(lab.agreedTerm() == term2)
        #expect(lab.cluster.leaders == [leader2])

        // No quorum: no leader.
        let other = lab.ids.first { $0 != leader2 && $0 != leader1 }!
        lab.disconnect(leader2)
        lab.disconnect(other)
        lab.advance(ticks: 100)
        lab.checkNoLeader()
        #expect(lab.cluster.leaders.isEmpty, "a leader without a majority: \(lab.cluster.leaders)")

        // A quorum again: a leader.
        lab.connect(other)
        #expect(lab.checkOneLeader() != nil)
        lab.connect(leader2)
        #expect(lab.checkOneLeader() != nil)
        lab.advance(ticks: 60)
        #expect(lab.cluster.leaders.count == 1)
        lab.expectSafe()
    }

    @Test func noLeaderIsElectedWithoutAMajorityAndOneIsOnceItReturns() throws {
        let lab = Lab(servers: 3, seed: 21)
        let leader = try #require(lab.checkOneLeader())
        let followers = lab.ids.filter { $0 != leader }
        lab.disconnect(followers[0])
        lab.disconnect(followers[1])
        lab.advance(ticks: 100)
        #expect(lab.cluster.leaders.isEmpty, "leaders without a majority: \(lab.cluster.leaders)")

        lab.connect(followers[0])
        lab.connect(followers[1])
        #expect(lab.checkOneLeader(maxTicks: 100) != nil)
        lab.expectSafe()
    }

    @Test func manyElectionsInSevenNodesNeverYieldTwoLeadersInATermAndAlwaysOneWithAMajority() {
        let lab = Lab(servers: 7, seed: 31)
        lab.checkOneLeader()
        for _ in 0..<10 {
            var victims: Set<NodeID> = []
            while victims.count < 3 { victims.insert(lab.randomID()) }
            for id in victims { lab.disconnect(id) }
            // Four of seven remain connected: a majority, so they must have (or elect) a leader.
            #expect(lab.checkOneLeader() != nil)
            for id in victims { lab.connect(id) }
        }
        #expect(lab.checkOneLeader() != nil)
        lab.expectSafe()
    }

    // MARK: - 2B: agreement

    @Test func basicAgreementCommitsEachCommandOnEveryNodeAtTheNextIndex() throws {
        let lab = Lab(servers: 5, seed: 41)
        let leader = try #require(lab.checkOneLeader())
        for n in 1...3 {
            let expected = lab.cluster[leader].raft.lastIndex.next
            #expect(lab.nCommitted(expected).0 == 0, "committed before the proposal")
            let index = lab.one(command("basic \(n)"), expectedServers: 5, retry: false)
            #expect(index == expected)
        }
        lab.expectSafe()
    }

    @Test func agreementContinuesDespiteADisconnectedFollower() throws {
        let lab = Lab(servers: 3, seed: 51)
        lab.one(command("101"), expectedServers: 3)
        let leader = try #require(lab.checkOneLeader())
        let follower = lab.ids.first { $0 != leader }!
        lab.disconnect(follower)
        let i102 = try #require(lab.one(command("102"), expectedServers: 2, retry: false))
        lab.one(command("103"), expectedServers: 2, retry: false)
        lab.advance(ticks: 40)
        lab.one(command("104"), expectedServers: 2, retry: false)
        lab.one(command("105"), expectedServers: 2, retry: false)
        #expect(lab.cluster[follower].stateMachine.appliedIndex < i102)

        lab.connect(follower)
        let i106 = try #require(lab.one(command("106"), expectedServers: 3))
        lab.one(command("107"), expectedServers: 3)
        // Applied in order: the rejoined follower has everything before 106.
        for text in ["102", "103", "104", "105"] {
            #expect(lab.cluster.appliedCount(command(text)) == 3, "\(text)")
        }
        #expect(lab.cluster[follower].stateMachine.appliedIndex >= i106)
        lab.expectSafe()
    }

    @Test func noAgreementWithoutAMajorityAndAgreementAfterReconnection() throws {
        let lab = Lab(servers: 5, seed: 61)
        lab.one(command("10"), expectedServers: 5)
        let leader = try #require(lab.checkOneLeader())
        let followers = lab.ids.filter { $0 != leader }
        for id in followers.prefix(3) { lab.disconnect(id) }

        let outcome = try lab.cluster.propose(command("20"), on: leader)
        guard case .appended(let index, _)? = outcome else {
            Issue.record("leader did not append: \(String(describing: outcome))")
            return
        }
        #expect(index == LogIndex(3))
        lab.advance(ticks: 60)
        #expect(lab.nCommitted(index).0 == 0, "committed without a majority")
        #expect(lab.cluster.appliedCount(command("20")) == 0)

        for id in followers.prefix(3) { lab.connect(id) }
        let leader2 = try #require(lab.checkOneLeader())
        let outcome2 = try lab.cluster.propose(command("30"), on: leader2)
        guard case .appended(let index2, _)? = outcome2 else {
            Issue.record("new leader did not append")
            return
        }
        // Either the old leader won again (its entry 20 at 3, a noop at 4) or another node did (its noop at 3
        // replaced the uncommitted 20).
        #expect((LogIndex(4)...LogIndex(5)).contains(index2))
        lab.one(command("1000"), expectedServers: 5)
        #expect(lab.cluster.appliedCount(command("30")) == 5)
        expectAppliedLogsAgree(lab)
        lab.expectSafe()
    }

    @Test func concurrentProposalsAreAllCommittedExactlyOnceInOneOrderEverywhere() throws {
        let lab = Lab(servers: 3, seed: 71)
        let leader = try #require(lab.checkOneLeader())
        var commands: [[UInt8]] = []
        // All in one tick: on the leader directly and through both followers.
        for n in 0..<30 {
            let target = lab.ids[n % 3]
            let text = command("concurrent \(n) via \(target)")
            commands.append(text)
            _ = try lab.cluster.propose(text, on: target)
        }
        lab.settle()
        let last = lab.cluster[leader].raft.lastIndex
        #expect(lab.waitApplied(through: last))
        let reference = appliedCommands(lab, lab.ids[0])
        for id in lab.ids {
            let applied = appliedCommands(lab, id)
            #expect(applied == reference, "\(id) applied another order")
            for text in commands {
                #expect(applied.filter { $0 == text }.count == 1, "\(String(decoding: text, as: UTF8.self))")
            }
        }
        lab.expectSafe()
    }

    @Test func aPartitionedLeaderRejoinsAndItsUncommittedEntriesAreDiscarded() throws {
        let lab = Lab(servers: 3, seed: 81)
        lab.one(command("101"), expectedServers: 3)
        let leader1 = try #require(lab.checkOneLeader())
        lab.disconnect(leader1)
        for text in ["stale 102", "stale 103", "stale 104"] {
            _ = try lab.cluster.propose(command(text), on: leader1)
        }
        lab.one(command("103"), expectedServers: 2)
        let leader2 = try #require(lab.checkOneLeader())

        lab.disconnect(leader2)
        lab.connect(leader1)
        lab.one(command("104"), expectedServers: 2)
        lab.connect(leader2)
        lab.one(command("105"), expectedServers: 3)

        for text in ["stale 102", "stale 103", "stale 104"] {
            #expect(lab.cluster.appliedCount(command(text)) == 0, "\(text) was committed")
            for id in lab.ids {
                let log = (1...lab.cluster[id].raft.lastIndex.rawValue).compactMap {
                    lab.cluster[id].raft.entry(at: LogIndex($0))
                }
                #expect(!log.contains { $0.data == command(text) }, "\(id) still holds \(text)")
            }
        }
        expectAppliedLogsAgree(lab)
        lab.expectSafe()
    }

    @Test func aLeaderBacksUpOverManyConflictingEntriesInAFewRoundTripsPerTerm() throws {
        let lab = Lab(servers: 5, seed: 91)
        lab.one(command("start"), expectedServers: 5)
        let leader1 = try #require(lab.checkOneLeader())
        let position = lab.ids.firstIndex(of: leader1)!
        func peer(_ offset: Int) -> NodeID { lab.ids[(position + offset) % 5] }

        // The leader and one follower in a minority: 50 entries that never commit.
        for offset in 2...4 { lab.disconnect(peer(offset)) }
        for n in 0..<50 { _ = try lab.cluster.propose(command("lost A\(n)"), on: leader1) }
        lab.advance(ticks: 3)
        lab.disconnect(leader1)
        lab.disconnect(peer(1))
        for offset in 2...4 { lab.connect(peer(offset)) }

        // The majority side commits 50 entries of a newer term.
        for n in 0..<50 { lab.one(command("kept B\(n)"), expectedServers: 3) }

        // Its leader and one follower split off with 50 more entries that never commit.
        let leader2 = try #require(lab.checkOneLeader())
        let other = [peer(2), peer(3), peer(4)].first { $0 != leader2 }!
        lab.disconnect(other)
        for n in 0..<50 { _ = try lab.cluster.propose(command("lost C\(n)"), on: leader2) }
        lab.advance(ticks: 3)

        // The original pair rejoins `other`: 50 conflicting entries on each side to repair.
        var rejections: [NodeID: Int] = [:]
        lab.tap = { message in
            if case .appendEntriesResponse(let response) = message.body, !response.success {
                rejections[message.from, default: 0] += 1
            }
        }
        for id in lab.ids { lab.disconnect(id) }
        for id in [leader1, peer(1), other] { lab.connect(id) }
        for n in 0..<50 { lab.one(command("kept D\(n)"), expectedServers: 3) }

        lab.connectAll()
        lab.one(command("end"), expectedServers: 5)
        lab.tap = nil

        // Each node had to drop 50 entries of one term; backing up one entry per round trip would take 50+
        // rejections. With the conflict hint it is at most two per divergent term.
        for (node, count) in rejections {
            #expect(count <= 4, "\(node) needed \(count) rejected AppendEntries to catch up")
        }
        #expect(rejections.values.reduce(0, +) <= 12, "\(rejections)")
        for text in ["kept B0", "kept B49", "kept D0", "kept D49", "end"] {
            #expect(lab.cluster.appliedCount(command(text)) == 5, "\(text)")
        }
        #expect(lab.cluster.appliedCount(command("lost A0")) == 0)
        #expect(lab.cluster.appliedCount(command("lost C0")) == 0)
        expectAppliedLogsAgree(lab)
        lab.expectSafe()
    }

    // MARK: - 2C: persistence

    @Test func committedDataSurvivesRepeatedRestartsOfEveryNode() throws {
        let lab = Lab(servers: 3, seed: 101)
        var written: [String] = []
        for round in 0..<5 {
            let key = "k\(round)"
            written.append(key)
            lab.one(KVStateMachine.putCommand(key, "v\(round)"), expectedServers: 3)
            for id in lab.ids { lab.crash(id) }
            for id in lab.ids { lab.restart(id) }
            let leader = try #require(lab.checkOneLeader())
            #expect(lab.waitApplied(through: lab.cluster[leader].raft.commitIndex))
            for id in lab.ids {
                for key in written {
                    #expect(lab.cluster.value(of: key, on: id) == "v\(key.dropFirst())", "\(id) lost \(key)")
                }
            }
        }
        lab.one(command("after restarts"), expectedServers: 3)
        lab.expectSafe()
    }

    @Test func persistenceAcrossLeaderAndFollowerCrashes() throws {
        let lab = Lab(servers: 3, seed: 111)
        lab.one(command("11"), expectedServers: 3)
        for id in lab.ids { lab.crash(id) }
        for id in lab.ids { lab.restart(id) }
        lab.one(command("12"), expectedServers: 3)

        let leader1 = try #require(lab.checkOneLeader())
        lab.crash(leader1)
        lab.restart(leader1)
        lab.one(command("13"), expectedServers: 3)

        let leader2 = try #require(lab.checkOneLeader())
        lab.crash(leader2)
        let i14 = try #require(lab.one(command("14"), expectedServers: 2))
        lab.restart(leader2)
        #expect(lab.waitApplied(through: i14))

        let leader3 = try #require(lab.checkOneLeader())
        let follower = lab.ids.first { $0 != leader3 }!
        lab.crash(follower)
        lab.one(command("15"), expectedServers: 2)
        lab.restart(follower)
        lab.one(command("16"), expectedServers: 3)
        for text in ["11", "12", "13", "14", "15", "16"] {
            #expect(lab.cluster.appliedCount(command(text)) == 3, "\(text)")
        }
        lab.expectSafe()
    }

    @Test func persistenceWhenAMajorityCrashesAndRestartsInWaves() throws {
        let lab = Lab(servers: 5, seed: 121)
        var index = 1
        lab.one(command("x\(index)"), expectedServers: 5)
        for _ in 0..<4 {
            index += 1
            let leader1 = try #require(lab.checkOneLeader())
            let p = lab.ids.firstIndex(of: leader1)!
            func peer(_ offset: Int) -> NodeID { lab.ids[(p + offset) % 5] }
            lab.crash(peer(1))
            lab.crash(peer(2))
            lab.one(command("x\(index)"), expectedServers: 3)
            lab.crash(peer(0))
            lab.crash(peer(3))
            lab.crash(peer(4))
            lab.restart(peer(1))
            lab.restart(peer(2))
            lab.advance(ticks: 40)
            lab.restart(peer(3))
            index += 1
            lab.one(command("x\(index)"), expectedServers: 3)
            lab.restart(peer(4))
            lab.restart(peer(0))
        }
        lab.one(command("final"), expectedServers: 5)
        for n in 1...index {
            #expect(lab.cluster.appliedCount(command("x\(n)")) == 5, "x\(n)")
        }
        lab.expectSafe()
    }

    // MARK: - Figure 8 and unreliable networks

    /// The paper's Figure 8, step by step: an entry of an old term stored on a majority is not committed by
    /// a later leader counting replicas, because a node that never had it can still win and overwrite it.
    @Test func figure8AnOldTermEntryOnAMajorityIsNotCommittedAndMayBeOverwritten() throws {
        // One entry per AppendEntries, so that a leader's entries can be delivered one at a time.
        let cluster = Cluster(size: 5, seed: 7) { $0.maxMessageBytes = 1 }
        let (n1, n2, _, _, n5): (NodeID, NodeID, NodeID, NodeID, NodeID) = (1, 2, 3, 4, 5)
        func settle(dropping drop: (Message) -> Bool = { _ in false }) {
            for _ in 0..<1_000 {
                cluster.drainAll()
                cluster.drop(where: drop)
                if cluster.pending.isEmpty { return }
                cluster.deliverAll()
            }
            Issue.record("the network did not settle")
        }
        func isAppend(_ m: Message, from: NodeID, carrying index: LogIndex? = nil) -> Bool {
            guard m.from == from, case .appendEntries(let a) = m.body else { return false }
            return index.map { i in a.entries.contains { $0.index == i } } ?? true
        }

        // (a) n1 leads term 1 and replicates entry 2 to n2 only, then crashes.
        cluster.campaign(n1)
        settle()
        #expect(cluster.leader == n1)
        try cluster.propose(command("figure 8"), on: n1)
        settle { isAppend($0, from: n1) && $0.to != n2 }
        cluster.crash(n1)

        // (b) n5 wins term 2 with n3 and n4 and appends its own entry 2, which reaches nobody; it crashes.
        cluster.campaign(n5)
        settle { isAppend($0, from: n5) }
        #expect(cluster[n5].raft.currentRole == .leader)
        #expect(cluster[n5].raft.entry(at: 2)?.term == Term(2))
        cluster.crash(n5)

        // (c) n1 restarts and wins term 3 (its first try meets n3 and n4 already voted in term 2). It spreads
        // its term-1 entry 2 to a majority, but not its own term-3 entry 3.
        cluster.restart(n1)
        cluster.campaign(n1)
        settle { isAppend($0, from: n1) }
        cluster.campaign(n1)
        // (A probe carrying entry 3 may reach a node lacking entry 2: it is refused, which starts the repair.)
        settle { isAppend($0, from: n1, carrying: 3) && cluster[$0.to].raft.entry(at: 2) != nil }
        #expect(cluster[n1].raft.currentRole == .leader)
        #expect(cluster[n1].raft.currentTerm == Term(3))
        let holders = cluster.ids.filter { cluster[$0].raft.entry(at: 2)?.term == Term(1) }
        #expect(holders.count >= 3, "entry 2 of term 1 should be on a majority: \(holders)")
        #expect(cluster[n1].raft.commitIndex == LogIndex(1), "an old-term entry was committed by counting")
        #expect(cluster.appliedCount(command("figure 8")) == 0)
        cluster.crash(n1)

        // (d) n5 restarts and wins term 4 on its newer last term, replacing entry 2 everywhere.
        cluster.restart(n5)
        cluster.campaign(n5)
        settle()
        cluster.campaign(n5)
        settle()
        #expect(cluster[n5].raft.currentRole == .leader)
        cluster.restart(n1)
        cluster.advance(ticks: 20)
        for id in cluster.ids {
            #expect(cluster[id].raft.entry(at: 2)?.term == Term(2), "\(id)")
            #expect(cluster[id].raft.commitIndex >= LogIndex(3), "\(id)")
        }
        #expect(cluster.appliedCount(command("figure 8")) == 0)
        #expect(cluster.violations.isEmpty, "\(cluster.violations)")
    }

    @Test(arguments: [1, 2] as [UInt64])
    func figure8CrashingLeadersNeverCommitAnOldTermEntryThatIsLaterOverwritten(seed: UInt64) {
        let lab = Lab(servers: 5, seed: 131 &+ seed)
        lab.one(command("f8 start"), expectedServers: 1)
        var up = 5
        for n in 0..<150 {
            let leader = lab.ids.first { lab.isRunning($0) && lab.cluster[$0].raft.currentRole == .leader }
            if let leader { _ = try? lab.cluster.propose(command("f8 \(n)"), on: leader) }
            // Mostly short pauses (an entry reaches some followers), sometimes long ones (an election).
            lab.advance(ticks: lab.random(100) < 10 ? lab.random(45) : lab.random(3))
            if let leader, lab.isRunning(leader) {
                lab.crash(leader)
                up -= 1
            }
            if up < 3 {
                let down = lab.ids.filter { !lab.isRunning($0) }
                lab.restart(down[lab.random(down.count)])
                up += 1
            }
        }
        for id in lab.ids where !lab.isRunning(id) { lab.restart(id) }
        lab.one(command("f8 end"), expectedServers: 5)
        expectAppliedLogsAgree(lab)
        lab.expectSafe()
    }

    @Test func figure8UnreliableKeepsSafetyAndAgreesOnceHealed() {
        let lab = Lab(servers: 5, seed: 141, unreliable: true)
        lab.one(command("f8u start"), expectedServers: 1)
        var up = 5
        for n in 0..<200 {
            if n == 150 { lab.delayPercent = 50 }  // long reordering near the end, as in the lab
            let leader = lab.connected.first { lab.cluster[$0].raft.currentRole == .leader }
            if let leader { _ = try? lab.cluster.propose(command("f8u \(n)"), on: leader) }
            lab.advance(ticks: lab.random(100) < 10 ? lab.random(45) : lab.random(3))
            if let leader, lab.random(1000) < 250 {
                lab.disconnect(leader)
                up -= 1
            }
            if up < 3 {
                let down = Array(lab.disconnected)
                lab.connect(down[lab.random(down.count)])
                up += 1
            }
        }
        lab.connectAll()
        lab.one(command("f8u end"), expectedServers: 5, maxTicks: 3_000)
        expectAppliedLogsAgree(lab)
        lab.expectSafe()
    }

    @Test func commandsCommitEverywhereOverALossyDuplicatingReorderingNetwork() {
        let lab = Lab(servers: 5, seed: 151, unreliable: true)
        var committed: [[UInt8]] = []
        for n in 0..<20 {
            // Fire-and-forget proposals through random nodes, plus one that must reach agreement.
            for j in 0..<3 { _ = try? lab.cluster.propose(command("u \(n)-\(j)"), on: lab.randomID()) }
            let text = command("u \(n)")
            if lab.one(text, expectedServers: 1) != nil { committed.append(text) }
        }
        lab.unreliable = false
        lab.one(command("u end"), expectedServers: 5)
        #expect(committed.count == 20)
        for text in committed {
            #expect(lab.cluster.appliedCount(text) == 5, "\(String(decoding: text, as: UTF8.self))")
        }
        expectAppliedLogsAgree(lab)
        lab.expectSafe()
    }

    @Test(arguments: [false, true])
    func churnOfCrashesRestartsAndPartitionsUnderLoadLosesNothingCommitted(unreliable: Bool) throws {
        let lab = Lab(servers: 5, seed: unreliable ? 171 : 161, unreliable: unreliable)
        var proposed = 0
        // As in the lab: each round, independently, a disconnection (20%), a restart and reconnection (50%)
        // and a crash (20%), spaced so that the cluster often, but not always, settles in between.
        for _ in 0..<60 {
            churnRound(lab, keyPrefix: "c", proposed: &proposed)
        }
        // Everything any node applied so far was committed and must survive the faults.
        var committed: Set<String> = []
        for id in lab.ids {
            for entry in lab.cluster[id].stateMachine.appliedEntries.values where entry.kind == .command {
                committed.insert(String(decoding: entry.data, as: UTF8.self))
            }
        }
        #expect(committed.count > 20, "too little committed under churn: \(committed.count)")

        lab.unreliable = false
        lab.connectAll()
        for id in lab.ids where !lab.isRunning(id) { lab.restart(id) }
        let leader = try #require(lab.checkOneLeader())
        lab.one(command("after churn"), expectedServers: 5)
        #expect(lab.waitApplied(through: lab.cluster[leader].raft.commitIndex))
        for text in committed {
            #expect(lab.cluster.appliedCount(command(text)) == 5, "\(text) was lost")
            let parts = text.split(separator: " ")
            for id in lab.ids {
                #expect(lab.cluster.value(of: String(parts[1]), on: id) == String(parts[2]))
            }
        }
        expectAppliedLogsAgree(lab)
        lab.expectSafe()
    }
}

extension LabScenarioTests {
    /// The churn scenario with every node snapshotting and compacting every few entries, so that lagging and
    /// restarted nodes are repaired by InstallSnapshot under the same faults. Checked through the key-value
    /// state, which a snapshot carries, rather than through individually applied entries.
    @Test(arguments: [false, true])
    func churnWithFrequentSnapshotsLosesNoCommittedWrite(unreliable: Bool) throws {
        let lab = Lab(servers: 5, seed: unreliable ? 191 : 181, unreliable: unreliable, snapshotEveryEntries: 7)
        var proposed = 0
        var committed: [String: String] = [:]
        for _ in 0..<60 {
            churnRound(lab, keyPrefix: "s", proposed: &proposed)
            for id in lab.ids { committed.merge(lab.cluster[id].stateMachine.values) { a, _ in a } }
        }
        #expect(committed.count > 20, "too little committed under churn: \(committed.count)")

        lab.unreliable = false
        lab.connectAll()
        for id in lab.ids where !lab.isRunning(id) { lab.restart(id) }
        // Nodes repaired by a snapshot never apply the entry itself: one applier is enough for `one`.
        let index = try #require(lab.one(KVStateMachine.putCommand("final", "yes"), expectedServers: 1))
        #expect(lab.waitApplied(through: index))
        for id in lab.ids {
            let values = lab.cluster[id].stateMachine.values
            #expect(values["final"] == "yes", "\(id)")
            for (key, value) in committed where values[key] != value {
                Issue.record("\(id) lost \(key)=\(value): has \(values[key] ?? "nothing")")
            }
        }
        #expect(lab.ids.contains { lab.cluster[$0].raft.status.snapshotIndex > .zero }, "no snapshot was taken")
        lab.expectSafe()
    }
}

/// The commands a node applied, in log order (noops left out).
private func appliedCommands(_ lab: Lab, _ id: NodeID) -> [[UInt8]] {
    let entries = lab.cluster[id].stateMachine.appliedEntries
    return entries.keys.sorted().compactMap { entries[$0]!.kind == .command ? entries[$0]!.data : nil }
}

/// Every pair of nodes applied the same entry at every index both applied.
private func expectAppliedLogsAgree(_ lab: Lab, sourceLocation: SourceLocation = #_sourceLocation) {
    let logs = lab.ids.map { lab.cluster[$0].stateMachine.appliedEntries }
    for (n, log) in logs.enumerated() {
        for (index, entry) in log {
            for other in logs[(n + 1)...] {
                if let theirs = other[index], theirs != entry {
                    Issue.record("\(entry) and \(theirs) applied at \(index)", sourceLocation: sourceLocation)
                }
            }
        }
    }
}

/// One round of the lab's churn: ten ticks of proposals on random running nodes, then independently a
/// disconnection (20%), a restart and reconnection (50%) and a crash (20%).
private func churnRound(_ lab: Lab, keyPrefix: String, proposed: inout Int) {
    for _ in 0..<10 {
        let id = lab.randomID()
        if lab.isRunning(id) {
            _ = try? lab.cluster.propose(KVStateMachine.putCommand("\(keyPrefix)\(proposed)", "\(proposed)"), on: id)
            proposed += 1
        }
        lab.advance(ticks: 1)
    }
    if lab.random(1000) < 200 { lab.disconnect(lab.randomID()) }
    if lab.random(1000) < 500 {
        let id = lab.randomID()
        if !lab.isRunning(id) { lab.restart(id) }
        lab.connect(id)
    }
    if lab.random(1000) < 200 {
        let id = lab.randomID()
        if lab.isRunning(id) { lab.crash(id) }
    }
}
