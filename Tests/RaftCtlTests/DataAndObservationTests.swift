import Foundation
import Testing

/// The log index in a write's `OK (index I, term T)` line.
func writtenIndex(_ result: CommandResult) -> UInt64? {
    guard result.stdout.hasPrefix("OK (index ") else { return nil }
    return result.stdout.split(separator: " ").dropFirst(2).first.flatMap { UInt64($0.dropLast()) }
}

extension RaftctlEndToEndTests {
    @Test("put, get, delete and cas behave like a key-value store, with exit 1 for a missing key or a failed compare")
    func keyValueSemanticsAndExitCodes() throws {
        try withCluster { cluster in
            let put = try cluster.ok("put", "fruit", "apple")
            let first = try #require(writtenIndex(put), "\(put)")
            #expect(try cluster.ok("get", "fruit").stdout == "apple\n")

            let cas = try cluster.ok("cas", "fruit", "apple", "pear")
            let second = try #require(writtenIndex(cas), "\(cas)")
            #expect(second > first, "each write gets a later log index")
            #expect(try cluster.ok("get", "fruit").stdout == "pear\n")

            let mismatch = try cluster.ctl("cas", "fruit", "apple", "plum")
            #expect(mismatch.status == 1, "\(mismatch)")
            #expect(mismatch.stderr.contains("compare failed"), "\(mismatch)")
            #expect(mismatch.stderr.trimmed.split(separator: "\n").count == 1, "\(mismatch)")
            #expect(try cluster.ok("get", "fruit").stdout == "pear\n", "a failed cas must not write")

            let spaced = try cluster.ok("put", "greeting", "hello, raft world")
            #expect(writtenIndex(spaced) != nil)
            #expect(try cluster.ok("get", "greeting").stdout == "hello, raft world\n")

            let delete = try cluster.ok("delete", "fruit")
            #expect(writtenIndex(delete) != nil, "\(delete)")
            let missing = try cluster.ctl("get", "fruit")
            #expect(missing.status == 1, "\(missing)")
            #expect(missing.stdout.isEmpty)
            #expect(missing.stderr.trimmed == "raftctl: key not found: fruit", "\(missing)")
            let never = try cluster.ctl("get", "never-written")
            #expect(never.status == 1, "\(never)")
            #expect(try cluster.ok("get", "greeting").stdout == "hello, raft world\n", "delete touched another key")
        }
    }

    @Test(
        "logs -n prints at most that many lines of the node; entries lists the puts; events merges nodes in time order")
    func logsEntriesAndEvents() throws {
        try withCluster { cluster in
            let status = try cluster.settledLeader()
            let leader = try #require(status.leader)
            try cluster.ok("put", "alpha", "1")
            try cluster.ok("put", "beta", "2")

            let logs = try cluster.ok("logs", "n2", "-n", "5")
            #expect((1...5).contains(logs.lines.count), "\(logs)")
            for line in logs.lines {
                #expect(line.split(separator: " ").dropFirst(2).first == "n2", "not a line of n2: \(line)")
            }

            let entries = try cluster.ok("entries", leader)
            #expect(entries.lines.first?.hasPrefix("INDEX  TERM  TYPE") == true, "\(entries)")
            #expect(entries.lines.contains { $0.hasSuffix("put alpha=1") }, "\(entries)")
            #expect(entries.lines.contains { $0.hasSuffix("put beta=2") }, "\(entries)")
            let indexes = entries.lines.dropFirst().compactMap { UInt64($0.split(separator: " ").first ?? "") }
            #expect(indexes.count == entries.lines.count - 1, "every entry line starts with its index: \(entries)")
            #expect(indexes == indexes.sorted() && Set(indexes).count == indexes.count, "\(entries)")
            let followerEntries = try cluster.waitFor("a follower's log to hold the puts") { () -> CommandResult? in
                let follower = status.nodes.first { $0.id != leader }!.id
                let result = try cluster.ok("entries", follower)
                return result.stdout.contains("put beta=2") ? result : nil
            }
            #expect(followerEntries.stdout.contains("put alpha=1"))

            let events = try cluster.ok("events")
            let fields = events.lines.map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
            #expect(fields.allSatisfy { $0.count >= 4 }, "\(events)")
            let times = fields.map { $0[0] }
            #expect(times == times.sorted(), "events are not in time order:\n\(events.stdout)")
            #expect(Set(fields.map { $0[1] }).isSubset(of: ["n1", "n2", "n3"]), "\(events)")
            #expect(fields.contains { $0[3] == "role" }, "no role change:\n\(events.stdout)")
            let learnedLeader = Set(fields.filter { $0[3] == "leader" }.map { $0[1] })
            #expect(learnedLeader == ["n1", "n2", "n3"], "every node records its leader:\n\(events.stdout)")
            #expect(fields.contains { $0[1] == leader && $0[3] == "elected" }, "\(events.stdout)")

            let only = try cluster.ok("events", "n3")
            #expect(!only.lines.isEmpty && only.lines.allSatisfy { $0.split(separator: " ")[1] == "n3" }, "\(only)")
        }
    }

    @Test("logs -f, entries -f and events -f keep printing what happens after they start, until interrupted")
    func followModesStreamNewActivity() throws {
        try withCluster { cluster in
            let initial = try cluster.settledLeader()
            let leader = try #require(initial.leader)
            let target = try #require(initial.nodes.first { $0.id != leader }).id
            let entries = try cluster.follow("entries", target, "-f")
            let events = try cluster.follow("events", "-f")
            let logs = try cluster.follow("logs", target, "-f", "-n", "1")
            // Each follower has its backlog out before the new activity, so what follows must come from the stream.
            try #require(entries.waitForOutput(containing: "noop"), "entries -f:\n\(entries.output)")
            try #require(events.waitForOutput(containing: " elected "), "events -f:\n\(events.output)")
            try #require(logs.waitForOutput(containing: " \(target) "), "logs -f:\n\(logs.output)")

            try cluster.ok("put", "streamed", "yes")
            try cluster.ok("transfer-leader", target)
            #expect(
                entries.waitForOutput(containing: "put streamed=yes"), "entries -f missed the put:\n\(entries.output)")
            #expect(
                events.waitForOutput(containing: "(transfer)"), "events -f missed the transfer:\n\(events.output)")
            #expect(
                logs.waitForOutput(containing: "role: candidate -> leader"),
                "logs -f missed \(target) becoming leader:\n\(logs.output)")
            for command in [entries, events, logs] {
                #expect(command.isRunning, "`raftctl \(command.arguments.joined(separator: " "))` ended on its own")
                #expect(command.stop() != nil, "`raftctl \(command.arguments.joined(separator: " "))` ignored SIGINT")
            }
        }
    }
}
