import CoreMetrics
import Glibc
import Prometheus
import RaftCore
import Synchronization

/// One raftd's metrics: the instruments the shell, the peer transport and the HTTP handler update (swift-metrics
/// types, so embedding code can use the same API), kept in this node's own Prometheus registry and exposed as
/// Prometheus text at `GET /metrics`.
///
/// Names mirror etcd's (`etcd_server_has_leader` is `raft_has_leader` here) so that dashboards and alerts
/// translate; every metric is listed in ``MetricCatalog`` with its help text and in raftd(8).
///
/// Invariants: counters and histograms are updated where the event happens (one atomic add, or one short lock for
/// a histogram); gauges that merely mirror state (term, indexes, process memory) are set when scraped, so they
/// cost nothing between scrapes. A registry per node (never the global `MetricsSystem`) keeps nodes that share a
/// process apart.
final class NodeMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let factory: CatalogMetricsFactory

    let leaderChanges: CoreMetrics.Counter
    let proposalsCommitted: CoreMetrics.Counter
    let proposalsFailed: CoreMetrics.Counter
    let slowApplies: CoreMetrics.Counter
    let walFsyncDuration: CoreMetrics.Timer
    let applyDuration: CoreMetrics.Timer
    let readIndexDuration: CoreMetrics.Timer
    let snapshotDuration: CoreMetrics.Timer

    private let hasLeader: Meter
    private let isLeader: Meter
    private let term: Meter
    private let commitIndex: Meter
    private let appliedIndex: Meter
    private let proposalsPending: Meter
    private let residentMemory: Meter
    private let virtualMemory: Meter
    private let openFileDescriptors: Meter
    private let maxFileDescriptors: Meter
    /// A counter (as Prometheus' client libraries expose it), advanced at scrape time by the CPU time since the
    /// previous scrape.
    private let cpuSeconds: FloatingPointCounter
    private let cpuSecondsCounted = Mutex<Double>(0)
    private let startTime: Meter

    /// Per peer: the initial ones created at start, a member added later on first use (``peer(_:)``).
    private let peers: Mutex<[NodeID: PeerInstruments]>
    private let httpRequests = Mutex<[HTTPKey: CoreMetrics.Counter]>([:])

    struct PeerInstruments: Sendable {
        let roundTrip: CoreMetrics.Timer
        let sentBytes: CoreMetrics.Counter
        let receivedBytes: CoreMetrics.Counter
        let sentFailures: CoreMetrics.Counter
    }

    private struct HTTPKey: Hashable {
        var method: String
        var code: Int
    }

    init(peers peerIDs: [NodeID]) {
        let registry = PrometheusCollectorRegistry()
        let factory = CatalogMetricsFactory(registry: registry)
        self.registry = registry
        self.factory = factory
        func counter(_ name: String, _ dimensions: [(String, String)] = []) -> CoreMetrics.Counter {
            CoreMetrics.Counter(label: name, dimensions: dimensions, factory: factory)
        }
        func timer(_ name: String, _ dimensions: [(String, String)] = []) -> CoreMetrics.Timer {
            CoreMetrics.Timer(label: name, dimensions: dimensions, factory: factory)
        }
        func meter(_ name: String) -> Meter { Meter(label: name, factory: factory) }
        leaderChanges = counter("raft_leader_changes_seen_total")
        proposalsCommitted = counter("raft_proposals_committed_total")
        proposalsFailed = counter("raft_proposals_failed_total")
        slowApplies = counter("raft_slow_apply_total")
        walFsyncDuration = timer("raft_wal_fsync_duration_seconds")
        applyDuration = timer("raft_apply_duration_seconds")
        readIndexDuration = timer("raft_read_index_duration_seconds")
        snapshotDuration = timer("raft_snapshot_duration_seconds")
        hasLeader = meter("raft_has_leader")
        isLeader = meter("raft_is_leader")
        term = meter("raft_term")
        commitIndex = meter("raft_commit_index")
        appliedIndex = meter("raft_applied_index")
        proposalsPending = meter("raft_proposals_pending")
        residentMemory = meter("process_resident_memory_bytes")
        virtualMemory = meter("process_virtual_memory_bytes")
        openFileDescriptors = meter("process_open_fds")
        maxFileDescriptors = meter("process_max_fds")
        cpuSeconds = FloatingPointCounter(label: "process_cpu_seconds_total", factory: factory)
        startTime = meter("process_start_time_seconds")
        var peers: [NodeID: PeerInstruments] = [:]
        for peer in peerIDs { peers[peer] = Self.instruments(for: peer, factory: factory) }
        self.peers = Mutex(peers)
        if let started = ProcessSample.startTimeSeconds() { startTime.set(started) }
    }

    static func instruments(for peer: NodeID, factory: CatalogMetricsFactory) -> PeerInstruments {
        let label = [("peer", peer.description)]
        return PeerInstruments(
            roundTrip: CoreMetrics.Timer(
                label: "raft_peer_round_trip_time_seconds", dimensions: label, factory: factory),
            sentBytes: CoreMetrics.Counter(label: "raft_peer_sent_bytes_total", dimensions: label, factory: factory),
            receivedBytes: CoreMetrics.Counter(
                label: "raft_peer_received_bytes_total", dimensions: label, factory: factory),
            sentFailures: CoreMetrics.Counter(
                label: "raft_peer_sent_failures_total", dimensions: label, factory: factory))
    }

    /// The instruments of `peer`, created on first use (a member added after start).
    func peer(_ peer: NodeID) -> PeerInstruments {
        peers.withLock { table in
            if let existing = table[peer] { return existing }
            let created = Self.instruments(for: peer, factory: factory)
            table[peer] = created
            return created
        }
    }

    /// Counts one answered HTTP request. Counters are created on first use of a method and status code, then
    /// found under a short lock.
    func countHTTPRequest(method: String, code: Int) {
        let key = HTTPKey(method: method, code: code)
        let counter = httpRequests.withLock { counters in
            if let existing = counters[key] { return existing }
            let made = CoreMetrics.Counter(
                label: "raft_http_requests_total", dimensions: [("method", method), ("code", String(code))],
                factory: factory)
            counters[key] = made
            return made
        }
        counter.increment()
    }

    /// What the gauges mirror, read on the node's loop at scrape time.
    struct Gauges: Sendable {
        var hasLeader: Bool
        var isLeader: Bool
        var term: UInt64
        var commitIndex: UInt64
        var appliedIndex: UInt64
        var proposalsPending: Int
    }

    /// Sets the mirrored gauges and the process figures, then renders everything as Prometheus text.
    func exposition(_ gauges: Gauges) -> [UInt8] {
        hasLeader.set(gauges.hasLeader ? 1.0 : 0.0)
        isLeader.set(gauges.isLeader ? 1.0 : 0.0)
        term.set(Double(gauges.term))
        commitIndex.set(Double(gauges.commitIndex))
        appliedIndex.set(Double(gauges.appliedIndex))
        proposalsPending.set(Double(gauges.proposalsPending))
        if let sample = ProcessSample.read() {
            residentMemory.set(Double(sample.residentBytes))
            virtualMemory.set(Double(sample.virtualBytes))
            let advance = cpuSecondsCounted.withLock { counted in
                defer { counted = max(counted, sample.cpuSeconds) }
                return max(0, sample.cpuSeconds - counted)
            }
            if advance > 0 { cpuSeconds.increment(by: advance) }
        }
        if let open = ProcessSample.openFileDescriptors() { openFileDescriptors.set(Double(open)) }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 { maxFileDescriptors.set(Double(limit.rlim_cur)) }
        return registry.emitToBuffer()
    }
}

/// The metrics raftd exposes: name, kind and help text (the `# HELP` line), and histogram buckets. The single
/// source for the factory below and for raftd(8), whose list a test compares with it.
enum MetricCatalog {
    struct Entry: Sendable {
        var name: String
        var help: String
        /// Upper bounds of a histogram's buckets, in seconds; nil for counters and gauges.
        var buckets: [Double]?
    }

    /// `first`, doubling, `count` bounds (Prometheus' exponential buckets).
    static func exponential(_ first: Double, _ count: Int) -> [Double] {
        (0..<count).map { first * Double(1 << $0) }
    }

    static let entries: [Entry] = [
        Entry(name: "raft_has_leader", help: "1 if this node knows a leader, else 0."),
        Entry(name: "raft_is_leader", help: "1 if this node is the leader, else 0."),
        Entry(name: "raft_term", help: "The node's current term."),
        Entry(
            name: "raft_leader_changes_seen_total",
            help: "Times this node saw a new leader (a change to no leader is not counted)."),
        Entry(name: "raft_commit_index", help: "The highest log index this node knows to be committed."),
        Entry(name: "raft_applied_index", help: "The highest log index applied to this node's key-value store."),
        Entry(
            name: "raft_proposals_committed_total",
            help: "Client writes proposed through this node that were applied and answered."),
        Entry(
            name: "raft_proposals_failed_total",
            help: "Client writes proposed through this node that failed (refused, timed out, or lost with a leader)."),
        Entry(name: "raft_proposals_pending", help: "Client writes proposed through this node and not yet answered."),
        Entry(
            name: "raft_wal_fsync_duration_seconds",
            help: "Duration of each sync of the data directory (WAL appends, snapshots, directories).",
            buckets: exponential(0.001, 14)),
        Entry(
            name: "raft_apply_duration_seconds", help: "Duration of applying one committed entry to the store.",
            buckets: exponential(0.0001, 14)),
        Entry(
            name: "raft_slow_apply_total",
            help: "Committed entries whose apply took longer than --slow-apply-warning."),
        Entry(
            name: "raft_read_index_duration_seconds",
            help: "Time from a linearizable read's arrival until it may be served (ReadIndex confirmed and applied).",
            buckets: exponential(0.0005, 14)),
        Entry(
            name: "raft_snapshot_duration_seconds", help: "Duration of encoding and writing one snapshot.",
            buckets: exponential(0.01, 12)),
        Entry(
            name: "raft_peer_round_trip_time_seconds",
            help: "Round-trip time of a probe to each peer over the peer connections (every 500 ms).",
            buckets: exponential(0.0001, 16)),
        Entry(name: "raft_peer_sent_bytes_total", help: "Bytes of peer frames written to each peer."),
        Entry(name: "raft_peer_received_bytes_total", help: "Bytes of peer frames received from each peer."),
        Entry(
            name: "raft_peer_sent_failures_total",
            help: "Writes to each peer dropped: the peer was disconnected past the queue, or its connection was full."),
        Entry(name: "raft_http_requests_total", help: "HTTP client requests answered, by method and status code."),
        Entry(name: "process_resident_memory_bytes", help: "Resident memory of the raftd process in bytes."),
        Entry(name: "process_virtual_memory_bytes", help: "Virtual memory of the raftd process in bytes."),
        Entry(name: "process_open_fds", help: "Open file descriptors of the raftd process."),
        Entry(name: "process_max_fds", help: "The limit on open file descriptors (RLIMIT_NOFILE)."),
        Entry(name: "process_cpu_seconds_total", help: "User and system CPU time of the raftd process in seconds."),
        Entry(name: "process_start_time_seconds", help: "Start time of the raftd process, in seconds since the epoch."),
    ]

    static let byName: [String: Entry] = Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0) })
}

/// A swift-metrics factory over one Prometheus registry that names each metric with its help text and buckets
/// from ``MetricCatalog`` (swift-prometheus' own factory registers every metric without help text).
struct CatalogMetricsFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry

    private func descriptor(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: MetricCatalog.byName[label]?.help ?? "")
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let seconds = MetricCatalog.byName[label]?.buckets ?? MetricCatalog.exponential(0.001, 14)
        let buckets = seconds.map { Duration.nanoseconds(Int64(($0 * 1e9).rounded())) }
        return registry.makeDurationHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets)
    }

    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyMeter(_ handler: any MeterHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}

/// This process' memory, CPU time and file descriptors, from /proc (Linux).
enum ProcessSample {
    struct Figures {
        var residentBytes: UInt64
        var virtualBytes: UInt64
        var cpuSeconds: Double
    }

    /// Fields of /proc/self/stat after the command name (which may contain spaces, so split after its `)`).
    private static func statFields() -> [Substring]? {
        guard let text = readSmallFile("/proc/self/stat"), let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }

    static func read() -> Figures? {
        // After the name: state(0) … utime(11) stime(12) … starttime(19) vsize(20) rss(21).
        guard let fields = statFields(), fields.count > 21, let user = Double(fields[11]),
            let system = Double(fields[12]), let virtualBytes = UInt64(fields[20]), let pages = UInt64(fields[21])
        else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let page = UInt64(sysconf(Int32(_SC_PAGESIZE)))
        return Figures(residentBytes: pages * page, virtualBytes: virtualBytes, cpuSeconds: (user + system) / ticks)
    }

    static func startTimeSeconds() -> Double? {
        guard let fields = statFields(), fields.count > 19, let startTicks = Double(fields[19]),
            let stat = readSmallFile("/proc/stat"),
            let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
            let boot = Double(line.dropFirst("btime ".count))
        else { return nil }
        return boot + startTicks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func openFileDescriptors() -> Int? {
        guard let directory = opendir("/proc/self/fd") else { return nil }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(2), as: UTF8.self) }
            if !name.hasPrefix(".") { count += 1 }
        }
        return count - 1  // the descriptor opendir itself holds
    }

    private static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = Glibc.read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            bytes.append(contentsOf: buffer[..<count])
            if bytes.count > 1 << 20 { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
