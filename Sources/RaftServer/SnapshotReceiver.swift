import Dispatch
import Logging
import NIOCore
import RaftCore
import RaftStorage
import RaftWire
import Synchronization

/// Receives one peer connection's snapshot transfers into the data directory, a chunk at a time, through a
/// ``SnapshotStager``: the file is written and synced on a serial queue (never on an event loop), verified, and
/// renamed into place before the node hears of it (``NodeShell/receiveStagedSnapshot(_:)``). A crash of either side
/// leaves at most a `.tmp` file, which recovery deletes: a partial snapshot is never installed.
///
/// Memory is bounded by `maxQueuedChunks` chunks: past that the connection stops reading (TCP then slows the
/// sender) until the disk catches up.
///
/// The channel-facing state is confined to the connection's event loop; the stager to the queue.
final class SnapshotReceiver: @unchecked Sendable {
    // `@unchecked Sendable`: `transfer`, `expectedOffset` and `pending` are touched only on `eventLoop`; a staged
    // transfer's stager only on `queue` (inside `Staging`). The two meet only through `execute`/`async` hops.
    private let shell: NodeShell
    private let logger: Logger
    private let eventLoop: EventLoop
    private let queue: DispatchQueue
    private var transfer: Staging?
    private var expectedOffset: UInt64 = 0
    private var pending = 0
    private var readingPaused = false
    private static let sequence = Mutex<UInt64>(0)

    static let maxQueuedChunks = 4

    /// The stager of one transfer, touched only on the receiver's queue.
    final class Staging: @unchecked Sendable {
        // `@unchecked Sendable`: `stager` and `failure` are used only on the receiver's serial queue.
        let first: SnapshotChunk
        var stager: SnapshotStager?
        var failure: String?

        init(first: SnapshotChunk) { self.first = first }
    }

    init(shell: NodeShell, logger: Logger, eventLoop: EventLoop) {
        self.shell = shell
        self.logger = logger
        self.eventLoop = eventLoop
        self.queue = DispatchQueue(label: "raftd.snapshot-receive")
    }

    /// Takes the next chunk from the connection (on its event loop).
    func receive(_ chunk: SnapshotChunk, channel: Channel) {
        if chunk.offsetBytes == 0 {
            abandon(nil)
            let staging = Staging(first: chunk)
            let name = Self.sequence.withLock { value in
                value += 1
                return "incoming-snapshot-\(chunk.from.rawValue)-\(value).tmp"
            }
            let config = shell.config
            queue.async {
                do {
                    staging.stager = try SnapshotStager(
                        directory: config.dataDirectory, clusterID: config.clusterID, syncPolicy: config.syncPolicy,
                        temporaryName: name)
                } catch {
                    staging.failure = "cannot create the staging file: \(error)"
                }
            }
            transfer = staging
            expectedOffset = 0
        }
        guard let staging = transfer else { return }
        let first = staging.first
        guard chunk.metadata == first.metadata, chunk.term == first.term, chunk.totalBytes == first.totalBytes,
            chunk.offsetBytes == expectedOffset
        else {
            return abandon("chunk at \(chunk.offsetBytes) from \(chunk.from) out of order")
        }
        expectedOffset += UInt64(chunk.bytes.count)
        let isLast = chunk.isLast
        if isLast { transfer = nil }
        pending += 1
        if pending >= Self.maxQueuedChunks && !readingPaused {
            readingPaused = true
            channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
        }
        queue.async { [self] in
            var installed: SnapshotMetadata?
            if staging.failure == nil, let stager = staging.stager {
                do {
                    try stager.receive(offsetBytes: chunk.offsetBytes, bytes: chunk.bytes)
                    if isLast { installed = try stager.finish() }
                } catch {
                    staging.failure = "\(error)"
                    stager.abort()
                }
            }
            let failure = isLast ? staging.failure : nil
            let staged = installed
            eventLoop.execute { [self] in
                pending -= 1
                if readingPaused && pending < Self.maxQueuedChunks / 2 {
                    readingPaused = false
                    channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
                }
                if let failure {
                    logger.warning(
                        "snapshot transfer from \(first.from) dropped",
                        metadata: ["index": "\(first.metadata.index)", "reason": "\(failure)"])
                }
                guard let installed = staged else { return }
                shell.receiveStagedSnapshot(
                    Message(
                        from: first.from, to: first.to, term: first.term,
                        body: .installSnapshot(Snapshot(metadata: installed, data: []))))
            }
        }
    }

    /// Drops the transfer in progress, if any, and its staging file (the connection closed, or a new transfer
    /// started, or a chunk came out of order). On the event loop.
    func abandon(_ reason: String?) {
        guard let staging = transfer else { return }
        transfer = nil
        if let reason { logger.warning("snapshot transfer from \(staging.first.from) dropped: \(reason)") }
        queue.async {
            staging.stager?.abort()
            staging.stager = nil
            staging.failure = staging.failure ?? "abandoned"
        }
    }
}
