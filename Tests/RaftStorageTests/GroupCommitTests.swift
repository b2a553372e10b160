import Glibc
import RaftCore
import RaftStorage
import Testing

/// Delegates to an in-memory file system but makes every data sync take `syncDelayMicroseconds`, like a disk,
/// so that concurrent writers really do pile up behind a sync.
final class SlowSyncFileSystem: FileSystem {
    let base: InMemoryFileSystem
    let syncDelayMicroseconds: UInt32

    init(base: InMemoryFileSystem, syncDelayMicroseconds: UInt32) {
        self.base = base
        self.syncDelayMicroseconds = syncDelayMicroseconds
    }

    func createDirectory(at path: String) throws(FileSystemError) { try base.createDirectory(at: path) }
    func contentsOfDirectory(at path: String) throws(FileSystemError) -> [String] {
        try base.contentsOfDirectory(at: path)
    }
    func fileExists(at path: String) -> Bool { base.fileExists(at: path) }
    func open(_ path: String, options: FileOpenOptions) throws(FileSystemError) -> OpenFile {
        try base.open(path, options: options)
    }
    func close(_ file: OpenFile) { base.close(file) }
    func size(of file: OpenFile) throws(FileSystemError) -> UInt64 { try base.size(of: file) }
    func read(_ file: OpenFile, at offset: UInt64, count: Int) throws(FileSystemError) -> [UInt8] {
        try base.read(file, at: offset, count: count)
    }
    func write(_ file: OpenFile, at offset: UInt64, bytes: UnsafeRawBufferPointer) throws(FileSystemError) {
        try base.write(file, at: offset, bytes: bytes)
    }
    func sync(_ file: OpenFile) throws(FileSystemError) { try base.sync(file) }
    func syncData(_ file: OpenFile) throws(FileSystemError) {
        usleep(syncDelayMicroseconds)
        try base.syncData(file)
    }
    func truncate(_ file: OpenFile, toSizeBytes sizeBytes: UInt64) throws(FileSystemError) {
        try base.truncate(file, toSizeBytes: sizeBytes)
    }
    func rename(from source: String, to destination: String) throws(FileSystemError) {
        try base.rename(from: source, to: destination)
    }
    func removeFile(at path: String) throws(FileSystemError) { try base.removeFile(at: path) }
    func syncDirectory(at path: String) throws(FileSystemError) { try base.syncDirectory(at: path) }
    func lockExclusive(_ file: OpenFile) throws(FileSystemError) { try base.lockExclusive(file) }
}

@Suite("Group commit")
struct GroupCommitTests {
    @Test func concurrentWritersShareSyncsAndEveryReleasedEntryIsDurable() async throws {
        let memory = InMemoryFileSystem()
        let fileSystem = SlowSyncFileSystem(base: memory, syncDelayMicroseconds: 2_000)
        let storage = try NodeStorage(options: options(), fileSystem: fileSystem)
        let log = GroupCommitLog(storage: storage)
        let writerCount = 64
        let perWriter = 10
        let indexes = try await withThrowingTaskGroup(of: [LogIndex].self) { group in
            for writer in 0..<writerCount {
                group.addTask {
                    var mine: [LogIndex] = []
                    for _ in 0..<perWriter {
                        mine.append(try await log.append(term: 1, data: Array("w\(writer)".utf8)))
                    }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let statistics = log.statistics
        log.close()
        let total = writerCount * perWriter
        #expect(Set(indexes) == Set((1...total).map { LogIndex(UInt64($0)) }))
        #expect(statistics.entryCount == total)
        // 640 entries from 64 writers that each wait for their previous entry: without sharing, 640 syncs.
        #expect(statistics.flushCount <= total / 4, "flushes: \(statistics.flushCount)")
        memory.simulateCrash()
        let reopened = try NodeStorage(options: options(), fileSystem: memory)
        #expect(reopened.recovery.state.entries.map(\.index) == (1...total).map { LogIndex(UInt64($0)) })
    }

    @Test func failedSyncReleasesNoWriterAsDurable() async throws {
        let memory = InMemoryFileSystem()
        let storage = try NodeStorage(options: options(), fileSystem: memory)
        let log = GroupCommitLog(storage: storage)
        let first = try await log.append(term: 1, data: [1])
        #expect(first == 1)
        memory.injectSyncFailure(errno: EIO)
        await #expect(throws: StorageError.self) { try await log.append(term: 1, data: [2]) }
        let later = await #expect(throws: StorageError.self) { try await log.append(term: 1, data: [3]) }
        #expect(later?.description.contains("EIO") == true)
        log.close()
        memory.simulateCrash()
        let reopened = try NodeStorage(options: options(), fileSystem: memory)
        #expect(reopened.recovery.state.entries.map(\.index) == [1])
    }

    @Test func appendAfterCloseIsRefused() async throws {
        let log = GroupCommitLog(storage: try NodeStorage(options: options(), fileSystem: InMemoryFileSystem()))
        log.close()
        let error = await #expect(throws: StorageError.self) { try await log.append(term: 1, data: []) }
        #expect(error == .closed)
    }
}
