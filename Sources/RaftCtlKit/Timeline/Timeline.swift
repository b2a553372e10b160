import FoundationEssentials
import Glibc
import RaftCheck

/// The cluster over time, as `raftctl timeline` draws it: per node, the roles it held with their terms (from its
/// `raftd.log`), marks for elections, transfers and snapshots, and the windows of every fault raftctl injected
/// (from `faults.jsonl`). Times are milliseconds since the Unix epoch.
struct Timeline: Sendable {
    struct Segment: Sendable, Hashable {
        var start: Int64
        var end: Int64
        /// `follower`, `pre-candidate`, `candidate`, `leader`, or `down`.
        var role: String
        var term: UInt64
    }

    struct Mark: Sendable, Hashable {
        var time: Int64
        /// `elected`, `election`, `pre-vote`, `transfer`, `snapshot`.
        var kind: String
        var label: String
    }

    struct Window: Sendable, Hashable {
        var start: Int64
        var end: Int64
        var label: String
        var nodes: [String]
    }

    var start: Int64
    var end: Int64
    var nodes: [String]
    var segments: [String: [Segment]]
    var marks: [String: [Mark]]
    var faults: [Window]
    /// The cluster's commit index over time (from the leaders' `progress:` lines), rising, one point per line.
    var commits: [(time: Int64, index: UInt64)] = []

    /// Builds the timeline of `nodes` over `start...end` from their log lines and the fault records.
    static func build(
        nodes: [String], logs: [String: [String]], faults: [FaultRecord], start: Int64, end: Int64
    ) -> Timeline {
        var segments: [String: [Segment]] = [:]
        var marks: [String: [Mark]] = [:]
        var commitSamples: [(time: Int64, index: UInt64)] = []
        let kills = Dictionary(grouping: faults.filter { $0.kind == "kill" || $0.kind == "stop" }, by: { $0.nodes[0] })
        for node in nodes {
            var current: Segment?
            var list: [Segment] = []
            var nodeMarks: [Mark] = []
            var transitions: [(time: Int64, role: String?, term: UInt64)] = []
            for line in logs[node] ?? [] {
                let parts = line.split(separator: " ", maxSplits: 4).map(String.init)
                guard parts.count == 5, let time = epochMilliseconds(parts[0]), parts[3].hasPrefix("t"),
                    let term = UInt64(parts[3].dropFirst())
                else { continue }
                let message = parts[4]
                if message.hasPrefix("raftd ready") {
                    transitions.append((time, "follower", term))
                } else if message == "stopped" || message.hasPrefix("storage: failed") {
                    transitions.append((time, nil, term))
                } else if message.hasPrefix("role: ") {
                    // `role: follower -> pre-candidate`: the last word is the new role.
                    let role = message.split(separator: " ").last.map(String.init) ?? "follower"
                    transitions.append((time, role, term))
                } else if message.hasPrefix("leader: ") {
                    // A follower learns a new term without changing its role: a new band all the same.
                    transitions.append((time, "same", term))
                } else if message.hasPrefix("elected: ") {
                    nodeMarks.append(Mark(time: time, kind: "elected", label: "\(node) leader t\(term)"))
                } else if message.hasPrefix("election: started") || message.hasPrefix("pre-vote: started") {
                    let kind = message.hasPrefix("election") ? "election" : "pre-vote"
                    nodeMarks.append(Mark(time: time, kind: kind, label: "\(node) \(kind) t\(term)"))
                } else if message.hasPrefix("transfer: to") && message.hasSuffix("started") {
                    nodeMarks.append(Mark(time: time, kind: "transfer", label: "\(node) " + message))
                } else if message.hasPrefix("snapshot: ") {
                    nodeMarks.append(Mark(time: time, kind: "snapshot", label: "\(node) " + message))
                } else if message.hasPrefix("progress: commit ") {
                    let words = message.split(separator: " ")
                    if words.count >= 3, let index = UInt64(words[2]) { commitSamples.append((time, index)) }
                }
            }
            for kill in kills[node] ?? [] { transitions.append((kill.time, nil, 0)) }
            transitions.sort { $0.time < $1.time }
            for transition in transitions {
                if transition.role == "same" {
                    guard let open = current, open.role != "down", open.term != transition.term else { continue }
                }
                if var open = current {
                    open.end = transition.time
                    list.append(open)
                }
                let term = transition.role == nil ? (current?.term ?? 0) : transition.term
                let role = transition.role == "same" ? current?.role ?? "follower" : transition.role ?? "down"
                current = Segment(start: transition.time, end: transition.time, role: role, term: term)
            }
            if var open = current {
                open.end = max(open.start, end)
                list.append(open)
            }
            segments[node] = list.filter { $0.end >= start && $0.start <= end }.map { segment in
                var clipped = segment
                clipped.start = max(segment.start, start)
                clipped.end = min(segment.end, end)
                return clipped
            }
            marks[node] = nodeMarks.filter { $0.time >= start && $0.time <= end }
        }
        // The commit index never goes back: a deposed leader's late line must not draw a dip.
        var commits: [(time: Int64, index: UInt64)] = []
        for sample in commitSamples.sorted(by: { $0.time < $1.time }) {
            let index = max(sample.index, commits.last?.index ?? 0)
            commits.append((sample.time, index))
        }
        // Keep the last point before the window too: the line starts at the level it had when the window opens.
        let before = commits.last { $0.time < start }
        var shown = commits.filter { $0.time >= start && $0.time <= end }
        if let before { shown.insert((start, before.index), at: 0) }
        return Timeline(
            start: start, end: end, nodes: nodes, segments: segments, marks: marks,
            faults: windows(faults, nodes: nodes, end: end).filter { $0.end >= start && $0.start <= end },
            commits: shown)
    }

    /// The commit index at `time`: the last point at or before it (nil before the first).
    func commitIndex(at time: Int64) -> UInt64? {
        commits.last { $0.time <= time }?.index
    }

    /// Pairs each fault with what ended it: a kill or stop with the node's next start, a pause with its resume, a
    /// partition or block with the next heal (or partition), a failpoint or slowed disk with its `off`.
    static func windows(_ records: [FaultRecord], nodes: [String], end: Int64) -> [Window] {
        var windows: [Window] = []
        for (index, record) in records.enumerated() {
            let later = records[(index + 1)...]
            var ending: FaultRecord?
            var label = ""
            switch record.kind {
            case "kill", "stop":
                ending = later.first { $0.kind == "start" && $0.nodes == record.nodes }
                label = "\(record.kind) \(record.nodes[0])"
            case "pause":
                ending = later.first { $0.kind == "resume" && $0.nodes == record.nodes }
                label = "pause \(record.nodes[0])"
            case "partition", "block":
                ending = later.first { $0.kind == "heal" || ($0.kind == "partition" && record.kind == "partition") }
                label = "\(record.kind) \(record.detail)"
            case "failpoint", "slow-disk":
                guard !record.detail.hasSuffix(" off") && record.detail != "off" else { continue }
                let name = record.detail.split(separator: " ").first.map(String.init) ?? ""
                ending = later.first {
                    $0.kind == record.kind && $0.nodes == record.nodes
                        && ($0.detail == "off" || $0.detail == "\(name) off")
                }
                label = "\(record.kind) \(record.detail) on \(record.nodes[0])"
            default:
                continue
            }
            windows.append(
                Window(
                    start: record.time, end: ending?.time ?? end, label: label,
                    nodes: record.kind == "partition" ? nodes : record.nodes))
        }
        return windows
    }

    /// `2026-11-28T06:03:24.455Z` as milliseconds since the epoch.
    static func epochMilliseconds(_ text: some StringProtocol) -> Int64? {
        let parts = text.split(whereSeparator: { "-T:.Z".contains($0) }).compactMap { Int32($0) }
        guard parts.count >= 7 else { return nil }
        var broken = tm()
        broken.tm_year = parts[0] - 1900
        broken.tm_mon = parts[1] - 1
        broken.tm_mday = parts[2]
        broken.tm_hour = parts[3]
        broken.tm_min = parts[4]
        broken.tm_sec = parts[5]
        return Int64(timegm(&broken)) * 1_000 + Int64(parts[6])
    }

    /// `06:03:24.455` (UTC).
    static func clock(_ milliseconds: Int64) -> String {
        var seconds = time_t(milliseconds / 1_000)
        var broken = tm()
        gmtime_r(&seconds, &broken)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let fraction = String(milliseconds % 1_000)
        return "\(two(broken.tm_hour)):\(two(broken.tm_min)):\(two(broken.tm_sec))."
            + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    // MARK: - Drawing

    static let roleSymbols: [String: Character] = [
        "leader": "█", "candidate": "C", "pre-candidate": "p", "follower": "─", "down": " ",
    ]

    /// A text rendering `width` characters wide: a row per node (█ leader, C candidate, p pre-candidate, ─ follower,
    /// blank down, ★ elected), the commit index as a step line in eight levels (with its range), then a line per
    /// fault window, then the elections won.
    func text(width: Int) -> String {
        let columns = max(10, width - 8)
        let span = max(1, end - start)
        func column(_ time: Int64) -> Int { min(columns - 1, max(0, Int((time - start) * Int64(columns) / span))) }
        var lines = ["UTC " + Self.clock(start) + String(repeating: " ", count: max(1, columns - 20)) + Self.clock(end)]
        for node in nodes {
            var cells = [Character](repeating: "·", count: columns)
            for segment in segments[node] ?? [] {
                let symbol = Self.roleSymbols[segment.role] ?? "?"
                for index in column(segment.start)...max(column(segment.start), column(segment.end)) {
                    cells[index] = symbol
                }
            }
            for mark in marks[node] ?? [] where mark.kind == "elected" { cells[column(mark.time)] = "★" }
            lines.append(node.padding(6) + "  " + String(cells))
        }
        if let first = commits.first, let last = commits.last {
            // A step line in eight levels, from the lowest index shown to the highest.
            let levels: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
            let low = first.index
            let range = max(1, last.index - low)
            var cells = [Character](repeating: " ", count: columns)
            for index in column(first.time)..<columns {
                let time = start + Int64(index) * span / Int64(columns) + span / Int64(columns)
                guard let value = commitIndex(at: time) else { continue }
                cells[index] = levels[Int((value - low) * 7 / range)]
            }
            lines.append("commit  " + String(cells) + "  \(low)…\(last.index)")
        }
        for fault in faults {
            var cells = [Character](repeating: " ", count: columns)
            for index in column(fault.start)...max(column(fault.start), column(fault.end)) { cells[index] = "▒" }
            lines.append("fault   " + String(cells) + "  " + fault.label)
        }
        let elections = nodes.flatMap { marks[$0] ?? [] }.filter { $0.kind == "elected" }.sorted { $0.time < $1.time }
        for mark in elections { lines.append("        \(Self.clock(mark.time))  \(mark.label)") }
        lines.append(
            "█ leader  C candidate  p pre-candidate  ─ follower  (blank) down  ★ elected  ▒ fault  ▁…█ commit index")
        return lines.joined(separator: "\n")
    }

    static let roleColors: [String: String] = [
        "leader": "#43a047", "candidate": "#fb8c00", "pre-candidate": "#ffd54f", "follower": "#b3c7e6",
        "down": "#f5f5f5",
    ]

    static func escape(_ text: String) -> String { HistoryReport.escape(text) }

    /// The picture as SVG: role bands with their terms, marks, fault windows shaded across the rows they touched.
    func svg() -> String {
        let left = 70.0
        let width = 1000.0
        let top = 40.0
        let rowHeight = 36.0
        let faultRows = Double(faults.count)
        // The commit line gets a band of its own under the node rows.
        let commitBand = commits.isEmpty ? 0.0 : 56.0
        let commitTop = top + Double(nodes.count) * rowHeight + 6
        let height = top + Double(nodes.count) * rowHeight + commitBand + 18 * faultRows + 60
        let span = Double(max(1, end - start))
        func x(_ time: Int64) -> Double { left + width * Double(time - start) / span }
        var out =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(left + width + 30))\" height=\"\(Int(height))\" "
            + "font-family=\"sans-serif\" font-size=\"11\">"
        out += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>"
        out += "<text x=\"\(left)\" y=\"16\" fill=\"#444\">\(Self.clock(start)) UTC</text>"
        out += "<text x=\"\(left + width)\" y=\"16\" fill=\"#444\" text-anchor=\"end\">\(Self.clock(end))</text>"
        for (row, node) in nodes.enumerated() {
            let y = top + Double(row) * rowHeight
            out += "<text x=\"8\" y=\"\(y + 20)\" font-size=\"13\">\(Self.escape(node))</text>"
            for segment in segments[node] ?? [] {
                let x0 = x(segment.start)
                let w = max(1, x(segment.end) - x0)
                let fill = Self.roleColors[segment.role] ?? "#cccccc"
                out +=
                    "<rect x=\"\(x0)\" y=\"\(y + 4)\" width=\"\(w)\" height=\"24\" fill=\"\(fill)\">"
                    + "<title>\(Self.escape(node)) \(segment.role) term \(segment.term)</title></rect>"
                if segment.role != "down" && w > 28 {
                    out += "<text x=\"\(x0 + 3)\" y=\"\(y + 20)\" fill=\"#222\">t\(segment.term)</text>"
                }
            }
            for mark in marks[node] ?? [] {
                let mx = x(mark.time)
                switch mark.kind {
                case "elected":
                    out +=
                        "<text x=\"\(mx)\" y=\"\(y + 3)\" text-anchor=\"middle\" font-size=\"13\" fill=\"#1b5e20\">★"
                        + "<title>\(Self.escape(mark.label))</title></text>"
                case "snapshot":
                    out +=
                        "<rect x=\"\(mx - 3)\" y=\"\(y + 29)\" width=\"6\" height=\"6\" fill=\"#6a1b9a\" "
                        + "transform=\"rotate(45 \(mx) \(y + 32))\"><title>\(Self.escape(mark.label))</title></rect>"
                default:
                    out +=
                        "<line x1=\"\(mx)\" y1=\"\(y + 28)\" x2=\"\(mx)\" y2=\"\(y + 34)\" stroke=\"#e65100\">"
                        + "<title>\(Self.escape(mark.label))</title></line>"
                }
            }
        }
        if let first = commits.first, let last = commits.last {
            let low = Double(first.index)
            let range = max(1, Double(last.index) - low)
            func y(_ index: UInt64) -> Double { commitTop + 44 - 40 * (Double(index) - low) / range }
            out +=
                "<rect x=\"\(left)\" y=\"\(commitTop)\" width=\"\(width)\" height=\"48\" fill=\"#fafafa\" "
                + "stroke=\"#e0e0e0\"/>"
            out += "<text x=\"8\" y=\"\(commitTop + 20)\" font-size=\"13\">commit</text>"
            out += "<text x=\"8\" y=\"\(commitTop + 36)\" fill=\"#555\">\(first.index)…\(last.index)</text>"
            // A step line: level until the next point, then up.
            var points = ["\(x(first.time)),\(y(first.index))"]
            for (previous, point) in zip(commits, commits.dropFirst()) {
                points.append("\(x(point.time)),\(y(previous.index))")
                points.append("\(x(point.time)),\(y(point.index))")
            }
            points.append("\(x(end)),\(y(last.index))")
            out +=
                "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"#1565c0\" "
                + "stroke-width=\"1.5\"><title>commit index \(first.index) to \(last.index)</title></polyline>"
        }
        for (index, fault) in faults.enumerated() {
            let rows = nodes.enumerated().filter { fault.nodes.contains($0.element) }.map(\.offset)
            guard let first = rows.min(), let last = rows.max() else { continue }
            let x0 = x(fault.start)
            let w = max(2, x(fault.end) - x0)
            out +=
                "<rect x=\"\(x0)\" y=\"\(top + Double(first) * rowHeight + 2)\" width=\"\(w)\" "
                + "height=\"\(Double(last - first + 1) * rowHeight - 4)\" fill=\"#e53935\" fill-opacity=\"0.18\" "
                + "stroke=\"#e53935\" stroke-opacity=\"0.6\"><title>\(Self.escape(fault.label))</title></rect>"
            let y = top + Double(nodes.count) * rowHeight + commitBand + 14 + 18 * Double(index)
            out +=
                "<rect x=\"\(x0)\" y=\"\(y - 10)\" width=\"\(w)\" height=\"12\" fill=\"#e53935\" fill-opacity=\"0.5\"/>"
            // The label goes right of the bar, or left of it when it would run off the picture.
            let fitsRight = x0 + w + 4 + Double(fault.label.count) * 6.2 <= left + width + 30
            out +=
                "<text x=\"\(fitsRight ? x0 + w + 4 : x0 - 4)\" y=\"\(y)\" fill=\"#b71c1c\" "
                + "text-anchor=\"\(fitsRight ? "start" : "end")\">\(Self.escape(fault.label))</text>"
        }
        let legendY = height - 10
        var legendX = left
        for role in ["leader", "candidate", "pre-candidate", "follower", "down"] {
            out +=
                "<rect x=\"\(legendX)\" y=\"\(legendY - 10)\" width=\"14\" height=\"10\" fill=\"\(Self.roleColors[role]!)\" "
                + "stroke=\"#999\" stroke-width=\"0.5\"/>"
            out += "<text x=\"\(legendX + 18)\" y=\"\(legendY)\">\(role)</text>"
            legendX += 110
        }
        out +=
            "<text x=\"\(legendX)\" y=\"\(legendY)\">★ elected · ◆ snapshot · red: a fault raftctl injected · blue: commit index</text>"
        return out + "</svg>\n"
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
