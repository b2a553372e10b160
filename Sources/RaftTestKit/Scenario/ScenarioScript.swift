/// A scripted scenario: one story about the Raft protocol, told as commands that drive a ``Cluster``, each
/// followed by the output it must produce. Inspired by etcd-io/raft's data-driven interaction tests.
///
/// ## File format
///
/// ```
/// # A comment: the story's narration. Blank lines separate blocks.
/// cluster 3 seed=1
/// ----
/// n1: follower term=0 vote=- commit=0 applied=0 last=0@0 leader=-
/// ...
///
/// tick-election n1
/// ----
/// n1: role follower -> pre-candidate term=0
/// ```
///
/// A block is a command line, a line `----`, then the expected output up to the next blank line (or the end of
/// the file). Output never contains a blank line. Lines starting with `#` outside a block are narration.
///
/// ## Commands
///
/// Nodes are named `n1`, `n2`, …. Every command that runs a node's Ready loop prints what happened, in order:
/// the node's events (`n2: role follower -> pre-candidate term=0`) and the messages it sent
/// (`n2->n1 t1 PreVote last=3@1`). A message is printed once, when it is sent; delivery prints it again only
/// where the command says so. Adding the flag `quiet` to any command suppresses that activity output (`events`
/// still lists what happened).
///
/// Setting up:
/// - `cluster N [seed=S] [prevote=on|off] [checkquorum=on|off] [snapshot-every=K] [election=10-20]
///   [heartbeat=2] [max-msg-bytes=B]`: creates nodes n1…nN (election timeout range and heartbeat interval in
///   ticks; `election=10` fixes the timeout; `max-msg-bytes=1` makes every AppendEntries carry one entry).
///   Prints every node's status.
///
/// Time (a node's messages stay pending until delivered):
/// - `tick n1 [times]`: ticks one node, running its Ready loop after each tick.
/// - `tick-election n1`: ticks a non-leader until it starts a (pre-)election.
/// - `tick-heartbeat n1`: ticks a leader until it sends heartbeats.
/// - `tick-all N`: N rounds of "tick every running node, then `stabilize`". Prints only events, each prefixed
///   with its round (`tick 12: n1: …`), because a healthy cluster's heartbeats would drown the story.
///
/// Inputs on one node (each runs that node's Ready loop; refused requests print `error: …`):
/// - `campaign n1`: an operator-forced election (skips PreVote, overrides leader leases).
/// - `propose n1 key=value [key=value …]`: proposes `put key value` commands, one entry each.
/// - `read n1 ctx=N`: asks for a linearizable read point (ReadIndex).
/// - `transfer n1 to=n2`: asks n1 to hand leadership to n2.
/// - `leader-conn-closed n2 by=n1`: the runtime tells n2 that n1 closed its connection.
/// - `snapshot n1`: n1 snapshots its state machine and compacts its log.
/// - `crash n2` (drops its pending messages, prints them) and `restart n2` (prints its status afterwards).
/// - `process n1`: runs n1's Ready loop (after `deliver`, this is how a node answers).
///
/// Network:
/// - `partition n1 | n2 n3`, `isolate n1`, `block n1->n2` (or `n1<->n2`), `unblock n1->n2`, `heal`.
/// - `deliver [from=n1] [to=n2] [type=AppendEntries] [count=K]`: delivers matching pending messages in order
///   (without running the receivers' Ready loops), printing each; a message over a blocked link or to a down
///   node is printed as `dropped … (blocked)` / `dropped … (down)`.
/// - `drop [from=…] [to=…] [type=…] [count=K]`: discards matching pending messages, printing each.
/// - `stabilize`: runs every node's Ready loop and delivers everything, until nothing is pending. Prints the
///   activity and the dropped messages.
///
/// Inspection (print `(none)` when there is nothing):
/// - `status [n1 …]`: `n1: leader term=2 vote=n1 commit=3 applied=3 last=3@2 leader=n1`, plus
///   `snapshot=I` and `transferring-to=nX` when relevant; a crashed node shows what its storage kept.
/// - `progress n1`: the leader's view of each follower (`n2: match=3 next=4 replicate active`).
/// - `log [n1 …]`: each entry as `n1: index@term kind data`, after `n1: snapshot index@term` if compacted.
/// - `kv [n1 …]`: the key-value state machine, sorted by key.
/// - `reads n1`: read states returned since the last call (`ctx=1 index=3`, or `ctx=2 failed`).
/// - `events`: every event since the previous `events` command (or the start), shown or not, one per line.
/// - `messages`: pending messages, oldest first, `(blocked)` when their link is cut.
///
/// After every command the runner checks the cluster's ``SafetyChecker``; a violation fails the script.
public struct ScenarioScript: Sendable {
    /// One piece of a script file, in file order.
    public enum Item: Sendable, Hashable {
        /// A narration comment or a blank line between blocks, kept verbatim for rewriting.
        case text(String)
        case command(ScenarioCommand)
    }

    public let name: String
    public let items: [Item]

    /// Parses a script. Only the block structure is checked here; command syntax is checked when it runs.
    public init(name: String, text: String) throws(ScenarioError) {
        self.name = name
        var items: [Item] = []
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        var i = 0
        while i < lines.count {
            let line = lines[i]
            let trimmed = line.trimmingSpaces
            if trimmed.isEmpty || trimmed.hasPrefix("#") {
                items.append(.text(line))
                i += 1
                continue
            }
            if trimmed == "----" { throw ScenarioError(line: i + 1, message: "`----` without a command before it") }
            let commandLine = i + 1
            i += 1
            var expected: [String]?
            if i < lines.count && lines[i].trimmingSpaces == "----" {
                i += 1
                var block: [String] = []
                while i < lines.count && !lines[i].trimmingSpaces.isEmpty {
                    block.append(lines[i])
                    i += 1
                }
                expected = block
            }
            items.append(.command(ScenarioCommand(line: commandLine, text: String(trimmed), expected: expected)))
        }
        self.items = items
    }

    public var commands: [ScenarioCommand] {
        items.compactMap {
            if case .command(let command) = $0 { return command }
            return nil
        }
    }

    /// Runs every command on a fresh cluster and compares each output with its expectation.
    public func run() -> ScenarioResult {
        let runner = ScenarioRunner()
        var mismatches: [ScenarioMismatch] = []
        var actualByLine: [Int: [String]] = [:]
        var failure: ScenarioError?
        for command in commands {
            do {
                let actual = try runner.execute(command)
                actualByLine[command.line] = actual
                if actual != command.expected {
                    mismatches.append(
                        ScenarioMismatch(
                            script: name, line: command.line, command: command.text, expected: command.expected,
                            actual: actual))
                }
            } catch {
                failure = error
                break
            }
            let violations = runner.cluster?.violations ?? []
            if !violations.isEmpty {
                failure = ScenarioError(
                    line: command.line,
                    message: "safety violated after `\(command.text)`:\n" + violations.joined(separator: "\n"))
                break
            }
        }
        if failure == nil && runner.cluster == nil {
            failure = ScenarioError(line: 1, message: "the script never creates a cluster")
        }
        return ScenarioResult(
            mismatches: mismatches, failure: failure, rewrittenText: rewritten(with: actualByLine))
    }

    /// The script text with every block's expectation replaced by the output it actually produced (blocks that
    /// did not run keep theirs).
    func rewritten(with actualByLine: [Int: [String]]) -> String {
        var out: [String] = []
        for item in items {
            switch item {
            case .text(let line):
                out.append(line)
            case .command(let command):
                out.append(command.text)
                out.append("----")
                out.append(contentsOf: actualByLine[command.line] ?? command.expected ?? [])
                out.append("")
            }
        }
        // A block already ends in a blank line; do not double it with the blank that separated blocks.
        var collapsed: [String] = []
        for line in out {
            if line.trimmingSpaces.isEmpty, let last = collapsed.last, last.trimmingSpaces.isEmpty { continue }
            collapsed.append(line)
        }
        while let last = collapsed.last, last.trimmingSpaces.isEmpty { collapsed.removeLast() }
        return collapsed.joined(separator: "\n") + "\n"
    }
}

/// One command of a script with the output the file expects from it (nil when the file has no `----` block).
public struct ScenarioCommand: Sendable, Hashable {
    /// 1-based line number of the command in its file.
    public let line: Int
    public let text: String
    public let expected: [String]?

    public init(line: Int, text: String, expected: [String]?) {
        self.line = line
        self.text = text
        self.expected = expected
    }
}

/// A script that could not be parsed or run (as opposed to one whose output differs from its expectation).
public struct ScenarioError: Error, Sendable, Hashable, CustomStringConvertible {
    public let line: Int
    public let message: String

    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { "line \(line): \(message)" }
}

/// A command whose output differs from what its script expects.
public struct ScenarioMismatch: Sendable, Hashable, CustomStringConvertible {
    public let script: String
    public let line: Int
    public let command: String
    public let expected: [String]?
    public let actual: [String]

    /// The file, the command, then a line diff (`-` expected only, `+` actual only).
    public var description: String {
        var text = "\(script):\(line): output of `\(command)` differs"
        guard let expected else {
            return text + " (no expected block)\nactual:\n" + actual.map { "  " + $0 }.joined(separator: "\n")
        }
        text += " (- expected, + actual):\n"
        text += LineDiff.render(expected: expected, actual: actual).joined(separator: "\n")
        return text
    }
}

/// The outcome of ``ScenarioScript/run()``.
public struct ScenarioResult: Sendable {
    public let mismatches: [ScenarioMismatch]
    /// Set when a command could not run or a safety property broke; the commands after it did not run.
    public let failure: ScenarioError?
    /// The file with every expectation replaced by the actual output, for rewrite mode.
    public let rewrittenText: String

    public var passed: Bool { mismatches.isEmpty && failure == nil }
}

extension String {
    var trimmingSpaces: Substring {
        var s = Substring(self)
        while let first = s.first, first == " " || first == "\t" || first == "\r" { s = s.dropFirst() }
        while let last = s.last, last == " " || last == "\t" || last == "\r" { s = s.dropLast() }
        return s
    }
}
