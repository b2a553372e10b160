import ArgumentParser
import FoundationEssentials
import Glibc
import RaftText

/// The `raftctl` command tree. Every command is also a REPL command (the REPL parses each line with this root).
public struct Raftctl: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "raftctl",
        abstract: "Run, inspect and break a local Raft key-value cluster.",
        discussion: """
            raftctl spawns and supervises local raftd processes, answers scriptable status queries, injects faults \
            and reads and writes keys. Without a command and with a terminal on stdin it opens the REPL.

            Exit status: 0 success, 1 the operation failed, 2 usage error, 3 the cluster is not running.
            """,
        subcommands: [
            Up.self, Down.self, Status.self, Leader.self, Start.self, Stop.self, Restart.self, Kill.self, Pause.self,
            Resume.self, Campaign.self, TransferLeader.self, Partition.self, Isolate.self, Block.self, Heal.self,
            SlowDisk.self, Failpoint.self, Snapshot.self, Logs.self, LogsView.self, TimelineCommand.self, Top.self,
            Entries.self,
            Events.self, Put.self,
            Get.self,
            Delete.self,
            Cas.self, Check.self, Chaos.self, ScenarioCommand.self, Members.self, AddNode.self, RemoveNode.self,
            Promote.self, ReplaceNode.self,
            REPLCommand.self, Supervise.self,
        ])

    public init() {}
}

/// `--cluster-dir`, shared by every command.
public struct ClusterOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The cluster directory (default: $RAFTCTL_CLUSTER_DIR, else $XDG_STATE_HOME/raftctl/cluster).",
            valueName: "dir"))
    public var clusterDir: String?

    public init() {}

    var directory: ClusterDirectory { ClusterDirectory.resolve(clusterDir) }
    var controller: ClusterController { ClusterController(directory: directory) }

    /// The cluster's spec, failing with "not running" when there is no cluster or no node is up.
    func runningSpec() throws(RaftctlError) -> ClusterSpec {
        let spec = try directory.loadSpec()
        if !spec.nodes.contains(where: { NodeProcess.inspect(directory, $0.id).pid != nil }) {
            throw .notRunning("the cluster in \(directory.path) is not running (start it with `raftctl up`)")
        }
        return spec
    }
}

/// Shell completion of node ids: read from the cluster named by `--cluster-dir` on the line being completed,
/// else `$RAFTCTL_CLUSTER_DIR`, else the default cluster.
let nodeIDs = CompletionKind.custom { words, _, prefix in
    var option: String?
    if let flag = words.firstIndex(of: "--cluster-dir"), flag + 1 < words.count { option = words[flag + 1] }
    guard let spec = try? ClusterDirectory.resolve(option).loadSpec() else { return [] }
    // Partition groups are comma-separated: complete the id after the last comma.
    let head = prefix.contains(",") ? String(prefix[...prefix.lastIndex(of: ",")!]) : ""
    return spec.ids.filter { $0.hasPrefix(prefix.dropFirst(head.count)) }.map { head + $0 }
}

/// Prints to stdout without Foundation.
func say(_ text: String) {
    print(text)
    fflush(nil)
}

/// Prints one line to stderr.
func warn(_ text: String) {
    var line = text
    line.append("\n")
    _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
}

func parseDuration(_ text: String, option: String) throws(RaftctlError) -> Int {
    guard let milliseconds = DurationText.milliseconds(text) else {
        throw .usage("\(option) must be a duration like 150ms, 5s or 1m, not \"\(text)\"")
    }
    return milliseconds
}

// MARK: - Lifecycle

struct Up: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create (first time) and start the cluster, then wait for a leader.",
        discussion: """
            Starts one raftd per node and a background supervisor that restarts nodes which crash on their own. \
            Settings apply when the cluster is created (different ones for an existing cluster are refused); data \
            persists across down/up. Fails if the cluster is already running.
            """)

    @OptionGroup var cluster: ClusterOptions
    // Optional so that settings given for an existing cluster can be told from defaults and checked against it.
    @Option(help: "Number of nodes (ids n1…nN; default 3).") var nodes: Int?
    @Option(help: "Use ports P…P+2N-1 (peer and client port per node); without it free ports are chosen.")
    var basePort: Int?
    @Option(help: "Randomized election timeout range (default 150ms-300ms).") var electionTimeout: String?
    @Option(help: "Heartbeat interval (default 50ms).") var heartbeat: String?
    @Option(help: "always (default), or never (UNSAFE: acknowledged writes can be lost on a crash).")
    var fsync: FsyncSetting?
    @Option(help: ArgumentHelp("The raftd binary (default: the one beside raftctl).", valueName: "path"))
    var raftd: String?
    @Flag(help: "Open the REPL once the cluster is up.") var repl = false

    func run() throws {
        var options = ClusterController.UpOptions()
        if let nodes { options.nodes = nodes }
        options.basePort = basePort
        if let electionTimeout { options.electionTimeout = electionTimeout }
        if let heartbeat { options.heartbeat = heartbeat }
        if let fsync { options.fsync = fsync.rawValue }
        let given: [(String, Bool)] = [
            ("nodes", nodes != nil), ("base-port", basePort != nil), ("election-timeout", electionTimeout != nil),
            ("heartbeat", heartbeat != nil), ("fsync", fsync != nil),
        ]
        options.explicitSettings = Set(given.filter(\.1).map(\.0))
        options.raftdPath = raftd
        let started = ProcessControl.monotonicMilliseconds()
        let view = try cluster.controller.up(options)
        let elapsed = ProcessControl.monotonicMilliseconds() - started
        say("cluster up in \(elapsed) ms: \(view.nodes.count) nodes in \(cluster.directory.path)")
        for node in view.nodes {
            say("  \(node.id)  \(node.clientURL)\(node.id == view.leader ? "  (leader)" : "")")
        }
        say("leader \(view.leader ?? "-") at term \(view.term ?? 0)")
        if repl { try REPLCommand.runREPL(clusterDir: cluster.clusterDir) }
    }
}

struct Down: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop every node gracefully (SIGKILL after a timeout) and the supervisor.")

    @OptionGroup var cluster: ClusterOptions
    @Flag(help: "Also delete the cluster directory and all its data.") var purge = false

    func run() throws {
        try cluster.controller.down(purge: purge)
        say(purge ? "cluster stopped and its data deleted" : "cluster stopped (data kept; `raftctl up` restarts it)")
    }
}

struct Start: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start a stopped or killed node.")
    @OptionGroup var cluster: ClusterOptions
    @Argument(help: "Node id.", completion: nodeIDs) var id: String
    @Option(help: ArgumentHelp("The raftd binary.", valueName: "path")) var raftd: String?

    func run() throws {
        try cluster.controller.start(id, raftdOption: raftd)
        say("\(id) started")
    }
}

struct Stop: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop a node gracefully (a leader hands over leadership first); it stays down.")
    @OptionGroup var cluster: ClusterOptions
    @Argument(help: "Node id.", completion: nodeIDs) var id: String

    func run() throws {
        try cluster.controller.stop(id)
        say("\(id) stopped")
    }
}

struct Restart: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop a node gracefully, then start it.")
    @OptionGroup var cluster: ClusterOptions
    @Argument(help: "Node id.", completion: nodeIDs) var id: String
    @Option(help: ArgumentHelp("The raftd binary.", valueName: "path")) var raftd: String?

    func run() throws {
        try cluster.controller.stop(id)
        try cluster.controller.start(id, raftdOption: raftd)
        say("\(id) restarted")
    }
}

struct Kill: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send a signal to a node (SIGKILL by default); a killed node is not restarted.")
    @OptionGroup var cluster: ClusterOptions
    @Argument(help: "Node id.", completion: nodeIDs) var id: String
    @Option(help: "Signal name or number (KILL, TERM, 9, …).") var signal = "KILL"

    func run() throws {
        guard let number = ProcessControl.signalNumber(signal) else {
            throw RaftctlError.usage("unknown signal \"\(signal)\"")
        }
        let pid = try cluster.controller.kill(id, signal: number)
        say("sent SIG\(signal.uppercased().replacingPrefix("SIG")) to \(id) (pid \(pid))")
    }
}

struct Pause: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Freeze a node (SIGSTOP).")
    @OptionGroup var cluster: ClusterOptions
    @Argument(help: "Node id.", completion: nodeIDs) var id: String

    func run() throws {
        try cluster.controller.pause(id, resume: false)
        say("\(id) paused")
    }
}

struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Unfreeze a paused node (SIGCONT).")
    @OptionGroup var cluster: ClusterOptions
    @Argument(help: "Node id.", completion: nodeIDs) var id: String

    func run() throws {
        try cluster.controller.pause(id, resume: true)
        say("\(id) resumed")
    }
}

/// Hidden: the background supervisor that `up` starts.
struct Supervise: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the cluster supervisor (started by `raftctl up`).", shouldDisplay: false)
    @OptionGroup var cluster: ClusterOptions
    @Option var raftd: String

    func run() throws {
        try Supervisor(directory: cluster.directory, raftd: raftd).run()
    }
}

extension String {
    func replacingPrefix(_ prefix: String) -> String {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self
    }
}

/// `up --fsync`: typed, so that help and completions list the values.
enum FsyncSetting: String, CaseIterable, ExpressibleByArgument {
    case always, never
}
