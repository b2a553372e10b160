/// `raftctl top`'s frame, drawn from two readings (rates and percentiles are over the time between them).
///
/// Per node: process state, role, term, leader, commit/applied/last index, LAG (the leader's commit index minus
/// this node's applied index), writes and linearizable reads per second (client writes it answered:
/// `raft_proposals_committed_total`; reads it served: `raft_read_index_duration_seconds_count`), the p99 of its
/// syncs (`raft_wal_fsync_duration_seconds`) over the interval, the slowest last round trip to a peer, and whether
/// it is taking a snapshot. Under the table: the cuts, the warnings `status` prints (alarms, paused or crashed
/// nodes, cuts), slowed disks, and the newest events.
struct TopScreen {
    var clusterPath: String
    var color: Bool
    var columns: Int
    /// Drawn full screen (with the hint how to leave), or printed as plain frames.
    var fullScreen = true

    func render(_ now: TopReading, since before: TopReading?, clock: String) -> String {
        let leader = now.nodes.filter { $0.status?.role == "leader" }.max {
            ($0.status?.term ?? 0) < ($1.status?.term ?? 0)
        }
        let leaderCommit = leader?.status?.commitIndex
        let seconds = before.map { Double(now.taken - $0.taken) / 1_000 } ?? 0
        var lines: [String] = []
        var head = "raftctl top  \(clusterPath)  \(clock)  "
        if let leader, let status = leader.status {
            head += "leader \(leader.id), term \(status.term)"
        } else {
            head += paint("no leader", "33")
        }
        lines.append(head)
        var totalWrites = 0.0
        var totalReads = 0.0
        var rows: [[Cell]] = [
            [
                "NODE", "PROCESS", "ROLE", "TERM", "LEADER", "COMMIT", "APPLIED", "LAST", "LAG", "WRITES/s", "READS/s",
                "FSYNC p99", "RTT max", "SNAPSHOT",
            ].map { Cell($0) }
        ]
        for node in now.nodes {
            let previous = before?.nodes.first { $0.id == node.id }
            let status = node.status
            func rate(_ name: String) -> Double? {
                guard seconds > 0, let current = node.metrics?.value(name), let earlier = previous?.metrics?.value(name)
                else { return nil }
                return max(0, current - earlier) / seconds
            }
            let writes = rate("raft_proposals_committed_total")
            let reads = rate("raft_read_index_duration_seconds_count")
            totalWrites += writes ?? 0
            totalReads += reads ?? 0
            var fsync: Double?
            if let metrics = node.metrics {
                fsync = PrometheusText.quantile(
                    0.99, of: metrics.buckets("raft_wal_fsync_duration_seconds"),
                    since: previous?.metrics?.buckets("raft_wal_fsync_duration_seconds") ?? [])
            }
            let roundTrip = status?.peers.compactMap(\.roundTripMicroseconds).max()
            var lag: String = "-"
            if let leaderCommit, let applied = status?.appliedIndex {
                lag = String(leaderCommit > applied ? leaderCommit - applied : 0)
            }
            let processColor: String? =
                switch node.process {
                case .running: nil
                case .paused: "33"
                case .stopped: "2"
                case .killed, .crashed, .halted: "31"
                }
            let roleColor: String? =
                switch status?.role {
                case "leader": "32;1"
                case "candidate", "pre-candidate": "33"
                default: nil
                }
            rows.append([
                Cell(node.id + (node.id == leader?.id ? "*" : "")), Cell(node.process.rawValue, processColor),
                Cell(status?.role ?? "-", roleColor), Cell(status.map { String($0.term) } ?? "-"),
                Cell(status?.leader ?? "-"), Cell(status.map { String($0.commitIndex) } ?? "-"),
                Cell(status.map { String($0.appliedIndex) } ?? "-"),
                Cell(status.map { String($0.lastLogIndex) } ?? "-"),
                Cell(lag), Cell(writes.map(Self.rate) ?? "-"), Cell(reads.map(Self.rate) ?? "-"),
                Cell(fsync.map { Self.milliseconds($0 * 1_000) } ?? "-"),
                Cell(roundTrip.map { Self.milliseconds(Double($0) / 1_000) } ?? "-"),
                Cell(status?.snapshotInProgress == true ? "taking" : status.map { "@\($0.snapshotIndex)" } ?? "-"),
            ])
        }
        lines += table(rows)
        lines.append("cluster: \(Self.rate(totalWrites)) writes/s, \(Self.rate(totalReads)) reads/s")
        let view = ClusterView(
            leader: leader?.id, term: leader?.status?.term,
            nodes: now.nodes.map { node in
                NodeView(
                    id: node.id, process: node.process, pid: nil, role: node.status?.role, term: node.status?.term,
                    leader: node.status?.leader, commitIndex: node.status?.commitIndex,
                    appliedIndex: node.status?.appliedIndex, lastLogIndex: node.status?.lastLogIndex, clientURL: "",
                    blockedIn: node.status?.peers.filter(\.blockedIn).map(\.id) ?? [],
                    blockedOut: node.status?.peers.filter(\.blockedOut).map(\.id) ?? [], storage: node.status?.storage,
                    disk: node.status?.disk, alarms: node.status?.alarms ?? [])
            },
            alarms: Array(Set(now.nodes.flatMap { $0.status?.alarms ?? [] })).sorted {
                ($0.node, $0.kind) < ($1.node, $1.kind)
            })
        lines.append(view.cuts.isEmpty ? "cuts: none" : "cuts: " + view.cuts.joined(separator: " "))
        for warning in view.warnings { lines.append(paint(warning, "33")) }
        for node in now.nodes {
            if let delay = node.status?.disk?.syncDelayMilliseconds, delay > 0 {
                lines.append(paint("slow disk: \(node.id) waits \(delay) ms before every sync", "33"))
            }
        }
        lines.append("")
        lines.append("recent events:")
        if now.events.isEmpty { lines.append("  (none)") }
        let nodeWidth = now.events.map(\.node.count).max() ?? 0
        let kindWidth = now.events.map(\.kind.count).max() ?? 0
        for event in now.events {
            let node = event.node.padding(to: nodeWidth)
            lines.append(
                "  \(event.time)  \(node)  t\(event.term)  \(event.kind.padding(to: kindWidth))  \(event.detail)")
        }
        if fullScreen {
            lines.append("")
            lines.append("q or Ctrl-C to leave")
        }
        return lines.map(clip).joined(separator: "\n")
    }

    struct Cell {
        var text: String
        var color: String?
        init(_ text: String, _ color: String? = nil) {
            self.text = text
            self.color = color
        }
    }

    private func table(_ rows: [[Cell]]) -> [String] {
        var widths = [Int](repeating: 0, count: rows[0].count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.text.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in
                let padded = cell.text + String(repeating: " ", count: widths[i] - cell.text.count)
                return cell.color.map { paint(padded, $0) } ?? padded
            }.joined(separator: "  ")
        }
    }

    private func paint(_ text: String, _ code: String) -> String {
        color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    /// Cuts a line to the terminal's width, counting only visible characters (colour codes pass through).
    private func clip(_ line: String) -> String {
        var visible = 0
        var result = ""
        var inEscape = false
        for character in line {
            if character == "\u{1B}" { inEscape = true }
            if inEscape {
                result.append(character)
                if character == "m" { inEscape = false }
                continue
            }
            guard visible < columns else { continue }
            result.append(character)
            visible += 1
        }
        return result
    }

    static func rate(_ value: Double) -> String {
        value >= 100
            ? String(Int(value.rounded()))
            : String(Int((value * 10).rounded()) / 10) + "." + String(Int((value * 10).rounded()) % 10)
    }

    static func milliseconds(_ value: Double) -> String {
        if value >= 100 { return "\(Int(value.rounded())) ms" }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) ms"
    }
}

extension String {
    fileprivate func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
