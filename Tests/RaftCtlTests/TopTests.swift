import Foundation
import Glibc
import Testing

extension RaftctlEndToEndTests {
    @Test(
        "top in a terminal: draws every node full screen, redraws, leaves on q with the terminal restored; also in the REPL"
    )
    func topInATerminal() throws {
        try withCluster { cluster in
            let status = try cluster.settledLeader()
            let leader = try #require(status.leader)
            for n in 0..<3 { try cluster.ok("put", "top\(n)", "v") }
            let terminal = try RaftctlTerminal(["top"], environment: cluster.environment)
            try #require(
                terminal.expect("\u{1B}[?1049h"), "top did not switch to the alternate screen:\n\(terminal.text)")
            try #require(terminal.expect("raftctl top"), "no frame:\n\(terminal.text)")
            try #require(terminal.expect("leader \(leader)"), "\(terminal.text)")
            // The rows follow the title in the nodes' order; a reader may see a frame before all of it arrived.
            for id in status.nodes.map(\.id).sorted() {
                #expect(terminal.expect("\n\(id)"), "\(id) missing:\n\(terminal.text)")
            }
            let raw = try #require(terminal.localModes)
            #expect(raw & tcflag_t(ECHO | ICANON) == 0, "keys are not read raw while top runs")
            // A second frame: top redraws on its own.
            try #require(terminal.expect("raftctl top"), "top did not redraw:\n\(terminal.text)")
            terminal.send("x")
            try #require(terminal.expect("raftctl top"), "another key must not end top:\n\(terminal.text)")
            terminal.send("q")
            #expect(terminal.expect("\u{1B}[?25h\u{1B}[?1049l"), "the cursor and the screen were not restored")
            #expect(terminal.waitForExit() == 0, "q did not end top with status 0:\n\(terminal.text)")
            let restored = try #require(terminal.localModes)
            #expect(
                restored & tcflag_t(ECHO | ICANON) == tcflag_t(ECHO | ICANON), "the terminal modes were not restored")

            let repl = try RaftctlTerminal(["repl"], environment: cluster.environment)
            let prompt = "raft \(leader)* t\(status.term ?? 0)> "
            try #require(repl.expect(prompt), "\(repl.text)")
            repl.send("top\r")
            try #require(repl.expect("NODE"), "no top in the REPL:\n\(repl.text)")
            repl.send("\u{03}")
            try #require(repl.expect(prompt), "Ctrl-C did not leave top for the prompt:\n\(repl.text)")
            repl.send("\u{04}")
            #expect(repl.waitForExit() == 0)
        }
    }

    @Test("top without a terminal prints plain frames: every node's row with rates, fsync p99 and round trips")
    func topPlainFrames() throws {
        try withCluster { cluster in
            let status = try cluster.settledLeader()
            let leader = try #require(status.leader)
            for n in 0..<3 { try cluster.ok("put", "plain\(n)", "v") }
            // Round trips are probed twice a second: wait until the status has them before sampling.
            let result = try cluster.waitFor("top frames with round trips measured") {
                let result = try cluster.ok("top", "-n", "2", "--interval", "200ms")
                let rows = result.stdout.split(separator: "\n").filter { $0.hasPrefix("n") }
                return rows.suffix(3).allSatisfy { $0.split(separator: " ").contains("ms") } ? result : nil
            }
            let frames = result.stdout.components(separatedBy: "raftctl top ")
            #expect(frames.count == 3, "two frames:\n\(result.stdout)")
            #expect(!result.stdout.contains("\u{1B}["), "no escape sequences when not on a terminal")
            let last = try #require(frames.last)
            #expect(last.contains("leader \(leader), term \(status.term ?? 0)"), "\(last)")
            let header = try #require(last.split(separator: "\n").first { $0.hasPrefix("NODE") })
            for column in ["PROCESS", "ROLE", "TERM", "LAG", "WRITES/s", "READS/s", "FSYNC p99", "RTT max", "SNAPSHOT"]
            {
                #expect(header.contains(column), "\(column) missing from \(header)")
            }
            let row = try #require(last.split(separator: "\n").first { $0.hasPrefix("\(leader)*") })
            #expect(row.contains("running") && row.contains("leader"), "\(row)")
            #expect(last.contains("cuts: none") && last.contains("recent events:"), "\(last)")

            try cluster.ok("partition", leader)
            let cut = try cluster.ok("top", "-n", "1").stdout
            #expect(cut.contains("cuts: ") && !cut.contains("cuts: none"), "\(cut)")
            try cluster.ok("heal")
            let bad = try cluster.ctl("top", "--interval", "10ms")
            #expect(bad.status == 2, "\(bad)")
        }
    }
}
