import Synchronization
import Testing

@testable import RaftStorage

@Suite("InstrumentedFileSystem: slow syncs counted, delays injected")
struct InstrumentedFileSystemTests {
    final class Reports: Sendable {
        let seen = Mutex<[(UInt64, Int, String)]>([])
    }

    func make(threshold: Int) throws -> (InstrumentedFileSystem, Reports, OpenFile) {
        let reports = Reports()
        let monitor = SyncMonitor(thresholdMilliseconds: threshold) { nanoseconds, injected, what in
            reports.seen.withLock { $0.append((nanoseconds, injected, what)) }
        }
        let fileSystem = InstrumentedFileSystem(InMemoryFileSystem(), monitor: monitor)
        try fileSystem.createDirectory(at: "/d")
        let file = try fileSystem.open("/d/f", options: .createOrOpen)
        try fileSystem.write(file, at: 0, bytes: [1, 2, 3])
        return (fileSystem, reports, file)
    }

    @Test("syncs under the threshold are neither counted nor reported; the data still becomes durable")
    func fastSyncs() throws {
        let (fileSystem, reports, file) = try make(threshold: 60_000)
        try fileSystem.syncData(file)
        try fileSystem.sync(file)
        try fileSystem.syncDirectory(at: "/d")
        #expect(fileSystem.monitor.slowSyncs == 0)
        #expect(reports.seen.withLock { $0.isEmpty })
        #expect(try fileSystem.read(file, at: 0, count: 3) == [1, 2, 3])
    }

    @Test("an injected delay makes every kind of sync slow, and the report says how much was injected")
    func injectedDelay() throws {
        let (fileSystem, reports, file) = try make(threshold: 10)
        fileSystem.monitor.delayMilliseconds = 30
        try fileSystem.syncData(file)
        try fileSystem.sync(file)
        try fileSystem.syncDirectory(at: "/d")
        #expect(fileSystem.monitor.slowSyncs == 3)
        let seen = reports.seen.withLock { $0 }
        #expect(seen.map(\.1) == [30, 30, 30])
        #expect(seen.allSatisfy { $0.0 >= 30_000_000 })
        #expect(seen.map(\.2) == ["fdatasync /d/f", "fsync /d/f", "fsync directory /d"])
        fileSystem.monitor.delayMilliseconds = -5
        #expect(fileSystem.monitor.delayMilliseconds == 0)
    }
}
