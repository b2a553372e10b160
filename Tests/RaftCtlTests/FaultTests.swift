import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The `cuts:` line of the status table, as the set of `FROM->TO` links it lists.
func cuts(in table: String) -> Set<String> {
    guard let line = table.split(separator: "\n").last(where: { $0.hasPrefix("cuts: ") }) else { return ["<none>"] }
    let items = line.dropFirst("cuts: ".count).split(separator: " ").map(String.init)
    return items == ["none"] ? [] : Set(items)
}

/// Both directions of every link between `a` and each of `others`.
func bothWays(_ a: String, _ others: [String]) -> Set<String> {
    Set(others.flatMap { ["\(a)->\($0)", "\($0)->\(a)"] })
}

extension RaftctlEndToEndTests {
    @Test(
        "partitioned-off leader is replaced by the majority; heal leaves one leader, no cuts, all caught up")
    func partitionAndHeal() throws {
        try withCluster { cluster in
            let initial = try cluster.settledLeader()
            let old = try #require(initial.leader)
            let majority = initial.nodes.map(\.id).filter { $0 != old }

            let partition = try cluster.ok("partition", old, majority.joined(separator: ","))
            #expect(partition.stdout == "partitioned: \(old) | \(majority.joined(separator: ","))\n", "\(partition)")
            let split = try cluster.waitForStatus("a new leader among \(majority)") { status in
                guard let leader = status.leader, majority.contains(leader) else { return false }
                return majority.allSatisfy { status.node($0)?.leader == leader }
            }
            #expect(split.node(old)?.blockedOut.sorted() == majority)
            #expect(split.node(old)?.blockedIn.sorted() == majority)
            let table = try cluster.ok("status").stdout
            #expect(cuts(in: table) == bothWays(old, majority), "status table:\n\(table)")

            // A write the isolated old leader cannot see until the heal.
            let put = try cluster.ok("put", "during", "partition")
            let index = try #require(
                put.stdout.split(separator: " ").dropFirst(2).first.flatMap { UInt64($0.dropLast()) },
                "\(put)")

            #expect(try cluster.ok("heal").stdout == "healed\n")
            let healed = try cluster.waitForStatus("one leader, no cuts, \(old) caught up", timeout: .seconds(15)) {
                status in
                guard status.hasSettledLeader, let leader = status.leader,
                    let applied = status.node(leader)?.appliedIndex, applied >= index
                else { return false }
                return status.nodes.allSatisfy { $0.blockedIn.isEmpty && $0.blockedOut.isEmpty }
                    && status.node(old)?.appliedIndex == applied
            }
            #expect(healed.nodes.filter { $0.role == "leader" }.count == 1)
            #expect(cuts(in: try cluster.ok("status").stdout) == [])
            #expect(try cluster.ok("get", "during").stdout == "partition\n")
        }
    }

    @Test("block cuts one direction only and isolate cuts a node off both ways; status shows exactly those cuts")
    func blockAndIsolateShowInStatus() throws {
        try withCluster { cluster in
            try cluster.settledLeader()
            #expect(try cluster.ok("block", "n1", "n2").stdout == "blocked n1 -> n2\n")
            let blocked = try cluster.status()
            #expect(blocked.node("n1")?.blockedOut == ["n2"])
            #expect(blocked.node("n2")?.blockedIn == ["n1"])
            #expect(blocked.node("n1")?.blockedIn == [] && blocked.node("n2")?.blockedOut == [])
            #expect(blocked.node("n3")?.blockedIn == [] && blocked.node("n3")?.blockedOut == [])
            let table = try cluster.ok("status").stdout
            #expect(cuts(in: table) == ["n1->n2"], "status table:\n\(table)")

            // isolate replaces earlier cuts.
            #expect(try cluster.ok("isolate", "n3").stdout == "partitioned: n3 | n1,n2\n")
            let isolated = try cluster.ok("status").stdout
            #expect(cuts(in: isolated) == bothWays("n3", ["n1", "n2"]), "status table:\n\(isolated)")
            try cluster.waitForStatus("a leader in the majority n1,n2") { status in
                status.leader == "n1" || status.leader == "n2"
            }
            // The majority still serves writes while n3 is cut off.
            try cluster.ok("put", "isolated", "n3")

            try cluster.ok("heal")
            #expect(cuts(in: try cluster.ok("status").stdout) == [])
            try cluster.settledLeader(timeout: .seconds(15))
        }
    }

    @Test("campaign and transfer-leader each make the named node the leader; snapshot reports the index it covers")
    func campaignTransferAndSnapshot() throws {
        try withCluster { cluster in
            let initial = try cluster.settledLeader()
            let followers = initial.nodes.map(\.id).filter { $0 != initial.leader }
            let candidate = followers[0]
            #expect(try cluster.ok("campaign", candidate).stdout == "\(candidate) is campaigning\n")
            let afterCampaign = try cluster.waitForStatus("\(candidate) to lead after campaigning") {
                $0.hasSettledLeader && $0.leader == candidate
            }
            #expect((afterCampaign.term ?? 0) > (initial.term ?? 0), "a campaign starts a new term")

            let target = followers[1]
            let transfer = try cluster.ok("transfer-leader", target)
            #expect(transfer.stdout == "\(target) is the leader\n", "\(transfer)")
            #expect(try cluster.status().leader == target)
            #expect(try cluster.ok("leader").stdout == "\(target)\n")
            let again = try cluster.ok("transfer-leader", target)
            #expect(again.stdout == "\(target) is already the leader\n", "\(again)")

            let put = try cluster.ok("put", "snap", "shot")
            let index = try #require(
                put.stdout.split(separator: " ").dropFirst(2).first.flatMap { UInt64($0.dropLast()) },
                "\(put)")
            let snapshot = try cluster.ok("snapshot", target)
            let prefix = "\(target) snapshot at index "
            #expect(snapshot.stdout.hasPrefix(prefix), "\(snapshot)")
            let covered = UInt64(String(snapshot.stdout.dropFirst(prefix.count)).trimmed)
            #expect(covered != nil && covered! >= index, "snapshot at \(String(describing: covered)), put at \(index)")
            // The compacted node still serves the data.
            #expect(try cluster.ok("get", "snap").stdout == "shot\n")
        }
    }

    @Test("without a majority the survivor steps down: leader --wait and put fail with exit 1 in bounded time")
    func noQuorumFailsCleanly() throws {
        try withCluster { cluster in
            let initial = try cluster.settledLeader()
            let leader = try #require(initial.leader)
            let followers = initial.nodes.map(\.id).filter { $0 != leader }
            for id in followers { try cluster.ok("kill", id) }
            // Check-quorum: a leader that cannot reach a majority within an election timeout stops leading.
            try cluster.waitForStatus("\(leader) to stop leading without a majority") {
                $0.leader == nil && $0.node(leader)?.process == "running"
            }
            // `ctl` fails the test if the command outlives its own timeout: `--wait` must give up by itself.
            let noLeader = try cluster.ctl("leader", "--wait", "500ms")
            expectFailure(noLeader, status: 1, "no leader within 500ms")

            let write = try cluster.ctl("put", "lost", "majority", timeout: .seconds(25))
            expectFailure(write, status: 1, "did not complete")
            #expect(write.stdout.isEmpty, "a write without a majority claimed success: \(write)")

            for id in followers { try cluster.ok("start", id) }
            try cluster.settledLeader(timeout: .seconds(15))
            #expect(writtenIndex(try cluster.ok("put", "back", "again")) != nil)
        }
    }

    @Test("with a node paused, heal still heals every other node and names the paused one; events skips it")
    func faultCommandsWithAPausedNode() throws {
        try withCluster { cluster in
            try cluster.settledLeader()
            try cluster.ok("isolate", "n3")
            try cluster.ok("pause", "n1")

            let heal = try cluster.ctl("heal")
            expectFailure(heal, status: 1, "n1")
            let partly = try cluster.status()
            for id in ["n2", "n3"] {
                #expect(
                    partly.node(id)?.blockedIn == [] && partly.node(id)?.blockedOut == [],
                    "a paused n1 kept heal from reaching \(id):\n\(cluster.diagnostics())")
            }

            // Events of the nodes that answer, not a failure because one node is frozen.
            let events = try cluster.ok("events")
            let nodes = Set(events.lines.map { String($0.split(separator: " ")[1]) })
            #expect(nodes == ["n2", "n3"], "\(events)")

            try cluster.ok("resume", "n1")
            try cluster.ok("heal")
            let healed = try cluster.settledLeader(timeout: .seconds(15))
            #expect(healed.nodes.allSatisfy { $0.blockedIn.isEmpty && $0.blockedOut.isEmpty })
            #expect(cuts(in: try cluster.ok("status").stdout) == [])
        }
    }
}
