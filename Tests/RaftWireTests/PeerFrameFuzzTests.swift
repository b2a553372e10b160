import RaftCore
import RaftWire
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A seeded random test of the peer frame decoder (the bytes any process that reaches the peer port can send):
/// random bytes, and valid frames of every kind with bytes flipped, cut short or extended. Decoding must never trap;
/// it throws `WireError` or yields a frame, and a frame it yields encodes and decodes to itself. Bounded by count;
/// a failure names the seed and the case, so `FUZZ_SEED=N swift test --filter PeerFrameFuzz` replays it.
@Suite struct PeerFrameFuzzTests {
    let codec = PeerFrameCodec(maxFrameBytes: 1 << 16)

    static let seed: UInt64 = {
        if let text = Environment.value("FUZZ_SEED"), let seed = UInt64(text) { return seed }
        return 0x5EED_F00D
    }()

    var validFrames: [[UInt8]] {
        var frames = sampleMessages.map { codec.encode(.message($0)) }
        frames.append(codec.encode(.handshake(Handshake(clusterID: ClusterID(77), from: 1, to: 2))))
        frames.append(
            codec.encode(
                .health(
                    NodeHealth(from: 2, to: 1, state: .noSpace, freeBytes: 5, alarmBelowFreeBytes: 9, message: "full")))
        )
        frames.append(codec.encode(.probe(Probe(from: 3, to: 1, isReply: true, sentNanoseconds: 12_345))))
        return frames
    }

    @Test("20,000 random and mutated frames: never a trap; whatever decodes re-encodes to itself")
    func mutatedFramesNeverTrap() throws {
        var random = SplitMix64(seed: Self.seed)
        let frames = validFrames
        for round in 0..<20_000 {
            var bytes: [UInt8]
            switch round % 4 {
            case 0:
                bytes = (0..<Int(random.next() % 96)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            case 1:
                bytes = frames[Int(random.next() % UInt64(frames.count))]
                for _ in 0..<(1 + random.next() % 4) where !bytes.isEmpty {
                    bytes[Int(random.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: random.next() | 1)
                }
            case 2:
                bytes = frames[Int(random.next() % UInt64(frames.count))]
                bytes = Array(bytes.prefix(Int(random.next() % UInt64(bytes.count + 1))))
            default:
                bytes = frames[Int(random.next() % UInt64(frames.count))]
                bytes += (0..<Int(1 + random.next() % 16)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                // Claim the longer length, so the extra bytes are read as part of the frame.
                if random.next() % 2 == 0 {
                    let length = UInt32(bytes.count - 4)
                    bytes[0] = UInt8(length >> 24)
                    bytes[1] = UInt8(truncatingIfNeeded: length >> 16)
                    bytes[2] = UInt8(truncatingIfNeeded: length >> 8)
                    bytes[3] = UInt8(truncatingIfNeeded: length)
                }
            }
            let decoded: (frame: PeerFrame, consumed: Int)?
            do {
                decoded = try codec.decode(bytes[...])
            } catch {
                continue
            }
            guard let decoded else { continue }
            let again = try #require(
                try codec.decode(codec.encode(decoded.frame)[...]),
                "seed \(Self.seed) round \(round): a decoded frame does not decode after encoding: \(bytes)")
            #expect(
                again.frame == decoded.frame,
                "seed \(Self.seed) round \(round): \(decoded.frame) re-encoded as \(again.frame); input \(bytes)")
        }
    }
}

/// Reads the environment without Foundation.
enum Environment {
    static func value(_ name: String) -> String? {
        guard let pointer = getenv(name) else { return nil }
        return String(cString: pointer)
    }
}
