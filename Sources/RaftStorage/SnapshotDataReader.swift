import RaftCore

/// Reads the data of a snapshot file in chunks, verifying the file as it goes, so that restoring a state machine
/// from a snapshot of any size holds one chunk of the file at a time.
///
/// The header is parsed (and the cluster id and file length checked) when the reader is made; the checksum covers
/// the whole file and so can only be checked after the last data byte: ``nextChunk()`` throws instead of returning
/// the end when it does not match. A consumer must therefore treat what it built from the chunks as provisional
/// until ``nextChunk()`` returned nil (``KVStore`` builds a new store and swaps it in only then).
public final class SnapshotDataReader {
    public let path: String
    public let metadata: SnapshotMetadata
    /// Length of the state machine's data (the file minus header and trailer).
    public let dataLengthBytes: UInt64
    public let chunkSizeBytes: Int
    /// Data bytes handed out so far.
    public private(set) var dataOffsetBytes: UInt64 = 0
    private let fileSystem: any FileSystem
    private let headerBytes: UInt64
    private var file: OpenFile?
    private var runningCRC: UInt32

    /// Opens `path` and checks its header, cluster id and length.
    public init(
        path: String, clusterID: ClusterID, chunkSizeBytes: Int = 1 << 20,
        fileSystem: any FileSystem = PosixFileSystem()
    ) throws {
        precondition(chunkSizeBytes > 0, "chunkSizeBytes must be positive")
        self.path = path
        self.chunkSizeBytes = chunkSizeBytes
        self.fileSystem = fileSystem
        let file: OpenFile
        do {
            file = try fileSystem.open(path, options: .readOnly)
        } catch {
            throw NodeStorage.storageError(error)
        }
        do {
            let size = try fileSystem.size(of: file)
            var prefixLength = Int(min(size, 64 * 1024))
            var prefix = try fileSystem.read(file, at: 0, count: prefixLength)
            var parsed = try SnapshotFormat.parseHeader(prefix, path: path)
            while parsed == nil && UInt64(prefixLength) < min(size, UInt64(SnapshotFormat.maxHeaderBytes)) {
                prefixLength = Int(min(size, UInt64(SnapshotFormat.maxHeaderBytes)))
                prefix = try fileSystem.read(file, at: 0, count: prefixLength)
                parsed = try SnapshotFormat.parseHeader(prefix, path: path)
            }
            guard let header = parsed else {
                throw StorageError.corrupt(
                    path: path, byteOffset: size, reason: "snapshot file truncated inside its header")
            }
            let expectedBytes =
                UInt64(header.headerBytes).addingReportingOverflow(header.dataLengthBytes).partialValue
                + UInt64(SnapshotFormat.trailerBytes)
            guard size == expectedBytes, header.dataLengthBytes < size else {
                throw StorageError.corrupt(
                    path: path, byteOffset: size,
                    reason: "snapshot file is \(size) bytes, its header says \(expectedBytes)")
            }
            guard header.clusterID == clusterID else {
                throw StorageError.foreignDirectory(
                    path: path, reason: "snapshot belongs to cluster \(header.clusterID), expected \(clusterID)")
            }
            metadata = header.metadata
            dataLengthBytes = header.dataLengthBytes
            headerBytes = UInt64(header.headerBytes)
            runningCRC = prefix.withUnsafeBytes {
                CRC32C.update(0, UnsafeRawBufferPointer(rebasing: $0[0..<header.headerBytes]))
            }
            self.file = file
        } catch {
            fileSystem.close(file)
            throw NodeStorage.storageError(error)
        }
    }

    deinit {
        if let file { fileSystem.close(file) }
    }

    /// The next piece of the data, or nil once all of it was read and the checksum matched. Throws
    /// ``StorageError/corrupt(path:byteOffset:reason:)`` naming the trailer's offset when it does not match.
    public func nextChunk() throws -> [UInt8]? {
        guard let file else { return nil }
        do {
            if dataOffsetBytes == dataLengthBytes {
                let trailerOffset = headerBytes + dataLengthBytes
                let trailer = try fileSystem.read(file, at: trailerOffset, count: SnapshotFormat.trailerBytes)
                fileSystem.close(file)
                self.file = nil
                guard trailer.count == SnapshotFormat.trailerBytes,
                    trailer.loadLittleEndian(at: 0, as: UInt32.self) == runningCRC
                else {
                    throw StorageError.corrupt(
                        path: path, byteOffset: trailerOffset, reason: "snapshot checksum mismatch")
                }
                return nil
            }
            let count = Int(min(UInt64(chunkSizeBytes), dataLengthBytes - dataOffsetBytes))
            let bytes = try fileSystem.read(file, at: headerBytes + dataOffsetBytes, count: count)
            guard bytes.count == count else {
                throw StorageError.corrupt(
                    path: path, byteOffset: headerBytes + dataOffsetBytes + UInt64(bytes.count),
                    reason: "snapshot file shrank while being read")
            }
            runningCRC = bytes.withUnsafeBytes { CRC32C.update(runningCRC, $0) }
            dataOffsetBytes += UInt64(count)
            return bytes
        } catch {
            if let open = self.file {
                fileSystem.close(open)
                self.file = nil
            }
            throw NodeStorage.storageError(error)
        }
    }

    /// Reads the rest of the data, verifying it; returns how many data bytes there were in all.
    @discardableResult
    public func verifyRest() throws -> UInt64 {
        while try nextChunk() != nil {}
        return dataLengthBytes
    }
}
