import NIOCore
import NIOTestUtils
import RaftCore
import RaftWire
import Testing

@testable import RaftServer

/// SwiftNIO's `ByteToMessageDecoderVerifier` over raftd's peer frame decoder: whatever way the bytes are split into
/// reads (one at a time, all at once, in between), the same frames come out, and none is left behind.
@Suite("peer frame decoder under every split of its input")
struct DecoderVerifierTests {
    @Test("every frame, with its size on the wire")
    func peerFrames() throws {
        let codec = PeerFrameCodec(maxFrameBytes: 1 << 20)
        let frames: [PeerFrame] = [
            .handshake(Handshake(clusterID: ClusterID(9), from: 2, to: 1)),
            .message(Message(from: 2, to: 1, term: 3, body: .heartbeat(Heartbeat(commit: 7, round: 1)))),
            .probe(Probe(from: 2, to: 1, isReply: false, sentNanoseconds: 99)),
        ]
        var bytes = ByteBuffer()
        var expected: [ReceivedFrame] = []
        for frame in frames {
            let encoded = codec.encode(frame)
            bytes.writeBytes(encoded)
            expected.append(ReceivedFrame(frame: frame, wireBytes: encoded.count))
        }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: [(bytes, expected)]) {
            PeerFrameDecoder(codec: codec)
        }
    }
}
