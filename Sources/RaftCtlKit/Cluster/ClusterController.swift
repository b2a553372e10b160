import FoundationEssentials
import Glibc
import RaftAPI
import RaftClient
import RaftText

/// One node as `status` shows it: its process and, when it answers, its Raft state.
public struct NodeView: Sendable, Codable {
    public var id: String
    public var process: ProcessState
    public var pid: Int32?
    public var role: String?
    /// In the membership the node follows: `voter`, `learner`, `joining` or `removed` (nil when it does not
    /// answer).
    public var kind: String?
    /// Why a halted node stopped (its HALTED file).
    public var haltedReason: String?
    public var term: UInt64?
    public var leader: String?
    public var commitIndex: UInt64?
    public var appliedIndex: UInt64?
    public var lastLogIndex: UInt64?
    public var clientURL: String
    public var blockedIn: [String]
    public var blockedOut: [String]
    /// `ok`, or `failed: why` (nil when the node does not answer).
    public var storage: String?
    public var disk: NodeStatus.Disk?
    /// The alarms this node knows of (its own and its peers').
    public var alarms: [NodeStatus.Alarm] = []
}

/// The `status --json` document.
public struct ClusterView: Sendable, Codable {
    public var leader: String?
    public var term: UInt64?
    public var nodes: [NodeView]
    /// Every alarm any answering node knows of, one per node and kind.
    public var alarms: [NodeStatus.Alarm] = []

    /// The cuts in force as `FROM->TO` links, sorted: what a node drops (`blockedOut`), and what it refuses
    /// (`blockedIn`) unless the sender already drops it.
    public var cuts: [String] { cutLinks.map { "\($0.from)->\($0.to)" } }

    var cutLinks: [(from: String, to: String)] {
        var links: Set<[String]> = []
        for node in nodes {
            for peer in node.blockedOut { links.insert([node.id, peer]) }
            for peer in node.blockedIn
            where !nodes.contains(where: { $0.id == peer && $0.blockedOut.contains(node.id) }) {
                links.insert([peer, node.id])
            }
        }
        return links.sorted { $0.lexicographicallyPrecedes($1) }.map { ($0[0], $0[1]) }
    }

    /// The lines printed under the status table: one per alarm, failed storage, paused or crashed node, and cut
    /// (a cut both ways is one line).
    public var warnings: [String] {
        var lines: [String] = []
        for alarm in alarms {
            switch alarm.kind {
            case "no_space":
                lines.append(
                    "warning: \(alarm.node) is out of space: \(alarm.message); the cluster takes only reads and deletes (507 no_space)"
                )
            case "storage_failed":
                lines.append(
                    "warning: \(alarm.node) storage failed: \(alarm.message); it exits with status 74 and is restarted")
            default:
                lines.append("warning: \(alarm.node) \(alarm.kind): \(alarm.message)")
            }
        }
        for node in nodes {
            switch node.process {
            case .paused:
                lines.append(
                    "warning: \(node.id) is paused: it neither ticks nor answers (`raftctl resume \(node.id)`)")
            case .crashed:
                lines.append("warning: \(node.id) crashed: it exited on its own; the supervisor restarts it")
            case .halted:
                lines.append(
                    "warning: \(node.id) halted: \(node.haltedReason ?? "it lost entries it had acknowledged")")
            default:
                if let storage = node.storage, storage != "ok",
                    !alarms.contains(where: { $0.node == node.id && $0.kind == "storage_failed" })
                {
                    lines.append("warning: \(node.id) storage \(storage)")
                }
            }
        }
        let links = cutLinks
        for (from, to) in links {
            if links.contains(where: { $0.from == to && $0.to == from }) {
                guard from < to else { continue }
                lines.append(
                    "warning: cut \(from)<->\(to): messages between \(from) and \(to) are dropped both ways (`raftctl heal`)"
                )
            } else {
                lines.append("warning: cut \(from)->\(to): messages from \(from) to \(to) are dropped (`raftctl heal`)")
            }
        }
        return lines
    }
}

/// Operations on a local cluster through its directory, its nodes' admin sockets and their processes.
public struct ClusterController: Sendable {
    public let directory: ClusterDirectory

    public init(directory: ClusterDirectory) {
        self.directory = directory
    }

    // MARK: - Creating and starting

    public struct UpOptions: Sendable {
        public var nodes = 3
        public var basePort: Int?
        public var electionTimeout = "150ms-300ms"
        public var heartbeat = "50ms"
        public var fsync = "always"
        public var raftdPath: String?
        public var waitMilliseconds = 10_000
        /// The settings the operator gave (`nodes`, `base-port`, `election-timeout`, `heartbeat`, `fsync`): an
        /// existing cluster keeps its own, so these must match them.
        public var explicitSettings: Set<String> = []

        public init() {}
    }

    /// The raftd binary: `--raftd`, else the one installed beside raftctl.
    static func raftdPath(_ option: String?) throws(RaftctlError) -> String {
        let path: String
        if let option {
            path = ClusterDirectory.absolute(option)
        } else {
            let me = ProcessControl.currentExecutable()
            path = String(me[..<(me.lastIndex(of: "/") ?? me.startIndex)]) + "/raftd"
        }
        guard access(path, X_OK) == 0 else {
            throw .failed("cannot find an executable raftd at \(path) (build it, or pass --raftd PATH)")
        }
        return path
    }

    /// Creates the cluster on first use (or checks the given settings against it), starts every node that is not
    /// running and the supervisor, and waits for a leader.
    public func up(_ options: UpOptions) throws(RaftctlError) -> ClusterView {
        if let pid = supervisorPID() {
            throw .failed(
                "the cluster in \(directory.path) is already running (supervisor pid \(pid)); use `raftctl status`")
        }
        let raftd = try Self.raftdPath(options.raftdPath)
        var spec: ClusterSpec
        if directory.exists {
            spec = try directory.loadSpec()
            try checkSettings(options, against: spec)
        } else {
            spec = try create(options)
        }
        // A member that must not start (halted, or its data emptied) does not keep the others down.
        var refused: [String] = []
        for node in spec.nodes {
            let process = NodeProcess.inspect(directory, node.id)
            if process.pid == nil {
                if let refusal = startRefusal(spec, node) {
                    refused.append(refusal)
                    continue
                }
                try startProcess(spec, node, raftd: raftd)
            } else {
                try NodeProcess.writeIntent(directory, node.id, .running)
            }
        }
        try startSupervisor(raftd: raftd)
        let view = try waitForLeader(spec, milliseconds: options.waitMilliseconds)
        if spec.bootstrapped != true {
            spec.bootstrapped = true
            try directory.saveSpec(spec)
        }
        if !refused.isEmpty {
            throw .failed("the cluster is up, but not every member started:\n" + refused.joined(separator: "\n"))
        }
        return view
    }

    /// Settings apply only when a cluster is created; silently ignoring different ones would run a cluster other than
    /// the one asked for, so they are refused.
    private func checkSettings(_ options: UpOptions, against spec: ClusterSpec) throws(RaftctlError) {
        let given = options.explicitSettings
        var differing: [String] = []
        if given.contains("nodes"), options.nodes != spec.nodes.count {
            differing.append("--nodes \(options.nodes) (it has \(spec.nodes.count))")
        }
        if given.contains("base-port"), let base = options.basePort, base != spec.nodes.first?.peerPort {
            differing.append("--base-port \(base) (it uses \(spec.nodes.first?.peerPort ?? 0))")
        }
        if given.contains("election-timeout"),
            DurationText.range(options.electionTimeout) != DurationText.range(spec.electionTimeout)
        {
            differing.append("--election-timeout \(options.electionTimeout) (it has \(spec.electionTimeout))")
        }
        if given.contains("heartbeat"),
            DurationText.milliseconds(options.heartbeat) != DurationText.milliseconds(spec.heartbeat)
        {
            differing.append("--heartbeat \(options.heartbeat) (it has \(spec.heartbeat))")
        }
        if given.contains("fsync"), options.fsync != spec.fsync {
            differing.append("--fsync \(options.fsync) (it has \(spec.fsync))")
        }
        guard differing.isEmpty else {
            throw .usage(
                "the cluster in \(directory.path) already exists with other settings: "
                    + differing.joined(separator: ", ")
                    + "; settings apply only when a cluster is created (`raftctl down --purge` first to recreate it)")
        }
    }

    private func create(_ options: UpOptions) throws(RaftctlError) -> ClusterSpec {
        guard (1...9).contains(options.nodes) else { throw .usage("--nodes must be between 1 and 9") }
        guard DurationText.range(options.electionTimeout) != nil else {
            throw .usage("--election-timeout must be a range like 150ms-300ms, not \"\(options.electionTimeout)\"")
        }
        guard DurationText.milliseconds(options.heartbeat) != nil else {
            throw .usage("--heartbeat must be a duration like 50ms, not \"\(options.heartbeat)\"")
        }
        guard options.fsync == "always" || options.fsync == "never" else {
            throw .usage("--fsync must be always or never, not \"\(options.fsync)\"")
        }
        let socketLength = directory.adminSocket("n\(options.nodes)").utf8.count
        guard socketLength <= AdminProtocol.maxSocketPathBytes else {
            throw .usage(
                "the cluster directory \(directory.path) is too deep: node admin sockets would be \(socketLength) bytes,"
                    + " over the Unix limit of \(AdminProtocol.maxSocketPathBytes); use a shorter --cluster-dir")
        }
        let ports: [Int]
        if let base = options.basePort {
            guard base > 0, base + 2 * options.nodes - 1 <= 65535 else {
                throw .usage("--base-port \(base) leaves no room for \(2 * options.nodes) ports")
            }
            ports = Array(base..<(base + 2 * options.nodes))
            for port in ports where !Self.portIsFree(port) {
                throw .failed("port \(port) (in --base-port \(base)…\(base + 2 * options.nodes - 1)) is already in use")
            }
        } else {
            ports = try Self.freePorts(2 * options.nodes)
        }
        try FileIO.makeDirectories(directory.path)
        chmod(directory.path, 0o700)
        var nodes: [ClusterSpec.Node] = []
        for i in 0..<options.nodes {
            nodes.append(ClusterSpec.Node(id: "n\(i + 1)", peerPort: ports[2 * i], clientPort: ports[2 * i + 1]))
        }
        let spec = ClusterSpec(
            clusterID: String(UInt64.random(in: 1...UInt64.max), radix: 16), electionTimeout: options.electionTimeout,
            heartbeat: options.heartbeat, fsync: options.fsync, nodes: nodes)
        try directory.saveSpec(spec)
        return spec
    }

    /// A TCP socket bound to 127.0.0.1:`port` (0: a port the kernel chooses) and the port it got, or nil; the
    /// caller closes it.
    static func bindLoopback(port: Int, reuseAddress: Bool) -> (fd: Int32, port: Int)? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        if reuseAddress {
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            return nil
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    static func portIsFree(_ port: Int) -> Bool {
        // raftd listens with SO_REUSEADDR, so connections lingering in TIME_WAIT do not make a port busy.
        guard let bound = bindLoopback(port: port, reuseAddress: true) else { return false }
        close(bound.fd)
        return true
    }

    /// `count` distinct loopback ports that are free now and not in `excluding` (ports the cluster already uses).
    /// Each is chosen by the kernel (bind to port 0), and every socket stays bound until all are chosen: closed
    /// one at a time, the kernel may hand out the same port twice, and a node whose peer and client ports are
    /// the same cannot start.
    static func freePorts(_ count: Int, excluding: Set<Int> = []) throws(RaftctlError) -> [Int] {
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        var ports: [Int] = []
        // A port in `excluding` may be free now (its node is down); such picks are held and skipped.
        for _ in 0..<(count + 64) where ports.count < count {
            guard let bound = bindLoopback(port: 0, reuseAddress: false) else { break }
            sockets.append(bound.fd)
            if !excluding.contains(bound.port) && !ports.contains(bound.port) { ports.append(bound.port) }
        }
        guard ports.count == count else { throw .failed("cannot find \(count) free loopback ports") }
        return ports
    }

    /// The raftd command line for one node.
    func raftdArguments(_ spec: ClusterSpec, _ node: ClusterSpec.Node, raftd: String) -> [String] {
        [
            raftd, "--id", node.id, "--peers", spec.peerList, "--cluster-id", spec.clusterID, "--data-dir",
            directory.nodeDirectory(node.id), "--client-listen", "\(spec.host):\(node.clientPort)",
            "--election-timeout", spec.electionTimeout, "--heartbeat", spec.heartbeat, "--fsync", spec.fsync,
            "--initial-cluster-state", node.added == true ? "existing" : "new",
        ] + (access(directory.configPath(node.id), R_OK) == 0 ? ["--config", directory.configPath(node.id)] : [])
    }

    /// Why `node` must not be started as it is, if so: it halted after losing acknowledged entries, or it is an
    /// original member whose data directory is empty while the others have run (it would forget its votes and
    /// what it acknowledged).
    public func startRefusal(_ spec: ClusterSpec, _ node: ClusterSpec.Node) -> String? {
        if let reason = FileIO.readText(directory.haltedMarkerPath(node.id)) {
            return reason.split(separator: "\n").first.map(String.init) ?? reason
        }
        guard spec.bootstrapped == true, node.added != true, !directory.hasRaftState(node.id) else { return nil }
        return
            "\(node.id)'s data directory \(directory.nodeDirectory(node.id)) holds no Raft state, but the cluster has"
            + " run: starting it would let it forget its votes and the entries it acknowledged."
            + " Replace it instead: raftctl replace-node \(node.id)"
    }

    func startProcess(_ spec: ClusterSpec, _ node: ClusterSpec.Node, raftd: String) throws(RaftctlError) {
        if let refusal = startRefusal(spec, node) { throw .failed(refusal) }
        let nodeDirectory = directory.nodeDirectory(node.id)
        if mkdir(nodeDirectory, 0o700) != 0 && errno != EEXIST {
            throw .failed("cannot create \(nodeDirectory): \(String(cString: strerror(errno)))")
        }
        try NodeProcess.writeIntent(directory, node.id, .running)
        let pid = try ProcessControl.spawnDetached(
            raftdArguments(spec, node, raftd: raftd), outputPath: directory.outputPath(node.id))
        try FileIO.writeAtomically(directory.spawnedPIDPath(node.id), Array("\(pid)\n".utf8))
    }

    private func startSupervisor(raftd: String) throws(RaftctlError) {
        let me = ProcessControl.currentExecutable()
        let pid = try ProcessControl.spawnDetached(
            [me, "supervise", "--cluster-dir", directory.path, "--raftd", raftd],
            outputPath: directory.supervisorLogPath)
        // Wait until it has written its pid file, so a following `up` or `down` sees it.
        for _ in 0..<200 {
            if supervisorPID() != nil { return }
            if !ProcessControl.isAlive(pid) { break }
            usleep(5_000)
        }
        if supervisorPID() == nil {
            throw .failed("the supervisor did not start; see \(directory.supervisorLogPath)")
        }
    }

    /// The supervisor's pid if it is alive.
    public func supervisorPID() -> pid_t? {
        guard let text = FileIO.readText(directory.supervisorPIDPath),
            let pid = pid_t(text.split(separator: "\n").first ?? ""), ProcessControl.isAlive(pid),
            let command = ProcessControl.commandLine(pid), command.contains("supervise")
        else { return nil }
        return pid
    }

    public func waitForLeader(_ spec: ClusterSpec, milliseconds: Int) throws(RaftctlError) -> ClusterView {
        let deadline = ProcessControl.monotonicMilliseconds() + Int64(milliseconds)
        var view = gather(spec)
        while view.leader == nil {
            guard ProcessControl.monotonicMilliseconds() < deadline else {
                throw .failed(
                    "no leader was elected within \(DurationText.format(milliseconds: milliseconds)); see `raftctl logs ID`"
                )
            }
            usleep(10_000)
            view = gather(spec)
        }
        return view
    }

    // MARK: - Stopping

    /// Stops the supervisor first (so nothing restarts), then every node gracefully, SIGKILL after `graceMilliseconds`.
    public func down(purge: Bool, graceMilliseconds: Int = 5_000) throws(RaftctlError) {
        guard directory.exists else {
            if purge { return }
            throw .notRunning("no cluster at \(directory.path)")
        }
        let spec = try directory.loadSpec()
        if let supervisor = supervisorPID() {
            ProcessControl.send(SIGTERM, to: supervisor)
            if !ProcessControl.waitForExit(supervisor, milliseconds: 2_000) {
                ProcessControl.send(SIGKILL, to: supervisor)
            }
        }
        unlink(directory.supervisorPIDPath)
        var running: [(String, pid_t)] = []
        for node in spec.nodes {
            try NodeProcess.writeIntent(directory, node.id, .stopped)
            if let pid = NodeProcess.inspect(directory, node.id).pid {
                ProcessControl.send(SIGCONT, to: pid)
                ProcessControl.send(SIGTERM, to: pid)
                running.append((node.id, pid))
            }
        }
        for (id, pid) in running where !ProcessControl.waitForExit(pid, milliseconds: graceMilliseconds) {
            ProcessControl.send(SIGKILL, to: pid)
            _ = ProcessControl.waitForExit(pid, milliseconds: 2_000)
            unlink(directory.adminSocket(id))
        }
        if purge { FileIO.removeTree(directory.path) }
    }

    // MARK: - One node

    public func resolveNode(_ spec: ClusterSpec, _ id: String) throws(RaftctlError) -> ClusterSpec.Node {
        guard let node = spec.node(id) else {
            throw .usage("unknown node id \"\(id)\" (this cluster has \(spec.ids.joined(separator: ", ")))")
        }
        return node
    }

    public func start(_ id: String, raftdOption: String?) throws(RaftctlError) {
        let spec = try directory.loadSpec()
        let node = try resolveNode(spec, id)
        let process = NodeProcess.inspect(directory, id)
        if process.pid != nil {
            try NodeProcess.writeIntent(directory, id, .running)
            if process.state == .paused { ProcessControl.send(SIGCONT, to: process.pid!) }
            return
        }
        try startProcess(spec, node, raftd: try Self.raftdPath(raftdOption))
        FaultLog.record(directory, "start", [id])
        try waitForAdmin(id, milliseconds: 10_000)
    }

    func waitForAdmin(_ id: String, milliseconds: Int) throws(RaftctlError) {
        let deadline = ProcessControl.monotonicMilliseconds() + Int64(milliseconds)
        let client = NodeAdmin(socketPath: directory.adminSocket(id), timeoutMilliseconds: 500)
        while (try? client.status()) == nil {
            guard ProcessControl.monotonicMilliseconds() < deadline else {
                throw .failed("\(id) did not come up; see \(directory.logPath(id)) and \(directory.outputPath(id))")
            }
            usleep(10_000)
        }
    }

    public func stop(_ id: String) throws(RaftctlError) {
        let spec = try directory.loadSpec()
        _ = try resolveNode(spec, id)
        try NodeProcess.writeIntent(directory, id, .stopped)
        guard let pid = NodeProcess.inspect(directory, id).pid else { return }
        FaultLog.record(directory, "stop", [id])
        ProcessControl.send(SIGCONT, to: pid)
        ProcessControl.send(SIGTERM, to: pid)
        if !ProcessControl.waitForExit(pid, milliseconds: 5_000) {
            ProcessControl.send(SIGKILL, to: pid)
            _ = ProcessControl.waitForExit(pid, milliseconds: 2_000)
        }
    }

    /// Sends `signal` (SIGKILL by default); a fatal signal marks the node killed, so it is not restarted.
    public func kill(_ id: String, signal: Int32) throws(RaftctlError) -> pid_t {
        let spec = try directory.loadSpec()
        _ = try resolveNode(spec, id)
        guard let pid = NodeProcess.inspect(directory, id).pid else { throw .failed("\(id) is not running") }
        let nonFatal: Set<Int32> = [SIGSTOP, SIGCONT, SIGUSR1, SIGUSR2]
        if !nonFatal.contains(signal) { try NodeProcess.writeIntent(directory, id, .killed) }
        guard ProcessControl.send(signal, to: pid) else { throw .failed("cannot signal \(id) (pid \(pid))") }
        if !nonFatal.contains(signal) { FaultLog.record(directory, "kill", [id], "signal \(signal)") }
        if signal == SIGKILL { _ = ProcessControl.waitForExit(pid, milliseconds: 2_000) }
        return pid
    }

    public func pause(_ id: String, resume: Bool) throws(RaftctlError) {
        let spec = try directory.loadSpec()
        _ = try resolveNode(spec, id)
        guard let pid = NodeProcess.inspect(directory, id).pid else { throw .failed("\(id) is not running") }
        ProcessControl.send(resume ? SIGCONT : SIGSTOP, to: pid)
        FaultLog.record(directory, resume ? "resume" : "pause", [id])
    }

    // MARK: - Observing

    /// Every node's process and Raft state; the leader is the highest-term node that says it leads.
    public func gather(_ spec: ClusterSpec) -> ClusterView {
        var nodes: [NodeView] = []
        for node in spec.nodes {
            let process = NodeProcess.inspect(directory, node.id)
            var view = NodeView(
                id: node.id, process: process.state, pid: process.pid, clientURL: spec.clientURL(node), blockedIn: [],
                blockedOut: [])
            if process.state == .running,
                let status = try? NodeAdmin(socketPath: directory.adminSocket(node.id), timeoutMilliseconds: 500)
                    .status()
            {
                view.role = status.role
                view.kind = status.kind
                view.term = status.term
                view.leader = status.leader
                view.commitIndex = status.commitIndex
                view.appliedIndex = status.appliedIndex
                view.lastLogIndex = status.lastLogIndex
                view.blockedIn = status.peers.filter(\.blockedIn).map(\.id)
                view.blockedOut = status.peers.filter(\.blockedOut).map(\.id)
                view.storage = status.storage
                view.disk = status.disk
                view.alarms = status.alarms
            }
            if process.state == .halted {
                view.haltedReason = FileIO.readText(directory.haltedMarkerPath(node.id))?.split(separator: "\n").first
                    .map(String.init)
            }
            nodes.append(view)
        }
        let leader = nodes.filter { $0.role == "leader" }.max { ($0.term ?? 0) < ($1.term ?? 0) }
        let term = nodes.compactMap(\.term).max()
        var alarms: [String: NodeStatus.Alarm] = [:]
        for alarm in nodes.flatMap(\.alarms) {
            alarms["\(alarm.node) \(alarm.kind)"] = alarms["\(alarm.node) \(alarm.kind)"] ?? alarm
        }
        return ClusterView(
            leader: leader?.id, term: leader?.term ?? term, nodes: nodes,
            alarms: alarms.values.sorted { ($0.node, $0.kind) < ($1.node, $1.kind) })
    }

    /// The admin client of a node that must be running.
    func admin(_ spec: ClusterSpec, _ id: String) throws(RaftctlError) -> NodeAdmin {
        _ = try resolveNode(spec, id)
        let process = NodeProcess.inspect(directory, id)
        guard process.pid != nil else { throw .failed("\(id) is \(process.state.rawValue)") }
        return NodeAdmin(socketPath: directory.adminSocket(id))
    }

    // MARK: - Faults

    /// Applies per-node filters: `inbound[n]` are the peers `n` stops hearing, `outbound[n]` those it stops sending
    /// to. Nodes not running are skipped and reported. A node that does not answer (paused) fails the command, but
    /// only after every other node got its filters: one frozen node must not leave the rest of the cluster cut.
    public func applyFilters(
        _ spec: ClusterSpec, inbound: [String: Set<String>], outbound: [String: Set<String>]
    ) throws(RaftctlError) -> [String] {
        var skipped: [String] = []
        var unanswered: [String] = []
        for node in spec.nodes {
            var request = AdminRequest(op: "set-blocked", id: .number(1))
            request.in = (inbound[node.id] ?? []).sorted()
            request.out = (outbound[node.id] ?? []).sorted()
            let process = NodeProcess.inspect(directory, node.id)
            guard process.pid != nil else {
                skipped.append(node.id)
                continue
            }
            do {
                let _: AdminBlocked = try NodeAdmin(socketPath: directory.adminSocket(node.id)).call(request)
            } catch {
                unanswered.append(process.state == .paused ? "\(node.id) (paused)" : node.id)
            }
        }
        if !unanswered.isEmpty {
            throw .failed(
                "not changed: \(unanswered.joined(separator: ", ")) did not answer (resume a paused node and run this"
                    + " again); every other node was changed")
        }
        return skipped
    }

    /// Cuts every link between different groups, both ways. A node named twice is an error; nodes not named form
    /// one more group.
    public func partition(_ spec: ClusterSpec, groups: [[String]]) throws(RaftctlError) -> (
        groups: [[String]], skipped: [String]
    ) {
        var seen: Set<String> = []
        for group in groups {
            for id in group {
                _ = try resolveNode(spec, id)
                guard seen.insert(id).inserted else { throw .usage("\(id) is named in more than one group") }
            }
        }
        var all = groups.filter { !$0.isEmpty }
        let rest = spec.ids.filter { !seen.contains($0) }
        if !rest.isEmpty { all.append(rest) }
        var cut: [String: Set<String>] = [:]
        for (i, group) in all.enumerated() {
            for member in group {
                cut[member] = Set(all.enumerated().filter { $0.offset != i }.flatMap(\.element))
            }
        }
        let skipped = try applyFilters(spec, inbound: cut, outbound: cut)
        FaultLog.record(
            directory, "partition", spec.ids, all.map { $0.joined(separator: ",") }.joined(separator: " | "))
        return (all, skipped)
    }

    /// Drops traffic from `from` to `to` only; other cuts on those nodes stay.
    public func block(_ spec: ClusterSpec, from: String, to: String) throws(RaftctlError) {
        _ = try resolveNode(spec, from)
        _ = try resolveNode(spec, to)
        guard from != to else { throw .usage("a node cannot block itself") }
        var request = AdminRequest(op: "block", id: .number(1))
        request.peers = [to]
        request.direction = "out"
        let _: AdminBlocked = try admin(spec, from).call(request)
        var inbound = AdminRequest(op: "block", id: .number(2))
        inbound.peers = [from]
        inbound.direction = "in"
        if NodeProcess.inspect(directory, to).pid != nil {
            let _: AdminBlocked = try admin(spec, to).call(inbound)
        }
        FaultLog.record(directory, "block", [from, to], "\(from) -> \(to)")
    }

    public func heal(_ spec: ClusterSpec) throws(RaftctlError) -> [String] {
        let skipped = try applyFilters(spec, inbound: [:], outbound: [:])
        FaultLog.record(directory, "heal", spec.ids)
        return skipped
    }
}
