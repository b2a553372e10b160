import RaftCore

/// The on-disk layout of a snapshot file. All integers are little-endian.
///
/// File `snap-<index as 16 hex digits>-<term as 16 hex digits>.snap`:
///
///     magic "RAFTSNAP" | version u32 | voter count u32 | cluster id u64 | index u64 | term u64
///     | voters u64 × count | [version 2: learner count u32 | learners u64 × count | context length u32 | context]
///     | data length u64 | data | CRC-32C of every byte before it u32
///
/// Version 1 is written when there are no learners and no configuration context (so earlier builds read it),
/// version 2 otherwise.
/// The node id is deliberately absent: a follower installs the file its leader wrote, byte for byte.
enum SnapshotFormat {
    static let magic: [UInt8] = Array("RAFTSNAP".utf8)
    static let versions: ClosedRange<UInt32> = 1...2
    static let fixedHeaderBytes = 40
    static let trailerBytes = 4
    /// Bounds the voter and learner lists a damaged or hostile header could claim.
    static let maxVoterCount = 4096

    static func fileName(index: LogIndex, term: Term) -> String {
        "snap-\(hex16(index.rawValue))-\(hex16(term.rawValue)).snap"
    }

    static func parseFileName(_ name: String) -> (index: LogIndex, term: Term)? {
        guard name.hasPrefix("snap-"), name.hasSuffix(".snap"), name.count == 5 + 16 + 1 + 16 + 5 else { return nil }
        let body = name.dropFirst(5).dropLast(5)
        guard let index = UInt64(body.prefix(16), radix: 16), let term = UInt64(body.suffix(16), radix: 16) else {
            return nil
        }
        return (LogIndex(index), Term(term))
    }

    static func encode(_ snapshot: Snapshot, clusterID: ClusterID) -> [UInt8] {
        var bytes = encodeHeader(
            snapshot.metadata, clusterID: clusterID, dataLengthBytes: UInt64(snapshot.data.count),
            reservingForData: snapshot.data.count)
        bytes.append(contentsOf: snapshot.data)
        bytes.appendLittleEndian(CRC32C.checksum(bytes))
        return bytes
    }

    /// Everything before the data: magic, version, ids, membership and the data length (its last 8 bytes).
    static func encodeHeader(
        _ metadata: SnapshotMetadata, clusterID: ClusterID, dataLengthBytes: UInt64, reservingForData: Int = 0
    ) -> [UInt8] {
        var bytes = magic
        bytes.reserveCapacity(
            fixedHeaderBytes + 8 * (metadata.voters.count + metadata.learners.count) + 16 + metadata.context.count
                + reservingForData)
        let version2 = !metadata.learners.isEmpty || !metadata.context.isEmpty
        bytes.appendLittleEndian(version2 ? UInt32(2) : UInt32(1))
        bytes.appendLittleEndian(UInt32(metadata.voters.count))
        bytes.appendLittleEndian(clusterID.rawValue)
        bytes.appendLittleEndian(metadata.index.rawValue)
        bytes.appendLittleEndian(metadata.term.rawValue)
        for voter in metadata.voters { bytes.appendLittleEndian(voter.rawValue) }
        if version2 {
            bytes.appendLittleEndian(UInt32(metadata.learners.count))
            for learner in metadata.learners { bytes.appendLittleEndian(learner.rawValue) }
            bytes.appendLittleEndian(UInt32(metadata.context.count))
            bytes.append(contentsOf: metadata.context)
        }
        bytes.appendLittleEndian(dataLengthBytes)
        return bytes
    }

    /// The most bytes a header can take (every list and the context at their limits).
    static let maxHeaderBytes = fixedHeaderBytes + 16 * maxVoterCount + 16 + (1 << 20)

    struct Header {
        var clusterID: ClusterID
        var metadata: SnapshotMetadata
        var dataLengthBytes: UInt64
        /// Offset of the first data byte.
        var headerBytes: Int
    }

    /// Parses the header from a prefix of the file; nil when the prefix is too short to hold it.
    static func parseHeader(_ bytes: [UInt8], path: String) throws -> Header? {
        guard bytes.count >= fixedHeaderBytes else { return nil }
        guard Array(bytes[0..<8]) == magic else {
            throw StorageError.corrupt(path: path, byteOffset: 0, reason: "not a snapshot file (bad magic)")
        }
        let version: UInt32 = bytes.loadLittleEndian(at: 8)
        guard versions.contains(version) else { throw StorageError.unsupportedVersion(path: path, version: version) }
        let voterCount = Int(bytes.loadLittleEndian(at: 12, as: UInt32.self))
        guard voterCount <= maxVoterCount else {
            throw StorageError.corrupt(path: path, byteOffset: 12, reason: "implausible voter count \(voterCount)")
        }
        var offset = fixedHeaderBytes + 8 * voterCount
        guard bytes.count >= offset + 8 else { return nil }
        let voters = (0..<voterCount).map { NodeID(bytes.loadLittleEndian(at: fixedHeaderBytes + 8 * $0)) }
        var learners: [NodeID] = []
        var context: [UInt8] = []
        if version == 2 {
            let learnerCount = Int(bytes.loadLittleEndian(at: offset, as: UInt32.self))
            guard learnerCount <= maxVoterCount else {
                throw StorageError.corrupt(
                    path: path, byteOffset: UInt64(offset), reason: "implausible learner count \(learnerCount)")
            }
            offset += 4
            guard bytes.count >= offset + 8 * learnerCount + 8 else { return nil }
            learners = (0..<learnerCount).map { NodeID(bytes.loadLittleEndian(at: offset + 8 * $0)) }
            offset += 8 * learnerCount
            guard bytes.count >= offset + 4 else { return nil }
            let contextCount = Int(bytes.loadLittleEndian(at: offset, as: UInt32.self))
            guard contextCount <= 1 << 20 else {
                throw StorageError.corrupt(
                    path: path, byteOffset: UInt64(offset), reason: "implausible context length \(contextCount)")
            }
            offset += 4
            guard bytes.count >= offset + contextCount + 8 else { return nil }
            context = Array(bytes[offset..<(offset + contextCount)])
            offset += contextCount
        }
        let headerBytes = offset + 8
        let metadata = SnapshotMetadata(
            index: LogIndex(bytes.loadLittleEndian(at: 24)), term: Term(bytes.loadLittleEndian(at: 32)), voters: voters,
            learners: learners, context: context)
        return Header(
            clusterID: ClusterID(bytes.loadLittleEndian(at: 16)), metadata: metadata,
            dataLengthBytes: bytes.loadLittleEndian(at: offset), headerBytes: headerBytes)
    }

    /// Decodes and verifies a whole snapshot file.
    static func decode(_ bytes: [UInt8], path: String, clusterID: ClusterID) throws -> Snapshot {
        guard let header = try parseHeader(bytes, path: path) else {
            throw StorageError.corrupt(
                path: path, byteOffset: UInt64(bytes.count), reason: "snapshot file truncated inside its header")
        }
        let expectedBytes = UInt64(header.headerBytes) + header.dataLengthBytes + UInt64(trailerBytes)
        guard UInt64(bytes.count) == expectedBytes else {
            throw StorageError.corrupt(
                path: path, byteOffset: UInt64(bytes.count),
                reason: "snapshot file is \(bytes.count) bytes, its header says \(expectedBytes)")
        }
        let checksumOffset = bytes.count - trailerBytes
        let stored: UInt32 = bytes.loadLittleEndian(at: checksumOffset)
        let actual = bytes.withUnsafeBytes {
            CRC32C.update(0, UnsafeRawBufferPointer(rebasing: $0[0..<checksumOffset]))
        }
        guard stored == actual else {
            throw StorageError.corrupt(
                path: path, byteOffset: UInt64(checksumOffset), reason: "snapshot checksum mismatch")
        }
        guard header.clusterID == clusterID else {
            throw StorageError.foreignDirectory(
                path: path, reason: "snapshot belongs to cluster \(header.clusterID), expected \(clusterID)")
        }
        return Snapshot(metadata: header.metadata, data: Array(bytes[header.headerBytes..<checksumOffset]))
    }
}
