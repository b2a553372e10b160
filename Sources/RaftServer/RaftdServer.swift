import Dispatch
import Glibc
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import RaftCore
import RaftStorage
import RaftWire
import Synchronization

/// One running raftd: storage opened and locked, the peer, client and admin listeners bound, the core ticking.
///
/// ``start(_:)`` either returns a running server or throws a ``StartupError`` that says what is wrong (port in
/// use, socket path too long, data directory locked or of another node or cluster) after releasing what it took.
public final class RaftdServer: Sendable {
    let shell: NodeShell
    let transport: PeerTransport
    /// The runtime's thread: the runtime, its peer and client sockets and its timers. See ``start(_:)``.
    let group: MultiThreadedEventLoopGroup
    /// The admin socket's thread: an operator's `slow-disk off` must be answered while the runtime's loop sleeps
    /// in a slowed sync.
    let adminGroup: MultiThreadedEventLoopGroup
    let channels: [Channel]
    let logger: Logger
    let socketPath: String
    private let stoppedPromise: EventLoopPromise<Void>

    public var nodeID: NodeID { shell.config.nodeID }

    private init(
        shell: NodeShell, transport: PeerTransport, group: MultiThreadedEventLoopGroup,
        adminGroup: MultiThreadedEventLoopGroup, channels: [Channel], logger: Logger, socketPath: String
    ) {
        self.shell = shell
        self.transport = transport
        self.group = group
        self.adminGroup = adminGroup
        self.channels = channels
        self.logger = logger
        self.socketPath = socketPath
        self.stoppedPromise = group.next().makePromise(of: Void.self)
    }

    public static func start(_ config: NodeConfiguration, echoLogToStderr: Bool = true) throws -> RaftdServer {
        if let problem = config.validate() { throw StartupError(problem) }
        if mkdir(config.dataDirectory, 0o700) != 0 && errno != EEXIST {
            throw StartupError(
                "cannot create the data directory \(config.dataDirectory): \(String(cString: strerror(errno)))")
        }
        chmod(config.dataDirectory, 0o700)
        let sink = LogSink(
            nodeID: config.nodeID, filePath: NodeConfiguration.join(config.dataDirectory, "raftd.log"),
            echoToStderr: echoLogToStderr)
        var logger = Logger(label: "raftd") { _ in
            SinkLogHandler(sink: sink, level: Logger.Level(rawValue: config.logLevel) ?? .info)
        }
        logger.logLevel = Logger.Level(rawValue: config.logLevel) ?? .info

        // The monitor exists before the shell it reports to: slow syncs during recovery are only logged.
        let shellForReports = Mutex<NodeShell?>(nil)
        let recoveryLogger = logger
        let metrics = NodeMetrics(peers: config.peers.keys.filter { $0 != config.nodeID }.sorted())
        let fsyncDuration = metrics.walFsyncDuration
        let monitor = SyncMonitor(
            thresholdMilliseconds: config.slowSyncWarningMilliseconds,
            everySync: { fsyncDuration.recordNanoseconds(Int64(clamping: $0)) }
        ) { nanoseconds, injected, what in
            if let shell = shellForReports.withLock({ $0 }) {
                shell.slowSync(nanoseconds: nanoseconds, injectedMilliseconds: injected, what: what)
            } else {
                recoveryLogger.warning("slow sync: \(what) took \(NodeShell.seconds(nanoseconds)) during recovery")
            }
        }
        let marker = NodeConfiguration.join(config.dataDirectory, NodeConfiguration.haltedMarkerName)
        if access(marker, F_OK) == 0 {
            let fd = open(marker, O_RDONLY | O_CLOEXEC)
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = fd >= 0 ? buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } : 0
            if fd >= 0 { close(fd) }
            let reason = String(decoding: buffer[0..<max(0, count)], as: UTF8.self).split(separator: "\n").first ?? ""
            throw StartupError("refusing to start: \(reason)", exitStatus: NodeConfiguration.lostDataExitStatus)
        }
        let storage: NodeStorage
        do {
            storage = try NodeStorage(
                options: config.storageOptions, fileSystem: InstrumentedFileSystem(PosixFileSystem(), monitor: monitor))
        } catch let error as StorageError {
            var status: Int32 = 1
            if case .io = error { status = NodeConfiguration.storageFailureExitStatus }
            throw StartupError("cannot open the data directory \(config.dataDirectory): \(error)", exitStatus: status)
        } catch {
            throw StartupError("cannot open the data directory \(config.dataDirectory): \(error)")
        }
        // The peer and client sockets live on the runtime's own loop. With a second loop for them, every request
        // and every peer message crossed threads twice (a task, a promise and often a wake-up each way): measured
        // on a 3-node cluster on two cores, one loop cut the CPU per PUT from 57 to 48 µs and per linearizable GET
        // from 43-54 to 19-20 µs, and doubled GET throughput at 64 connections. While the loop sleeps in a sync
        // the kernel buffers what arrives; it is read in one go after, which only makes the next batch larger.
        // The admin socket keeps a loop of its own (see `adminGroup`); its requests are few.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let adminGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var channels: [Channel] = []
        func cleanUp() {
            for channel in channels { try? channel.close().wait() }
            storage.close()
            try? adminGroup.syncShutdownGracefully()
            try? group.syncShutdownGracefully()
        }
        let shell: NodeShell
        do {
            shell = try NodeShell(
                loop: group.next(), config: config, storage: storage, sink: sink, logger: logger,
                syncMonitor: monitor, metrics: metrics)
            shellForReports.withLock { $0 = shell }
        } catch {
            cleanUp()
            throw error
        }
        let codec = PeerFrameCodec(maxFrameBytes: max(64 << 20, config.maxValueBytes * 2 + (1 << 20)))
        let transport = PeerTransport(group: group, shell: shell, codec: codec, logger: logger)
        shell.transport = transport
        do {
            channels.append(try bindPeer(config, group, shell, codec, logger))
            channels.append(try bindClient(config, group, shell))
            channels.append(try bindAdmin(config, adminGroup, shell))
        } catch {
            cleanUp()
            throw error
        }
        let server = RaftdServer(
            shell: shell, transport: transport, group: group, adminGroup: adminGroup, channels: channels,
            logger: logger, socketPath: config.adminSocketPath)
        shell.start()
        transport.start()
        logger.notice(
            "raftd ready",
            metadata: [
                "cluster": "\(config.clusterID)", "peer": "\(config.peerListen)",
                "client": "http://\(config.clientListen)", "admin": "\(config.adminSocketPath)",
                "fsync": "\(config.syncPolicy)", "pid": "\(getpid())",
            ])
        return server
    }

    private static func describeBindError(_ error: any Error, _ what: String, _ address: String) -> StartupError {
        if let io = error as? IOError, io.errnoCode == EADDRINUSE {
            return StartupError("the \(what) address \(address) is already in use (is another raftd running?)")
        }
        if let io = error as? IOError, io.errnoCode == EACCES {
            return StartupError("no permission to listen on the \(what) address \(address)")
        }
        return StartupError("cannot listen on the \(what) address \(address): \(error)")
    }

    private static func bindPeer(
        _ config: NodeConfiguration, _ group: EventLoopGroup, _ shell: NodeShell, _ codec: PeerFrameCodec,
        _ logger: Logger
    ) throws -> Channel {
        do {
            return try ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(PeerFrameDecoder(codec: codec)))
                        try channel.pipeline.syncOperations.addHandler(PeerInboundHandler(shell: shell, logger: logger))
                    }
                }
                .bind(host: config.peerListen.host, port: config.peerListen.port).wait()
        } catch {
            throw describeBindError(error, "peer", config.peerListen.description)
        }
    }

    private static func bindClient(_ config: NodeConfiguration, _ group: EventLoopGroup, _ shell: NodeShell) throws
        -> Channel
    {
        do {
            return try ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.pipeline.configureHTTPServerPipeline(withErrorHandling: false).flatMap {
                        channel.pipeline.addHandler(HTTPAPIHandler(shell: shell))
                    }
                }
                .bind(host: config.clientListen.host, port: config.clientListen.port).wait()
        } catch {
            throw describeBindError(error, "client", config.clientListen.description)
        }
    }

    private static func bindAdmin(_ config: NodeConfiguration, _ group: EventLoopGroup, _ shell: NodeShell) throws
        -> Channel
    {
        let path = config.adminSocketPath
        if access(path, F_OK) == 0 {
            // A socket file is left behind by a node that was killed. Refuse only if something still answers on
            // it; the data-directory lock already keeps two nodes off one directory.
            let probe = try? ClientBootstrap(group: group).connect(unixDomainSocketPath: path).wait()
            if let probe {
                try? probe.close().wait()
                throw StartupError("the admin socket \(path) is in use by a running process")
            }
            unlink(path)
        }
        do {
            let channel = try ServerBootstrap(group: group)
                // `echo REQUEST | socat - UNIX-CONNECT:…` shuts its side first; answer before closing ours.
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try AdminHandler.addLineDecoder(to: channel.pipeline.syncOperations)
                        try channel.pipeline.syncOperations.addHandler(AdminHandler(shell: shell))
                    }
                }
                .bind(unixDomainSocketPath: path).wait()
            chmod(path, 0o600)
            return channel
        } catch {
            throw StartupError("cannot listen on the admin socket \(path): \(error)")
        }
    }

    /// Graceful stop: a leader hands over leadership first; then listeners close, storage closes (releasing the
    /// directory lock) and the admin socket file is removed.
    public func shutdown() {
        logger.notice("shutting down")
        shell.shutdown().whenComplete { _ in
            let closes = self.channels.map { $0.close().recover { _ in } } + [self.transport.close()]
            EventLoopFuture.andAllComplete(closes, on: self.group.next()).whenComplete { _ in
                unlink(self.socketPath)
                self.logger.notice("stopped")
                self.stoppedPromise.succeed(())
            }
        }
    }

    /// Blocks until ``shutdown()`` finished.
    public func waitUntilStopped() {
        try? stoppedPromise.futureResult.wait()
        try? adminGroup.syncShutdownGracefully()
        try? group.syncShutdownGracefully()
    }

    /// Runs until SIGTERM or SIGINT, then shuts down gracefully.
    public func runUntilSignalled() {
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        let queue = DispatchQueue(label: "raftd.signals")
        let sources = [SIGTERM, SIGINT].map { DispatchSource.makeSignalSource(signal: $0, queue: queue) }
        for source in sources {
            source.setEventHandler { [self] in
                for source in sources { source.cancel() }
                self.shutdown()
            }
            source.resume()
        }
        waitUntilStopped()
    }
}
