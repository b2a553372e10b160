import Foundation
import RaftAPI
import Testing

@testable import RaftCtlKit

/// The status table's warning lines and their JSON, against golden files in `Golden/` (regenerate a golden file
/// by deleting it and running the test once: it writes what it got and fails).
@Suite("status warning lines (golden)")
struct StatusWarningsTests {

    /// A cluster in trouble: n1 out of space, n2 paused and cut off from n3 one way, n3's storage failed (the
    /// others know it) and n3 and n5 cut from each other both ways, n4 crashed, n5 a learner, n6 halted after
    /// losing its data.
    static func troubledView() -> ClusterView {
        func node(_ id: String, _ process: ProcessState, role: String?, port: Int) -> NodeView {
            NodeView(
                id: id, process: process, pid: process == .running || process == .paused ? Int32(1000 + port) : nil,
                role: role, term: role == nil ? nil : 7, leader: role == nil ? nil : "n1",
                commitIndex: role == nil ? nil : 42,
                appliedIndex: role == nil ? nil : 42, lastLogIndex: role == nil ? nil : 42,
                clientURL: "http://127.0.0.1:\(port)", blockedIn: [], blockedOut: [], storage: role == nil ? nil : "ok")
        }
        var n1 = node("n1", .running, role: "leader", port: 2001)
        n1.disk = NodeStatus.Disk(
            freeBytes: 5_976_883, totalBytes: 24 << 20, usedBytes: 17 << 20, alarmBelowFreeBytes: 6 << 20,
            quotaBytes: nil)
        var n2 = node("n2", .paused, role: nil, port: 2002)
        n2.blockedOut = []
        var n3 = node("n3", .running, role: "follower", port: 2003)
        n3.blockedIn = ["n2"]
        n3.blockedOut = ["n5"]
        let n4 = node("n4", .crashed, role: nil, port: 2004)
        var n5 = node("n5", .running, role: "follower", port: 2005)
        n5.blockedOut = ["n3"]
        n5.kind = "learner"
        n1.kind = "voter"
        n3.kind = "voter"
        var n6 = node("n6", .halted, role: nil, port: 2006)
        n6.haltedReason =
            "n6 lost entries it had acknowledged: n1, the leader, says it holds through 40, but its log in /c/n6 ends"
            + " at 0 (the data directory was emptied or cut short). It must not rejoin under its own identity: replace"
            + " it (raftctl replace-node n6), or restore the data directory from a backup and remove the HALTED file."
        let alarms = [
            NodeStatus.Alarm(
                node: "n1", kind: "no_space",
                message: "5.7 MiB free of 24 MiB, under the alarm threshold of 6 MiB", freeBytes: 5_976_883,
                since: "2026-11-28T06:03:21.360Z"),
            NodeStatus.Alarm(
                node: "n3", kind: "storage_failed",
                message: "storage I/O error: pwrite /c/n3/wal-0000000000000001.log: ENOSPC (No space left on device)",
                freeBytes: nil, since: "2026-11-28T06:03:33.423Z"),
        ]
        return ClusterView(leader: "n1", term: 7, nodes: [n1, n2, n3, n4, n5, n6], alarms: alarms)
    }

    @Test("the table ends with the cuts and one warning per alarm, paused or crashed node, and cut")
    func table() throws {
        try checkGolden(StatusRendering.render(Self.troubledView(), json: false) + "\n", "status-warnings.txt")
    }

    @Test("--json carries the same alarms and warning lines")
    func json() throws {
        let text = StatusRendering.render(Self.troubledView(), json: true)
        try checkGolden(text + "\n", "status-warnings.json")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect((document["warnings"] as? [String]) == Self.troubledView().warnings)
        #expect(
            (document["alarms"] as? [[String: Any]])?.map { $0["kind"] as? String } == ["no_space", "storage_failed"])
    }

    @Test("a healthy cluster has no warning lines")
    func healthy() {
        var view = Self.troubledView()
        view.alarms = []
        view.nodes = view.nodes.filter { $0.process == .running }.map { node in
            var healed = node
            healed.blockedIn = []
            healed.blockedOut = []
            return healed
        }
        #expect(view.warnings.isEmpty)
        #expect(StatusRendering.render(view, json: false).split(separator: "\n").last == "cuts: none")
    }
}
