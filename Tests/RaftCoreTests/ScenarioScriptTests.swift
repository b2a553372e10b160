import Foundation
import RaftTestKit
import Testing

/// The scenario directory, found from this file's path so no bundle resources are needed.
private let scenarioDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Scenarios")

/// Every `*.txt` story in `Scenarios/`, sorted so runs are reproducible.
private let scenarioFiles: [String] =
    ((try? FileManager.default.contentsOfDirectory(atPath: scenarioDirectory.path)) ?? [])
    .filter { $0.hasSuffix(".txt") }.sorted()

/// Runs each scripted scenario and compares every command's output with the file. With
/// `RAFT_REWRITE_SCENARIOS=1` the actual outputs are written back instead: review every changed expectation
/// (`git diff`) and commit it only if it is correct Raft behaviour.
@Suite struct ScenarioScriptTests {
    @Test func theScenarioDirectoryHoldsScripts() {
        #expect(scenarioFiles.count >= 12, "found \(scenarioFiles) in \(scenarioDirectory.path)")
    }

    @Test(arguments: scenarioFiles)
    func scenarioOutputMatchesItsScript(_ file: String) throws {
        let url = scenarioDirectory.appendingPathComponent(file)
        let text = try String(contentsOf: url, encoding: .utf8)
        let script = try ScenarioScript(name: file, text: text)
        let result = script.run()
        if ProcessInfo.processInfo.environment["RAFT_REWRITE_SCENARIOS"] == "1" {
            if result.rewrittenText != text {
                try result.rewrittenText.write(to: url, atomically: true, encoding: .utf8)
            }
        } else {
            for mismatch in result.mismatches.prefix(5) {
                Issue.record(Comment(rawValue: mismatch.description))
            }
            if result.mismatches.count > 5 {
                Issue.record("\(file): \(result.mismatches.count - 5) more commands differ")
            }
        }
        if let failure = result.failure {
            Issue.record("\(file):\(failure.line): \(failure.message)")
        }
    }

    @Test func aScriptWhoseExpectationIsWrongReportsTheCommandAndADiff() throws {
        let text = """
            cluster 1
            ----
            n1: follower term=0 vote=- commit=0 applied=0 last=0@0 leader=-

            campaign n1
            ----
            n1: role follower -> leader term=1
            """
        let result = try ScenarioScript(name: "inline.txt", text: text).run()
        #expect(result.failure == nil)
        let mismatch = try #require(result.mismatches.first)
        #expect(mismatch.line == 5)
        #expect(mismatch.description.contains("inline.txt:5: output of `campaign n1` differs"))
        #expect(mismatch.description.contains("- n1: role follower -> leader term=1"))
        #expect(mismatch.description.contains("+ n1: role follower -> candidate term=1"))
    }

    @Test func aChangedLineIsShownAsRemovedThenAdded() throws {
        let text = "cluster 1\n----\nn1: follower term=9 vote=- commit=0 applied=0 last=0@0 leader=-\n"
        let result = try ScenarioScript(name: "x.txt", text: text).run()
        let mismatch = try #require(result.mismatches.first)
        #expect(
            mismatch.description.split(separator: "\n").dropFirst()
                == [
                    "- n1: follower term=9 vote=- commit=0 applied=0 last=0@0 leader=-",
                    "+ n1: follower term=0 vote=- commit=0 applied=0 last=0@0 leader=-",
                ])
    }

    @Test func aMisspelledCommandOrOptionFailsTheScript() throws {
        let unknown = try ScenarioScript(name: "x.txt", text: "cluster 3\n----\nok\n\nelect n1\n----\nok\n").run()
        #expect(unknown.failure?.line == 5)
        let option = try ScenarioScript(name: "x.txt", text: "cluster 3 sed=4\n----\nok\n").run()
        #expect(option.failure?.message.contains("sed=") == true)
    }

    @Test func rewritingReplacesExpectationsAndKeepsNarration() throws {
        let text = "# story\ncluster 1\n----\nstale\n\n# more\nstatus\n"
        let result = try ScenarioScript(name: "x.txt", text: text).run()
        #expect(
            result.rewrittenText
                == "# story\ncluster 1\n----\nn1: follower term=0 vote=- commit=0 applied=0 last=0@0 leader=-\n\n"
                + "# more\nstatus\n----\nn1: follower term=0 vote=- commit=0 applied=0 last=0@0 leader=-\n")
    }
}
