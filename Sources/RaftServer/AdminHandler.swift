import FoundationEssentials
import NIOCore
import NIOExtras
import RaftAPI
import RaftCore
import RaftKV
import RaftRuntime
import RaftText

/// Serves admin requests on one Unix-socket connection. Every malformed line gets an error response; the
/// connection (and certainly the node) stays up, except after an over-long line.
final class AdminHandler: ChannelInboundHandler, @unchecked Sendable {
    // `@unchecked Sendable`: NIO calls a handler only on its channel's event loop; `subscriptions` lives there.
    // Stream callbacks from other threads only call `Channel.writeAndFlush`, which is thread-safe.
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let shell: NodeShell
    private var subscriptions: [(kind: String, token: UInt64)] = []
    /// Requests read and not yet fully answered (a following stream never is).
    private var inFlight = 0
    /// The client shut down its sending side (`echo … | socat`): close once every answer is written.
    private var inputClosed = false

    init(shell: NodeShell) {
        self.shell = shell
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            inputClosed = true
            closeIfDone(context.channel)
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Counts one request as answered; on the channel's loop, where the counters live.
    private func finished(_ channel: Channel) {
        channel.eventLoop.execute {
            if self.inFlight > 0 { self.inFlight -= 1 }
            self.closeIfDone(channel)
        }
    }

    private func closeIfDone(_ channel: Channel) {
        guard inputClosed, inFlight == 0 else { return }
        // Writes complete in order: once this empty one is done, every answer before it is on the wire.
        channel.writeAndFlush(channel.allocator.buffer(capacity: 0)).whenComplete { _ in channel.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        for subscription in subscriptions {
            if subscription.kind == "logs" {
                shell.sink.unsubscribe(subscription.token)
            } else {
                shell.unsubscribe(subscription.token)
            }
        }
        subscriptions.removeAll()
        context.fireChannelInactive()
    }

    /// Splits the connection into lines with swift-nio-extras' `LineBasedFrameDecoder`; a line longer than
    /// ``AdminProtocol/maxLineBytes`` overflows the handler's buffer limit, which is answered `line_too_long`.
    static func addLineDecoder(to pipeline: ChannelPipeline.SynchronousOperations) throws {
        try pipeline.addHandler(
            ByteToMessageHandler(LineBasedFrameDecoder(), maximumBufferSize: AdminProtocol.maxLineBytes))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is ByteToMessageDecoderError.PayloadTooLargeError {
            send(
                context.channel, id: nil,
                error: AdminError(
                    code: "line_too_long", message: "request lines are limited to \(AdminProtocol.maxLineBytes) bytes"))
        }
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = unwrapInboundIn(data)
        // A long line that arrived whole, newline included, is split off before the buffer limit is checked.
        guard line.readableBytes <= AdminProtocol.maxLineBytes else {
            errorCaught(context: context, error: ByteToMessageDecoderError.PayloadTooLargeError())
            return
        }
        let bytes = Array(line.readableBytesView)
        if bytes.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { return }
        inFlight += 1
        let request: AdminRequest
        do {
            request = try JSONDecoder().decode(AdminRequest.self, from: Data(bytes))
        } catch {
            send(
                context.channel, id: nil,
                error: AdminError(code: "bad_request", message: "not a JSON admin request: \(Self.describe(error))"))
            return
        }
        if let version = request.v, version != AdminProtocol.version {
            send(
                context.channel, id: request.id,
                error: AdminError(
                    code: "unsupported_version",
                    message: "protocol version \(version); this node speaks \(AdminProtocol.version)"))
            return
        }
        handle(request, context: context)
    }

    private func handle(_ request: AdminRequest, context: ChannelHandlerContext) {
        let channel = context.channel
        let id = request.id
        switch request.op {
        case "status":
            reply(channel, id, shell.status())
        case "members":
            reply(channel, id, shell.members())
        case "add-member", "remove-member", "promote":
            handleMembership(request, channel)
        case "campaign":
            reply(channel, id, shell.withRaft { raft in raft.campaign() }.map { Ack() })
        case "transfer-leader":
            guard let target = request.to.flatMap(NodeID.init(parsing:)) else {
                return send(
                    channel, id: id,
                    error: AdminError(
                        code: "bad_request", message: "transfer-leader needs \"to\": a node id such as \"n2\""))
            }
            guard shell.knownPeers.withLock({ $0.contains(target) }) else {
                return send(
                    channel, id: id,
                    error: AdminError(code: "unknown_node", message: "\(target) is not a member of this cluster"))
            }
            reply(channel, id, shell.withRaft { raft in try raft.transferLeadership(to: target) }.map { Ack() })
        case "block", "unblock":
            guard let peers = parseNodes(request.peers, channel, id), !peers.isEmpty else {
                if request.peers?.isEmpty ?? true {
                    send(
                        channel, id: id,
                        error: AdminError(code: "bad_request", message: "\(request.op) needs \"peers\""))
                }
                return
            }
            let direction = request.direction ?? "both"
            guard ["both", "in", "out"].contains(direction) else {
                return send(
                    channel, id: id,
                    error: AdminError(code: "bad_request", message: "direction must be both, in or out"))
            }
            let future = shell.loop.flatSubmit { () -> EventLoopFuture<AdminBlocked> in
                var inbound = self.shell.blockedInbound
                var outbound = self.shell.blockedOutbound
                for peer in peers {
                    if direction != "out" {
                        if request.op == "block" { inbound.insert(peer) } else { inbound.remove(peer) }
                    }
                    if direction != "in" {
                        if request.op == "block" { outbound.insert(peer) } else { outbound.remove(peer) }
                    }
                }
                return self.setBlocked(inbound, outbound)
            }
            reply(channel, id, future)
        case "set-blocked":
            guard let inbound = parseNodes(request.in ?? [], channel, id),
                let outbound = parseNodes(request.out ?? [], channel, id)
            else { return }
            reply(channel, id, shell.loop.flatSubmit { self.setBlocked(Set(inbound), Set(outbound)) })
        case "heal":
            reply(channel, id, shell.loop.flatSubmit { self.setBlocked([], []) })
        case "snapshot":
            reply(channel, id, shell.snapshotNow().map { SnapshotResult(index: $0.rawValue) })
        case "slow-disk":
            let text = request.delay ?? ""
            let milliseconds = text == "0" || text == "off" ? 0 : DurationText.milliseconds(text)
            guard let milliseconds, milliseconds <= 60_000 else {
                return send(
                    channel, id: id,
                    error: AdminError(
                        code: "bad_request",
                        message: "slow-disk needs \"delay\": a duration up to 60s such as \"500ms\", or \"off\""))
            }
            shell.syncMonitor.delayMilliseconds = milliseconds
            shell.logger.notice("slow-disk: every sync is delayed by \(milliseconds) ms")
            let monitor = shell.syncMonitor
            reply(
                channel, id,
                // Answered from the connection's loop: the node's own loop may be sleeping in a slowed sync.
                channel.eventLoop.makeSucceededFuture(
                    SlowDiskResult(delayMilliseconds: monitor.delayMilliseconds, slowSyncs: monitor.slowSyncs)))
        case "failpoint":
            guard let nameText = request.name else { return reply(channel, id, shell.failpoints()) }
            guard let name = FailpointName(rawValue: nameText) else {
                return send(
                    channel, id: id,
                    error: AdminError(
                        code: "bad_request",
                        message: "unknown failpoint \"\(nameText)\"; known: "
                            + FailpointName.allCases.map(\.rawValue).joined(separator: ", ")))
            }
            let action: FailpointAction?
            switch request.action ?? "" {
            case "off": action = nil
            case "crash": action = .crash
            case "drop": action = .drop
            case "on": action = .on
            case let text where text.hasPrefix("pause:"):
                guard let milliseconds = DurationText.milliseconds(text.dropFirst("pause:".count)),
                    milliseconds <= 60_000
                else { fallthrough }
                action = .pause(milliseconds: milliseconds)
            default:
                return send(
                    channel, id: id,
                    error: AdminError(
                        code: "bad_request",
                        message: "a failpoint's action is crash, pause:DURATION (at most 60s), drop, on or off"))
            }
            if name.isUnsafe && action != nil && !shell.config.allowUnsafeFailpoints {
                return send(
                    channel, id: id,
                    error: AdminError(
                        code: "unsafe_failpoint",
                        message: "\(name.rawValue) breaks linearizability on purpose; start raftd with"
                            + " --allow-unsafe-failpoints to use it"))
            }
            if let action, name.isUnsafe != (action == .on) {
                return send(
                    channel, id: id,
                    error: AdminError(
                        code: "bad_request",
                        message: name.isUnsafe
                            ? "\(name.rawValue) is turned on or off"
                            : "\(name.rawValue) takes crash, pause:DURATION or drop, not \(action)"))
            }
            reply(channel, id, shell.setFailpoint(name, action))
        case "logs":
            streamLogs(request, channel)
        case "entries":
            streamEntries(request, channel)
        case "events":
            streamEvents(request, channel)
        default:
            send(
                channel, id: id,
                error: AdminError(
                    code: "unknown_op",
                    message: "unknown op \"\(request.op)\"; known: \(AdminProtocol.operations.joined(separator: ", "))")
            )
        }
    }

    /// `add-member`, `remove-member`, `promote`: checked here, carried out (on the leader) by the shell.
    private func handleMembership(_ request: AdminRequest, _ channel: Channel) {
        let id = request.id
        guard let node = request.node.flatMap(NodeID.init(parsing:)) else {
            return send(
                channel, id: id,
                error: AdminError(
                    code: "bad_request", message: "\(request.op) needs \"node\": a node id such as \"n4\""))
        }
        switch request.op {
        case "add-member":
            guard let peer = request.peer.flatMap(HostPort.init(parsing:)) else {
                return send(
                    channel, id: id,
                    error: AdminError(code: "bad_request", message: "add-member needs \"peer\": HOST:PORT"))
            }
            var clientURL: String?
            if let client = request.client {
                guard let address = HostPort(parsing: client) else {
                    return send(
                        channel, id: id,
                        error: AdminError(code: "bad_request", message: "\"client\" must be HOST:PORT, not \(client)"))
                }
                clientURL = "http://\(address)"
            }
            var wait = 30_000
            if let text = request.wait {
                guard let milliseconds = DurationText.milliseconds(text) else {
                    return send(
                        channel, id: id,
                        error: AdminError(code: "bad_request", message: "\"wait\" must be a duration like 30s"))
                }
                wait = milliseconds
            }
            reply(
                channel, id,
                shell.addMember(
                    node, peer: peer, clientURL: clientURL, voter: request.voter ?? false, waitMilliseconds: wait))
        case "remove-member":
            reply(channel, id, shell.changeMembership(.remove(node), address: nil, force: request.force ?? false))
        default:
            reply(channel, id, shell.changeMembership(.promote(node), address: nil, force: false))
        }
    }

    private func setBlocked(_ inbound: Set<NodeID>, _ outbound: Set<NodeID>) -> EventLoopFuture<AdminBlocked> {
        shell.setBlocked(inbound: inbound, outbound: outbound).map {
            AdminBlocked(in: inbound.sorted().map(\.description), out: outbound.sorted().map(\.description))
        }
    }

    private func parseNodes(_ names: [String]?, _ channel: Channel, _ id: AdminRequestID?) -> [NodeID]? {
        var nodes: [NodeID] = []
        for name in names ?? [] {
            guard let node = NodeID(parsing: name), shell.knownPeers.withLock({ $0.contains(node) }),
                node != shell.config.nodeID
            else {
                send(
                    channel, id: id,
                    error: AdminError(code: "unknown_node", message: "\(name) is not a peer of this node"))
                return nil
            }
            nodes.append(node)
        }
        return nodes
    }

    // MARK: - Streams

    private func streamLogs(_ request: AdminRequest, _ channel: Channel) {
        let id = request.id
        let last = max(0, min(request.last ?? 100, 10_000))
        if request.follow == true {
            let (backlog, token) = shell.sink.follow(last: last) { line in
                self.sendItem(channel, id, LineItem(line: line))
            }
            channel.eventLoop.execute { self.subscriptions.append(("logs", token)) }
            for line in backlog { sendItem(channel, id, LineItem(line: line)) }
        } else {
            for line in shell.sink.recentLines(last) { sendItem(channel, id, LineItem(line: line)) }
            sendEnd(channel, id)
        }
    }

    private func streamEntries(_ request: AdminRequest, _ channel: Channel) {
        let id = request.id
        let follow = request.follow == true
        let from = LogIndex(max(1, request.from ?? 1))
        let limit = max(1, min(request.limit ?? 1_000, 100_000))
        shell.entries(from: from, limit: limit, follow: follow) { entries in
            for entry in entries { self.sendItem(channel, id, EntryItem(entry: Self.render(entry))) }
        }.hop(to: channel.eventLoop).whenComplete { result in
            switch result {
            case .success(let (backlog, _, token)):
                if let token { self.subscriptions.append(("entries", token)) }
                for entry in backlog { self.sendItem(channel, id, EntryItem(entry: Self.render(entry))) }
                if !follow { self.sendEnd(channel, id) }
            case .failure(let error):
                self.send(channel, id: id, error: AdminError(code: "failed", message: "\(error)"))
            }
        }
    }

    private func streamEvents(_ request: AdminRequest, _ channel: Channel) {
        let id = request.id
        let follow = request.follow == true
        shell.events(follow: follow) { record in
            self.sendItem(channel, id, EventItem(event: Self.render(record)))
        }.hop(to: channel.eventLoop).whenComplete { result in
            switch result {
            case .success(let (backlog, token)):
                if let token { self.subscriptions.append(("events", token)) }
                for record in backlog.suffix(max(0, request.last ?? backlog.count)) {
                    self.sendItem(channel, id, EventItem(event: Self.render(record)))
                }
                if !follow { self.sendEnd(channel, id) }
            case .failure(let error):
                self.send(channel, id: id, error: AdminError(code: "failed", message: "\(error)"))
            }
        }
    }

    static func render(_ record: EventRecord) -> AdminEvent {
        AdminEvent(time: record.time, node: record.node, term: record.term, kind: record.kind, detail: record.detail)
    }

    static func render(_ entry: Entry) -> AdminEntry {
        if entry.kind == .configuration {
            let text = ConfigurationEntry(decoding: entry.data).map { configuration in
                "members voters=" + configuration.membership.voters.map(\.description).joined(separator: ",")
                    + (configuration.membership.learners.isEmpty
                        ? ""
                        : " learners=" + configuration.membership.learners.map(\.description).joined(separator: ","))
            }
            return AdminEntry(
                index: entry.index.rawValue, term: entry.term.rawValue, type: "configuration", command: text)
        }
        guard entry.kind == .command else {
            return AdminEntry(index: entry.index.rawValue, term: entry.term.rawValue, type: "noop", command: nil)
        }
        let text: String
        var idempotencyKey: String?
        if let command = try? KVCommand(decoding: entry.data) {
            idempotencyKey = command.idempotencyKey
            let key = String(decoding: command.key, as: UTF8.self)
            var condition = ""
            switch command.condition {
            case .none: break
            case .previousValue(let previous): condition = " if=\(clip(previous))"
            case .previousExists(let exists): condition = " if-exists=\(exists)"
            }
            switch command.operation {
            case .put: text = "put \(key)=\(clip(command.value))\(condition)"
            case .delete: text = "delete \(key)\(condition)"
            }
        } else {
            text = "undecodable (\(entry.data.count) bytes)"
        }
        return AdminEntry(
            index: entry.index.rawValue, term: entry.term.rawValue, type: "command", command: text,
            idempotencyKey: idempotencyKey)
    }

    private static func clip(_ value: [UInt8]) -> String {
        let text = String(decoding: value.prefix(64), as: UTF8.self)
        return value.count > 64 ? text + "…(\(value.count) bytes)" : text
    }

    static func describe(_ error: any Error) -> String {
        if let decoding = error as? DecodingError {
            switch decoding {
            case .keyNotFound(let key, _): return "missing field \"\(key.stringValue)\""
            case .typeMismatch(_, let context), .valueNotFound(_, let context):
                return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
            case .dataCorrupted: return "malformed JSON"
            @unknown default: return "malformed request"
            }
        }
        return "\(error)"
    }

    // MARK: - Writing

    private struct Ack: Codable, Sendable {}
    private struct SnapshotResult: Codable, Sendable { var index: UInt64 }
    private struct SlowDiskResult: Codable, Sendable {
        var delayMilliseconds: Int
        var slowSyncs: UInt64
    }
    private struct LineItem: Encodable, Sendable { var line: String }
    private struct EntryItem: Encodable, Sendable { var entry: AdminEntry }
    private struct EventItem: Encodable, Sendable { var event: AdminEvent }
    private struct EndItem: Encodable, Sendable { var end = true }

    private struct Envelope<Body: Encodable>: Encodable {
        var v = AdminProtocol.version
        var id: AdminRequestID?
        var ok: Bool
        var result: Body?
        var error: AdminError?
    }

    private struct ItemEnvelope<Body: Encodable>: Encodable {
        var v = AdminProtocol.version
        var id: AdminRequestID?
        var ok = true
        var item: Body

        func encode(to encoder: any Encoder) throws {
            try item.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(v, forKey: .v)
            try container.encodeIfPresent(id, forKey: .id)
            try container.encode(ok, forKey: .ok)
        }

        enum Keys: String, CodingKey { case v, id, ok }
    }

    private func reply<T: Encodable & Sendable>(_ channel: Channel, _ id: AdminRequestID?, _ future: EventLoopFuture<T>)
    {
        future.whenComplete { result in
            switch result {
            case .success(let value):
                self.write(channel, Envelope(id: id, ok: true, result: value, error: nil))
                self.finished(channel)
            case .failure(let error):
                self.send(channel, id: id, error: Self.adminError(error))
            }
        }
    }

    static func adminError(_ error: any Error) -> AdminError {
        switch error {
        case let error as AdminError:
            error
        case let error as RaftError:
            switch error {
            case .noLeader: AdminError(code: "no_leader", message: error.description)
            case .unknownNode: AdminError(code: "unknown_node", message: error.description)
            case .notLeader: AdminError(code: "not_leader", message: error.description)
            case .invalidMembershipChange: AdminError(code: "invalid_change", message: error.description)
            case .membershipChangePending: AdminError(code: "change_pending", message: error.description)
            case .leaderNotReady: AdminError(code: "not_ready", message: error.description)
            case .learnerBehind: AdminError(code: "learner_behind", message: error.description)
            case .wouldLoseQuorum: AdminError(code: "would_lose_quorum", message: error.description)
            case .transferInProgress: AdminError(code: "transfer_in_progress", message: error.description)
            default: AdminError(code: "failed", message: error.description)
            }
        case let error as ClientError:
            AdminError(code: "unavailable", message: "\(error)")
        default:
            AdminError(code: "failed", message: "\(error)")
        }
    }

    /// Answers a request with an error; that request is then done.
    private func send(_ channel: Channel, id: AdminRequestID?, error: AdminError) {
        write(channel, Envelope<Ack>(id: id, ok: false, result: nil, error: error))
        finished(channel)
    }

    /// Ends a stream that does not follow; that request is then done.
    private func sendEnd(_ channel: Channel, _ id: AdminRequestID?) {
        sendItem(channel, id, EndItem())
        finished(channel)
    }

    private func sendItem<T: Encodable>(_ channel: Channel, _ id: AdminRequestID?, _ item: T) {
        write(channel, ItemEnvelope(id: id, item: item))
    }

    private func write<T: Encodable>(_ channel: Channel, _ value: T) {
        guard var data = try? HTTPAPIHandler.jsonEncoder.encode(value) else { return }
        data.append(UInt8(ascii: "\n"))
        var buffer = channel.allocator.buffer(capacity: data.count)
        buffer.writeBytes(data)
        channel.writeAndFlush(buffer, promise: nil)
    }
}
