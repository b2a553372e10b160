import Foundation
import Testing

@testable import RaftCtlKit

extension RaftctlEndToEndTests {
    /// Runs one scenario on a cluster of its own under a private directory (removed by `close()`).
    func runScenario(_ arguments: [String]) throws -> CommandResult {
        let cluster = try TestCluster()
        defer { cluster.close() }
        try cluster.prepareNodeConfigurations()
        return try cluster.ctl(
            ["scenario", "run"] + arguments + ["--pace", "fast", "--cluster-dir", cluster.directory],
            timeout: .seconds(120))
    }

    @Test(
        "every built-in scenario passes on real processes: its narration numbers each step and ends with PASS",
        arguments: BuiltinScenarios.names)
    func builtinScenario(name: String) throws {
        let result = try runScenario([name])
        #expect(result.status == 0, "\(name):\n\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.hasSuffix(")\n") && result.stdout.contains("\nPASS: every promised outcome held"))
        #expect(result.stdout.contains("  1. "), "numbered steps")
        #expect(result.stdout.contains("$ raftctl "), "each step shows its raftctl command")
        #expect(!result.stdout.contains(": NO, saw"))
    }

    @Test("a user's script with a wrong expectation fails at that step, saying what was expected and seen")
    func wrongExpectationFails() throws {
        let cluster = try TestCluster()
        defer { cluster.close() }
        let script = cluster.root + "/mine.scenario"
        try """
        # name: mine
        # summary: writes x=1 and claims it reads 2
        wait leader as L
        raftctl put x 1 --via $L
        expect value x 2
        say never reached
        """.write(toFile: script, atomically: true, encoding: .utf8)
        try cluster.prepareNodeConfigurations()
        let result = try cluster.ctl(
            ["scenario", "run", script, "--pace", "fast", "--cluster-dir", cluster.directory], timeout: .seconds(60))
        #expect(result.status == 1, "\(result)")
        #expect(result.stdout.contains("FAIL step 3: expected x = 2, saw x = 1"), "\(result.stdout)")
        #expect(!result.stdout.contains("never reached"))

        try "wait leader as L\nexplode $L\n".write(toFile: script, atomically: true, encoding: .utf8)
        let bad = try cluster.ctl(["scenario", "run", script, "--cluster-dir", cluster.directory])
        #expect(bad.status == 2 && bad.stderr.contains("line 2: unknown step \"explode\""), "\(bad)")
        let unknown = try cluster.ctl("scenario", "run", "no-such-story")
        #expect(unknown.status == 2 && unknown.stderr.contains("leader-crash"), "\(unknown)")
    }

    @Test("scenario --json: a transcript with the result and every step; on a scratch cluster removed afterwards")
    func scenarioJSONTranscript() throws {
        let cluster = try TestCluster()
        defer { cluster.close() }
        let list = try cluster.ok("scenario", "list").stdout
        for (name, _) in BuiltinScenarios.all { #expect(list.contains(name + " "), "\(name) not listed") }
        let shown = try cluster.ok("scenario", "show", "split-vote").stdout
        #expect(shown.hasPrefix("# name: split-vote\n") && shown.contains("campaign $A $B"), "\(shown)")

        // No --cluster-dir: a scratch cluster of its own, gone afterwards.
        let result = try cluster.ctl(
            ["scenario", "run", "leader-crash", "--pace", "fast", "--json"], timeout: .seconds(60))
        #expect(result.status == 0, "\(result)")
        struct Transcript: Decodable {
            struct Step: Decodable {
                var step: Int
                var kind: String
                var command: String?
                var ok: Bool
            }
            var scenario: String
            var result: String
            var steps: [Step]
        }
        let transcript = try JSONDecoder().decode(Transcript.self, from: Data(result.stdout.utf8))
        #expect(transcript.scenario == "leader-crash" && transcript.result == "PASS")
        #expect(transcript.steps.allSatisfy { $0.ok })
        #expect(transcript.steps.contains { $0.command?.hasPrefix("raftctl kill n") == true })
        let scratch = try FileManager.default.contentsOfDirectory(atPath: "/tmp").filter {
            $0.hasPrefix("raftctl-scenario-")
        }
        #expect(
            RaftctlProcess.processes(mentioning: "/tmp/raftctl-scenario-").isEmpty,
            "scratch cluster processes left behind (\(scratch))")
    }
}

@Suite("scenario scripts and completion")
struct ScenarioScriptTests {
    @Test("the REPL completes scenario subcommands, built-in names and paces")
    func completion() {
        let session = REPLSession(directory: ClusterDirectory(path: "/nonexistent"), clusterDirOption: nil)
        #expect(session.complete(["scenario"], "") == ["list", "run", "show"])
        #expect(session.complete(["scenario", "show"], "one") == ["one-way-link"])
        #expect(session.complete(["scenario", "run"], "crash-after-c") == ["crash-after-commit-before-reply"])
        #expect(session.complete(["scenario", "run", "election", "--pace"], "s") == ["slow"])
        #expect(session.complete(["scenario", "run", "election"], "--se") == ["--seed"])
    }

    @Test("every built-in script parses; a typo is refused with its line before any cluster is touched")
    func parsing() throws {
        for (name, text) in BuiltinScenarios.all {
            let script = try ScenarioScript(parsing: text, defaultName: name)
            #expect(script.name == name && !script.summary.isEmpty && script.steps.count > 3)
        }
        #expect(throws: ScenarioScript.ParseError.self) {
            try ScenarioScript(parsing: "wait leader as L\nexpect term $L >> 3\n", defaultName: "x")
        }
        #expect(throws: ScenarioScript.ParseError.self) {
            try ScenarioScript(parsing: "say hello\nnodes 5\n", defaultName: "x")
        }
        #expect(throws: ScenarioScript.ParseError.self) {
            try ScenarioScript(parsing: "say \"unterminated\n", defaultName: "x")
        }
        let words = try ScenarioScript.words("expect log $A 3 command \"put x=1\"", line: 1)
        #expect(words == ["expect", "log", "$A", "3", "command", "put x=1"])
    }
}
