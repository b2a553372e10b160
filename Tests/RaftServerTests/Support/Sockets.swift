import Foundation
import Glibc
import Synchronization

/// A harness failure with a message meant for the person reading the test log.
struct HarnessError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Blocking POSIX socket helpers for talking to raftd from tests: loopback TCP and Unix-domain stream sockets.
///
/// Every socket is opened close-on-exec so spawned raftd processes never inherit a test's connection, and every
/// read is bounded by a deadline so a silent node fails a test instead of hanging it.
enum Sockets {
    static let streamType = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)

    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7f00_0001).bigEndian)
        return address
    }

    /// Below the kernel's ephemeral range (32768–60999 by default), so no outgoing connection of this or any
    /// other process is given one of these ports between the check and raftd's bind. Handed out once per process.
    private static let portCursor = Mutex<Int>(20_000 + Int.random(in: 0..<6_000))

    /// `count` distinct loopback ports that were free a moment ago, from outside the ephemeral range (see
    /// ``portCursor``); each is checked by binding it. No port is handed out twice in one test process.
    static func freeLoopbackPorts(_ count: Int) throws -> [Int] {
        var ports: [Int] = []
        var tried = 0
        while ports.count < count {
            tried += 1
            guard tried < 12_000 else { throw HarnessError("no free loopback port in 20000-31999") }
            let port = portCursor.withLock { cursor in
                defer { cursor = cursor >= 31_999 ? 20_000 : cursor + 1 }
                return cursor
            }
            if canBind(port: port) { ports.append(port) }
        }
        return ports
    }

    static func canBind(port: Int) -> Bool {
        let fd = socket(AF_INET, streamType, 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        } == 0
    }

    /// A listening TCP socket on 127.0.0.1:`port` (0 for any); the caller closes it.
    static func listen(port: Int) throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, streamType, 0)
        guard fd >= 0 else { throw HarnessError("socket(): \(String(cString: strerror(errno)))") }
        var address = loopback(port: port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, Glibc.listen(fd, 8) == 0 else {
            close(fd)
            throw HarnessError("cannot listen on 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    static func connectTCP(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, streamType, 0)
        guard fd >= 0 else { throw HarnessError("socket(): \(String(cString: strerror(errno)))") }
        var address = loopback(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let problem = String(cString: strerror(errno))
            close(fd)
            throw HarnessError("connect(127.0.0.1:\(port)): \(problem)")
        }
        return fd
    }

    static func connectUnix(path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, streamType, 0)
        guard fd >= 0 else { throw HarnessError("socket(AF_UNIX): \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw HarnessError("Unix socket path too long (\(bytes.count) bytes): \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (offset, byte) in bytes.enumerated() { raw[offset] = byte }
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let problem = String(cString: strerror(errno))
            close(fd)
            throw HarnessError("connect(\(path)): \(problem)")
        }
        return fd
    }

    /// Writes all of `bytes`; false if the peer closed or reset the connection first.
    @discardableResult
    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                send(fd, raw.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }

    /// Outcome of reading from a socket until a condition, end of stream or a deadline.
    struct ReadResult {
        var bytes: [UInt8]
        /// The peer closed (or reset) its end.
        var closed: Bool
        var timedOut: Bool
    }

    /// Reads until `done(bytesSoFar)` holds, the peer closes, or `timeout` seconds pass.
    static func receive(_ fd: Int32, timeout: Double, until done: ([UInt8]) -> Bool = { _ in false }) -> ReadResult {
        let deadline = Date().addingTimeInterval(timeout)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            if done(bytes) { return ReadResult(bytes: bytes, closed: false, timedOut: false) }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return ReadResult(bytes: bytes, closed: false, timedOut: true) }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(max(1, min(remaining * 1000, 1000))))
            if ready < 0 && errno != EINTR { return ReadResult(bytes: bytes, closed: true, timedOut: false) }
            if ready <= 0 { continue }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return ReadResult(bytes: bytes, closed: true, timedOut: false) }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }
}
