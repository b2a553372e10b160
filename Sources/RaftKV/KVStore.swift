import RaftCore
import RaftWire

/// The replicated key-value state machine: every node applies the same committed entries in the same order
/// and so holds the same map.
///
/// Exactly-once writes: a command carrying an idempotency key is recorded with a digest of the request
/// (``KVCommand/requestDigest``) and its outcome. While the record lives, a command with the same key and the same
/// digest is a retry: it is not applied again and gets the original outcome (`replayed`); the same key with a
/// different digest is refused (``KVOutcome/idempotencyKeyReused``) and nothing changes.
///
/// Expiry follows the applied log index only, never a clock, so every replica expires the same records at the same
/// entry and a proposer with a skewed clock cannot move it:
/// - a record created by entry `i` answers commands applied at entries `i + 1 ... i + idempotencyRecordWindow`;
/// - when it expires, a 64-bit digest of its key (``KVCommand/idempotencyKeyDigest(_:)``) becomes a tombstone in the
///   generation `expiry / tombstoneGenerationLength`; the last `tombstoneGenerations` generations are kept, so a
///   tombstone lives at least `(tombstoneGenerations - 1) * tombstoneGenerationLength` and at most
///   `tombstoneGenerations * tombstoneGenerationLength` entries after its record expired. A command whose key has a
///   tombstone is not applied: it gets ``KVOutcome/idempotencyKeyExpired(recordWindow:)``;
/// - after that, the key is unknown and a command carrying it is applied as a new request.
///
/// The three window parameters, the records and the tombstones are replicated state: they are in snapshots, and a
/// restored store takes the snapshot's windows, so every replica answers the same.
///
/// Invariants: `recordOrder` holds exactly the keys of `records`, in increasing order of their entry index; every
/// tombstone generation number is within `tombstoneGenerations` of the current one (`appliedIndex /
/// tombstoneGenerationLength`), and `tombstones` is sorted by generation, oldest first.
///
/// Memory (heap growth, measured by `kv-memory-bench` with 24-byte keys as raftctl sends): a record about 90 bytes
/// (the key and 25 bytes of record in a ``CompactMap``, the key again in ``ByteStringQueue``), so a full table of
/// 2^20 records about 95 MB (190 MB when records were a hash trie of strings); a tombstone 16 bytes (a
/// `Set<UInt64>` slot), so 16 full generations of 2^20 about 270 MB.
///
/// A copy costs nothing (the node snapshots a copy off its main loop): the values are in a ``CompactMap``, whose
/// pages and table segments are shared until written, and so are the idempotency records (a second ``CompactMap``)
/// and their order (a ``ByteStringQueue`` in chunks).
public struct KVStore: Sendable {
    /// The map: records in pages, found through a hash table (``CompactMap``).
    private var values = CompactMap()
    public private(set) var appliedIndex: LogIndex = .zero
    public private(set) var appliedTerm: Term = .zero
    /// How many applied entries after its own a record still answers retries.
    public private(set) var idempotencyRecordWindow: UInt64
    /// The span of applied entries one tombstone generation covers.
    public private(set) var tombstoneGenerationLength: UInt64
    /// How many tombstone generations are kept (the newest included).
    public private(set) var tombstoneGenerations: Int

    /// Production defaults: 2^20 entries (about 65 s of writes at 16,000 writes/s, far beyond raftctl's ~16 s retry
    /// horizon) for records; 16 generations of 2^20 entries for tombstones.
    public static let defaultIdempotencyRecordWindow: UInt64 = 1 << 20
    public static let defaultTombstoneGenerationLength: UInt64 = 1 << 20
    public static let defaultTombstoneGenerations = 16

    /// What the store remembers of one applied keyed command: 25 bytes in ``records``.
    struct Record: Sendable, Hashable {
        var index: LogIndex
        var term: Term
        /// ``KVCommand/requestDigest``; 0 for a record restored from a version-1 snapshot (any request replays).
        var requestDigest: UInt64
        var outcome: RecordedOutcome

        init(index: LogIndex, term: Term, requestDigest: UInt64, outcome: RecordedOutcome) {
            self.index = index
            self.term = term
            self.requestDigest = requestDigest
            self.outcome = outcome
        }

        /// The index, term and digest little-endian, then the outcome's byte.
        var encoded: [UInt8] {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(25)
            withUnsafeBytes(of: index.rawValue.littleEndian) { bytes.append(contentsOf: $0) }
            withUnsafeBytes(of: term.rawValue.littleEndian) { bytes.append(contentsOf: $0) }
            withUnsafeBytes(of: requestDigest.littleEndian) { bytes.append(contentsOf: $0) }
            bytes.append(outcome.rawValue)
            return bytes
        }

        /// What ``encoded`` wrote (the store reads only what it wrote itself).
        init(encoded bytes: [UInt8]) {
            func word(_ at: Int) -> UInt64 {
                var value: UInt64 = 0
                for offset in (0..<8).reversed() { value = value << 8 | UInt64(bytes[at + offset]) }
                return value
            }
            self.init(
                index: LogIndex(word(0)), term: Term(word(8)), requestDigest: word(16),
                outcome: RecordedOutcome(rawValue: bytes[24])!)
        }
    }

    /// The outcomes a record can hold (commands that were executed), in one byte. Also their snapshot encoding.
    enum RecordedOutcome: UInt8, Sendable, Hashable {
        case created = 1
        case updated = 2
        case deleted = 3
        case notFound = 4
        case conditionFailed = 5

        init(_ outcome: KVOutcome) {
            switch outcome {
            case .stored(let created): self = created ? .created : .updated
            case .deleted: self = .deleted
            case .notFound: self = .notFound
            case .conditionFailed: self = .conditionFailed
            case .malformed, .idempotencyKeyReused, .idempotencyKeyExpired:
                preconditionFailure("\(outcome) is never recorded")
            }
        }

        var outcome: KVOutcome {
            switch self {
            case .created: .stored(created: true)
            case .updated: .stored(created: false)
            case .deleted: .deleted
            case .notFound: .notFound
            case .conditionFailed: .conditionFailed
            }
        }
    }

    /// The key digests of the records that expired during one span of `tombstoneGenerationLength` entries.
    struct TombstoneGeneration: Sendable, Hashable {
        var number: UInt64
        var keyDigests: Set<UInt64>
    }

    /// Idempotency key (its UTF-8 bytes) → ``Record/encoded``.
    private var records = CompactMap()
    private var recordOrder = ByteStringQueue()
    private var tombstones: [TombstoneGeneration] = []

    public init(
        idempotencyRecordWindow: UInt64 = KVStore.defaultIdempotencyRecordWindow,
        tombstoneGenerationLength: UInt64 = KVStore.defaultTombstoneGenerationLength,
        tombstoneGenerations: Int = KVStore.defaultTombstoneGenerations
    ) {
        precondition(
            Self.validWindows(idempotencyRecordWindow, tombstoneGenerationLength, UInt64(tombstoneGenerations)))
        self.idempotencyRecordWindow = idempotencyRecordWindow
        self.tombstoneGenerationLength = tombstoneGenerationLength
        self.tombstoneGenerations = tombstoneGenerations
    }

    /// Positive, and small enough that index arithmetic cannot overflow.
    private static func validWindows(_ window: UInt64, _ length: UInt64, _ generations: UInt64) -> Bool {
        (1...(1 << 48)).contains(window) && (1...(1 << 48)).contains(length) && (1...(1 << 16)).contains(generations)
    }

    /// A store holding nothing, with this one's windows.
    var emptyWithSameWindows: KVStore {
        KVStore(
            idempotencyRecordWindow: idempotencyRecordWindow, tombstoneGenerationLength: tombstoneGenerationLength,
            tombstoneGenerations: tombstoneGenerations)
    }

    public func value(for key: [UInt8]) -> [UInt8]? { values.value(for: key) }

    /// Equal contents: values, applied position, windows, idempotency records and tombstones.
    public func hasSameState(as other: KVStore) -> Bool {
        values.hasSameContents(as: other.values) && appliedIndex == other.appliedIndex
            && appliedTerm == other.appliedTerm
            && idempotencyRecordWindow == other.idempotencyRecordWindow
            && tombstoneGenerationLength == other.tombstoneGenerationLength
            && tombstoneGenerations == other.tombstoneGenerations && records.hasSameContents(as: other.records)
            && Array(recordOrder) == Array(other.recordOrder) && tombstones == other.tombstones
    }
    public var count: Int { values.count }
    public var idempotencyRecordCount: Int { records.count }
    public var idempotencyTombstoneCount: Int { tombstones.reduce(0) { $0 + $1.keyDigests.count } }

    /// Applies one committed entry; returns the result for a command (nil for a no-op entry).
    public mutating func apply(_ entry: Entry) -> KVApplyResult? {
        precondition(entry.index == appliedIndex.next, "applied \(entry.index) after \(appliedIndex)")
        appliedIndex = entry.index
        appliedTerm = entry.term
        expireIdempotencyState()
        guard entry.kind == .command else { return nil }
        let command: KVCommand
        do {
            command = try KVCommand(decoding: entry.data)
        } catch {
            return KVApplyResult(
                origin: NodeID(0), sequence: 0, outcome: .malformed(error.description), index: entry.index,
                term: entry.term, replayed: false)
        }
        func answer(_ outcome: KVOutcome) -> KVApplyResult {
            KVApplyResult(
                origin: command.origin, sequence: command.sequence, outcome: outcome, index: entry.index,
                term: entry.term, replayed: false)
        }
        guard let key = command.idempotencyKey else { return answer(execute(command)) }
        let digest = command.requestDigest
        let keyBytes = Array(key.utf8)
        if let record = records.value(for: keyBytes).map(Record.init(encoded:)) {
            guard record.requestDigest == digest || record.requestDigest == 0 else {
                return answer(.idempotencyKeyReused)
            }
            return KVApplyResult(
                origin: command.origin, sequence: command.sequence, outcome: record.outcome.outcome,
                index: record.index, term: record.term, replayed: true)
        }
        let keyDigest = KVCommand.idempotencyKeyDigest(key)
        if tombstones.contains(where: { $0.keyDigests.contains(keyDigest) }) {
            return answer(.idempotencyKeyExpired(recordWindow: idempotencyRecordWindow))
        }
        let outcome = execute(command)
        records.set(
            keyBytes,
            Record(index: entry.index, term: entry.term, requestDigest: digest, outcome: RecordedOutcome(outcome))
                .encoded)
        recordOrder.append(keyBytes)
        return answer(outcome)
    }

    private mutating func execute(_ command: KVCommand) -> KVOutcome {
        let key = command.key
        // An unconditional write looks the key up once, in the write itself.
        switch command.condition {
        case .none: break
        case .previousValue(let expected): if values.value(for: key) != expected { return .conditionFailed }
        case .previousExists(let exists): if values.contains(key) != exists { return .conditionFailed }
        }
        switch command.operation {
        case .put:
            return .stored(created: !values.set(key, command.value))
        case .delete:
            return values.remove(key) ? .deleted : .notFound
        }
    }

    /// Turns the records that `appliedIndex` is past the window of into tombstones, and drops the tombstone
    /// generations that fell out of their window. Depends only on `appliedIndex` and the replicated state.
    private mutating func expireIdempotencyState() {
        let now = appliedIndex.rawValue
        let current = now / tombstoneGenerationLength
        let oldestKept = current >= UInt64(tombstoneGenerations) ? current - UInt64(tombstoneGenerations) + 1 : 0
        while let first = tombstones.first, first.number < oldestKept { tombstones.removeFirst() }
        while let key = recordOrder.first, let record = records.value(for: key).map(Record.init(encoded:)),
            record.index.rawValue + idempotencyRecordWindow < now
        {
            records.remove(key)
            recordOrder.removeFirst()
            let generation = (record.index.rawValue + idempotencyRecordWindow + 1) / tombstoneGenerationLength
            guard generation >= oldestKept else { continue }
            if tombstones.last?.number != generation {
                tombstones.append(TombstoneGeneration(number: generation, keyDigests: []))
            }
            tombstones[tombstones.count - 1].keyDigests.insert(KVCommand.idempotencyKeyDigest(utf8: key))
        }
    }

    // MARK: - Snapshots

    /// Version 2 adds the windows, the request digests and the tombstones; version 1 (clock-based expiry) is still
    /// read: its records replay any request with their key (they have no digest) and expire by index from then on.
    static let snapshotVersion: UInt8 = 2

    /// The whole state (map, idempotency records and tombstones, windows, applied position) as bytes. Keys come in
    /// the map's own order: sorting them cost more than the rest of the encoding, and restoring does not depend on
    /// order.
    public func snapshotData() -> [UInt8] {
        var bytes: [UInt8] = []
        let append: ([UInt8]) throws(Never) -> Void = { bytes.append(contentsOf: $0) }
        writeSnapshot(pieceBytes: 1 << 20, append)
        return bytes
    }

    /// The bytes of ``snapshotData()`` handed to `emit` in pieces of about `pieceBytes`, so that a snapshot of any
    /// size is written holding one piece.
    public func writeSnapshot<E: Error>(pieceBytes: Int = 1 << 20, _ emit: ([UInt8]) throws(E) -> Void) throws(E) {
        var w = ByteWriter(capacity: pieceBytes + 1024)
        func flush(_ w: inout ByteWriter) throws(E) {
            guard w.bytes.count >= pieceBytes else { return }
            try emit(w.bytes)
            w = ByteWriter(capacity: pieceBytes + 1024)
        }
        w.write(Self.snapshotVersion)
        w.write(appliedIndex.rawValue)
        w.write(appliedTerm.rawValue)
        w.write(idempotencyRecordWindow)
        w.write(tombstoneGenerationLength)
        w.write(UInt64(tombstoneGenerations))
        w.write(UInt64(values.count))
        try values.forEach { (key, value) throws(E) in
            w.writeBlob(key)
            w.writeBlob(value)
            try flush(&w)
        }
        w.write(UInt64(records.count))
        for key in recordOrder {
            let record = Record(encoded: records.value(for: key)!)
            w.writeBlob(key)
            w.write(record.index.rawValue)
            w.write(record.term.rawValue)
            w.write(record.requestDigest)
            w.write(record.outcome.rawValue)
            try flush(&w)
        }
        w.write(UInt64(tombstones.count))
        for generation in tombstones {
            w.write(generation.number)
            w.write(UInt64(generation.keyDigests.count))
            for digest in generation.keyDigests {
                w.write(digest)
                try flush(&w)
            }
        }
        if !w.bytes.isEmpty { try emit(w.bytes) }
    }

    /// Replaces the state with a snapshot's (windows included). Throws (leaving the store unchanged) if the bytes
    /// are malformed.
    public mutating func restore(from data: [UInt8]) throws(WireError) {
        var r = ByteReader(data)
        do {
            try restore(reading: &r)
        } catch let error as WireError {
            throw error
        } catch {
            throw .invalid("\(error)")
        }
    }

    /// Replaces the state with a snapshot's read a chunk at a time from `next` (`totalBytes` in all), holding one
    /// chunk beside the store being built. Throws, leaving the store unchanged, if the bytes are malformed or
    /// `next` throws (a file whose checksum fails at its end).
    public mutating func restore(totalBytes: UInt64, chunks next: @escaping () throws -> [UInt8]?) throws {
        var r = ChunkedByteReader(totalBytes: totalBytes, next: next)
        try restore(reading: &r)
    }

    private mutating func restore(reading r: inout some SnapshotByteSource) throws {
        let version = try r.read(UInt8.self)
        guard version == 1 || version == Self.snapshotVersion else {
            throw WireError.invalid("snapshot format version \(version)")
        }
        var restored = emptyWithSameWindows
        restored.appliedIndex = LogIndex(try r.read(UInt64.self))
        restored.appliedTerm = Term(try r.read(UInt64.self))
        if version == 1 {
            _ = try r.read(UInt64.self)  // the proposers' clock, no longer used
        } else {
            let window = try r.read(UInt64.self)
            let length = try r.read(UInt64.self)
            let generations = try r.read(UInt64.self)
            guard Self.validWindows(window, length, generations) else {
                throw WireError.invalid("idempotency windows \(window), \(length) x \(generations)")
            }
            restored.idempotencyRecordWindow = window
            restored.tombstoneGenerationLength = length
            restored.tombstoneGenerations = Int(generations)
        }
        let valueCount = try r.read(UInt64.self)
        guard valueCount <= r.remainingBytes / 8 else { throw WireError.invalid("value count \(valueCount)") }
        restored.values = CompactMap(minimumCapacity: Int(valueCount))
        for _ in 0..<valueCount {
            try r.readBlobPair(limit: Int(UInt32.max), what: ("key", "value")) { key, value in
                restored.values.set(key, value)
            }
        }
        let recordCount = try r.read(UInt64.self)
        guard recordCount <= r.remainingBytes / 29 else { throw WireError.invalid("record count \(recordCount)") }
        var restoredRecords: [(key: [UInt8], index: LogIndex)] = []
        restoredRecords.reserveCapacity(Int(recordCount))
        for _ in 0..<recordCount {
            let key = String(decoding: try r.readBlob(limit: 1 << 16, what: "idempotency key"), as: UTF8.self)
            let index = LogIndex(try r.read(UInt64.self))
            let term = Term(try r.read(UInt64.self))
            let requestDigest: UInt64 = if version == 1 { 0 } else { try r.read(UInt64.self) }
            if version == 1 { _ = try r.read(UInt64.self) }  // the proposer's timestamp
            let rawOutcome = try r.read(UInt8.self)
            guard let outcome = RecordedOutcome(rawValue: rawOutcome) else {
                throw WireError.invalid("record outcome \(rawOutcome)")
            }
            // Through a String, as the record was made: the same bytes for every key a client could have sent.
            let keyBytes = Array(key.utf8)
            guard index <= restored.appliedIndex, !restored.records.contains(keyBytes) else {
                throw WireError.invalid("idempotency record for \(key) at \(index)")
            }
            let record = Record(index: index, term: term, requestDigest: requestDigest, outcome: outcome)
            restored.records.set(keyBytes, record.encoded)
            restoredRecords.append((keyBytes, index))
        }
        for (key, _) in restoredRecords.sorted(by: { $0.index < $1.index }) {
            restored.recordOrder.append(key)
        }
        if version == Self.snapshotVersion {
            let generationCount = try r.read(UInt64.self)
            guard generationCount <= r.remainingBytes / 16 else {
                throw WireError.invalid("tombstone generation count \(generationCount)")
            }
            for _ in 0..<generationCount {
                let number = try r.read(UInt64.self)
                let digestCount = try r.read(UInt64.self)
                guard digestCount <= r.remainingBytes / 8 else {
                    throw WireError.invalid("tombstone count \(digestCount)")
                }
                var digests = Set<UInt64>(minimumCapacity: Int(digestCount))
                for _ in 0..<digestCount { digests.insert(try r.read(UInt64.self)) }
                guard restored.tombstones.last.map({ $0.number < number }) ?? true else {
                    throw WireError.invalid("tombstone generation \(number) out of order")
                }
                restored.tombstones.append(TombstoneGeneration(number: number, keyDigests: digests))
            }
        }
        try r.expectEnd()
        // A version-1 snapshot may hold records that are already past the index window.
        restored.expireIdempotencyState()
        self = restored
    }
}
