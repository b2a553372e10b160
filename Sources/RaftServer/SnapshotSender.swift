import NIOCore
import RaftCore
import RaftStorage
import RaftWire

/// Streams one snapshot file to one follower: reads a chunk from disk, writes it as a frame, and reads the next
/// only when a write completed, so at most `chunksInFlight` chunks are in memory however large the snapshot is
/// (TCP's own flow control paces the writes). Reports the end to the core through the shell: sent when the last
/// byte reached the socket, not sent when a read or a write failed or the transfer was cancelled.
///
/// Confined to the shell's loop (the transport's); NIO's writes complete on the channel's loop and hop back.
final class SnapshotSender: @unchecked Sendable {
    // `@unchecked Sendable`: every property is touched on the shell's loop only; the write completions that run on
    // the channel's loop capture it just to hop back there (`shell.loop.execute`) before touching anything.
    let peer: NodeID
    let message: Message
    let metadata: SnapshotMetadata
    private let reader: SnapshotChunkReader
    private let channel: Channel
    private let codec: PeerFrameCodec
    private let shell: NodeShell
    private let onEnd: (SnapshotSender) -> Void
    private var inFlight = 0
    private var readAll = false
    private(set) var finished = false
    /// Frame bytes handed to the channel.
    private(set) var sentBytes = 0

    static let chunksInFlight = 2

    init(
        message: Message, metadata: SnapshotMetadata, reader: SnapshotChunkReader, channel: Channel,
        codec: PeerFrameCodec, shell: NodeShell, onEnd: @escaping (SnapshotSender) -> Void
    ) {
        self.peer = message.to
        self.message = message
        self.metadata = metadata
        self.reader = reader
        self.channel = channel
        self.codec = codec
        self.shell = shell
        self.onEnd = onEnd
    }

    /// Writes chunks until `chunksInFlight` are outstanding or the file is read.
    func pump() {
        while !finished && !readAll && inFlight < Self.chunksInFlight {
            let next: (offsetBytes: UInt64, bytes: [UInt8])?
            do {
                next = try reader.nextChunk()
            } catch {
                return finish(sent: false, "reading \(reader.path) failed: \(error)")
            }
            guard let (offset, bytes) = next else {
                readAll = true
                break
            }
            let chunk = SnapshotChunk(
                from: message.from, to: message.to, term: message.term, metadata: metadata,
                totalBytes: reader.totalBytes, offsetBytes: offset, checksum: 0, bytes: bytes)
            let frame = codec.encode(.snapshotChunk(chunk))
            var buffer = channel.allocator.buffer(capacity: frame.count)
            buffer.writeBytes(frame)
            inFlight += 1
            sentBytes += frame.count
            let promise = channel.eventLoop.makePromise(of: Void.self)
            channel.writeAndFlush(buffer, promise: promise)
            promise.futureResult.whenComplete { [self] result in
                shell.loop.execute { self.written(result) }
            }
        }
        if readAll && inFlight == 0 { finish(sent: true, nil) }
    }

    private func written(_ result: Result<Void, any Error>) {
        inFlight -= 1
        guard !finished else { return }
        if case .failure(let error) = result { return finish(sent: false, "write failed: \(error)") }
        pump()
    }

    /// Stops the transfer (the link was dropped); the core hears it was not sent.
    func cancel(_ reason: String) {
        finish(sent: false, reason)
    }

    private func finish(sent: Bool, _ problem: String?) {
        guard !finished else { return }
        finished = true
        if let problem {
            shell.logger.warning(
                "snapshot transfer to \(peer) stopped",
                metadata: ["index": "\(metadata.index)", "reason": "\(problem)"])
        }
        shell.snapshotSendFinished(to: peer, sent: sent)
        onEnd(self)
    }
}
