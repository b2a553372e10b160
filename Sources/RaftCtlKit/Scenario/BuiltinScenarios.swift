/// The textbook stories (the Raft paper and dissertation, the MIT 6.824 lectures) as scenario scripts, shipped
/// inside raftctl. Each is written in the language of ``ScenarioScript``, so a user can copy one and change it.
enum BuiltinScenarios {
    static let all: [(name: String, text: String)] = [
        ("election", election), ("split-vote", splitVote), ("leader-crash", leaderCrash),
        ("crash-before-replicate", crashBeforeReplicate),
        ("crash-after-partial-replicate", crashAfterPartialReplicate),
        ("crash-after-full-replicate", crashAfterFullReplicate),
        ("crash-after-commit-before-reply", crashAfterCommitBeforeReply), ("minority-leader", minorityLeader),
        ("one-way-link", oneWayLink), ("stale-follower-rejoins", staleFollowerRejoins),
        ("leader-transfer", leaderTransfer), ("log-repair", logRepair), ("replace-node", replaceNode),
        ("remove-leader", removeLeader),
    ]

    static var names: [String] { all.map(\.name) }

    static func script(named name: String) -> String? { all.first { $0.name == name }?.text }

    static let election = """
        # name: election
        # summary: A fresh cluster elects a leader: randomized timeouts, pre-vote, votes and terms.
        say Every node starts as a follower in term 0, with an election timeout drawn at random between 150 and 300 ms. The node whose timeout fires first asks the others whether they would vote for it (a pre-vote, which raises no term), then becomes a candidate in term 1, votes for itself and asks for their votes. A majority (2 of 3) makes it the leader; its heartbeats, every 50 ms, keep the others' timeouts from firing.
        wait leader as L
        raftctl events
        say $L's timeout fired first: in the events, its pre-vote, the election it started and won, and every node learning its leader. Each follower granted its one vote of the term to $L.
        expect role $L leader
        expect term $L >= 1
        let A = follower 1
        let B = follower 2
        expect role $A follower
        expect role $B follower
        expect term $A = $L_term
        expect term $B = $L_term
        raftctl status
        """

    static let splitVote = """
        # name: split-vote
        # summary: Two candidates in the same term split the vote; new randomized timeouts break the tie later.
        wait leader as L
        let A = follower 1
        let B = follower 2
        say $L leads in term $L_term. We kill it, and make $A and $B start an election at the same moment. So that their vote requests cross, as when two timeouts fire together, the link between them is cut first: each votes for itself, neither gets the other's vote, the dead leader votes for no one.
        raftctl block $A $B
        raftctl block $B $A
        raftctl kill $L
        campaign $A $B
        let T = term $A
        expect term $A > $L_term
        expect term $B = $T
        expect leader none
        say Both are candidates in term $T with one vote of three each: nobody wins that term. When their timeouts fire they only pre-vote, which cannot succeed while they cannot reach each other, so the term stays $T. Now the link comes back: each draws a new random timeout, and the one whose timeout fires first wins a later term.
        raftctl heal
        wait leader as W
        expect term $W > $T
        raftctl events $A $B
        """

    static let leaderCrash = """
        # name: leader-crash
        # summary: The leader dies; the followers notice, pre-vote and elect; a client's retried write lands once.
        wait leader as L
        let A = follower 1
        let B = follower 2
        say $L leads in term $L_term. A client sets x=0, then does a compare-and-set of x from 0 to 1 with Idempotency-Key crash-1. A second application of that write would fail its condition (x is no longer 0): that is how we will see it applied once.
        raftctl put x 0 --via $L
        raftctl cas x 0 1 --via $L --idempotency-key crash-1
        say Now the leader is killed (SIGKILL, as a crash). Its followers hear no more heartbeats; after its randomized timeout one of them asks in a pre-vote whether the others would elect it, then runs a real election in a new term.
        raftctl kill $L
        wait leader not $L as N
        raftctl events $N
        expect term $N > $L_term
        say The client does not know whether its write survived the crash, so it retries with the same Idempotency-Key. The new leader recognizes the key and answers with the original result (replayed) instead of applying the write again, which would have failed with 412.
        raftctl cas x 0 1 --via $N --idempotency-key crash-1
        expect output replayed
        expect value x 1
        say Both entries carrying the key are in every log, the original and the retry; the retry was recognized when it was applied, so the state changed once.
        expect copies $A crash-1 2
        expect copies $B crash-1 2
        """

    static let crashBeforeReplicate = """
        # name: crash-before-replicate
        # summary: The leader appends a write and crashes before sending it: never committed, applied once on retry.
        wait leader as L
        let A = follower 1
        let B = follower 2
        raftctl put x 0 --via $L
        say $L leads in term $L_term. We cut it off from everyone, so that the next write reaches its own log and nothing else, as if it crashed right after appending. The client gives up after one second without an answer: the outcome is unknown to it.
        raftctl isolate $L
        raftctl? cas x 0 1 --via $L --idempotency-key before-1 --timeout 1s
        expect exit 1
        let I = last-index $L
        expect log $L $I command "put x=1"
        expect commit $L < $I
        raftctl kill $L
        raftctl heal
        wait leader not $L as N
        say $N won term $N_term without the write: it never left $L, so it was never committed and never will be. The client retries with the same key; the new leader has never seen it and applies the write, once.
        raftctl cas x 0 1 --via $N --idempotency-key before-1
        expect value x 1
        say $L comes back. Its entry at index $I, from term $L_term, conflicts with the new leader's log there: the leader overwrites it.
        raftctl start $L
        wait caught-up $L
        expect log $L $I term $N_term
        expect copies $L before-1 1
        expect copies $A before-1 1
        expect copies $B before-1 1
        expect logs-match
        raftctl logs-view
        """

    static let crashAfterPartialReplicate = """
        # name: crash-after-partial-replicate
        # summary: The write reaches a minority before the leader crashes; it may survive or not; the retry applies once.
        nodes 5
        wait leader as L
        let A = follower 1
        let B = follower 2
        let C = follower 3
        let D = follower 4
        raftctl put x 0 --via $L
        say $L leads in term $L_term over five nodes. We cut the cluster into $L with $A, and $B, $C and $D each alone, so that the next write reaches $L and $A only: two of five, a minority. It cannot commit, and nobody can be elected while the cuts last.
        raftctl partition $L,$A $B $C $D
        raftctl? cas x 0 1 --via $L --idempotency-key partial-1 --timeout 1s
        expect exit 1
        let I = last-index $L
        expect log $A $I command "put x=1"
        expect commit $L < $I
        raftctl kill $L
        raftctl heal
        wait leader not $L as N
        say The survivors elect $N. Whether the write survives depends on who wins: $A has it and its log is more up to date, so it can win and would then commit the write with an entry of its own term; but $B, $C and $D can elect one of themselves without $A's vote (3 of 5), and that leader overwrites the entry on $A.
        when $N = $A say $A won: the write survives. The retry is recognized by its key and answered with the original result.
        when $N != $A say $N won without the write: it is overwritten on $A. The retry is new to the cluster and applied, once.
        raftctl cas x 0 1 --via $N --idempotency-key partial-1
        when $N = $A expect output replayed
        expect value x 1
        wait caught-up $A
        expect logs-match
        when $N = $A expect copies $B partial-1 2
        when $N != $A expect copies $B partial-1 1
        when $N != $A expect copies $A partial-1 1
        """

    static let crashAfterFullReplicate = """
        # name: crash-after-full-replicate
        # summary: The write reaches every follower but is not committed; the new leader commits it; the retry is deduplicated.
        wait leader as L
        let A = follower 1
        let B = follower 2
        raftctl put x 0 --via $L
        say $L leads in term $L_term. A failpoint makes it ignore its followers' acknowledgements of new entries, so the next write reaches every log but $L never learns that it may commit it. Then $L crashes.
        raftctl failpoint $L after-append-sent drop
        raftctl? cas x 0 1 --via $L --idempotency-key full-1 --timeout 1s
        expect exit 1
        let I = last-index $L
        expect log $A $I command "put x=1"
        expect log $B $I command "put x=1"
        expect commit $A < $I
        raftctl kill $L
        wait leader not $L as N
        say $N has the entry from term $L_term at index $I. A leader never commits an entry of an earlier term by counting replicas (the Raft paper's figure 8); it commits its own no-op of term $N_term, and everything before it with it. So the write is committed and applied.
        expect log $N $I term $L_term
        expect commit $N > $I
        expect value x 1
        say The client retries with the same key and gets the original result: applied once.
        raftctl cas x 0 1 --via $N --idempotency-key full-1
        expect output replayed
        expect value x 1
        expect copies $A full-1 2
        expect copies $B full-1 2
        """

    static let crashAfterCommitBeforeReply = """
        # name: crash-after-commit-before-reply
        # summary: The write is committed and applied but the client never hears; the retry gets the original answer.
        wait leader as L
        let A = follower 1
        let B = follower 2
        raftctl put x 0 --via $L
        say $L leads in term $L_term. A failpoint drops its answer after the write is applied: the client hears nothing and gives up after one second. Then $L crashes.
        raftctl failpoint $L after-apply-before-reply drop
        raftctl? cas x 0 1 --via $L --idempotency-key reply-1 --timeout 1s
        expect exit 1
        let I = last-index $L
        expect commit $L >= $I
        expect value x 1
        raftctl kill $L
        wait leader not $L as N
        say The client retries with the same key through the new leader $N: it gets the original answer, with the index the write was committed at, and nothing is applied again.
        raftctl cas x 0 1 --via $N --idempotency-key reply-1
        expect output replayed
        expect output "index $I,"
        expect value x 1
        expect copies $A reply-1 2
        expect copies $B reply-1 2
        """

    static let minorityLeader = """
        # name: minority-leader
        # summary: A leader cut off with a minority cannot commit; the majority elects and commits; on heal the old leader steps down.
        nodes 5
        wait leader as L
        let A = follower 1
        raftctl put x 0 --via $L
        say $L leads in term $L_term. We split the five nodes 2 | 3 with the leader on the small side ($L and $A). A write to $L is appended to its log but can never reach a majority: the client gets no answer.
        raftctl partition $L,$A
        raftctl? put x 1 --via $L --idempotency-key minority-1 --timeout 1s
        expect exit 1
        let I = last-index $L
        expect log $L $I command "put x=1"
        expect commit $L < $I
        wait leader not $L among-others $L,$A as N
        say The three on the other side elect $N in term $N_term and go on committing.
        raftctl put x 2 --via $N
        raftctl logs-view
        say Both sides now hold different entries from index $I on. $L has stepped down already or soon will (CheckQuorum: it hears from no majority); when the partition heals it learns the higher term, follows $N, and its uncommitted entry is rolled back: overwritten by the new leader's log.
        raftctl heal
        wait leader as M
        expect leader $N
        wait caught-up $L
        expect copies $L minority-1 0
        expect value x 2
        expect logs-match
        raftctl logs-view
        """

    static let oneWayLink = """
        # name: one-way-link
        # summary: A leader that can send but not receive steps down (CheckQuorum); a follower cut one way raises no term (PreVote).
        wait leader as L
        let A = follower 1
        let B = follower 2
        say Part one. $L can still send, but nothing sent to it arrives. Its heartbeats keep the followers from timing out, so without CheckQuorum it would hold the cluster forever without being able to commit anything. With CheckQuorum a leader that hears from no majority for an election timeout steps down.
        raftctl block $A $L
        raftctl block $B $L
        wait role $L follower
        wait leader not $L among-others $L as N
        expect term $N > $L_term
        raftctl heal
        wait leader as M
        let T = term $M
        let F = follower 1
        say Part two. $M leads in term $T. Now $F stops hearing the leader, while its own messages still get through. Its election timeout fires again and again; without PreVote each time would raise its term, and its vote requests with the higher term would depose a healthy leader. With PreVote it first asks whether it could win: the others still hear $M and refuse, so no term changes.
        raftctl block $M $F
        wait event $F pre-vote count 3
        expect leader $M
        expect term $M = $T
        expect term $F = $T
        raftctl heal
        """

    static let staleFollowerRejoins = """
        # name: stale-follower-rejoins
        # summary: An isolated follower rejoins without disrupting the leader and catches up, by snapshot when the log was compacted.
        wait leader as L
        let F = follower 1
        say $F is cut off. While the others go on writing, its election timeout fires again and again; PreVote keeps it from raising its term (it cannot win a majority), so when it comes back it will not disrupt $L.
        raftctl isolate $F
        load start
        wait event $F pre-vote count 3
        wait load 50
        load stop
        say $L takes a snapshot and compacts its log: the entries $F is missing are gone, so it can only catch up by receiving the snapshot.
        raftctl snapshot $L
        let S = now
        raftctl heal
        wait caught-up $F
        wait event $F snapshot matching installed since $S
        expect leader $L
        expect term $L = $L_term
        expect term $F = $L_term
        expect loaded-writes-readable
        """

    static let replaceNode = """
        # name: replace-node
        # summary: A dead member is replaced: it leaves the membership first, then a new node joins as a learner, catches up and is promoted.
        wait leader as L
        let F = follower 1
        load start
        wait load 20
        say $F's machine dies for good. Two voters of three still commit, but one more failure would stop the cluster.
        raftctl kill $F
        wait load 30
        say First $F leaves the membership: $L appends a configuration entry naming only the two live voters, and it takes effect at once. Changing one member at a time means every majority of the old membership overlaps every majority of the new one, so two leaders can never be elected in one term. It commits with 2 of the 2 remaining voters.
        raftctl remove-node $F --purge
        raftctl members
        say Only now does a new node join, as a learner: it receives the log (or a snapshot), but it does not vote and does not count for commit, so it cannot slow writes down while it catches up. Once it holds every committed entry it is promoted to voter.
        raftctl add-node --id n4
        load stop
        wait caught-up n4
        expect role n4 follower
        say n4's log holds everything, the configuration entries included: the one that removed $F and the two that added n4 as a learner and made it a voter.
        raftctl entries n4 --type configuration --limit 100000
        raftctl members
        expect loaded-writes-readable
        """

    static let removeLeader = """
        # name: remove-leader
        # summary: The leader is removed under load: it hands over first, the change commits, and not one write is lost.
        wait leader as L
        load start
        wait load 20
        say The operator removes the leader, $L. raftctl hands leadership over first (as a leader that removes itself would once the change commits), so the new leader commits the change with the two remaining voters, and clients see no gap longer than a transfer.
        raftctl remove-node $L
        wait leader not $L as N
        expect term $N > $L_term
        wait load 30
        load stop
        raftctl members
        raftctl events $N
        expect loaded-writes-readable
        """

    static let leaderTransfer = """
        # name: leader-transfer
        # summary: Leadership is handed over under load without losing a write.
        wait leader as L
        let F = follower 1
        say A client writes continuously. $L hands leadership to $F: it stops taking new writes, brings $F's log up to date, and tells it to start an election at once (TimeoutNow), which it wins in the next term.
        load start
        wait load 30
        raftctl transfer-leader $F
        wait leader not $L as N
        expect leader $F
        wait load 60
        load stop
        expect loaded-writes-readable
        """

    static let logRepair = """
        # name: log-repair
        # summary: A follower with a long conflicting suffix is repaired in few round trips (fast backtracking).
        wait leader as L
        raftctl put x 0 --via $L
        say $L leads in term $L_term. It is cut off, and 40 writes are sent to it at once: it appends them all, and none can commit. The others elect a new leader and commit writes of their own.
        raftctl isolate $L
        burst $L 40
        expect copies $L burst-$L-* 40
        wait leader not $L among-others $L as N
        burst $N 10
        raftctl logs-view
        raftctl kill $L
        raftctl heal
        say $L's log now ends with a long run of entries from term $L_term that the others never had. When it restarts, the leader's first append does not match; the follower's rejection names the term of its conflicting run and where that run begins, so the leader skips back past all of it in one round trip instead of one entry at a time, and overwrites it.
        raftctl start $L
        wait caught-up $L
        expect logs-match
        expect copies $L burst-$L-* 0
        expect copies $L burst-$N-* 10
        raftctl logs-view
        """
}
