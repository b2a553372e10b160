import Dispatch
import FoundationEssentials
import Glibc
import RaftAPI
import RaftClient
import RaftText
import Synchronization

/// Acts a ``ScenarioScript`` out on a running cluster: each `raftctl` step runs the real command (in this process,
/// its output captured), waits poll the nodes, expectations compare what the nodes report with what the script
/// promises. Prints a numbered narration (or, with `json`, collects a transcript); the first expectation that does
/// not hold ends the run with `FAIL step N: expected …, saw …`.
final class ScenarioRunner {
    enum Pace: String, CaseIterable, Sendable {
        case slow, normal, fast
    }

    /// One step as the transcript records it.
    struct Record: Encodable {
        var step: Int
        var line: Int
        var kind: String
        var text: String
        var command: String?
        var exitStatus: Int32?
        var output: String?
        var result: String?
        var ok: Bool
    }

    struct Failure: Error, Encodable {
        var step: Int
        var expected: String
        var saw: String
    }

    let script: ScenarioScript
    let directory: ClusterDirectory
    let pace: Pace
    let json: Bool
    private(set) var records: [Record] = []
    private var variables: [String: String] = [:]
    private var last: (status: Int32, output: String)?
    private var stepNumber = 0
    private var load: BackgroundLoad?
    /// How long a `wait` may take.
    static let waitMilliseconds: Int64 = 15_000

    init(script: ScenarioScript, directory: ClusterDirectory, pace: Pace, json: Bool) {
        self.script = script
        self.directory = directory
        self.pace = pace
        self.json = json
    }

    var controller: ClusterController { ClusterController(directory: directory) }

    /// Runs every step; returns the failure, if any.
    func run() -> Failure? {
        defer { load?.stop() }
        for step in script.steps {
            do {
                try perform(step)
            } catch let failure as Failure {
                return failure
            } catch {
                return Failure(step: stepNumber, expected: "step \(step.words[0]) to run", saw: "\(error)")
            }
            if pace == .slow && !json && step.words[0] != "say" { waitForEnter() }
        }
        return nil
    }

    // MARK: - Steps

    private func perform(_ step: ScenarioScript.Step) throws {
        let words = try step.words.map { try substitute($0, step) }
        switch words[0] {
        case "say":
            let text = try substitute(step.rest, step)
            narrate(text)
            records.append(Record(step: 0, line: step.line, kind: "say", text: text, ok: true))
        case "when":
            let holds = words[2] == "=" ? words[1] == words[3] : words[1] != words[3]
            guard holds else { return }
            // The rest of the line is a step of its own (variables already substituted).
            let inner = Array(words[4...])
            try perform(
                ScenarioScript.Step(
                    line: step.line, words: inner, rest: inner.dropFirst().joined(separator: " ")))
        case "raftctl", "raftctl?":
            stepNumber += 1
            let arguments = Array(words.dropFirst())
            let command = "raftctl " + arguments.map(Self.quoteIfNeeded).joined(separator: " ")
            print("\(number)$ \(command)")
            let (status, output) = Self.runCaptured(arguments)
            last = (status, output)
            for line in output.split(separator: "\n", omittingEmptySubsequences: false).dropLast(
                output.hasSuffix("\n") ? 1 : 0)
            {
                print("      " + line)
            }
            let ok = words[0] == "raftctl?" || status == 0
            records.append(
                Record(
                    step: stepNumber, line: step.line, kind: "raftctl", text: command, command: command,
                    exitStatus: status, output: output, ok: ok))
            if !ok {
                throw Failure(
                    step: stepNumber, expected: "`\(command)` to succeed",
                    saw: "exit status \(status): \(output.trimmingWhitespace())")
            }
            pause()
        case "campaign":
            stepNumber += 1
            let ids = Array(words.dropFirst())
            let command = ids.map { "raftctl campaign \($0) &" }.joined(separator: " ") + " wait"
            print("\(number)$ \(command)")
            let spec = try directory.loadSpec()
            let controller = self.controller
            let errors = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: ids.count) { index in
                do {
                    struct Ack: Decodable {}
                    let _: Ack = try controller.admin(spec, ids[index]).call(
                        AdminRequest(op: "campaign", id: .number(1)))
                } catch {
                    errors.withLock { $0.append("\(ids[index]): \(error)") }
                }
            }
            let problems = errors.withLock { $0 }
            records.append(
                Record(
                    step: stepNumber, line: step.line, kind: "campaign", text: command, command: command,
                    ok: problems.isEmpty))
            if !problems.isEmpty {
                throw Failure(
                    step: stepNumber, expected: "every campaign to start", saw: problems.joined(separator: "; "))
            }
            pause()
        case "let":
            let value = try evaluate(Array(words[3...]), step)
            variables[words[1]] = value
            records.append(
                Record(step: 0, line: step.line, kind: "let", text: "\(words[1]) = \(value)", result: value, ok: true))
        case "wait":
            stepNumber += 1
            try wait(words, step)
            pause()
        case "expect":
            stepNumber += 1
            try expect(words, step)
        case "burst":
            stepNumber += 1
            try burst(words[1], Int(words[2]) ?? 1, step)
            pause()
        case "load":
            stepNumber += 1
            if words[1] == "start" {
                let spec = try directory.loadSpec()
                load = BackgroundLoad(controller: controller, spec: spec)
                load?.start()
                print("\(number)a client starts writing keys load-1, load-2, … through the leader in the background")
                print("      (by hand: i=0; while :; do i=$((i+1)); raftctl put load-$i v$i; done &)")
                records.append(Record(step: stepNumber, line: step.line, kind: "load", text: "load start", ok: true))
            } else {
                let (acknowledged, failed) = load?.stop() ?? (0, 0)
                let text = "the background client stopped: \(acknowledged) writes acknowledged, \(failed) not"
                print("\(number)\(text)")
                records.append(
                    Record(step: stepNumber, line: step.line, kind: "load", text: "load stop", result: text, ok: true))
            }
        default:
            throw Failure(step: stepNumber, expected: "a known step", saw: words[0])
        }
    }

    private var number: String {
        let text = String(stepNumber)
        return String(repeating: " ", count: max(0, 3 - text.count)) + text + ". "
    }

    private func narrate(_ text: String) {
        print("")
        for line in Self.wrap(text, width: 96) { print("   " + line) }
        pause()
    }

    private func print(_ text: String) {
        guard !json else { return }
        say(text)
    }

    private func pause() {
        if pace == .normal && !json { usleep(400_000) }
    }

    private func waitForEnter() {
        Swift.print("      (press Enter to go on)", terminator: "")
        fflush(nil)
        var byte: UInt8 = 0
        let tty = open("/dev/tty", O_RDONLY)
        let fd = tty >= 0 ? tty : 0
        while read(fd, &byte, 1) == 1 && byte != 10 {}
        // A terminal echoed the Enter; from a pipe, end the prompt's line ourselves.
        if isatty(fd) == 0 { Swift.print("") }
        if tty >= 0 { close(tty) }
    }

    /// `$NAME` replaced by its value; an unknown name fails the step.
    private func substitute(_ text: String, _ step: ScenarioScript.Step) throws -> String {
        guard text.contains("$") else { return text }
        var result = ""
        var name = ""
        var inName = false
        func flush() throws {
            guard inName else { return }
            guard let value = variables[name] else {
                throw Failure(step: stepNumber, expected: "$\(name) to be bound (line \(step.line))", saw: "nothing")
            }
            result += value
            inName = false
            name = ""
        }
        for character in text {
            if inName {
                if character.isLetter || character.isNumber || character == "_" {
                    name.append(character)
                    continue
                }
                try flush()
            }
            if character == "$" {
                inName = true
            } else {
                result.append(character)
            }
        }
        try flush()
        return result
    }

    // MARK: - Reading the cluster

    private func view() throws -> (ClusterSpec, ClusterView) {
        let spec = try directory.loadSpec()
        return (spec, controller.gather(spec))
    }

    private func node(_ view: ClusterView, _ id: String) throws -> NodeView {
        guard let node = view.nodes.first(where: { $0.id == id }) else {
            throw Failure(step: stepNumber, expected: "a node \(id)", saw: "nodes \(view.nodes.map(\.id))")
        }
        return node
    }

    private func evaluate(_ expression: [String], _ step: ScenarioScript.Step) throws -> String {
        let (_, view) = try view()
        switch expression[0] {
        case "now":
            return UTCTimestamp.now()
        case "leader":
            guard let leader = view.leader else {
                throw Failure(step: stepNumber, expected: "a leader (line \(step.line))", saw: "none")
            }
            return leader
        case "follower":
            guard let leader = view.leader else {
                throw Failure(step: stepNumber, expected: "a leader (line \(step.line))", saw: "none")
            }
            let followers = view.nodes.map(\.id).filter { $0 != leader }
            let index = expression.count > 1 ? Int(expression[1]) ?? 1 : 1
            guard index >= 1 && index <= followers.count else {
                throw Failure(
                    step: stepNumber, expected: "follower \(index) (line \(step.line))", saw: "followers \(followers)")
            }
            return followers[index - 1]
        default:
            guard expression.count == 2 else {
                throw Failure(
                    step: stepNumber, expected: "\(expression[0]) ID (line \(step.line))", saw: "\(expression)")
            }
            return String(try number(expression[0], of: node(view, expression[1])))
        }
    }

    private func number(_ what: String, of node: NodeView) throws -> UInt64 {
        let value: UInt64? =
            switch what {
            case "term": node.term
            case "commit": node.commitIndex
            case "applied": node.appliedIndex
            case "last-index": node.lastLogIndex
            default: nil
            }
        guard let value else {
            throw Failure(
                step: stepNumber, expected: "\(what) of \(node.id)", saw: "\(node.id) is \(node.process.rawValue)")
        }
        return value
    }

    /// Polls `probe` every 50 ms until it returns a value or the wait times out.
    private func poll<T>(_ what: String, _ probe: () throws -> T?) throws -> T {
        let deadline = ProcessControl.monotonicMilliseconds() + Self.waitMilliseconds
        while true {
            if let value = try? probe() { return value }
            if ProcessControl.monotonicMilliseconds() >= deadline {
                let (_, view) = try self.view()
                throw Failure(step: stepNumber, expected: what + " within 15 s", saw: Self.describe(view))
            }
            usleep(50_000)
        }
    }

    static func describe(_ view: ClusterView) -> String {
        view.nodes.map { node in
            "\(node.id) \(node.process == .running ? node.role ?? "silent" : node.process.rawValue)"
                + (node.term.map { " t\($0)" } ?? "") + (node.leader.map { " leader \($0)" } ?? "")
                + (node.commitIndex.map { " commit \($0)" } ?? "")
        }.joined(separator: ", ")
    }

    private func wait(_ words: [String], _ step: ScenarioScript.Step) throws {
        let started = ProcessControl.monotonicMilliseconds()
        func after() -> String { "after \(ProcessControl.monotonicMilliseconds() - started) ms" }
        switch words[1] {
        case "leader":
            var excluded: String?
            var name: String?
            var others: Set<String> = []
            var index = 2
            while index + 1 < words.count {
                switch words[index] {
                case "not": excluded = words[index + 1]
                case "as": name = words[index + 1]
                case "among-others": others = Set(words[index + 1].split(separator: ",").map(String.init))
                default: break
                }
                index += 2
            }
            let who =
                others.isEmpty
                ? "every running node" : "every running node but \(others.sorted().joined(separator: ", "))"
            print("\(number)wait for a leader" + (excluded.map { " other than \($0)" } ?? "") + " that \(who) follows")
            let (leader, term) = try poll("a leader" + (excluded.map { " other than \($0)" } ?? "") + " \(who) follows")
            {
                () throws -> (String, UInt64)? in
                let (_, view) = try self.view()
                let voters = view.nodes.filter { $0.process == .running && !others.contains($0.id) }
                let leaders = voters.filter { $0.role == "leader" }
                guard leaders.count == 1, let leader = leaders.first, leader.id != excluded,
                    voters.allSatisfy({ $0.leader == leader.id })
                else { return nil }
                return (leader.id, leader.term ?? 0)
            }
            if let name {
                variables[name] = leader
                variables[name + "_term"] = String(term)
            }
            let text = "\(leader) leads in term \(term) (\(after()))"
            print("      " + text)
            recordWait(words, step, result: text)
        case "role":
            let (id, role) = (words[2], words[3])
            print("\(number)wait until \(id) is \(role)")
            try poll("\(id) to be \(role)") { () throws -> Bool? in
                try self.node(try self.view().1, id).role == role ? true : nil
            }
            print("      \(id) is \(role) (\(after()))")
            recordWait(words, step, result: role)
        case "caught-up":
            let id = words[2]
            print("\(number)wait until \(id) has applied everything the leader committed")
            let applied = try poll("\(id) to catch up with the leader") { () throws -> UInt64? in
                let (_, view) = try self.view()
                guard let leader = view.leader, let commit = try self.node(view, leader).commitIndex,
                    let applied = try self.node(view, id).appliedIndex, applied >= commit
                else { return nil }
                return applied
            }
            print("      \(id) applied through \(applied) (\(after()))")
            recordWait(words, step, result: String(applied))
        case "load":
            guard let load, let wanted = Int(words[2]) else {
                throw Failure(step: stepNumber, expected: "`load start` before `wait load N`", saw: "none")
            }
            print("\(number)wait until the background client has \(wanted) writes acknowledged")
            let count = try poll("\(wanted) acknowledged writes") { () -> Int? in
                let count = load.acknowledged.count
                return count >= wanted ? count : nil
            }
            print("      \(count) acknowledged (\(after()))")
            recordWait(words, step, result: String(count))
        case "event":
            var since = UTCTimestamp.now()
            let (id, kind) = (words[2], words[3])
            var count = 1
            var matching: String?
            var index = 4
            while index + 1 < words.count {
                switch words[index] {
                case "count": count = Int(words[index + 1]) ?? 1
                case "since": since = words[index + 1]
                case "matching": matching = words[index + 1]
                default: break
                }
                index += 2
            }
            print(
                "\(number)wait until \(id) records \(count == 1 ? "a" : String(count)) `\(kind)` event\(count == 1 ? "" : "s")"
            )
            let seen = try poll("\(count) \(kind) event(s) on \(id)") { () throws -> [AdminEvent]? in
                let events = try self.events(id).filter { event in
                    event.kind == kind && event.time >= since && matching.map { event.detail.contains($0) } != false
                }
                return events.count >= count ? events : nil
            }
            for event in seen.suffix(count) {
                print("      \(event.time)  \(event.node)  t\(event.term)  \(event.kind)  \(event.detail)")
            }
            recordWait(words, step, result: "\(seen.count)")
        default:
            throw Failure(step: stepNumber, expected: "a known wait", saw: words[1])
        }
    }

    private func recordWait(_ words: [String], _ step: ScenarioScript.Step, result: String) {
        records.append(
            Record(
                step: stepNumber, line: step.line, kind: "wait", text: words.joined(separator: " "), result: result,
                ok: true))
    }

    private func events(_ id: String) throws -> [AdminEvent] {
        let spec = try directory.loadSpec()
        var events: [AdminEvent] = []
        struct Item: Decodable { var event: AdminEvent }
        try controller.admin(spec, id).stream(AdminRequest(op: "events", id: .number(1)), follow: false) { line in
            if let item = try? JSONDecoder().decode(Item.self, from: Data(line.utf8)) { events.append(item.event) }
            return true
        }
        return events
    }

    private func entries(_ id: String) throws -> [AdminEntry] {
        let spec = try directory.loadSpec()
        var request = AdminRequest(op: "entries", id: .number(1))
        request.from = 1
        request.limit = 1_000_000
        var entries: [AdminEntry] = []
        struct Item: Decodable { var entry: AdminEntry }
        try controller.admin(spec, id).stream(request, follow: false) { line in
            if let item = try? JSONDecoder().decode(Item.self, from: Data(line.utf8)) { entries.append(item.entry) }
            return true
        }
        return entries
    }

    // MARK: - Expectations

    private func expect(_ words: [String], _ step: ScenarioScript.Step) throws {
        let text = "expect " + words.dropFirst().joined(separator: " ")
        func hold(_ saw: String) {
            print("\(number)\(text): yes (\(saw))")
            records.append(Record(step: stepNumber, line: step.line, kind: "expect", text: text, result: saw, ok: true))
        }
        func fail(_ expected: String, _ saw: String) -> Failure {
            print("\(number)\(text): NO, saw \(saw)")
            records.append(
                Record(step: stepNumber, line: step.line, kind: "expect", text: text, result: saw, ok: false))
            return Failure(step: stepNumber, expected: expected, saw: saw)
        }
        // About the last command: checked once. About the cluster: holds if it comes true within 5 s.
        switch words[1] {
        case "exit":
            let status = last?.status ?? -1
            guard String(status) == words[2] else { throw fail("exit status \(words[2])", "exit status \(status)") }
            hold("exit status \(status)")
            return
        case "output":
            let needle = try substitute(String(step.rest.dropFirst("output".count)).trimmingWhitespace(), step)
                .replacing("\"", with: "")
            let output = last?.output ?? ""
            guard output.contains(needle) else {
                throw fail("the output to contain \"\(needle)\"", "\"\(output.trimmingWhitespace())\"")
            }
            hold("it does")
            return
        default: break
        }
        let (expected, check) = try condition(words)
        let deadline = ProcessControl.monotonicMilliseconds() + 5_000
        var saw = ""
        while true {
            do {
                let (holds, description) = try check()
                saw = description
                if holds {
                    hold(description)
                    return
                }
            } catch let failure as Failure {
                saw = failure.saw
            } catch {
                saw = "\(error)"
            }
            if ProcessControl.monotonicMilliseconds() >= deadline { throw fail(expected, saw) }
            usleep(100_000)
        }
    }

    /// What an expectation about the cluster promises, and how to check it now (whether it holds, what was seen).
    private func condition(_ words: [String]) throws -> (String, () throws -> (Bool, String)) {
        func compare(_ value: UInt64, _ operation: String, _ boundText: String) throws -> Bool {
            guard let bound = UInt64(boundText) else {
                throw Failure(step: stepNumber, expected: "a number", saw: boundText)
            }
            return switch operation {
            case "=": value == bound
            case "!=": value != bound
            case "<": value < bound
            case "<=": value <= bound
            case ">": value > bound
            default: value >= bound
            }
        }
        switch words[1] {
        case "role":
            return (
                "\(words[2]) to be \(words[3])",
                {
                    let role = try self.node(try self.view().1, words[2]).role ?? "not answering"
                    return (role == words[3], "\(words[2]) is \(role)")
                }
            )
        case "leader":
            return (
                words.count >= 4 ? "a leader other than \(words[3])" : "leader \(words[2])",
                {
                    let leader = try self.view().1.leader ?? "none"
                    let holds = words.count >= 4 && words[2] == "not" ? leader != words[3] : leader == words[2]
                    return (holds, "leader \(leader)")
                }
            )
        case "term", "commit", "applied", "last-index":
            return (
                "\(words[1]) of \(words[2]) \(words[3]) \(words[4])",
                {
                    let value = try self.number(words[1], of: self.node(try self.view().1, words[2]))
                    return (try compare(value, words[3], words[4]), "\(words[1]) \(value)")
                }
            )
        case "value":
            return (
                "\(words[2]) = \(words[3])",
                {
                    let (spec, view) = try self.view()
                    for node in view.nodes where node.process == .running {
                        guard let port = spec.node(node.id)?.clientPort,
                            let response = HTTPClient.request(
                                method: "GET", host: spec.host, port: port, path: "/v1/kv/" + percentEncode(words[2]),
                                timeoutMilliseconds: 3_000)
                        else { continue }
                        let value = response.status == 200 ? response.text : response.status == 404 ? "none" : nil
                        if let value { return (value == words[3], "\(words[2]) = \(value)") }
                    }
                    return (false, "no node answered a linearizable read")
                }
            )
        case "log":
            let (id, field) = (words[2], words[4])
            guard let index = UInt64(words[3]) else {
                throw Failure(step: stepNumber, expected: "an index", saw: words[3])
            }
            let operation = field == "term" && words.count >= 7 ? words[5] : "="
            let wanted = field == "term" ? words[words.count - 1] : words[5...].joined(separator: " ")
            return (
                "\(id)'s entry \(index) to have \(field) \(operation == "=" ? "" : operation + " ")\(wanted)",
                {
                    guard let entry = try self.entries(id).first(where: { $0.index == index }) else {
                        return (false, "no entry at \(index) on \(id)")
                    }
                    if field == "term" {
                        return (try compare(entry.term, operation, wanted), "term \(entry.term)")
                    }
                    let command = entry.command ?? "(no-op)"
                    return (command.contains(wanted), "\(command) (term \(entry.term))")
                }
            )
        case "copies":
            let (id, key) = (words[2], words[3])
            return (
                "\(words[4]) entries with Idempotency-Key \(key) in \(id)'s log",
                {
                    let count = try self.entries(id).filter { entry in
                        guard let entryKey = entry.idempotencyKey else { return false }
                        return key.hasSuffix("*") ? entryKey.hasPrefix(key.dropLast()) : entryKey == key
                    }.count
                    return (String(count) == words[4], "\(count)")
                }
            )
        case "logs-match":
            return (
                "every running node's log to match the leader's through its commit index",
                {
                    let (_, view) = try self.view()
                    guard let leader = view.leader, let commit = try self.node(view, leader).commitIndex else {
                        return (false, "no leader")
                    }
                    let reference = Dictionary(
                        uniqueKeysWithValues: try self.entries(leader).map { ($0.index, $0.term) })
                    for node in view.nodes where node.process == .running && node.id != leader {
                        for entry in try self.entries(node.id) where entry.index <= commit {
                            if let term = reference[entry.index], term != entry.term {
                                return (
                                    false,
                                    "index \(entry.index): term \(entry.term) on \(node.id), \(term) on \(leader)"
                                )
                            }
                        }
                    }
                    return (true, "every running node's log matches \(leader)'s through \(commit)")
                }
            )
        case "loaded-writes-readable":
            guard let load else { throw Failure(step: stepNumber, expected: "a `load start` before", saw: "none") }
            return (
                "every acknowledged write of the background client to read back",
                {
                    let acknowledged = load.acknowledged
                    let (spec, view) = try self.view()
                    guard let leader = view.leader, let port = spec.node(leader)?.clientPort else {
                        return (false, "no leader to read from")
                    }
                    var missing: [String] = []
                    for (key, value) in acknowledged.sorted(by: { $0.key < $1.key }) {
                        let response = HTTPClient.request(
                            method: "GET", host: spec.host, port: port, path: "/v1/kv/" + key,
                            timeoutMilliseconds: 3_000)
                        if response?.status != 200 || response?.text != value { missing.append(key) }
                    }
                    return (
                        missing.isEmpty && !acknowledged.isEmpty,
                        missing.isEmpty
                            ? "all \(acknowledged.count) acknowledged writes read back"
                            : "\(missing.count) missing: \(missing.prefix(5).joined(separator: ", "))"
                    )
                }
            )
        default:
            throw Failure(step: stepNumber, expected: "a known expectation", saw: words[1])
        }
    }

    // MARK: - Bursts

    /// Sends `count` writes to one node at once on separate connections, then waits up to 2 s for the answers.
    private func burst(_ id: String, _ count: Int, _ step: ScenarioScript.Step) throws {
        let spec = try directory.loadSpec()
        guard let node = spec.node(id) else { throw Failure(step: stepNumber, expected: "a node \(id)", saw: "none") }
        print(
            "\(number)send \(count) writes to \(id) at once (burst-\(id)-1 … burst-\(id)-\(count), each with its key as"
                + " Idempotency-Key)")
        print(
            "      (by hand: for i in $(seq \(count)); do raftctl put burst-\(id)-$i v --via \(id) --idempotency-key"
                + " burst-\(id)-$i --timeout 2s & done; wait)")
        var connections: [SocketConnection] = []
        for n in 1...count {
            let key = "burst-\(id)-\(n)"
            let request = HTTPClient.requestBytes(
                method: "PUT", host: spec.host, port: node.clientPort, path: "/v1/kv/\(key)", body: Array("v".utf8),
                headers: [("Idempotency-Key", key)])
            if let connection = try? SocketConnection.tcp(
                host: spec.host, port: node.clientPort, timeoutMilliseconds: 1_000),
                connection.send(request, timeoutMilliseconds: 1_000)
            {
                connections.append(connection)
            }
        }
        let deadline = ProcessControl.monotonicMilliseconds() + 2_000
        var answered: [Int: Int] = [:]
        for connection in connections {
            let remaining = Int(max(1, deadline - ProcessControl.monotonicMilliseconds()))
            let received = connection.receive(timeoutMilliseconds: remaining) { HTTPClient.parse($0) != nil }
            if let (response, _) = HTTPClient.parse(received.bytes, atEnd: received.closed) {
                answered[response.status, default: 0] += 1
            }
        }
        let summary =
            "\(connections.count) sent; "
            + (answered.isEmpty
                ? "no answer within 2 s"
                : answered.sorted { $0.key < $1.key }.map { "\($0.value) answered \($0.key)" }.joined(separator: ", "))
        print("      " + summary)
        records.append(
            Record(
                step: stepNumber, line: step.line, kind: "burst", text: "burst \(id) \(count)", result: summary,
                ok: true))
    }

    // MARK: - Running raftctl in this process

    /// Runs a raftctl command line in this process with its stdout and stderr captured.
    static func runCaptured(_ arguments: [String]) -> (Int32, String) {
        fflush(nil)
        var template = Array("/tmp/raftctl-scenario-out-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { return (RaftctlMain.execute(arguments, inREPL: true), "") }
        let path = String(cString: template)
        let savedOut = dup(1)
        let savedErr = dup(2)
        dup2(fd, 1)
        dup2(fd, 2)
        let status = RaftctlMain.execute(arguments, inREPL: true)
        fflush(nil)
        dup2(savedOut, 1)
        dup2(savedErr, 2)
        close(savedOut)
        close(savedErr)
        close(fd)
        let output = FileIO.readText(path) ?? ""
        unlink(path)
        return (status, output)
    }

    static func quoteIfNeeded(_ word: String) -> String {
        word.contains(" ") || word.contains("|") ? "'\(word)'" : word
    }

    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ") {
            if !current.isEmpty && current.count + 1 + word.count > width {
                lines.append(current)
                current = ""
            }
            current += (current.isEmpty ? "" : " ") + word
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }
}

/// A client writing `load-N = vN` in the background through the leader, with an Idempotency-Key per write and
/// retries across nodes, remembering every acknowledged write.
final class BackgroundLoad: Sendable {
    let controller: ClusterController
    let spec: ClusterSpec
    private let state = Mutex<(stop: Bool, acknowledged: [String: String], failed: Int, running: Bool)>(
        (false, [:], 0, false))
    private let done = DispatchSemaphore(value: 0)

    init(controller: ClusterController, spec: ClusterSpec) {
        self.controller = controller
        self.spec = spec
    }

    var acknowledged: [String: String] { state.withLock { $0.acknowledged } }

    func start() {
        state.withLock { $0.running = true }
        DispatchQueue.global().async {
            var n = 0
            var leaderPort: Int?
            while !self.state.withLock({ $0.stop }) {
                n += 1
                let key = "load-\(n)"
                let value = "v\(n)"
                let headers = [("Idempotency-Key", "scenario-load-\(n)")]
                var acknowledged = false
                for _ in 0..<20 where !acknowledged {
                    if leaderPort == nil {
                        let view = self.controller.gather(self.spec)
                        leaderPort = view.leader.flatMap { self.spec.node($0)?.clientPort }
                    }
                    guard let port = leaderPort else {
                        usleep(50_000)
                        continue
                    }
                    let response = HTTPClient.request(
                        method: "PUT", host: self.spec.host, port: port, path: "/v1/kv/" + key,
                        body: Array(value.utf8), headers: headers, timeoutMilliseconds: 3_000)
                    if response?.status == 200 {
                        acknowledged = true
                    } else {
                        leaderPort = nil
                        usleep(20_000)
                    }
                }
                self.state.withLock { state in
                    if acknowledged { state.acknowledged[key] = value } else { state.failed += 1 }
                }
            }
            self.done.signal()
        }
    }

    /// Stops the writer and waits for its last write; returns how many writes were acknowledged and failed.
    @discardableResult
    func stop() -> (Int, Int) {
        let wasRunning = state.withLock { state -> Bool in
            let running = state.running
            state.stop = true
            state.running = false
            return running
        }
        if wasRunning { done.wait() }
        return state.withLock { ($0.acknowledged.count, $0.failed) }
    }
}
