import Glibc
import Synchronization

/// Watches a node's syncs: how many took longer than the warning threshold, and a delay an operator may inject
/// before each one (`raftctl slow-disk`) to watch what a slow disk does to a cluster.
///
/// Thread-safe: syncs happen on the node's loop and on the snapshot queue; the operator's requests come from the
/// admin socket.
public final class SyncMonitor: Sendable {
    struct State {
        var delayMilliseconds = 0
        var slowSyncs: UInt64 = 0
    }

    private let state = Mutex(State())
    /// A sync that takes longer than this (the injected delay included) counts as slow and is reported.
    public let thresholdMilliseconds: Int
    /// Called, on the thread that synced, with each slow sync: its duration in nanoseconds, the delay injected
    /// into it in milliseconds, and what was synced.
    public typealias Observer = @Sendable (_ nanoseconds: UInt64, _ injectedMilliseconds: Int, _ what: String) -> Void
    private let observer: Observer
    /// Called, on the thread that synced, with the duration in nanoseconds of every sync (for a histogram).
    private let everySync: (@Sendable (_ nanoseconds: UInt64) -> Void)?

    public init(
        thresholdMilliseconds: Int, everySync: (@Sendable (_ nanoseconds: UInt64) -> Void)? = nil,
        observer: @escaping Observer
    ) {
        self.thresholdMilliseconds = thresholdMilliseconds
        self.everySync = everySync
        self.observer = observer
    }

    /// The delay before every sync, in milliseconds (0: none).
    public var delayMilliseconds: Int {
        get { state.withLock { $0.delayMilliseconds } }
        set { state.withLock { $0.delayMilliseconds = max(0, newValue) } }
    }

    /// Syncs slower than the threshold since the node started.
    public var slowSyncs: UInt64 { state.withLock { $0.slowSyncs } }

    /// Runs `sync` after the injected delay, timing both, and reports it if slow.
    func measure(_ what: @autoclosure () -> String, _ sync: () throws(FileSystemError) -> Void)
        throws(FileSystemError)
    {
        let delay = delayMilliseconds
        let start = Self.now()
        if delay > 0 { usleep(UInt32(min(delay, 60_000)) * 1_000) }
        try sync()
        let elapsed = Self.now() - start
        everySync?(elapsed)
        if elapsed > UInt64(thresholdMilliseconds) * 1_000_000 {
            state.withLock { $0.slowSyncs += 1 }
            observer(elapsed, delay, what())
        }
    }

    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}

/// A ``FileSystem`` that passes every call to another and has a ``SyncMonitor`` time (and, on request, delay)
/// every `sync`, `syncData` and `syncDirectory`. A delayed sync still happens: durability is unchanged.
public struct InstrumentedFileSystem: FileSystem {
    let inner: any FileSystem
    public let monitor: SyncMonitor

    public init(_ inner: any FileSystem, monitor: SyncMonitor) {
        self.inner = inner
        self.monitor = monitor
    }

    public func createDirectory(at path: String) throws(FileSystemError) { try inner.createDirectory(at: path) }
    public func contentsOfDirectory(at path: String) throws(FileSystemError) -> [String] {
        try inner.contentsOfDirectory(at: path)
    }
    public func fileExists(at path: String) -> Bool { inner.fileExists(at: path) }
    public func open(_ path: String, options: FileOpenOptions) throws(FileSystemError) -> OpenFile {
        try inner.open(path, options: options)
    }
    public func close(_ file: OpenFile) { inner.close(file) }
    public func size(of file: OpenFile) throws(FileSystemError) -> UInt64 { try inner.size(of: file) }
    public func read(_ file: OpenFile, at offset: UInt64, count: Int) throws(FileSystemError) -> [UInt8] {
        try inner.read(file, at: offset, count: count)
    }
    public func write(_ file: OpenFile, at offset: UInt64, bytes: UnsafeRawBufferPointer) throws(FileSystemError) {
        try inner.write(file, at: offset, bytes: bytes)
    }
    public func sync(_ file: OpenFile) throws(FileSystemError) {
        try monitor.measure("fsync \(file.path)") { () throws(FileSystemError) in try inner.sync(file) }
    }
    public func syncData(_ file: OpenFile) throws(FileSystemError) {
        try monitor.measure("fdatasync \(file.path)") { () throws(FileSystemError) in try inner.syncData(file) }
    }
    public func truncate(_ file: OpenFile, toSizeBytes sizeBytes: UInt64) throws(FileSystemError) {
        try inner.truncate(file, toSizeBytes: sizeBytes)
    }
    public func rename(from source: String, to destination: String) throws(FileSystemError) {
        try inner.rename(from: source, to: destination)
    }
    public func removeFile(at path: String) throws(FileSystemError) { try inner.removeFile(at: path) }
    public func syncDirectory(at path: String) throws(FileSystemError) {
        try monitor.measure("fsync directory \(path)") { () throws(FileSystemError) in
            try inner.syncDirectory(at: path)
        }
    }
    public func lockExclusive(_ file: OpenFile) throws(FileSystemError) { try inner.lockExclusive(file) }
}
