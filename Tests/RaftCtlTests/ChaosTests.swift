import Foundation
import Testing

@testable import RaftCtlKit

@Suite("chaos schedule")
struct ChaosScheduleTests {
    @Test("the same seed gives the same fault schedule; another seed another one; only the chosen kinds")
    func deterministic() {
        let nodes = ["n1", "n2", "n3"]
        let kinds = Nemesis.Kind.allCases
        let a = Nemesis.schedule(seed: 42, kinds: kinds, nodes: nodes, milliseconds: 60_000)
        let b = Nemesis.schedule(seed: 42, kinds: kinds, nodes: nodes, milliseconds: 60_000)
        let c = Nemesis.schedule(seed: 43, kinds: kinds, nodes: nodes, milliseconds: 60_000)
        #expect(a == b)
        #expect(a != c)
        #expect(a.count >= 10, "a minute holds many faults: \(a.count)")
        #expect(Set(a.map(\.kind)).count >= 4, "a minute draws most kinds")
        let pausesOnly = Nemesis.schedule(seed: 42, kinds: [.pause], nodes: nodes, milliseconds: 30_000)
        #expect(!pausesOnly.isEmpty && pausesOnly.allSatisfy { $0.kind == .pause && nodes.contains($0.targets[0]) })
    }
}

extension RaftctlEndToEndTests {
    @Test("chaos: 30 s of every nemesis on a 3-node cluster ends VALID, with the history, faults and report written")
    func chaosEveryNemesisIsValid() throws {
        try withCluster { cluster in
            let out = cluster.root + "/chaos"
            let run = try cluster.ctl(
                ["chaos", "--time", "30s", "--seed", "20261128", "--out", out], timeout: .seconds(180))
            let last = run.stdout.split(separator: "\n").last.map(String.init) ?? ""
            #expect(run.status == 0 && last.hasPrefix("VALID ops="), "\(run)\n\(cluster.diagnostics())")
            for file in ["history.jsonl", "faults.jsonl", "events.jsonl", "report.html"] {
                #expect(FileManager.default.fileExists(atPath: "\(out)/\(file)"), "\(file) missing")
            }
            let faults = (try? String(contentsOfFile: "\(out)/faults.jsonl", encoding: .utf8)) ?? ""
            #expect(faults.split(separator: "\n").count >= 4, "faults:\n\(faults)")
            // raftctl check agrees on the written history.
            let check = try cluster.ctl("check", "\(out)/history.jsonl")
            #expect(check.status == 0, "\(check)")
        }
    }

    @Test("chaos catches a broken cluster: the same run is VALID, then INVALID with unsafe-stale-reads on every node")
    func chaosCatchesUnsafeStaleReads() throws {
        let cluster = try TestCluster()
        defer { cluster.close() }
        try cluster.up()
        let arguments = ["chaos", "--time", "15s", "--seed", "11", "--nemesis", "partition,pause"]
        let healthy = try cluster.ctl(arguments + ["--out", cluster.root + "/good"], timeout: .seconds(180))
        #expect(
            healthy.status == 0 && healthy.stdout.split(separator: "\n").last?.hasPrefix("VALID ops=") == true,
            "\(healthy)")
        // Refused on a node not started to allow it.
        let refused = try cluster.ctl("failpoint", "n1", "unsafe-stale-reads", "on")
        #expect(refused.status == 1 && refused.stderr.contains("--allow-unsafe-failpoints"), "\(refused)")
        for id in ["n1", "n2", "n3"] {
            try "allow-unsafe-failpoints = true\n".write(
                toFile: "\(cluster.directory)/\(id)/raftd.conf", atomically: true, encoding: .utf8)
            try cluster.ok("restart", id)
        }
        try cluster.settledLeader()
        for id in ["n1", "n2", "n3"] {
            let armed = try cluster.ok("failpoint", id, "unsafe-stale-reads", "on")
            #expect(armed.stdout.contains("unsafe-stale-reads  on"), "\(armed)")
        }
        let run = try cluster.ctl(arguments + ["--out", cluster.root + "/bad"], timeout: .seconds(180))
        let last = run.stdout.split(separator: "\n").last.map(String.init) ?? ""
        #expect(run.status == 1 && last.hasPrefix("INVALID key="), "\(run)")
        let report = (try? String(contentsOfFile: cluster.root + "/bad/report.html", encoding: .utf8)) ?? ""
        #expect(report.contains("not linearizable"))
    }
}
