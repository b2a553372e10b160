import Glibc
import RaftAPI
import RaftClient
import RaftText

/// Membership changes of a local cluster: the leader changes the configuration (through its admin socket), and
/// the cluster file follows, so that `status`, `up`, `down` and the supervisor know the current members.
extension ClusterController {
    /// How `add-node` went.
    public struct AddNodeOutcome: Sendable {
        public var id: String
        public var voter: Bool
        /// `the log`, or `a snapshot at index N`.
        public var caughtUpBy: String
        public var milliseconds: Int64
    }

    /// Sends a membership request to the leader, following a leader change: a request refused because the node
    /// no longer leads, or whose entry a new leader replaced, is sent again to the new leader.
    func onLeader<Result: Decodable>(
        _ spec: ClusterSpec, _ request: AdminRequest, as _: Result.Type = Result.self, timeoutMilliseconds: Int = 15_000
    ) throws(RaftctlError) -> Result {
        var lastProblem = ""
        for _ in 0..<4 {
            let leader = try waitForLeader(spec, milliseconds: 5_000).leader!
            let client = AdminClient(
                socketPath: directory.adminSocket(leader), timeoutMilliseconds: timeoutMilliseconds)
            do {
                return try client.call(request, as: Result.self)
            } catch {
                guard ["not_leader", "superseded", "no_leader", "not_ready"].contains(error.code ?? "") else {
                    throw .failed(error.message)
                }
                lastProblem = error.message
                usleep(200_000)
            }
        }
        throw .failed(lastProblem)
    }

    /// The lowest `nK` above every member's and every node directory's number.
    func nextNodeID(_ spec: ClusterSpec) -> String {
        var highest = spec.ids.compactMap { Int($0.dropFirst()) }.max() ?? 0
        while access(directory.nodeDirectory("n\(highest + 1)"), F_OK) == 0 { highest += 1 }
        return "n\(highest + 1)"
    }

    /// Adds a member: the leader adds it as a learner, its raftd starts joining (`--initial-cluster-state
    /// existing`), it catches up (from the log, or from a snapshot if the leader compacted), and unless `learner`
    /// it is promoted. Fails, saying what stays behind, if it cannot catch up within `waitMilliseconds`.
    public func addNode(
        id requested: String?, learner: Bool, waitMilliseconds: Int, raftd: String
    ) throws(RaftctlError) -> AddNodeOutcome {
        var spec = try directory.loadSpec()
        let id = requested ?? nextNodeID(spec)
        guard id.hasPrefix("n"), let number = Int(id.dropFirst()), number > 0 else {
            throw .usage("a node id looks like n4, not \"\(id)\"")
        }
        guard spec.node(id) == nil else { throw .usage("\(id) is already a member (see `raftctl members`)") }
        if access(directory.nodeDirectory(id), F_OK) == 0 {
            throw .failed(
                "\(directory.nodeDirectory(id)) is still there (from a member removed without --purge): its old state"
                    + " must not come back; remove the directory or choose another id")
        }
        let socketLength = directory.adminSocket(id).utf8.count
        guard socketLength <= AdminProtocol.maxSocketPathBytes else {
            throw .usage("the admin socket of \(id) would be \(socketLength) bytes, over the Unix limit")
        }
        let started = ProcessControl.monotonicMilliseconds()
        let ports = try Self.freePorts(2, excluding: Set(spec.nodes.flatMap { [$0.peerPort, $0.clientPort] }))
        let node = ClusterSpec.Node(id: id, peerPort: ports[0], clientPort: ports[1], added: true)
        var request = AdminRequest(op: "add-member", id: .number(1))
        request.node = id
        request.peer = "\(spec.host):\(node.peerPort)"
        request.client = "\(spec.host):\(node.clientPort)"
        let _: MembershipChangeAnswer = try onLeader(spec, request)
        spec.nodes.append(node)
        try directory.saveSpec(spec)
        FaultLog.record(directory, "add-node", [id])
        do {
            try startProcess(spec, node, raftd: raftd)
            try waitForAdmin(id, milliseconds: 10_000)
        } catch {
            throw .failed(
                "\(id) was added as a learner but its raftd did not start (\(error.message)); remove it with"
                    + " `raftctl remove-node \(id) --purge`")
        }
        let deadline = started + Int64(waitMilliseconds)
        var behind = ""
        while true {
            if let answer = try? onLeader(spec, AdminRequest(op: "members", id: .number(1)), as: MembersAnswer.self),
                let member = answer.members.first(where: { $0.id == id })
            {
                let match = member.matchIndex ?? 0
                if match >= answer.commitIndex && answer.commitIndex > 0 { break }
                behind = " (it holds through \(match) of \(answer.commitIndex))"
            }
            guard ProcessControl.monotonicMilliseconds() < deadline else {
                throw .failed(
                    "\(id) was added as a learner but did not catch up within"
                        + " \(DurationText.format(milliseconds: waitMilliseconds))\(behind); it keeps running as a"
                        + " learner: `raftctl promote \(id)` once it has caught up, or `raftctl remove-node \(id)`")
            }
            usleep(50_000)
        }
        var caughtUpBy = "the log"
        let events = NodeAdmin(socketPath: directory.adminSocket(id), timeoutMilliseconds: 1_000)
        try? events.stream(AdminRequest(op: "events", id: .number(1)), follow: false) { line in
            let marker = "installed from leader at "
            if line.contains("\"kind\":\"snapshot\""), let start = line.split(separator: marker).dropFirst().first {
                caughtUpBy = "a snapshot at index \(start.prefix { $0.isNumber })"
            }
            return true
        }
        if !learner {
            var promote = AdminRequest(op: "promote", id: .number(1))
            promote.node = id
            // Under a steady write load the learner is always a round trip behind the commit index, and the
            // leader promotes only a learner that holds every committed entry: try again until the deadline.
            while true {
                do {
                    let _: MembershipChangeAnswer = try onLeader(spec, promote)
                    break
                } catch {
                    guard ProcessControl.monotonicMilliseconds() < deadline, error.message.contains("has not caught up")
                    else { throw error }
                    usleep(20_000)
                }
            }
        }
        return AddNodeOutcome(
            id: id, voter: !learner, caughtUpBy: caughtUpBy,
            milliseconds: ProcessControl.monotonicMilliseconds() - started)
    }

    /// Removes a member: a leader hands over first; the leader removes it from the configuration; once that is
    /// committed its process is stopped and the cluster file forgets it (its data stays unless `purge`).
    /// Returns the index of the change.
    public func removeNode(_ id: String, purge: Bool, force: Bool) throws(RaftctlError) -> UInt64 {
        var spec = try directory.loadSpec()
        _ = try resolveNode(spec, id)
        let view = gather(spec)
        if view.leader == id {
            let candidates = view.nodes.filter {
                $0.id != id && $0.process == .running && ($0.kind ?? "voter") == "voter"
            }
            if let target = candidates.max(by: { ($0.lastLogIndex ?? 0) < ($1.lastLogIndex ?? 0) }) {
                var transfer = AdminRequest(op: "transfer-leader", id: .number(1))
                transfer.to = target.id
                struct Ack: Decodable {}
                let _: Ack? = try? NodeAdmin(socketPath: directory.adminSocket(id)).call(transfer)
                let deadline = ProcessControl.monotonicMilliseconds() + 3_000
                while ProcessControl.monotonicMilliseconds() < deadline, gather(spec).leader == id { usleep(10_000) }
            }
        }
        var request = AdminRequest(op: "remove-member", id: .number(1))
        request.node = id
        request.force = force ? true : nil
        let answer: MembershipChangeAnswer = try onLeader(spec, request)
        if NodeProcess.inspect(directory, id).pid != nil { try stop(id) }
        spec.nodes.removeAll { $0.id == id }
        try directory.saveSpec(spec)
        FaultLog.record(directory, "remove-node", [id])
        if purge { FileIO.removeTree(directory.nodeDirectory(id)) }
        return answer.index
    }

    /// Promotes a learner that has caught up. Returns the index of the change.
    public func promote(_ id: String) throws(RaftctlError) -> UInt64 {
        let spec = try directory.loadSpec()
        _ = try resolveNode(spec, id)
        var request = AdminRequest(op: "promote", id: .number(1))
        request.node = id
        let answer: MembershipChangeAnswer = try onLeader(spec, request)
        return answer.index
    }

    /// The membership as the leader (or, without one, any running node) sees it.
    public func members(_ spec: ClusterSpec) throws(RaftctlError) -> MembersAnswer {
        let view = gather(spec)
        let order = (view.leader.map { [$0] } ?? []) + view.nodes.filter { $0.process == .running }.map(\.id)
        for id in order {
            if let answer = try? NodeAdmin(socketPath: directory.adminSocket(id)).call(
                AdminRequest(op: "members", id: .number(1)), as: MembersAnswer.self)
            {
                return answer
            }
        }
        throw .notRunning("no node answered (start the cluster with `raftctl up`)")
    }
}
