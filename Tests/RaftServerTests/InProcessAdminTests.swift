import Foundation
import NIOCore
import NIOEmbedded
import RaftAPI
import RaftCore
import Testing

@testable import RaftServer

extension EmbeddedNode {
    /// A fresh admin connection: the line decoder and the node's admin handler.
    func adminConnection() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(loop: loop)
        try AdminHandler.addLineDecoder(to: channel.pipeline.syncOperations)
        try channel.pipeline.syncOperations.addHandler(AdminHandler(shell: shell))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        return channel
    }
}

extension EmbeddedChannel {
    /// Sends lines, runs the loop, and returns every JSON line answered, decoded as dictionaries.
    func adminExchange(_ text: String, on loop: EmbeddedEventLoop) throws -> [[String: Any]] {
        try writeInbound(ByteBuffer(string: text))
        for _ in 0..<5 { loop.run() }
        var raw = ""
        while let part = try readOutbound(as: ByteBuffer.self) { raw += String(buffer: part) }
        return raw.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }
}

@Suite("admin handler in process (EmbeddedChannel, in-memory storage)")
struct InProcessAdminTests {
    static func code(_ answer: [String: Any]?) -> String? {
        (answer?["error"] as? [String: Any])?["code"] as? String
    }

    @Test("status, campaign, entries, events (last), logs, slow-disk and failpoints answer as documented")
    func everyOperation() throws {
        let node = try EmbeddedNode()
        try node.lead()
        let admin = try node.adminConnection()
        let status = try admin.adminExchange(#"{"v":1,"id":1,"op":"status"}"# + "\n", on: node.loop)
        #expect(status.first?["ok"] as? Bool == true && status.first?["id"] as? Int == 1)
        #expect((status.first?["result"] as? [String: Any])?["role"] as? String == "leader")

        let campaign = try admin.adminExchange(#"{"id":2,"op":"campaign"}"# + "\n", on: node.loop)
        #expect(campaign.first?["ok"] as? Bool == true)

        let entries = try admin.adminExchange(#"{"id":3,"op":"entries","from":1,"limit":10}"# + "\n", on: node.loop)
        let items = entries.compactMap { $0["entry"] as? [String: Any] }
        #expect(items.first?["type"] as? String == "noop" && items.first?["index"] as? Int == 1, "\(entries)")
        #expect(entries.last?["end"] as? Bool == true, "a stream that does not follow ends: \(entries)")

        let events = try admin.adminExchange(#"{"id":4,"op":"events","last":2}"# + "\n", on: node.loop)
        #expect(events.compactMap { $0["event"] }.count == 2, "last 2 of the recorded events: \(events)")

        let logs = try admin.adminExchange(#"{"id":5,"op":"logs","last":3}"# + "\n", on: node.loop)
        #expect(!logs.compactMap { $0["line"] }.isEmpty, "\(logs)")

        let slow = try admin.adminExchange(#"{"id":6,"op":"slow-disk","delay":"5ms"}"# + "\n", on: node.loop)
        #expect((slow.first?["result"] as? [String: Any])?["delayMilliseconds"] as? Int == 5, "\(slow)")
        #expect(node.shell.syncMonitor.delayMilliseconds == 5)
        _ = try admin.adminExchange(#"{"id":7,"op":"slow-disk","delay":"off"}"# + "\n", on: node.loop)
        #expect(node.shell.syncMonitor.delayMilliseconds == 0)

        let list = try admin.adminExchange(#"{"id":8,"op":"failpoint"}"# + "\n", on: node.loop)
        #expect((list.first?["result"] as? [String: String])?["during-apply"] == "off", "\(list)")
        let armed = try admin.adminExchange(
            #"{"id":9,"op":"failpoint","name":"before-follower-ack","action":"drop"}"# + "\n", on: node.loop)
        #expect((armed.first?["result"] as? [String: String])?["before-follower-ack"] == "drop", "\(armed)")
        let unsafe = try admin.adminExchange(
            #"{"id":10,"op":"failpoint","name":"unsafe-stale-reads","action":"on"}"# + "\n", on: node.loop)
        #expect(Self.code(unsafe.first) == "unsafe_failpoint", "\(unsafe)")
        let wrong = try admin.adminExchange(
            #"{"id":11,"op":"failpoint","name":"during-apply","action":"on"}"# + "\n", on: node.loop)
        #expect(Self.code(wrong.first) == "bad_request", "\(wrong)")
    }

    @Test("block, set-blocked and heal change the fault filter; an unknown peer is refused")
    func faultFilter() throws {
        let node = try EmbeddedNode(size: 3)
        let admin = try node.adminConnection()
        let blocked = try admin.adminExchange(
            #"{"id":1,"op":"block","peers":["n2"],"direction":"in"}"# + "\n", on: node.loop)
        #expect(blocked.first?["ok"] as? Bool == true, "\(blocked)")
        #expect(node.shell.blockedInbound == [NodeID(2)] && node.shell.blockedOutbound.isEmpty)
        _ = try admin.adminExchange(#"{"id":2,"op":"set-blocked","in":["n3"],"out":["n2","n3"]}"# + "\n", on: node.loop)
        #expect(node.shell.blockedInbound == [NodeID(3)] && node.shell.blockedOutbound == [NodeID(2), NodeID(3)])
        let unknown = try admin.adminExchange(#"{"id":3,"op":"block","peers":["n9"]}"# + "\n", on: node.loop)
        #expect(Self.code(unknown.first) == "unknown_node" && unknown.first?["id"] as? Int == 3, "\(unknown)")
        _ = try admin.adminExchange(#"{"id":4,"op":"heal"}"# + "\n", on: node.loop)
        #expect(node.shell.blockedInbound.isEmpty && node.shell.blockedOutbound.isEmpty)
        let transfer = try admin.adminExchange(#"{"id":5,"op":"transfer-leader","to":"n2"}"# + "\n", on: node.loop)
        #expect(Self.code(transfer.first) == "no_leader", "a follower without a leader: \(transfer)")
    }

    @Test("malformed lines get JSON errors on a connection that stays up; an over-long line closes it")
    func malformedLines() throws {
        let node = try EmbeddedNode()
        let admin = try node.adminConnection()
        let cases: [(String, String)] = [
            ("hello", "bad_request"), ("{not json", "bad_request"), ("[1,2]", "bad_request"),
            (#"{"id":7}"#, "bad_request"), (#"{"v":1,"id":8,"op":"frobnicate"}"#, "unknown_op"),
            (#"{"v":99,"id":9,"op":"status"}"#, "unsupported_version"),
            (#"{"id":10,"op":"transfer-leader"}"#, "bad_request"),
            (#"{"id":11,"op":"slow-disk","delay":"soon"}"#, "bad_request"),
        ]
        for (line, code) in cases {
            let answer = try admin.adminExchange(line + "\n", on: node.loop)
            #expect(Self.code(answer.first) == code, "\(line): \(answer)")
        }
        #expect(admin.isActive)
        let status = try admin.adminExchange(#"{"id":12,"op":"status"}"# + "\n", on: node.loop)
        #expect(status.first?["ok"] as? Bool == true, "the connection still works")

        let flooding = try node.adminConnection()
        let long = try flooding.adminExchange(
            String(repeating: "x", count: AdminProtocol.maxLineBytes + 10), on: node.loop)
        #expect(Self.code(long.first) == "line_too_long", "\(long)")
        #expect(!flooding.isActive, "closed after an over-long line")
    }

    @Test("after the client shuts its sending side, every answer is written, then the connection closes")
    func halfClose() throws {
        let node = try EmbeddedNode()
        let admin = try node.adminConnection()
        try admin.writeInbound(
            ByteBuffer(string: #"{"id":1,"op":"status"}"# + "\n" + #"{"id":2,"op":"failpoint"}"# + "\n"))
        admin.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        for _ in 0..<5 { node.loop.run() }
        var lines: [String] = []
        while let part = try admin.readOutbound(as: ByteBuffer.self) {
            lines += String(buffer: part).split(separator: "\n").map(String.init)
        }
        #expect(lines.count == 2 && lines[0].contains("\"id\":1") && lines[1].contains("\"id\":2"), "\(lines)")
        #expect(!admin.isActive, "closed once both answers were written")
    }
}
