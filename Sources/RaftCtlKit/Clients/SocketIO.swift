import Glibc

/// A connected blocking socket with bounded waits: every read and write gives up after its timeout, so a paused
/// or wedged node can never hang raftctl.
final class SocketConnection {
    let fd: Int32
    private var buffer: [UInt8] = []

    private init(fd: Int32) {
        self.fd = fd
    }

    deinit {
        close(fd)
    }

    static func unix(path: String) -> SocketConnection? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            return nil
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
            close(fd)
            return nil
        }
        return SocketConnection(fd: fd)
    }

    static func tcp(host: String, port: Int, timeoutMilliseconds: Int) -> SocketConnection? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &address.sin_addr) == 1 else {
            close(fd)
            return nil
        }
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result != 0 {
            guard errno == EINPROGRESS, waitFor(fd, events: Int16(POLLOUT), timeoutMilliseconds) else {
                close(fd)
                return nil
            }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            guard error == 0 else {
                close(fd)
                return nil
            }
        }
        _ = fcntl(fd, F_SETFL, flags)
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return SocketConnection(fd: fd)
    }

    static func waitFor(_ fd: Int32, events: Int16, _ timeoutMilliseconds: Int) -> Bool {
        var descriptor = pollfd(fd: fd, events: events, revents: 0)
        while true {
            let ready = poll(&descriptor, 1, Int32(timeoutMilliseconds))
            if ready < 0 && errno == EINTR { continue }
            return ready > 0
        }
    }

    func writeAll(_ bytes: [UInt8], timeoutMilliseconds: Int) -> Bool {
        var offset = 0
        while offset < bytes.count {
            guard Self.waitFor(fd, events: Int16(POLLOUT), timeoutMilliseconds) else { return false }
            let count = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return false }
            offset += count
        }
        return true
    }

    /// Whether a complete line is already buffered (no waiting).
    var hasBufferedLine: Bool { buffer.contains(UInt8(ascii: "\n")) }

    /// Reads what is available into the buffer; false on timeout, error or end of stream.
    func fill(timeoutMilliseconds: Int) -> Bool {
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

    /// Takes a buffered line without reading more.
    func takeBufferedLine() -> String? {
        guard let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let line = String(decoding: buffer[..<newline], as: UTF8.self)
        buffer.removeSubrange(...newline)
        return line
    }

    /// The next `\n`-terminated line (without it), or nil on timeout or end of stream.
    func readLine(timeoutMilliseconds: Int) -> String? {
        while true {
            if let line = takeBufferedLine() { return line }
            guard fill(timeoutMilliseconds: timeoutMilliseconds) else { return nil }
        }
    }

    /// Everything until the peer closes (bounded by `limit` bytes and the timeout per read).
    func readToEnd(timeoutMilliseconds: Int, limit: Int = 64 << 20) -> [UInt8]? {
        while buffer.count < limit {
            guard Self.waitFor(fd, events: Int16(POLLIN), timeoutMilliseconds) else { return nil }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            buffer.append(contentsOf: chunk[0..<count])
        }
        defer { buffer.removeAll() }
        return buffer
    }
}
