import FoundationEssentials
import NIOCore
import RaftAPI
import RaftCore
import RaftText

/// What a configuration entry's context holds in raftd: every member's peer address and client URL, so that
/// each node can reach a newcomer without a restart and a joining node learns where everyone is.
struct MemberDirectory: Codable, Sendable, Hashable {
    struct Address: Codable, Sendable, Hashable {
        var peer: String
        var client: String?
    }

    /// Keyed by node id (`n4`).
    var members: [String: Address]

    init(members: [String: Address]) {
        self.members = members
    }

    /// Nil for an empty context (the membership before any change) or one raftd did not write.
    init?(decoding bytes: [UInt8]) {
        guard !bytes.isEmpty, let decoded = try? JSONDecoder().decode(Self.self, from: Data(bytes)) else { return nil }
        self = decoded
    }

    var encoded: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Array((try? encoder.encode(self)) ?? Data())
    }
}

extension NodeShell {
    /// Takes the addresses the newest configuration carries into the address book: a link to each new member,
    /// and handshakes from it accepted. Called at start and whenever the membership changes.
    func adoptMembershipContext() {
        let context = runtime.raft.membershipContext
        guard context != adoptedContext else { return }
        adoptedContext = context
        guard let directory = MemberDirectory(decoding: context) else { return }
        let members = Set(directory.members.keys.compactMap { NodeID(parsing: $0) })
        for id in addressBook.keys where !members.contains(id) && id != config.nodeID { transport?.forget(id) }
        for (name, address) in directory.members {
            guard let id = NodeID(parsing: name), let peer = HostPort(parsing: address.peer) else { continue }
            if let client = address.client { clientURLs[id] = client }
            guard addressBook[id] != peer else { continue }
            addressBook[id] = peer
            if id != config.nodeID { transport?.setAddress(peer, of: id) }
        }
        let known = Set(addressBook.keys)
        knownPeers.withLock { $0.formUnion(known) }
    }

    /// The membership this node follows, with addresses and (on the leader) each member's match index.
    func membersAnswer() -> MembersAnswer {
        let status = runtime.raft.status
        let progress = Dictionary(uniqueKeysWithValues: status.followers.map { ($0.id, $0.matchIndex.rawValue) })
        let membership = status.membership
        let members = (membership?.members ?? []).map { id in
            MembersAnswer.Member(
                id: id.description, kind: membership?.isVoter(id) == true ? "voter" : "learner",
                peerAddress: addressBook[id]?.description, clientURL: clientURLs[id],
                matchIndex: id == config.nodeID
                    ? (status.role == .leader ? status.lastIndex.rawValue : nil) : progress[id])
        }
        return MembersAnswer(
            node: config.nodeID.description, leader: status.leader?.description,
            commitIndex: status.commitIndex.rawValue, members: members)
    }

    func members() -> EventLoopFuture<MembersAnswer> {
        loop.submit { self.membersAnswer() }
    }

    /// Adds `id` as a learner reached at `peer` and, with `voter`, promotes it once it holds every committed
    /// entry (waiting at most `waitMilliseconds` for that). Answered when the last change is committed.
    func addMember(
        _ id: NodeID, peer: HostPort, clientURL: String?, voter: Bool, waitMilliseconds: Int
    ) -> EventLoopFuture<MembershipChangeAnswer> {
        changeMembership(.addLearner(id), address: (peer, clientURL), force: false).flatMap { added in
            guard voter else { return self.loop.makeSucceededFuture(added) }
            return self.awaitCaughtUp(id, deadline: .now() + .milliseconds(Int64(waitMilliseconds))).flatMap {
                self.changeMembership(.promote(id), address: nil, force: false)
            }
        }
    }

    /// Proposes `change` on this node, which must lead, with the new membership's addresses as context, and
    /// answers once the change is committed (or fails: refused, superseded by a new leader, not committed within
    /// the request timeout).
    func changeMembership(
        _ change: MembershipChange, address: (peer: HostPort, clientURL: String?)?, force: Bool
    ) -> EventLoopFuture<MembershipChangeAnswer> {
        loop.flatSubmit {
            // Besides the core's check (voters heard from within an election timeout), a voter whose connection
            // is down does not count: a node stopped a moment ago was heard from recently, but cannot help commit.
            if !force, let current = self.runtime.raft.membership, case .success(let next) = current.applying(change) {
                let connected = self.transport?.connectedPeers() ?? []
                let live = next.voters.filter { $0 == self.config.nodeID || connected.contains($0) }
                if live.count < next.quorum {
                    let down = next.voters.filter { !live.contains($0) }.map(\.description).joined(separator: ", ")
                    return self.loop.makeFailedFuture(
                        AdminError(
                            code: "would_lose_quorum",
                            message: "after \(change) the \(next.voters.count) voters need \(next.quorum) to agree, but"
                                + " only \(live.count) are reachable (not heard from: \(down)); bring them back first,"
                                + " or force it"))
                }
            }
            var directory = MemberDirectory(members: [:])
            let members = Set(self.runtime.raft.membership?.members ?? []).union([change.node])
            for id in members {
                if case .remove(let removed) = change, removed == id { continue }
                let peer = id == change.node ? address?.peer ?? self.addressBook[id] : self.addressBook[id]
                guard let peer else { continue }
                let client = id == change.node ? address?.clientURL ?? self.clientURLs[id] : self.clientURLs[id]
                directory.members[id.description] = MemberDirectory.Address(peer: peer.description, client: client)
            }
            let index: LogIndex
            let term = self.runtime.raft.currentTerm
            do {
                index = try self.runtime.withRaft { raft in
                    try raft.proposeMembershipChange(change, context: directory.encoded, force: force)
                }
            } catch {
                return self.loop.makeFailedFuture(error)
            }
            self.recordEvent(kind: "membership", detail: "proposed \(change) at index \(index)")
            self.scheduleFlush()
            let timeout = Int64(self.config.requestTimeoutMilliseconds)
            return self.awaitCommit(index, term: term, deadline: .now() + .milliseconds(timeout)).map {
                MembershipChangeAnswer(index: index.rawValue, members: self.membersAnswer())
            }
        }
    }

    /// Succeeds once this node's commit index reaches `index` with the entry of `term` there; fails if another
    /// entry took its place or the deadline passes.
    func awaitCommit(_ index: LogIndex, term: Term, deadline: NIODeadline) -> EventLoopFuture<Void> {
        poll(until: deadline) {
            let raft = self.runtime.raft
            if let entry = raft.entry(at: index), entry.term != term {
                throw AdminError(
                    code: "superseded",
                    message: "the change at index \(index) was replaced by a new leader's entry; nothing changed, retry"
                )
            }
            return raft.commitIndex >= index
        } timedOut: {
            AdminError(
                code: "timeout",
                message: "the change at index \(index) is not committed yet (is a quorum of the new membership"
                    + " reachable?); it takes effect if it commits later")
        }
    }

    /// Succeeds once the leader knows `id` holds every committed entry.
    func awaitCaughtUp(_ id: NodeID, deadline: NIODeadline) -> EventLoopFuture<Void> {
        poll(until: deadline) {
            let status = self.runtime.raft.status
            guard status.role == .leader else { throw RaftError.notLeader(leader: status.leader) }
            guard let follower = status.followers.first(where: { $0.id == id }) else { return false }
            return follower.matchIndex >= status.commitIndex
        } timedOut: {
            AdminError(code: "timeout", message: "\(id) did not catch up in time; it stays a learner")
        }
    }

    /// Checks `condition` on the loop every 10 ms until it holds (success), throws (that failure) or the deadline
    /// passes (`timedOut`'s error).
    private func poll(
        until deadline: NIODeadline, _ condition: @escaping () throws -> Bool,
        timedOut: @escaping () -> any Error
    ) -> EventLoopFuture<Void> {
        let promise = loop.makePromise(of: Void.self)
        func check() {
            do {
                if try condition() { return promise.succeed(()) }
            } catch {
                return promise.fail(error)
            }
            if NIODeadline.now() >= deadline { return promise.fail(timedOut()) }
            // On the loop already: the isolated view takes the non-Sendable closure without a copy across threads.
            loop.assumeIsolated().scheduleTask(in: .milliseconds(10)) { check() }
        }
        check()
        return promise.futureResult
    }
}
