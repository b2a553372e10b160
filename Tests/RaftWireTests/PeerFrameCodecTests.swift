import RaftCore
import RaftText
import RaftWire
import Testing

/// One message of every kind, with non-trivial field values.
let sampleMessages: [Message] = {
    let bodies: [Message.Body] = [
        .requestVote(RequestVote(lastLogIndex: 41, lastLogTerm: 7, preVote: true, force: false)),
        .requestVote(RequestVote(lastLogIndex: 0, lastLogTerm: 0, preVote: false, force: true)),
        .requestVoteResponse(RequestVoteResponse(granted: true, preVote: true)),
        .appendEntries(
            AppendEntries(
                prevLogIndex: 9, prevLogTerm: 3,
                entries: [
                    Entry(index: 10, term: 3, kind: .noop), Entry(index: 11, term: 4, data: Array("put a 1".utf8)),
                    Entry(index: 12, term: 4, data: []),
                ], leaderCommit: 8)),
        .appendEntries(AppendEntries(prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0)),
        .appendEntriesResponse(AppendEntriesResponse(index: 12, success: true)),
        .appendEntriesResponse(AppendEntriesResponse(index: 12, success: false, conflictIndex: 5, conflictTerm: 2)),
        .appendEntriesResponse(AppendEntriesResponse(index: 12, success: false, conflictIndex: 3, conflictTerm: nil)),
        .heartbeat(Heartbeat(commit: 77, round: 123_456_789)),
        .heartbeatResponse(HeartbeatResponse(round: 42)),
        .installSnapshot(
            Snapshot(metadata: SnapshotMetadata(index: 100, term: 5, voters: [1, 2, 3]), data: [1, 2, 3, 255])),
        .installSnapshot(
            Snapshot(
                metadata: SnapshotMetadata(index: 100, term: 5, voters: [1, 3], learners: [2, 7], context: [9, 8]),
                data: [])),
        .timeoutNow,
        .propose([Array("x".utf8), [], [0, 1, 2]]),
        .readIndex(ReadContext(99)),
        .readIndexResponse(ReadIndexResponse(context: ReadContext(99), index: 1000)),
        .transferLeader(3),
    ]
    return bodies.map { Message(from: 1, to: 2, term: 9, body: $0) }
}()

@Suite struct PeerFrameCodecTests {
    let codec = PeerFrameCodec(maxFrameBytes: 1 << 20)

    @Test(arguments: sampleMessages)
    func everyMessageKindRoundTrips(_ message: Message) throws {
        let bytes = codec.encode(.message(message))
        let decoded = try #require(try codec.decode(bytes[...]))
        #expect(decoded.frame == .message(message))
        #expect(decoded.consumed == bytes.count)
    }

    @Test func handshakeRoundTripsAndCarriesClusterAndNodes() throws {
        let handshake = Handshake(clusterID: ClusterID(0xDEAD_BEEF), from: 2, to: 3)
        let bytes = codec.encode(.handshake(handshake))
        #expect(try codec.decode(bytes[...])?.frame == .handshake(handshake))
    }

    @Test func everyStrictPrefixOfAFrameAsksForMoreBytes() throws {
        for message in sampleMessages {
            let bytes = codec.encode(.message(message))
            for cut in 0..<bytes.count {
                #expect(try codec.decode(bytes[0..<cut]) == nil, "prefix of \(cut) bytes of \(message)")
            }
        }
    }

    @Test func aTruncatedBodyInsideAFrameIsRejectedNotCrashed() {
        for message in sampleMessages {
            var bytes = codec.encode(.message(message))
            // Shrink the declared length so the body ends early; the frame itself is complete.
            guard bytes.count > 6 else { continue }
            bytes.removeLast()
            let length = UInt32(bytes.count - 4)
            bytes[0] = UInt8(length >> 24)
            bytes[1] = UInt8((length >> 16) & 0xFF)
            bytes[2] = UInt8((length >> 8) & 0xFF)
            bytes[3] = UInt8(length & 0xFF)
            #expect(throws: WireError.self) { try codec.decode(bytes[...]) }
        }
    }

    @Test func anOversizedLengthIsRefusedBeforeReadingTheBody() {
        let bytes: [UInt8] = [0x7F, 0xFF, 0xFF, 0xFF, 1]
        #expect(throws: WireError.tooLarge(what: "frame", size: 0x7FFF_FFFF, limit: 1 << 20)) {
            try codec.decode(bytes[...])
        }
    }

    @Test func unknownTypesNodeZeroAndTrailingBytesAreRejected() throws {
        #expect(throws: WireError.self) { try codec.decodeFrame([200][...]) }
        let zeroSender = Message(from: 1, to: 2, term: 1, body: .timeoutNow)
        var bytes = codec.encode(.message(zeroSender))
        for i in 5..<13 { bytes[i] = 0 }
        #expect(throws: WireError.invalid("node id 0")) { try codec.decode(bytes[...]) }
        var trailing = codec.encode(.message(zeroSender))
        trailing.append(0)
        trailing[3] += 1
        #expect(throws: WireError.self) { try codec.decode(trailing[...]) }
    }

    @Test func aHugeEntryCountInASmallFrameIsRejectedWithoutAllocating() throws {
        let append = Message(
            from: 1, to: 2, term: 1,
            body: .appendEntries(AppendEntries(prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0)))
        var bytes = codec.encode(.message(append))
        // The entry count is the last 4 bytes of an empty AppendEntries.
        for i in (bytes.count - 4)..<bytes.count { bytes[i] = 0xFF }
        #expect(throws: WireError.self) { try codec.decode(bytes[...]) }
    }

    @Test func framesDripFedOneByteAtATimeAndPackedTogetherAllDecode() throws {
        var stream: [UInt8] = []
        for message in sampleMessages { stream += codec.encode(.message(message)) }
        var buffer: [UInt8] = []
        var decoded: [PeerFrame] = []
        for byte in stream {
            buffer.append(byte)
            while let (frame, consumed) = try codec.decode(buffer[...]) {
                decoded.append(frame)
                buffer.removeFirst(consumed)
            }
        }
        #expect(decoded == sampleMessages.map { .message($0) })
        #expect(buffer.isEmpty)
    }

    @Test func randomGarbageAndMutatedFramesNeverCrashTheDecoder() {
        var rng = SplitMix64(seed: 20_261_121)
        var rejected = 0
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                bytes = codec.encode(.message(sampleMessages.randomElement(using: &rng)!))
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
            }
            do {
                _ = try codec.decode(bytes[...])
            } catch {
                rejected += 1
            }
        }
        // Most garbage must be refused rather than misread as a frame.
        #expect(rejected > 5_000)
    }
}

@Suite struct SnapshotChunkFrameTests {
    let codec = PeerFrameCodec(maxFrameBytes: 1 << 20)

    func chunk(offset: UInt64, bytes: [UInt8], total: UInt64) -> SnapshotChunk {
        SnapshotChunk(
            from: 1, to: 3, term: 4, metadata: SnapshotMetadata(index: 90, term: 3, voters: [1, 2, 3]),
            totalBytes: total, offsetBytes: offset, checksum: 0xABCD_1234, bytes: bytes)
    }

    @Test func aSnapshotChunkRoundTripsWithItsPositionAndChecksum() throws {
        let original = chunk(offset: 10, bytes: [1, 2, 3], total: 13)
        let decoded = try #require(try codec.decode(codec.encode(.snapshotChunk(original))[...]))
        #expect(decoded.frame == .snapshotChunk(original))
        #expect(original.isLast)
    }

    @Test func aChunkClaimingBytesPastItsTotalIsRejected() {
        let bad = chunk(offset: 12, bytes: [1, 2, 3], total: 13)
        #expect(throws: WireError.self) { try codec.decode(codec.encode(.snapshotChunk(bad))[...]) }
    }
}

@Suite struct HealthFrameTests {
    let codec = PeerFrameCodec(maxFrameBytes: 1 << 20)

    @Test func aHealthReportRoundTripsWithItsStateAndMessage() throws {
        for state in [NodeHealth.State.ok, .noSpace, .storageFailed] {
            let report = NodeHealth(
                from: 2, to: 1, state: state, freeBytes: 5_000_000, alarmBelowFreeBytes: 6 << 20,
                message: "5.7 MiB free of 24 MiB — under the threshold")
            let decoded = try #require(try codec.decode(codec.encode(.health(report))[...]))
            #expect(decoded.frame == .health(report))
        }
    }

    @Test func anUnknownHealthStateIsRefusedAndALongMessageIsCut() throws {
        var bytes = codec.encode(
            .health(
                NodeHealth(
                    from: 2, to: 1, state: .ok, freeBytes: 0, alarmBelowFreeBytes: 0, message: "")))
        // The state byte follows the length, type, from, to and term.
        bytes[4 + 1 + 8 + 8 + 8] = 9
        #expect(throws: WireError.self) { try codec.decode(bytes[...]) }

        let long = NodeHealth(
            from: 2, to: 1, state: .noSpace, freeBytes: 1, alarmBelowFreeBytes: 2,
            message: String(repeating: "x", count: 5_000))
        let decoded = try #require(try codec.decode(codec.encode(.health(long))[...]))
        guard case .health(let report) = decoded.frame else { Issue.record("not a health frame"); return }
        #expect(report.message.utf8.count == NodeHealth.maxMessageBytes)
    }
}

@Suite struct ProbeFrameTests {
    let codec = PeerFrameCodec(maxFrameBytes: 1 << 20)

    @Test func requestsAndRepliesRoundTripWithTheSendersClock() throws {
        for isReply in [false, true] {
            let probe = Probe(from: 3, to: 1, isReply: isReply, sentNanoseconds: 123_456_789_012)
            let decoded = try #require(try codec.decode(codec.encode(.probe(probe))[...]))
            #expect(decoded.frame == .probe(probe))
        }
    }

    @Test func anUnknownProbeKindOrATrailingByteIsRefused() {
        var bytes = codec.encode(.probe(Probe(from: 3, to: 1, isReply: false, sentNanoseconds: 7)))
        // The kind byte follows the length, type, from, to and term.
        bytes[4 + 1 + 8 + 8 + 8] = 2
        #expect(throws: WireError.self) { try codec.decode(bytes[...]) }

        var long = codec.encode(.probe(Probe(from: 3, to: 1, isReply: true, sentNanoseconds: 7)))
        long.append(0)
        long[3] += 1
        #expect(throws: WireError.self) { try codec.decode(long[...]) }
    }
}

@Suite struct ByteSizeTextTests {
    @Test func sizesParseWithBinaryUnits() {
        #expect(ByteSizeText.bytes("0") == 0)
        #expect(ByteSizeText.bytes("4096") == 4096)
        #expect(ByteSizeText.bytes("64KiB") == 64 << 10)
        #expect(ByteSizeText.bytes("256MiB") == 256 << 20)
        #expect(ByteSizeText.bytes("256MB") == 256 << 20)
        #expect(ByteSizeText.bytes("2G") == 2 << 30)
        #expect(ByteSizeText.bytes("12B") == 12)
        for bad in ["", "MiB", "1.5GiB", "-1", "10 MiB", "5TiB", "99999999999999999999"] {
            #expect(ByteSizeText.bytes(bad) == nil, "\(bad)")
        }
    }

    @Test func sizesFormatForPeople() {
        #expect(ByteSizeText.format(17) == "17 B")
        #expect(ByteSizeText.format(6 << 20) == "6 MiB")
        #expect(ByteSizeText.format(5_976_883) == "5.7 MiB")
        #expect(ByteSizeText.format(3 << 30) == "3 GiB")
    }
}
