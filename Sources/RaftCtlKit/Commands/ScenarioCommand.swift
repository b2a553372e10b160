import ArgumentParser
import FoundationEssentials
import Glibc

/// `raftctl scenario`: the textbook stories of Raft, acted out on real raftd processes.
struct ScenarioCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenario",
        abstract: "Act out a textbook Raft story on real processes, narrated, with its promised outcome checked.",
        subcommands: [ScenarioList.self, ScenarioShow.self, ScenarioRun.self])
}

struct ScenarioList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "The built-in scenarios, each with a one-line summary.")

    func run() throws {
        let scripts = BuiltinScenarios.all.compactMap { try? ScenarioScript(parsing: $0.text, defaultName: $0.name) }
        let width = scripts.map(\.name.count).max() ?? 0
        for script in scripts {
            say(script.name + String(repeating: " ", count: width - script.name.count) + "  " + script.summary)
        }
    }
}

struct ScenarioShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print a built-in scenario's script, to read it or start one of your own.")

    @Argument(help: "A built-in scenario's name.", completion: .list(BuiltinScenarios.names)) var name: String

    func run() throws {
        guard let text = BuiltinScenarios.script(named: name) else {
            throw RaftctlError.usage(
                "no built-in scenario \"\(name)\" (\(BuiltinScenarios.names.joined(separator: ", ")))")
        }
        say(text)
    }
}

struct ScenarioRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a built-in scenario by name, or a script FILE of your own.",
        discussion: """
            By default the scenario runs on a fresh scratch cluster of its own, removed afterwards; with \
            --cluster-dir it runs on that cluster (created if it does not exist, left running afterwards). Prints a \
            numbered narration with the raftctl command of each step, and ends with PASS (exit 0) or \
            FAIL step N: expected …, saw … (exit 1). The script language is in raftctl(1).
            """)

    @Argument(
        help: "A built-in scenario's name (see `scenario list`) or a script file.",
        completion: .list(BuiltinScenarios.all.map(\.name)))
    var name: String
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Run on this cluster instead of a scratch one (it is changed by the scenario).", valueName: "dir"))
    var clusterDir: String?
    @Option(help: "Cluster size for the scratch cluster (default: the scenario's own, usually 3).") var nodes: Int?
    @Option(help: "slow (wait for Enter between steps), normal or fast.") var pace: ScenarioRunner.Pace = .normal
    @Option(help: "Seed the nodes' election timeouts (scratch cluster only), for a run that repeats.") var seed: UInt64?
    @Flag(help: "Print a machine-readable transcript instead of the narration.") var json = false
    @Option(help: ArgumentHelp("The raftd binary (default: the one beside raftctl).", valueName: "path"))
    var raftd: String?

    func run() throws {
        let text: String
        var defaultName = name
        if let builtin = BuiltinScenarios.script(named: name) {
            text = builtin
        } else if let file = FileIO.readText(name) {
            text = file
            defaultName = String(name.split(separator: "/").last ?? "")
        } else {
            throw RaftctlError.usage(
                "no scenario \"\(name)\": not a built-in one (\(BuiltinScenarios.all.map(\.name).joined(separator: ", "))) nor a readable file"
            )
        }
        var script: ScenarioScript
        do {
            script = try ScenarioScript(parsing: text, defaultName: defaultName)
        } catch {
            throw RaftctlError.usage("\(name): \(error)")
        }
        if let nodes {
            guard (1...9).contains(nodes) else { throw RaftctlError.usage("--nodes must be between 1 and 9") }
            script.nodes = nodes
        }
        let scratch = clusterDir == nil
        let directory: ClusterDirectory
        if let clusterDir {
            directory = ClusterDirectory.resolve(clusterDir)
        } else {
            var template = Array("/tmp/raftctl-scenario-XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else {
                throw RaftctlError.failed("cannot create a scratch directory in /tmp")
            }
            directory = ClusterDirectory(path: String(cString: made) + "/cluster")
        }
        // Every raftctl step of the scenario works on this cluster.
        let previous = getenv("RAFTCTL_CLUSTER_DIR").map { String(cString: $0) }
        setenv("RAFTCTL_CLUSTER_DIR", directory.path, 1)
        defer {
            if let previous { setenv("RAFTCTL_CLUSTER_DIR", previous, 1) } else { unsetenv("RAFTCTL_CLUSTER_DIR") }
        }
        let started = ProcessControl.monotonicMilliseconds()
        if !json {
            say("scenario \(script.name): \(script.summary)")
            say(
                scratch
                    ? "on a scratch cluster of \(script.nodes) nodes (export RAFTCTL_CLUSTER_DIR=\(directory.path) to repeat a step by hand)"
                    : "on the cluster in \(directory.path)")
        }
        var upArguments = ["up", "--nodes", String(script.nodes)]
        if let raftd { upArguments += ["--raftd", raftd] }
        let running =
            FileIO.readText(directory.specPath) != nil
            && (try? directory.loadSpec()).map { spec in
                spec.nodes.contains { NodeProcess.inspect(directory, $0.id).pid != nil }
            } == true
        if scratch, let seed {
            for n in 1...script.nodes {
                let path = directory.path + "/n\(n)"
                _ = try? FileIO.makeDirectories(path)
                try FileIO.writeAtomically(
                    path + "/raftd.conf", Array("random-seed = \(seed &* 1_000 &+ UInt64(n))\n".utf8), mode: 0o600)
            }
        }
        let runner = ScenarioRunner(script: script, directory: directory, pace: pace, json: json)
        var failure: ScenarioRunner.Failure?
        if !running {
            if !json { say("  0. $ raftctl " + upArguments.joined(separator: " ")) }
            let (status, output) = ScenarioRunner.runCaptured(upArguments)
            if !json { for line in output.split(separator: "\n") { say("      " + line) } }
            if status != 0 {
                failure = ScenarioRunner.Failure(
                    step: 0, expected: "the cluster to start", saw: output.trimmingWhitespace())
            }
        }
        if failure == nil { failure = runner.run() }
        if scratch {
            _ = ScenarioRunner.runCaptured(["down", "--purge"])
            rmdir(String(directory.path.dropLast("/cluster".count)))
        }
        let seconds = Double(ProcessControl.monotonicMilliseconds() - started) / 1_000
        let elapsed = String(Int(seconds)) + "." + String(Int(seconds * 10) % 10) + " s"
        if json {
            struct Transcript: Encodable {
                var scenario: String
                var summary: String
                var nodes: Int
                var seed: UInt64?
                var result: String
                var failure: ScenarioRunner.Failure?
                var steps: [ScenarioRunner.Record]
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let transcript = Transcript(
                scenario: script.name, summary: script.summary, nodes: script.nodes, seed: seed,
                result: failure == nil ? "PASS" : "FAIL", failure: failure, steps: runner.records)
            say(String(decoding: try encoder.encode(transcript), as: UTF8.self))
        } else if let failure {
            say("")
            say("FAIL step \(failure.step): expected \(failure.expected), saw \(failure.saw)")
        } else {
            say("")
            say("PASS: every promised outcome held (\(elapsed))")
        }
        if failure != nil { throw ExitCode(RaftctlExit.failed) }
    }
}

extension ScenarioRunner.Pace: ExpressibleByArgument {}
