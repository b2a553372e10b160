import RaftAPI
import RaftClient
import RaftREPL

/// A node's admin socket as raftctl's commands use it: RaftClient's ``AdminClient``, with its failures as raftctl
/// errors (exit 1) and following streams that end on Ctrl-C in the REPL (where Ctrl-C does not end the process).
struct NodeAdmin: Sendable {
    let client: AdminClient

    init(socketPath: String, timeoutMilliseconds: Int = 1_000) {
        client = AdminClient(socketPath: socketPath, timeoutMilliseconds: timeoutMilliseconds)
    }

    func call<Result: Decodable>(_ request: AdminRequest, as type: Result.Type = Result.self) throws(RaftctlError)
        -> Result
    {
        do { return try client.call(request, as: type) } catch { throw .failed(error.message) }
    }

    func stream(_ request: AdminRequest, follow: Bool, _ handle: (String) -> Bool) throws(RaftctlError) {
        do {
            try client.stream(request, follow: follow, shouldStop: { REPL.commandInterrupted }, handle)
        } catch {
            throw .failed(error.message)
        }
    }

    func openStream(_ request: AdminRequest) throws(RaftctlError) -> SocketConnection {
        do { return try client.open(request) } catch { throw .failed(error.message) }
    }

    func status() throws(RaftctlError) -> NodeStatus {
        do { return try client.status() } catch { throw .failed(error.message) }
    }
}
