import ArgumentParser
import FoundationEssentials
import Glibc
import RaftAPI
import RaftClient
import RaftREPL
import RaftText

struct Logs: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a node's log lines (-f to follow).")
    @OptionGroup var cluster: ClusterOptions
    @Argument(help: "Node id.", completion: nodeIDs) var id: String
    @Flag(name: .shortAndLong, help: "Keep printing new lines.") var follow = false
    @Option(name: .short, help: "How many recent lines.") var n = 50

    func run() throws {
        guard n >= 0 else { throw RaftctlError.usage("-n must not be negative") }
        let spec = try cluster.directory.loadSpec()
        _ = try cluster.controller.resolveNode(spec, id)
        guard NodeProcess.inspect(cluster.directory, id).pid != nil else {
            // A stopped node's lines are still in its log file.
            let text = FileIO.readText(cluster.directory.logPath(id)) ?? ""
            for line in text.split(separator: "\n").suffix(n) { say(String(line)) }
            if follow { throw RaftctlError.failed("\(id) is not running; cannot follow") }
            return
        }
        var request = AdminRequest(op: "logs", id: .number(1))
        request.last = n
        request.follow = follow
        try cluster.controller.admin(spec, id).stream(request, follow: follow) { line in
            struct Item: Decodable { var line: String }
            if let item = try? JSONDecoder().decode(Item.self, from: Data(line.utf8)) { say(item.line) }
            return true
        }
    }
}

struct Entries: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a node's replicated log entries: index, term, type, command (-f to follow).")
    @OptionGroup var cluster: ClusterOptions
    @Argument(help: "Node id.", completion: nodeIDs) var id: String
    @Option(help: "First index.") var from: UInt64 = 1
    @Option(help: "At most this many entries (without -f).") var limit = 1_000
    @Flag(name: .shortAndLong, help: "Keep printing new entries.") var follow = false
    @Option(help: "Only entries of this type.") var type: EntryType?

    enum EntryType: String, CaseIterable, ExpressibleByArgument {
        case command, noop, configuration
    }

    func run() throws {
        let spec = try cluster.runningSpec()
        var request = AdminRequest(op: "entries", id: .number(1))
        request.from = from
        request.limit = limit
        request.follow = follow
        say("INDEX  TERM  TYPE     COMMAND")
        try cluster.controller.admin(spec, id).stream(request, follow: follow) { line in
            struct Item: Decodable { var entry: AdminEntry }
            if let item = try? JSONDecoder().decode(Item.self, from: Data(line.utf8)) {
                let e = item.entry
                if let type, e.type != type.rawValue { return true }
                say(
                    "\(pad(String(e.index), 5))  \(pad(String(e.term), 4))  \(pad(e.type, 7))  \(e.command ?? "")")
            }
            return true
        }
    }
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Role, term and leader changes and elections, merged across nodes in time order (-f to follow).")
    @OptionGroup var cluster: ClusterOptions
    @Flag(name: .shortAndLong, help: "Keep printing new events.") var follow = false
    @Argument(help: "Only these nodes (default: all running).", completion: nodeIDs) var ids: [String] = []

    func run() throws {
        let spec = try cluster.runningSpec()
        for id in ids { _ = try cluster.controller.resolveNode(spec, id) }
        // By default "all running": a paused node cannot answer, and must not make the others' events fail.
        let chosen =
            ids.isEmpty
            ? spec.ids.filter { NodeProcess.inspect(cluster.directory, $0).state == .running }
            : ids.filter { NodeProcess.inspect(cluster.directory, $0).pid != nil }
        var request = AdminRequest(op: "events", id: .number(1))
        request.follow = follow
        struct Item: Decodable { var event: AdminEvent }
        func show(_ event: AdminEvent) {
            say(
                "\(event.time)  \(pad(event.node, 3))  t\(pad(String(event.term), 3))  \(pad(event.kind, 12))  \(event.detail)"
            )
        }
        if !follow {
            var all: [AdminEvent] = []
            for id in chosen {
                try cluster.controller.admin(spec, id).stream(request, follow: false) { line in
                    if let item = try? JSONDecoder().decode(Item.self, from: Data(line.utf8)) { all.append(item.event) }
                    return true
                }
            }
            for event in all.sorted(by: { ($0.time, $0.node) < ($1.time, $1.node) }) { show(event) }
            return
        }
        // Following: one stream per node. The backlog is merged in time order; later events print as they come.
        var connections: [SocketConnection] = []
        for id in chosen { connections.append(try cluster.controller.admin(spec, id).openStream(request)) }
        var backlog: [AdminEvent] = []
        let start = ProcessControl.monotonicMilliseconds()
        var printedBacklog = false
        while !connections.isEmpty && !REPL.commandInterrupted {
            var descriptors = connections.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&descriptors, nfds_t(descriptors.count), 200)
            if ready < 0 && errno != EINTR { break }
            var closed: [Int] = []
            for (i, descriptor) in descriptors.enumerated() where descriptor.revents != 0 {
                if !connections[i].fill(timeoutMilliseconds: 0) {
                    closed.append(i)
                    continue
                }
                while let line = connections[i].takeBufferedLine() {
                    guard let item = try? JSONDecoder().decode(Item.self, from: Data(line.utf8)) else { continue }
                    if printedBacklog { show(item.event) } else { backlog.append(item.event) }
                }
            }
            for i in closed.reversed() { connections.remove(at: i) }
            if !printedBacklog && ProcessControl.monotonicMilliseconds() - start > 300 {
                for event in backlog.sorted(by: { ($0.time, $0.node) < ($1.time, $1.node) }) { show(event) }
                printedBacklog = true
            }
        }
    }
}

// MARK: - Data

/// Sends a request the way RaftClient's ``ClusterClient`` does: to the leader if known, else to any running node,
/// retrying unanswered requests, 503s and 504s with the same Idempotency-Key until the timeout, so a node dying
/// mid-request never applies a write twice. With `--via`, one node and one attempt.
func clientRequest(
    _ cluster: ClusterOptions, method: String, key: String, query: String = "", body: [UInt8] = [],
    idempotent: Bool, write: WriteOptions? = nil, timeoutMilliseconds: Int = 10_000
) throws(RaftctlError) -> HTTPResponse {
    let spec = try cluster.runningSpec()
    guard !key.isEmpty else { throw .usage("the key must not be empty") }
    let path = "/v1/kv/" + percentEncode(key) + (query.isEmpty ? "" : "?" + query)
    var headers: [(String, String)] = []
    if idempotent {
        headers.append(
            ("Idempotency-Key", write?.idempotencyKey ?? ClusterClient.newIdempotencyKey(prefix: "raftctl")))
    }
    var timeoutMilliseconds = timeoutMilliseconds
    if let text = write?.timeout { timeoutMilliseconds = try parseDuration(text, option: "--timeout") }
    if let via = write?.via {
        // One node, one attempt: what a client talking to that node sees, with no retry elsewhere.
        let node = try cluster.controller.resolveNode(spec, via)
        switch HTTPClient.exchange(
            method: method, host: spec.host, port: node.clientPort, path: path, body: body, headers: headers,
            timeoutMilliseconds: timeoutMilliseconds)
        {
        case .notSent: throw .failed("\(via) did not accept the connection: the request was not sent")
        case .noAnswer:
            throw .failed(
                "no answer from \(via) within \(DurationText.format(milliseconds: timeoutMilliseconds)): the outcome is"
                    + " unknown (retry with the same --idempotency-key)")
        case .answered(let response): return response
        }
    }
    let client = ClusterClient {
        let view = cluster.controller.gather(spec)
        var order = view.nodes.filter { $0.process == .running }
        order.sort { a, _ in a.id == view.leader }
        return order.compactMap { node in
            spec.node(node.id).map { ClusterClient.Endpoint(name: node.id, host: spec.host, port: $0.clientPort) }
        }
    }
    do {
        return try client.send(
            method: method, path: path, body: body, headers: headers, timeoutMilliseconds: timeoutMilliseconds)
    } catch {
        throw .failed(error.message)
    }
}

func percentEncode(_ text: String) -> String {
    var out = ""
    for byte in text.utf8 {
        let unreserved =
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
        if unreserved {
            out.unicodeScalars.append(Unicode.Scalar(byte))
        } else {
            let hex = String(byte, radix: 16, uppercase: true)
            out += "%" + (hex.count == 1 ? "0" + hex : hex)
        }
    }
    return out
}

func describeWrite(_ response: HTTPResponse) throws(RaftctlError) -> String {
    switch response.status {
    case 200, 201:
        if let written = try? JSONDecoder().decode(WriteAnswer.self, from: Data(response.body)) {
            let replayed = written.replayed ? " replayed: the original answer; not applied again" : ""
            return "OK (index \(written.index), term \(written.term))" + replayed
        }
        return "OK"
    case 404: throw .failed("key not found")
    case 412: throw .failed("compare failed: the current value is not the expected one")
    case 400, 413: throw .usage(response.errorMessage)
    default: throw .failed("HTTP \(response.status): \(response.errorMessage)")
    }
}

/// How a write is sent: by default through the leader with retries and a fresh Idempotency-Key; these pin it
/// down, as the scenarios and a user acting them out by hand need.
struct WriteOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp("Send to this node only, once (no retry elsewhere).", valueName: "id"), completion: nodeIDs)
    var via: String?
    @Option(
        help: ArgumentHelp(
            "Use this Idempotency-Key (a retry with the same key applies at most once).", valueName: "key"))
    var idempotencyKey: String?
    @Option(help: "Give up after this long (default 10s; with --via, the outcome is then unknown).") var timeout:
        String?
}

struct Put: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write a key through any live node.")
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var write: WriteOptions
    @Argument(help: "Key.") var key: String
    @Argument(help: "Value.") var value: String

    func run() throws {
        say(
            try describeWrite(
                try clientRequest(
                    cluster, method: "PUT", key: key, body: Array(value.utf8), idempotent: true, write: write)))
    }
}

struct Get: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Read a key linearizably (--stale: from the local node).")
    @OptionGroup var cluster: ClusterOptions
    @Argument(help: "Key.") var key: String
    @Flag(help: "Serve from one node's local state without a ReadIndex round.") var stale = false

    func run() throws {
        let response = try clientRequest(
            cluster, method: "GET", key: key, query: stale ? "consistency=stale" : "", idempotent: false)
        switch response.status {
        case 200: say(response.text)
        case 404: throw RaftctlError.failed("key not found: \(key)")
        default: throw RaftctlError.failed("HTTP \(response.status): \(response.errorMessage)")
        }
    }
}

struct Delete: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete a key.")
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var write: WriteOptions
    @Argument(help: "Key.") var key: String

    func run() throws {
        say(try describeWrite(try clientRequest(cluster, method: "DELETE", key: key, idempotent: true, write: write)))
    }
}

struct Cas: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare-and-set: write NEW only if the key currently holds OLD.")
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var write: WriteOptions
    @Argument(help: "Key.") var key: String
    @Argument(help: "Expected current value.") var old: String
    @Argument(help: "New value.") var new: String

    func run() throws {
        let query = "prevValue=" + percentEncode(old)
        say(
            try describeWrite(
                try clientRequest(
                    cluster, method: "PUT", key: key, query: query, body: Array(new.utf8), idempotent: true,
                    write: write)))
    }
}
