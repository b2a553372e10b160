import Glibc
import Logging
import RaftCore
import RaftText
import Synchronization

/// Where a node's log lines go: stderr, `<data-dir>/raftd.log`, and an in-memory ring of recent lines that
/// the admin socket serves (`logs`, with follow). One line per event: UTC timestamp, level, node id, the
/// node's current term, message and metadata.
///
/// Thread-safe: all mutable state sits behind one `Mutex`; the current term is an atomic the node updates.
public final class LogSink: Sendable {
    public let nodeID: NodeID
    private let term = Atomic<UInt64>(0)
    private let state: Mutex<State>

    struct State {
        var fileDescriptor: Int32
        var ring: [String] = []
        var ringHead = 0
        var subscribers: [UInt64: @Sendable (String) -> Void] = [:]
        var nextSubscriber: UInt64 = 0
        var echoToStderr: Bool
    }

    static let ringCapacity = 2_000

    /// Opens (appending) `path` for the log file; with nil, lines go only to stderr and the ring.
    public init(nodeID: NodeID, filePath: String?, echoToStderr: Bool = true) {
        self.nodeID = nodeID
        var fd: Int32 = -1
        if let filePath {
            fd = open(filePath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        }
        state = Mutex(State(fileDescriptor: fd, echoToStderr: echoToStderr))
    }

    deinit {
        state.withLock { if $0.fileDescriptor >= 0 { close($0.fileDescriptor) } }
    }

    public func setTerm(_ newTerm: Term) {
        term.store(newTerm.rawValue, ordering: .relaxed)
    }

    public func write(level: Logger.Level, message: String, metadata: Logger.Metadata) {
        var line =
            "\(Self.timestamp()) \(level.rawValue.uppercased()) \(nodeID) t\(term.load(ordering: .relaxed)) \(message)"
        for key in metadata.keys.sorted() { line += " \(key)=\(metadata[key]!)" }
        let subscribers = state.withLock { state -> [@Sendable (String) -> Void] in
            let bytes = Array((line + "\n").utf8)
            if state.echoToStderr { bytes.withUnsafeBytes { _ = Glibc.write(2, $0.baseAddress, $0.count) } }
            if state.fileDescriptor >= 0 {
                bytes.withUnsafeBytes { _ = Glibc.write(state.fileDescriptor, $0.baseAddress, $0.count) }
            }
            if state.ring.count < Self.ringCapacity {
                state.ring.append(line)
            } else {
                state.ring[state.ringHead] = line
                state.ringHead = (state.ringHead + 1) % Self.ringCapacity
            }
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber(line) }
    }

    /// The last `count` lines, oldest first.
    public func recentLines(_ count: Int) -> [String] {
        state.withLock { state in
            let ordered = Array(state.ring[state.ringHead...] + state.ring[..<state.ringHead])
            return Array(ordered.suffix(max(0, count)))
        }
    }

    /// Atomically returns the last `count` lines and subscribes to every later one (no line lost or repeated).
    public func follow(last count: Int, _ handler: @escaping @Sendable (String) -> Void) -> (
        backlog: [String], token: UInt64
    ) {
        state.withLock { state in
            let ordered = Array(state.ring[state.ringHead...] + state.ring[..<state.ringHead])
            let token = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[token] = handler
            return (Array(ordered.suffix(max(0, count))), token)
        }
    }

    public func unsubscribe(_ token: UInt64) {
        _ = state.withLock { $0.subscribers.removeValue(forKey: token) }
    }

    /// `2026-11-21T23:20:01.123Z`
    static func timestamp() -> String { UTCTimestamp.now() }
}

/// A swift-log handler that writes to a ``LogSink``.
public struct SinkLogHandler: LogHandler {
    public let sink: LogSink
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level

    public init(sink: LogSink, level: Logger.Level) {
        self.sink = sink
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        sink.write(level: event.level, message: "\(event.message)", metadata: merged)
    }
}
