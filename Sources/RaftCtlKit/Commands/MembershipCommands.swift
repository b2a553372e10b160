import ArgumentParser
import FoundationEssentials
import RaftAPI
import RaftText

/// `raftctl members`: the membership the leader follows, with addresses, match indexes and process states.
struct Members: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The members: voter or learner, addresses, match index (on the leader), process.",
        discussion: """
            Asks the leader (or, without one, any running node). --json prints {"leader": id|null, "commitIndex": n, \
            "members": [{"id", "kind", "peerAddress", "clientURL", "matchIndex", "process"}]}; kind is voter or \
            learner, matchIndex is null when the answering node does not lead.
            """)
    @OptionGroup var cluster: ClusterOptions
    @Flag(help: "Print JSON.") var json = false

    struct Row: Encodable {
        var id: String
        var kind: String
        var peerAddress: String?
        var clientURL: String?
        var matchIndex: UInt64?
        var process: String

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(id, forKey: .id)
            try c.encode(kind, forKey: .kind)
            try c.encode(peerAddress, forKey: .peerAddress)
            try c.encode(clientURL, forKey: .clientURL)
            try c.encode(matchIndex, forKey: .matchIndex)
            try c.encode(process, forKey: .process)
        }
        enum Keys: String, CodingKey { case id, kind, peerAddress, clientURL, matchIndex, process }
    }

    struct Document: Encodable {
        var leader: String?
        var commitIndex: UInt64
        var members: [Row]

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(leader, forKey: .leader)
            try c.encode(commitIndex, forKey: .commitIndex)
            try c.encode(members, forKey: .members)
        }
        enum Keys: String, CodingKey { case leader, commitIndex, members }
    }

    func run() throws {
        let spec = try cluster.runningSpec()
        let answer = try cluster.controller.members(spec)
        let rows = answer.members.map { member in
            Row(
                id: member.id, kind: member.kind, peerAddress: member.peerAddress,
                clientURL: member.clientURL ?? spec.node(member.id).map(spec.clientURL), matchIndex: member.matchIndex,
                process: NodeProcess.inspect(cluster.directory, member.id).state.rawValue)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(
                Document(leader: answer.leader, commitIndex: answer.commitIndex, members: rows))
            say(String(decoding: data, as: UTF8.self))
            return
        }
        var table = [["ID", "KIND", "PEER", "CLIENT URL", "MATCH", "PROCESS"]]
        for row in rows {
            table.append([
                row.id + (row.id == answer.leader ? "*" : ""), row.kind, row.peerAddress ?? "-", row.clientURL ?? "-",
                row.matchIndex.map(String.init) ?? "-", row.process,
            ])
        }
        say(renderTable(table))
        say("commit index \(answer.commitIndex) (as \(answer.node) sees it)")
    }
}

/// `raftctl add-node`: a new member, added as a learner, caught up, then promoted.
struct AddNode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-node",
        abstract: "Add a member: learner first, caught up (by snapshot if needed), then promoted to voter.",
        discussion: """
            Picks the next free id and two free ports, asks the leader to add the node as a learner, starts its \
            raftd (supervised, --initial-cluster-state existing) and waits until it holds every committed entry; \
            then promotes it, unless --learner. Prints the id, how it caught up and how long it took. Exits 1 if \
            it cannot catch up within --wait: it then stays a running learner, and the message says how to \
            promote or remove it.
            """)
    @OptionGroup var cluster: ClusterOptions
    @Option(help: "The new node's id (default: the next free nK).") var id: String?
    @Flag(help: "Leave it a learner (promote it later with `raftctl promote`).") var learner = false
    @Option(help: "How long it may take to catch up, e.g. 30s.") var wait = "30s"
    @Option(help: ArgumentHelp("The raftd binary.", valueName: "path")) var raftd: String?

    func run() throws {
        let milliseconds = try parseDuration(wait, option: "--wait")
        _ = try cluster.runningSpec()
        let outcome = try cluster.controller.addNode(
            id: id, learner: learner, waitMilliseconds: milliseconds,
            raftd: try ClusterController.raftdPath(raftd))
        say(
            "\(outcome.id) added as a \(outcome.voter ? "voter" : "learner"): caught up from \(outcome.caughtUpBy)"
                + " in \(DurationText.format(milliseconds: Int(outcome.milliseconds)))")
    }
}

/// `raftctl remove-node`: a member leaves; a leader hands over first.
struct RemoveNode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove-node",
        abstract: "Remove a member (a leader hands over first); its process stops once the change is committed.",
        discussion: """
            Refused when the remaining voters heard from within an election timeout would be fewer than their \
            quorum (for example removing a voter while one of the other two is down), unless --force. The data \
            directory stays unless --purge.
            """)
    @OptionGroup var cluster: ClusterOptions
    @Argument(help: "Node id.", completion: nodeIDs) var id: String
    @Flag(help: "Also delete its data directory.") var purge = false
    @Flag(help: "Remove it even if the remaining voters cannot form a quorum now.") var force = false

    func run() throws {
        _ = try cluster.runningSpec()
        let index = try cluster.controller.removeNode(id, purge: purge, force: force)
        say("\(id) removed at index \(index)" + (purge ? "; its data directory is deleted" : ""))
    }
}

/// `raftctl promote`: a learner becomes a voter.
struct Promote: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a learner a voter (refused until it holds every committed entry).")
    @OptionGroup var cluster: ClusterOptions
    @Argument(help: "Node id.", completion: nodeIDs) var id: String

    func run() throws {
        _ = try cluster.runningSpec()
        let index = try cluster.controller.promote(id)
        say("\(id) is a voter (index \(index))")
    }
}

/// `raftctl replace-node`: rebuild a member whose data is gone, under the same id, safely.
struct ReplaceNode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replace-node",
        abstract: "Replace a member whose data is lost: remove it, then add it back empty as a learner and promote it.",
        discussion: """
            The old identity leaves the configuration first (its process is stopped and its data directory \
            deleted), so the empty node never votes or acknowledges as the old one; then it joins again under \
            the same id, catches up as a learner and is promoted.
            """)
    @OptionGroup var cluster: ClusterOptions
    @Argument(help: "Node id.", completion: nodeIDs) var id: String
    @Option(help: "How long it may take to catch up, e.g. 30s.") var wait = "30s"
    @Flag(help: "Remove it even if the remaining voters cannot form a quorum now.") var force = false
    @Option(help: ArgumentHelp("The raftd binary.", valueName: "path")) var raftd: String?

    func run() throws {
        let milliseconds = try parseDuration(wait, option: "--wait")
        let spec = try cluster.runningSpec()
        _ = try cluster.controller.resolveNode(spec, id)
        if NodeProcess.inspect(cluster.directory, id).pid != nil { _ = try? cluster.controller.kill(id, signal: 9) }
        let index = try cluster.controller.removeNode(id, purge: true, force: force)
        say("\(id) removed at index \(index); its data directory is deleted")
        let outcome = try cluster.controller.addNode(
            id: id, learner: false, waitMilliseconds: milliseconds, raftd: try ClusterController.raftdPath(raftd))
        say(
            "\(id) rejoined empty and is a voter again: caught up from \(outcome.caughtUpBy) in"
                + " \(DurationText.format(milliseconds: Int(outcome.milliseconds)))")
    }
}
