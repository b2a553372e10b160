import Foundation
import Glibc
import RaftClient
import Synchronization

/// A harness failure with a message meant for the person reading the test log.
struct HarnessError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Loopback ports for the nodes tests start, and listening sockets that hold a port. Talking to a node goes
/// through RaftClient (``SocketConnection``, ``HTTPClient``, ``AdminClient``), as raftctl does.
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
}
