import RaftCore
import RaftWire

/// Round-trip probes to every peer, twice a second with the health reports: the measurements behind
/// `raft_peer_round_trip_time_seconds` and each peer's `roundTripMicroseconds` in the status. Probes obey the fault
/// filter as messages do, so a cut link shows no round trip.
extension NodeShell {
    /// Sends a probe request to every peer this node may send to. On the loop.
    func sendProbes() {
        let now = Self.monotonicNanoseconds()
        for peer in addressBook.keys.sorted() where peer != config.nodeID && !runtime.blockedOutbound.contains(peer) {
            transport?.sendProbe(Probe(from: config.nodeID, to: peer, isReply: false, sentNanoseconds: now))
        }
    }

    /// A peer's probe (already checked at the wire layer): a request is answered on our own connection to it; a
    /// reply to one of ours is a round trip measured.
    func probeReceived(_ probe: Probe) {
        loop.execute {
            guard !self.runtime.blockedInbound.contains(probe.from) else { return }
            if !probe.isReply {
                guard !self.runtime.blockedOutbound.contains(probe.from) else { return }
                self.transport?.sendProbe(
                    Probe(
                        from: self.config.nodeID, to: probe.from, isReply: true,
                        sentNanoseconds: probe.sentNanoseconds))
                return
            }
            let now = Self.monotonicNanoseconds()
            // A reply from before a restart carries another process' clock reading: ignore what cannot be ours.
            guard probe.sentNanoseconds <= now, now - probe.sentNanoseconds < 60_000_000_000 else { return }
            let elapsed = now - probe.sentNanoseconds
            self.metrics.peer(probe.from).roundTrip.recordNanoseconds(Int64(elapsed))
            self.lastRoundTripNanoseconds[probe.from] = elapsed
        }
    }
}
