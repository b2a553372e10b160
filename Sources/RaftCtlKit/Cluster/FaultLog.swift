import FoundationEssentials
import Glibc

/// What raftctl did to the cluster and when, kept in `CLUSTER/faults.jsonl` (one JSON object a line) so that
/// `raftctl timeline` can draw each fault's window: starts and stops, kills, pauses, cuts, heals, failpoints and
/// slowed disks.
public struct FaultRecord: Codable, Sendable, Hashable {
    /// Milliseconds since the Unix epoch.
    public var time: Int64
    /// `start`, `stop`, `kill`, `pause`, `resume`, `partition`, `block`, `heal`, `failpoint`, `slow-disk`.
    public var kind: String
    public var nodes: [String]
    public var detail: String

    public init(time: Int64, kind: String, nodes: [String], detail: String) {
        self.time = time
        self.kind = kind
        self.nodes = nodes
        self.detail = detail
    }
}

enum FaultLog {
    static func path(_ directory: ClusterDirectory) -> String { directory.path + "/faults.jsonl" }

    static func nowMilliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000 + Int64(time.tv_nsec) / 1_000_000
    }

    /// Appends one record; best effort (a full disk must not stop raftctl from acting).
    static func record(_ directory: ClusterDirectory, _ kind: String, _ nodes: [String], _ detail: String = "") {
        let record = FaultRecord(time: nowMilliseconds(), kind: kind, nodes: nodes, detail: detail)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(record) else { return }
        let fd = open(path(directory), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let line = Array(data) + [UInt8(ascii: "\n")]
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    static func read(_ directory: ClusterDirectory) -> [FaultRecord] {
        guard let text = FileIO.readText(path(directory)) else { return [] }
        return text.split(separator: "\n").compactMap {
            try? JSONDecoder().decode(FaultRecord.self, from: Data($0.utf8))
        }
    }
}
