import Glibc
import RaftCore
import RaftStorage
import Testing

/// A fresh directory under /tmp, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init(_ label: String) {
        var template = Array("/tmp/raft-storage-\(label)-XXXXXX".utf8CString)
        let result = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(result != nil, "mkdtemp failed: \(errno)")
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func remove() {
        let fileSystem = PosixFileSystem()
        func removeTree(_ path: String) {
            for name in (try? fileSystem.contentsOfDirectory(at: path)) ?? [] {
                let child = path + "/" + name
                if unlink(child) != 0 { removeTree(child) }
            }
            rmdir(path)
        }
        removeTree(path)
    }
}

@Suite("Real file system")
struct PosixFileSystemTests {
    @Test func roundTripOnDiskWithOwnerOnlyPermissions() throws {
        let temporary = TemporaryDirectory("roundtrip")
        defer { temporary.remove() }
        let directory = temporary.path + "/data/n1"
        let diskOptions = options(directory: directory, segmentSizeBytes: 4096)
        do {
            let storage = try NodeStorage(options: diskOptions)
            try storage.save(hardState: HardState(term: 3, vote: 1, commit: 0), entries: makeEntries(1...100))
            try storage.saveSnapshot(snapshot(at: 60, term: 1))
            storage.close()
        }
        let reopened = try NodeStorage(options: diskOptions)
        #expect(reopened.recovery.state.entries == makeEntries(61...100))
        #expect(reopened.recovery.state.hardState == HardState(term: 3, vote: 1, commit: 0))
        // Recovery keeps the metadata; the bytes stay in the verified file.
        #expect(reopened.recovery.state.snapshot?.metadata == (snapshot(at: 60, term: 1)).metadata)
        #expect(try reopened.loadNewestSnapshot() == snapshot(at: 60, term: 1))
        var status = stat()
        #expect(stat(directory, &status) == 0)
        #expect(status.st_mode & 0o777 == 0o700)
        for name in try PosixFileSystem().contentsOfDirectory(at: directory) {
            #expect(stat(directory + "/" + name, &status) == 0)
            #expect(status.st_mode & 0o777 == 0o600, "\(name)")
        }
    }

    @Test func secondOpenOfALockedDirectoryFailsNamingTheHolderPID() throws {
        let temporary = TemporaryDirectory("lock")
        defer { temporary.remove() }
        let first = try NodeStorage(options: options(directory: temporary.path))
        let error = #expect(throws: StorageError.self) { try NodeStorage(options: options(directory: temporary.path)) }
        #expect(error == .locked(directory: temporary.path, holderPID: getpid()))
        #expect(error?.description.contains("process \(getpid())") == true)
        first.close()
        #expect(throws: Never.self) { try NodeStorage(options: options(directory: temporary.path)) }
    }
}
