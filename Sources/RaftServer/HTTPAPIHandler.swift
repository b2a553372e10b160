import FoundationEssentials
import NIOCore
import NIOHTTP1
import RaftAPI
import RaftCore
import RaftKV
import RaftRuntime
import RaftText
import RaftWire

/// Serves the client API (`/v1/kv/{key}`, `/v1/status`) on one HTTP/1.1 connection.
///
/// Any node answers any request: writes are proposed through the core (forwarded to the leader when this node
/// follows) and answered once applied here; reads are linearizable through ReadIndex unless
/// `?consistency=stale`. Malformed HTTP gets 400 (431 for oversized headers) and the connection is closed; the
/// node is never affected.
final class HTTPAPIHandler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    // `@unchecked Sendable`: NIO calls a handler only on its channel's event loop, where all its state lives;
    // futures from the node hop back to that loop before touching it.
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let shell: NodeShell
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var rejected = false

    init(shell: NodeShell) {
        self.shell = shell
    }

    private var maxBodyBytes: Int { shell.config.maxValueBytes }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body.clear()
            rejected = false
            if let length = requestHead.headers.first(name: "content-length").flatMap(Int.init), length > maxBodyBytes {
                reject(
                    context, .payloadTooLarge, "value_too_large",
                    "the value is \(length) bytes; the limit is \(maxBodyBytes)")
            } else if requestHead.version.minor >= 1,
                requestHead.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" })
            {
                // RFC 9110 §10.1.1: a client that sent Expect waits for this before the body (curl: 1 s).
                context.writeAndFlush(
                    wrapOutboundOut(.head(HTTPResponseHead(version: requestHead.version, status: .continue))),
                    promise: nil)
            }
        case .body(var chunk):
            guard !rejected else { return }
            if body.readableBytes + chunk.readableBytes > maxBodyBytes {
                reject(
                    context, .payloadTooLarge, "value_too_large", "the value exceeds the limit of \(maxBodyBytes) bytes"
                )
                return
            }
            body.writeBuffer(&chunk)
        case .end:
            guard !rejected, let requestHead = head else { return }
            head = nil
            route(context, requestHead, body.readBytes(length: body.readableBytes) ?? [])
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let parserError = error as? HTTPParserError {
            if case .headerOverflow = parserError {
                respondAndClose(
                    context, .requestHeaderFieldsTooLarge, "header_too_large", "request headers are too large")
            } else {
                respondAndClose(context, .badRequest, "bad_request", "malformed HTTP request: \(parserError)")
            }
        } else {
            context.close(promise: nil)
        }
    }

    // MARK: - Routing

    private func route(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ body: [UInt8]) {
        let (path, query) = Self.splitURI(head.uri)
        if path == "/metrics" {
            guard head.method == .GET else {
                return respond(context, head, .methodNotAllowed, error: ("method_not_allowed", "use GET"), allow: "GET")
            }
            return serveMetrics(context, head)
        }
        if path == "/v1/members" {
            guard head.method == .GET else {
                return respond(context, head, .methodNotAllowed, error: ("method_not_allowed", "use GET"), allow: "GET")
            }
            return serve(context, head, shell.members()) { (Array(Self.encode($0).utf8), "application/json") }
        }
        if path == "/v1/status" {
            guard head.method == .GET else {
                return respond(context, head, .methodNotAllowed, error: ("method_not_allowed", "use GET"), allow: "GET")
            }
            return serveStatus(context, head)
        }
        guard path.hasPrefix("/v1/kv/") else {
            return respond(context, head, .notFound, error: ("not_found", "no endpoint at \(path)"))
        }
        guard let key = Self.percentDecode(path.dropFirst("/v1/kv/".count), plusIsSpace: false) else {
            return respond(context, head, .badRequest, error: ("bad_key", "the key is not valid percent-encoding"))
        }
        guard !key.isEmpty else { return respond(context, head, .badRequest, error: ("bad_key", "the key is empty")) }
        guard key.count <= shell.config.maxKeyBytes else {
            return respond(
                context, head, .badRequest,
                error: ("bad_key", "the key is \(key.count) bytes; the limit is \(shell.config.maxKeyBytes)"))
        }
        guard let parameters = Self.parseQuery(query) else {
            return respond(context, head, .badRequest, error: ("bad_query", "the query is not valid percent-encoding"))
        }
        switch head.method {
        case .GET:
            let consistency = parameters["consistency"] ?? "linearizable"
            guard consistency == "linearizable" || consistency == "stale" else {
                return respond(
                    context, head, .badRequest,
                    error: ("bad_query", "consistency must be linearizable or stale, not \(consistency)"))
            }
            serveGet(context, head, key, stale: consistency == "stale")
        case .PUT, .DELETE:
            var condition = KVCommand.Condition.none
            if let previous = parameters["prevValue"] {
                condition = .previousValue(Array(previous.utf8))
            }
            if let exists = parameters["prevExist"] {
                guard exists == "true" || exists == "false" else {
                    return respond(context, head, .badRequest, error: ("bad_query", "prevExist must be true or false"))
                }
                condition = .previousExists(exists == "true")
            }
            let idempotencyKey = head.headers.first(name: "idempotency-key")
            if let idempotencyKey, idempotencyKey.utf8.count > 256 || idempotencyKey.isEmpty {
                return respond(
                    context, head, .badRequest, error: ("bad_idempotency_key", "Idempotency-Key must be 1 to 256 bytes")
                )
            }
            let command = KVCommand(
                operation: head.method == .PUT ? .put : .delete, key: key, value: head.method == .PUT ? body : [],
                condition: condition, origin: shell.config.nodeID, sequence: 0, idempotencyKey: idempotencyKey,
                timestampMilliseconds: 0)
            serveWrite(context, head, command)
        default:
            respond(
                context, head, .methodNotAllowed, error: ("method_not_allowed", "\(head.method) is not supported here"),
                allow: "GET, PUT, DELETE")
        }
    }

    private func serveGet(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ key: [UInt8], stale: Bool) {
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        shell.read(key, stale: stale).hop(to: context.eventLoop).whenComplete { result in
            let context = bound.value
            switch result {
            case .success(let value?):
                self.respond(context, head, .ok, body: value, contentType: "application/octet-stream")
            case .success(nil):
                self.respond(context, head, .notFound, error: ("key_not_found", "the key does not exist"))
            case .failure(let error):
                self.respondFailure(context, head, error)
            }
        }
    }

    private func serveWrite(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ command: KVCommand) {
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        shell.write(command).hop(to: context.eventLoop).whenComplete { result in
            let context = bound.value
            switch result {
            case .success(let applied):
                // An answer to an executed write (200, 404, 412) says whether it was replayed from the idempotency
                // record (a retry of an applied request): `"replayed":true|false` in the body, and as Stripe does
                // an `Idempotent-Replayed: true` header on a replay only.
                let replayedHeader = applied.replayed ? [("Idempotent-Replayed", "true")] : []
                var answer = WriteAnswer(
                    index: applied.index.rawValue, term: applied.term.rawValue, replayed: applied.replayed)
                switch applied.outcome {
                case .stored(let created):
                    answer.created = created
                    fallthrough
                case .deleted:
                    self.respond(
                        context, head, .ok, body: answer.jsonBytes, contentType: "application/json",
                        headers: replayedHeader)
                case .notFound:
                    self.respond(
                        context, head, .notFound, error: ("key_not_found", "the key does not exist"),
                        replayed: applied.replayed, headers: replayedHeader)
                case .conditionFailed:
                    self.respond(
                        context, head, .preconditionFailed,
                        error: ("precondition_failed", "the key's current value does not match the condition"),
                        replayed: applied.replayed, headers: replayedHeader)
                case .idempotencyKeyReused:
                    self.respond(context, head, .unprocessableEntity, error: ("idempotency_key_reused", Self.reusedKey))
                case .idempotencyKeyExpired(let window):
                    self.respond(context, head, .conflict, error: ("idempotency_key_expired", Self.expiredKey(window)))
                case .malformed(let reason):
                    self.respond(context, head, .internalServerError, error: ("malformed", reason))
                }
            case .failure(let error):
                self.respondFailure(context, head, error)
            }
        }
    }

    private func serveStatus(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        serve(context, head, shell.status()) { status in
            (Array(Self.encode(status).utf8), "application/json")
        }
    }

    /// Prometheus text exposition (format 0.0.4) of this node's metrics.
    private func serveMetrics(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        serve(context, head, shell.metricsExposition()) { ($0, "text/plain; version=0.0.4; charset=utf-8") }
    }

    /// Answers 200 with what `render` makes of the shell's answer, or the failure's error.
    private func serve<T: Sendable>(
        _ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ answer: EventLoopFuture<T>,
        _ render: @escaping @Sendable (T) -> (body: [UInt8], contentType: String)
    ) {
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        answer.hop(to: context.eventLoop).whenComplete { result in
            let context = bound.value
            switch result {
            case .success(let value):
                let (body, contentType) = render(value)
                self.respond(context, head, .ok, body: body, contentType: contentType)
            case .failure(let error):
                self.respondFailure(context, head, error)
            }
        }
    }

    private func respondFailure(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ error: any Error) {
        if let refusal = error as? WriteRefusal {
            return respondRefusal(context, head, refusal)
        }
        switch error as? ClientError {
        case .unavailable(let reason):
            respond(context, head, .serviceUnavailable, error: ("unavailable", reason), retryAfter: true)
        case .timeout:
            respond(
                context, head, .gatewayTimeout,
                error: (
                    "timeout",
                    "the request timed out; its outcome is unknown (safe to retry with the same Idempotency-Key)"
                ))
        case .outcomeUnknown(let reason):
            respond(
                context, head, .gatewayTimeout,
                error: ("outcome_unknown", "\(reason); retry with the same Idempotency-Key"))
        case .storageFailed(let reason):
            respond(context, head, .serviceUnavailable, error: ("storage_failed", reason), retryAfter: true)
        case nil:
            respond(context, head, .internalServerError, error: ("internal", "\(error)"))
        }
    }

    /// 507 `no_space` or 503 `storage_failed`, with the nodes at fault: `"nodes": [{"id", "freeBytes",
    /// "alarmBelowFreeBytes", "message"}]` beside `error`. Nothing was applied.
    private func respondRefusal(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ refusal: WriteRefusal) {
        func named(_ nodes: [NodeHealth]) -> [ErrorAnswer.Node] {
            nodes.map { health in
                ErrorAnswer.Node(
                    id: health.from.description, freeBytes: health.freeBytes,
                    alarmBelowFreeBytes: health.alarmBelowFreeBytes, message: health.message)
            }
        }
        switch refusal {
        case .noSpace(let nodes):
            let described = nodes.map { "\($0.from) (\(ByteSizeText.format($0.freeBytes)) free)" }
            let message =
                "the space alarm is raised on \(described.joined(separator: ", ")): the cluster refuses writes until"
                + " space is freed; nothing was applied; reads and deletes still work"
            let json = Self.encode(ErrorAnswer(code: "no_space", message: message, nodes: named(nodes)))
            respond(context, head, .insufficientStorage, json: json)
        case .storageFailed(let nodes):
            let message =
                "the storage of \(nodes.map(\.from.description).joined(separator: ", ")) failed (they restart);"
                + " no write can commit now; nothing was applied"
            let json = Self.encode(ErrorAnswer(code: "storage_failed", message: message, nodes: named(nodes)))
            respond(context, head, .serviceUnavailable, json: json, headers: [("Retry-After", "1")])
        }
    }

    // MARK: - Writing responses

    private func respond(
        _ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ status: HTTPResponseStatus,
        error: (code: String, message: String), allow: String? = nil, retryAfter: Bool = false,
        replayed: Bool? = nil, headers: [(String, String)] = []
    ) {
        var extra = headers
        if let allow { extra.append(("Allow", allow)) }
        if retryAfter { extra.append(("Retry-After", "1")) }
        respond(
            context, head, status,
            json: Self.encode(ErrorAnswer(code: error.code, message: error.message, replayed: replayed)),
            headers: extra)
    }

    private func respond(
        _ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ status: HTTPResponseStatus, json: String,
        headers extra: [(String, String)] = []
    ) {
        respond(context, head, status, body: Array(json.utf8), contentType: "application/json", headers: extra)
    }

    private func respond(
        _ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ status: HTTPResponseStatus, body: [UInt8],
        contentType: String, headers extra: [(String, String)] = []
    ) {
        shell.metrics.countHTTPRequest(method: head.method.rawValue, code: Int(status.code))
        guard context.channel.isActive else { return }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.count))
        for (name, value) in extra { headers.add(name: name, value: value) }
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let responseHead = HTTPResponseHead(version: head.version, status: status, headers: headers)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: body.count)
        buffer.writeBytes(body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// Answers a request that cannot be read to its end, then closes the connection.
    private func reject(
        _ context: ChannelHandlerContext, _ status: HTTPResponseStatus, _ code: String, _ message: String
    ) {
        rejected = true
        respondAndClose(context, status, code, message)
    }

    private func respondAndClose(
        _ context: ChannelHandlerContext, _ status: HTTPResponseStatus, _ code: String, _ message: String
    ) {
        shell.metrics.countHTTPRequest(method: head?.method.rawValue ?? "unknown", code: Int(status.code))
        guard context.channel.isActive else { return }
        let body = Array(Self.encode(ErrorAnswer(code: code, message: message)).utf8)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "Connection", value: "close")
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: body.count)
        buffer.writeBytes(body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    static let reusedKey =
        "this Idempotency-Key was already used for a different request (method, key, value or conditions); nothing was applied; use a new key for a new request"

    static func expiredKey(_ window: UInt64) -> String {
        "this Idempotency-Key was used more than \(window) writes ago; its result is no longer kept; the write was not applied again: check the current value and use a new key"
    }

    // MARK: - Parsing helpers

    static let jsonEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// A JSON body (the types are in RaftWire's `ClientAnswers.swift`); `{}` if it cannot be encoded.
    static func encode(_ value: some Encodable) -> String {
        (try? jsonEncoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func splitURI(_ uri: String) -> (path: Substring, query: Substring) {
        // RFC 9112 §3.2.2: servers accept the absolute form `http://host/path` too.
        var uri = uri[...]
        if uri.hasPrefix("http://") || uri.hasPrefix("https://") {
            let afterScheme = uri[uri.index(uri.firstIndex(of: ":")!, offsetBy: 3)...]
            uri = afterScheme.firstIndex(of: "/").map { afterScheme[$0...] } ?? "/"
        }
        guard let mark = uri.firstIndex(of: "?") else { return (uri, "") }
        return (uri[..<mark], uri[uri.index(after: mark)...])
    }

    /// Decodes `%XX` escapes; nil for a malformed escape.
    static func percentDecode(_ text: Substring, plusIsSpace: Bool) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                out.append(high << 4 | low)
            } else if plusIsSpace && byte == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else {
                out.append(byte)
            }
        }
        return out
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// `a=1&b=2` with percent-decoding (`+` is a space); nil if any part is malformed.
    static func parseQuery(_ query: Substring) -> [String: String]? {
        var parameters: [String: String] = [:]
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = percentDecode(parts[0], plusIsSpace: true),
                let value = percentDecode(parts.count > 1 ? parts[1] : "", plusIsSpace: true)
            else { return nil }
            parameters[String(decoding: name, as: UTF8.self)] = String(decoding: value, as: UTF8.self)
        }
        return parameters
    }
}
