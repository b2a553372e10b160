import Glibc

/// A connected blocking stream socket (loopback TCP or Unix-domain) with bounded waits: every read and write gives
/// up after its timeout, so a paused or wedged node can never hang the caller.
///
/// Opened close-on-exec, so a process spawned while it is open (a node, a test's raftctl) never inherits it. Not
/// thread-safe: one caller at a time. The descriptor is closed when the connection is dropped.
public final class SocketConnection {
    public let fd: Int32
    /// Bytes read but not yet taken.
    private var buffer: [UInt8] = []

    private init(fd: Int32) {
        self.fd = fd
    }

    deinit {
        close(fd)
    }

    static let streamType = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)

    static func systemError(_ what: String) -> ClientError {
        ClientError("\(what): \(String(cString: strerror(errno)))")
    }

    /// Connects to the Unix-domain socket at `path` (a node's admin socket).
    public static func unix(path: String) throws(ClientError) -> SocketConnection {
        let fd = socket(AF_UNIX, streamType, 0)
        guard fd >= 0 else { throw systemError("socket(AF_UNIX)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw ClientError("the socket path is too long (\(bytes.count) bytes): \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in bytes.enumerated() { raw[i] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let error = systemError("cannot connect to \(path)")
            close(fd)
            throw error
        }
        return SocketConnection(fd: fd)
    }

    /// Connects to `host:port` over TCP (IPv4 literals and `localhost`), waiting at most `timeoutMilliseconds`.
    public static func tcp(host: String = "127.0.0.1", port: Int, timeoutMilliseconds: Int = 5_000) throws(ClientError)
        -> SocketConnection
    {
        let fd = socket(AF_INET, streamType, 0)
        guard fd >= 0 else { throw systemError("socket(AF_INET)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &address.sin_addr) == 1 else {
            close(fd)
            throw ClientError("not an IPv4 address: \(host)")
        }
        // Non-blocking connect, so a host that drops SYNs costs the timeout, not the kernel's minutes.
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result != 0 {
            guard errno == EINPROGRESS else {
                let error = systemError("cannot connect to \(host):\(port)")
                close(fd)
                throw error
            }
            guard waitFor(fd, events: Int16(POLLOUT), timeoutMilliseconds) else {
                close(fd)
                throw ClientError("cannot connect to \(host):\(port) within \(timeoutMilliseconds) ms")
            }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            guard error == 0 else {
                close(fd)
                throw ClientError("cannot connect to \(host):\(port): \(String(cString: strerror(error)))")
            }
        }
        _ = fcntl(fd, F_SETFL, flags)
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return SocketConnection(fd: fd)
    }

    /// Whether `fd` became ready for `events` within the timeout (retrying interrupted waits).
    public static func waitFor(_ fd: Int32, events: Int16, _ timeoutMilliseconds: Int) -> Bool {
        var descriptor = pollfd(fd: fd, events: events, revents: 0)
        while true {
            let ready = poll(&descriptor, 1, Int32(clamping: timeoutMilliseconds))
            if ready < 0 && errno == EINTR { continue }
            return ready > 0
        }
    }

    /// Writes all of `bytes`; false if the peer closed or reset the connection, or a write stalled past the timeout.
    @discardableResult
    public func send(_ bytes: [UInt8], timeoutMilliseconds: Int = 5_000) -> Bool {
        var offset = 0
        while offset < bytes.count {
            guard Self.waitFor(fd, events: Int16(POLLOUT), timeoutMilliseconds) else { return false }
            let count = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return false }
            offset += count
        }
        return true
    }

    /// Closes the sending half: the peer reads end of stream, and can still answer.
    public func shutdownWrite() {
        shutdown(fd, Int32(SHUT_WR))
    }

    /// Whether a complete line is already buffered (no waiting).
    public var hasBufferedLine: Bool { buffer.contains(UInt8(ascii: "\n")) }

    /// Reads what is available into the buffer; false on timeout, error or end of stream.
    public func fill(timeoutMilliseconds: Int) -> Bool {
        guard Self.waitFor(fd, events: Int16(POLLIN), timeoutMilliseconds) else { return false }
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return false }
            buffer.append(contentsOf: chunk[0..<count])
            return true
        }
    }

    /// Takes a buffered line (without its `\n`) without reading more.
    public func takeBufferedLine() -> String? {
        guard let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let line = String(decoding: buffer[..<newline], as: UTF8.self)
        buffer.removeSubrange(...newline)
        return line
    }

    /// The next `\n`-terminated line (without it), or nil on timeout or end of stream.
    public func readLine(timeoutMilliseconds: Int) -> String? {
        while true {
            if let line = takeBufferedLine() { return line }
            guard fill(timeoutMilliseconds: timeoutMilliseconds) else { return nil }
        }
    }

    /// What ``receive(timeoutMilliseconds:until:)`` read, and why it stopped.
    public struct Received: Sendable {
        public var bytes: [UInt8]
        /// The peer closed (or reset) its end.
        public var closed: Bool
        public var timedOut: Bool
    }

    /// Reads until `done(bytesSoFar)` holds, the peer closes, `limit` bytes arrive or `timeoutMilliseconds` pass in
    /// all, then hands over (and forgets) everything read, including what earlier line reads left buffered.
    public func receive(
        timeoutMilliseconds: Int, limit: Int = 64 << 20, until done: ([UInt8]) -> Bool = { _ in false }
    ) -> Received {
        let deadline = Self.monotonicMilliseconds() + timeoutMilliseconds
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        defer { buffer.removeAll() }
        while true {
            if done(buffer) || buffer.count >= limit { return Received(bytes: buffer, closed: false, timedOut: false) }
            let remaining = deadline - Self.monotonicMilliseconds()
            if remaining <= 0 { return Received(bytes: buffer, closed: false, timedOut: true) }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(clamping: min(remaining, 1_000)))
            if ready < 0 && errno != EINTR { return Received(bytes: buffer, closed: true, timedOut: false) }
            if ready <= 0 { continue }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return Received(bytes: buffer, closed: true, timedOut: false) }
            buffer.append(contentsOf: chunk[0..<count])
        }
    }

    /// Milliseconds on the monotonic clock.
    public static func monotonicMilliseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int(now.tv_sec) * 1000 + Int(now.tv_nsec / 1_000_000)
    }
}
