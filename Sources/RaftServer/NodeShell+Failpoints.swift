import Glibc
import Logging
import NIOCore
import RaftRuntime

/// Failpoints as raftd offers them: armed through the admin socket, and what `crash` and `pause` do to the
/// process. Everything here runs on `loop`.
extension NodeShell {
    // MARK: - Failpoints

    /// Every failpoint and what it is armed with (`off` when not).
    func failpoints() -> EventLoopFuture<[String: String]> {
        loop.submit {
            var listed: [String: String] = [:]
            for name in FailpointName.allCases {
                listed[name.rawValue] = self.runtime.failpoints[name]?.description ?? "off"
            }
            return listed
        }
    }

    func setFailpoint(_ name: FailpointName, _ action: FailpointAction?) -> EventLoopFuture<[String: String]> {
        loop.flatSubmit {
            self.runtime.setFailpoint(name, action)
            self.recordEvent(
                kind: "failpoint", detail: "\(name.rawValue) \(action?.description ?? "off")", level: .notice)
            return self.failpoints()
        }
    }
}

extension NodeShell {
    /// A failpoint armed with `crash` or `pause` was reached (on the loop).
    func failpointReached(_ name: FailpointName, _ action: FailpointAction) {
        switch action {
        case .crash:
            logger.critical("failpoint \(name.rawValue): crashing now, as kill -9 would")
            kill(getpid(), SIGKILL)
        case .pause(let milliseconds):
            logger.notice("failpoint \(name.rawValue): pausing \(milliseconds) ms")
            usleep(UInt32(min(milliseconds, 60_000)) * 1_000)
        case .drop, .on:
            break
        }
    }
}
