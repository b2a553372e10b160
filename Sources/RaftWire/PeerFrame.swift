import RaftCore

/// One frame of the peer protocol (version 2: snapshot metadata carries the learners too; version 3: snapshot
/// chunks carry the snapshot file, see ``SnapshotChunk``).
///
/// On the wire every frame is `length: UInt32` (big-endian, counting the bytes after it) followed by a type
/// byte and the payload; integers are big-endian. A connection opens with a ``Handshake`` in each direction;
/// every later frame is a ``RaftCore/Message``. Frames longer than ``PeerFrameCodec/maxFrameBytes`` are refused
/// before any allocation. The full layout is in `man/raftd.8` and in the type docs below.
public enum PeerFrame: Sendable, Hashable {
    case handshake(Handshake)
    case message(Message)
    /// One piece of an InstallSnapshot too large for one frame; the receiver reassembles the pieces in order and
    /// delivers a single InstallSnapshot once the checksum of the whole matches.
    case snapshotChunk(SnapshotChunk)
    /// How the sender's disk is doing, sent to every peer twice a second and at once when it changes; not part of
    /// the consensus protocol (the core never sees it).
    case health(NodeHealth)
    /// A round-trip probe (`raft_peer_round_trip_time_seconds`): the sender's clock reading, echoed back by the
    /// receiver on its own connection; not part of the consensus protocol.
    case probe(Probe)
}

/// A round-trip probe between two peers. A request carries the sender's monotonic clock reading; the receiver
/// answers with a reply carrying the same reading, and the sender subtracts it from its clock on arrival.
public struct Probe: Sendable, Hashable {
    public var from: NodeID
    public var to: NodeID
    public var isReply: Bool
    /// The requester's monotonic clock when it sent the request, in nanoseconds (meaningful only to it).
    public var sentNanoseconds: UInt64

    public init(from: NodeID, to: NodeID, isReply: Bool, sentNanoseconds: UInt64) {
        self.from = from
        self.to = to
        self.isReply = isReply
        self.sentNanoseconds = sentNanoseconds
    }
}

/// A node's report of its own disk, so that every node can refuse writes while any member is out of space and
/// name the members whose storage failed.
public struct NodeHealth: Sendable, Hashable {
    public enum State: UInt8, Sendable {
        case ok = 0
        /// The space alarm is raised on the sender: free space under its threshold, or its quota exceeded.
        case noSpace = 1
        /// A WAL write or sync failed on the sender; it is about to exit.
        case storageFailed = 2
    }

    public var from: NodeID
    public var to: NodeID
    public var state: State
    public var freeBytes: UInt64
    /// The free-space threshold of the sender's alarm (0: none).
    public var alarmBelowFreeBytes: UInt64
    /// Why, in the sender's words (empty when `ok`); at most ``maxMessageBytes``.
    public var message: String

    public static let maxMessageBytes = 1024

    public init(
        from: NodeID, to: NodeID, state: State, freeBytes: UInt64, alarmBelowFreeBytes: UInt64, message: String
    ) {
        self.from = from
        self.to = to
        self.state = state
        self.freeBytes = freeBytes
        self.alarmBelowFreeBytes = alarmBelowFreeBytes
        self.message = message
    }
}

/// A piece of a snapshot file in transfer: since protocol version 3 the bytes are the sender's snapshot file
/// itself (header, data and checksum trailer), streamed from its disk and staged on the receiver's, which verifies
/// the trailer before installing. Invariants: pieces of one transfer share `metadata`, `totalBytes` and `checksum`
/// (0: the file carries its own); `offsetBytes` of each is the sum of the lengths before it; the last ends at
/// `totalBytes`.
public struct SnapshotChunk: Sendable, Hashable {
    public var from: NodeID
    public var to: NodeID
    public var term: Term
    public var metadata: SnapshotMetadata
    public var totalBytes: UInt64
    public var offsetBytes: UInt64
    /// Unused since version 3 (sent as 0): the file's own trailer is checked.
    public var checksum: UInt32
    public var bytes: [UInt8]

    public init(
        from: NodeID, to: NodeID, term: Term, metadata: SnapshotMetadata, totalBytes: UInt64, offsetBytes: UInt64,
        checksum: UInt32, bytes: [UInt8]
    ) {
        self.from = from
        self.to = to
        self.term = term
        self.metadata = metadata
        self.totalBytes = totalBytes
        self.offsetBytes = offsetBytes
        self.checksum = checksum
        self.bytes = bytes
    }

    public var isLast: Bool { offsetBytes + UInt64(bytes.count) == totalBytes }
}

/// The first frame on a peer connection: `"RAFT"`, protocol version, cluster id, sender and intended receiver.
/// A receiver refuses (and closes) on any mismatch, so nodes of another cluster, unknown nodes and
/// misaddressed connections never reach the core.
public struct Handshake: Sendable, Hashable {
    public static let magic: [UInt8] = Array("RAFT".utf8)
    public static let currentVersion: UInt16 = 3

    public var version: UInt16
    public var clusterID: ClusterID
    public var from: NodeID
    public var to: NodeID

    public init(version: UInt16 = Handshake.currentVersion, clusterID: ClusterID, from: NodeID, to: NodeID) {
        self.version = version
        self.clusterID = clusterID
        self.from = from
        self.to = to
    }
}

/// Encodes and decodes ``PeerFrame``s. Decoding never traps: malformed input throws ``WireError``.
public struct PeerFrameCodec: Sendable {
    /// The largest frame accepted, type byte and payload included. Snapshots larger than this must be chunked.
    public var maxFrameBytes: Int

    public init(maxFrameBytes: Int = 64 << 20) {
        self.maxFrameBytes = maxFrameBytes
    }

    enum FrameType: UInt8 {
        case handshake = 0
        case requestVote = 1
        case requestVoteResponse = 2
        case appendEntries = 3
        case appendEntriesResponse = 4
        case heartbeat = 5
        case heartbeatResponse = 6
        case installSnapshot = 7
        case timeoutNow = 8
        case propose = 9
        case readIndex = 10
        case readIndexResponse = 11
        case transferLeader = 12
        case snapshotChunk = 13
        case health = 14
        case probe = 15
    }

    /// The frame, length prefix included.
    public func encode(_ frame: PeerFrame) -> [UInt8] {
        var w = ByteWriter(capacity: 64)
        w.write(UInt32(0))
        switch frame {
        case .handshake(let h):
            w.write(FrameType.handshake.rawValue)
            w.writeRaw(Handshake.magic)
            w.write(h.version)
            w.write(h.clusterID.rawValue)
            w.write(h.from.rawValue)
            w.write(h.to.rawValue)
        case .message(let m):
            encodeMessage(m, into: &w)
        case .snapshotChunk(let c):
            w.write(FrameType.snapshotChunk.rawValue)
            w.write(c.from.rawValue)
            w.write(c.to.rawValue)
            w.write(c.term.rawValue)
            w.write(c.metadata.index.rawValue)
            w.write(c.metadata.term.rawValue)
            encodeMembership(c.metadata, into: &w)
            w.write(c.totalBytes)
            w.write(c.offsetBytes)
            w.write(c.checksum)
            w.writeBlob(c.bytes)
        case .health(let h):
            w.write(FrameType.health.rawValue)
            w.write(h.from.rawValue)
            w.write(h.to.rawValue)
            w.write(UInt64(0))
            w.write(h.state.rawValue)
            w.write(h.freeBytes)
            w.write(h.alarmBelowFreeBytes)
            w.writeBlob(Array(h.message.utf8.prefix(NodeHealth.maxMessageBytes)))
        case .probe(let p):
            w.write(FrameType.probe.rawValue)
            w.write(p.from.rawValue)
            w.write(p.to.rawValue)
            w.write(UInt64(0))
            w.write(UInt8(p.isReply ? 1 : 0))
            w.write(p.sentNanoseconds)
        }
        w.patch(UInt32(w.bytes.count - 4), at: 0)
        return w.bytes
    }

    private func encodeMessage(_ m: Message, into w: inout ByteWriter) {
        func header(_ type: FrameType) {
            w.write(type.rawValue)
            w.write(m.from.rawValue)
            w.write(m.to.rawValue)
            w.write(m.term.rawValue)
        }
        switch m.body {
        case .requestVote(let v):
            header(.requestVote)
            w.write(v.lastLogIndex.rawValue)
            w.write(v.lastLogTerm.rawValue)
            w.write(v.preVote)
            w.write(v.force)
        case .requestVoteResponse(let r):
            header(.requestVoteResponse)
            w.write(r.granted)
            w.write(r.preVote)
        case .appendEntries(let a):
            header(.appendEntries)
            w.write(a.prevLogIndex.rawValue)
            w.write(a.prevLogTerm.rawValue)
            w.write(a.leaderCommit.rawValue)
            w.write(UInt32(a.entries.count))
            for entry in a.entries {
                w.write(entry.index.rawValue)
                w.write(entry.term.rawValue)
                w.write(entry.kind.rawValue)
                w.writeBlob(entry.data)
            }
        case .appendEntriesResponse(let r):
            header(.appendEntriesResponse)
            w.write(r.index.rawValue)
            w.write(r.success)
            w.write(r.conflictIndex.rawValue)
            w.write(r.conflictTerm != nil)
            w.write(r.conflictTerm?.rawValue ?? 0)
        case .heartbeat(let h):
            header(.heartbeat)
            w.write(h.commit.rawValue)
            w.write(h.round)
        case .heartbeatResponse(let h):
            header(.heartbeatResponse)
            w.write(h.round)
        case .installSnapshot(let s):
            header(.installSnapshot)
            w.write(s.metadata.index.rawValue)
            w.write(s.metadata.term.rawValue)
            encodeMembership(s.metadata, into: &w)
            w.writeBlob(s.data)
        case .timeoutNow:
            header(.timeoutNow)
        case .propose(let batch):
            header(.propose)
            w.write(UInt32(batch.count))
            for data in batch { w.writeBlob(data) }
        case .readIndex(let context):
            header(.readIndex)
            w.write(context.rawValue)
        case .readIndexResponse(let r):
            header(.readIndexResponse)
            w.write(r.context.rawValue)
            w.write(r.index.rawValue)
        case .transferLeader(let target):
            header(.transferLeader)
            w.write(target.rawValue)
        }
    }

    /// Decodes one complete frame from the front of `buffer`, if it holds one.
    ///
    /// Returns nil when more bytes are needed; throws when the bytes can never form a valid frame (the
    /// connection must then be closed). On success `consumed` bytes of `buffer` were used.
    public func decode(_ buffer: ArraySlice<UInt8>) throws(WireError) -> (frame: PeerFrame, consumed: Int)? {
        var reader = ByteReader(buffer)
        guard reader.remaining >= 4 else { return nil }
        let length = Int(try reader.read(UInt32.self))
        guard length >= 1 else { throw .invalid("empty frame") }
        guard length <= maxFrameBytes else { throw .tooLarge(what: "frame", size: length, limit: maxFrameBytes) }
        guard reader.remaining >= length else { return nil }
        let start = buffer.startIndex + 4
        let frame = try decodeFrame(buffer[start..<start + length])
        return (frame, 4 + length)
    }

    /// Decodes a frame body (type byte and payload, without the length prefix).
    public func decodeFrame(_ body: ArraySlice<UInt8>) throws(WireError) -> PeerFrame {
        var r = ByteReader(body)
        let rawType = try r.read(UInt8.self)
        guard let type = FrameType(rawValue: rawType) else { throw .invalid("unknown frame type \(rawType)") }
        if type == .handshake {
            guard try r.readRaw(count: 4) == Handshake.magic else { throw .invalid("bad handshake magic") }
            let handshake = Handshake(
                version: try r.read(), clusterID: ClusterID(try r.read(UInt64.self)), from: try nodeID(&r),
                to: try nodeID(&r))
            try r.expectEnd()
            return .handshake(handshake)
        }
        let from = try nodeID(&r)
        let to = try nodeID(&r)
        let term = Term(try r.read(UInt64.self))
        if type == .snapshotChunk {
            let index = LogIndex(try r.read(UInt64.self))
            let snapshotTerm = Term(try r.read(UInt64.self))
            let (voters, learners, context) = try decodeMembership(&r)
            let total = try r.read(UInt64.self)
            let offset = try r.read(UInt64.self)
            let checksum = try r.read(UInt32.self)
            let bytes = try r.readBlob(limit: maxFrameBytes, what: "snapshot chunk")
            guard offset <= total, UInt64(bytes.count) <= total - offset else {
                throw .invalid("snapshot chunk at \(offset)+\(bytes.count) past its total \(total)")
            }
            try r.expectEnd()
            return .snapshotChunk(
                SnapshotChunk(
                    from: from, to: to, term: term,
                    metadata: SnapshotMetadata(
                        index: index, term: snapshotTerm, voters: voters, learners: learners, context: context),
                    totalBytes: total,
                    offsetBytes: offset, checksum: checksum, bytes: bytes))
        }
        if type == .health {
            let rawState = try r.read(UInt8.self)
            guard let state = NodeHealth.State(rawValue: rawState) else { throw .invalid("health state \(rawState)") }
            let free = try r.read(UInt64.self)
            let threshold = try r.read(UInt64.self)
            let message = try r.readBlob(limit: NodeHealth.maxMessageBytes, what: "health message")
            try r.expectEnd()
            return .health(
                NodeHealth(
                    from: from, to: to, state: state, freeBytes: free, alarmBelowFreeBytes: threshold,
                    message: String(decoding: message, as: UTF8.self)))
        }
        if type == .probe {
            let kind = try r.read(UInt8.self)
            guard kind <= 1 else { throw .invalid("probe kind \(kind)") }
            let sent = try r.read(UInt64.self)
            try r.expectEnd()
            return .probe(Probe(from: from, to: to, isReply: kind == 1, sentNanoseconds: sent))
        }
        let body: Message.Body
        switch type {
        case .handshake, .snapshotChunk, .health, .probe:
            preconditionFailure("handled above")
        case .requestVote:
            body = .requestVote(
                RequestVote(
                    lastLogIndex: LogIndex(try r.read(UInt64.self)), lastLogTerm: Term(try r.read(UInt64.self)),
                    preVote: try r.readBool(), force: try r.readBool()))
        case .requestVoteResponse:
            body = .requestVoteResponse(RequestVoteResponse(granted: try r.readBool(), preVote: try r.readBool()))
        case .appendEntries:
            let prevIndex = LogIndex(try r.read(UInt64.self))
            let prevTerm = Term(try r.read(UInt64.self))
            let commit = LogIndex(try r.read(UInt64.self))
            let count = Int(try r.read(UInt32.self))
            // Each entry takes at least 21 bytes: refuse counts the frame cannot hold before reserving.
            guard count <= r.remaining / 21 else { throw .invalid("entry count \(count) exceeds the frame") }
            var entries: [Entry] = []
            entries.reserveCapacity(count)
            for _ in 0..<count {
                let index = LogIndex(try r.read(UInt64.self))
                let entryTerm = Term(try r.read(UInt64.self))
                let rawKind = try r.read(UInt8.self)
                guard let kind = EntryKind(rawValue: rawKind) else { throw .invalid("entry kind \(rawKind)") }
                let data = try r.readBlob(limit: maxFrameBytes, what: "entry")
                entries.append(Entry(index: index, term: entryTerm, kind: kind, data: data))
            }
            body = .appendEntries(
                AppendEntries(prevLogIndex: prevIndex, prevLogTerm: prevTerm, entries: entries, leaderCommit: commit))
        case .appendEntriesResponse:
            let index = LogIndex(try r.read(UInt64.self))
            let success = try r.readBool()
            let conflictIndex = LogIndex(try r.read(UInt64.self))
            let hasConflictTerm = try r.readBool()
            let conflictTerm = Term(try r.read(UInt64.self))
            body = .appendEntriesResponse(
                AppendEntriesResponse(
                    index: index, success: success, conflictIndex: conflictIndex,
                    conflictTerm: hasConflictTerm ? conflictTerm : nil))
        case .heartbeat:
            body = .heartbeat(Heartbeat(commit: LogIndex(try r.read(UInt64.self)), round: try r.read()))
        case .heartbeatResponse:
            body = .heartbeatResponse(HeartbeatResponse(round: try r.read()))
        case .installSnapshot:
            let index = LogIndex(try r.read(UInt64.self))
            let snapshotTerm = Term(try r.read(UInt64.self))
            let (voters, learners, context) = try decodeMembership(&r)
            let data = try r.readBlob(limit: maxFrameBytes, what: "snapshot")
            body = .installSnapshot(
                Snapshot(
                    metadata: SnapshotMetadata(
                        index: index, term: snapshotTerm, voters: voters, learners: learners, context: context),
                    data: data))
        case .timeoutNow:
            body = .timeoutNow
        case .propose:
            let count = Int(try r.read(UInt32.self))
            guard count <= r.remaining / 4 else { throw .invalid("proposal count \(count) exceeds the frame") }
            var batch: [[UInt8]] = []
            batch.reserveCapacity(count)
            for _ in 0..<count { batch.append(try r.readBlob(limit: maxFrameBytes, what: "proposal")) }
            body = .propose(batch)
        case .readIndex:
            body = .readIndex(ReadContext(try r.read(UInt64.self)))
        case .readIndexResponse:
            body = .readIndexResponse(
                ReadIndexResponse(
                    context: ReadContext(try r.read(UInt64.self)), index: LogIndex(try r.read(UInt64.self))))
        case .transferLeader:
            body = .transferLeader(try nodeID(&r))
        }
        try r.expectEnd()
        return .message(Message(from: from, to: to, term: term, body: body))
    }

    /// Voter count u16 | voters u64… | learner count u16 | learners u64… | context (blob).
    private func encodeMembership(_ metadata: SnapshotMetadata, into w: inout ByteWriter) {
        w.write(UInt16(metadata.voters.count))
        for voter in metadata.voters { w.write(voter.rawValue) }
        w.write(UInt16(metadata.learners.count))
        for learner in metadata.learners { w.write(learner.rawValue) }
        w.writeBlob(metadata.context)
    }

    private func decodeMembership(_ r: inout ByteReader) throws(WireError)
        -> (voters: [NodeID], learners: [NodeID], context: [UInt8])
    {
        var voters: [NodeID] = []
        for _ in 0..<Int(try r.read(UInt16.self)) { voters.append(try nodeID(&r)) }
        var learners: [NodeID] = []
        for _ in 0..<Int(try r.read(UInt16.self)) { learners.append(try nodeID(&r)) }
        let context = try r.readBlob(limit: 1 << 20, what: "configuration context")
        return (voters, learners, context)
    }

    private func nodeID(_ r: inout ByteReader) throws(WireError) -> NodeID {
        let raw = try r.read(UInt64.self)
        guard raw != 0 else { throw .invalid("node id 0") }
        return NodeID(raw)
    }
}
