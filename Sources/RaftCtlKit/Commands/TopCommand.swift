import ArgumentParser
import Glibc
import RaftREPL
import RaftText

/// `raftctl top`: a live, full-screen view of the cluster.
struct Top: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A live full-screen view: per node role, term, indexes, lag, writes and reads per second, fsync p99.",
        discussion: """
            Redraws twice a second until q or Ctrl-C; the terminal is restored on any exit. Per node: process state, \
            role, term, leader, commit/applied/last index, LAG (the leader's commit index minus the node's applied \
            index), client writes and linearizable reads per second it answered, the p99 of its syncs over the last \
            interval, the slowest last round trip to a peer, and its snapshot (the index, or "taking" while one is \
            written). Under the table: the cuts, warnings (alarms, paused or crashed nodes), slowed disks and the \
            newest events. Rates come from each node's GET /metrics. When stdout or stdin is not a terminal, frames \
            are printed one after another, separated by a blank line (--iterations bounds them).
            """)

    @OptionGroup var cluster: ClusterOptions
    @Option(help: "Time between frames (default 500ms).") var interval = "500ms"
    @Option(name: [.customShort("n"), .long], help: "Stop after this many frames (default: until q or Ctrl-C).")
    var iterations: Int?

    func run() throws {
        let spec = try cluster.runningSpec()
        let milliseconds = try parseDuration(interval, option: "--interval")
        guard milliseconds >= 100 else { throw RaftctlError.usage("--interval must be at least 100ms") }
        if let iterations, iterations < 1 { throw RaftctlError.usage("--iterations must be at least 1") }
        let sampler = TopSampler(directory: cluster.directory, spec: spec)
        var previous: TopReading?
        var frames = 0
        let color = isatty(1) != 0 && getenv("NO_COLOR") == nil
        func frame(columns: Int, fullScreen: Bool = true) -> String {
            let reading = sampler.read()
            defer { previous = reading }
            let screen = TopScreen(
                clusterPath: cluster.directory.path, color: color, columns: columns, fullScreen: fullScreen)
            return screen.render(reading, since: previous, clock: String(UTCTimestamp.now().dropFirst(11).prefix(8)))
        }
        // Rates need two readings: take the first before drawing anything.
        previous = sampler.read()
        usleep(UInt32(min(milliseconds, 1_000)) * 1_000)
        do {
            let drewFullScreen = try REPL.fullScreen(intervalMilliseconds: milliseconds) { columns, _ in
                frames += 1
                if let iterations, frames > iterations { throw TopFinished() }
                return frame(columns: columns)
            }
            if drewFullScreen { return }
        } catch is TopFinished {
            return
        }
        // Plain output for pipes and files: frames one after another.
        while iterations.map({ frames < $0 }) ?? true {
            if frames > 0 {
                say("")
                usleep(UInt32(milliseconds) * 1_000)
            }
            frames += 1
            say(frame(columns: 200, fullScreen: false))
            if REPL.commandInterrupted { break }
        }
    }
}

/// Ends the full-screen view after `--iterations` frames.
private struct TopFinished: Error {}
