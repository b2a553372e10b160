import ChildProcessTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Starts `repl-demo` (built next to the test binary) with its stdin either a file or a pseudo-terminal, and bounds
/// every wait so a broken REPL fails the test instead of hanging the suite.
enum DemoProcess {
    typealias Failure = ChildProcessFailure

    /// The `repl-demo` executable: `swift build --build-tests` and `swift test` put it beside the test binary.
    static func executablePath() throws -> String {
        let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var candidates = [testBinary.deletingLastPathComponent().appendingPathComponent("repl-demo").path]
        candidates.append(FileManager.default.currentDirectoryPath + "/.build/debug/repl-demo")
        guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Failure(description: "repl-demo not found (looked at \(candidates)); run `swift build --build-tests`")
        }
        return path
    }

    /// A fresh private directory for one test's files.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("raftrepl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A predictable environment: no user inputrc, a terminal type readline knows, UTF-8.
    static let environment = ["TERM=xterm", "INPUTRC=/dev/null", "LANG=C.UTF-8", "PATH=/usr/bin:/bin"]

    /// Starts `repl-demo` with the caller's file actions (see ``ChildProcess/spawn``).
    static func spawn(
        arguments: [String], newSession: Bool, stdin: ChildProcess.Redirect = .inherit,
        stdout: ChildProcess.Redirect = .inherit, stderr: ChildProcess.Redirect = .inherit,
        fileActions: (inout posix_spawn_file_actions_t) -> Void = { _ in }
    ) throws -> pid_t {
        try ChildProcess.spawn(
            executable: try executablePath(), arguments: arguments, environment: environment, stdin: stdin,
            stdout: stdout, stderr: stderr, newSession: newSession, fileActions: fileActions)
    }

    static func waitForExit(_ pid: pid_t, timeout: Duration) -> Int32? {
        ChildProcess.waitForExit(pid, timeout: timeout)
    }
}

/// `repl-demo` under a pseudo-terminal: what a person at a terminal would type and see.
typealias TerminalSession = PseudoTerminal

extension PseudoTerminal {
    convenience init(arguments: [String]) throws {
        try self.init(columns: 100, defaultTimeout: .seconds(4)) { terminalPath in
            try DemoProcess.spawn(arguments: arguments, newSession: true) { actions in
                PseudoTerminal.attach(&actions, to: terminalPath)
            }
        }
    }
}
