import ArgumentParser
import FoundationEssentials
import Glibc
import RaftAPI
import RaftClient

/// `raftctl logs-view`: every node's log side by side, aligned by index, as in the Raft paper's figures 6 and 7.
struct LogsView: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs-view",
        abstract: "Every node's log side by side, aligned by index: each entry's term, commit, applied, snapshot.",
        discussion: """
            One row per node (* marks the leader), one cell per entry showing its term, coloured by term; entries \\
            that differ from the leader's at the same index are marked !, entries compacted into a snapshot show as \\
            dots. Under each row: c marks the commit index, a the applied index, s the snapshot index. By default \\
            the last screenful of indexes; --svg FILE writes the picture as SVG.
            """)

    @OptionGroup var cluster: ClusterOptions
    @Option(help: "First index to show.") var from: UInt64?
    @Option(help: "Last index to show.") var to: UInt64?
    @Option(help: "Also write the picture as SVG to this file.", completion: .file()) var svg: String?
    @Flag(name: .shortAndLong, help: "Redraw as the logs change, until interrupted.") var follow = false

    func run() throws {
        let spec = try cluster.runningSpec()
        let width = Self.terminalWidth()
        let color = isatty(1) != 0 && getenv("NO_COLOR") == nil
        func draw() throws -> String {
            let snapshot = LogsSnapshot.gather(cluster.controller, spec)
            let range = snapshot.range(from: from, to: to, cells: LogsSnapshot.cellsThatFit(width))
            if let svg {
                try FileIO.writeAtomically(svg, Array(snapshot.svg(range).utf8), mode: 0o644)
            }
            return snapshot.text(range, color: color)
        }
        if follow {
            StatusRendering.watch { (try? draw()) ?? "cannot read the logs" }
            return
        }
        say(try draw())
    }

    static func terminalWidth() -> Int {
        var size = winsize()
        if isatty(1) != 0, ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 20 { return Int(size.ws_col) }
        if let columns = getenv("COLUMNS").flatMap({ Int(String(cString: $0)) }), columns > 20 { return columns }
        return 100
    }
}

/// Every node's log and marks at one moment, for the side-by-side view.
struct LogsSnapshot: Sendable {
    struct Row: Sendable {
        var id: String
        var isLeader: Bool
        /// nil when the node did not answer.
        var entries: [UInt64: UInt64]?
        var firstIndex: UInt64 = 1
        var lastIndex: UInt64 = 0
        var commit: UInt64 = 0
        var applied: UInt64 = 0
        var snapshot: UInt64 = 0
    }

    var rows: [Row]

    static func gather(_ controller: ClusterController, _ spec: ClusterSpec) -> LogsSnapshot {
        let view = controller.gather(spec)
        var rows: [Row] = []
        for node in view.nodes {
            var row = Row(id: node.id, isLeader: node.id == view.leader)
            let client = NodeAdmin(socketPath: controller.directory.adminSocket(node.id), timeoutMilliseconds: 500)
            if node.process == .running, let status = try? client.status() {
                var entries: [UInt64: UInt64] = [:]
                var request = AdminRequest(op: "entries", id: .number(1))
                request.from = status.lastLogIndex > 2_000 ? status.lastLogIndex - 2_000 : 1
                request.limit = 2_001
                struct Item: Decodable { var entry: AdminEntry }
                try? client.stream(request, follow: false) { line in
                    if let item = try? JSONDecoder().decode(Item.self, from: Data(line.utf8)) {
                        entries[item.entry.index] = item.entry.term
                    }
                    return true
                }
                row.entries = entries
                row.firstIndex = status.firstLogIndex
                row.lastIndex = status.lastLogIndex
                row.commit = status.commitIndex
                row.applied = status.appliedIndex
                row.snapshot = status.snapshotIndex
            }
            rows.append(row)
        }
        return LogsSnapshot(rows: rows)
    }

    static let labelWidth = 6
    static let cellWidth = 4

    static func cellsThatFit(_ width: Int) -> Int { max(4, (width - labelWidth - 1) / cellWidth) }

    /// The indexes to show: as asked, else the last `cells` up to the longest log.
    func range(from: UInt64?, to: UInt64?, cells: Int) -> ClosedRange<UInt64> {
        let last = max(1, to ?? rows.map(\.lastIndex).max() ?? 1)
        let first = max(1, from ?? (last >= UInt64(cells) ? last - UInt64(cells) + 1 : 1))
        return min(first, last)...last
    }

    var leader: Row? { rows.first(where: \.isLeader) }

    /// What a row shows at `index`: its entry's term, `·` for compacted, nil when it has no entry there.
    func cell(_ row: Row, _ index: UInt64) -> (text: String, term: UInt64?, differs: Bool)? {
        guard let entries = row.entries else { return nil }
        if index <= row.snapshot && entries[index] == nil { return ("··", nil, false) }
        guard let term = entries[index] else { return nil }
        let leaderTerm = leader?.entries?[index]
        let differs = !row.isLeader && leaderTerm != nil && leaderTerm != term
        return (String(term), term, differs)
    }

    static let palette = [33, 172, 35, 129, 166, 31, 162, 100]

    func text(_ range: ClosedRange<UInt64>, color: Bool) -> String {
        func field(_ text: String) -> String {
            String(repeating: " ", count: max(0, Self.cellWidth - text.count)) + text
        }
        var lines = [
            "INDEX" + String(repeating: " ", count: Self.labelWidth - 5) + range.map { field(String($0)) }.joined()
        ]
        for row in rows {
            let label = row.id + (row.isLeader ? "*" : "")
            var line = label + String(repeating: " ", count: max(1, Self.labelWidth - label.count))
            guard row.entries != nil else {
                lines.append(line + "(does not answer)")
                continue
            }
            var marks = String(repeating: " ", count: Self.labelWidth)
            for index in range {
                if let cell = cell(row, index) {
                    let shown = field((cell.differs ? "!" : "") + cell.text)
                    if color, let term = cell.term {
                        let code = Self.palette[Int(term % UInt64(Self.palette.count))]
                        line +=
                            cell.differs ? "\u{1B}[1;41;97m\(shown)\u{1B}[0m" : "\u{1B}[38;5;\(code)m\(shown)\u{1B}[0m"
                    } else {
                        line += shown
                    }
                } else {
                    line += field(".")
                }
                var mark = ""
                if index == row.commit { mark += "c" }
                if index == row.applied { mark += "a" }
                if index == row.snapshot { mark += "s" }
                marks += field(mark)
            }
            lines.append(line)
            lines.append(marks.trimmingTrailingSpaces())
        }
        lines.append("c commit  a applied  s snapshot  ! differs from the leader  ·· compacted  . no entry")
        return lines.joined(separator: "\n")
    }

    static let svgColors = ["#1e88e5", "#fb8c00", "#43a047", "#8e24aa", "#f4511e", "#00897b", "#d81b60", "#6d4c41"]

    func svg(_ range: ClosedRange<UInt64>) -> String {
        let cell = 34.0
        let left = 60.0
        let top = 30.0
        let rowHeight = 48.0
        let count = Double(range.count)
        let width = max(left + count * cell + 20, 580)
        let height = top + Double(rows.count) * rowHeight + 30
        var out =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
            + "font-family=\"sans-serif\" font-size=\"12\">"
        out += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>"
        for (offset, index) in range.enumerated() {
            let x = left + Double(offset) * cell + cell / 2
            out += "<text x=\"\(x)\" y=\"\(top - 10)\" text-anchor=\"middle\" fill=\"#666\">\(index)</text>"
        }
        for (position, row) in rows.enumerated() {
            let y = top + Double(position) * rowHeight
            let label = row.id + (row.isLeader ? " ★" : "")
            out += "<text x=\"8\" y=\"\(y + 20)\" font-weight=\"\(row.isLeader ? "bold" : "normal")\">\(label)</text>"
            guard row.entries != nil else {
                out += "<text x=\"\(left)\" y=\"\(y + 20)\" fill=\"#999\">does not answer</text>"
                continue
            }
            for (offset, index) in range.enumerated() {
                let x = left + Double(offset) * cell
                guard let shown = self.cell(row, index) else { continue }
                if let term = shown.term {
                    let fill = Self.svgColors[Int(term % UInt64(Self.svgColors.count))]
                    let stroke = shown.differs ? " stroke=\"#d50000\" stroke-width=\"3\"" : ""
                    out +=
                        "<rect x=\"\(x + 2)\" y=\"\(y + 4)\" width=\"\(cell - 4)\" height=\"24\" rx=\"3\" fill=\"\(fill)\"\(stroke)/>"
                    out +=
                        "<text x=\"\(x + cell / 2)\" y=\"\(y + 20)\" text-anchor=\"middle\" fill=\"#fff\">\(term)</text>"
                } else {
                    out +=
                        "<rect x=\"\(x + 2)\" y=\"\(y + 4)\" width=\"\(cell - 4)\" height=\"24\" rx=\"3\" fill=\"#e0e0e0\"/>"
                }
                var marks: [String] = []
                if index == row.commit { marks.append("c") }
                if index == row.applied { marks.append("a") }
                if index == row.snapshot { marks.append("s") }
                if !marks.isEmpty {
                    out +=
                        "<text x=\"\(x + cell / 2)\" y=\"\(y + 42)\" text-anchor=\"middle\" fill=\"#333\">"
                        + marks.joined(separator: " ") + "</text>"
                }
            }
        }
        out +=
            "<text x=\"8\" y=\"\(height - 8)\" fill=\"#666\">c commit · a applied · s snapshot · grey: compacted"
            + " · red outline: differs from the leader</text>"
        return out + "</svg>\n"
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
