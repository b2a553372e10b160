import RaftCore

/// How scenario scripts print the core's values. Every rendering is a pure function of its input, and
/// collections are printed in a fixed order, so outputs are byte-for-byte reproducible.
enum ScenarioRendering {
    /// `n1->n2 t3 AppendEntries prev=4@2 entries=[5..6@3] commit=4`.
    static func message(_ m: Message) -> String {
        "\(m.from)->\(m.to) t\(m.term.rawValue) \(body(m.body))"
    }

    /// The protocol name of a message, as used by `type=` filters.
    static func typeName(_ body: Message.Body) -> String {
        switch body {
        case .requestVote(let v): v.preVote ? "PreVote" : "RequestVote"
        case .requestVoteResponse(let r): r.preVote ? "PreVoteResponse" : "RequestVoteResponse"
        case .appendEntries: "AppendEntries"
        case .appendEntriesResponse: "AppendEntriesResponse"
        case .heartbeat: "Heartbeat"
        case .heartbeatResponse: "HeartbeatResponse"
        case .installSnapshot: "InstallSnapshot"
        case .timeoutNow: "TimeoutNow"
        case .propose: "Propose"
        case .readIndex: "ReadIndex"
        case .readIndexResponse: "ReadIndexResponse"
        case .transferLeader: "TransferLeader"
        }
    }

    static let typeNames: Set<String> = [
        "PreVote", "RequestVote", "PreVoteResponse", "RequestVoteResponse", "AppendEntries", "AppendEntriesResponse",
        "Heartbeat", "HeartbeatResponse", "InstallSnapshot", "TimeoutNow", "Propose", "ReadIndex",
        "ReadIndexResponse", "TransferLeader",
    ]

    static func body(_ body: Message.Body) -> String {
        let name = typeName(body)
        switch body {
        case .requestVote(let v):
            return "\(name) last=\(v.lastLogIndex)@\(v.lastLogTerm.rawValue)" + (v.force ? " force" : "")
        case .requestVoteResponse(let r):
            return "\(name) \(r.granted ? "granted" : "rejected")"
        case .appendEntries(let a):
            return "\(name) prev=\(a.prevLogIndex)@\(a.prevLogTerm.rawValue) entries=\(entryRuns(a.entries))"
                + " commit=\(a.leaderCommit)"
        case .appendEntriesResponse(let r):
            if r.success { return "\(name) ok index=\(r.index)" }
            if r.index == .zero && r.conflictIndex == .zero { return "\(name) reject (sender's term is stale)" }
            if let term = r.conflictTerm {
                // The follower's entry at `prev` has `term`; that term's run starts at conflictIndex.
                return "\(name) reject prev=\(r.index) conflict=\(r.conflictIndex)@\(term.rawValue)"
            }
            return "\(name) reject prev=\(r.index) log-ends=\(r.conflictIndex.rawValue - 1)"
        case .heartbeat(let h):
            return "\(name) commit=\(h.commit) round=\(h.round)"
        case .heartbeatResponse(let h):
            return "\(name) round=\(h.round)"
        case .installSnapshot(let s):
            return "\(name) \(s.metadata.index)@\(s.metadata.term.rawValue)"
        case .timeoutNow:
            return name
        case .propose(let batch):
            return "\(name) [" + batch.map(data).joined(separator: ", ") + "]"
        case .readIndex(let context):
            return "\(name) ctx=\(context.rawValue)"
        case .readIndexResponse(let r):
            return "\(name) ctx=\(r.context.rawValue) index=\(r.index)"
        case .transferLeader(let target):
            return "\(name) to=\(target)"
        }
    }

    /// Entries as runs of one term: `[1@1 2..4@2]` (indexes 2 to 4, all of term 2).
    static func entryRuns(_ entries: [Entry]) -> String {
        var runs: [String] = []
        var start = 0
        while start < entries.count {
            var end = start
            while end + 1 < entries.count && entries[end + 1].term == entries[start].term { end += 1 }
            let term = entries[start].term.rawValue
            runs.append(
                start == end
                    ? "\(entries[start].index)@\(term)" : "\(entries[start].index)..\(entries[end].index)@\(term)")
            start = end + 1
        }
        return "[" + runs.joined(separator: " ") + "]"
    }

    /// Command bytes as text when printable, else as hex.
    static func data(_ bytes: [UInt8]) -> String {
        if bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return String(decoding: bytes, as: UTF8.self) }
        let digits = Array("0123456789abcdef")
        return "0x" + String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] })
    }

    static func entry(_ e: Entry) -> String {
        switch e.kind {
        case .noop: "\(e.index)@\(e.term.rawValue) noop"
        case .command: "\(e.index)@\(e.term.rawValue) command \(data(e.data))"
        case .configuration:
            "\(e.index)@\(e.term.rawValue) configuration "
                + (ConfigurationEntry(decoding: e.data).map { $0.membership.description } ?? "malformed")
        }
    }

    static func event(_ node: NodeID, _ event: RaftEvent) -> String {
        "\(node): \(event)"
    }

    /// `n1: leader term=2 vote=n1 commit=3 applied=3 last=3@2 leader=n1`.
    static func status(_ node: SimNode) -> String {
        guard node.isRunning else {
            let hs = node.storage.hardState
            return "\(node.id): down (storage: term=\(hs.term.rawValue) vote=\(hs.vote?.description ?? "-")"
                + " commit=\(hs.commit) last=\(node.storage.lastIndex))"
        }
        let s = node.raft.status
        var line =
            "\(s.id): \(s.role) term=\(s.term.rawValue) vote=\(s.vote?.description ?? "-") commit=\(s.commitIndex)"
            + " applied=\(node.stateMachine.appliedIndex) last=\(s.lastIndex)@\(s.lastTerm.rawValue)"
            + " leader=\(s.leader?.description ?? "-")"
        if s.snapshotIndex > .zero { line += " snapshot=\(s.snapshotIndex)" }
        if let target = s.leadTransferee { line += " transferring-to=\(target)" }
        return line
    }
}
