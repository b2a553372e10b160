import RaftCore

/// Executes scenario commands (see ``ScenarioScript`` for the language) against one ``Cluster`` and returns
/// each command's output lines.
///
/// Invariants: output lines are never empty (a blank line ends a block); an event is printed by the command
/// during which it happened (unless that command is `quiet`) and again by the next `events`.
public final class ScenarioRunner {
    public private(set) var cluster: Cluster?
    /// How many entries of `cluster.eventLog` the activity output has covered (printed, or skipped by `quiet`).
    private var shownEvents = 0
    /// How many entries of `cluster.eventLog` the `events` command has printed.
    private var eventsCommandCursor = 0
    /// Output of the command being executed.
    private var out: [String] = []
    /// The current command asked for `quiet`: activity is not printed.
    private var quiet = false
    /// Upper bound on ticks for commands that tick until something happens.
    private let maxTicksPerCommand = 10_000
    /// Upper bound on delivery rounds in one `stabilize`.
    private let maxStabilizeRounds = 10_000

    public init() {}

    /// Runs one command; throws on a syntax error or a command that makes no sense in the current state.
    public func execute(_ command: ScenarioCommand) throws(ScenarioError) -> [String] {
        let normalized = command.text.replacing("|", with: " | ")
        var words = normalized.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard !words.isEmpty else { throw ScenarioError(line: command.line, message: "empty command") }
        let name = words.removeFirst()
        var args = ScenarioArguments(line: command.line, words: words)
        out = []
        quiet = args.flag("quiet")
        defer { quiet = false }
        if name == "cluster" {
            try createCluster(&args)
        } else {
            guard let cluster else { throw args.error("the first command must be `cluster`") }
            try dispatch(name, &args, cluster)
        }
        try args.finish()
        return out.isEmpty ? ["ok"] : out
    }

    // swiftlint:disable:next cyclomatic_complexity
    private func dispatch(_ name: String, _ args: inout ScenarioArguments, _ cluster: Cluster) throws(ScenarioError) {
        switch name {
        // Time
        case "tick":
            let id = try runningNode(&args, cluster)
            let times = try positionalCount(&args) ?? 1
            for _ in 0..<times { activity { cluster.tickWithoutDelivery(id) } }
        case "tick-election":
            let id = try runningNode(&args, cluster)
            guard cluster[id].raft.currentRole != .leader else { throw args.error("\(id) is the leader") }
            try tickUntil(id, cluster, args) { events, _ in
                events.contains { node, event in
                    if node == id, case .electionStarted = event { return true }
                    return false
                }
            }
        case "tick-heartbeat":
            let id = try runningNode(&args, cluster)
            guard cluster[id].raft.currentRole == .leader else { throw args.error("\(id) is not the leader") }
            try tickUntil(id, cluster, args) { _, sent in
                sent.contains { if case .heartbeat = $0.body { return true } else { return false } }
                    || cluster[id].raft.currentRole != .leader
            }
        case "tick-all":
            guard let rounds = try positionalCount(&args) else { throw args.error("expected a number of ticks") }
            for round in 1...max(rounds, 1) where rounds > 0 {
                for id in cluster.ids { cluster.tickWithoutDelivery(id) }
                stabilize(cluster, printMessages: false)
                printEvents(prefix: "tick \(round): ")
            }
        // Inputs
        case "campaign":
            let id = try runningNode(&args, cluster)
            activity { cluster.campaign(id) }
        case "propose":
            let id = try runningNode(&args, cluster)
            let pairs = args.takeAllOptions()
            guard !pairs.isEmpty else { throw args.error("expected key=value") }
            for (key, value) in pairs {
                let pendingBefore = cluster.pending.count
                do {
                    let outcome = try cluster.propose(KVStateMachine.putCommand(key, value), on: id)
                    switch outcome {
                    case .appended(let index, let term)?:
                        out.append("\(id): put \(key) \(value) appended at \(index)@\(term.rawValue)")
                    case .forwarded(let leader)?: out.append("\(id): put \(key) \(value) forwarded to \(leader)")
                    case nil: break
                    }
                } catch {
                    out.append("\(id): put \(key) \(value) refused: \(error)")
                }
                printActivity(since: pendingBefore)
            }
        case "read":
            let id = try runningNode(&args, cluster)
            guard let context = try args.intOption("ctx") else { throw args.error("expected ctx=N") }
            try refusable(id) { () throws(RaftError) in try cluster.readIndex(ReadContext(UInt64(context)), on: id) }
        case "transfer":
            let id = try runningNode(&args, cluster)
            guard let target = try args.nodeOption("to") else { throw args.error("expected to=nX") }
            try refusable(id) { () throws(RaftError) in try cluster.transferLeadership(from: id, to: target) }
        case "leader-conn-closed":
            let id = try runningNode(&args, cluster)
            guard let peer = try args.nodeOption("by") else { throw args.error("expected by=nX") }
            activity { cluster.reportLeaderConnectionClosed(on: id, by: peer) }
        case "snapshot":
            let id = try runningNode(&args, cluster)
            activity { cluster.takeSnapshot(on: id) }
        case "crash":
            let id = try knownNode(&args, cluster)
            guard cluster[id].isRunning else { throw args.error("\(id) is already down") }
            let discarded = cluster.pending.filter { $0.to == id || $0.from == id }
            cluster.crash(id)
            out.append(contentsOf: discarded.map { "dropped " + ScenarioRendering.message($0) + " (down)" })
        case "restart":
            let id = try knownNode(&args, cluster)
            guard !cluster[id].isRunning else { throw args.error("\(id) is running") }
            activity { cluster.restart(id) }
            out.append(ScenarioRendering.status(cluster[id]))
        case "process":
            for id in try nodeList(&args, cluster) { activity { cluster.drain(id) } }
        // Network
        case "partition":
            var groups: [[NodeID]] = [[]]
            while let word = args.popPositional() {
                if word == "|" {
                    groups.append([])
                } else {
                    guard let id = NodeID(parsing: word), cluster.ids.contains(id) else {
                        throw args.error("`\(word)` is not a node of this cluster")
                    }
                    groups[groups.count - 1].append(id)
                }
            }
            guard groups.count >= 2, groups.allSatisfy({ !$0.isEmpty }) else {
                throw args.error("expected groups separated by `|`, like `partition n1 | n2 n3`")
            }
            cluster.partition(groups)
        case "isolate":
            cluster.isolate(try knownNode(&args, cluster))
        case "block", "unblock":
            guard let spec = args.popPositional() else { throw args.error("expected a link like n1->n2") }
            let links = try parseLinks(spec, args, cluster)
            for link in links {
                if name == "block" { cluster.blocked.insert(link) } else { cluster.blocked.remove(link) }
            }
        case "heal":
            cluster.heal()
        case "deliver", "drop":
            let filter = try MessageFilter(&args)
            var matched = 0
            let batch = cluster.pending
            cluster.pending = []
            var keep: [Message] = []
            for message in batch {
                guard filter.matches(message), matched < filter.limit else {
                    keep.append(message)
                    continue
                }
                matched += 1
                if name == "drop" {
                    out.append("dropped " + ScenarioRendering.message(message))
                } else if let reason = deliver(message, cluster) {
                    out.append("dropped " + ScenarioRendering.message(message) + " (\(reason))")
                } else {
                    out.append(ScenarioRendering.message(message))
                }
            }
            cluster.pending = keep + cluster.pending
        case "stabilize":
            stabilize(cluster, printMessages: true)
        // Inspection
        case "status":
            for id in try nodeList(&args, cluster) { out.append(ScenarioRendering.status(cluster[id])) }
        case "progress":
            let id = try runningNode(&args, cluster)
            let status = cluster[id].raft.status
            guard status.role == .leader else { throw args.error("\(id) is not the leader") }
            for f in status.followers {
                out.append(
                    "\(f.id): match=\(f.matchIndex) next=\(f.nextIndex) \(f.state)"
                        + (f.recentlyActive ? " active" : " inactive"))
            }
        case "log":
            for id in try nodeList(&args, cluster) { printLog(cluster[id]) }
            if out.isEmpty { out.append("(none)") }
        case "kv":
            for id in try nodeList(&args, cluster) {
                let values = cluster[id].stateMachine.values
                if values.isEmpty { out.append("\(id): (empty)") }
                for key in values.keys.sorted() { out.append("\(id): \(key)=\(values[key]!)") }
            }
        case "reads":
            let id = try knownNode(&args, cluster)
            for read in cluster.takeReadStates(on: id) {
                out.append("\(id): ctx=\(read.context.rawValue) index=\(read.index)")
            }
            for context in cluster.takeFailedReads(on: id) { out.append("\(id): ctx=\(context.rawValue) failed") }
            if out.isEmpty { out.append("(none)") }
        case "events":
            printEventsSinceLastCall(cluster)
            if out.isEmpty { out.append("(none)") }
        case "messages":
            for message in cluster.pending {
                let blocked = cluster.blocked.contains(Link(message.from, message.to))
                out.append(ScenarioRendering.message(message) + (blocked ? " (blocked)" : ""))
            }
            if out.isEmpty { out.append("(none)") }
        default:
            throw args.error("unknown command `\(name)`")
        }
    }

    // MARK: - Setting up

    private func createCluster(_ args: inout ScenarioArguments) throws(ScenarioError) {
        guard cluster == nil else { throw args.error("the cluster already exists") }
        guard let size = try positionalCount(&args), (1...9).contains(size) else {
            throw args.error("expected a cluster size from 1 to 9")
        }
        let seed = UInt64(try args.intOption("seed") ?? 1)
        let preVote = try args.boolOption("prevote") ?? true
        let checkQuorum = try args.boolOption("checkquorum") ?? true
        let snapshotEvery = try args.intOption("snapshot-every")
        let heartbeat = try args.intOption("heartbeat") ?? 2
        let maxMessageBytes = try args.intOption("max-msg-bytes")
        var election = 10...20
        if let text = args.option("election") {
            let parts = text.split(separator: "-").map { Int($0) }
            if parts.count == 1, let low = parts[0] {
                election = low...low
            } else if parts.count == 2, let low = parts[0], let high = parts[1], low <= high {
                election = low...high
            } else {
                throw args.error("election=\(text): expected ticks like 10-20 or 10")
            }
        }
        var problem: String?
        let cluster = Cluster(size: size, seed: seed, snapshotEveryEntries: snapshotEvery) { config in
            config.preVote = preVote
            config.checkQuorum = checkQuorum
            config.heartbeatIntervalTicks = heartbeat
            config.electionTimeoutTicks = election
            if let maxMessageBytes { config.maxMessageBytes = maxMessageBytes }
            problem = problem ?? config.validate()
        }
        if let problem { throw args.error("invalid configuration: \(problem)") }
        self.cluster = cluster
        for id in cluster.ids { out.append(ScenarioRendering.status(cluster[id])) }
    }

    // MARK: - Activity

    /// Runs `body` (which drains nodes) and prints the events it produced and the messages it queued.
    private func activity(_ body: () -> Void) {
        let pendingBefore = cluster!.pending.count
        body()
        printActivity(since: pendingBefore)
    }

    private func printActivity(since pendingBefore: Int) {
        let cluster = cluster!
        printEvents(prefix: "")
        if !quiet && cluster.pending.count > pendingBefore {
            out.append(contentsOf: cluster.pending[pendingBefore...].map(ScenarioRendering.message))
        }
    }

    /// Prints the events that happened since the last activity output (skipping them when the command is quiet).
    private func printEvents(prefix: String) {
        guard let cluster else { return }
        let log = cluster.eventLog
        guard shownEvents < log.count else { return }
        if !quiet {
            out.append(contentsOf: log[shownEvents...].map { prefix + ScenarioRendering.event($0.node, $0.event) })
        }
        shownEvents = log.count
    }

    /// Prints every event since the previous `events` command, whether or not other commands showed it.
    private func printEventsSinceLastCall(_ cluster: Cluster) {
        let log = cluster.eventLog
        out.append(contentsOf: log[eventsCommandCursor...].map { ScenarioRendering.event($0.node, $0.event) })
        eventsCommandCursor = log.count
    }

    /// Runs `input` on a node, printing `error: …` instead of its activity if the core refuses it.
    private func refusable(_ id: NodeID, _ input: () throws(RaftError) -> Void) throws(ScenarioError) {
        let pendingBefore = cluster!.pending.count
        do {
            try input()
        } catch {
            out.append("\(id): refused: \(error)")
        }
        printActivity(since: pendingBefore)
    }

    /// Ticks one node (without delivering anything) until `done` holds for what the tick produced.
    private func tickUntil(
        _ id: NodeID, _ cluster: Cluster, _ args: ScenarioArguments,
        _ done: (_ events: ArraySlice<(node: NodeID, event: RaftEvent)>, _ sent: ArraySlice<Message>) -> Bool
    ) throws(ScenarioError) {
        for _ in 0..<maxTicksPerCommand {
            let pendingBefore = cluster.pending.count
            let eventsBefore = cluster.eventLog.count
            cluster.tickWithoutDelivery(id)
            let finished = done(cluster.eventLog[eventsBefore...], cluster.pending[pendingBefore...])
            printActivity(since: pendingBefore)
            if finished { return }
        }
        throw args.error("nothing happened within \(maxTicksPerCommand) ticks")
    }

    /// Drains every node and delivers everything until the network is quiet.
    private func stabilize(_ cluster: Cluster, printMessages: Bool) {
        for _ in 0..<maxStabilizeRounds {
            for id in cluster.ids {
                let pendingBefore = cluster.pending.count
                cluster.drain(id)
                if printMessages { printActivity(since: pendingBefore) }
            }
            if cluster.pending.isEmpty { return }
            let batch = cluster.pending
            cluster.pending = []
            for message in batch {
                if let reason = deliver(message, cluster), printMessages, !quiet {
                    out.append("dropped " + ScenarioRendering.message(message) + " (\(reason))")
                }
            }
        }
        preconditionFailure("the cluster did not stabilize within \(maxStabilizeRounds) rounds")
    }

    /// Steps the receiver with `message`, or returns why it was dropped. `cluster.pending` must hold only
    /// messages that are not to be delivered now (the caller keeps the rest aside).
    private func deliver(_ message: Message, _ cluster: Cluster) -> String? {
        if cluster.blocked.contains(Link(message.from, message.to)) { return "blocked" }
        if !cluster[message.to].isRunning { return "down" }
        let aside = cluster.pending
        cluster.pending = [message]
        cluster.deliverAll()
        cluster.pending = aside
        return nil
    }

    // MARK: - Inspection helpers

    private func printLog(_ node: SimNode) {
        guard node.isRunning else {
            out.append("\(node.id): down")
            return
        }
        let status = node.raft.status
        if status.snapshotIndex > .zero {
            let term = node.storage.snapshot.map { String($0.metadata.term.rawValue) } ?? "?"
            out.append("\(node.id): snapshot \(status.snapshotIndex)@\(term)")
        }
        var index = status.snapshotIndex.next
        while index <= status.lastIndex {
            if let entry = node.raft.entry(at: index) { out.append("\(node.id): " + ScenarioRendering.entry(entry)) }
            index = index.next
        }
        if status.lastIndex == .zero { out.append("\(node.id): (empty)") }
    }

    // MARK: - Argument helpers

    private func knownNode(_ args: inout ScenarioArguments, _ cluster: Cluster) throws(ScenarioError) -> NodeID {
        let id = try args.node()
        guard cluster.ids.contains(id) else { throw args.error("\(id) is not a node of this cluster") }
        return id
    }

    private func runningNode(_ args: inout ScenarioArguments, _ cluster: Cluster) throws(ScenarioError) -> NodeID {
        let id = try knownNode(&args, cluster)
        guard cluster[id].isRunning else { throw args.error("\(id) is down") }
        return id
    }

    /// The listed nodes, or every node when none is listed.
    private func nodeList(_ args: inout ScenarioArguments, _ cluster: Cluster) throws(ScenarioError) -> [NodeID] {
        let ids = try args.nodes()
        for id in ids where !cluster.ids.contains(id) { throw args.error("\(id) is not a node of this cluster") }
        return ids.isEmpty ? cluster.ids : ids
    }

    private func positionalCount(_ args: inout ScenarioArguments) throws(ScenarioError) -> Int? {
        guard let text = args.popPositional() else { return nil }
        guard let value = Int(text), value >= 0 else { throw args.error("`\(text)` is not a count") }
        return value
    }

    private func parseLinks(_ spec: String, _ args: ScenarioArguments, _ cluster: Cluster) throws(ScenarioError)
        -> [Link]
    {
        let both = spec.contains("<->")
        let parts = spec.replacing("<->", with: "->").split(separator: "->", omittingEmptySubsequences: false)
        guard parts.count == 2, let a = NodeID(parsing: parts[0]), let b = NodeID(parsing: parts[1]),
            cluster.ids.contains(a), cluster.ids.contains(b), a != b
        else { throw args.error("`\(spec)` is not a link like n1->n2 or n1<->n2") }
        return both ? [Link(a, b), Link(b, a)] : [Link(a, b)]
    }
}

/// Selects pending messages for `deliver` and `drop`.
struct MessageFilter {
    var from: NodeID?
    var to: NodeID?
    var type: String?
    var limit: Int

    init(_ args: inout ScenarioArguments) throws(ScenarioError) {
        from = try args.nodeOption("from")
        to = try args.nodeOption("to")
        type = args.option("type")
        limit = try args.intOption("count") ?? .max
        if let type, !ScenarioRendering.typeNames.contains(type) {
            throw args.error(
                "type=\(type) is not a message type; one of "
                    + ScenarioRendering.typeNames.sorted().joined(separator: ", ")
            )
        }
    }

    func matches(_ message: Message) -> Bool {
        (from == nil || message.from == from) && (to == nil || message.to == to)
            && (type == nil || ScenarioRendering.typeName(message.body) == type)
    }
}
