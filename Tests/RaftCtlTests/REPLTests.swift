import Foundation
import Testing

extension RaftctlEndToEndTests {
    @Test(
        "REPL in a terminal: leader prompt, Tab completion of commands and node ids, history, errors, Ctrl-D")
    func interactiveREPL() throws {
        try withCluster { cluster in
            let status = try cluster.settledLeader()
            let leader = try #require(status.leader)
            let term = try #require(status.term)
            let terminal = try RaftctlTerminal(["repl"], environment: cluster.environment)
            let prompt = "raft \(leader)* t\(term)> "
            try #require(
                terminal.expect(prompt), "no prompt \"\(prompt)\":\n\(terminal.text)\n\(cluster.diagnostics())")

            // "sta" is shared by start and status: one Tab adds nothing, a second lists both; "t" then makes it unique.
            terminal.send("sta\t\t")
            try #require(terminal.expect("start"), "candidates not listed:\n\(terminal.text)")
            try #require(terminal.expect("status"), "candidates not listed:\n\(terminal.text)")
            terminal.send("t\t\r")
            try #require(terminal.expect("cuts: none"), "stat<TAB> did not complete to status:\n\(terminal.text)")
            try #require(terminal.expect(prompt), "\(terminal.text)")

            // Node ids come from the running cluster.
            terminal.send("kill n\t\t")
            for id in ["n1", "n2", "n3"] {
                try #require(terminal.expect(id), "node id \(id) not offered:\n\(terminal.text)")
            }
            terminal.send("9\r")
            try #require(terminal.expect("unknown node id \"n9\""), "no error for n9:\n\(terminal.text)")
            try #require(terminal.expect(prompt), "the REPL did not survive the error:\n\(terminal.text)")

            // Up twice recalls `status` (the line before `kill n9`).
            terminal.send("\u{1B}[A\u{1B}[A\r")
            try #require(terminal.expect("cuts: none"), "Up-arrow did not recall status:\n\(terminal.text)")
            try #require(terminal.expect(prompt), "\(terminal.text)")
            // A watch redraws the live table until a key is pressed, then the prompt is back.
            terminal.send("status --watch\r")
            try #require(terminal.expect("(press any key to stop)"), "no watch view:\n\(terminal.text)")
            terminal.send("q")
            try #require(terminal.expect(prompt), "the watch did not stop on a key:\n\(terminal.text)")
            terminal.send("leader\r")
            try #require(terminal.expect("\(leader)\r\n"), "\(terminal.text)")
            try #require(terminal.expect(prompt), "\(terminal.text)")

            terminal.send("\u{04}")
            #expect(terminal.waitForExit() == 0, "Ctrl-D did not exit 0:\n\(terminal.text)")
            let processes = cluster.leftoverProcesses()
            #expect(processes.count == 4, "three nodes and the supervisor must still run: \(processes)")
            #expect(try cluster.status().hasSettledLeader, "a node was killed by `kill n9`?\n\(cluster.diagnostics())")
            // History lives under $XDG_STATE_HOME, for the next session's Up arrow.
            let history = try String(contentsOfFile: cluster.root + "/state/raftctl/history", encoding: .utf8)
            #expect(history.contains("status\n") && history.contains("kill n9\n"), "history file:\n\(history)")
        }
    }

    @Test("a scripted REPL (stdin not a terminal) runs each line without prompts, prints the values, stops at exit")
    func scriptedREPL() throws {
        try withCluster { cluster in
            let result = try cluster.ctl(["repl"], stdin: "put a 1\nget a\nget missing\nget a\nexit\nput a 2\n")
            #expect(result.status == 0, "\(result)")
            let lines = result.lines
            #expect(lines.count == 3, "\(result)")
            #expect(lines.first?.hasPrefix("OK (index ") == true, "\(result)")
            #expect(Array(lines.dropFirst()) == ["1", "1"], "\(result)")
            #expect(try cluster.ok("get", "a").stdout == "1\n", "a line after exit ran")
            #expect(!result.stdout.contains("raft "), "no prompt when scripted: \(result)")
            #expect(result.stderr.contains("key not found: missing"), "\(result)")
        }
    }
}
