import ArgumentParser
import FoundationEssentials
import Glibc
import RaftCheck

/// `raftctl check HISTORY`: is a recorded history linearizable?
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that a history of client operations is linearizable, key by key.",
        discussion: """
            HISTORY is JSON Lines, one completed operation per line: {"process": 3, "key": "k1", "type": \\
            "read"|"write"|"cas"|"delete", "input": ..., "output": ..., "status": "ok"|"fail"|"info", "invoke": \\
            NANOS, "complete": NANOS} (see raftctl(1)); - reads standard input. Exit status: 0 linearizable, \\
            1 not linearizable, 2 unknown (a key's search ran past --budget), 3 the history cannot be read.
            """)

    @Argument(help: "The history file (JSON Lines), or - for standard input.", completion: .file())
    var history: String

    @Option(help: "Give up on a key after this long, e.g. 30s; the verdict is then unknown.")
    var budget = "30s"

    @Option(help: "Also write a self-contained HTML picture of the history to this file.", completion: .file())
    var html: String?

    func run() throws {
        let budgetMilliseconds = try parseDuration(budget, option: "--budget")
        let text: String
        if history == "-" {
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = read(0, &buffer, buffer.count)
                if count <= 0 { break }
                bytes += buffer[0..<count]
            }
            text = String(decoding: bytes, as: UTF8.self)
        } else {
            guard let bytes = FileIO.read(history) else {
                warn("cannot read \(history): \(String(cString: strerror(errno)))")
                throw ExitCode(3)
            }
            text = String(decoding: bytes, as: UTF8.self)
        }
        let operations: [HistoryOperation]
        do {
            operations = try HistoryFormat.parse(text)
        } catch {
            warn("\(history == "-" ? "standard input" : history): \(error)")
            throw ExitCode(3)
        }
        let started = LinearizabilityChecker.now()
        let results = LinearizabilityChecker.check(operations, budgetSeconds: Double(budgetMilliseconds) / 1000)
        let elapsed = LinearizabilityChecker.now() - started
        if let html {
            let report = HistoryReport(
                title: "raftctl check \(history)", history: operations, results: results)
            do {
                try FileIO.writeAtomically(html, Array(report.html().utf8), mode: 0o644)
            } catch {
                warn("\(error)")
            }
        }
        let status = Self.describe(results, operations: operations.count, seconds: elapsed)
        for line in status.lines { say(line) }
        if status.exit != 0 { throw ExitCode(status.exit) }
    }

    /// What to print and the exit status: the violations (key, longest prefix, failing operation, reason), the
    /// unknown keys, then one summary line.
    static func describe(_ results: [LinearizabilityChecker.KeyResult], operations: Int, seconds: Double) -> (
        lines: [String], exit: Int32
    ) {
        var lines: [String] = []
        var violations = 0
        var unknown: [String] = []
        for result in results {
            switch result.verdict {
            case .linearizable: break
            case .unknown: unknown.append(result.key)
            case .violation(let violation):
                violations += 1
                lines.append("key \(violation.key) is not linearizable")
                lines.append(
                    "  longest linearizable prefix (\(violation.prefix.count) of \(result.operations) operations):")
                let shown = violation.prefix.suffix(20)
                if shown.count < violation.prefix.count {
                    lines.append("    ... \(violation.prefix.count - shown.count) earlier operations")
                }
                for operation in shown { lines.append("    \(operation.description)") }
                lines.append("  cannot place: \(violation.failing.description)")
                lines.append("  because: \(violation.reason)")
            }
        }
        let keys = results.count
        let hundredths = Int((seconds * 100).rounded())
        let time = "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
        if violations > 0 {
            lines.append(
                "INVALID: \(violations) of \(keys) keys not linearizable (\(operations) operations, \(time) s)")
            return (lines, 1)
        }
        if !unknown.isEmpty {
            lines.append(
                "UNKNOWN: the search ran past the budget on \(unknown.joined(separator: ", ")) (\(operations) operations, \(time) s)"
            )
            return (lines, 2)
        }
        lines.append("VALID: \(operations) operations on \(keys) keys are linearizable (\(time) s)")
        return (lines, 0)
    }
}
