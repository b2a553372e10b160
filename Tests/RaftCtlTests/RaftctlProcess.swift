import ChildProcessTestSupport
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A failed expectation of the end-to-end harness, carrying what an engineer needs to see (cluster status, log tails).
struct HarnessFailure: Error, CustomStringConvertible {
    var description: String
}

/// One finished `raftctl` invocation.
struct CommandResult: CustomStringConvertible {
    var arguments: [String]
    /// The exit status, minus the signal that ended it, or nil if it did not exit in time (it was then killed).
    var status: Int32?
    var stdout: String
    var stderr: String

    var description: String {
        "`raftctl \(arguments.joined(separator: " "))` -> status \(status.map(String.init) ?? "TIMEOUT")\n"
            + "--- stdout:\n\(stdout)--- stderr:\n\(stderr)---"
    }

    /// Standard output split into lines, without the empty one after the final newline.
    var lines: [String] {
        stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
    }
}

/// Locates and launches the real `raftctl` binary. Every launch is bounded: a command that hangs is killed and
/// reported as a timeout instead of hanging the suite.
enum RaftctlProcess {
    /// `raftctl`, built beside the test bundle by `swift build --build-tests` / `swift test`, else in the package's
    /// default debug build directory found from this source file.
    static func executable(filePath: String = #filePath) throws -> String {
        var candidates: [String] = []
        var directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(directory.appendingPathComponent("raftctl").path)
            directory = directory.deletingLastPathComponent()
        }
        let packageRoot = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug/raftctl").path)
        for path in candidates where FileManager.default.isExecutableFile(atPath: path) {
            // raftctl finds raftd beside itself.
            let raftd = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("raftd").path
            if FileManager.default.isExecutableFile(atPath: raftd) { return path }
        }
        throw HarnessFailure(
            description:
                "raftctl with raftd beside it not found (looked at \(candidates)); run `swift build --build-tests`")
    }

    /// The test process's environment with `overrides` applied.
    static func environment(_ overrides: [String: String]) -> [String] {
        var variables = ProcessInfo.processInfo.environment
        for (key, value) in overrides { variables[key] = value }
        return variables.map { "\($0.key)=\($0.value)" }.sorted()
    }

    /// Starts raftctl (RaftProcess's ``ChildProcess``). Descriptors above 2 are closed in the child, so the daemons
    /// raftctl leaves behind never hold the test runner's pipes or another test's terminal open.
    static func spawn(
        _ arguments: [String], environment: [String], newSession: Bool, stdin: ChildProcess.Redirect = .inherit,
        stdout: ChildProcess.Redirect = .inherit, stderr: ChildProcess.Redirect = .inherit,
        fileActions: (inout posix_spawn_file_actions_t) -> Void = { _ in }
    ) throws -> pid_t {
        try ChildProcess.spawn(
            executable: try executable(), arguments: arguments, environment: environment, stdin: stdin, stdout: stdout,
            stderr: stderr, newSession: newSession, closeInheritedDescriptors: true, fileActions: fileActions)
    }

    static func waitForExit(_ pid: pid_t, timeout: Duration) -> Int32? {
        ChildProcess.waitForExit(pid, timeout: timeout)
    }

    /// Runs raftctl to completion (bounded by `timeout`), stdout and stderr captured.
    static func run(
        _ arguments: [String], environment: [String], scratch: String, stdin: String? = nil,
        timeout: Duration = .seconds(30)
    ) throws -> CommandResult {
        let outcome = try ChildProcess.run(
            executable: try executable(), arguments: arguments, environment: environment, input: stdin,
            scratch: scratch, timeout: timeout)
        return CommandResult(
            arguments: arguments, status: outcome.status, stdout: outcome.stdout, stderr: outcome.stderr)
    }

    /// Every live process whose command line mentions `text` (zombies have none), as (pid, command line).
    static func processes(mentioning text: String) -> [(pid: pid_t, command: String)] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var found: [(pid: pid_t, command: String)] = []
        for entry in entries {
            guard let pid = pid_t(entry), pid != getpid(),
                let bytes = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"), !bytes.isEmpty
            else { continue }
            let command = String(decoding: bytes.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
            if command.contains(text) { found.append((pid, command)) }
        }
        return found
    }
}
