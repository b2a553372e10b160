import Foundation
import RaftAPI
import Testing

/// raftd writes the answer to every acknowledged write by hand (``WriteAnswer/jsonBytes``); clients and scripts
/// read it as the JSON the HTTP API documents, so it must be byte for byte what the sorted-key encoder makes.
@Suite("write answer JSON")
struct WriteAnswerEncodingTests {
    @Test func theHandWrittenBodyIsExactlyWhatTheEncoderMakes() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var answers: [WriteAnswer] = []
        for index: UInt64 in [0, 1, 9, 10, 12_345, UInt64(Int64.max), .max] {
            for term: UInt64 in [0, 7, .max] {
                for replayed in [false, true] {
                    for created in [nil, false, true] as [Bool?] {
                        answers.append(WriteAnswer(index: index, term: term, replayed: replayed, created: created))
                    }
                }
            }
        }
        for answer in answers {
            let expected = Array(try encoder.encode(answer))
            #expect(answer.jsonBytes == expected, "\(String(decoding: expected, as: UTF8.self))")
            #expect(try JSONDecoder().decode(WriteAnswer.self, from: Data(answer.jsonBytes)) == answer)
        }
    }
}
