import ArgumentParser
import Glibc

/// `raftctl timeline`: the cluster over time, from the nodes' logs and raftctl's record of the faults it injected.
struct TimelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timeline",
        abstract: "The cluster over time: each node's role and term, elections, and every fault raftctl injected.",
        discussion: """
            Built from each node's raftd.log and from CLUSTER/faults.jsonl, where raftctl records every start, stop, \\
            kill, pause, resume, partition, block, heal, failpoint and slow-disk. In a terminal, a text rendering \\
            as wide as the terminal; --svg and --html write a picture (self-contained).
            """)

    @OptionGroup var cluster: ClusterOptions
    @Option(help: "Show the last DURATION, e.g. 5m.") var since = "10m"
    @Option(help: "Start at this UTC time (2026-11-28T06:03:00Z), instead of --since.") var from: String?
    @Option(help: "End at this UTC time (default: now).") var to: String?
    @Option(help: "Write the picture as SVG to this file.", completion: .file()) var svg: String?
    @Option(help: "Write the picture as a self-contained HTML page to this file.", completion: .file()) var html:
        String?

    func run() throws {
        let spec = try cluster.directory.loadSpec()
        let now = FaultLog.nowMilliseconds()
        var end = now
        if let to {
            guard let parsed = Timeline.epochMilliseconds(to) ?? Timeline.epochMilliseconds(to + ".000Z") else {
                throw RaftctlError.usage("--to must be a UTC time like 2026-11-28T06:03:00Z, not \"\(to)\"")
            }
            end = parsed
        }
        var start = end - Int64(try parseDuration(since, option: "--since"))
        if let from {
            guard let parsed = Timeline.epochMilliseconds(from) ?? Timeline.epochMilliseconds(from + ".000Z") else {
                throw RaftctlError.usage("--from must be a UTC time like 2026-11-28T06:03:00Z, not \"\(from)\"")
            }
            start = parsed
        }
        guard start < end else { throw RaftctlError.usage("the timeline must start before it ends") }
        var logs: [String: [String]] = [:]
        for id in spec.ids {
            logs[id] = (FileIO.readText(cluster.directory.logPath(id)) ?? "").split(separator: "\n").map(String.init)
        }
        // Lines before the window still tell each node's role when it opens: build from all, then clip.
        let timeline = Timeline.build(
            nodes: spec.ids, logs: logs, faults: FaultLog.read(cluster.directory), start: start, end: end)
        if let svg { try FileIO.writeAtomically(svg, Array(timeline.svg().utf8), mode: 0o644) }
        if let html {
            let page =
                "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>raftctl timeline</title></head>"
                + "<body style=\"font-family:sans-serif\"><h1 style=\"font-size:18px\">raftctl timeline, "
                + "\(Timeline.clock(start))–\(Timeline.clock(end)) UTC</h1>\(timeline.svg())</body></html>\n"
            try FileIO.writeAtomically(html, Array(page.utf8), mode: 0o644)
        }
        say(timeline.text(width: LogsView.terminalWidth()))
    }
}
