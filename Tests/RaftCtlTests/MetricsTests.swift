import Foundation
import RaftClient
import RaftCtlKit
import Testing

extension RaftctlEndToEndTests {
    /// Every metric raftd(8) documents, as the issue and etcd's dashboards name them.
    static let documentedMetrics = [
        "raft_has_leader", "raft_is_leader", "raft_term", "raft_leader_changes_seen_total", "raft_commit_index",
        "raft_applied_index", "raft_proposals_committed_total", "raft_proposals_failed_total",
        "raft_proposals_pending", "raft_wal_fsync_duration_seconds", "raft_apply_duration_seconds",
        "raft_read_index_duration_seconds", "raft_snapshot_duration_seconds", "raft_peer_round_trip_time_seconds",
        "raft_peer_sent_bytes_total", "raft_peer_received_bytes_total", "raft_peer_sent_failures_total",
        "raft_http_requests_total", "raft_slow_apply_total", "process_resident_memory_bytes",
        "process_virtual_memory_bytes", "process_open_fds", "process_max_fds", "process_cpu_seconds_total",
        "process_start_time_seconds",
    ]

    /// One node's `GET /metrics`, parsed by the strict exposition-format parser.
    func scrape(_ cluster: TestCluster, _ id: String) throws -> PrometheusText {
        let node = try #require(try cluster.status().node(id))
        let port = try #require(Int(node.clientURL.split(separator: ":").last ?? ""))
        let response = try #require(
            HTTPClient.request(
                method: "GET", host: "127.0.0.1", port: port, path: "/metrics", timeoutMilliseconds: 5_000),
            "no answer from \(id)'s /metrics")
        #expect(response.status == 200)
        #expect(response.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        return try PrometheusText(parsing: response.text)
    }

    @Test(
        "GET /metrics: Prometheus text with every documented metric; across a leader kill the survivors count one leader change and have a leader again"
    )
    func metricsAcrossALeaderKill() throws {
        try withCluster { cluster in
            let before = try cluster.settledLeader()
            let leader = try #require(before.leader)
            for n in 0..<5 { try cluster.ok("put", "m\(n)", "v\(n)") }
            #expect(try cluster.ok("get", "m0").stdout.trimmed == "v0")

            let onLeader = try scrape(cluster, leader)
            for name in Self.documentedMetrics {
                #expect(onLeader.family(name) != nil, "\(name) missing from /metrics")
                #expect(onLeader.family(name)?.help?.isEmpty == false, "\(name) has no HELP line")
            }
            let manual = try String(
                contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                    .deletingLastPathComponent().appendingPathComponent("man/raftd.8"), encoding: .utf8)
            for family in onLeader.families {
                #expect(manual.contains(family.name), "raftd(8) does not document \(family.name)")
            }
            #expect(onLeader.value("raft_is_leader") == 1 && onLeader.value("raft_has_leader") == 1)
            #expect(onLeader.value("raft_term") == Double(before.term ?? 0))
            #expect((onLeader.value("raft_proposals_committed_total") ?? 0) >= 5)
            #expect((onLeader.value("raft_commit_index") ?? 0) >= 6)
            #expect((onLeader.value("raft_wal_fsync_duration_seconds_count") ?? 0) >= 5)
            #expect((onLeader.value("raft_apply_duration_seconds_count") ?? 0) >= 5)
            #expect((onLeader.value("process_resident_memory_bytes") ?? 0) > 1_000_000)
            #expect((onLeader.value("process_open_fds") ?? 0) > 3)

            let survivors = before.nodes.map(\.id).filter { $0 != leader }
            var changesBefore: [String: Double] = [:]
            for id in survivors {
                let metrics = try scrape(cluster, id)
                changesBefore[id] = try #require(metrics.value("raft_leader_changes_seen_total"))
                #expect(metrics.value("raft_is_leader") == 0 && metrics.value("raft_has_leader") == 1)
                // Probes run twice a second: each peer's round trip is measured within a few seconds.
                try cluster.waitFor("round trips from \(id) to its peers") {
                    let now = try scrape(cluster, id)
                    return before.nodes.map(\.id).filter { $0 != id }.allSatisfy {
                        (now.value("raft_peer_round_trip_time_seconds_count", ["peer": $0]) ?? 0) > 0
                            && (now.value("raft_peer_sent_bytes_total", ["peer": $0]) ?? 0) > 0
                            && (now.value("raft_peer_received_bytes_total", ["peer": $0]) ?? 0) > 0
                    } ? true : nil
                }
            }

            try cluster.ok("kill", leader)
            let after = try cluster.waitForStatus("a new leader among the survivors") { status in
                status.leader != nil && status.leader != leader
                    && survivors.allSatisfy { status.node($0)?.leader == status.leader }
            }
            let newLeader = try #require(after.leader)
            for id in survivors {
                let metrics = try cluster.waitFor("\(id) has a leader again in its metrics") {
                    let metrics = try scrape(cluster, id)
                    return metrics.value("raft_has_leader") == 1 ? metrics : nil
                }
                #expect(
                    metrics.value("raft_leader_changes_seen_total") == changesBefore[id]! + 1,
                    "\(id) counted \(metrics.value("raft_leader_changes_seen_total") ?? -1) leader changes, was \(changesBefore[id]!)"
                )
                #expect(metrics.value("raft_is_leader") == (id == newLeader ? 1 : 0))
                #expect((metrics.value("raft_term") ?? 0) > Double(before.term ?? 0))
                #expect((metrics.value("raft_http_requests_total", ["method": "GET", "code": "200"]) ?? 0) >= 1)
            }
        }
    }

    @Test(
        "slow apply: a follower whose applies stall past --slow-apply-warning logs slow-apply events and counts them; writes go on"
    )
    func slowApplyIsReported() throws {
        try withCluster { cluster in
            let status = try cluster.settledLeader()
            let leader = try #require(status.leader)
            let follower = try #require(status.nodes.map(\.id).first { $0 != leader })
            try cluster.ok("failpoint", follower, "during-apply", "pause:150ms")
            for n in 0..<3 { try cluster.ok("put", "slow-apply-\(n)", "v") }
            try cluster.waitFor("a slow-apply event from \(follower)") {
                let events = try cluster.ok("events", follower).stdout
                return events.contains("slow-apply") ? events : nil
            }
            let line = try #require(
                cluster.tail("\(cluster.directory)/\(follower)/raftd.log", lines: 10_000).split(separator: "\n")
                    .first { $0.contains("slow-apply") })
            #expect(line.contains("over the 100ms warning threshold"), "\(line)")
            try cluster.ok("failpoint", follower, "during-apply", "off")
            let metrics = try cluster.waitFor("\(follower) caught up and answering") {
                let metrics = try scrape(cluster, follower)
                return (metrics.value("raft_applied_index") ?? 0) >= Double(status.node(leader)?.commitIndex ?? 0) + 3
                    ? metrics : nil
            }
            #expect((metrics.value("raft_slow_apply_total") ?? 0) >= 1)
            let buckets = metrics.buckets("raft_apply_duration_seconds")
            let fast = try #require(buckets.first { $0.bound >= 0.1 })
            #expect(try #require(buckets.last).count > fast.count, "an apply over 100 ms is in the histogram")
        }
    }
}
