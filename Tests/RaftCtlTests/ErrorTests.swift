import Foundation
import Testing

/// Checks that a failed command printed exactly one non-empty line on stderr containing `fragment`, nothing on
/// stdout unless allowed, and exited with `status`.
func expectFailure(
    _ result: CommandResult, status: Int32, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(result.status == status, "wrong exit status: \(result)", sourceLocation: sourceLocation)
    #expect(result.stderr.contains(fragment), "stderr lacks \"\(fragment)\": \(result)", sourceLocation: sourceLocation)
    let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(
        lines.count == 2 && !lines[0].isEmpty && lines[1].isEmpty, "not exactly one line on stderr: \(result)",
        sourceLocation: sourceLocation)
}

extension RaftctlEndToEndTests {
    @Test("usage errors exit 2 with one line on stderr and leave the cluster alone; after down commands exit 3")
    func usageErrorsAndNotRunning() throws {
        try withCluster { cluster in
            let before = try cluster.settledLeader()
            expectFailure(try cluster.ctl("kill", "n9"), status: 2, "unknown node id \"n9\"")
            expectFailure(try cluster.ctl("pause", "n4"), status: 2, "unknown node id \"n4\"")
            expectFailure(try cluster.ctl("leader", "--wait", "5x"), status: 2, "--wait must be a duration")
            expectFailure(
                try cluster.ctl("partition", "n1", "n1,n2"), status: 2, "n1 is named in more than one group")
            expectFailure(try cluster.ctl("frobnicate"), status: 2, "frobnicate")
            expectFailure(try cluster.ctl("put", "only-a-key"), status: 2, "raftctl: ")
            expectFailure(try cluster.ctl("status", "--no-such-flag"), status: 2, "--no-such-flag")
            expectFailure(try cluster.ctl("kill", "n1", "--signal", "BOGUS"), status: 2, "unknown signal")

            // None of them may have changed anything.
            let after = try cluster.status()
            #expect(after.nodes.map(\.pid) == before.nodes.map(\.pid), "\(cluster.diagnostics())")
            #expect(after.nodes.allSatisfy { $0.process == "running" && $0.blockedIn.isEmpty && $0.blockedOut.isEmpty })

            try cluster.ok("down")
            expectFailure(try cluster.ctl("status"), status: 3, "not running")
            expectFailure(try cluster.ctl("put", "k", "v"), status: 3, "not running")
            expectFailure(try cluster.ctl("get", "k"), status: 3, "not running")
            expectFailure(try cluster.ctl("leader"), status: 3, "not running")
            expectFailure(try cluster.ctl("campaign", "n1"), status: 3, "not running")
            #expect(cluster.leftoverProcesses().isEmpty, "a failed command started something")
        }
    }

    @Test("a missing cluster exits 3; an uncreatable or too deep cluster directory fails up with a clear message")
    func unusableClusterDirectories() throws {
        let cluster = try TestCluster()
        defer { cluster.close() }
        expectFailure(try cluster.ctl("status"), status: 3, "no cluster at \(cluster.directory)")
        expectFailure(try cluster.ctl("down"), status: 3, "no cluster at \(cluster.directory)")

        let unwritable = "/proc/raftctl-test/cluster"
        let refused = try cluster.ctl("up", "--cluster-dir", unwritable)
        #expect(refused.status == 1 || refused.status == 2, "\(refused)")
        expectFailure(refused, status: refused.status ?? -1, "/proc/raftctl-test")
        #expect(RaftctlProcess.processes(mentioning: unwritable).isEmpty)

        // /tmp/rct-XXXXXX/ddd…/n3/admin.sock is longer than the 107 bytes a Unix socket path may have.
        let deep = cluster.root + "/" + String(repeating: "d", count: 100)
        let tooDeep = try cluster.ctl("up", "--cluster-dir", deep)
        #expect(tooDeep.status == 1 || tooDeep.status == 2, "\(tooDeep)")
        expectFailure(tooDeep, status: tooDeep.status ?? -1, "too deep")
        #expect(tooDeep.stderr.contains("107") || tooDeep.stderr.contains("--cluster-dir"), "\(tooDeep)")
        #expect(!FileManager.default.fileExists(atPath: deep), "a refused up created \(deep)")
        #expect(cluster.leftoverProcesses().isEmpty, "a refused up started \(cluster.leftoverProcesses())")
    }
}
