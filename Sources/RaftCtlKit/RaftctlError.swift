/// A failed raftctl command: one line for stderr and the documented exit status.
///
/// Exit statuses: 0 success, 1 the operation failed, 2 usage error (bad flag, unknown node id, bad duration),
/// 3 the cluster is not running.
public enum RaftctlError: Error, Sendable, Hashable, CustomStringConvertible {
    case failed(String)
    case usage(String)
    case notRunning(String)

    public var exitCode: Int32 {
        switch self {
        case .failed: 1
        case .usage: 2
        case .notRunning: 3
        }
    }

    public var message: String {
        switch self {
        case .failed(let message), .usage(let message), .notRunning(let message): message
        }
    }

    public var description: String { message }
}

/// The exit statuses, as documented in raftctl(1).
public enum RaftctlExit {
    public static let success: Int32 = 0
    public static let failed: Int32 = 1
    public static let usage: Int32 = 2
    public static let notRunning: Int32 = 3
}
