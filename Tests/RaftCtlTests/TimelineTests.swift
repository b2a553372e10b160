import Foundation
import RaftText
import Testing

@testable import RaftCtlKit

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The timeline, built from made-up logs and fault records: n1 leads in term 1 and is killed, n2 wins term 2,
/// n1 comes back as a follower; a partition and its heal.
@Suite("timeline rendering (golden)")
struct TimelineRenderingTests {
    static let base = Timeline.epochMilliseconds("2026-11-28T06:00:00.000Z")!

    static func at(_ seconds: Double) -> String {
        let milliseconds = base + Int64(seconds * 1000)
        return "2026-11-28T" + Timeline.clock(milliseconds) + "Z"
    }

    static func timeline() -> Timeline {
        let logs = [
            "n1": [
                "\(at(0)) NOTICE n1 t0 raftd ready admin=/c/n1/admin.sock",
                "\(at(0.3)) INFO n1 t0 role: follower -> pre-candidate",
                "\(at(0.35)) INFO n1 t1 role: pre-candidate -> candidate",
                "\(at(0.4)) INFO n1 t1 role: candidate -> leader",
                "\(at(0.4)) INFO n1 t1 elected: won term 1",
                "\(at(1)) INFO n1 t1 progress: commit 1 applied 1",
                "\(at(2)) INFO n1 t1 progress: commit 40 applied 40",
                "\(at(2.5)) INFO n1 t1 progress: commit 75 applied 74",
                "\(at(6)) NOTICE n1 t1 raftd ready admin=/c/n1/admin.sock",
                "\(at(6.1)) INFO n1 t2 role: follower -> follower",
            ],
            "n2": [
                "\(at(0)) NOTICE n2 t0 raftd ready admin=/c/n2/admin.sock",
                "\(at(3.3)) INFO n2 t1 election: started for term 2 (timeout)",
                "\(at(3.3)) INFO n2 t2 role: pre-candidate -> candidate",
                "\(at(3.35)) INFO n2 t2 role: candidate -> leader",
                "\(at(3.35)) INFO n2 t2 elected: won term 2",
                "\(at(4)) INFO n2 t2 progress: commit 76 applied 76",
                "\(at(5)) INFO n2 t2 progress: commit 110 applied 110",
                "\(at(8)) INFO n2 t2 progress: commit 150 applied 150",
                "\(at(7)) INFO n2 t2 snapshot: log compacted through 120",
            ],
            "n3": [
                "\(at(0)) NOTICE n3 t0 raftd ready admin=/c/n3/admin.sock",
                "\(at(0.45)) INFO n3 t1 leader: n1",
                "\(at(3.4)) INFO n3 t2 leader: n2",
            ],
        ]
        let faults = [
            FaultRecord(time: base + 3_000, kind: "kill", nodes: ["n1"], detail: "signal 9"),
            FaultRecord(time: base + 6_000, kind: "start", nodes: ["n1"], detail: ""),
            FaultRecord(time: base + 7_500, kind: "partition", nodes: ["n1", "n2", "n3"], detail: "n3 | n1,n2"),
            FaultRecord(time: base + 9_000, kind: "heal", nodes: ["n1", "n2", "n3"], detail: ""),
        ]
        return Timeline.build(nodes: ["n1", "n2", "n3"], logs: logs, faults: faults, start: base, end: base + 10_000)
    }

    @Test("roles and terms per node, the kill's down time, fault windows paired with what ended them")
    func model() {
        let timeline = Self.timeline()
        let n1 = timeline.segments["n1"]!
        #expect(n1.contains { $0.role == "leader" && $0.term == 1 && $0.end == Self.base + 3_000 })
        #expect(n1.contains { $0.role == "down" && $0.start == Self.base + 3_000 && $0.end == Self.base + 6_000 })
        #expect(timeline.segments["n2"]!.contains { $0.role == "leader" && $0.term == 2 })
        #expect(timeline.faults.map(\.label) == ["kill n1", "partition n3 | n1,n2"])
        #expect(timeline.faults.map { $0.end - $0.start } == [3_000, 1_500])
        #expect(timeline.marks["n2"]!.map(\.kind) == ["election", "elected", "snapshot"])
        // A follower's band follows the terms it learns.
        #expect(timeline.segments["n3"]!.map(\.term) == [0, 1, 2])
        #expect(timeline.segments["n3"]!.allSatisfy { $0.role == "follower" })
        // The commit line: the leaders' progress records in time order, never going back.
        #expect(timeline.commits.map(\.index) == [1, 40, 75, 76, 110, 150])
        #expect(timeline.commitIndex(at: Self.base + 4_500) == 76)
        #expect(timeline.commitIndex(at: Self.base + 500) == nil)
    }

    @Test("the text rendering (golden)")
    func text() throws {
        try checkGolden(Self.timeline().text(width: 88) + "\n", "timeline.txt")
    }

    @Test("the SVG (golden) parses as XML")
    func svg() throws {
        let picture = Self.timeline().svg()
        try checkGolden(picture, "timeline.svg")
        let parser = XMLParser(data: Data(picture.utf8))
        #expect(parser.parse(), "not well-formed XML: \(String(describing: parser.parserError))")
    }
}

extension RaftctlEndToEndTests {
    @Test("timeline after a kill and a partition: both fault windows and the new leader's band are in it")
    func timelineAfterFaults() throws {
        try withCluster { cluster in
            let old = try #require(try cluster.settledLeader().leader)
            let began = UTCTimestamp.now()
            try cluster.ok("kill", old)
            let replaced = try cluster.waitForStatus("a new leader") { $0.leader != nil && $0.leader != old }
            let new = try #require(replaced.leader)
            try cluster.ok("start", old)
            try cluster.ok("isolate", new)
            try cluster.ok("heal")
            // The leader logs its commit index at most once a second: the record the commit line is drawn from.
            try cluster.ok("put", "after-heal", "v")
            let leader = try #require(try cluster.settledLeader().leader)
            try cluster.waitFor("a progress line in \(leader)'s log") {
                cluster.tail("\(cluster.directory)/\(leader)/raftd.log", lines: 200).contains("progress: commit ")
                    ? true : nil
            }
            let svg = cluster.root + "/timeline.svg"
            let result = try cluster.ok("timeline", "--from", began, "--svg", svg)
            #expect(result.stdout.contains("kill \(old)"), "\(result)")
            #expect(result.stdout.contains("partition \(new) |"), "\(result)")
            #expect(result.stdout.contains("\(new) leader t"), "the new leader's election: \(result)")
            let row = result.stdout.split(separator: "\n").first { $0.hasPrefix(new + " ") } ?? ""
            #expect(row.contains("█"), "the new leader's band: \(result)")
            #expect(
                result.stdout.split(separator: "\n").contains { $0.hasPrefix("commit  ") }, "the commit line: \(result)"
            )
            let picture = try String(contentsOfFile: svg, encoding: .utf8)
            #expect(XMLParser(data: Data(picture.utf8)).parse())
            #expect(picture.contains("kill \(old)") && picture.contains("\(new) leader term"))
            #expect(picture.contains("<polyline") && picture.contains("commit index"))
        }
    }
}
