import FoundationEssentials
import Glibc

/// The cluster file (`cluster.json` in the cluster directory): what `raftctl up` created, readable by people.
///
/// Invariants: `nodes` are the current members (`add-node` appends, `remove-node` removes), ids unique; every
/// port is distinct; settings parse (checked when created).
public struct ClusterSpec: Codable, Sendable, Hashable {
    public struct Node: Codable, Sendable, Hashable {
        public var id: String
        public var peerPort: Int
        public var clientPort: Int
        /// Joined a running cluster (`add-node`): started with `--initial-cluster-state existing`.
        public var added: Bool?

        public init(id: String, peerPort: Int, clientPort: Int, added: Bool? = nil) {
            self.id = id
            self.peerPort = peerPort
            self.clientPort = clientPort
            self.added = added
        }
    }

    public var version = 1
    /// 16 hex digits, random per cluster: peers of another cluster are refused.
    public var clusterID: String
    public var host = "127.0.0.1"
    public var electionTimeout: String
    public var heartbeat: String
    public var fsync: String
    public var nodes: [Node]
    /// Set once the cluster first elected a leader: from then on an original member with an emptied data
    /// directory is refused (it would forget its votes), and new members join with `--initial-cluster-state
    /// existing`.
    public var bootstrapped: Bool?

    public func node(_ id: String) -> Node? { nodes.first { $0.id == id } }
    public var ids: [String] { nodes.map(\.id) }

    public func clientURL(_ node: Node) -> String { "http://\(host):\(node.clientPort)" }

    /// The peer list raftd takes: `n1=127.0.0.1:P1,…`.
    public var peerList: String {
        nodes.map { "\($0.id)=\(host):\($0.peerPort)" }.joined(separator: ",")
    }
}

/// Where a cluster lives on disk, and the files in it.
public struct ClusterDirectory: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// `--cluster-dir`, else `$RAFTCTL_CLUSTER_DIR`, else `$XDG_STATE_HOME/raftctl/cluster`, else
    /// `~/.local/state/raftctl/cluster`.
    public static func resolve(_ option: String?) -> ClusterDirectory {
        if let option, !option.isEmpty { return ClusterDirectory(path: absolute(option)) }
        if let env = environment("RAFTCTL_CLUSTER_DIR"), !env.isEmpty { return ClusterDirectory(path: absolute(env)) }
        return ClusterDirectory(path: stateHome() + "/raftctl/cluster")
    }

    /// `$XDG_STATE_HOME`, else `~/.local/state`.
    public static func stateHome() -> String {
        if let xdg = environment("XDG_STATE_HOME"), xdg.hasPrefix("/") { return xdg }
        return (environment("HOME") ?? "/tmp") + "/.local/state"
    }

    static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        let directory = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return directory + "/" + path
    }

    public var specPath: String { path + "/cluster.json" }
    public var supervisorPIDPath: String { path + "/supervisor.pid" }
    public var supervisorLogPath: String { path + "/supervisor.log" }
    public func nodeDirectory(_ id: String) -> String { path + "/" + id }
    public func adminSocket(_ id: String) -> String { nodeDirectory(id) + "/admin.sock" }
    public func intentPath(_ id: String) -> String { nodeDirectory(id) + "/intent" }
    public func logPath(_ id: String) -> String { nodeDirectory(id) + "/raftd.log" }
    public func outputPath(_ id: String) -> String { nodeDirectory(id) + "/raftd.out" }
    public func lockPath(_ id: String) -> String { nodeDirectory(id) + "/LOCK" }
    public func spawnedPIDPath(_ id: String) -> String { nodeDirectory(id) + "/raftd.pid" }
    /// Extra raftd options for one node (`name = value` lines, raftd's `--config` format), passed at every start
    /// when the file exists.
    public func configPath(_ id: String) -> String { nodeDirectory(id) + "/raftd.conf" }
    /// Left by raftd when the node lost entries it had acknowledged; it refuses to start while it is there.
    public func haltedMarkerPath(_ id: String) -> String { nodeDirectory(id) + "/HALTED" }

    /// Whether the node's data directory holds Raft state (a WAL segment or a snapshot file).
    public func hasRaftState(_ id: String) -> Bool {
        guard let handle = opendir(nodeDirectory(id)) else { return false }
        defer { closedir(handle) }
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasPrefix("wal-") || name.hasSuffix(".snap") { return true }
        }
        return false
    }

    public var exists: Bool { access(specPath, F_OK) == 0 }

    public func loadSpec() throws(RaftctlError) -> ClusterSpec {
        guard let bytes = FileIO.read(specPath) else {
            throw .notRunning("no cluster at \(path) (run `raftctl up` to create one)")
        }
        do {
            return try JSONDecoder().decode(ClusterSpec.self, from: Data(bytes))
        } catch {
            throw .failed("the cluster file \(specPath) is damaged: \(error)")
        }
    }

    public func saveSpec(_ spec: ClusterSpec) throws(RaftctlError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(spec) else { throw .failed("cannot encode the cluster file") }
        try FileIO.writeAtomically(specPath, Array(data) + [UInt8(ascii: "\n")])
    }
}

/// What an operator last asked of a node, kept in `<node>/intent` so that the supervisor restarts a node that
/// crashed on its own but never one that was stopped or killed on purpose.
public enum NodeIntent: String, Sendable {
    case running
    case stopped
    case killed
}

/// Small blocking file helpers over Glibc.
enum FileIO {
    static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            out.append(contentsOf: buffer[0..<count])
        }
        return out
    }

    static func readText(_ path: String) -> String? {
        read(path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Writes to a temporary file and renames it over `path`, so readers never see half a file.
    static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o600) throws(RaftctlError) {
        let temporary = path + ".tmp.\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .failed("cannot write \(path): \(String(cString: strerror(errno)))") }
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                close(fd)
                unlink(temporary)
                throw .failed("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            offset += count
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw .failed("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Creates `path` and its parents with mode 0700; fails with a message naming the directory.
    static func makeDirectories(_ path: String) throws(RaftctlError) {
        var current = ""
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o700) != 0 && errno != EEXIST {
                throw .failed("cannot create \(current): \(String(cString: strerror(errno)))")
            }
        }
        if access(path, W_OK) != 0 {
            throw .failed("the cluster directory \(path) is not writable: \(String(cString: strerror(errno)))")
        }
    }

    static func removeTree(_ path: String) {
        guard let directory = opendir(path) else {
            unlink(path)
            return
        }
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            let child = path + "/" + name
            var info = stat()
            if lstat(child, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
                removeTree(child)
            } else {
                unlink(child)
            }
        }
        closedir(directory)
        rmdir(path)
    }
}
