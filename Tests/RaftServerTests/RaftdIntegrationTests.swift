import Foundation
import RaftClient
import Testing

/// Integration tests that run real `raftd` processes on loopback. The suites run one at a time: each starts up to
/// three nodes, and the machine has two shared cores; parallel clusters would turn timing slack into flakiness.
@Suite("raftd integration", .serialized)
struct RaftdIntegrationTests {}

/// Small assertion helpers shared by the suites.
enum Expect {
    /// A successful write answered 200 with its log position; returns the index.
    @discardableResult
    static func written(
        _ response: HTTPResponse, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Int {
        try #require(response.status == 200, "\(what): \(response)", sourceLocation: sourceLocation)
        let index = try #require(response.json?["index"] as? Int, "\(what): no index in \(response)")
        #expect(response.json?["term"] is Int, "\(what): no term in \(response)", sourceLocation: sourceLocation)
        return index
    }

    /// A documented error: `status` and a JSON `{"error":{"code","message"}}` body with `code` if given.
    static func error(
        _ response: HTTPResponse, _ status: Int, code: String? = nil, _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(response.status == status, "\(what): \(response)", sourceLocation: sourceLocation)
        #expect(response.isJSONError, "\(what): not a JSON error: \(response)", sourceLocation: sourceLocation)
        #expect(response.headers["content-type"] == "application/json", "\(what)", sourceLocation: sourceLocation)
        if let code {
            #expect(response.errorCode == code, "\(what): \(response)", sourceLocation: sourceLocation)
        }
    }
}

/// Milliseconds since `start`, for printing measured latencies (never asserted tightly).
func millisecondsSince(_ start: ContinuousClock.Instant) -> Int {
    let elapsed = ContinuousClock.now - start
    return Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
}
