import Logging
import NIOCore
import NIOPosix
import RaftCore
import RaftStorage
import RaftWire

/// A decoded peer frame and its size on the wire (length prefix included), for the received-bytes metric.
struct ReceivedFrame: Equatable {
    var frame: PeerFrame
    var wireBytes: Int
}

/// Splits a TCP stream into peer frames, refusing oversized or malformed ones (which closes the connection).
///
/// Not swift-nio-extras' `LengthFieldBasedFrameDecoder`: that one refuses only lengths past `Int32.max` and waits
/// for any smaller frame to arrive in full, so an HTTP client aimed at the peer port by mistake ("GET " reads as
/// a 1.2 GB length) would hang instead of being refused at once, as it is here.
struct PeerFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ReceivedFrame
    let codec: PeerFrameCodec

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        guard length >= 1, Int(length) <= codec.maxFrameBytes else {
            throw WireError.tooLarge(what: "frame", size: Int(length), limit: codec.maxFrameBytes)
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        let body = buffer.readBytes(length: Int(length))!
        let frame = try codec.decodeFrame(body[...])
        context.fireChannelRead(Self.wrapInboundOut(ReceivedFrame(frame: frame, wireBytes: 4 + Int(length))))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Accepts one peer's inbound connection: checks the handshake (version, cluster, sender, receiver), then passes
/// each message to the node. Anything wrong closes this connection and is logged; the node carries on.
final class PeerInboundHandler: ChannelInboundHandler, @unchecked Sendable {
    // `@unchecked Sendable`: NIO calls a handler only on its channel's event loop; `peer` is confined there.
    typealias InboundIn = ReceivedFrame

    let shell: NodeShell
    let logger: Logger
    private var peer: NodeID?
    /// Stages this connection's snapshot transfers on disk (made at the first chunk).
    private var snapshots: SnapshotReceiver?

    init(shell: NodeShell, logger: Logger) {
        self.shell = shell
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let received = unwrapInboundIn(data)
        if let peer { shell.metrics.peer(peer).receivedBytes.increment(by: received.wireBytes) }
        switch (received.frame, peer) {
        case (.handshake(let handshake), nil):
            let config = shell.config
            var problem: String?
            if handshake.version != Handshake.currentVersion {
                problem = "protocol version \(handshake.version), expected \(Handshake.currentVersion)"
            } else if handshake.clusterID != config.clusterID {
                problem = "cluster \(handshake.clusterID), this node belongs to \(config.clusterID)"
            } else if handshake.to != config.nodeID {
                problem = "addressed to \(handshake.to), this is \(config.nodeID)"
            } else if !shell.knownPeers.withLock({ $0.contains(handshake.from) }) || handshake.from == config.nodeID {
                problem = "unknown node \(handshake.from)"
            }
            if let problem {
                refuse(context, "handshake refused from \(remote(context)): \(problem)")
                return
            }
            peer = handshake.from
        case (.message(let message), let peer?):
            guard message.from == peer, message.to == shell.config.nodeID else {
                refuse(context, "message \(message.from)->\(message.to) on the connection from \(peer)")
                return
            }
            shell.receive(message)
        case (.snapshotChunk(let chunk), let peer?):
            guard chunk.from == peer, chunk.to == shell.config.nodeID else {
                refuse(context, "snapshot chunk \(chunk.from)->\(chunk.to) on the connection from \(peer)")
                return
            }
            if snapshots == nil {
                snapshots = SnapshotReceiver(shell: shell, logger: logger, eventLoop: context.eventLoop)
            }
            snapshots!.receive(chunk, channel: context.channel)
        case (.health(let health), let peer?):
            guard health.from == peer, health.to == shell.config.nodeID else {
                refuse(context, "health report \(health.from)->\(health.to) on the connection from \(peer)")
                return
            }
            shell.healthReported(health)
        case (.probe(let probe), let peer?):
            guard probe.from == peer, probe.to == shell.config.nodeID else {
                refuse(context, "probe \(probe.from)->\(probe.to) on the connection from \(peer)")
                return
            }
            shell.probeReceived(probe)
        case (.message, nil), (.snapshotChunk, nil), (.health, nil), (.probe, nil):
            refuse(context, "message before handshake from \(remote(context))")
        case (.handshake, _?):
            refuse(context, "second handshake from \(remote(context))")
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        snapshots?.abandon("the connection closed")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        refuse(context, "bad frame from \(peer?.description ?? remote(context)): \(error)")
    }

    private func refuse(_ context: ChannelHandlerContext, _ reason: String) {
        logger.warning("peer connection closed: \(reason)")
        context.close(promise: nil)
    }

    private func remote(_ context: ChannelHandlerContext) -> String {
        context.remoteAddress?.description ?? "unknown address"
    }
}

/// Discards anything a peer sends on our outbound connection (the protocol is one-way per connection) and
/// reports when the other side closes it.
final class OutboundWatcher: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Outbound connections to every peer: one TCP connection each, opened with a handshake, re-dialled with
/// backoff, with a bounded queue while disconnected (a dead peer never makes the leader grow without bound;
/// Raft retransmits whatever is dropped).
///
/// `@unchecked Sendable`: `links` is touched only on the shell's loop; NIO channels are safe to write from any
/// thread.
final class PeerTransport: @unchecked Sendable {
    let group: EventLoopGroup
    let shell: NodeShell
    let codec: PeerFrameCodec
    let logger: Logger
    private var links: [NodeID: Link] = [:]
    private var closed = false
    /// `start()` ran: links added later are dialled at once.
    private var started = false

    static let maxQueuedBytes = 16 << 20
    static let maxQueuedFrames = 4_096

    final class Link {
        let peer: NodeID
        var address: HostPort
        var channel: Channel?
        var connecting = false
        var queue: [ByteBuffer] = []
        var queuedBytes = 0
        var backoffMilliseconds: Int64 = 20
        /// The last connection was closed by the other side; the next failed dial reports the peer lost.
        var closedByPeer = false
        var everConnected = false
        var droppedFrames = 0
        /// The snapshot transfer in progress to this peer (one at a time).
        var snapshot: SnapshotSender?
        let metrics: NodeMetrics.PeerInstruments?

        init(peer: NodeID, address: HostPort, metrics: NodeMetrics.PeerInstruments?) {
            self.peer = peer
            self.address = address
            self.metrics = metrics
        }
    }

    init(group: EventLoopGroup, shell: NodeShell, codec: PeerFrameCodec, logger: Logger) {
        self.group = group
        self.shell = shell
        self.codec = codec
        self.logger = logger
        for (id, address) in shell.addressBook where id != shell.config.nodeID {
            links[id] = Link(peer: id, address: address, metrics: shell.metrics.peer(id))
        }
    }

    func start() {
        shell.loop.execute {
            self.started = true
            for id in self.links.keys.sorted() { self.dial(id) }
        }
    }

    func close() -> EventLoopFuture<Void> {
        shell.loop.flatSubmit {
            self.closed = true
            let channels = self.links.values.compactMap(\.channel)
            let futures = channels.map { $0.close().recover { _ in } }
            return EventLoopFuture.andAllComplete(futures, on: self.shell.loop)
        }
    }

    /// A member added (or moved) by a membership change: a link to its address, dialled now. On the loop.
    func setAddress(_ address: HostPort, of peer: NodeID) {
        if let link = links[peer] {
            guard link.address != address else { return }
            link.address = address
            forget(peer)
            return
        }
        links[peer] = Link(peer: peer, address: address, metrics: shell.metrics.peer(peer))
        if started { dial(peer) }
    }

    /// Drops what is queued for `peer` and closes its connection: it left the membership, or a new node took its
    /// id. Frames meant for the old member must never reach the new one (a heartbeat carrying what the old one
    /// acknowledged would make the new one halt as a member that lost its data). On the loop.
    func forget(_ peer: NodeID) {
        guard let link = links[peer] else { return }
        link.queue.removeAll()
        link.queuedBytes = 0
        link.snapshot?.cancel("\(peer) left the membership")
        link.channel?.close(promise: nil)
    }

    func connectedPeers() -> Set<NodeID> {
        Set(links.values.filter { $0.channel != nil }.map(\.peer))
    }

    /// Sends messages, coalescing each peer's frames into one write. Called on the shell's loop.
    func send(_ messages: [Message]) {
        guard !messages.isEmpty, !closed else { return }
        var buffers: [NodeID: ByteBuffer] = [:]
        for message in messages {
            guard let link = links[message.to] else {
                if case .installSnapshot = message.body { shell.snapshotSendFinished(to: message.to, sent: false) }
                continue
            }
            if case .installSnapshot(let snapshot) = message.body {
                // After this message's frames (none yet in this batch) come the file's chunks.
                if let buffer = buffers.removeValue(forKey: message.to) { write(buffer, on: link) }
                startSnapshot(snapshot.metadata, message, on: link)
                continue
            }
            let frame = codec.encode(.message(message))
            if frame.count >= Self.coalescedFrameLimit {
                // A large AppendEntries goes in a buffer of its own, allocated to its size: appended to the
                // batch, it would make the batch's buffer grow by doubling, and a follower catching up gets up to
                // `maxInflightBytes` of them in one Ready.
                if let buffer = buffers.removeValue(forKey: message.to) { write(buffer, on: link) }
                var own = ByteBuffer()
                own.reserveCapacity(frame.count)
                own.writeBytes(frame)
                write(own, on: link)
                continue
            }
            buffers[message.to, default: ByteBuffer()].writeBytes(frame)
        }
        for (peer, buffer) in buffers { write(buffer, on: links[peer]!) }
    }

    /// Frames at least this large are not coalesced with the others of their batch.
    static let coalescedFrameLimit = 64 << 10

    private func write(_ buffer: ByteBuffer, on link: Link) {
        if let channel = link.channel {
            if channel.isWritable {
                link.metrics?.sentBytes.increment(by: buffer.readableBytes)
                channel.writeAndFlush(buffer, promise: nil)
            } else {
                link.droppedFrames += 1
                link.metrics?.sentFailures.increment()
            }
        } else {
            enqueue(buffer, on: link)
        }
    }

    /// Streams the snapshot file for `metadata` to the peer (``SnapshotSender``). Not queued while disconnected:
    /// the core sends it again once the peer answers. One transfer per peer: while one is in progress the core
    /// is still waiting for its report, and a second send is ignored.
    private func startSnapshot(_ metadata: SnapshotMetadata, _ message: Message, on link: Link) {
        if let current = link.snapshot, !current.finished { return }
        guard let channel = link.channel, channel.isWritable else {
            link.droppedFrames += 1
            shell.snapshotSendFinished(to: link.peer, sent: false)
            return
        }
        let reader: SnapshotChunkReader
        do {
            reader = try SnapshotChunkReader(
                path: shell.snapshotFilePath(for: metadata), chunkSizeBytes: Self.snapshotChunkBytes)
        } catch {
            logger.warning("cannot send the snapshot at \(metadata.index) to \(link.peer): \(error)")
            shell.snapshotSendFinished(to: link.peer, sent: false)
            return
        }
        let sender = SnapshotSender(
            message: message, metadata: metadata, reader: reader, channel: channel, codec: codec, shell: shell
        ) { [weak link] sender in
            link?.metrics?.sentBytes.increment(by: sender.sentBytes)
            if link?.snapshot === sender { link?.snapshot = nil }
        }
        link.snapshot = sender
        sender.pump()
    }

    /// Sends a round-trip probe (request or reply), best effort like health reports. Called on the shell's loop.
    func sendProbe(_ probe: Probe) {
        guard !closed, let link = links[probe.to], let channel = link.channel, channel.isWritable else { return }
        let frame = codec.encode(.probe(probe))
        var buffer = channel.allocator.buffer(capacity: frame.count)
        buffer.writeBytes(frame)
        link.metrics?.sentBytes.increment(by: frame.count)
        channel.writeAndFlush(buffer, promise: nil)
    }

    /// Sends this node's health report to every peer it may talk to (not across a cut), best effort: a report is
    /// dropped rather than queued behind a backlog. Called on the shell's loop.
    func sendHealth(_ make: (NodeID) -> NodeHealth, skipping blocked: Set<NodeID>) {
        guard !closed else { return }
        for (peer, link) in links where !blocked.contains(peer) {
            guard let channel = link.channel, channel.isWritable else { continue }
            var buffer = channel.allocator.buffer(capacity: 64)
            buffer.writeBytes(codec.encode(.health(make(peer))))
            link.metrics?.sentBytes.increment(by: buffer.readableBytes)
            channel.writeAndFlush(buffer, promise: nil)
        }
    }

    /// Snapshot files travel in chunk frames of this size, read from disk one at a time.
    static let snapshotChunkBytes = 1 << 20

    private func enqueue(_ buffer: ByteBuffer, on link: Link) {
        link.queue.append(buffer)
        link.queuedBytes += buffer.readableBytes
        while link.queuedBytes > Self.maxQueuedBytes || link.queue.count > Self.maxQueuedFrames {
            let dropped = link.queue.removeFirst()
            link.queuedBytes -= dropped.readableBytes
            link.droppedFrames += 1
            link.metrics?.sentFailures.increment()
        }
    }

    private func dial(_ peer: NodeID) {
        guard !closed, let link = links[peer], link.channel == nil, !link.connecting else { return }
        link.connecting = true
        let handshake = codec.encode(
            .handshake(Handshake(clusterID: shell.config.clusterID, from: shell.config.nodeID, to: peer)))
        ClientBootstrap(group: group)
            .connectTimeout(.milliseconds(500))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            // Frames are dropped only past the high mark: NIO's 64 KiB default dropped heartbeats under load and
            // cost the cluster its leader. 16 MiB per peer is the memory bound for a slow or dead peer.
            .channelOption(
                .writeBufferWaterMark,
                value: ChannelOptions.Types.WriteBufferWaterMark(low: 4 << 20, high: Self.maxQueuedBytes)
            )
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(OutboundWatcher())
                }
            }
            .connect(host: link.address.host, port: link.address.port)
            .whenComplete { result in
                self.shell.loop.execute { self.dialed(peer, result, handshake: handshake) }
            }
    }

    private func dialed(_ peer: NodeID, _ result: Result<Channel, any Error>, handshake: [UInt8]) {
        guard let link = links[peer] else { return }
        link.connecting = false
        switch result {
        case .success(let channel):
            if closed {
                channel.close(promise: nil)
                return
            }
            link.channel = channel
            link.closedByPeer = false
            link.backoffMilliseconds = 20
            if !link.everConnected || link.droppedFrames > 0 {
                logger.info("connected to \(peer) at \(link.address)")
            }
            link.everConnected = true
            var buffer = channel.allocator.buffer(capacity: handshake.count + link.queuedBytes)
            buffer.writeBytes(handshake)
            for queued in link.queue { buffer.writeImmutableBuffer(queued) }
            link.metrics?.sentBytes.increment(by: link.queuedBytes)
            link.queue.removeAll()
            link.queuedBytes = 0
            channel.writeAndFlush(buffer, promise: nil)
            channel.closeFuture.whenComplete { _ in
                self.shell.loop.execute { self.connectionClosed(peer, channel) }
            }
        case .failure(let error):
            if link.closedByPeer {
                // The peer closed its end and refuses new connections: its process is gone, not just slow.
                link.closedByPeer = false
                shell.peerConnectionLost(peer)
                logger.info("\(peer) at \(link.address) is unreachable after closing its connection: \(error)")
            }
            let delay = link.backoffMilliseconds
            link.backoffMilliseconds = min(1_000, link.backoffMilliseconds * 2)
            shell.loop.scheduleTask(in: .milliseconds(delay)) { self.dial(peer) }
        }
    }

    private func connectionClosed(_ peer: NodeID, _ channel: Channel) {
        guard let link = links[peer], link.channel === channel else { return }
        link.channel = nil
        guard !closed else { return }
        logger.info("connection to \(peer) closed; reconnecting")
        link.closedByPeer = true
        dial(peer)
    }
}
