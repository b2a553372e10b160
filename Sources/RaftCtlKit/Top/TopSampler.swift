import Dispatch
import FoundationEssentials
import Glibc
import RaftAPI
import RaftClient
import Synchronization

/// One reading of the whole cluster for `raftctl top`: every node's process state, status (admin socket) and
/// metrics (`GET /metrics`), and the newest events.
struct TopReading: Sendable {
    struct Node: Sendable {
        var id: String
        var process: ProcessState
        var status: NodeStatus?
        var metrics: PrometheusText?
    }

    /// Monotonic milliseconds when the reading was taken.
    var taken: Int64
    var nodes: [Node]
    var events: [AdminEvent]
}

/// Takes readings, in parallel over the nodes so that one paused node delays a frame by one timeout, not one per
/// node.
struct TopSampler: Sendable {
    let directory: ClusterDirectory
    let spec: ClusterSpec
    /// How long to wait for one node's admin socket or HTTP port.
    var timeoutMilliseconds = 400
    /// How many of the newest events to keep.
    var eventCount = 6

    func read() -> TopReading {
        let taken = ProcessControl.monotonicMilliseconds()
        let slots = Mutex<[Int: (TopReading.Node, [AdminEvent])]>([:])
        DispatchQueue.concurrentPerform(iterations: spec.nodes.count) { index in
            let result = readNode(spec.nodes[index])
            slots.withLock { $0[index] = result }
        }
        let results = slots.withLock { $0 }
        let nodes = spec.nodes.indices.map { results[$0]!.0 }
        let events = spec.nodes.indices.flatMap { results[$0]!.1 }.sorted { ($0.time, $0.node) < ($1.time, $1.node) }
        return TopReading(taken: taken, nodes: nodes, events: Array(events.suffix(eventCount)))
    }

    private func readNode(_ node: ClusterSpec.Node) -> (TopReading.Node, [AdminEvent]) {
        let process = NodeProcess.inspect(directory, node.id)
        var reading = TopReading.Node(id: node.id, process: process.state)
        guard process.state == .running else { return (reading, []) }
        let admin = NodeAdmin(socketPath: directory.adminSocket(node.id), timeoutMilliseconds: timeoutMilliseconds)
        reading.status = try? admin.status()
        guard reading.status != nil else { return (reading, []) }
        if let response = HTTPClient.request(
            method: "GET", host: spec.host, port: node.clientPort, path: "/metrics",
            timeoutMilliseconds: timeoutMilliseconds), response.status == 200
        {
            reading.metrics = try? PrometheusText(parsing: response.text)
        }
        var request = AdminRequest(op: "events", id: .number(1))
        request.last = eventCount
        var events: [AdminEvent] = []
        struct Item: Decodable { var event: AdminEvent }
        try? admin.stream(request, follow: false) { line in
            if let item = try? JSONDecoder().decode(Item.self, from: Data(line.utf8)) { events.append(item.event) }
            return true
        }
        return (reading, events)
    }
}
