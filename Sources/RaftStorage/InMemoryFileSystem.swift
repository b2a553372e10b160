import Glibc
import Synchronization

/// A fault-injecting file system in memory, for tests and for running the consensus simulation over real
/// storage code without a disk.
///
/// It models what a crash can lose: every file has the bytes the process sees and the bytes that are durable
/// (made so by `sync`/`syncData`); every directory has its visible names and its durable names (made so by
/// `syncDirectory`). ``simulateCrash()`` throws away everything not durable and closes every open file, exactly
/// like `kill -9` followed by a power cut. Directories themselves are durable as soon as they are created.
///
/// Faults are armed with the `inject…` methods and fire on the next matching call. Thread-safe: all state is
/// behind one mutex.
public final class InMemoryFileSystem: FileSystem {
    struct Inode {
        var data: [UInt8] = []
        var durableData: [UInt8] = []
        /// Lowest offset changed since the last sync, or nil. A sync copies only from here, so an append-only log
        /// costs O(bytes written), not O(file size), per sync; `data` and `durableData` never share a buffer,
        /// so a write never triggers a copy-on-write of the whole file.
        var dirtyFromOffset: Int?

        mutating func markDirty(from offset: Int) {
            dirtyFromOffset = min(dirtyFromOffset ?? offset, offset)
        }

        mutating func makeDurable() {
            guard let start = dirtyFromOffset else { return }
            let from = min(start, durableData.count)
            if from < data.count {
                durableData.replaceSubrange(from..<durableData.count, with: data[from...])
            } else {
                durableData.removeLast(durableData.count - data.count)
            }
            dirtyFromOffset = nil
        }
    }

    struct Handle {
        var inode: Int
        var writable: Bool
    }

    struct WriteCut {
        var remainingBytes: Int
        var errno: Int32
        var partialIsDurable: Bool
    }

    struct State {
        var inodes: [Int: Inode] = [:]
        var names: [String: Int] = [:]
        var durableNames: [String: Int] = [:]
        var directories: Set<String> = ["/"]
        var handles: [Int32: Handle] = [:]
        var locks: [Int: Int32] = [:]
        var nextDescriptor: Int32 = 3
        var nextInode = 1
        var writeCut: WriteCut?
        var syncFailure: Int32?
        var capacityBytes: Int?
        var readOnly = false
        var syncCount = 0
    }

    let state = Mutex(State())

    public init() {}

    // MARK: Fault injection and inspection

    /// The next writes may put only `afterBytes` more bytes in total; the write that crosses the limit stores
    /// the bytes up to it and throws `errno`. With `partialIsDurable`, those bytes are also durable, as when
    /// the machine loses power halfway through writing a record: call ``simulateCrash()`` next.
    public func injectWriteCut(afterBytes: Int, errno: Int32 = EIO, partialIsDurable: Bool = true) {
        state.withLock {
            $0.writeCut = WriteCut(remainingBytes: afterBytes, errno: errno, partialIsDurable: partialIsDurable)
        }
    }

    /// The next `sync`/`syncData`/`syncDirectory` throws `errno` and makes nothing durable.
    public func injectSyncFailure(errno: Int32 = EIO) {
        state.withLock { $0.syncFailure = errno }
    }

    /// Limits the total size of all files; a write past it stores what fits and throws `ENOSPC`. Nil: no limit.
    public func setCapacity(bytes: Int?) {
        state.withLock { $0.capacityBytes = bytes }
    }

    /// The total size of all files (visible contents), as ``setCapacity(bytes:)`` counts it.
    public var usedBytes: Int {
        state.withLock { $0.inodes.values.reduce(0) { $0 + $1.data.count } }
    }

    /// While set, every call that would change a file or directory throws `EROFS`.
    public func setReadOnly(_ readOnly: Bool) {
        state.withLock { $0.readOnly = readOnly }
    }

    /// Flips one bit both in what is visible and in what is durable (bit rot on the medium).
    public func flipBit(at path: String, byteOffset: Int, bit: Int = 0) {
        state.withLock { state in
            guard let inode = state.names[path] else { preconditionFailure("flipBit: no file \(path)") }
            state.inodes[inode]!.data[byteOffset] ^= UInt8(1 << bit)
            if byteOffset < state.inodes[inode]!.durableData.count {
                state.inodes[inode]!.durableData[byteOffset] ^= UInt8(1 << bit)
            }
        }
    }

    /// Drops everything that was not made durable and closes every open file (and with them all locks).
    public func simulateCrash() {
        state.withLock { state in
            state.names = state.durableNames
            let live = Set(state.names.values)
            state.inodes = state.inodes.filter { live.contains($0.key) }
            for key in state.inodes.keys.sorted() {
                // A fresh buffer: sharing one with `durableData` would make the next write copy the whole file.
                state.inodes[key]!.data = Self.separateCopy(state.inodes[key]!.durableData)
                state.inodes[key]!.dirtyFromOffset = nil
            }
            state.handles = [:]
            state.locks = [:]
            state.writeCut = nil
            state.syncFailure = nil
        }
    }

    /// `kill -9` without a power cut: every open file is closed (and with them all locks) but nothing is lost,
    /// since the kernel's page cache still holds what the process wrote. Injected faults are cleared.
    public func simulateProcessCrash() {
        state.withLock { state in
            state.handles = [:]
            state.locks = [:]
            state.writeCut = nil
            state.syncFailure = nil
        }
    }

    /// Like ``simulateCrash()``, but each file keeps a random part of its unsynced changes: the bytes before a random
    /// offset in the changed region reached the medium, the rest did not — a torn write, as a real disk leaves it
    /// after losing power mid-flush. Directory entries still survive only if synced.
    public func simulateCrash(tearingUnsyncedWritesWith generator: inout some RandomNumberGenerator) {
        state.withLock { state in
            for key in state.inodes.keys.sorted() {
                guard let from = state.inodes[key]!.dirtyFromOffset else { continue }
                let data = state.inodes[key]!.data
                let start = min(from, data.count)
                let cut = Int.random(in: start...data.count, using: &generator)
                var survived = state.inodes[key]!.durableData
                if survived.count < cut {
                    survived.append(contentsOf: repeatElement(0, count: cut - survived.count))
                }
                survived.replaceSubrange(start..<cut, with: data[start..<cut])
                state.inodes[key]!.durableData = survived
            }
        }
        simulateCrash()
    }

    /// Like ``simulateCrash()``, but each 4 KiB page of a file's unsynced changes independently reached the medium
    /// or not, as when the kernel's writeback flushed some dirty pages and not others before the power failed.
    /// A file ends where its last page that reached the medium ends (or at its durable size, if larger); bytes of
    /// it that never reached the medium read as zeros.
    public func simulateCrash(losingPagesWith generator: inout some RandomNumberGenerator) {
        let pageBytes = 4096
        state.withLock { state in
            for key in state.inodes.keys.sorted() {
                guard let from = state.inodes[key]!.dirtyFromOffset else { continue }
                let data = state.inodes[key]!.data
                var survived = state.inodes[key]!.durableData
                var page = (min(from, data.count) / pageBytes) * pageBytes
                while page < data.count {
                    let end = min(data.count, page + pageBytes)
                    if Bool.random(using: &generator) {
                        if survived.count < end {
                            survived.append(contentsOf: repeatElement(0, count: end - survived.count))
                        }
                        let start = max(page, from)
                        survived.replaceSubrange(start..<end, with: data[start..<end])
                    }
                    page = end
                }
                state.inodes[key]!.durableData = survived
            }
        }
        simulateCrash()
    }

    /// The bytes the process currently sees in a file, or nil when it does not exist.
    public func contents(of path: String) -> [UInt8]? {
        state.withLock { state in state.names[path].map { state.inodes[$0]!.data } }
    }

    /// Replaces a file's contents, durably (for tests that craft files).
    public func setContents(of path: String, to bytes: [UInt8]) {
        state.withLock { state in
            let inode = state.names[path] ?? Self.newInode(&state)
            state.names[path] = inode
            state.durableNames[path] = inode
            state.inodes[inode] = Inode(data: Self.separateCopy(bytes), durableData: bytes)
        }
    }

    /// How many `sync`, `syncData` and `syncDirectory` calls succeeded.
    public var syncCount: Int { state.withLock { $0.syncCount } }

    // MARK: FileSystem

    /// A copy in its own buffer (a plain assignment would share storage until the first write copies it all).
    private static func separateCopy(_ bytes: [UInt8]) -> [UInt8] {
        var copy: [UInt8] = []
        copy.reserveCapacity(bytes.count + 4096)
        copy.append(contentsOf: bytes)
        return copy
    }

    private static func newInode(_ state: inout State) -> Int {
        let inode = state.nextInode
        state.nextInode += 1
        state.inodes[inode] = Inode()
        return inode
    }

    private static func handle(_ state: State, _ file: OpenFile, _ operation: String) throws(FileSystemError) -> Handle
    {
        guard let handle = state.handles[file.descriptor], state.inodes[handle.inode] != nil else {
            throw FileSystemError(operation: operation, path: file.path, errno: EBADF)
        }
        return handle
    }

    private static func checkWritable(_ state: State, _ operation: String, _ path: String) throws(FileSystemError) {
        if state.readOnly { throw FileSystemError(operation: operation, path: path, errno: EROFS) }
    }

    public func createDirectory(at path: String) throws(FileSystemError) {
        try state.withLock { state throws(FileSystemError) in
            var prefix = ""
            for component in path.split(separator: "/") {
                prefix += "/" + component
                if state.directories.contains(prefix) { continue }
                if state.names[prefix] != nil {
                    throw FileSystemError(operation: "mkdir", path: prefix, errno: EEXIST)
                }
                try Self.checkWritable(state, "mkdir", prefix)
                state.directories.insert(prefix)
            }
        }
    }

    public func contentsOfDirectory(at path: String) throws(FileSystemError) -> [String] {
        try state.withLock { state throws(FileSystemError) in
            let directory = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
            guard state.directories.contains(directory) else {
                throw FileSystemError(operation: "opendir", path: path, errno: ENOENT)
            }
            let files = state.names.keys.filter { parentDirectory(of: $0) == directory }
            let subdirectories = state.directories.filter { $0 != "/" && parentDirectory(of: $0) == directory }
            return (files + subdirectories).map { String($0.split(separator: "/").last!) }
        }
    }

    public func fileExists(at path: String) -> Bool {
        state.withLock { $0.names[path] != nil || $0.directories.contains(path) }
    }

    public func open(_ path: String, options: FileOpenOptions) throws(FileSystemError) -> OpenFile {
        try state.withLock { state throws(FileSystemError) in
            if options.writable { try Self.checkWritable(state, "open", path) }
            var inode = state.names[path]
            if inode != nil && options.create && options.exclusive {
                throw FileSystemError(operation: "open", path: path, errno: EEXIST)
            }
            if inode == nil {
                guard options.create else { throw FileSystemError(operation: "open", path: path, errno: ENOENT) }
                guard state.directories.contains(parentDirectory(of: path)) else {
                    throw FileSystemError(operation: "open", path: path, errno: ENOENT)
                }
                inode = Self.newInode(&state)
                state.names[path] = inode
            }
            if options.truncate {
                state.inodes[inode!]!.data.removeAll(keepingCapacity: true)
                state.inodes[inode!]!.markDirty(from: 0)
            }
            let descriptor = state.nextDescriptor
            state.nextDescriptor += 1
            state.handles[descriptor] = Handle(inode: inode!, writable: options.writable)
            return OpenFile(descriptor: descriptor, path: path)
        }
    }

    public func close(_ file: OpenFile) {
        state.withLock { state in
            guard let handle = state.handles.removeValue(forKey: file.descriptor) else { return }
            if state.locks[handle.inode] == file.descriptor { state.locks[handle.inode] = nil }
        }
    }

    public func size(of file: OpenFile) throws(FileSystemError) -> UInt64 {
        try state.withLock { state throws(FileSystemError) in
            let handle = try Self.handle(state, file, "fstat")
            return UInt64(state.inodes[handle.inode]!.data.count)
        }
    }

    public func read(_ file: OpenFile, at offset: UInt64, count: Int) throws(FileSystemError) -> [UInt8] {
        try state.withLock { state throws(FileSystemError) in
            let handle = try Self.handle(state, file, "pread")
            let data = state.inodes[handle.inode]!.data
            let start = min(Int(offset), data.count)
            let end = min(start + count, data.count)
            return Array(data[start..<end])
        }
    }

    public func write(_ file: OpenFile, at offset: UInt64, bytes: UnsafeRawBufferPointer) throws(FileSystemError) {
        try state.withLock { state throws(FileSystemError) in
            let handle = try Self.handle(state, file, "pwrite")
            guard handle.writable else { throw FileSystemError(operation: "pwrite", path: file.path, errno: EBADF) }
            try Self.checkWritable(state, "pwrite", file.path)
            var allowedBytes = bytes.count
            var failure: Int32?
            var partialIsDurable = false
            if var cut = state.writeCut {
                if cut.remainingBytes < bytes.count {
                    allowedBytes = cut.remainingBytes
                    failure = cut.errno
                    partialIsDurable = cut.partialIsDurable
                    state.writeCut = nil
                } else {
                    cut.remainingBytes -= bytes.count
                    state.writeCut = cut
                }
            }
            if let capacity = state.capacityBytes {
                let usedBytes = state.inodes.values.reduce(0) { $0 + $1.data.count }
                let current = state.inodes[handle.inode]!.data.count
                let growthBytes = max(0, Int(offset) + allowedBytes - current)
                if usedBytes + growthBytes > capacity {
                    let fitBytes = max(0, capacity - usedBytes + max(0, current - Int(offset)))
                    allowedBytes = min(allowedBytes, fitBytes)
                    failure = ENOSPC
                    partialIsDurable = false
                }
            }
            let stored = UnsafeRawBufferPointer(rebasing: bytes[0..<allowedBytes])
            // Mutate in place through the dictionary: copying the inode out would copy the whole file.
            Self.store(&state.inodes[handle.inode]!.data, offset: Int(offset), bytes: stored)
            state.inodes[handle.inode]!.markDirty(from: Int(offset))
            if partialIsDurable {
                Self.store(&state.inodes[handle.inode]!.durableData, offset: Int(offset), bytes: stored)
            }
            if let failure { throw FileSystemError(operation: "pwrite", path: file.path, errno: failure) }
        }
    }

    private static func store(_ data: inout [UInt8], offset: Int, bytes: UnsafeRawBufferPointer) {
        if data.count < offset + bytes.count {
            data.append(contentsOf: repeatElement(0, count: offset + bytes.count - data.count))
        }
        data.withUnsafeMutableBytes { target in
            if bytes.count > 0 {
                (target.baseAddress! + offset).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            }
        }
    }

    private func syncFile(_ file: OpenFile, operation: String) throws(FileSystemError) {
        try state.withLock { state throws(FileSystemError) in
            let handle = try Self.handle(state, file, operation)
            if let code = state.syncFailure {
                state.syncFailure = nil
                throw FileSystemError(operation: operation, path: file.path, errno: code)
            }
            state.inodes[handle.inode]!.makeDurable()
            state.syncCount += 1
        }
    }

    public func sync(_ file: OpenFile) throws(FileSystemError) {
        try syncFile(file, operation: "fsync")
    }

    public func syncData(_ file: OpenFile) throws(FileSystemError) {
        try syncFile(file, operation: "fdatasync")
    }

    public func truncate(_ file: OpenFile, toSizeBytes sizeBytes: UInt64) throws(FileSystemError) {
        try state.withLock { state throws(FileSystemError) in
            let handle = try Self.handle(state, file, "ftruncate")
            try Self.checkWritable(state, "ftruncate", file.path)
            let count = state.inodes[handle.inode]!.data.count
            if count > Int(sizeBytes) {
                state.inodes[handle.inode]!.data.removeLast(count - Int(sizeBytes))
            } else {
                state.inodes[handle.inode]!.data.append(contentsOf: repeatElement(0, count: Int(sizeBytes) - count))
            }
            state.inodes[handle.inode]!.markDirty(from: min(count, Int(sizeBytes)))
        }
    }

    public func rename(from source: String, to destination: String) throws(FileSystemError) {
        try state.withLock { state throws(FileSystemError) in
            try Self.checkWritable(state, "rename", source)
            guard let inode = state.names.removeValue(forKey: source) else {
                throw FileSystemError(operation: "rename to \(destination)", path: source, errno: ENOENT)
            }
            state.names[destination] = inode
        }
    }

    public func removeFile(at path: String) throws(FileSystemError) {
        try state.withLock { state throws(FileSystemError) in
            try Self.checkWritable(state, "unlink", path)
            guard state.names.removeValue(forKey: path) != nil else {
                throw FileSystemError(operation: "unlink", path: path, errno: ENOENT)
            }
        }
    }

    public func syncDirectory(at path: String) throws(FileSystemError) {
        try state.withLock { state throws(FileSystemError) in
            if let code = state.syncFailure {
                state.syncFailure = nil
                throw FileSystemError(operation: "fsync", path: path, errno: code)
            }
            let directory = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
            for name in Set(state.names.keys).union(state.durableNames.keys)
            where parentDirectory(of: name) == directory {
                state.durableNames[name] = state.names[name]
            }
            state.syncCount += 1
        }
    }

    public func lockExclusive(_ file: OpenFile) throws(FileSystemError) {
        try state.withLock { state throws(FileSystemError) in
            let handle = try Self.handle(state, file, "flock")
            if let holder = state.locks[handle.inode], holder != file.descriptor {
                throw FileSystemError(operation: "flock", path: file.path, errno: EWOULDBLOCK)
            }
            state.locks[handle.inode] = file.descriptor
        }
    }
}
