import Glibc

/// Sends client requests to a cluster as its contract asks a client to: to the leader when it is known, else to
/// any node; a request that got no answer, or a 503 or 504, is retried (on the next node, then round again) with
/// the same `Idempotency-Key`, so a write is applied at most once however often it is retried.
///
/// Any node forwards writes to the leader, so following the leader saves a hop; it is not needed for safety.
public struct ClusterClient {
    /// A node's client API.
    public struct Endpoint: Sendable, Hashable {
        public var name: String
        public var host: String
        public var port: Int

        public init(name: String, host: String = "127.0.0.1", port: Int) {
            self.name = name
            self.host = host
            self.port = port
        }
    }

    /// The nodes to try, the leader (if known) first; asked again before each round, so a new leader is followed.
    public var route: () -> [Endpoint]
    /// How long one attempt waits for its answer.
    public var attemptMilliseconds: Int

    public init(attemptMilliseconds: Int = 6_000, route: @escaping () -> [Endpoint]) {
        self.route = route
        self.attemptMilliseconds = attemptMilliseconds
    }

    /// A fresh key for a write that the caller did not name (random, so two writes never share one).
    public static func newIdempotencyKey(prefix: String = "client") -> String {
        prefix + "-" + String(UInt64.random(in: 1...UInt64.max), radix: 16)
    }

    /// Sends the request until a node answers it with something other than 503 or 504, or `timeoutMilliseconds`
    /// pass. Writes (anything but GET and HEAD) always carry an Idempotency-Key: `idempotencyKey`, or a fresh one.
    /// When time is up it throws what went wrong last (the outcome of a write is then unknown: retry it with the
    /// same key).
    public func send(
        method: String, path: String, body: [UInt8] = [], headers: [(String, String)] = [],
        idempotencyKey: String? = nil, timeoutMilliseconds: Int = 10_000
    ) throws(ClientError) -> HTTPResponse {
        var headers = headers
        let isWrite = method != "GET" && method != "HEAD"
        if isWrite && !headers.contains(where: { $0.0.lowercased() == "idempotency-key" }) {
            headers.append(("Idempotency-Key", idempotencyKey ?? Self.newIdempotencyKey()))
        }
        let deadline = SocketConnection.monotonicMilliseconds() + timeoutMilliseconds
        var lastProblem = "no node to send to"
        var round = 0
        while true {
            var order = route()
            // The first round goes to the leader; later ones spread out, in case the hint is stale.
            if round > 0 { order.shuffle() }
            round += 1
            for endpoint in order {
                let remaining = deadline - SocketConnection.monotonicMilliseconds()
                if remaining <= 0 { break }
                switch HTTPClient.exchange(
                    method: method, host: endpoint.host, port: endpoint.port, path: path, body: body, headers: headers,
                    timeoutMilliseconds: min(attemptMilliseconds, max(remaining, 100)))
                {
                case .answered(let response) where response.isRetryable:
                    lastProblem = "\(endpoint.name): \(response.errorMessage)"
                case .answered(let response):
                    return response
                case .notSent(let problem), .noAnswer(let problem):
                    lastProblem = "\(endpoint.name): \(problem)"
                }
            }
            if SocketConnection.monotonicMilliseconds() >= deadline { break }
            usleep(100_000)
        }
        throw ClientError("the request did not complete: \(lastProblem)")
    }
}
