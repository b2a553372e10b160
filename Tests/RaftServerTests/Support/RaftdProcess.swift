import Foundation
import Glibc
import RaftProcess
import Synchronization

/// Finds, spawns and reaps `raftd` processes for the tests.
///
/// Invariant: every pid spawned here is in ``live`` until it is reaped, and an `atexit` hook SIGKILLs whatever is
/// still there when the test process exits normally, so a failing or forgetful test leaves no raftd behind.
enum RaftdProcess {
    private static let live = Mutex<Set<pid_t>>([])
    private static let exitHookInstalled = Mutex(false)

    /// The raftd binary `swift test` built: next to the test bundle, else under the package's `.build/debug`.
    /// `RAFTD_BINARY` overrides both.
    static func binary(filePath: String = #filePath) throws -> String {
        var candidates: [String] = []
        if let override = ProcessInfo.processInfo.environment["RAFTD_BINARY"] { candidates.append(override) }
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            // The test runner is `.build/<triple>/debug/<package>PackageTests.xctest`; raftd sits beside it.
            candidates.append(
                URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("raftd").path)
        }
        var packageRoot = URL(fileURLWithPath: filePath)
        for _ in 0..<4 { packageRoot.deleteLastPathComponent() }  // Support, RaftServerTests, Tests, file name
        candidates.append(packageRoot.appendingPathComponent(".build/debug/raftd").path)
        for candidate in candidates where access(candidate, X_OK) == 0 { return candidate }
        throw HarnessError(
            "raftd binary not found (looked at \(candidates.joined(separator: ", "))): run `swift build --product raftd`"
                + " or set RAFTD_BINARY")
    }

    /// Starts `binary arguments…` (RaftProcess's ``ChildProcess``) with stdin from /dev/null and stdout+stderr
    /// appended to `outputPath`.
    static func spawn(_ binary: String, _ arguments: [String], outputPath: String) throws -> pid_t {
        installExitHook()
        // Hold the registry lock across the spawn so the exit hook cannot miss a child that is being born.
        return try live.withLock { set throws -> pid_t in
            let pid: pid_t
            do {
                pid = try ChildProcess.spawn(
                    executable: binary, arguments: arguments, stdin: .null, stdout: .file(outputPath, append: true),
                    stderr: .stdout, closeInheritedDescriptors: true)
            } catch {
                throw HarnessError("\(error)")
            }
            set.insert(pid)
            return pid
        }
    }

    /// Reaps `pid` if it has exited: its exit code, or `128 + signal` when a signal ended it (as a shell says).
    static func reap(_ pid: pid_t) -> Int32? {
        guard let status = ChildProcess.reap(pid) else {
            if !ChildProcess.isChild(pid) { live.withLock { _ = $0.remove(pid) } }
            return nil
        }
        live.withLock { _ = $0.remove(pid) }
        return status < 0 ? 128 - status : status
    }

    /// Waits up to `timeout` seconds for `pid` to exit; its status as ``reap(_:)`` gives it, or nil.
    static func waitForExit(_ pid: pid_t, timeout: Double) async -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let status = reap(pid) { return status }
            if Date() >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// SIGKILLs and reaps `pid` synchronously (for deinit and cleanup paths that cannot await).
    static func killAndReap(_ pid: pid_t) {
        ChildProcess.killAndReap(pid)
        live.withLock { _ = $0.remove(pid) }
    }

    private static func installExitHook() {
        exitHookInstalled.withLock { installed in
            guard !installed else { return }
            installed = true
            atexit {
                let pids = RaftdProcess.live.withLock { $0 }
                for pid in pids { RaftdProcess.killAndReap(pid) }
            }
        }
    }
}
