import RaftCore

/// A decoded write-ahead-log record.
enum WALRecord {
    /// Appends an entry; if its index is at or below the last one, the entries from that index on are
    /// discarded first (conflict truncation is implicit, as in etcd's WAL).
    case entry(Entry)
    /// The node's term, vote and commit; the last one replayed wins.
    case hardState(HardState)
    /// A snapshot from the leader was installed: the log is empty through `index` and continues at `index + 1`.
    case logReset(index: LogIndex, term: Term)
    /// One write of the log (version 2): the records of one `save`, under one checksum, made durable by one sync.
    /// Its payload is the records it holds, at `bodyOffset..<bodyEnd` of the segment.
    case batch(bodyOffset: Int, bodyEnd: Int)
}

/// The on-disk layout of WAL segments. All integers are little-endian.
///
/// Segment file `wal-<sequence as 16 hex digits>.log`, sequences consecutive from 1 (gaps are corruption):
///
///     header (48 bytes): magic "RAFT-WAL" | version u32 | reserved u32 = 0 | cluster id u64 | node id u64
///                        | sequence u64 | CRC-32C of bytes 0..<40 u32 | reserved u32 = 0
///     records...
///
/// Record: CRC-32C u32 (over bytes 4..<12+length) | length u32 (payload bytes) | type u8 | 3 zero bytes | payload
///
///     type 1 entry:      index u64 | term u64 | kind u8 | data
///     type 2 hard state: term u64 | vote u64 (0 = none) | commit u64
///     type 3 log reset:  snapshot index u64 | snapshot term u64
///
///     type 4 batch:      the records of one write (version 2 segments only)
///
/// Every new segment starts with a hard-state record carrying the state at rotation, so deleting old segments
/// never loses the newest hard state.
///
/// The last segment may end in zeros: the writer fills the file ahead of the log so that a sync need not also
/// write the file's size. Reading stops at a zero record header followed only by zeros. Earlier segments are cut
/// to their records before the next one starts.
///
/// Version 2 (written since the node runtime): every write of the log is one batch record whose payload is the
/// records of that write, and the writer syncs after every write, so only the last batch of the last segment
/// can ever be torn. One checksum over the whole batch makes a write all or nothing after a power cut, however
/// the disk tore it: cut at any byte, or some of its pages written and others not. (Version 1, records at the
/// top level, is still read; a version 1 segment is never appended to again.)
enum WALFormat {
    static let magic: [UInt8] = Array("RAFT-WAL".utf8)
    /// The version new segments are written in.
    static let version: UInt32 = 2
    static let readableVersions: ClosedRange<UInt32> = 1...2
    /// A batch holds one `save`'s records: bounded by what the core hands over at once, far below this.
    static let maxBatchPayloadBytes = Int(UInt32.max) - 1
    static let segmentHeaderBytes = 48
    static let recordHeaderBytes = 12
    /// Far above any entry the node accepts; a larger length field can only be damage.
    static let maxRecordPayloadBytes = 256 * 1024 * 1024

    enum RecordType: UInt8 {
        case entry = 1
        case hardState = 2
        case logReset = 3
        case batch = 4
    }

    static func segmentName(sequence: UInt64) -> String { "wal-\(hex16(sequence)).log" }

    static func parseSegmentName(_ name: String) -> UInt64? {
        guard name.hasPrefix("wal-"), name.hasSuffix(".log"), name.count == 4 + 16 + 4 else { return nil }
        return UInt64(name.dropFirst(4).dropLast(4), radix: 16)
    }

    static func segmentHeader(clusterID: ClusterID, nodeID: NodeID, sequence: UInt64) -> [UInt8] {
        var bytes = magic
        bytes.reserveCapacity(segmentHeaderBytes)
        bytes.appendLittleEndian(version)
        bytes.appendLittleEndian(UInt32(0))
        bytes.appendLittleEndian(clusterID.rawValue)
        bytes.appendLittleEndian(nodeID.rawValue)
        bytes.appendLittleEndian(sequence)
        bytes.appendLittleEndian(CRC32C.checksum(bytes))
        bytes.appendLittleEndian(UInt32(0))
        return bytes
    }

    struct SegmentHeader {
        var version: UInt32
        var clusterID: ClusterID
        var nodeID: NodeID
        var sequence: UInt64
    }

    /// Parses a complete 48-byte header; nil reason on success.
    static func parseSegmentHeader(_ bytes: [UInt8]) -> Result<SegmentHeader, HeaderProblem> {
        guard bytes.count >= segmentHeaderBytes else { return .failure(.incomplete) }
        guard Array(bytes[0..<8]) == magic else { return .failure(.badMagic) }
        let storedCRC: UInt32 = bytes.loadLittleEndian(at: 40)
        let actualCRC = bytes.withUnsafeBytes { CRC32C.update(0, UnsafeRawBufferPointer(rebasing: $0[0..<40])) }
        guard storedCRC == actualCRC else { return .failure(.badChecksum) }
        return .success(
            SegmentHeader(
                version: bytes.loadLittleEndian(at: 8), clusterID: ClusterID(bytes.loadLittleEndian(at: 16)),
                nodeID: NodeID(bytes.loadLittleEndian(at: 24)), sequence: bytes.loadLittleEndian(at: 32)))
    }

    enum HeaderProblem: Error {
        case incomplete, badMagic, badChecksum
    }

    private static func beginRecord(_ type: RecordType, into buffer: inout [UInt8]) -> Int {
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: 8))
        buffer.append(type.rawValue)
        buffer.append(contentsOf: [0, 0, 0])
        return start
    }

    private static func finishRecord(
        startingAt start: Int, in buffer: inout [UInt8], limit: Int = maxRecordPayloadBytes
    ) {
        let payloadBytes = buffer.count - start - recordHeaderBytes
        precondition(payloadBytes <= limit, "record of \(payloadBytes) bytes exceeds the WAL limit")
        buffer.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt32(payloadBytes).littleEndian, toByteOffset: start + 4, as: UInt32.self)
            let crc = CRC32C.update(0, UnsafeRawBufferPointer(rebasing: raw[(start + 4)...]))
            raw.storeBytes(of: crc.littleEndian, toByteOffset: start, as: UInt32.self)
        }
    }

    static func appendEntry(_ entry: Entry, to buffer: inout [UInt8]) {
        let start = beginRecord(.entry, into: &buffer)
        buffer.appendLittleEndian(entry.index.rawValue)
        buffer.appendLittleEndian(entry.term.rawValue)
        buffer.append(entry.kind.rawValue)
        buffer.append(contentsOf: entry.data)
        finishRecord(startingAt: start, in: &buffer)
    }

    static func appendHardState(_ state: HardState, to buffer: inout [UInt8]) {
        let start = beginRecord(.hardState, into: &buffer)
        buffer.appendLittleEndian(state.term.rawValue)
        buffer.appendLittleEndian(state.vote?.rawValue ?? 0)
        buffer.appendLittleEndian(state.commit.rawValue)
        finishRecord(startingAt: start, in: &buffer)
    }

    /// Starts a batch record in `buffer` (one write, one checksum): append its records, then ``finishBatch``.
    static func beginBatch(into buffer: inout [UInt8]) -> Int {
        beginRecord(.batch, into: &buffer)
    }

    /// Closes the batch begun at `start`: its length and checksum cover every record appended since.
    static func finishBatch(startingAt start: Int, in buffer: inout [UInt8]) {
        finishRecord(startingAt: start, in: &buffer, limit: maxBatchPayloadBytes)
    }

    static func appendLogReset(index: LogIndex, term: Term, to buffer: inout [UInt8]) {
        let start = beginRecord(.logReset, into: &buffer)
        buffer.appendLittleEndian(index.rawValue)
        buffer.appendLittleEndian(term.rawValue)
        finishRecord(startingAt: start, in: &buffer)
    }

    /// How a scan of one segment's records ended.
    enum ScanEnd {
        /// Every byte after the header belongs to a valid record.
        case clean
        /// The bytes from `byteOffset` to the end of the file are an incomplete or unverifiable final record
        /// (a write the crash interrupted) and no valid record follows them.
        case tornTail(byteOffset: Int, reason: String)
        /// The bytes from `byteOffset` to the end of the file are all zeros: space the writer filled ahead of the
        /// log (``StorageOptions/preallocationStepBytes``), or a last write of which nothing reached the disk.
        /// Only ever the last segment: the writer cuts the zeros off a segment before starting the next.
        case unusedTail(byteOffset: Int)
    }

    enum Decoded {
        case record(WALRecord, nextOffset: Int)
        case invalid(String)
    }

    /// Decodes the record at `offset`, verifying its checksum.
    static func decode(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Decoded {
        let remainingBytes = bytes.count - offset
        guard remainingBytes >= recordHeaderBytes else {
            return .invalid("incomplete record header (\(remainingBytes) of \(recordHeaderBytes) bytes)")
        }
        let storedCRC: UInt32 = bytes.loadLittleEndian(at: offset)
        let length = Int(bytes.loadLittleEndian(at: offset + 4, as: UInt32.self))
        let typeByte = bytes[offset + 8]
        if storedCRC == 0 && length == 0 && typeByte == 0 { return .invalid("zero-filled record header") }
        guard bytes[offset + 9] == 0, bytes[offset + 10] == 0, bytes[offset + 11] == 0,
            let type = RecordType(rawValue: typeByte)
        else { return .invalid("invalid record type \(typeByte)") }
        guard length <= (type == .batch ? maxBatchPayloadBytes : maxRecordPayloadBytes) else {
            return .invalid("implausible record length \(length)")
        }
        guard length <= remainingBytes - recordHeaderBytes else {
            return .invalid(
                "record of \(length) payload bytes extends past the end of the file (\(remainingBytes) bytes left)")
        }
        let end = offset + recordHeaderBytes + length
        let actualCRC = CRC32C.update(0, UnsafeRawBufferPointer(rebasing: bytes[(offset + 4)..<end]))
        guard actualCRC == storedCRC else { return .invalid("record checksum mismatch") }
        let payload = offset + recordHeaderBytes
        switch type {
        case .entry:
            guard length >= 17, let kind = EntryKind(rawValue: bytes[payload + 16]) else {
                return .invalid("malformed entry record")
            }
            let entry = Entry(
                index: LogIndex(bytes.loadLittleEndian(at: payload)),
                term: Term(bytes.loadLittleEndian(at: payload + 8)),
                kind: kind, data: Array(bytes[(payload + 17)..<end]))
            return .record(.entry(entry), nextOffset: end)
        case .hardState:
            guard length == 24 else { return .invalid("malformed hard-state record") }
            let vote: UInt64 = bytes.loadLittleEndian(at: payload + 8)
            let state = HardState(
                term: Term(bytes.loadLittleEndian(at: payload)), vote: vote == 0 ? nil : NodeID(vote),
                commit: LogIndex(bytes.loadLittleEndian(at: payload + 16)))
            return .record(.hardState(state), nextOffset: end)
        case .batch:
            return .record(.batch(bodyOffset: payload, bodyEnd: end), nextOffset: end)
        case .logReset:
            guard length == 16 else { return .invalid("malformed log-reset record") }
            return .record(
                .logReset(
                    index: LogIndex(bytes.loadLittleEndian(at: payload)),
                    term: Term(bytes.loadLittleEndian(at: payload + 8))),
                nextOffset: end)
        }
    }

    /// True when every byte from `offset` to the end is zero.
    static func isZero(_ bytes: UnsafeRawBufferPointer, from offset: Int) -> Bool {
        var position = offset
        // Eight bytes at a time: a tail can be a whole preallocation step.
        while position + 8 <= bytes.count {
            if bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self) != 0 { return false }
            position += 8
        }
        while position < bytes.count {
            if bytes[position] != 0 { return false }
            position += 1
        }
        return true
    }

    /// True when a record with a valid checksum starts anywhere in `offset..<end`: then the damage before it is
    /// not a torn tail but corruption in the middle of the log.
    static func validRecordExists(_ bytes: UnsafeRawBufferPointer, after offset: Int, batchesOnly: Bool) -> Bool {
        var position = offset + 1
        while position + recordHeaderBytes <= bytes.count {
            if case .record(let record, _) = decode(bytes, at: position) {
                // Inside a torn batch, records of it may have survived whole: only a whole later batch proves
                // that the damage is not the torn tail.
                if !batchesOnly { return true }
                if case .batch = record { return true }
            }
            position += 1
        }
        return false
    }

    /// Visits every record after the segment header.
    ///
    /// Torn tail versus corruption: the log is only ever appended to, and a segment is complete and synced before
    /// the next one is started. So damage can be a torn write only at the end of the *last* segment, and only if
    /// no valid record follows it (a crash cannot leave a complete record after an incomplete one). Anything
    /// else — damage in an earlier segment, or a bad record followed by a good one — throws ``StorageError/corrupt``.
    /// The one case this cannot tell apart: bit rot in the very last record of the last segment looks exactly
    /// like a torn write, and is reported as a repaired torn tail.
    ///
    /// In a version 2 segment every top-level record is a batch, and `visit` sees the records inside each batch
    /// (never the batch itself); a batch that does not verify is damage as a whole, and only a later whole batch
    /// proves it is not a torn tail.
    static func scan(
        _ bytes: [UInt8], path: String, version: UInt32, isLastSegment: Bool, visit: (WALRecord, Int) throws -> Void
    ) throws -> ScanEnd {
        try bytes.withUnsafeBytes { raw in
            var offset = segmentHeaderBytes
            while offset < raw.count {
                switch decode(raw, at: offset) {
                case .record(.batch(let bodyOffset, let bodyEnd), let next) where version >= 2:
                    try scanBatch(raw, path: path, from: bodyOffset, to: bodyEnd, visit: visit)
                    offset = next
                case .record(let record, _) where version >= 2:
                    throw StorageError.corrupt(
                        path: path, byteOffset: UInt64(offset),
                        reason: "\(record) outside a batch in a version 2 segment")
                case .record(let record, let next):
                    try visit(record, offset)
                    offset = next
                case .invalid(let reason):
                    if isLastSegment && isZero(raw, from: offset) { return .unusedTail(byteOffset: offset) }
                    if isLastSegment && !validRecordExists(raw, after: offset, batchesOnly: version >= 2) {
                        return .tornTail(byteOffset: offset, reason: reason)
                    }
                    let position = isLastSegment ? "followed by valid records" : "in a segment that is not the last"
                    throw StorageError.corrupt(path: path, byteOffset: UInt64(offset), reason: "\(reason), \(position)")
                }
            }
            return .clean
        }
    }

    /// Visits the records of a batch whose checksum verified: each must decode and fill the batch exactly, or the
    /// writer wrote something wrong, which no repair may paper over.
    private static func scanBatch(
        _ raw: UnsafeRawBufferPointer, path: String, from start: Int, to end: Int,
        visit: (WALRecord, Int) throws -> Void
    ) throws {
        let body = UnsafeRawBufferPointer(rebasing: raw[..<end])
        var offset = start
        while offset < end {
            switch decode(body, at: offset) {
            case .record(.batch, _):
                throw StorageError.corrupt(path: path, byteOffset: UInt64(offset), reason: "a batch inside a batch")
            case .record(let record, let next):
                try visit(record, offset)
                offset = next
            case .invalid(let reason):
                throw StorageError.corrupt(
                    path: path, byteOffset: UInt64(offset), reason: "\(reason) inside a batch whose checksum matches")
            }
        }
    }
}
