import RaftCore

/// Reads a snapshot file in fixed-size chunks for sending to a follower, so a transfer never holds more than one
/// chunk in memory. The chunks are the file's raw bytes, checksum trailer included; ``SnapshotStager`` verifies
/// them on the receiving side.
public final class SnapshotChunkReader {
    public let path: String
    public let chunkSizeBytes: Int
    /// The file's total size; the sum of all chunks.
    public let totalBytes: UInt64
    /// Bytes handed out so far; the offset of the next chunk.
    public private(set) var offsetBytes: UInt64 = 0
    private let fileSystem: any FileSystem
    private var file: OpenFile?

    public init(path: String, chunkSizeBytes: Int, fileSystem: any FileSystem = PosixFileSystem()) throws {
        precondition(chunkSizeBytes > 0, "chunkSizeBytes must be positive")
        self.path = path
        self.chunkSizeBytes = chunkSizeBytes
        self.fileSystem = fileSystem
        do {
            let file = try fileSystem.open(path, options: .readOnly)
            self.file = file
            totalBytes = try fileSystem.size(of: file)
        } catch {
            if let file { fileSystem.close(file) }
            throw NodeStorage.storageError(error)
        }
    }

    deinit {
        if let file { fileSystem.close(file) }
    }

    /// The next chunk with its offset in the file, or nil after the last one.
    public func nextChunk() throws -> (offsetBytes: UInt64, bytes: [UInt8])? {
        guard let file, offsetBytes < totalBytes else { return nil }
        let count = Int(min(UInt64(chunkSizeBytes), totalBytes - offsetBytes))
        let bytes: [UInt8]
        do {
            bytes = try fileSystem.read(file, at: offsetBytes, count: count)
        } catch {
            throw StorageError.io(error)
        }
        guard bytes.count == count else {
            throw StorageError.snapshotTransfer(reason: "\(path) shrank while being read at offset \(offsetBytes)")
        }
        defer { offsetBytes += UInt64(count) }
        return (offsetBytes, bytes)
    }
}

/// Receives a snapshot file chunk by chunk on a follower, into a temporary file in the data directory, and
/// installs it under its final name only after the whole file verified (checksum, cluster id, length).
///
/// Each transfer stages into its own temporary file (`temporaryName`; give concurrent transfers distinct names).
/// Two transfers of the same snapshot both end in the same verified file, so a race between them is harmless.
///
/// Invariants: chunks must arrive in order without gaps (``receive(offsetBytes:bytes:)`` checks the offset); at
/// most one chunk is held in memory; an unverified file never carries a snapshot name, and recovery deletes
/// leftover temporary files. After ``finish()`` hand the returned metadata to the core; when the core's `Ready`
/// carries that snapshot, ``NodeStorage/save(hardState:snapshot:entries:)`` finds the file already in place.
public final class SnapshotStager {
    public let directory: String
    public let clusterID: ClusterID
    public let syncPolicy: SyncPolicy
    private let fileSystem: any FileSystem
    private let temporaryPath: String
    private var file: OpenFile?
    public private(set) var receivedBytes: UInt64 = 0
    /// CRC of all received bytes except the last four, which may be the trailer.
    private var runningCRC: UInt32 = 0
    private var heldBack: [UInt8] = []

    public static let temporaryName = "incoming-snapshot.tmp"

    /// Bytes written between two data syncs of the temporary file, so that a large transfer never leaves a long
    /// backlog of dirty pages for one final sync (on ext4 that backlog would stall the log's own small syncs).
    static let syncEveryBytes: UInt64 = 4 << 20
    private var unsyncedBytes: UInt64 = 0

    /// `temporaryName` must end in `.tmp` (recovery deletes such files: what a crash interrupted).
    public init(
        directory: String, clusterID: ClusterID, syncPolicy: SyncPolicy = .always,
        fileSystem: any FileSystem = PosixFileSystem(), temporaryName: String = SnapshotStager.temporaryName
    ) throws {
        precondition(temporaryName.hasSuffix(".tmp"), "a staging file's name must end in .tmp")
        self.directory = directory
        self.clusterID = clusterID
        self.syncPolicy = syncPolicy
        self.fileSystem = fileSystem
        temporaryPath = joinPath(directory, temporaryName)
        do {
            file = try fileSystem.open(temporaryPath, options: .createOrTruncate)
        } catch {
            throw StorageError.io(error)
        }
    }

    deinit {
        abort()
    }

    /// Appends the chunk that starts at `offsetBytes`, which must equal ``receivedBytes``.
    public func receive(offsetBytes: UInt64, bytes: [UInt8]) throws {
        guard let file else { throw StorageError.closed }
        guard offsetBytes == receivedBytes else {
            throw StorageError.snapshotTransfer(
                reason: "chunk at offset \(offsetBytes), expected offset \(receivedBytes) (chunks must arrive in order)"
            )
        }
        do {
            try fileSystem.write(file, at: offsetBytes, bytes: bytes)
        } catch {
            throw StorageError.io(error)
        }
        receivedBytes += UInt64(bytes.count)
        unsyncedBytes += UInt64(bytes.count)
        if syncPolicy == .always && unsyncedBytes >= Self.syncEveryBytes {
            unsyncedBytes = 0
            do {
                try fileSystem.syncData(file)
            } catch {
                throw StorageError.io(error)
            }
        }
        holdBackTrailer(of: bytes)
    }

    /// Adds `bytes` to the running CRC except the last four received, which stay in `heldBack` (the trailer, if
    /// nothing follows). A chunk of four bytes or more is checked where it lies, not copied.
    private func holdBackTrailer(of bytes: [UInt8]) {
        guard bytes.count >= 4 else {
            heldBack.append(contentsOf: bytes)
            let checkedCount = heldBack.count - min(4, heldBack.count)
            runningCRC = heldBack.withUnsafeBytes {
                CRC32C.update(runningCRC, UnsafeRawBufferPointer(rebasing: $0[0..<checkedCount]))
            }
            heldBack.removeFirst(checkedCount)
            return
        }
        // Whatever was held back is followed by at least four more bytes: none of it is the trailer.
        runningCRC = heldBack.withUnsafeBytes { CRC32C.update(runningCRC, $0) }
        runningCRC = bytes.withUnsafeBytes {
            CRC32C.update(runningCRC, UnsafeRawBufferPointer(rebasing: $0[0..<(bytes.count - 4)]))
        }
        heldBack = Array(bytes[(bytes.count - 4)...])
    }

    /// Verifies the received file and renames it into place (durably). Returns the snapshot's metadata.
    public func finish() throws -> SnapshotMetadata {
        guard let file else { throw StorageError.closed }
        do {
            guard heldBack.count == 4, runningCRC == heldBack.loadLittleEndian(at: 0, as: UInt32.self) else {
                throw StorageError.snapshotTransfer(reason: "checksum mismatch after \(receivedBytes) bytes")
            }
            let prefix = try fileSystem.read(file, at: 0, count: 64 * 1024)
            guard let header = try SnapshotFormat.parseHeader(prefix, path: temporaryPath) else {
                throw StorageError.snapshotTransfer(reason: "received \(receivedBytes) bytes, too short for a header")
            }
            guard header.clusterID == clusterID else {
                throw StorageError.snapshotTransfer(
                    reason: "snapshot belongs to cluster \(header.clusterID), expected \(clusterID)")
            }
            let expectedBytes = UInt64(header.headerBytes) + header.dataLengthBytes + 4
            guard expectedBytes == receivedBytes else {
                throw StorageError.snapshotTransfer(
                    reason: "received \(receivedBytes) bytes, the header says \(expectedBytes)")
            }
            if syncPolicy == .always { try fileSystem.sync(file) }
            fileSystem.close(file)
            self.file = nil
            let name = SnapshotFormat.fileName(index: header.metadata.index, term: header.metadata.term)
            try fileSystem.rename(from: temporaryPath, to: joinPath(directory, name))
            if syncPolicy == .always { try fileSystem.syncDirectory(at: directory) }
            return header.metadata
        } catch {
            abort()
            throw NodeStorage.storageError(error)
        }
    }

    /// Drops a transfer in progress and its temporary file.
    public func abort() {
        guard let file else { return }
        fileSystem.close(file)
        self.file = nil
        try? fileSystem.removeFile(at: temporaryPath)
    }
}
