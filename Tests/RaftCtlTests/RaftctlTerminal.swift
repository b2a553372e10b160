import ChildProcessTestSupport

/// `raftctl` under a pseudo-terminal: what an operator at a terminal types and sees.
typealias RaftctlTerminal = PseudoTerminal

extension PseudoTerminal {
    convenience init(_ arguments: [String], environment: [String]) throws {
        try self.init(columns: 120, defaultTimeout: .seconds(10)) { terminalPath in
            try RaftctlProcess.spawn(arguments, environment: environment, newSession: true) { actions in
                PseudoTerminal.attach(&actions, to: terminalPath)
            }
        }
    }
}
