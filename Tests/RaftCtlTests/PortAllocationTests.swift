import Testing

@testable import RaftCtlKit

/// The loopback ports `raftctl up` and `add-node` give a cluster's nodes.
@Suite("port allocation")
struct PortAllocationTests {

    /// A port given twice makes a node fail to start forever ("the client address … is already in use") when its
    /// peer and client port are the same, which CI hit once. The kernel picks a random free port for each bind, so
    /// ports taken one socket at a time repeat within a few hundred (19 runs in 20 in a check of 300).
    /// (Whether the ports are free again afterwards is not asserted here: tests running beside this one bind ports
    /// of their own and may be given one of these the moment it is released, which CI hit once. The end-to-end
    /// tests start raftd on ports chosen this way.)
    @Test("300 ports in one allocation are all distinct, none of them an excluded one")
    func portsAreDistinct() throws {
        let excluded = Set(try ClusterController.freePorts(40))
        let ports = try ClusterController.freePorts(300, excluding: excluded)
        #expect(ports.count == 300)
        #expect(Set(ports).count == 300, "a port was given twice")
        #expect(Set(ports).isDisjoint(with: excluded))
    }
}
