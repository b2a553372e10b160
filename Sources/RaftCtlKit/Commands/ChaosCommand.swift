import ArgumentParser
import Dispatch
import FoundationEssentials
import Glibc
import RaftAPI
import RaftCheck
import RaftClient
import RaftText
import Synchronization

/// `raftctl chaos`: concurrent clients against the running cluster while a seeded nemesis injects faults, then a
/// linearizability check of everything the clients saw.
struct Chaos: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run clients against the cluster under seeded faults, then check the history is linearizable.",
        discussion: """
            Clients issue reads, writes of unique values, compare-and-sets and deletes over HTTP to random nodes while \\
            the nemesis kills, pauses, partitions and cuts nodes, each fault held for a while, then heals. At the \\
            end every key is read once more and the whole history is checked. DIR gets history.jsonl, faults.jsonl, \\
            events.jsonl and report.html. The last line is VALID ops=N ok=N fail=N info=N keys=K, INVALID key=K ..., \\
            UNKNOWN ... or ERROR reason, with exit status 0, 1, 2 or 3. The same seed gives the same fault schedule.
            """)

    @OptionGroup var cluster: ClusterOptions
    @Option(help: "How long the clients run, e.g. 60s.") var time = "60s"
    @Option(help: "Concurrent clients.") var clients = 8
    @Option(help: "Keys the clients share (k0, k1, …).") var keys = 5
    @Option(help: "Operations per second over all clients (0: as fast as they can).") var rate = 0
    @Option(help: "Seed of the fault schedule and the workload (default: random, printed).") var seed: UInt64?
    @Option(help: "Faults to inject, comma-separated: \(Nemesis.Kind.allCases.map(\.rawValue).joined(separator: ",")).")
    var nemesis = Nemesis.Kind.allCases.map(\.rawValue).joined(separator: ",")
    @Option(help: "Where to write the history, faults, events and report (default: CLUSTER/chaos-TIMESTAMP).")
    var out: String?
    @Option(help: "Give up checking a key after this long; the verdict is then UNKNOWN.") var budget = "30s"

    func run() throws {
        let milliseconds = try parseDuration(time, option: "--time")
        let budgetMilliseconds = try parseDuration(budget, option: "--budget")
        guard (1...256).contains(clients) else { throw RaftctlError.usage("--clients must be between 1 and 256") }
        guard (1...1_000).contains(keys) else { throw RaftctlError.usage("--keys must be between 1 and 1000") }
        guard rate >= 0 else { throw RaftctlError.usage("--rate must not be negative") }
        var kinds: [Nemesis.Kind] = []
        for name in nemesis.split(separator: ",") where !name.isEmpty {
            guard let kind = Nemesis.Kind(rawValue: String(name)) else {
                throw RaftctlError.usage(
                    "unknown nemesis \"\(name)\"; known: \(Nemesis.Kind.allCases.map(\.rawValue).joined(separator: ","))"
                )
            }
            kinds.append(kind)
        }
        let seed = self.seed ?? UInt64.random(in: 1...UInt64.max)
        let spec = try cluster.runningSpec()
        let directory = out.map(ClusterDirectory.absolute) ?? cluster.directory.path + "/chaos-" + Self.stamp()
        try FileIO.makeDirectories(directory)
        say(
            "chaos: seed \(seed), \(clients) clients on \(keys) keys for \(time), nemesis \(kinds.map(\.rawValue).joined(separator: ",")); writing to \(directory)"
        )
        do {
            _ = try cluster.controller.waitForLeader(spec, milliseconds: 10_000)
        } catch {
            say("ERROR the cluster has no leader to start from")
            throw ExitCode(3)
        }
        // Keys of their own, so what earlier runs (or anyone) stored is not part of this history.
        let prefix = "chaos-" + Self.stamp() + "-\(seed % 10_000)-"
        let run = ChaosRun(
            controller: cluster.controller, spec: spec, seed: seed, clients: clients, keys: keys, rate: rate,
            durationMilliseconds: milliseconds, kinds: kinds, keyPrefix: prefix)
        let outcome = run.execute()
        if let problem = outcome.error {
            say("ERROR \(problem)")
            throw ExitCode(3)
        }
        let results = LinearizabilityChecker.check(outcome.history, budgetSeconds: Double(budgetMilliseconds) / 1000)
        try run.write(outcome, results: results, to: directory)
        let counts = (
            ok: outcome.history.filter { $0.status == .ok }.count,
            fail: outcome.history.filter { $0.status == .fail }.count,
            info: outcome.history.filter { $0.status == .info }.count
        )
        let status = Check.describe(results, operations: outcome.history.count, seconds: 0)
        for line in status.lines.dropLast() { say(line) }
        switch status.exit {
        case 0:
            say(
                "VALID ops=\(outcome.history.count) ok=\(counts.ok) fail=\(counts.fail) info=\(counts.info) keys=\(results.count)"
            )
        case 1:
            let bad = results.compactMap { result -> LinearizabilityChecker.Violation? in
                if case .violation(let violation) = result.verdict { violation } else { nil }
            }
            let first = bad[0]
            say(
                "INVALID key=\(first.key) line=\(first.failing.line) \(first.reason) (\(bad.count) of \(results.count) keys;"
                    + " see \(directory)/report.html)")
            throw ExitCode(1)
        default:
            say("UNKNOWN the check ran past --budget \(budget) on some keys (\(outcome.history.count) operations)")
            throw ExitCode(2)
        }
    }

    static func stamp() -> String {
        String(UTCTimestamp.now().compactMap { $0.isNumber ? $0 : $0 == "T" ? "-" : nil })
    }
}

/// The faults the nemesis knows, and the seeded schedule of them.
enum Nemesis {
    enum Kind: String, CaseIterable, Sendable {
        case kill, pause, partition, oneway, killall, failpoints
    }

    /// The failpoints the nemesis arms: the safe ones, with the actions that fit each.
    static let failpointActions: [(name: String, actions: [String])] = [
        ("before-leader-sync", ["crash", "pause:300ms"]), ("after-leader-sync", ["crash", "pause:300ms"]),
        ("after-append-sent", ["crash", "drop"]), ("after-commit-before-apply", ["crash", "pause:300ms"]),
        ("after-apply-before-reply", ["crash", "drop"]), ("before-follower-ack", ["crash", "drop"]),
        ("before-snapshot-install", ["crash", "drop"]),
    ]

    /// One fault of the schedule: what, on whom, held how long, then how long of quiet after healing.
    struct Fault: Sendable, Hashable {
        var kind: Kind
        var targets: [String]
        var holdMilliseconds: Int
        var quietMilliseconds: Int

        var description: String {
            switch kind {
            case .kill: "kill -9 \(targets[0])"
            case .pause: "pause \(targets[0])"
            case .partition:
                targets[0] == "leader"
                    ? "partition the leader from the others" : "partition \(targets.joined(separator: " "))"
            case .oneway: "block \(targets[0]) -> \(targets[1])"
            case .killall: "kill -9 every node"
            case .failpoints: "failpoint \(targets[1]) \(targets[2]) on \(targets[0])"
            }
        }
    }

    /// The schedule for `seed`: a function of the seed, the node ids and the duration alone.
    static func schedule(seed: UInt64, kinds: [Kind], nodes: [String], milliseconds: Int) -> [Fault] {
        guard !kinds.isEmpty, nodes.count > 1 else { return [] }
        var random = ChaosRandom(seed: seed ^ 0x6E65_6D65_7369_7321)
        var faults: [Fault] = []
        var elapsed = random.next(1_000) + 500
        while elapsed < milliseconds {
            let kind = kinds[random.next(kinds.count)]
            var shuffled = nodes
            for index in stride(from: shuffled.count - 1, to: 0, by: -1) {
                shuffled.swapAt(index, random.next(index + 1))
            }
            let targets: [String]
            switch kind {
            case .kill, .pause: targets = [shuffled[0]]
            case .partition:
                // Either the leader of the moment alone, or two halves (1 | 2 of three, 2 | 3 of five).
                let half = shuffled.count / 2
                targets =
                    random.next(2) == 0
                    ? ["leader"]
                    : [shuffled.prefix(half).joined(separator: ","), shuffled.dropFirst(half).joined(separator: ",")]
            case .oneway: targets = [shuffled[0], shuffled[1]]
            case .killall: targets = nodes
            case .failpoints:
                let point = failpointActions[random.next(failpointActions.count)]
                targets = [shuffled[0], point.name, point.actions[random.next(point.actions.count)]]
            }
            let hold = 1_000 + random.next(3_000)
            let quiet = 1_000 + random.next(2_000)
            faults.append(Fault(kind: kind, targets: targets, holdMilliseconds: hold, quietMilliseconds: quiet))
            elapsed += hold + quiet
        }
        return faults
    }
}

/// A small seeded generator (PCG-style LCG) for schedules and workloads: the same seed, the same choices.
struct ChaosRandom {
    var state: UInt64
    /// Seeds pass through SplitMix64's finalizer first, so neighbouring seeds give unrelated sequences.
    init(seed: UInt64) {
        var z = seed &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        state = z ^ (z >> 31)
    }
    mutating func next(_ bound: Int) -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((state >> 33) % UInt64(max(1, bound)))
    }
}

/// One chaos run: the clients, the nemesis and what they recorded.
struct ChaosRun: Sendable {
    let controller: ClusterController
    let spec: ClusterSpec
    let seed: UInt64
    let clients: Int
    let keys: Int
    let rate: Int
    let durationMilliseconds: Int
    let kinds: [Nemesis.Kind]
    /// Prepended to `k0`, `k1`, …: fresh keys, absent when the run starts.
    let keyPrefix: String

    struct FaultRecord: Sendable {
        var description: String
        var start: UInt64
        var end: UInt64
    }

    struct Outcome: Sendable {
        var history: [HistoryOperation]
        var faults: [FaultRecord]
        var events: [AdminEvent]
        /// Who led from when on (sampled four times a second; "no leader" while none was known).
        var leaders: [(time: UInt64, label: String)]
        var error: String?
    }

    final class Recorder: Sendable {
        struct State {
            var history: [HistoryOperation] = []
            var ok = 0
            var fail = 0
            var info = 0
            var fault = "none"
        }
        let state = Mutex(State())
        let stop = Atomic<Bool>(false)

        func record(_ operation: HistoryOperation) {
            state.withLock { state in
                state.history.append(operation)
                switch operation.status {
                case .ok: state.ok += 1
                case .fail: state.fail += 1
                case .info: state.info += 1
                }
            }
        }
    }

    static func nanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    func execute() -> Outcome {
        let recorder = Recorder()
        let origin = Self.nanoseconds()
        let group = DispatchGroup()
        for client in 0..<clients {
            DispatchQueue.global().async(group: group) {
                runClient(client, recorder: recorder, origin: origin)
            }
        }
        let schedule = Nemesis.schedule(
            seed: seed, kinds: kinds, nodes: spec.ids, milliseconds: durationMilliseconds)
        var faults: [FaultRecord] = []
        var leaderSamples: [(time: UInt64, label: String)] = []
        var lastSample: UInt64 = 0
        let interactive = isatty(1) != 0
        var lastProgress = Self.nanoseconds()
        let end = origin + UInt64(durationMilliseconds) * 1_000_000
        func progress() {
            let now = Self.nanoseconds()
            guard now - lastProgress >= (interactive ? 500_000_000 : 5_000_000_000) else { return }
            lastProgress = now
            let elapsed = Double(now - origin) / 1e9
            let line = recorder.state.withLock { state in
                let total = state.ok + state.fail + state.info
                return
                    "[\(Int(elapsed))/\(durationMilliseconds / 1000) s] \(Int(Double(total) / max(elapsed, 0.001))) ops/s"
                    + " ok=\(state.ok) fail=\(state.fail) info=\(state.info) fault: \(state.fault)"
            }
            if interactive {
                print("\r\u{1B}[K" + line, terminator: "")
                fflush(nil)
            } else {
                say(line)
            }
        }
        func sampleLeader() {
            let now = Self.nanoseconds()
            guard now - lastSample >= 250_000_000 else { return }
            lastSample = now
            let view = controller.gather(spec)
            let label = view.leader.map { "\($0) t\(view.term ?? 0)" } ?? "no leader"
            if leaderSamples.last?.label != label { leaderSamples.append((now - origin, label)) }
        }
        func wait(until deadline: UInt64) {
            while Self.nanoseconds() < min(deadline, end) {
                progress()
                sampleLeader()
                usleep(50_000)
            }
        }
        var cursor = origin + 500_000_000
        for fault in schedule {
            wait(until: cursor)
            guard Self.nanoseconds() < end else { break }
            let began = Self.nanoseconds() - origin
            recorder.state.withLock { $0.fault = fault.description }
            let done = inject(fault)
            recorder.state.withLock { $0.fault = done }
            cursor = Self.nanoseconds() + UInt64(fault.holdMilliseconds) * 1_000_000
            wait(until: cursor)
            heal(fault)
            recorder.state.withLock { $0.fault = "none" }
            faults.append(FaultRecord(description: done, start: began, end: Self.nanoseconds() - origin))
            cursor = Self.nanoseconds() + UInt64(fault.quietMilliseconds) * 1_000_000
        }
        wait(until: end)
        recorder.stop.store(true, ordering: .relaxed)
        group.wait()
        if interactive { print("") }
        healEverything()
        guard waitUntilWhole() else {
            return Outcome(
                history: [], faults: faults, events: [], leaders: leaderSamples,
                error: "the cluster did not recover (a leader and every node caught up) within 30 s of healing")
        }
        finalReads(recorder: recorder, origin: origin)
        let history = recorder.state.withLock { $0.history }.sorted {
            ($0.invoke, $0.process) < ($1.invoke, $1.process)
        }
        var numbered: [HistoryOperation] = []
        for (index, operation) in history.enumerated() {
            var line = operation
            line.line = index + 1
            numbered.append(line)
        }
        return Outcome(
            history: numbered, faults: faults, events: collectEvents(), leaders: leaderSamples, error: nil)
    }

    func runClient(_ client: Int, recorder: Recorder, origin: UInt64) {
        var random = ChaosRandom(seed: seed &+ UInt64(client + 1) &* 0x9E37_79B9_7F4A_7C15)
        var lastSeen: [String: String] = [:]
        var sequence = 0
        let interval = rate > 0 ? UInt64(1_000_000_000) * UInt64(clients) / UInt64(rate) : 0
        var next = Self.nanoseconds()
        while !recorder.stop.load(ordering: .relaxed) {
            if interval > 0 {
                let now = Self.nanoseconds()
                if now < next { usleep(UInt32((next - now) / 1_000)) }
                next += interval
            }
            sequence += 1
            let key = keyPrefix + "k\(random.next(keys))"
            let node = spec.nodes[random.next(spec.nodes.count)]
            let unique = "\(client)-\(sequence)"
            let call: HistoryOperation.Call
            switch random.next(20) {
            case 0..<8: call = .read
            case 8..<14: call = .write(unique)
            case 14..<17: call = .cas(old: lastSeen[key] ?? "none", new: unique)
            default: call = .delete
            }
            var operation = perform(call, key: key, on: node, process: client, origin: origin)
            if operation.status == .ok {
                switch call {
                case .read: lastSeen[key] = operation.output
                case .write(let value): lastSeen[key] = value
                case .cas(_, let new) where operation.casSucceeded == true: lastSeen[key] = new
                default: break
                }
            }
            if operation.status == .info { operation.complete = nil }
            recorder.record(operation)
            // A client that got no answer waits a moment before its next try, as a real one would, instead of
            // spinning on a node that is down.
            if operation.status != .ok { usleep(UInt32(20_000 + random.next(30_000))) }
        }
    }

    /// One operation over HTTP, classified honestly: a 2xx (and a 404 read or delete) is ok; a 412 cas, a refused
    /// connection, a 4xx, 503 or 507 (documented as "nothing applied") is fail; anything else is info.
    func perform(_ call: HistoryOperation.Call, key: String, on node: ClusterSpec.Node, process: Int, origin: UInt64)
        -> HistoryOperation
    {
        let path = "/v1/kv/" + percentEncode(key)
        let (method, fullPath, body): (String, String, [UInt8])
        switch call {
        case .read: (method, fullPath, body) = ("GET", path, [])
        case .write(let value): (method, fullPath, body) = ("PUT", path, Array(value.utf8))
        case .cas(let old, let new):
            (method, fullPath, body) = ("PUT", path + "?prevValue=" + percentEncode(old), Array(new.utf8))
        case .delete: (method, fullPath, body) = ("DELETE", path, [])
        }
        let invoke = Self.nanoseconds() - origin
        let exchange = HTTPClient.exchange(
            method: method, host: spec.host, port: node.clientPort, path: fullPath, body: body,
            timeoutMilliseconds: 2_000)
        let complete = Self.nanoseconds() - origin
        var operation = HistoryOperation(
            process: process, key: key, call: call, status: .info, invoke: invoke, complete: complete)
        switch exchange {
        case .notSent: operation.status = .fail
        case .noAnswer: operation.status = .info
        case .answered(let response):
            switch (response.status, call) {
            case (200, .read):
                operation.status = .ok
                operation.output = response.text
            case (404, .read):
                operation.status = .ok
                operation.output = nil
            case (200, .cas):
                operation.status = .ok
                operation.casSucceeded = true
            case (200, _), (404, .delete):
                operation.status = .ok
            case (412, _), (400..<500, _), (503, _), (507, _):
                operation.status = .fail
            default:
                operation.status = .info
            }
        }
        return operation
    }

    /// Injects `fault`; returns what was done, in words (the leader resolved to its id).
    @discardableResult
    func inject(_ fault: Nemesis.Fault) -> String {
        switch fault.kind {
        case .kill: _ = try? controller.kill(fault.targets[0], signal: SIGKILL)
        case .pause: try? controller.pause(fault.targets[0], resume: false)
        case .partition where fault.targets[0] == "leader":
            let leader = controller.gather(spec).leader ?? spec.ids[0]
            _ = try? controller.partition(spec, groups: [[leader]])
            return "partition the leader \(leader) from the others"
        case .partition:
            _ = try? controller.partition(spec, groups: fault.targets.map { $0.split(separator: ",").map(String.init) })
        case .oneway: try? controller.block(spec, from: fault.targets[0], to: fault.targets[1])
        case .killall: for id in fault.targets { _ = try? controller.kill(id, signal: SIGKILL) }
        case .failpoints: setFailpoint(fault.targets[0], fault.targets[1], fault.targets[2])
        }
        return fault.description
    }

    func setFailpoint(_ id: String, _ name: String, _ action: String) {
        var request = AdminRequest(op: "failpoint", id: .number(1))
        request.name = name
        request.action = action
        let _: [String: String]? = try? NodeAdmin(socketPath: controller.directory.adminSocket(id)).call(request)
        FaultLog.record(controller.directory, "failpoint", [id], "\(name) \(action)")
    }

    func heal(_ fault: Nemesis.Fault) {
        switch fault.kind {
        case .kill, .killall: for id in fault.targets { try? controller.start(id, raftdOption: nil) }
        case .pause: try? controller.pause(fault.targets[0], resume: true)
        case .partition, .oneway: _ = try? controller.heal(spec)
        case .failpoints:
            // A crash failpoint may have ended the node: the supervisor restarts it, or this does.
            setFailpoint(fault.targets[0], fault.targets[1], "off")
            if NodeProcess.inspect(controller.directory, fault.targets[0]).pid == nil {
                try? controller.start(fault.targets[0], raftdOption: nil)
            }
        }
    }

    func healEverything() {
        for id in spec.ids {
            switch NodeProcess.inspect(controller.directory, id).state {
            case .paused: try? controller.pause(id, resume: true)
            case .running: break
            default: try? controller.start(id, raftdOption: nil)
            }
        }
        _ = try? controller.heal(spec)
    }

    /// A leader, every node running and applied as far as the leader has committed.
    func waitUntilWhole() -> Bool {
        let deadline = ProcessControl.monotonicMilliseconds() + 30_000
        while ProcessControl.monotonicMilliseconds() < deadline {
            let view = controller.gather(spec)
            if let leader = view.leader, let commit = view.nodes.first(where: { $0.id == leader })?.commitIndex,
                view.nodes.allSatisfy({ $0.process == .running && ($0.appliedIndex ?? 0) >= commit })
            {
                return true
            }
            usleep(100_000)
        }
        return false
    }

    /// Reads every key once more through the leader, so the last writes are observed.
    func finalReads(recorder: Recorder, origin: UInt64) {
        for index in 0..<keys {
            for _ in 0..<50 {
                let view = controller.gather(spec)
                let node = spec.nodes.first { $0.id == view.leader } ?? spec.nodes[0]
                let operation = perform(.read, key: keyPrefix + "k\(index)", on: node, process: clients, origin: origin)
                if operation.status == .ok {
                    recorder.record(operation)
                    break
                }
                usleep(100_000)
            }
        }
    }

    func collectEvents() -> [AdminEvent] {
        var all: [AdminEvent] = []
        struct Item: Decodable { var event: AdminEvent }
        for id in spec.ids {
            try? NodeAdmin(socketPath: controller.directory.adminSocket(id)).stream(
                AdminRequest(op: "events", id: .number(1)), follow: false
            ) { line in
                if let item = try? JSONDecoder().decode(Item.self, from: Data(line.utf8)) { all.append(item.event) }
                return true
            }
        }
        return all.sorted { ($0.time, $0.node) < ($1.time, $1.node) }
    }

    func write(_ outcome: Outcome, results: [LinearizabilityChecker.KeyResult], to directory: String) throws {
        try FileIO.writeAtomically(
            directory + "/history.jsonl",
            Array((outcome.history.map(HistoryFormat.line).joined(separator: "\n") + "\n").utf8), mode: 0o644)
        let faultLines = outcome.faults.map {
            "{\"fault\":\"\($0.description)\",\"start\":\($0.start),\"end\":\($0.end)}"
        }
        try FileIO.writeAtomically(
            directory + "/faults.jsonl", Array((faultLines.joined(separator: "\n") + "\n").utf8), mode: 0o644)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let eventLines = outcome.events.compactMap { event in
            (try? encoder.encode(event)).map { String(decoding: $0, as: UTF8.self) }
        }
        try FileIO.writeAtomically(
            directory + "/events.jsonl", Array((eventLines.joined(separator: "\n") + "\n").utf8), mode: 0o644)
        var report = HistoryReport(
            title:
                "raftctl chaos, seed \(seed), \(clients) clients, nemesis \(kinds.map(\.rawValue).joined(separator: ","))",
            history: outcome.history, results: results)
        report.faults = outcome.faults.map { HistoryReport.Window(start: $0.start, end: $0.end, label: $0.description) }
        let end = outcome.history.compactMap(\.complete).max() ?? 0
        let samples = outcome.leaders
        report.leaders = samples.enumerated().map { index, sample in
            HistoryReport.Window(
                start: sample.time, end: index + 1 < samples.count ? samples[index + 1].time : max(end, sample.time),
                label: sample.label)
        }
        try FileIO.writeAtomically(directory + "/report.html", Array(report.html().utf8), mode: 0o644)
    }
}
