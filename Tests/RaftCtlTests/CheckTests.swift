import Foundation
import Testing

/// `raftctl check` as a user runs it: a history file in, a verdict, a reason and an exit status out.
@Suite("raftctl check (the built binary)")
struct CheckCommandTests {
    static let valid = """
        {"process": 1, "key": "k1", "type": "write", "input": "1-1", "output": null, "status": "ok", "invoke": 0, "complete": 10}
        {"process": 2, "key": "k1", "type": "read", "input": null, "output": "1-1", "status": "ok", "invoke": 20, "complete": 30}
        {"process": 2, "key": "k1", "type": "cas", "input": ["1-1", "2-1"], "output": true, "status": "ok", "invoke": 40, "complete": 50}
        {"process": 3, "key": "k1", "type": "write", "input": "3-1", "output": null, "status": "info", "invoke": 60}
        {"process": 1, "key": "k2", "type": "delete", "input": null, "output": null, "status": "ok", "invoke": 5, "complete": 6}
        {"process": 1, "key": "k2", "type": "read", "input": null, "output": null, "status": "ok", "invoke": 7, "complete": 8}

        """

    func run(_ history: String, _ arguments: String...) throws -> (CommandResult, String) {
        let cluster = try TestCluster()
        defer { cluster.close() }
        let path = cluster.root + "/history.jsonl"
        try history.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try cluster.ctl(
            ["check", path] + arguments.map { $0.replacingOccurrences(of: "ROOT", with: cluster.root) })
        let html = (try? String(contentsOfFile: cluster.root + "/report.html", encoding: .utf8)) ?? ""
        return (result, html)
    }

    @Test("a linearizable history: exit 0 and a VALID line; the HTML page draws every operation and fetches nothing")
    func valid() throws {
        let (result, html) = try run(Self.valid, "--html", "ROOT/report.html")
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.hasPrefix("VALID: 6 operations on 2 keys are linearizable"), "\(result)")
        #expect(html.contains("<svg") && html.contains("key k1") && html.contains("key k2"))
        #expect(html.components(separatedBy: "<rect x=").count - 1 >= 6, "a bar per operation")
        // Self-contained: no scripts, stylesheets, images or fonts from anywhere (the SVG namespace is a name only).
        #expect(
            !html.contains("src=") && !html.contains("<link") && !html.contains("url(") && !html.contains("@import"))
    }

    @Test("a stale read: exit 1, the key, the longest prefix, the failing operation and the reason")
    func staleRead() throws {
        let history =
            Self.valid
                + """
                {"process": 4, "key": "k1", "type": "read", "input": null, "output": "1-1", "status": "ok", "invoke": 70, "complete": 80}

                """
        let (result, html) = try run(history, "--html", "ROOT/report.html")
        #expect(result.status == 1, "\(result)")
        #expect(result.stdout.contains("key k1 is not linearizable"), "\(result)")
        #expect(result.stdout.contains("longest linearizable prefix (4 of 5 operations)"), "\(result)")
        #expect(result.stdout.contains("cannot place: process 4 read -> 1-1 [ok, line 7, 70..80]"), "\(result)")
        // The info write may or may not have landed: either way the register does not hold 1-1 any more.
        #expect(result.stdout.contains("because: read returned 1-1 but the register holds"), "\(result)")
        #expect(result.stdout.split(separator: "\n").last?.hasPrefix("INVALID: 1 of 2 keys") == true, "\(result)")
        #expect(html.contains("not linearizable") && html.contains("stroke=\"#c62828\""), "the failing bar is outlined")
    }

    @Test("an unreadable history: exit 3 naming the line")
    func unreadable() throws {
        let broken = Self.valid.replacingOccurrences(of: "\"type\": \"cas\"", with: "\"type\": \"swap\"")
        let (result, _) = try run(broken)
        #expect(result.status == 3, "\(result)")
        #expect(result.stderr.contains("line 3: \"type\" must be"), "\(result)")
        let (garbage, _) = try run("{\"process\": 1,\nnot json\n")
        #expect(garbage.status == 3 && garbage.stderr.contains("line 1: not a JSON object"), "\(garbage)")
    }
}
