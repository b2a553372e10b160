import Foundation
import Testing

@testable import RaftCtlKit

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The logs side by side, rendered from a made-up moment: the Raft paper's figure 7 in small.
@Suite("logs-view rendering (golden)")
struct LogsViewRenderingTests {

    static func snapshot() -> LogsSnapshot {
        func entries(_ terms: [UInt64], from first: UInt64 = 1) -> [UInt64: UInt64] {
            Dictionary(uniqueKeysWithValues: terms.enumerated().map { (first + UInt64($0.offset), $0.element) })
        }
        return LogsSnapshot(rows: [
            // An old leader of term 2 with two entries the term-3 leader replaced (6 and 7).
            LogsSnapshot.Row(
                id: "n1", isLeader: false, entries: entries([1, 1, 1, 2, 2, 2, 2]), firstIndex: 1, lastIndex: 7,
                commit: 5, applied: 5, snapshot: 0),
            LogsSnapshot.Row(
                id: "n2", isLeader: true, entries: entries([1, 1, 1, 2, 2, 3, 3, 3]), firstIndex: 1, lastIndex: 8,
                commit: 8, applied: 7, snapshot: 0),
            // Compacted through 4 by a snapshot.
            LogsSnapshot.Row(
                id: "n3", isLeader: false, entries: entries([2, 3, 3], from: 5), firstIndex: 5, lastIndex: 7,
                commit: 7, applied: 7, snapshot: 4),
            LogsSnapshot.Row(id: "n4", isLeader: false, entries: nil),
        ])
    }

    @Test("text: terms aligned by index, the divergent entry marked, compacted cells, commit/applied/snapshot marks")
    func text() throws {
        let snapshot = Self.snapshot()
        let range = snapshot.range(from: nil, to: nil, cells: 20)
        #expect(range == 1...8)
        try checkGolden(snapshot.text(range, color: false) + "\n", "logs-view.txt")
        #expect(snapshot.range(from: nil, to: nil, cells: 3) == 6...8, "the last screenful by default")
        #expect(snapshot.range(from: 2, to: 4, cells: 3) == 2...4)
    }

    @Test("SVG: parses as XML and draws a cell per entry, the divergent ones outlined")
    func svg() throws {
        let snapshot = Self.snapshot()
        let picture = snapshot.svg(1...8)
        try checkGolden(picture, "logs-view.svg")
        let parser = XMLParser(data: Data(picture.utf8))
        #expect(parser.parse(), "the SVG is not well-formed XML: \(String(describing: parser.parserError))")
        #expect(picture.components(separatedBy: "stroke=\"#d50000\"").count - 1 == 2, "two divergent entries")
    }
}

extension RaftctlEndToEndTests {
    @Test("logs-view on a running cluster: a row per node, the leader starred, the same terms everywhere, an SVG")
    func logsViewOnACluster() throws {
        try withCluster { cluster in
            for n in 0..<3 { try cluster.ok("put", "k\(n)", "v\(n)") }
            let leader = try #require(try cluster.settledLeader().leader)
            let svg = cluster.root + "/logs.svg"
            let view = try cluster.waitFor("every node caught up in the view") { () -> CommandResult? in
                let result = try cluster.ok("logs-view", "--svg", svg)
                let rows = result.stdout.split(separator: "\n").filter { $0.hasPrefix("n") }
                return rows.count == 3 && Set(rows.map { $0.dropFirst(6) }).count == 1 ? result : nil
            }
            #expect(view.stdout.contains("\(leader)*"), "\(view)")
            let rows = view.stdout.split(separator: "\n").filter { $0.hasPrefix("n") }
            #expect(!rows.contains { $0.contains("!") }, "no entry differs: \(view)")
            let picture = try String(contentsOfFile: svg, encoding: .utf8)
            #expect(XMLParser(data: Data(picture.utf8)).parse())
        }
    }
}
