import ArgumentParser
import FoundationEssentials
import Glibc
import RaftAPI

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "One row per node: process state, pid, role, term, leader, indexes, client URL.",
        discussion: """
            Under the table: the cuts in force, then a warning line for every alarm (no_space, storage_failed), \
            every paused, crashed or halted node and every cut. A learner's role reads "follower (learner)". --json \
            prints {"leader": id|null, "term": n, "nodes": [{"id", "process", "pid", "role", "kind", "term", "leader", "commitIndex", "appliedIndex", "lastLogIndex", "clientURL", "blockedIn", \
            "blockedOut", "storage", "disk"}], "alarms": [{"node", "kind", "message", "freeBytes", "since"}], \
            "warnings": [line]}; role, storage and disk are null for a node that does not answer.
            """)

    @OptionGroup var cluster: ClusterOptions
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Refresh in place until interrupted (in the REPL: until a key is pressed).") var watch = false

    func run() throws {
        let spec = try cluster.directory.loadSpec()
        if watch {
            StatusRendering.watch { StatusRendering.render(cluster.controller.gather(spec), json: json) }
            return
        }
        let view = cluster.controller.gather(spec)
        say(StatusRendering.render(view, json: json))
        if !view.nodes.contains(where: { $0.process == .running || $0.process == .paused }) {
            throw RaftctlError.notRunning("the cluster in \(cluster.directory.path) is not running")
        }
    }
}

/// The status table and its JSON form.
enum StatusRendering {
    nonisolated(unsafe) static var watchHook: ((() -> String) -> Void)?

    static func watch(_ render: () -> String) {
        if let hook = watchHook {
            hook(render)
            return
        }
        signal(SIGINT) { _ in
            print("\u{1B}[?25h")
            exit(0)
        }
        while true {
            let text = render()
            print("\u{1B}[H\u{1B}[2J" + text)
            print("(refreshing every 0.5 s; Ctrl-C to stop)")
            fflush(nil)
            usleep(500_000)
        }
    }

    static func render(_ view: ClusterView, json: Bool) -> String {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            struct JSONNode: Encodable {
                var node: NodeView
                func encode(to encoder: any Encoder) throws {
                    var c = encoder.container(keyedBy: Keys.self)
                    try c.encode(node.id, forKey: .id)
                    try c.encode(node.process.rawValue, forKey: .process)
                    try c.encode(node.pid, forKey: .pid)
                    try c.encode(node.role, forKey: .role)
                    try c.encode(node.kind, forKey: .kind)
                    try c.encode(node.term, forKey: .term)
                    try c.encode(node.leader, forKey: .leader)
                    try c.encode(node.commitIndex, forKey: .commitIndex)
                    try c.encode(node.appliedIndex, forKey: .appliedIndex)
                    try c.encode(node.lastLogIndex, forKey: .lastLogIndex)
                    try c.encode(node.clientURL, forKey: .clientURL)
                    try c.encode(node.blockedIn, forKey: .blockedIn)
                    try c.encode(node.blockedOut, forKey: .blockedOut)
                    try c.encode(node.storage, forKey: .storage)
                    try c.encode(node.disk, forKey: .disk)
                }
                enum Keys: String, CodingKey {
                    case id, process, pid, role, kind, term, leader, commitIndex, appliedIndex, lastLogIndex, clientURL
                    case blockedIn, blockedOut, storage, disk
                }
            }
            struct JSONView: Encodable {
                var view: ClusterView
                func encode(to encoder: any Encoder) throws {
                    var c = encoder.container(keyedBy: Keys.self)
                    try c.encode(view.leader, forKey: .leader)
                    try c.encode(view.term, forKey: .term)
                    try c.encode(view.nodes.map(JSONNode.init), forKey: .nodes)
                    try c.encode(view.alarms, forKey: .alarms)
                    try c.encode(view.warnings, forKey: .warnings)
                }
                enum Keys: String, CodingKey { case leader, term, nodes, alarms, warnings }
            }
            let data = (try? encoder.encode(JSONView(view: view))) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
        var rows = [["ID", "PROCESS", "PID", "ROLE", "TERM", "LEADER", "COMMIT", "APPLIED", "LAST", "CLIENT URL"]]
        for node in view.nodes {
            rows.append([
                node.id + (node.id == view.leader ? "*" : ""), node.process.rawValue,
                node.pid.map { String($0) } ?? "-",
                (node.role ?? "-") + (node.kind.map { $0 == "voter" ? "" : " (\($0))" } ?? ""),
                node.term.map { String($0) } ?? "-", node.leader ?? "-",
                node.commitIndex.map { String($0) } ?? "-", node.appliedIndex.map { String($0) } ?? "-",
                node.lastLogIndex.map { String($0) } ?? "-", node.clientURL,
            ])
        }
        var lines = [renderTable(rows)]
        let cuts = view.cuts
        lines.append(cuts.isEmpty ? "cuts: none" : "cuts: " + cuts.joined(separator: " "))
        lines += view.warnings
        return lines.joined(separator: "\n")
    }
}

struct Leader: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the leader's id; fail (exit 1) if there is none by the deadline.")
    @OptionGroup var cluster: ClusterOptions
    @Option(help: "Wait up to this long for a leader, e.g. 5s.") var wait = "0ms"

    func run() throws {
        let milliseconds = try parseDuration(wait, option: "--wait")
        let spec = try cluster.runningSpec()
        do {
            let view = try cluster.controller.waitForLeader(spec, milliseconds: milliseconds)
            say(view.leader!)
        } catch {
            throw RaftctlError.failed(
                "no leader" + (milliseconds > 0 ? " within \(wait)" : "") + " (see `raftctl status`)")
        }
    }
}

// MARK: - Control

struct Campaign: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Make a node start an election now.")
    @OptionGroup var cluster: ClusterOptions
    @Argument(help: "Node id.", completion: nodeIDs) var id: String

    func run() throws {
        let spec = try cluster.runningSpec()
        struct Ack: Decodable {}
        let _: Ack = try cluster.controller.admin(spec, id).call(AdminRequest(op: "campaign", id: .number(1)))
        say("\(id) is campaigning")
    }
}

struct TransferLeader: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer-leader", abstract: "Hand leadership to a node (the leader catches it up first).")
    @OptionGroup var cluster: ClusterOptions
    @Argument(help: "The node to become leader.", completion: nodeIDs) var id: String
    @Option(help: "How long to wait for the new leader.") var wait = "3s"

    func run() throws {
        let spec = try cluster.runningSpec()
        _ = try cluster.controller.resolveNode(spec, id)
        let milliseconds = try parseDuration(wait, option: "--wait")
        let current = try cluster.controller.waitForLeader(spec, milliseconds: 2_000)
        if current.leader == id {
            say("\(id) is already the leader")
            return
        }
        var request = AdminRequest(op: "transfer-leader", id: .number(1))
        request.to = id
        struct Ack: Decodable {}
        let _: Ack = try cluster.controller.admin(spec, current.leader!).call(request)
        let deadline = ProcessControl.monotonicMilliseconds() + Int64(milliseconds)
        while ProcessControl.monotonicMilliseconds() < deadline {
            if cluster.controller.gather(spec).leader == id {
                say("\(id) is the leader")
                return
            }
            usleep(10_000)
        }
        throw RaftctlError.failed("\(id) did not become leader within \(wait)")
    }
}

struct Snapshot: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Make a node take a snapshot and compact its log now.")
    @OptionGroup var cluster: ClusterOptions
    @Argument(help: "Node id.", completion: nodeIDs) var id: String

    func run() throws {
        let spec = try cluster.runningSpec()
        struct Result: Decodable { var index: UInt64 }
        let result: Result = try cluster.controller.admin(spec, id).call(AdminRequest(op: "snapshot", id: .number(1)))
        say("\(id) snapshot at index \(result.index)")
    }
}

// MARK: - Faults

struct Partition: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cut traffic between groups of nodes, both ways.",
        discussion: """
            Each group is a comma-separated list of ids; nodes not named form one more group. Example: \
            `raftctl partition n1 n2,n3` isolates n1. Replaces any earlier cuts.
            """)
    @OptionGroup var cluster: ClusterOptions
    @Argument(help: "Groups, e.g. n1 n2,n3.", completion: nodeIDs) var groups: [String]

    func run() throws {
        let spec = try cluster.runningSpec()
        let parsed = groups.map { $0.split(separator: ",").map(String.init) }
        let (all, skipped) = try cluster.controller.partition(spec, groups: parsed)
        say("partitioned: " + all.map { $0.joined(separator: ",") }.joined(separator: " | "))
        if !skipped.isEmpty { warn("not running, not changed: \(skipped.joined(separator: ", "))") }
    }
}

struct Isolate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Cut one node off from all others, both ways.")
    @OptionGroup var cluster: ClusterOptions
    @Argument(help: "Node id.", completion: nodeIDs) var id: String

    func run() throws {
        let spec = try cluster.runningSpec()
        let (all, skipped) = try cluster.controller.partition(spec, groups: [[id]])
        say("partitioned: " + all.map { $0.joined(separator: ",") }.joined(separator: " | "))
        if !skipped.isEmpty { warn("not running, not changed: \(skipped.joined(separator: ", "))") }
    }
}

struct Block: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Drop traffic from one node to another, one way only.")
    @OptionGroup var cluster: ClusterOptions
    @Argument(help: "Sender.", completion: nodeIDs) var from: String
    @Argument(help: "Receiver.", completion: nodeIDs) var to: String

    func run() throws {
        let spec = try cluster.runningSpec()
        try cluster.controller.block(spec, from: from, to: to)
        say("blocked \(from) -> \(to)")
    }
}

struct SlowDisk: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slow-disk",
        abstract: "Delay every sync of a node's disk by DURATION (0 or off: back to normal).",
        discussion: """
            The sync still happens after the delay, so nothing about durability changes: the node only becomes \
            slow, as on a failing or overloaded disk. Each sync over raftd's --slow-sync-warning (1 s) is logged \
            and shows as a slow-disk event.
            """)
    @OptionGroup var cluster: ClusterOptions
    @Argument(help: "Node id.", completion: nodeIDs) var id: String
    @Argument(help: "Delay before each sync, e.g. 200ms or 2s (at most 60s); 0 or off to clear.") var delay: String

    func run() throws {
        if delay != "0" && delay != "off" {
            let milliseconds = try parseDuration(delay, option: "DURATION")
            guard milliseconds <= 60_000 else { throw RaftctlError.usage("DURATION must be at most 60s") }
        }
        let spec = try cluster.runningSpec()
        var request = AdminRequest(op: "slow-disk", id: .number(1))
        request.delay = delay
        struct Result: Decodable {
            var delayMilliseconds: Int
            var slowSyncs: UInt64
        }
        let result: Result = try cluster.controller.admin(spec, id).call(request)
        FaultLog.record(cluster.directory, "slow-disk", [id], result.delayMilliseconds == 0 ? "off" : delay)
        if result.delayMilliseconds == 0 {
            say("\(id) syncs are no longer delayed (slow syncs so far: \(result.slowSyncs))")
        } else {
            say("\(id) syncs are delayed by \(result.delayMilliseconds) ms (slow syncs so far: \(result.slowSyncs))")
        }
    }
}

struct Heal: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove every cut and block.")
    @OptionGroup var cluster: ClusterOptions

    func run() throws {
        let spec = try cluster.runningSpec()
        let skipped = try cluster.controller.heal(spec)
        say("healed")
        if !skipped.isEmpty { warn("not running, not changed: \(skipped.joined(separator: ", "))") }
    }
}

struct Failpoint: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List a node's failpoints, or arm one: crash, pause:DURATION, drop, on (unsafe ones), off.",
        discussion: """
            Failpoints are named points in raftd where a fault is injected on purpose: \
            \(FailpointCatalog.names.joined(separator: ", ")). The unsafe- ones break linearizability on purpose \
            and need raftd started with --allow-unsafe-failpoints (put `allow-unsafe-failpoints = true` in the \
            node's raftd.conf). See raftd(8).
            """)
    @OptionGroup var cluster: ClusterOptions
    @Argument(help: "Node id.", completion: nodeIDs) var id: String
    @Argument(help: "Failpoint name.", completion: .list(FailpointCatalog.names)) var name: String?
    @Argument(help: "crash, pause:DURATION, drop, on or off.", completion: .list(FailpointCatalog.actions))
    var action: String?

    func run() throws {
        let spec = try cluster.runningSpec()
        var request = AdminRequest(op: "failpoint", id: .number(1))
        if let name {
            guard let action else { throw RaftctlError.usage("give an action: crash, pause:DURATION, drop, on or off") }
            request.name = name
            request.action = action
        }
        let armed: [String: String] = try cluster.controller.admin(spec, id).call(request)
        if let name, let action { FaultLog.record(cluster.directory, "failpoint", [id], "\(name) \(action)") }
        // Arming one prints that one (as the list shows it); without a name, the whole list.
        for listed in armed.keys.sorted() where name == nil || listed == name { say("\(listed)  \(armed[listed]!)") }
    }
}
