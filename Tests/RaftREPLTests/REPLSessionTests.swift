import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Runs `repl-demo` with stdin from a file (a scripted session) and returns its exit status, stdout and stderr.
private func runScripted(_ input: String) throws -> (status: Int32?, stdout: String, stderr: String) {
    let directory = try DemoProcess.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let inputPath = directory.appendingPathComponent("input").path
    let outputPath = directory.appendingPathComponent("stdout").path
    let errorPath = directory.appendingPathComponent("stderr").path
    try input.write(toFile: inputPath, atomically: true, encoding: .utf8)
    let pid = try DemoProcess.spawn(
        arguments: [directory.appendingPathComponent("history").path], newSession: false, stdin: .file(inputPath),
        stdout: .file(outputPath), stderr: .file(errorPath))
    let status = DemoProcess.waitForExit(pid, timeout: .seconds(5))
    return (
        status, try String(contentsOfFile: outputPath, encoding: .utf8),
        try String(contentsOfFile: errorPath, encoding: .utf8)
    )
}

@Suite("REPL scripted sessions (stdin not a terminal)")
struct ScriptedSessionTests {
    @Test("commands run in order without prompts; a bad line is reported on stderr and the session goes on to exit")
    func scriptedCommandsRunUntilExit() throws {
        let input = """
            status

            put 'a b' "c\\"d"
            put "oops
            fail
            get x
            exit
            status

            """
        let result = try runScripted(input)
        #expect(result.status == 0)
        #expect(
            result.stdout == """
                executed: <status>
                executed: <put> <a b> <c"d>
                executed: <get> <x>

                """)
        #expect(!result.stdout.contains("demo>"))
        #expect(result.stderr.contains("unterminated \" quote"))
        #expect(result.stderr.contains("command failed on purpose"))
    }

    @Test("quit stops a scripted session too")
    func quitStopsTheSession() throws {
        let result = try runScripted("get a\nquit\nget b\n")
        #expect(result.status == 0)
        #expect(result.stdout == "executed: <get> <a>\n")
    }

    @Test("end of input ends the session, a last line without newline included; watch renders once")
    func endOfInputEndsTheSession() throws {
        let result = try runScripted("watch\nget last")
        #expect(result.status == 0)
        #expect(result.stdout == "frame 1\nexecuted: <get> <last>\n")
    }
}

@Suite("REPL interactive sessions (pseudo-terminal)")
struct InteractiveSessionTests {
    @Test("Tab completes a command name and, after kill, lists and completes the node ids")
    func tabCompletesCommandsAndNodeIDs() throws {
        let directory = try DemoProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let terminal = try TerminalSession(arguments: [directory.appendingPathComponent("history").path])
        try #require(terminal.expect("demo> "), "no prompt: \(terminal.text)")
        terminal.send("sta\t\r")
        try #require(terminal.expect("executed: <status>"), "sta<TAB> did not complete to status: \(terminal.text)")
        try #require(terminal.expect("demo> "))
        // One Tab only reaches the common prefix "n"; the second lists every candidate.
        terminal.send("kill n\t\t")
        for id in ["n1", "n2", "n3"] {
            try #require(terminal.expect(id), "candidate \(id) not listed: \(terminal.text)")
        }
        try #require(terminal.expect("demo> "))
        terminal.send("2\r")
        try #require(terminal.expect("executed: <kill> <n2>"), "\(terminal.text)")
        try #require(terminal.expect("demo> "))
        // A unique node-id prefix completes at once; nothing completes after a word that takes no node, not even a file name (Package.swift is in the working directory).
        terminal.send("restart n3\t\r")
        try #require(terminal.expect("executed: <restart> <n3>"), "\(terminal.text)")
        try #require(terminal.expect("demo> "))
        terminal.send("put Pack\t\r")
        try #require(terminal.expect("executed: <put> <Pack>"), "\(terminal.text)")
        try #require(terminal.expect("demo> "))
        terminal.send("\u{04}")
        #expect(terminal.waitForExit() == 0)
    }

    @Test("Up-arrow recalls the previous command; Ctrl-C and a bad line keep the REPL alive; Ctrl-D exits with 0")
    func historyRecallInterruptAndErrors() throws {
        let directory = try DemoProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let terminal = try TerminalSession(arguments: [directory.appendingPathComponent("history").path])
        try #require(terminal.expect("demo> "), "no prompt: \(terminal.text)")
        terminal.send("get alpha\r")
        try #require(terminal.expect("executed: <get> <alpha>"))
        try #require(terminal.expect("demo> "))
        terminal.send("\u{1B}[A\r")
        try #require(terminal.expect("executed: <get> <alpha>"), "Up-arrow did not recall: \(terminal.text)")
        try #require(terminal.expect("demo> "))

        // Ctrl-C discards the half-typed line: the next command runs alone, not appended to "garbage".
        terminal.send("garbage")
        try #require(terminal.expect("garbage"))
        terminal.send("\u{03}")
        try #require(terminal.expect("demo> "), "no fresh prompt after Ctrl-C: \(terminal.text)")
        terminal.send("status\r")
        try #require(terminal.expect("executed: <status>"), "line not discarded by Ctrl-C: \(terminal.text)")
        try #require(terminal.expect("demo> "))
        // Ctrl-C and the next command in one burst: the keys after it must not land on the discarded line.
        terminal.send("more garbage")
        try #require(terminal.expect("more garbage"))
        terminal.send("\u{03}members\r")
        try #require(terminal.expect("executed: <members>"), "burst after Ctrl-C joined the old line: \(terminal.text)")
        try #require(terminal.expect("demo> "))

        // Ctrl-C while a command runs: the REPL survives and the command can see it to stop early.
        terminal.send("spin\r")
        try #require(terminal.expect("spinning"))
        terminal.send("\u{03}")
        try #require(terminal.expect("interrupted"), "command not told about Ctrl-C: \(terminal.text)")
        try #require(terminal.expect("demo> "))

        terminal.send("put \"unterminated\r")
        try #require(terminal.expect("unterminated \" quote"), "\(terminal.text)")
        try #require(terminal.expect("demo> "))
        terminal.send("fail\r")
        try #require(terminal.expect("command failed on purpose"))
        try #require(terminal.expect("demo> "))
        terminal.send("get beta\r")
        try #require(terminal.expect("executed: <get> <beta>"), "REPL died after errors: \(terminal.text)")
        try #require(terminal.expect("demo> "))

        terminal.send("\u{04}")
        #expect(terminal.waitForExit() == 0, "\(terminal.text)")
    }

    @Test("history persists across sessions in a private file with created parents, without blanks or duplicates")
    func historyPersistsBetweenRuns() throws {
        let directory = try DemoProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let historyPath = directory.appendingPathComponent("nested/dirs/history").path

        let first = try TerminalSession(arguments: [historyPath])
        try #require(first.expect("demo> "), "no prompt: \(first.text)")
        for line in ["get alpha", "status", "status", "", "   ", "get alpha", "members"] {
            first.send(line + "\r")
            try #require(first.expect("demo> "), "\(first.text)")
        }
        first.send("\u{04}")
        #expect(first.waitForExit() == 0)

        let saved = try String(contentsOfFile: historyPath, encoding: .utf8)
        #expect(saved.split(separator: "\n") == ["status", "get alpha", "members"])
        let mode = try FileManager.default.attributesOfItem(atPath: historyPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        let second = try TerminalSession(arguments: [historyPath])
        try #require(second.expect("demo> "), "no prompt: \(second.text)")
        second.send("\u{1B}[A\u{1B}[A\r")
        try #require(second.expect("executed: <get> <alpha>"), "history not loaded: \(second.text)")
        try #require(second.expect("demo> "))
        second.send("\u{04}")
        #expect(second.waitForExit() == 0)
    }

    @Test("watch redraws until a key is pressed, then the prompt works again with the key swallowed")
    func watchStopsOnAKey() throws {
        let directory = try DemoProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let terminal = try TerminalSession(arguments: [directory.appendingPathComponent("history").path])
        try #require(terminal.expect("demo> "), "no prompt: \(terminal.text)")
        terminal.send("watch\r")
        try #require(terminal.expect("frame 3"), "watch did not redraw: \(terminal.text)")
        terminal.send("q")
        try #require(terminal.expect("demo> "), "watch did not stop: \(terminal.text)")
        terminal.send("status\r")
        try #require(terminal.expect("executed: <status>"), "terminal not restored: \(terminal.text)")
        // Typed while a command runs, Ctrl-D would meet the terminal in its normal mode and be lost: wait.
        try #require(terminal.expect("demo> "))
        terminal.send("\u{04}")
        #expect(terminal.waitForExit() == 0)
    }

    @Test("Ctrl-Z at the prompt gives the terminal back and, once the process goes on, redraws the line being edited")
    func suspendKeepsTheLine() throws {
        let directory = try DemoProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let terminal = try TerminalSession(arguments: [directory.appendingPathComponent("history").path])
        try #require(terminal.expect("demo> "), "no prompt: \(terminal.text)")
        terminal.send("sta")
        try #require(terminal.expect("sta"))
        // The child leads its own session, so its process group is orphaned and the kernel discards the stop itself
        // (a shell's job would stop here and continue on `fg`): what shows is the terminal being restored and then
        // prepared again, with the prompt and the half-typed line redrawn.
        terminal.send("\u{1A}")
        try #require(terminal.expect("^Z"), "\(terminal.text)")
        try #require(terminal.expect("demo> sta"), "line not redrawn after Ctrl-Z: \(terminal.text)")
        terminal.send("tus\r")
        try #require(terminal.expect("executed: <status>"), "line lost across Ctrl-Z: \(terminal.text)")
        // Typed while a command runs, Ctrl-D would meet the terminal in its normal mode and be lost: wait.
        try #require(terminal.expect("demo> "))
        terminal.send("\u{04}")
        #expect(terminal.waitForExit() == 0)
    }

    @Test("SIGTERM at the prompt restores the terminal's normal mode before the process dies of it")
    func terminationRestoresTheTerminal() throws {
        let directory = try DemoProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let terminal = try TerminalSession(arguments: [directory.appendingPathComponent("history").path])
        try #require(terminal.expect("demo> "), "no prompt: \(terminal.text)")
        var settings = termios()
        tcgetattr(terminal.master, &settings)
        #expect(settings.c_lflag & tcflag_t(ICANON) == 0, "readline did not take the terminal")
        kill(terminal.pid, SIGTERM)
        #expect(terminal.waitForExit() == -SIGTERM)
        tcgetattr(terminal.master, &settings)
        #expect(settings.c_lflag & tcflag_t(ICANON) != 0, "left in raw mode")
        #expect(settings.c_lflag & tcflag_t(ECHO) != 0, "left without echo")
    }
}
